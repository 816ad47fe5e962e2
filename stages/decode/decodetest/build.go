package decodetest

import (
	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/stages/decode"
)

func hdr(kind decode.Kind, ts uint64, cpu, pid uint32, comm string) record.Header {
	h := record.Header{TsNs: ts, Pid: pid, Tid: pid, Cpu: cpu, Kind: uint16(kind)}
	record.SetComm(&h.Comm, comm)
	return h
}

// Syscall returns a syscall record.
func Syscall(ts uint64, cpu, pid uint32, comm string, id uint32, ret int64, latNs uint64) []byte {
	r := record.Syscall{Hdr: hdr(decode.KindSyscall, ts, cpu, pid, comm), Id: id, Ret: ret, LatencyNs: latNs}
	return record.Append(nil, &r)
}

// SchedSwitch returns a sched_switch record from prev (pid, comm) to next;
// pid 0 is the idle task and sets the idle flags like the eBPF program.
func SchedSwitch(ts uint64, cpu, prev uint32, prevComm string, next uint32, nextComm string, runqNs uint64) []byte {
	r := record.SchedSwitch{Hdr: hdr(decode.KindSchedSwitch, ts, cpu, prev, prevComm),
		NextPid: next, NextTid: next, RunqLatencyNs: runqNs}
	if prev == 0 {
		r.Hdr.Flags |= decode.FlagPrevIdle
	}
	if next == 0 {
		r.Hdr.Flags |= decode.FlagNextIdle
	}
	r.PrevState = 1
	record.SetComm(&r.NextComm, nextComm)
	return record.Append(nil, &r)
}

// SchedWakeup returns a sched_wakeup record: waker wakes target.
func SchedWakeup(ts uint64, cpu, waker, target uint32, targetComm string, isNew bool) []byte {
	r := record.SchedWakeup{Hdr: hdr(decode.KindSchedWakeup, ts, cpu, waker, "waker"),
		TargetPid: target, TargetTid: target, TargetCpu: cpu}
	if isNew {
		r.Hdr.Flags |= decode.FlagWakeupNew
	}
	record.SetComm(&r.TargetComm, targetComm)
	return record.Append(nil, &r)
}

// PageFault returns a page_fault record.
func PageFault(ts uint64, cpu, pid uint32, comm string, addr uint64, user bool) []byte {
	r := record.PageFault{Hdr: hdr(decode.KindPageFault, ts, cpu, pid, comm),
		Address: addr, Ip: 0xffffffff81000000, ErrorCode: 6}
	if user {
		r.Hdr.Flags |= decode.FlagFaultUser
	}
	return record.Append(nil, &r)
}

// NetRx returns a net_rx record.
func NetRx(ts uint64, cpu uint32, ifindex, length uint32) []byte {
	r := record.NetRx{Hdr: hdr(decode.KindNetRx, ts, cpu, 0, "swapper/0"), Ifindex: ifindex, Len: length, Protocol: 0x0800}
	return record.Append(nil, &r)
}

// BlockIO returns a block_io record; op 0 is a read, 1 a write.
func BlockIO(ts uint64, cpu, pid uint32, dev, op, sectors uint32, errno int32, latNs uint64) []byte {
	r := record.BlockIO{Hdr: hdr(decode.KindBlockIO, ts, cpu, pid, "fio"),
		Dev: dev, Op: op, Sector: 2048, NrSector: sectors, Error: errno, LatencyNs: latNs}
	return record.Append(nil, &r)
}

// HostSample returns s as a host_sample record stamped ts (its header is
// replaced).
func HostSample(ts uint64, s record.HostSample) []byte {
	s.Hdr = hdr(decode.KindHostSample, ts, 0, 0, "ainka")
	return record.Append(nil, &s)
}

// KernelDecision returns a kernel_decision record.
func KernelDecision(ts uint64, rule uint32, seq uint64) []byte {
	r := record.KernelDecision{Hdr: hdr(decode.KindKernelDecision, ts, 0, 0, "kworker"),
		RuleId: rule, Action: 1, State: 2, Metric: 3, Value: 90, Threshold: 80, LatencyNs: 1500, Seq: seq}
	return record.Append(nil, &r)
}

// TCP returns a tcp record of socket cookie in network namespace netns
// with these cumulative counters; retrans marks a retransmission.
func TCP(ts uint64, netns uint32, cookie uint64, retrans bool, acked uint64, segsOut, totalRetrans, srttUs uint32) []byte {
	r := record.TCP{Hdr: hdr(decode.KindTCP, ts, 0, 0, "swapper/0"), SockCookie: cookie, Netns: netns,
		BytesAcked: acked, SegsOut: segsOut, TotalRetrans: totalRetrans, SrttUs: srttUs, SndCwnd: 10,
		Family: 2, Sport: 40000, Dport: 5201, State: 1, Daddr: [16]byte{10, 222, 0, 2}}
	if retrans {
		r.Hdr.Flags = decode.FlagTCPRetrans
	}
	return record.Append(nil, &r)
}

// Mixed returns n records of a realistic mix on ncpu CPUs, starting at ts0
// and spaced step ns apart, with a host sample every 100 ms of event time.
// It is deterministic.
func Mixed(n int, ncpu uint32, ts0, step uint64) [][]byte {
	out := make([][]byte, 0, n)
	var lastHost uint64
	var hs record.HostSample
	hs.MemTotalKb, hs.MemAvailableKb = 16<<20, 8<<20
	hs.Flags = decode.HostHavePSI | decode.HostHaveMem | decode.HostHaveStat
	for i := 0; len(out) < n; i++ {
		ts := ts0 + uint64(i)*step
		cpu := uint32(i) % ncpu
		pid := 1000 + uint32(i%37)
		if ts-lastHost >= 100_000_000 || i == 0 {
			lastHost = ts
			hs.PsiCpuSomeUs += 5000
			hs.PsiIoSomeUs += 1000
			hs.CpuBusyTicks += 5
			hs.CpuTotalTicks += 20
			hs.NrRunning = 2
			out = append(out, HostSample(ts, hs))
			continue
		}
		switch i % 16 {
		case 0, 1, 2, 3, 4, 5, 6, 7:
			ret := int64(0)
			if i%97 == 0 {
				ret = -11
			}
			out = append(out, Syscall(ts, cpu, pid, "worker", uint32(i%300), ret, 200+uint64(i%1000)*10))
		case 8, 9:
			next := pid + 1
			if i%5 == 0 {
				next = 0
			}
			prev := pid
			if i%7 == 0 {
				prev = 0
			}
			out = append(out, SchedSwitch(ts, cpu, prev, "worker", next, "worker", uint64(i%500)*100))
		case 10:
			out = append(out, SchedWakeup(ts, cpu, pid, pid+1, "worker", i%50 == 0))
		case 11, 12:
			out = append(out, PageFault(ts, cpu, pid, "worker", uint64(i)<<12, i%3 != 0))
		case 13:
			out = append(out, NetRx(ts, cpu, 1, 64+uint32(i%1400)))
		case 14:
			out = append(out, BlockIO(ts, cpu, pid, 8<<20, uint32(i%2), 8, 0, 50_000+uint64(i%100)*1000))
		case 15:
			if i%1000 == 15 {
				out = append(out, KernelDecision(ts, 1, uint64(i)))
			} else {
				out = append(out, Syscall(ts, cpu, pid, "worker", 0, 0, 300))
			}
		}
	}
	return out
}

// Preempted returns a sched_switch record like SchedSwitch whose prev was
// still runnable (prev_state TASK_RUNNING): an involuntary switch. A
// SchedSwitch record's prev blocked (prev_state 1, TASK_INTERRUPTIBLE).
func Preempted(ts uint64, cpu, prev uint32, prevComm string, next uint32, nextComm string, runqNs uint64) []byte {
	rec := SchedSwitch(ts, cpu, prev, prevComm, next, nextComm, runqNs)
	var e decode.Event
	if err := decode.Decode(rec, &e); err != nil {
		panic(err)
	}
	r := *e.SchedSwitch()
	r.PrevState = 0
	return record.Append(nil, &r)
}

// BlockIOAt returns a successful block_io record at sector.
func BlockIOAt(ts uint64, pid, dev, op uint32, sector uint64, sectors uint32, latNs uint64) []byte {
	r := record.BlockIO{Hdr: hdr(decode.KindBlockIO, ts, 0, pid, "fio"),
		Dev: dev, Op: op, Sector: sector, NrSector: sectors, LatencyNs: latNs}
	return record.Append(nil, &r)
}
