package aggregate

import (
	"math"
	"strconv"

	"github.com/ainka/ainka/stages/decode"
)

// AppendJSON appends the window as one JSON object. Tables list only their
// used entries, in first-seen order (syscalls by number), so the output is
// deterministic.
func (w *Window) AppendJSON(dst []byte) []byte {
	dst = appendUint(dst, `{"start_ns":`, w.StartNs)
	dst = appendUint(dst, `,"end_ns":`, w.EndNs)
	dst = append(dst, `,"flushed":`...)
	dst = strconv.AppendBool(dst, w.Flushed)
	dst = appendUint(dst, `,"events":`, w.Events)
	dst = appendUint(dst, `,"late":`, w.Late)
	dst = w.appendKinds(dst)
	dst = appendUint(dst, `,"syscall_errors":`, w.SyscallErrors)
	dst = appendHist(dst, `,"syscall_latency":`, &w.SyscallLatency)
	dst = w.appendSyscalls(dst)
	dst = appendUint(dst, `],"syscalls_other":`, w.SyscallsOther)
	dst = appendUint(dst, `,"wakeups_new":`, w.WakeupsNew)
	dst = appendHist(dst, `,"runq_latency":`, &w.RunqLatency)
	dst = w.appendCPUs(dst)
	dst = appendUint(dst, `,"faults_user":`, w.FaultsUser)
	dst = appendUint(dst, `,"faults_kernel":`, w.FaultsKernel)
	dst = appendUint(dst, `,"net_rx_bytes":`, w.NetRxBytes)
	dst = w.appendIfaces(dst)
	dst = w.appendNetns(dst)
	dst = appendUint(dst, `,"blk_reads":`, w.BlkReads)
	dst = appendUint(dst, `,"blk_writes":`, w.BlkWrites)
	dst = appendUint(dst, `,"blk_read_bytes":`, w.BlkReadBytes)
	dst = appendUint(dst, `,"blk_write_bytes":`, w.BlkWriteBytes)
	dst = appendUint(dst, `,"blk_errors":`, w.BlkErrors)
	dst = appendHist(dst, `,"blk_latency":`, &w.BlkLatency)
	dst = w.appendDevices(dst)
	dst = append(dst, `],"tasks":[`...)
	dst = w.appendTasks(dst)
	dst = appendUint(dst, `],"tasks_other":`, w.TasksOther)
	dst = w.appendHost(dst)
	return append(dst, '}')
}

// appendKinds appends the events per kind, null for the kinds not captured.
func (w *Window) appendKinds(dst []byte) []byte {
	dst = append(dst, `,"kinds":{`...)
	for k := decode.Kind(1); k < decode.NumKinds; k++ {
		if k > 1 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, k.String()...)
		dst = append(dst, `":`...)
		if w.Disabled[k] {
			dst = append(dst, "null"...)
		} else {
			dst = strconv.AppendUint(dst, w.Kinds[k], 10)
		}
	}
	dst = append(dst, '}')
	return dst
}

// appendSyscalls appends the syscall numbers seen (the closing bracket is the caller's).
func (w *Window) appendSyscalls(dst []byte) []byte {
	dst = append(dst, `,"syscalls":[`...)
	first := true
	for id := range w.Syscalls {
		s := &w.Syscalls[id]
		if s.Count == 0 {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendUint(dst, `{"id":`, uint64(id))
		dst = appendUint(dst, `,"count":`, uint64(s.Count))
		dst = appendUint(dst, `,"errors":`, uint64(s.Errors))
		dst = appendUint(dst, `,"latency_ns":`, s.LatencyNs)
		dst = append(dst, '}')
	}
	return dst
}

// appendCPUs appends the per-CPU times.
func (w *Window) appendCPUs(dst []byte) []byte {
	dst = append(dst, `,"cpus":[`...)
	for c := 0; c < w.NumCPU; c++ {
		s := &w.CPUs[c]
		if c > 0 {
			dst = append(dst, ',')
		}
		dst = appendUint(dst, `{"cpu":`, uint64(c))
		dst = appendUint(dst, `,"busy_ns":`, s.BusyNs)
		dst = appendUint(dst, `,"idle_ns":`, s.IdleNs)
		dst = appendUint(dst, `,"switches":`, s.Switches)
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	return dst
}

// appendIfaces appends the network interfaces.
func (w *Window) appendIfaces(dst []byte) []byte {
	dst = append(dst, `,"ifaces":[`...)
	for i := 0; i < w.NumIfaces; i++ {
		f := &w.Ifaces[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendUint(dst, `{"ifindex":`, uint64(f.Ifindex))
		dst = appendUint(dst, `,"packets":`, f.Packets)
		dst = appendUint(dst, `,"bytes":`, f.Bytes)
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	return dst
}

// appendDevices appends the block devices (the closing bracket is the caller's).
func (w *Window) appendDevices(dst []byte) []byte {
	dst = append(dst, `,"devices":[`...)
	for i := 0; i < w.NumDevices; i++ {
		d := &w.Devices[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendUint(dst, `{"major":`, uint64(d.Dev>>20))
		dst = appendUint(dst, `,"minor":`, uint64(d.Dev&(1<<20-1)))
		dst = appendUint(dst, `,"reads":`, d.Reads)
		dst = appendUint(dst, `,"writes":`, d.Writes)
		dst = appendUint(dst, `,"read_bytes":`, d.ReadBytes)
		dst = appendUint(dst, `,"write_bytes":`, d.WriteBytes)
		dst = appendUint(dst, `,"errors":`, d.Errors)
		dst = appendUint(dst, `,"latency_ns":`, d.LatencyNs)
		dst = appendUint(dst, `,"seq":`, d.Seq)
		dst = append(dst, '}')
	}
	return dst
}

// appendTasks appends the tasks (the brackets are the caller's).
func (w *Window) appendTasks(dst []byte) []byte {
	for i := 0; i < w.NumTasks; i++ {
		t := &w.Tasks[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendUint(dst, `{"pid":`, uint64(t.PID))
		dst = append(dst, `,"comm":`...)
		dst = decode.AppendComm(dst, &t.Comm)
		dst = appendUint(dst, `,"syscalls":`, t.Syscalls)
		dst = appendUint(dst, `,"syscall_errors":`, t.SyscallErrors)
		dst = appendUint(dst, `,"syscall_ns":`, t.SyscallNs)
		dst = appendUint(dst, `,"switches_out":`, t.SwitchesOut)
		dst = appendUint(dst, `,"preempted":`, t.Preempted)
		dst = appendUint(dst, `,"runs":`, t.Runs)
		dst = appendUint(dst, `,"run_ns":`, t.RunNs)
		dst = appendUint(dst, `,"runq_ns":`, t.RunqNs)
		dst = appendUint(dst, `,"wakeups":`, t.Wakeups)
		dst = appendUint(dst, `,"faults":`, t.Faults)
		dst = appendUint(dst, `,"blk_ios":`, t.BlkIOs)
		dst = append(dst, '}')
	}
	return dst
}

// appendHost appends the latest host sample, or null.
func (w *Window) appendHost(dst []byte) []byte {
	dst = append(dst, `,"host":`...)
	if w.HaveHost {
		dst = appendUint(dst, `{"ts_ns":`, w.HostTsNs)
		h := &w.Host
		dst = appendUint(dst, `,"mem_available_kb":`, h.MemAvailableKb)
		dst = appendUint(dst, `,"nr_running":`, uint64(h.NrRunning))
		dst = appendUint(dst, `,"psi_cpu_some_us":`, h.PsiCpuSomeUs)
		dst = appendUint(dst, `,"psi_io_some_us":`, h.PsiIoSomeUs)
		dst = appendUint(dst, `,"psi_mem_some_us":`, h.PsiMemSomeUs)
		dst = append(dst, '}')
	} else {
		dst = append(dst, "null"...)
	}
	return dst
}

func appendHist(dst []byte, key string, h *Hist) []byte {
	dst = append(dst, key...)
	dst = appendUint(dst, `{"count":`, h.Count)
	dst = appendFloat(dst, `,"p50_ns":`, h.Quantile(0.5))
	dst = appendFloat(dst, `,"p99_ns":`, h.Quantile(0.99))
	dst = appendUint(dst, `,"max_ns":`, h.MaxNs)
	dst = appendUint(dst, `,"sum_ns":`, h.SumNs)
	return append(dst, '}')
}

func appendUint(dst []byte, key string, v uint64) []byte {
	dst = append(dst, key...)
	return strconv.AppendUint(dst, v, 10)
}

func appendFloat(dst []byte, key string, v float64) []byte {
	dst = append(dst, key...)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, v, 'f', -1, 64)
}
