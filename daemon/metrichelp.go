package daemon

import (
	"bufio"
	"bytes"
	"io"
	"strings"

	"github.com/VictoriaMetrics/metrics"
)

func init() {
	// # HELP and # TYPE for every family; WriteMetrics fills in the text.
	metrics.ExposeMetadata(true)
}

// metricHelp says what each of AINKA's metric families counts. Every
// family the daemon exposes must be here (TestMetricsHelp scrapes a real
// replay and checks).
var metricHelp = map[string]string{
	"ainka_events_total":                    "Records decoded, by event kind.",
	"ainka_decode_errors_total":             "Records the decode stage rejected, by reason.",
	"ainka_bpf_seen_total":                  "Events the eBPF programs saw, by kind (stats_map).",
	"ainka_bpf_emitted_total":               "Events the eBPF programs wrote to the ring buffer, by kind.",
	"ainka_ringbuf_lost_total":              "Events lost because the ring buffer was full, by kind.",
	"ainka_source_dropped_total":            "Records the source dropped because the decode queue was full, by kind.",
	"ainka_stage_in_total":                  "Items a pipeline stage took in.",
	"ainka_stage_out_total":                 "Items a pipeline stage put out.",
	"ainka_stage_dropped_total":             "Items dropped in front of a stage because its queue was full.",
	"ainka_pipeline_queued_bytes":           "Bytes of event batches waiting in the pipeline's queues (bounded by the memory goal: a batch over the bound is dropped and counted).",
	"ainka_tap_dropped_total":               "Tapped items dropped because the tap's reader fell behind.",
	"ainka_stage_busy_seconds_total":        "Time a stage spent processing batches.",
	"ainka_stage_batch_duration_seconds":    "Time a stage took per batch.",
	"ainka_queue_fill_ratio":                "How full the queue between two stages is (0 to 1).",
	"ainka_aggregate_windows_total":         "Windows the aggregate stage closed.",
	"ainka_aggregate_skipped_windows_total": "Windows skipped because no event fell in them.",
	"ainka_aggregate_late_events_total":     "Events that arrived after their window had closed.",
	"ainka_aggregate_bad_timestamps_total":  "Events with a timestamp too far from the stream's to be placed.",
	"ainka_anomaly_score":                   "A feature's anomaly score in the last window, 0 to 1 (0.5 is about a 1e-5 tail probability).",
	"ainka_joint_anomaly_score":             "The joint anomaly score in the last window, in alarm points (1: one feature's lasting deviation at its alarm point).",
	"ainka_host_alarm":                      "The host-level alarm in the last window: 0.8 and above is an alarm (a feature's lasting deviation 1.5 times any earlier one), below 0.5 none.",
	"ainka_host_alarm_driver":               "1 when the feature drove the host alarm in the last window, else 0.",
	"ainka_forecast":                        "A feature's value forecast one prediction window ahead.",
	"ainka_engine_state":                    "The policy engine's state: 0 learning, 1 optimizing, 2 anomaly_detection, 3 predictive_scaling, 4 emergency.",
	"ainka_emergency":                       "1 while the engine is in emergency mode.",
	"ainka_knobs_changed":                   "Knobs AINKA holds changed (journaled, restored at exit).",
	"ainka_decisions_total":                 "Decisions to act, by policy, action and what became of them (applied, dry_run, rate_limited, ...).",
	"ainka_actuations_total":                "Knob changes and restores, by kind of knob and outcome.",
	"ainka_knob_change":                     "A knob held changed (status applied) or that would be (dry_run): its original and current value and the policy or tuner behind it; the value is the Unix time of the change.",
	"ainka_tuner_gain_pct":                  "A tuner's measured gain of its objective, in percent.",
	"ainka_tuner_changes":                   "Changes a tuner made (or advised) since the start.",
	"ainka_push_snapshots_total":            "Metric snapshots taken for the push to the fleet store.",
	"ainka_push_sent_total":                 "Snapshots the fleet store accepted.",
	"ainka_push_sent_bytes_total":           "Compressed bytes the fleet store accepted.",
	"ainka_push_dropped_total":              "Snapshots dropped: buffer_full (the store was down longer than the buffer holds) or rejected (a 4xx answer).",
	"ainka_push_errors_total":               "Failed pushes by reason: refused, unreachable, timeout, dns, tls, http_4xx, http_5xx, other.",
	"ainka_push_buffered_bytes":             "Compressed snapshots waiting to be pushed, in bytes (bounded by push_buffer_kb).",
	"ainka_push_buffered_snapshots":         "Snapshots waiting to be pushed.",
	"ainka_plugins":                         "Plugin files by state: loaded, disabled (a call failed), refused (did not load).",
	"ainka_plugin_disabled_total":           "Plugins disabled at run time (trapped, overran a limit, returned garbage) since the start.",
	"ainka_plugin_calls_total":              "Windows a plugin was called for.",
	"ainka_plugin_outputs_total":            "Scores or proposals a plugin returned.",
	"ainka_plugin_cpu_seconds_total":        "Thread CPU time spent in a plugin's calls.",
	"ainka_ui_viewers":                      "Browsers watching the web dashboard's live updates now.",
	"ainka_ui_updates_total":                "Dashboard updates handed to a viewer.",
	"ainka_ui_updates_dropped_total":        "Dashboard updates dropped because the viewer had not taken the previous one (a slow or stalled browser).",
}

// WriteMetrics writes set and the Go and process metrics in the Prometheus
// text format, every family with its # HELP text and # TYPE.
func WriteMetrics(w io.Writer, set *metrics.Set) error {
	var b bytes.Buffer
	set.WritePrometheus(&b)
	metrics.WriteProcessMetrics(&b)
	bw := bufio.NewWriter(w)
	for line := range strings.Lines(b.String()) {
		name, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "# HELP ")
		if !ok || strings.Contains(name, " ") {
			bw.WriteString(line)
			continue
		}
		bw.WriteString("# HELP " + name + " " + helpText(name) + "\n")
	}
	return bw.Flush()
}

// helpText is a family's help: AINKA's own from metricHelp, the Go
// runtime's and the process's named after their source.
func helpText(name string) string {
	if h, ok := metricHelp[name]; ok {
		return h
	}
	switch {
	case strings.HasPrefix(name, "go_"):
		return "Go runtime metric " + name + " (runtime/metrics, runtime.MemStats)."
	case strings.HasPrefix(name, "process_"):
		return "Process metric " + name + " (/proc/self)."
	}
	return "AINKA metric " + name + "."
}
