package decode

// AppendRecord appends e in the wire format of bpf/ainka_record.h: what
// user-space producers (host samples, kernel-module decisions) write into
// the stream and traces, and what tests use to build records.
func (e *Event) AppendRecord(dst []byte) []byte {
	n := RecordSize(e.Kind)
	if n == 0 {
		n = HeaderSize
	}
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	r := dst[start:]
	le.PutUint64(r[0:], e.TsNs)
	le.PutUint32(r[8:], e.PID)
	le.PutUint32(r[12:], e.TID)
	le.PutUint32(r[16:], e.CPU)
	le.PutUint16(r[20:], uint16(e.Kind))
	le.PutUint16(r[22:], e.Flags)
	copy(r[24:40], e.Comm[:])
	p := r[HeaderSize:]
	switch e.Kind {
	case KindSyscall:
		s := e.Syscall()
		le.PutUint32(p[0:], s.ID)
		le.PutUint64(p[8:], uint64(s.Ret))
		le.PutUint64(p[16:], s.LatencyNs)
	case KindSchedSwitch:
		s := e.SchedSwitch()
		le.PutUint32(p[0:], s.NextPID)
		le.PutUint32(p[4:], s.NextTID)
		le.PutUint64(p[8:], uint64(s.PrevState))
		le.PutUint64(p[16:], s.RunqLatencyNs)
		copy(p[24:40], s.NextComm[:])
	case KindSchedWakeup:
		s := e.SchedWakeup()
		le.PutUint32(p[0:], s.TargetPID)
		le.PutUint32(p[4:], s.TargetTID)
		le.PutUint32(p[8:], s.TargetCPU)
		copy(p[16:32], s.TargetComm[:])
	case KindPageFault:
		s := e.PageFault()
		le.PutUint64(p[0:], s.Address)
		le.PutUint64(p[8:], s.IP)
		le.PutUint64(p[16:], s.ErrorCode)
	case KindNetRx:
		s := e.NetRx()
		le.PutUint32(p[0:], s.Ifindex)
		le.PutUint32(p[4:], s.Len)
		le.PutUint16(p[8:], s.Protocol)
	case KindBlockIO:
		s := e.BlockIO()
		le.PutUint32(p[0:], s.Dev)
		le.PutUint32(p[4:], s.Op)
		le.PutUint64(p[8:], s.Sector)
		le.PutUint32(p[16:], s.NrSector)
		le.PutUint32(p[20:], uint32(s.Error))
		le.PutUint64(p[24:], s.LatencyNs)
	case KindHostSample:
		s := e.HostSample()
		for i, v := range [...]uint64{s.MemTotalKB, s.MemAvailableKB, s.PSICPUSomeUs, s.PSIMemSomeUs, s.PSIMemFullUs, s.PSIIOSomeUs, s.PSIIOFullUs} {
			le.PutUint64(p[8*i:], v)
		}
		le.PutUint32(p[56:], s.NrRunning)
		le.PutUint32(p[60:], s.Flags)
		le.PutUint64(p[64:], s.CPUBusyTicks)
		le.PutUint64(p[72:], s.CPUTotalTicks)
	case KindKernelDecision:
		s := e.KernelDecision()
		le.PutUint32(p[0:], s.RuleID)
		le.PutUint32(p[4:], s.Action)
		le.PutUint32(p[8:], s.State)
		le.PutUint32(p[12:], s.Metric)
		le.PutUint64(p[16:], uint64(s.Value))
		le.PutUint64(p[24:], uint64(s.Threshold))
		le.PutUint64(p[32:], s.LatencyNs)
		le.PutUint64(p[40:], s.Seq)
	}
	return dst
}
