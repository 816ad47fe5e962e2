package decide

import (
	"strings"
	"testing"
)

// TestPauseAllAfterRollback: after a rollback the policies that write
// knobs show paused with the reason, notify-only ones stay armed, and
// Reset lets them act again (issue 16, defect 9).
func TestPauseAllAfterRollback(t *testing.T) {
	s, _ := New(Config{Logger: quiet, LearningDuration: -1, EvalInterval: -1})
	s.AddPolicy(Policy{Name: "w", Condition: "cpu > 1", Action: "sysctl vm.swappiness -= 1", Enabled: true})
	s.AddPolicy(Policy{Name: "n", Condition: "cpu > 1", Action: "notify", Enabled: true})
	if got := s.PauseAll("rolled back"); len(got) != 1 || got[0] != "w" {
		t.Errorf("paused %v", got)
	}
	for _, p := range s.Policies() {
		if p.Name == "w" && (p.State != "paused" || !strings.Contains(p.PausedReason, "rolled back")) {
			t.Errorf("w after rollback: %s %q", p.State, p.PausedReason)
		}
		if p.Name == "n" && p.State == "paused" {
			t.Errorf("notify policy paused")
		}
	}
	s.Reset()
	for _, p := range s.Policies() {
		if p.State == "paused" {
			t.Errorf("%s still paused after reset", p.Name)
		}
	}
}
