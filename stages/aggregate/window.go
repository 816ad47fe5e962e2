package aggregate

import (
	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/stages/decode"
)

// Table bounds. Entries past them are counted in the *Other fields.
const (
	MaxCPUs      = 128
	MaxTasks     = 128
	MaxSyscallID = 512
	MaxDevices   = 16
	MaxIfaces    = 16
)

// CPUStat is one CPU's time in the window, from sched_switch: busy is time
// spent running anything but the idle task.
type CPUStat struct {
	BusyNs   uint64
	IdleNs   uint64
	Switches uint64
}

// TaskStat is one task (thread group, keyed by pid) in the window.
type TaskStat struct {
	PID           uint32
	Comm          [decode.CommLen]byte
	Syscalls      uint64
	SyscallErrors uint64
	SyscallNs     uint64 // total syscall latency
	SwitchesOut   uint64 // times it left a CPU
	Preempted     uint64 // of those, involuntary: it was still runnable
	Runs          uint64 // times it was switched in
	RunNs         uint64 // CPU time it ran in the window (from sched_switch)
	RunqNs        uint64 // total time waited runnable before those runs
	RunqMaxNs     uint64 // the longest of those waits: the tail a latency task feels
	Wakeups       uint64 // times it was woken
	Faults        uint64
	BlkIOs        uint64
}

// SyscallStat is one syscall number in the window.
type SyscallStat struct {
	Count     uint32
	Errors    uint32
	LatencyNs uint64
}

// DeviceStat is one block device in the window.
type DeviceStat struct {
	Dev        uint32 // major << 20 | minor
	Reads      uint64
	Writes     uint64
	ReadBytes  uint64
	WriteBytes uint64
	Errors     uint64
	LatencyNs  uint64 // total
	// Seq counts requests that continued the device's previous request
	// (started within SeqGapSectors of where it ended): the sequential
	// share of the access pattern.
	Seq uint64
}

// IfaceStat is one network interface in the window.
type IfaceStat struct {
	Ifindex uint32
	Packets uint64
	Bytes   uint64
}

// Window is everything aggregated over [StartNs, EndNs) of event time. It
// is a plain value (no pointers): the pipeline copies it between stages.
type Window struct {
	StartNs, EndNs uint64
	// Flushed marks the last window of the input, cut at the last event.
	Flushed bool
	Events  uint64
	// Late counts events older than the window that were folded into it.
	Late uint64
	// Kinds counts events per kind: a record the kernel kept as 1 of n
	// (adaptive sampling, decode.Event.Weight) counts n. Events counts
	// records.
	Kinds [decode.NumKinds]uint64
	// Disabled and SampleEvery say how each kind was captured, so that a
	// rate can be scaled, or known to be unknown.
	Disabled    [decode.NumKinds]bool
	SampleEvery [decode.NumKinds]uint32

	SyscallErrors  uint64
	SyscallLatency Hist
	SyscallsOther  uint64 // ids ≥ MaxSyscallID
	Syscalls       [MaxSyscallID]SyscallStat

	WakeupsNew  uint64
	RunqLatency Hist
	NumCPU      int // CPUs[:NumCPU] are meaningful
	CPUsOther   uint64
	CPUs        [MaxCPUs]CPUStat

	FaultsUser   uint64
	FaultsKernel uint64

	NetRxBytes  uint64
	NumIfaces   int
	IfacesOther uint64
	Ifaces      [MaxIfaces]IfaceStat

	BlkReads      uint64
	BlkWrites     uint64
	BlkReadBytes  uint64
	BlkWriteBytes uint64
	BlkErrors     uint64
	BlkLatency    Hist
	NumDevices    int
	DevicesOther  uint64
	Devices       [MaxDevices]DeviceStat

	NumNetns   int
	NetnsOther uint64 // tcp records of namespaces that did not fit
	Netns      [MaxNetns]NetnsStat

	NumTasks   int
	TasksOther uint64 // events of tasks that did not fit the table
	Tasks      [MaxTasks]TaskStat

	// Host is the last host sample in the window (HaveHost) and HostBase
	// the one to take deltas of its cumulative counters against: the last
	// sample of an earlier window, or else the first of this one
	// (HaveBase when it is older than Host).
	HaveHost   bool
	HaveBase   bool
	HostTsNs   uint64
	BaseTsNs   uint64
	Host       record.HostSample
	HostBase   record.HostSample
	firstHost  record.HostSample
	firstHostT uint64

	// Probe is what the window holds of the probe plugin kinds.
	Probe ProbeWindow
}

// DurationNs returns the window's length.
func (w *Window) DurationNs() uint64 { return w.EndNs - w.StartNs }

// Enabled reports whether kind k was captured.
func (w *Window) Enabled(k decode.Kind) bool { return !w.Disabled[k] }

// Scale returns the factor that turns a count of kind k into an estimate
// of the events that happened (1-in-N sampling).
func (w *Window) Scale(k decode.Kind) float64 {
	if n := w.SampleEvery[k]; n > 1 {
		return float64(n)
	}
	return 1
}

// reset empties the window for [start, end), touching only what was used.
func (w *Window) reset(start, end uint64) {
	clear(w.Tasks[:w.NumTasks])
	clear(w.CPUs[:w.NumCPU])
	clear(w.Syscalls[:])
	// The rest is small next to the tables; Disabled and SampleEvery stay.
	w.StartNs, w.EndNs, w.Flushed, w.Events, w.Late = start, end, false, 0, 0
	w.Kinds = [decode.NumKinds]uint64{}
	w.SyscallErrors, w.SyscallsOther = 0, 0
	w.SyscallLatency.Reset()
	w.WakeupsNew, w.NumCPU, w.CPUsOther = 0, 0, 0
	w.RunqLatency.Reset()
	w.FaultsUser, w.FaultsKernel = 0, 0
	w.NetRxBytes, w.NumIfaces, w.IfacesOther = 0, 0, 0
	w.BlkReads, w.BlkWrites, w.BlkReadBytes, w.BlkWriteBytes, w.BlkErrors = 0, 0, 0, 0, 0
	w.BlkLatency.Reset()
	clear(w.Devices[:w.NumDevices])
	w.NumDevices, w.DevicesOther = 0, 0
	clear(w.Netns[:w.NumNetns])
	w.NumNetns, w.NetnsOther = 0, 0
	w.NumTasks, w.TasksOther = 0, 0
	w.HaveHost, w.HaveBase, w.HostTsNs, w.BaseTsNs = false, false, 0, 0
	w.Host, w.HostBase, w.firstHost, w.firstHostT = record.HostSample{}, record.HostSample{}, record.HostSample{}, 0
	w.Probe.reset()
}

// task returns pid's entry, or nil when the table is full.
func (w *Window) task(idx *taskIndex, pid uint32, comm *[decode.CommLen]byte) *TaskStat {
	i, ok := idx.find(pid)
	if ok {
		return &w.Tasks[idx.slots[i]-1]
	}
	if w.NumTasks == MaxTasks {
		w.TasksOther++
		return nil
	}
	t := &w.Tasks[w.NumTasks]
	w.NumTasks++
	idx.slots[i] = uint16(w.NumTasks)
	idx.keys[i] = pid
	t.PID = pid
	t.Comm = *comm
	return t
}

func (w *Window) device(dev uint32) *DeviceStat {
	for i := 0; i < w.NumDevices; i++ {
		if w.Devices[i].Dev == dev {
			return &w.Devices[i]
		}
	}
	if w.NumDevices == MaxDevices {
		w.DevicesOther++
		return nil
	}
	d := &w.Devices[w.NumDevices]
	w.NumDevices++
	d.Dev = dev
	return d
}

func (w *Window) iface(ifindex uint32) *IfaceStat {
	for i := 0; i < w.NumIfaces; i++ {
		if w.Ifaces[i].Ifindex == ifindex {
			return &w.Ifaces[i]
		}
	}
	if w.NumIfaces == MaxIfaces {
		w.IfacesOther++
		return nil
	}
	f := &w.Ifaces[w.NumIfaces]
	w.NumIfaces++
	f.Ifindex = ifindex
	return f
}

// taskIndex maps pid → Tasks index+1 with open addressing; twice as many
// slots as tasks keeps probes short.
const taskSlots = 2 * MaxTasks

type taskIndex struct {
	keys  [taskSlots]uint32
	slots [taskSlots]uint16 // 0 = empty
}

// find returns the slot holding pid, or the empty slot where it belongs.
func (t *taskIndex) find(pid uint32) (int, bool) {
	i := int((pid * 0x9E3779B1) >> (32 - 8))
	for {
		if t.slots[i] == 0 {
			return i, false
		}
		if t.keys[i] == pid {
			return i, true
		}
		i = (i + 1) & (taskSlots - 1)
	}
}

func (t *taskIndex) reset() { t.slots = [taskSlots]uint16{} }
