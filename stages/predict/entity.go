package predict

import (
	"strconv"

	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict/alarm"
)

// EntityKind says what an Entity is.
type EntityKind uint8

// Entity kinds; EntityNone: the feature has no per-entity table, or the
// window's table is empty (sampled scheduler or block events).
const (
	EntityNone EntityKind = iota
	EntityTask
	EntityDevice
	EntityNetns
)

// Entity is the task, block device or network namespace that showed a
// driving feature most in the window (its value there is the largest of
// the window's per-entity table): who to look at first.
type Entity struct {
	Kind EntityKind
	ID   uint32 // PID, device (major << 20 | minor) or namespace inode
	Comm [decode.CommLen]byte
}

// taskKey, deviceKey and netnsKey give, per feature, the per-entity
// measure that feature sums up (nil: none).
var (
	taskKey = map[features.ID]func(*features.TaskFeatures) float64{
		features.CPUBusyPct:       func(t *features.TaskFeatures) float64 { return t.CPUShare },
		features.PSICPUSomePct:    func(t *features.TaskFeatures) float64 { return t.RunqUs * float64(t.Runs) },
		features.NrRunning:        func(t *features.TaskFeatures) float64 { return t.CPUShare },
		features.RunqLatencyP50Us: func(t *features.TaskFeatures) float64 { return t.RunqUs },
		features.RunqLatencyP99Us: func(t *features.TaskFeatures) float64 { return t.RunqUs },
		features.CtxSwitchesPerS:  func(t *features.TaskFeatures) float64 { return t.VoluntaryPerS + t.InvoluntaryPerS },
		features.WakeupsPerS:      func(t *features.TaskFeatures) float64 { return t.WakeupsPerS },
	}
	deviceKey = map[features.ID]func(*features.DeviceFeatures) float64{
		features.BlkIOPS:           func(d *features.DeviceFeatures) float64 { return d.IOPS },
		features.BlkReadBytesPerS:  func(d *features.DeviceFeatures) float64 { return d.ReadBytesPerS },
		features.BlkWriteBytesPerS: func(d *features.DeviceFeatures) float64 { return d.WriteBytesPerS },
		features.BlkLatencyP99Us:   func(d *features.DeviceFeatures) float64 { return d.MeanLatencyUs },
		features.PSIIOSomePct:      func(d *features.DeviceFeatures) float64 { return d.IOPS * d.MeanLatencyUs },
		features.PSIIOFullPct:      func(d *features.DeviceFeatures) float64 { return d.IOPS * d.MeanLatencyUs },
	}
	netnsKey = map[features.ID]func(*features.NetnsFeatures) float64{
		features.NetRxPPS:       func(n *features.NetnsFeatures) float64 { return n.RxBytesPerS },
		features.NetRxBytesPerS: func(n *features.NetnsFeatures) float64 { return n.RxBytesPerS },
	}
)

// attribute names, for each of r's drivers, the entity of v that showed
// it most (EntityNone where there is none).
func attribute(v *features.Vector, r *alarm.Result, out *[alarm.MaxDrivers]Entity) {
	for k := range out {
		out[k] = Entity{}
		if k >= r.NDrivers {
			continue
		}
		id := r.Drivers[k]
		if key := taskKey[id]; key != nil {
			if i := argmax(v.Tasks[:v.NumTasks], key); i >= 0 {
				t := &v.Tasks[i]
				out[k] = Entity{Kind: EntityTask, ID: t.PID, Comm: t.Comm}
			}
		} else if key := deviceKey[id]; key != nil {
			if i := argmax(v.Devices[:v.NumDevices], key); i >= 0 {
				out[k] = Entity{Kind: EntityDevice, ID: v.Devices[i].Dev}
			}
		} else if key := netnsKey[id]; key != nil {
			if i := argmax(v.Netns[:v.NumNetns], key); i >= 0 {
				out[k] = Entity{Kind: EntityNetns, ID: v.Netns[i].Netns}
			}
		}
	}
}

// argmax is the index of the element with the largest positive key (-1:
// none).
func argmax[T any](xs []T, key func(*T) float64) int {
	best, bestKey := -1, 0.0
	for i := range xs {
		if k := key(&xs[i]); k > bestKey {
			best, bestKey = i, k
		}
	}
	return best
}

// AppendText appends the entity as text: "task 1234 (fio)", "device 8:0",
// "netns 4026531840"; nothing for EntityNone.
func (e *Entity) AppendText(dst []byte) []byte {
	switch e.Kind {
	case EntityTask:
		dst = append(dst, "task "...)
		dst = strconv.AppendUint(dst, uint64(e.ID), 10)
		dst = append(dst, " ("...)
		for _, c := range e.Comm {
			if c == 0 {
				break
			}
			if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
				c = '?' // a comm is any bytes; the text goes into JSON
			}
			dst = append(dst, c)
		}
		dst = append(dst, ')')
	case EntityDevice:
		dst = append(dst, "device "...)
		dst = strconv.AppendUint(dst, uint64(e.ID>>20), 10)
		dst = append(dst, ':')
		dst = strconv.AppendUint(dst, uint64(e.ID&(1<<20-1)), 10)
	case EntityNetns:
		dst = append(dst, "netns "...)
		dst = strconv.AppendUint(dst, uint64(e.ID), 10)
	}
	return dst
}

// Why is the alarm's drivers with their entities, one line:
// "blk_iops (device 8:0), syscall_errors_per_s"; "" without drivers.
// It allocates: call it when the alarm changes state, not every window.
func (o *Output) Why() string {
	var b []byte
	for k, d := range o.Alarm.Drivers[:o.Alarm.NDrivers] {
		if k > 0 {
			b = append(b, ", "...)
		}
		b = append(b, d.String()...)
		if e := &o.Entities[k]; e.Kind != EntityNone {
			b = append(b, " ("...)
			b = append(b, e.AppendText(nil)...)
			b = append(b, ')')
		}
	}
	return string(b)
}
