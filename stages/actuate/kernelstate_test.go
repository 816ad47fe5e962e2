package actuate

import (
	"testing"

	"github.com/ainka/ainka/kmod/genl"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decide/action"
)

// TestKernelStates: every engine state maps to a distinct module state and
// back, with the same name on both sides; unspec and unknown values map to
// nothing.
func TestKernelStates(t *testing.T) {
	if len(action.StateNames) != decide.NumStates {
		t.Fatalf("%d state names, %d states", len(action.StateNames), decide.NumStates)
	}
	seen := map[genl.State]bool{}
	for s := decide.State(0); int(s) < decide.NumStates; s++ {
		k, ok := kernelState(s)
		if !ok || k == genl.StateUnspec || seen[k] {
			t.Errorf("%v -> %v (%v), duplicate %v", s, k, ok, seen[k])
		}
		seen[k] = true
		if back, ok := engineState(k); !ok || back != s {
			t.Errorf("%v -> %v -> %v (%v)", s, k, back, ok)
		}
		if s.String() != k.String() || s.String() != action.StateNames[s] {
			t.Errorf("engine %q, module %q, action %q", s, k, action.StateNames[s])
		}
	}
	for k := genl.State(0); k <= genl.StateEmergency+1; k++ {
		if _, ok := engineState(k); ok != seen[k] {
			t.Errorf("module state %v: maps to the engine %v, want %v", k, ok, seen[k])
		}
	}
	if _, ok := kernelState(decide.State(decide.NumStates)); ok {
		t.Error("an engine state out of range maps to a module state")
	}
}
