package genl

// Constants of kmod/include/uapi/ainka_genl.h. consts_test.go parses the
// header and fails when a value here differs or one is missing.
const (
	FamilyName  = "ainka"
	Version     = 1
	EventsGroup = "events"

	RecKeyMax   = 32
	MaxPolicies = 1024
	MaxRecs     = 4096

	NiceMin    = -20
	NiceMax    = 19
	RAPagesMax = 65536
)

// Commands.
const (
	cmdUnspec            = 0
	cmdGetStatus         = 1
	cmdSetPolicy         = 2
	cmdDelPolicy         = 3
	cmdGetPolicy         = 4
	cmdSetRecommendation = 5
	cmdGetRecommendation = 6
	cmdSetState          = 7
	cmdActuate           = 8
	cmdEvent             = 9
	cmdDelRecommendation = 10
	cmdMax               = 10
)

// Attributes.
const (
	attrUnspec           = 0
	attrVersion          = 1
	attrState            = 2
	attrSampleIntervalUs = 3
	attrSamples          = 4
	attrDecisions        = 5
	attrRejected         = 6
	attrEventsSent       = 7
	attrEventsDropped    = 8
	attrLatP50Ns         = 9
	attrLatP99Ns         = 10
	attrLatMaxNs         = 11
	attrLatCount         = 12
	attrSampleCostNs     = 13
	attrNrPolicies       = 14
	attrNrRecs           = 15
	attrNrActuations     = 16
	attrUptimeNs         = 17
	attrPolicyID         = 18
	attrPolicyMetric     = 19
	attrPolicyCmp        = 20
	attrPolicyThreshold  = 21
	attrPolicyForMs      = 22
	attrPolicyAction     = 23
	attrPolicyPriority   = 24
	attrPolicyTarget     = 25
	attrPolicyHits       = 26
	attrPolicyActive     = 27
	attrRecKey           = 28
	attrRecValue         = 29
	attrActPID           = 30
	attrActDev           = 31
	attrActValue         = 32
	attrActPrev          = 33
	attrActKind          = 34
	attrReset            = 35
	attrEventType        = 36
	attrEventSeq         = 37
	attrEventTsNs        = 38
	attrEventLatencyNs   = 39
	attrEventValue       = 40
	attrPrevState        = 41
	attrEventSource      = 42
	attrHorizonMs        = 43
	attrSampleCostP50Ns  = 44
	attrMax              = 44
)

// State is the module's state (enum ainka_state).
type State uint32

const (
	StateUnspec            State = 0
	StateLearning          State = 1
	StateOptimizing        State = 2
	StateAnomalyDetection  State = 3
	StatePredictiveScaling State = 4
	StateEmergency         State = 5
	stateMax                     = 5
)

// stateNames spell states as the engine does (action.StateNames in
// stages/decide; stages/actuate's tests hold the two together).
var stateNames = [...]string{"unspec", "learning", "optimizing", "anomaly_detection", "predictive_scaling", "emergency"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + itoa(uint64(s)) + ")"
}

// Metric is a signal the in-kernel sampler reads (enum ainka_metric).
type Metric uint32

const (
	MetricUnspec          Metric = 0
	MetricMemAvailableKB  Metric = 1
	MetricMemAvailablePct Metric = 2
	MetricNrRunning       Metric = 3
	MetricLoad1Milli      Metric = 4
	MetricPSICPUSome      Metric = 5
	MetricPSIMemSome      Metric = 6
	MetricPSIIOSome       Metric = 7
	metricMax                    = 7
)

var metricNames = [...]string{"unspec", "mem_available_kb", "mem_available_pct", "nr_running", "load1_milli", "psi_cpu_some", "psi_mem_some", "psi_io_some"}

func (m Metric) String() string {
	if int(m) < len(metricNames) {
		return metricNames[m]
	}
	return "metric(" + itoa(uint64(m)) + ")"
}

// Cmp compares a metric with a policy's threshold (enum ainka_cmp).
type Cmp uint32

const (
	CmpUnspec Cmp = 0
	CmpLT     Cmp = 1
	CmpLE     Cmp = 2
	CmpGT     Cmp = 3
	CmpGE     Cmp = 4
	CmpEQ     Cmp = 5
	CmpNE     Cmp = 6
	cmpMax        = 6
)

// Action is what a policy or an ACTUATE request does (enum ainka_action).
type Action uint32

const (
	ActionUnspec    Action = 0
	ActionNotify    Action = 1
	ActionRenice    Action = 2
	ActionReadahead Action = 3
	ActionRestore   Action = 4
	actionMax              = 4
)

var actionNames = [...]string{"unspec", "notify", "renice", "readahead", "restore"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "action(" + itoa(uint64(a)) + ")"
}

// EventType says what an event announces (enum ainka_event_type).
type EventType uint32

const (
	EventUnspec            EventType = 0
	EventDecision          EventType = 1
	EventRecovery          EventType = 2
	EventStateChange       EventType = 3
	EventKernel            EventType = 4
	EventPredictionRequest EventType = 5
	eventMax                         = 5
)

var eventNames = [...]string{"unspec", "decision", "recovery", "state_change", "kernel", "prediction_request"}

func (e EventType) String() string {
	if int(e) < len(eventNames) {
		return eventNames[e]
	}
	return "event(" + itoa(uint64(e)) + ")"
}

func itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}
