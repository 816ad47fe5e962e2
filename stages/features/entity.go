package features

import (
	"github.com/ainka/ainka/stages/aggregate"
	"github.com/ainka/ainka/stages/decode"
)

// Bounds of the per-entity tables of a Vector. A window's tasks are ranked
// twice: MaxTasks/2 by CPU time (the batch candidates), then the rest by
// how often they ran (the latency-sensitive candidates, whose CPU time is
// small); devices by request count.
const (
	MaxTasks   = 16
	MaxDevices = 8
)

// TaskFeatures is one task (thread group) in one window. Rates are per
// second of event time; means are per run.
type TaskFeatures struct {
	PID  uint32
	Comm [decode.CommLen]byte
	// Runs is how many times it was switched in: the weight of the means.
	Runs uint64
	// CPUShare is its CPU time over the window length (1 = one CPU).
	CPUShare float64
	// MeanRunUs is the mean time it ran per time it was switched in.
	MeanRunUs float64
	// VoluntaryPerS and InvoluntaryPerS split its switches out: blocked
	// (it waited for something) or preempted (still runnable).
	VoluntaryPerS   float64
	InvoluntaryPerS float64
	WakeupsPerS     float64
	// RunqUs is the mean time it waited runnable before a run: the
	// scheduling latency it suffered.
	RunqUs float64
	// RunqMaxUs is the longest of those waits in the window: at 1000
	// runs/s and 100 ms windows about the 99th percentile, the tail a
	// latency-sensitive task (cyclictest) feels, which a mean hides.
	RunqMaxUs float64
	// FaultsPerS is its page faults per second (scaled up by sampling):
	// the memory tuner's measure of what reclaim costs a protected task.
	FaultsPerS float64
}

// DeviceFeatures is one block device in one window.
type DeviceFeatures struct {
	Dev             uint32 // major << 20 | minor
	IOs             uint64
	IOPS            float64
	ReadBytesPerS   float64
	WriteBytesPerS  float64
	SeqRatio        float64 // share of requests that continued the previous one
	MeanLatencyUs   float64
	MeanRequestKiB  float64
	ReadRequestsPct float64
}

// entities fills v's task and device tables from w. Tasks need exact
// (unsampled) sched_switch for their run times, devices unsampled
// block_io for their continuity; otherwise the table is left empty rather
// than wrong.
func entities(w *aggregate.Window, v *Vector, secs float64) {
	v.NumTasks, v.NumDevices = 0, 0
	if secs <= 0 {
		return
	}
	if w.Enabled(decode.KindSchedSwitch) && w.Scale(decode.KindSchedSwitch) == 1 {
		tasks(w, v, secs)
	}
	if w.Enabled(decode.KindBlockIO) && w.Scale(decode.KindBlockIO) == 1 {
		devices(w, v, secs)
	}
}

func tasks(w *aggregate.Window, v *Vector, secs float64) {
	var taken [aggregate.MaxTasks]bool
	pick := func(n int, key func(*aggregate.TaskStat) uint64) {
		for v.NumTasks < n {
			best, bestKey := -1, uint64(0)
			for i := 0; i < w.NumTasks; i++ {
				if k := key(&w.Tasks[i]); !taken[i] && k > bestKey {
					best, bestKey = i, k
				}
			}
			if best < 0 {
				return
			}
			taken[best] = true
			taskFeatures(&w.Tasks[best], &v.Tasks[v.NumTasks], secs)
			v.NumTasks++
		}
	}
	pick(MaxTasks/2, func(t *aggregate.TaskStat) uint64 { return t.RunNs })
	pick(MaxTasks, func(t *aggregate.TaskStat) uint64 { return t.Runs })
}

func taskFeatures(t *aggregate.TaskStat, f *TaskFeatures, secs float64) {
	*f = TaskFeatures{PID: t.PID, Comm: t.Comm, Runs: t.Runs}
	f.CPUShare = float64(t.RunNs) / 1e9 / secs
	if t.Runs > 0 {
		f.MeanRunUs = float64(t.RunNs) / 1e3 / float64(t.Runs)
		f.RunqUs = float64(t.RunqNs) / 1e3 / float64(t.Runs)
		f.RunqMaxUs = float64(t.RunqMaxNs) / 1e3
	}
	f.VoluntaryPerS = float64(t.SwitchesOut-t.Preempted) / secs
	f.InvoluntaryPerS = float64(t.Preempted) / secs
	f.WakeupsPerS = float64(t.Wakeups) / secs
	f.FaultsPerS = float64(t.Faults) / secs
}

func devices(w *aggregate.Window, v *Vector, secs float64) {
	for i := 0; i < w.NumDevices && v.NumDevices < MaxDevices; i++ {
		d := &w.Devices[i]
		n := d.Reads + d.Writes
		if n == 0 {
			continue
		}
		f := &v.Devices[v.NumDevices]
		v.NumDevices++
		*f = DeviceFeatures{Dev: d.Dev, IOs: n}
		f.IOPS = float64(n) / secs
		f.ReadBytesPerS = float64(d.ReadBytes) / secs
		f.WriteBytesPerS = float64(d.WriteBytes) / secs
		f.SeqRatio = float64(d.Seq) / float64(n)
		f.MeanLatencyUs = float64(d.LatencyNs) / 1e3 / float64(n)
		f.MeanRequestKiB = float64(d.ReadBytes+d.WriteBytes) / 1024 / float64(n)
		f.ReadRequestsPct = 100 * float64(d.Reads) / float64(n)
	}
}
