package tune

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decide/action"
)

// quietHost is the full bench run's quiet host (2026-11-28): the hogs at
// nice 19 leave the latency tasks' longest waits shorter than at
// SCHED_IDLE (oracle p99 199 against 282 µs), nice 10 and SCHED_BATCH
// far behind.
var quietHost = map[string]float64{"": 1, "idle": 0.40, "19": 0.32, "10": 0.63, "batch": 1.11}

// Nice 19 and SCHED_IDLE both beat the original by far (+68 % and +60 %
// of its longest waits), by gains the trial often cannot tell apart in
// its noise (±40 % per window); the rank alone (the tuner until
// 2026-11-28) then kept SCHED_IDLE, whose longest waits are 25 % longer.
// The runoff measures the two in turns and keeps nice 19, on all seeds
// but one at most: its 1 s turns here (2 s in the daemon) leave a gap of
// 20 % near three standard errors of their windows, and within them the
// rank keeps SCHED_IDLE.
func TestCPUTunerRunoffKeepsTheBetterOfTied(t *testing.T) {
	ties, misses := 0, 0
	for seed := uint64(1); seed <= 20; seed++ {
		h := newCPUHost()
		h.tail, h.noise, h.rng = quietHost, 0.4, rand.New(rand.NewPCG(seed, 3))
		got, ds := settleCPU(t, h)
		if got == "idle" {
			misses++
		}
		if got != "19" && (got != "idle" || misses > 1) {
			t.Errorf("seed %d: settled at %q, want 19 (idle on one seed at most):\n%s", seed, got, dump(ds))
		}
		for _, x := range ds {
			if strings.Contains(x.Reason, "runoff decided") {
				ties++
				break
			}
		}
	}
	if ties < 3 {
		t.Errorf("%d of 20 trials tied idle and nice 19: the test no longer tests the runoff", ties)
	}
}

// A runoff whose contenders differ by less than the noise of their
// windows keeps the one the rank puts first, SCHED_IDLE, on every seed
// but one at most: here nice 19's longest waits are 8 % shorter and each
// window's vary by ±90 %. Judged by minGain alone (the runoff until
// 2026-11-28) it kept whichever the noise favoured (nice 19 over
// SCHED_IDLE by 8 % in the bench run b2, whose oracle SCHED_IDLE was
// 1.32× better). One seed: since session 8 a runoff whose answer is not
// clear after two turns each goes on to up to four, and looks at its
// answer after each round; at three standard errors per look, about one
// runoff in ten separates a gap this far inside the noise (seed 2 here
// kept nice 19, the better one by 8 %).
func TestCPUTunerRunoffTieKeepsTheRank(t *testing.T) {
	runoffs, other := 0, 0
	for seed := uint64(1); seed <= 10; seed++ {
		h := newCPUHost()
		h.tail = map[string]float64{"": 1, "idle": 0.40, "19": 0.37, "10": 0.63, "batch": 1.11}
		h.noise, h.rng = 0.9, rand.New(rand.NewPCG(seed, 5))
		got, ds := settleCPU(t, h)
		ran := false
		for _, x := range ds {
			ran = ran || strings.Contains(x.Reason, "runoff decided")
		}
		if ran {
			runoffs++
			if got != "idle" {
				other++
			}
			if got != "idle" && (got != "19" || other > 1) {
				t.Errorf("seed %d: the runoff kept %q, want idle (a gap within noise; 19 on one seed at most):\n%s", seed, got, dump(ds))
			}
		}
	}
	if runoffs < 3 {
		t.Errorf("%d of 10 trials ran a runoff: the test no longer tests it", runoffs)
	}
}

// regimeStage is a stage with the model file at model that has seen the
// host (its regime r1) and remembers b for it, as a daemon that kept a
// trial's best with contenders left it.
func regimeStage(t *testing.T, model string, b Best) {
	t.Helper()
	h := newCPUHost()
	h.jobs = map[string][]uint32{}
	s := newCPUStage(t, model)
	now := uint64(1e12)
	runCPU(t, s, h, &now, 5)
	b.Regime = s.reg.cur
	s.remember(b)
}

var tiedBest = Best{Target: "cpu/stress-ng-cpu/batch", Value: "idle", Gain: 0.6, Trials: 5,
	Runoff: []Contender{{Value: "idle", Gain: 0.6}, {Value: "19", Gain: 0.64}}}

// tiedReturn is a new daemon whose model kept tiedBest, and the job back
// on the quiet host.
func tiedReturn(t *testing.T) (string, *cpuHost, *Stage, uint64) {
	t.Helper()
	model := filepath.Join(t.TempDir(), "tuners.model")
	regimeStage(t, model, tiedBest)
	h := newCPUHost()
	h.tail = quietHost
	return model, h, newCPUStage(t, model), uint64(2e12)
}

// The job returns to a new daemon whose model kept SCHED_IDLE with nice
// 19 tied: SCHED_IDLE is back at once (no wait for a runoff), the runoff
// follows, never through the original or a setting outside it, and
// keeps nice 19; the next daemon applies nice 19 at once and changes
// nothing after.
func TestCPUTunerRunoffOnReturn(t *testing.T) {
	model, h, s, now := tiedReturn(t)
	ds := runCPU(t, s, h, &now, 6)
	if h.setting[101] != "idle" {
		t.Fatalf("%q 0.6 s after the job's return, want idle at once:\n%s", h.setting[101], dump(ds))
	}
	if st := s.Status().Tuners[0].State; st != "runoff" {
		t.Errorf("state %s, want runoff", st)
	}
	more := runCPU(t, s, h, &now, 80)
	for _, x := range more {
		if x.Kind == decide.Apply && x.Action.Kind != action.Notify && !slices.Contains([]string{"idle", "19"}, x.Action.Value) {
			t.Errorf("the runoff applied %s", x.Action.String())
		}
	}
	if h.setting[101] != "19" || h.setting[104] != "19" {
		t.Fatalf("after the runoff at %q, want 19:\n%s", h.setting[101], dump(more))
	}
	b, ok := s.best(s.reg.cur, tiedBest.Target)
	if !ok || b.Value != "19" || len(b.Runoff) != 0 {
		t.Errorf("remembered %+v, want 19 with the runoff decided", b)
	}
	h.setting = map[uint32]string{}
	s3 := newCPUStage(t, model)
	ds = runCPU(t, s3, h, &now, 60)
	if h.setting[102] != "19" || len(ds) != 1 {
		t.Errorf("next daemon: %q, %d decisions, want 19 at once in one write and nothing else:\n%s", h.setting[102], len(ds), dump(ds))
	}
}

// A runoff cut short (the daemon stops) is decided with what it
// measured: after each contender had a turn, the leader (nice 19 here);
// before that, the contender in place first (SCHED_IDLE). Either is
// remembered with no runoff left, and the next daemon applies it at once
// and runs none. Until 2026-11-28 (session 8) the contenders were kept
// and the runoff ran again at the next return: on the bench, the whole
// second run (p99 353 µs, against 164-279 for the runs after it).
func TestCPUTunerRunoffCutShort(t *testing.T) {
	for _, c := range []struct {
		windows int
		want    string
	}{{30, "19"}, {8, "idle"}} { // a turn is 1 s here: 30 windows see two, 8 windows part of one
		model, h, s, now := tiedReturn(t)
		runCPU(t, s, h, &now, c.windows)
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
		s2 := newCPUStage(t, model)
		b, ok := s2.best(1, tiedBest.Target)
		if !ok || b.Value != c.want || len(b.Runoff) != 0 {
			t.Errorf("stopped after %d windows: kept %+v, want %s, decided", c.windows, b, c.want)
		}
		h.setting = map[uint32]string{}
		ds := runCPU(t, s2, h, &now, 40)
		if h.setting[101] != c.want || len(ds) != 1 {
			t.Errorf("stopped after %d windows; the next daemon: %q, %d decisions, want %s at once and nothing else:\n%s", c.windows, h.setting[101], len(ds), c.want, dump(ds))
		}
	}
}

// A trial tries the settings likeliest to help first: after the
// original, SCHED_IDLE and nice 19; SCHED_BATCH (harmful on the bench's
// host) last. A workload shorter than the trial (8 s CI runs) measured
// the original, SCHED_IDLE and SCHED_BATCH, never nice 19.
func TestCPUTunerTriesLikelyBestFirst(t *testing.T) {
	h := newCPUHost()
	s := newCPUStage(t, "")
	now := uint64(1e12)
	var order []string
	for _, x := range runCPU(t, s, h, &now, 60) {
		if x.Kind == decide.Apply && x.Action.Kind != action.Notify && !slices.Contains(order, x.Action.Value) {
			order = append(order, x.Action.Value)
		}
	}
	if want := []string{"idle", "19", "10", "batch"}; !slices.Equal(order, want) {
		t.Errorf("tried %v, want %v", order, want)
	}
}
