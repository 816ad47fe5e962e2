package actuate

import (
	"github.com/ainka/ainka/kmod/genl"
	"github.com/ainka/ainka/stages/decide"
)

// kernelStates is the one mapping between the engine's states and the
// kernel module's (enum ainka_state, which has an unspec 0 the engine does
// not): indexed by decide.State. TestKernelStates checks it both ways and
// that both sides spell each state alike.
var kernelStates = [decide.NumStates]genl.State{
	decide.Learning:          genl.StateLearning,
	decide.Optimizing:        genl.StateOptimizing,
	decide.AnomalyDetection:  genl.StateAnomalyDetection,
	decide.PredictiveScaling: genl.StatePredictiveScaling,
	decide.Emergency:         genl.StateEmergency,
}

// kernelState returns the module's state for an engine state; false for a
// value outside decide's states.
func kernelState(s decide.State) (genl.State, bool) {
	if int(s) >= len(kernelStates) {
		return genl.StateUnspec, false
	}
	return kernelStates[s], true
}

// engineState returns the engine's state for a module state; false for
// unspec or a value the engine does not know.
func engineState(k genl.State) (decide.State, bool) {
	for s, ks := range kernelStates {
		if ks == k {
			return decide.State(s), true
		}
	}
	return 0, false
}
