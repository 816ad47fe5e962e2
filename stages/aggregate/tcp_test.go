package aggregate

import (
	"testing"
	"time"

	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/decode/decodetest"
)

// TestTCPPerNetns: tcp records land in their namespace's entry; bytes and
// segments are the differences of each socket's cumulative counters
// (exact across windows and whatever records sampling left out: the
// first record of a socket only sets its baseline); retransmission
// events and RTT samples count with their weight.
func TestTCPPerNetns(t *testing.T) {
	const nsA, nsB = 4026532001, 4026532002
	evs := events(t,
		decodetest.TCP(1*ms, nsA, 1, false, 1000, 10, 0, 2000),
		decodetest.TCP(2*ms, nsB, 2, false, 50, 3, 0, 100),
		weighted(decodetest.TCP(3*ms, nsA, 1, true, 5000, 20, 2, 3000), 1),
		decodetest.TCP(4*ms, nsA, 3, false, 7, 1, 0, 0), // another socket: baseline only
		// next window: socket 1 moved on; 32-bit segs_out wrapped
		decodetest.TCP(120*ms, nsA, 1, false, 9000, 4, 3, 4000),
		decodetest.TCP(130*ms, nsB, 2, false, 40, 3, 0, 100), // counters went back: no delta
		decodetest.TCP(250*ms, nsA, 1, false, 9000, 0, 0, 0),
	)
	ws := run(t, Config{Interval: 100 * time.Millisecond}, 3, evs)
	if len(ws) < 2 {
		t.Fatalf("%d windows", len(ws))
	}
	get := func(w *Window, inum uint32) *NetnsStat {
		for i := 0; i < w.NumNetns; i++ {
			if w.Netns[i].Netns == inum {
				return &w.Netns[i]
			}
		}
		t.Fatalf("window [%d, %d): no netns %d", w.StartNs, w.EndNs, inum)
		return nil
	}
	a := get(&ws[0], nsA)
	if a.Records != 4 || a.Retransmits != 2 || a.BytesAcked != 4000 || a.SegsOut != 10 || a.RetransSegs != 2 || a.RTT.Count != 3 {
		t.Errorf("window 0 netns A: %+v", *a)
	}
	if p := a.RTT.Quantile(0.99); p < 2900e3 || p > 3100e3 {
		t.Errorf("window 0 netns A RTT p99 %v ns, want about 3 ms", p)
	}
	if b := get(&ws[0], nsB); b.Records != 1 || b.BytesAcked != 0 {
		t.Errorf("window 0 netns B: %+v", *b)
	}
	a = get(&ws[1], nsA)
	if a.BytesAcked != 4000 || a.SegsOut != 1<<32-16 || a.RetransSegs != 1 {
		t.Errorf("window 1 netns A: acked %d segs %d retrans %d", a.BytesAcked, a.SegsOut, a.RetransSegs)
	}
	if b := get(&ws[1], nsB); b.BytesAcked != 0 || b.SegsOut != 0 {
		t.Errorf("window 1 netns B (counters went back): %+v", *b)
	}
	if ws[0].Kinds[decode.KindTCP] != 5 {
		t.Errorf("tcp events %d, want 5 (one of weight 2)", ws[0].Kinds[decode.KindTCP])
	}
}

// TestTCPTableBounds: namespaces past MaxNetns are counted, sockets past
// MaxSockets evict the least recently seen, and the window is reset.
func TestTCPTableBounds(t *testing.T) {
	var recs [][]byte
	for i := 0; i < MaxNetns+3; i++ {
		recs = append(recs, decodetest.TCP(uint64(i+1)*ms, uint32(4026532000+i), uint64(i+1), false, 1, 1, 0, 10))
	}
	for i := 0; i < MaxSockets+10; i++ {
		recs = append(recs, decodetest.TCP(20*ms, 4026532000, uint64(1000+i), false, 1, 1, 0, 10))
	}
	recs = append(recs, decodetest.Syscall(300*ms, 0, 1, "x", 0, 0, 1))
	ws := run(t, Config{Interval: 100 * time.Millisecond}, 7, events(t, recs...))
	if w := &ws[0]; w.NumNetns != MaxNetns || w.NetnsOther != 3 {
		t.Errorf("netns %d, other %d; want %d, 3", w.NumNetns, w.NetnsOther, MaxNetns)
	}
	if w := &ws[1]; w.NumNetns != 0 || w.NetnsOther != 0 {
		t.Errorf("next window not reset: netns %d, other %d", w.NumNetns, w.NetnsOther)
	}
}
