package aggregate

import (
	"encoding/binary"
	"github.com/ainka/ainka/bpf/record"
	"testing"

	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/decode/decodetest"
)

// FuzzAggregate feeds events with arbitrary timestamps, CPUs and pids:
// the aggregator must not panic or loop, and every event must land in
// exactly one emitted window.
func FuzzAggregate(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 1e9), ^uint64(0)))
	f.Add(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, ^uint64(0)-5), 3))
	f.Fuzz(func(t *testing.T, data []byte) {
		var evs []decode.Event
		for len(data) >= 8 {
			ts := binary.LittleEndian.Uint64(data)
			data = data[8:]
			var rec []byte
			switch ts % 5 {
			case 0:
				rec = decodetest.Syscall(ts, uint32(ts>>8)%300, uint32(ts>>16)%500, "x", uint32(ts>>24)%600, -int64(ts%5), ts%100000)
			case 1:
				rec = decodetest.SchedSwitch(ts, uint32(ts>>8)%200, uint32(ts>>16)%3, "x", uint32(ts>>20)%3, "y", ts%1000)
			case 2:
				rec = decodetest.HostSample(ts, record.HostSample{PsiCpuSomeUs: ts >> 10, Flags: decode.HostHavePSI})
			case 3:
				rec = decodetest.TCP(ts, uint32(ts>>8)%7, (ts>>12)%200, ts&1 == 0, ts>>20, uint32(ts>>24), uint32(ts>>40), uint32(ts>>4)%5000)
			default:
				rec = decodetest.BlockIO(ts, 0, 1, uint32(ts>>8)%40, uint32(ts>>12)%3, 8, 0, ts%1e6)
			}
			var e decode.Event
			if err := decode.Decode(rec, &e); err != nil {
				t.Fatal(err)
			}
			evs = append(evs, e)
		}
		a, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		var ws []Window
		var n uint64
		check := func(ws []Window, maxWindows int) {
			if len(ws) > maxWindows {
				t.Fatalf("%d windows from a batch of 3 events", len(ws))
			}
			for i := range ws {
				n += ws[i].Events
				if ws[i].EndNs <= ws[i].StartNs && ws[i].Events > 0 {
					t.Fatalf("window [%d, %d) with %d events", ws[i].StartNs, ws[i].EndNs, ws[i].Events)
				}
			}
		}
		for i := 0; i < len(evs); i += 3 {
			ws = a.Process(evs[i:min(i+3, len(evs))], ws[:0])
			check(ws, 3*22) // at most MaxGapWindows+2 per event
		}
		check(a.Flush(ws[:0]), 2)
		if n+a.BadTimestamps != uint64(len(evs)) {
			t.Fatalf("windows hold %d events of %d (%d bad timestamps)", n, len(evs), a.BadTimestamps)
		}
	})
}
