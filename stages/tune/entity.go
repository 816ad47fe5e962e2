package tune

import (
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/features"
)

// Table bounds: the memory of the tuners' entity tracking is fixed at
// MaxTasks taskEnt and MaxDevices devEnt values (7952 bytes; Status
// reports it as table_bytes).
const (
	MaxTasks   = 64
	MaxDevices = 16
)

// alpha is the weight of a new window in the entities' moving averages:
// about the last ten windows (one second at 100 ms) count.
const alpha = 0.2

// devPatternAlpha is the weight of a new window in a device's sequential
// share.
const devPatternAlpha = 0.5

// goneNs: an entity not seen for this long of event time has gone (the
// process exited or went quiet, the device is idle or removed).
const goneNs = 3e9

type taskEnt struct {
	pid     uint32
	comm    [decode.CommLen]byte
	lastNs  uint64
	windows int
	// moving averages of the features.TaskFeatures of the same names
	cpuShare, meanRunUs, volPerS, involPerS, wakeupsPerS, runqUs float64
	faultsPerS                                                   float64
	// tunable and streamer cache Config.Tunable and Config.Streamer:
	// 0 not asked, 1 yes, -1 no.
	tunable, streamer int8
}

type devEnt struct {
	dev      uint32
	lastNs   uint64
	windows  int
	iops     float64
	readBps  float64
	seqRatio float64
	readPct  float64
	latUs    float64
	// patternNs is the start of the first window of the current run of
	// windows on the same side of a half sequential share: when the
	// device's present access pattern began.
	patternNs uint64
	seqSide   bool
}

// tracker follows entities across windows.
type tracker struct {
	tasks   [MaxTasks]taskEnt
	nTasks  int
	devs    [MaxDevices]devEnt
	nDevs   int
	nets    netTable // network namespaces (tcp.go)
	evicted uint64
	host    hostEnt
}

func ewma(old, x float64, first bool) float64 {
	if first {
		return x
	}
	return old + alpha*(x-old)
}

// observe folds one vector in.
func (t *tracker) observe(v *features.Vector) {
	t.nets.observe(v)
	t.host.observe(v)
	for i := 0; i < v.NumTasks; i++ {
		f := &v.Tasks[i]
		e := t.task(f.PID, v.EndNs)
		first := e.windows == 0 || e.comm != f.Comm
		if first {
			e.tunable, e.streamer = 0, 0
		}
		e.comm, e.lastNs = f.Comm, v.EndNs
		e.cpuShare = ewma(e.cpuShare, f.CPUShare, first)
		if f.Runs > 0 {
			e.meanRunUs = ewma(e.meanRunUs, f.MeanRunUs, first)
			e.runqUs = ewma(e.runqUs, f.RunqUs, first)
		}
		e.volPerS = ewma(e.volPerS, f.VoluntaryPerS, first)
		e.involPerS = ewma(e.involPerS, f.InvoluntaryPerS, first)
		e.wakeupsPerS = ewma(e.wakeupsPerS, f.WakeupsPerS, first)
		e.faultsPerS = ewma(e.faultsPerS, f.FaultsPerS, first)
		e.windows++
	}
	for i := 0; i < v.NumDevices; i++ {
		f := &v.Devices[i]
		e := t.device(f.Dev, v.EndNs)
		first := e.windows == 0
		e.lastNs = v.EndNs
		e.iops = ewma(e.iops, f.IOPS, first)
		e.readBps = ewma(e.readBps, f.ReadBytesPerS, first)
		// A device's access pattern flips at once when its reader changes
		// phase: half weight follows it in two windows and still damps a
		// single odd one.
		e.seqRatio += devPatternAlpha * (f.SeqRatio - e.seqRatio)
		if first {
			e.seqRatio = f.SeqRatio
		}
		if side := f.SeqRatio >= 0.5; first || side != e.seqSide {
			e.seqSide, e.patternNs = side, v.StartNs
		}
		e.readPct = ewma(e.readPct, f.ReadRequestsPct, first)
		e.latUs = ewma(e.latUs, f.MeanLatencyUs, first)
		e.windows++
	}
}

// task returns pid's entry, evicting the least recently active one when
// the table is full.
func (t *tracker) task(pid uint32, now uint64) *taskEnt {
	i, found := t.slot(&t.nTasks, MaxTasks, func(i int) bool { return t.tasks[i].pid == pid },
		func(i int) uint64 { return t.tasks[i].lastNs })
	if !found {
		t.tasks[i] = taskEnt{pid: pid, lastNs: now}
	}
	return &t.tasks[i]
}

func (t *tracker) device(dev uint32, now uint64) *devEnt {
	i, found := t.slot(&t.nDevs, MaxDevices, func(i int) bool { return t.devs[i].dev == dev },
		func(i int) uint64 { return t.devs[i].lastNs })
	if !found {
		t.devs[i] = devEnt{dev: dev, lastNs: now}
	}
	return &t.devs[i]
}

// slot finds the entry that matches among *n used ones, or the one to
// fill: the next free one, else the least recently active (evicted).
func (t *tracker) slot(n *int, max int, match func(int) bool, lastNs func(int) uint64) (int, bool) {
	old := 0
	for i := 0; i < *n; i++ {
		if match(i) {
			return i, true
		}
		if lastNs(i) < lastNs(old) {
			old = i
		}
	}
	if *n < max {
		*n++
		return *n - 1, false
	}
	t.evicted++
	return old, false
}

// findTask returns pid's entry if it was seen within goneNs of now.
func (t *tracker) findTask(pid uint32, now uint64) *taskEnt {
	for i := 0; i < t.nTasks; i++ {
		if e := &t.tasks[i]; e.pid == pid && now-e.lastNs <= goneNs {
			return e
		}
	}
	return nil
}

func (t *tracker) findDev(dev uint32, now uint64) *devEnt {
	for i := 0; i < t.nDevs; i++ {
		if e := &t.devs[i]; e.dev == dev && now-e.lastNs <= goneNs {
			return e
		}
	}
	return nil
}
