package tune

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decide/action"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
)

// longLink is a fake network namespace sending over a long path: its rate
// is the line's or what its send buffer limit lets it keep in flight over
// the RTT (a quarter of the limit), whichever is lower.
type longLink struct {
	netns   uint32
	orig    string // tcp_wmem at the start
	wmem    string // tcp_wmem in place
	lineBps float64
	rttUs   float64
	lossPct float64
	shown   string // what reading tcp_wmem gives when not wmem ("ERR": an error)
}

func (l *longLink) max() float64 {
	var a, b, c float64
	fmt.Sscan(l.wmem, &a, &b, &c)
	return c
}

func (l *longLink) vector(now uint64) predict.Output {
	var o predict.Output
	v := &o.Vector
	v.StartNs, v.EndNs = now-win, now
	v.Values[features.CPUBusyPct] = 20
	v.NumNetns = 1
	f := &v.Netns[0]
	f.Netns, f.Records = l.netns, 100
	f.TxBytesPerS = min(l.lineBps, l.max()/bufShare/(l.rttUs/1e6))
	f.RxBytesPerS = f.TxBytesPerS / 40 // the acknowledgements
	f.LossPct = l.lossPct
	f.RetransPerS = f.TxBytesPerS / 1448 * l.lossPct / 100
	f.RTTP50Us, f.RTTP99Us = l.rttUs, 2*l.rttUs
	return o
}

func (l *longLink) run(t *testing.T, s *Stage, start uint64, n int) []decide.Decision {
	var all []decide.Decision
	var out []Window
	for i := 0; i < n; i++ {
		out = s.Process([]predict.Output{l.vector(start + uint64(i)*win)}, out[:0])
		for _, x := range out[0].Dec[:out[0].NDec] {
			all = append(all, x)
			if x.Action.Kind != action.Sysctl || x.Action.Target != "net.ipv4.tcp_wmem" {
				continue
			}
			if ino, ok := action.NetnsSysctl(x.Action); !ok || ino != uint64(l.netns) {
				t.Fatalf("decision not for namespace %d: %s", l.netns, x.Action.Source)
			}
			switch x.Kind {
			case decide.Apply:
				l.wmem = x.Action.Value
			case decide.Revert:
				l.wmem = l.orig
			}
		}
	}
	return all
}

// bufStage is a stage acting on TCP whose host socket limit
// (net.core.wmem_max) is coreMax; reads counts the namespace reads.
func bufStage(t *testing.T, l *longLink, coreMax string, reads *int) *Stage {
	t.Helper()
	s, err := New(Config{TCP: Act, EffectWindow: time.Second,
		NetnsName: func(ino uint32) string { return "far" },
		Sysctl: func(name string) (string, error) {
			switch name {
			case "net.core.wmem_max", "net.core.rmem_max":
				return coreMax, nil
			case "net.ipv4.tcp_available_congestion_control":
				return "reno bbr cubic", nil
			}
			return "cubic", nil
		},
		NetnsSysctl: func(ino uint32, name string) (string, error) {
			*reads++
			if ino != l.netns || name != "net.ipv4.tcp_wmem" || l.shown == "ERR" {
				return "", fmt.Errorf("read %s of %d", name, ino)
			}
			if l.shown != "" {
				return l.shown, nil
			}
			return l.wmem, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTCPBufferTunerRaisesLimit: a clean namespace sending at a quarter
// of its tcp_wmem max per RTT tries ×2 and ×4 of the max (never above
// the host's wmem_max), keeps ×4 (the rate follows), reads the
// namespace's value once, and writes only the max.
func TestTCPBufferTunerRaisesLimit(t *testing.T) {
	l := &longLink{netns: 4026532777, orig: "4096 16384 4194304", wmem: "4096 16384 4194304", lineBps: 125e6, rttUs: 50e3, lossPct: 0.01}
	reads := 0
	ds := l.run(t, bufStage(t, l, "16777216", &reads), 1e9, 150)
	var tried []string
	settled := false
	for _, d := range ds {
		t.Logf("%v %s", d.Kind, d.Reason)
		if d.Policy == "tuner:tcp" {
			t.Fatalf("the congestion-control tuner acted on a clean link: %s", d.Reason)
		}
		if d.Kind == decide.Apply {
			tried = append(tried, d.Action.Value)
			settled = strings.Contains(d.Reason, "settled") && strings.Contains(d.Reason, "buffer-limited")
		}
	}
	if len(tried) < 2 || tried[0] != "4096 16384 8388608" || !settled || l.wmem != "4096 16384 16777216" || reads != 1 {
		t.Fatalf("tried %q, settled %v, tcp_wmem now %q (want the max ×4); %d reads of the namespace", tried, settled, l.wmem, reads)
	}
}

// TestTCPBufferTunerBounds: no trial at the admin's socket limit (the
// namespace's max is already wmem_max), and none without the evidence
// (rate × RTT far under the limit).
func TestTCPBufferTunerBounds(t *testing.T) {
	l := &longLink{netns: 4026532777, orig: "4096 16384 4194304", wmem: "4096 16384 4194304", lineBps: 125e6, rttUs: 50e3, lossPct: 0.01}
	reads := 0
	if ds := l.run(t, bufStage(t, l, "4194304", &reads), 1e9, 60); len(ds) != 0 {
		t.Fatalf("at wmem_max: %+v", ds)
	}
	// A value that does not parse, or a read that fails, is no evidence.
	for _, bad := range []string{"4096 junk 4194304", "4096 16384", "ERR"} {
		l.shown, reads = bad, 0
		if ds := l.run(t, bufStage(t, l, "16777216", &reads), 1e9, 60); len(ds) != 0 || reads != 1 {
			t.Fatalf("tcp_wmem %q (%d reads): %+v", bad, reads, ds)
		}
	}
	l.shown = ""
	short := &longLink{netns: 4026532777, orig: l.orig, wmem: l.orig, lineBps: 12.5e6, rttUs: 500, lossPct: 0.01}
	reads = 0
	if ds := short.run(t, bufStage(t, short, "16777216", &reads), 1e9, 60); len(ds) != 0 || reads != 0 {
		t.Fatalf("short path (%d reads): %+v", reads, ds)
	}
}

// TestTCPTunersTakeTurns: on a lossy, buffer-limited namespace the
// congestion-control and buffer tuners never try settings at the same
// time: each trial begins after the other has settled.
func TestTCPTunersTakeTurns(t *testing.T) {
	l := &longLink{netns: 4026532777, orig: "4096 16384 4194304", wmem: "4096 16384 4194304", lineBps: 125e6, rttUs: 50e3, lossPct: 5}
	reads := 0
	ds := l.run(t, bufStage(t, l, "16777216", &reads), 1e9, 300)
	exploring := map[string]bool{}
	var order []string
	for _, d := range ds {
		if d.Kind != decide.Apply && d.Kind != decide.Revert {
			continue
		}
		p := d.Policy
		if len(order) == 0 || order[len(order)-1] != p {
			order = append(order, p)
		}
		settles := strings.Contains(d.Reason, "settled")
		for q, on := range exploring {
			if q != p && on && !settles {
				t.Fatalf("%s changed the namespace while %s was exploring: %s", p, q, d.Reason)
			}
		}
		exploring[p] = !settles
	}
	if len(order) != 2 {
		t.Fatalf("want one tuner's trial, then the other's: %q", order)
	}
}
