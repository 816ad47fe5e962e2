package actuate

import (
	"testing"

	"github.com/ainka/ainka/stages/decide"
)

// Expect hands back exactly the results of the expected request's
// decisions, once, and nothing for requests nobody waits for.
func TestExpect(t *testing.T) {
	_, cfg := fakeSys(t)
	cfg.DryRun = true
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ch := s.Expect(5)
	regular := dec(t, "sysctl vm.dirty_ratio -= 1")
	mine := dec(t, "sysctl vm.swappiness -= 10")
	mine.Request = 5
	other := dec(t, "sysctl vm.dirty_background_ratio -= 1")
	other.Request = 6 // not expected: passes through, delivered nowhere
	out := s.Process([]decide.Decision{regular, mine, other}, nil)
	if len(out) != 3 {
		t.Fatalf("%d results", len(out))
	}
	select {
	case rs := <-ch:
		if len(rs) != 1 || rs[0].Request != 5 || rs[0].Knob != "sysctl:vm.swappiness" {
			t.Errorf("delivered %+v", rs)
		}
	default:
		t.Fatal("nothing delivered")
	}
	if len(s.expected) != 0 {
		t.Errorf("still expecting %v", s.expected)
	}
	s.Expect(7)
	s.Forget(7)
	if len(s.expected) != 0 {
		t.Error("Forget kept the request")
	}
}
