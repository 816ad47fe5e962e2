package actuate

import (
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decide/action"
)

// niceTarget refuses any nice below the process's nice before AINKA, and
// allows moving back down towards it.
func TestNiceTargetNeverRaisesPriority(t *testing.T) {
	for _, c := range []struct {
		act, cur, floor, want string
	}{
		{"nice pid:2 = 5", "15", "15", ""},
		{"nice pid:2 = 10", "19", "0", "10"},  // AINKA's own 19 back to 10: above the original 0
		{"nice pid:2 = 10", "19", "15", ""},   // below the original 15
		{"nice pid:2 += 4", "15", "15", "19"}, // lowering a priority is the point
	} {
		a, err := action.Parse(c.act)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := niceTarget(a, c.cur, c.floor)
		if c.want == "" {
			if !errors.Is(err, errRaisesPriority) {
				t.Errorf("%s from %s (original %s): %q, %v; want refused", c.act, c.cur, c.floor, got, err)
			}
		} else if err != nil || got != c.want {
			t.Errorf("%s from %s (original %s): %q, %v; want %s", c.act, c.cur, c.floor, got, err, c.want)
		}
	}
}

// Nice 0 → 19 is one write, unclamped: nice has no step bound since
// 2026-11-28 (its far end, CFS weight 15, yields less than SCHED_IDLE's
// 3, also one write). With ±10 the CPU tuner's nice 19 took two writes
// 1.2 s apart, the hogs at nice 10 in between. A raise stays refused.
func TestNiceOneWrite(t *testing.T) {
	a, err := action.Parse("nice pid:2 = 19")
	if err != nil {
		t.Fatal(err)
	}
	got, why, err := niceTarget(a, "0", "0")
	if err != nil || got != "19" || why != "" {
		t.Errorf("= 19 from 0: %q (%q), %v; want 19 in one write, not clamped", got, why, err)
	}
	if got, _, err := niceTarget(a, "19", "19"); err != nil || got != "19" {
		t.Errorf("= 19 at 19: %q, %v", got, err)
	}
	down, err := action.Parse("nice pid:2 = 0")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := niceTarget(down, "19", "19"); !errors.Is(err, errRaisesPriority) {
		t.Errorf("= 0 from an original 19: %v, want refused", err)
	}
}

// On a real process at nice 15, "= 5" is refused and leaves it at 15; a
// change down towards its original after AINKA raised it is allowed.
// Before the fix a policy took it 15 → 5 → 0.
func TestHostNiceNeverRaisesPriority(t *testing.T) {
	needRoot(t)
	pid := startNiced(t, 15)
	if procNice(pid) != 15 {
		t.Fatalf("the child's nice is %d, not 15", procNice(pid))
	}
	s, err := New(Config{JournalPath: filepath.Join(t.TempDir(), "j"), KnobInterval: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sel := "nice pid:" + strconv.Itoa(pid)
	if r := one(t, s, sel+" = 5"); r.Status != Rejected || procNice(pid) != 15 {
		t.Errorf("= 5 on nice 15: %s %s, nice now %d", r.Status, r.Err, procNice(pid))
	}
	if r := one(t, s, sel+" = 19"); r.Status != Applied || procNice(pid) != 19 {
		t.Fatalf("= 19: %s %s, nice now %d", r.Status, r.Err, procNice(pid))
	}
	if r := one(t, s, sel+" = 17"); r.Status != Applied || procNice(pid) != 17 {
		t.Errorf("back to 17 (original 15): %s %s, nice now %d", r.Status, r.Err, procNice(pid))
	}
	if r := one(t, s, sel+" = 10"); r.Status != Rejected || procNice(pid) != 17 {
		t.Errorf("= 10 below the original 15: %s %s, nice now %d", r.Status, r.Err, procNice(pid))
	}
	s.Process([]decide.Decision{{Kind: decide.Revert, Policy: "test", Action: dec(t, sel+" = 19").Action}}, nil)
	if procNice(pid) != 15 {
		t.Errorf("revert: nice %d, want the original 15", procNice(pid))
	}
}

// Knobs resolves a process named by pid and by command name to the same
// knob, and writes nothing.
func TestKnobsResolveOneProcessByEitherName(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skipf("start a process: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := cmd.Process.Pid
	nice0 := procNice(pid) // the suite may run under nice
	s, err := New(Config{DryRun: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keys := func(src string) []string {
		a, err := action.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		ks, err := s.Knobs(a)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		return ks
	}
	byPID := keys("nice pid:" + strconv.Itoa(pid) + " = 5")
	if len(byPID) != 1 || byPID[0] == "nice:pid:"+strconv.Itoa(pid) {
		t.Fatalf("nice pid:%d resolves to %v, want one knob of the process (pid and start time)", pid, byPID)
	}
	if byName := keys("nice name:sleep = 5"); !slices.Contains(byName, byPID[0]) {
		t.Errorf("nice name:sleep resolves to %v, which lacks %s (pid %d)", byName, byPID[0], pid)
	}
	if n := procNice(pid); n != nice0 {
		t.Errorf("resolving changed the nice to %d", n)
	}
	if _, err := s.Knobs(action.Action{Kind: action.Nice, Target: "name:no-such-command-x"}); err == nil {
		t.Error("a selector matching no process resolved")
	}
}
