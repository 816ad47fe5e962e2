package genl

import (
	"errors"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// goConsts maps every numeric name of the uAPI header to the Go constant
// that mirrors it.
var goConsts = map[string]int64{
	"AINKA_GENL_VERSION": Version, "AINKA_REC_KEY_MAX": RecKeyMax,
	"AINKA_MAX_POLICIES": MaxPolicies, "AINKA_MAX_RECS": MaxRecs,
	"AINKA_NICE_MIN": NiceMin, "AINKA_NICE_MAX": NiceMax, "AINKA_RA_PAGES_MAX": RAPagesMax,

	"AINKA_CMD_UNSPEC": cmdUnspec, "AINKA_CMD_GET_STATUS": cmdGetStatus,
	"AINKA_CMD_SET_POLICY": cmdSetPolicy, "AINKA_CMD_DEL_POLICY": cmdDelPolicy,
	"AINKA_CMD_GET_POLICY": cmdGetPolicy, "AINKA_CMD_SET_RECOMMENDATION": cmdSetRecommendation,
	"AINKA_CMD_GET_RECOMMENDATION": cmdGetRecommendation, "AINKA_CMD_SET_STATE": cmdSetState,
	"AINKA_CMD_ACTUATE": cmdActuate, "AINKA_CMD_EVENT": cmdEvent,
	"AINKA_CMD_DEL_RECOMMENDATION": cmdDelRecommendation, "AINKA_CMD_MAX": cmdMax,

	"AINKA_A_UNSPEC": attrUnspec, "AINKA_A_VERSION": attrVersion, "AINKA_A_STATE": attrState,
	"AINKA_A_SAMPLE_INTERVAL_US": attrSampleIntervalUs, "AINKA_A_SAMPLES": attrSamples,
	"AINKA_A_DECISIONS": attrDecisions, "AINKA_A_REJECTED": attrRejected,
	"AINKA_A_EVENTS_SENT": attrEventsSent, "AINKA_A_EVENTS_DROPPED": attrEventsDropped,
	"AINKA_A_LAT_P50_NS": attrLatP50Ns, "AINKA_A_LAT_P99_NS": attrLatP99Ns,
	"AINKA_A_LAT_MAX_NS": attrLatMaxNs, "AINKA_A_LAT_COUNT": attrLatCount,
	"AINKA_A_SAMPLE_COST_NS": attrSampleCostNs, "AINKA_A_NR_POLICIES": attrNrPolicies,
	"AINKA_A_NR_RECS": attrNrRecs, "AINKA_A_NR_ACTUATIONS": attrNrActuations,
	"AINKA_A_UPTIME_NS": attrUptimeNs, "AINKA_A_POLICY_ID": attrPolicyID,
	"AINKA_A_POLICY_METRIC": attrPolicyMetric, "AINKA_A_POLICY_CMP": attrPolicyCmp,
	"AINKA_A_POLICY_THRESHOLD": attrPolicyThreshold, "AINKA_A_POLICY_FOR_MS": attrPolicyForMs,
	"AINKA_A_POLICY_ACTION": attrPolicyAction, "AINKA_A_POLICY_PRIORITY": attrPolicyPriority,
	"AINKA_A_POLICY_TARGET_STATE": attrPolicyTarget, "AINKA_A_POLICY_HITS": attrPolicyHits,
	"AINKA_A_POLICY_ACTIVE": attrPolicyActive, "AINKA_A_REC_KEY": attrRecKey,
	"AINKA_A_REC_VALUE": attrRecValue, "AINKA_A_ACT_PID": attrActPID,
	"AINKA_A_ACT_DEV": attrActDev, "AINKA_A_ACT_VALUE": attrActValue,
	"AINKA_A_ACT_PREV": attrActPrev, "AINKA_A_ACT_KIND": attrActKind,
	"AINKA_A_RESET": attrReset, "AINKA_A_EVENT_TYPE": attrEventType,
	"AINKA_A_EVENT_SEQ": attrEventSeq, "AINKA_A_EVENT_TS_NS": attrEventTsNs,
	"AINKA_A_EVENT_LATENCY_NS": attrEventLatencyNs, "AINKA_A_EVENT_VALUE": attrEventValue,
	"AINKA_A_PREV_STATE": attrPrevState, "AINKA_A_EVENT_SOURCE": attrEventSource,
	"AINKA_A_HORIZON_MS": attrHorizonMs, "AINKA_A_SAMPLE_COST_P50_NS": attrSampleCostP50Ns,
	"AINKA_A_MAX": attrMax,

	"AINKA_STATE_UNSPEC": int64(StateUnspec), "AINKA_STATE_LEARNING": int64(StateLearning),
	"AINKA_STATE_OPTIMIZING": int64(StateOptimizing), "AINKA_STATE_ANOMALY_DETECTION": int64(StateAnomalyDetection),
	"AINKA_STATE_PREDICTIVE_SCALING": int64(StatePredictiveScaling), "AINKA_STATE_EMERGENCY": int64(StateEmergency),
	"AINKA_STATE_MAX": stateMax,

	"AINKA_METRIC_UNSPEC": int64(MetricUnspec), "AINKA_METRIC_MEM_AVAILABLE_KB": int64(MetricMemAvailableKB),
	"AINKA_METRIC_MEM_AVAILABLE_PCT": int64(MetricMemAvailablePct), "AINKA_METRIC_NR_RUNNING": int64(MetricNrRunning),
	"AINKA_METRIC_LOAD1_MILLI": int64(MetricLoad1Milli), "AINKA_METRIC_PSI_CPU_SOME": int64(MetricPSICPUSome),
	"AINKA_METRIC_PSI_MEM_SOME": int64(MetricPSIMemSome), "AINKA_METRIC_PSI_IO_SOME": int64(MetricPSIIOSome),
	"AINKA_METRIC_MAX": metricMax,

	"AINKA_CMP_UNSPEC": int64(CmpUnspec), "AINKA_CMP_LT": int64(CmpLT), "AINKA_CMP_LE": int64(CmpLE),
	"AINKA_CMP_GT": int64(CmpGT), "AINKA_CMP_GE": int64(CmpGE), "AINKA_CMP_EQ": int64(CmpEQ),
	"AINKA_CMP_NE": int64(CmpNE), "AINKA_CMP_MAX": cmpMax,

	"AINKA_ACTION_UNSPEC": int64(ActionUnspec), "AINKA_ACTION_NOTIFY": int64(ActionNotify),
	"AINKA_ACTION_RENICE": int64(ActionRenice), "AINKA_ACTION_READAHEAD": int64(ActionReadahead),
	"AINKA_ACTION_RESTORE": int64(ActionRestore), "AINKA_ACTION_MAX": actionMax,

	"AINKA_EVENT_UNSPEC": int64(EventUnspec), "AINKA_EVENT_DECISION": int64(EventDecision),
	"AINKA_EVENT_RECOVERY": int64(EventRecovery), "AINKA_EVENT_STATE_CHANGE": int64(EventStateChange),
	"AINKA_EVENT_KERNEL": int64(EventKernel), "AINKA_EVENT_PREDICTION_REQUEST": int64(EventPredictionRequest),
	"AINKA_EVENT_MAX": eventMax,
}

var goStrings = map[string]string{
	"AINKA_GENL_NAME":         FamilyName,
	"AINKA_GENL_MCGRP_EVENTS": EventsGroup,
}

// parseUAPI returns the numeric and string names the header defines:
// enum members (explicit values only), #define NAME <int>, #define NAME
// (<int>), #define NAME (__OTHER - 1) and #define NAME "string".
func parseUAPI(t *testing.T, text string) (map[string]int64, map[string]string) {
	t.Helper()
	nums := map[string]int64{}
	strs := map[string]string{}
	enumRe := regexp.MustCompile(`^\s*(\w+)\s*=\s*(-?\d+)\s*,`)
	bareRe := regexp.MustCompile(`^\s*(__\w+)\s*,`)
	defRe := regexp.MustCompile(`^#define\s+(\w+)\s+(.+?)\s*(/\*.*)?$`)
	last := int64(0)
	for i, line := range strings.Split(text, "\n") {
		if m := enumRe.FindStringSubmatch(line); m != nil {
			v, _ := strconv.ParseInt(m[2], 10, 64)
			nums[m[1]], last = v, v
			continue
		}
		if m := bareRe.FindStringSubmatch(line); m != nil {
			nums[m[1]] = last + 1
			continue
		}
		m := defRe.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(m[1], "_UAPI") {
			continue
		}
		val := strings.TrimSpace(m[2])
		switch {
		case strings.HasPrefix(val, `"`):
			strs[m[1]] = strings.Trim(val, `"`)
		case strings.HasPrefix(val, "(__"):
			f := strings.Fields(strings.Trim(val, "()"))
			base, ok := nums[f[0]]
			if !ok || len(f) != 3 || f[1] != "-" {
				t.Fatalf("ainka_genl.h:%d: cannot evaluate %q", i+1, val)
			}
			n, _ := strconv.ParseInt(f[2], 10, 64)
			nums[m[1]] = base - n
		default:
			n, err := strconv.ParseInt(strings.Trim(val, "()"), 10, 64)
			if err != nil {
				t.Fatalf("ainka_genl.h:%d: cannot parse %q", i+1, val)
			}
			nums[m[1]] = n
		}
	}
	return nums, strs
}

// skipInVM skips a test that needs the source tree when it runs inside the
// test VM, which carries only the test binary; the host run checks it.
func skipInVM(t *testing.T, err error) {
	if os.Getenv("AINKA_VM") == "1" && errors.Is(err, fs.ErrNotExist) {
		t.Skipf("source tree not in the VM (%v): checked by the host run", err)
	}
}

func TestConstantsMatchUAPIHeader(t *testing.T) {
	text, err := os.ReadFile("../include/uapi/ainka_genl.h")
	if err != nil {
		skipInVM(t, err)
		t.Fatalf("read header: %v", err)
	}
	nums, strs := parseUAPI(t, string(text))
	if len(nums) < 80 {
		t.Fatalf("parsed only %d names from the header: parser out of date", len(nums))
	}
	for name, v := range nums {
		if strings.HasPrefix(name, "__") {
			continue
		}
		gv, ok := goConsts[name]
		if !ok {
			t.Errorf("%s = %d is in the header but has no Go constant", name, v)
		} else if gv != v {
			t.Errorf("%s: header %d, Go %d", name, v, gv)
		}
	}
	for name := range goConsts {
		if _, ok := nums[name]; !ok {
			t.Errorf("Go mirrors %s, which the header does not define", name)
		}
	}
	for name, v := range goStrings {
		if strs[name] != v {
			t.Errorf("%s: header %q, Go %q", name, strs[name], v)
		}
	}
}

func TestParseUAPIRejectsGarbage(t *testing.T) {
	nums, _ := parseUAPI(t, "enum x {\n\tAINKA_Q = 7,\n\t__AINKA_Q_MAX,\n};\n#define AINKA_Q_MAX (__AINKA_Q_MAX - 1)\n")
	if nums["AINKA_Q_MAX"] != 7 || nums["__AINKA_Q_MAX"] != 8 {
		t.Fatalf("parser: got %v", nums)
	}
}
