package decide

import "github.com/ainka/ainka/stages/decide/action"

// State is the engine's mode, the design's state machine.
type State uint8

const (
	// Learning: the first LearningDuration of data, or while the predictor
	// has no joint score yet. Policies that read anomaly scores or
	// forecasts do not run; plain threshold policies do.
	Learning State = iota
	// Optimizing: the normal state; every enabled policy runs.
	Optimizing
	// AnomalyDetection: the joint anomaly score crossed AnomalyEnter;
	// left when it stays under AnomalyExit for StateHold.
	AnomalyDetection
	// PredictiveScaling: a forecast-driven policy fired within StateHold.
	PredictiveScaling
	// Emergency: the joint anomaly score crossed the emergency threshold,
	// or an operator said so. Only emergency policies run, on every
	// window. Left when the score stays under the threshold minus
	// Hysteresis for StateHold (or the operator turns it off).
	Emergency
)

// NumStates is the number of states: State(0) to State(NumStates-1).
const NumStates = int(Emergency) + 1

// String returns the state's name, action.StateNames[s].
func (s State) String() string {
	if int(s) < len(action.StateNames) {
		return action.StateNames[s]
	}
	return "unknown"
}
