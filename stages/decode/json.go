package decode

import (
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends e as one JSON object: kind, ts_ns, cpu, pid, tid and
// comm first, then the kind's fields. The output is deterministic (fixed
// field order, no maps, no reflection).
func (e *Event) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"kind":"`...)
	dst = append(dst, e.Kind.String()...)
	dst = appendUint(dst, `","ts_ns":`, e.TsNs)
	dst = appendUint(dst, `,"cpu":`, uint64(e.CPU))
	dst = appendUint(dst, `,"pid":`, uint64(e.PID))
	dst = appendUint(dst, `,"tid":`, uint64(e.TID))
	dst = append(dst, `,"comm":`...)
	dst = AppendComm(dst, &e.Comm)
	switch e.Kind {
	case KindSyscall:
		s := e.Syscall()
		dst = appendUint(dst, `,"id":`, uint64(s.Id))
		dst = appendInt(dst, `,"ret":`, s.Ret)
		dst = appendUint(dst, `,"latency_ns":`, s.LatencyNs)
	case KindSchedSwitch:
		s := e.SchedSwitch()
		dst = appendInt(dst, `,"prev_state":`, s.PrevState)
		dst = appendUint(dst, `,"next_pid":`, uint64(s.NextPid))
		dst = appendUint(dst, `,"next_tid":`, uint64(s.NextTid))
		dst = append(dst, `,"next_comm":`...)
		dst = AppendComm(dst, &s.NextComm)
		dst = appendUint(dst, `,"runq_latency_ns":`, s.RunqLatencyNs)
	case KindSchedWakeup:
		s := e.SchedWakeup()
		dst = appendUint(dst, `,"target_pid":`, uint64(s.TargetPid))
		dst = appendUint(dst, `,"target_tid":`, uint64(s.TargetTid))
		dst = appendUint(dst, `,"target_cpu":`, uint64(s.TargetCpu))
		dst = append(dst, `,"target_comm":`...)
		dst = AppendComm(dst, &s.TargetComm)
		dst = appendBool(dst, `,"new":`, e.Flags&FlagWakeupNew != 0)
	case KindPageFault:
		s := e.PageFault()
		dst = appendUint(dst, `,"address":`, s.Address)
		dst = appendUint(dst, `,"ip":`, s.Ip)
		dst = appendUint(dst, `,"error_code":`, s.ErrorCode)
		dst = appendBool(dst, `,"user":`, e.Flags&FlagFaultUser != 0)
	case KindNetRx:
		s := e.NetRx()
		dst = appendUint(dst, `,"ifindex":`, uint64(s.Ifindex))
		dst = appendUint(dst, `,"len":`, uint64(s.Len))
		dst = appendUint(dst, `,"protocol":`, uint64(s.Protocol))
	case KindBlockIO:
		s := e.BlockIO()
		dst = appendUint(dst, `,"dev_major":`, uint64(s.Dev>>20))
		dst = appendUint(dst, `,"dev_minor":`, uint64(s.Dev&(1<<20-1)))
		dst = appendUint(dst, `,"op":`, uint64(s.Op))
		dst = appendUint(dst, `,"sector":`, s.Sector)
		dst = appendUint(dst, `,"nr_sector":`, uint64(s.NrSector))
		dst = appendInt(dst, `,"error":`, int64(s.Error))
		dst = appendUint(dst, `,"latency_ns":`, s.LatencyNs)
	case KindHostSample:
		s := e.HostSample()
		dst = appendUint(dst, `,"mem_total_kb":`, s.MemTotalKb)
		dst = appendUint(dst, `,"mem_available_kb":`, s.MemAvailableKb)
		dst = appendUint(dst, `,"psi_cpu_some_us":`, s.PsiCpuSomeUs)
		dst = appendUint(dst, `,"psi_mem_some_us":`, s.PsiMemSomeUs)
		dst = appendUint(dst, `,"psi_mem_full_us":`, s.PsiMemFullUs)
		dst = appendUint(dst, `,"psi_io_some_us":`, s.PsiIoSomeUs)
		dst = appendUint(dst, `,"psi_io_full_us":`, s.PsiIoFullUs)
		dst = appendUint(dst, `,"nr_running":`, uint64(s.NrRunning))
		dst = appendUint(dst, `,"flags":`, uint64(s.Flags))
		dst = appendUint(dst, `,"cpu_busy_ticks":`, s.CpuBusyTicks)
		dst = appendUint(dst, `,"cpu_total_ticks":`, s.CpuTotalTicks)
	case KindKernelDecision:
		dst = appendDecisionJSON(dst, e)
	case KindTCP:
		dst = appendTCPJSON(dst, e)
	}
	return append(dst, '}')
}

// appendDecisionJSON appends a kernel_decision record's fields.
func appendDecisionJSON(dst []byte, e *Event) []byte {
	s := e.KernelDecision()
	dst = append(dst, `,"event":"`...)
	dst = append(dst, DecisionType(e.Flags).String()...)
	dst = append(dst, '"')
	dst = appendUint(dst, `,"rule_id":`, uint64(s.RuleId))
	dst = appendUint(dst, `,"action":`, uint64(s.Action))
	dst = appendUint(dst, `,"state":`, uint64(s.State))
	dst = appendUint(dst, `,"metric":`, uint64(s.Metric))
	dst = appendInt(dst, `,"value":`, s.Value)
	dst = appendInt(dst, `,"threshold":`, s.Threshold)
	dst = appendUint(dst, `,"latency_ns":`, s.LatencyNs)
	dst = appendUint(dst, `,"seq":`, s.Seq)
	return dst
}

// AppendRawJSON appends a raw record (the source stage's items) as JSON:
// the header fields when the record has one, its length and its bytes in
// hex, so that a source tap shows exactly what the kernel wrote.
func AppendRawJSON(dst []byte, rec []byte) []byte {
	dst = append(dst, '{')
	if len(rec) >= HeaderSize {
		var h Event // the header only: its memory is a record's (see Event)
		copy(h.wire()[:HeaderSize], rec)
		dst = append(dst, `"kind":"`...)
		dst = append(dst, h.Kind.String()...)
		dst = appendUint(dst, `","ts_ns":`, h.TsNs)
		dst = appendUint(dst, `,"cpu":`, uint64(h.CPU))
		dst = appendUint(dst, `,"pid":`, uint64(h.PID))
		dst = appendUint(dst, `,"tid":`, uint64(h.TID))
		dst = append(dst, `,"comm":`...)
		dst = AppendComm(dst, &h.Comm)
		dst = append(dst, ',')
	}
	dst = appendUint(dst, `"len":`, uint64(len(rec)))
	dst = append(dst, `,"raw":"`...)
	const hex = "0123456789abcdef"
	for _, b := range rec {
		dst = append(dst, hex[b>>4], hex[b&15])
	}
	return append(dst, `"}`...)
}

func appendUint(dst []byte, key string, v uint64) []byte {
	dst = append(dst, key...)
	return strconv.AppendUint(dst, v, 10)
}

func appendInt(dst []byte, key string, v int64) []byte {
	dst = append(dst, key...)
	return strconv.AppendInt(dst, v, 10)
}

func appendBool(dst []byte, key string, v bool) []byte {
	dst = append(dst, key...)
	return strconv.AppendBool(dst, v)
}

// AppendComm appends a kernel comm (NUL-terminated, any bytes) as a JSON
// string; bytes that are not valid UTF-8 become U+FFFD.
func AppendComm(dst []byte, c *[CommLen]byte) []byte {
	n := 0
	for n < CommLen && c[n] != 0 {
		n++
	}
	return AppendJSONString(dst, c[:n])
}

// AppendJSONString appends s as a JSON string.
func AppendJSONString(dst []byte, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case b == '"' || b == '\\':
				dst = append(dst, '\\', b)
			case b < 0x20 || b == 0x7f:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&15])
			default:
				dst = append(dst, b)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// DecisionType is what a kernel_decision record announces (its header's
// flags, AINKA_DECISION_* in bpf/ainka_record.h).
type DecisionType uint16

var decisionTypes = [...]string{1: "decision", 2: "recovery", 3: "state_change", 4: "kernel_event", 5: "prediction_request"}

// String names the type; an unknown value is "unknown".
func (t DecisionType) String() string {
	if int(t) < len(decisionTypes) && decisionTypes[t] != "" {
		return decisionTypes[t]
	}
	return "unknown"
}
