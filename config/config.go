package config

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ainka/ainka/settings"
)

// DefaultPath is where the daemon looks for its configuration when no
// --config flag is given.
const DefaultPath = "/etc/ainka/config.toml"

// EventKinds lists the event kinds the eBPF programs can emit, in the order
// of the record format (bpf/ainka_record.h).
var EventKinds = []string{"syscall", "sched_switch", "sched_wakeup", "page_fault", "net_rx", "block_io", "tcp"}

// Config is the whole configuration file. The toml tags are the key names of
// the file; the field comments say which part of the program reads each.
type Config struct {
	Daemon    Daemon    `toml:"daemon"`
	ML        ML        `toml:"ml"`
	Policy    Policy    `toml:"policy"`
	Telemetry Telemetry `toml:"telemetry"`
	Tuners    Tuners    `toml:"tuners"`
	UI        UI        `toml:"ui"`
	Plugins   Plugins   `toml:"plugins"`
}

// UI is the [ui] section: the web dashboard (package view/web).
type UI struct {
	// Addr serves the read-only dashboard at http://ADDR/ ("" = off).
	Addr string `toml:"ui_addr"`
	// AllowRemote lets Addr be other than a loopback address: the
	// dashboard has no authentication, so exposing it is a choice.
	AllowRemote bool `toml:"ui_allow_remote"`
	// FleetURL is the fleet's store (VictoriaMetrics, Prometheus) the
	// dashboard's fleet page reads ("" = no fleet page).
	FleetURL string `toml:"fleet_url"`
}

// Plugins is the [plugins] section: logic plugins (package plugins,
// docs/plugins.md).
type Plugins struct {
	// PluginDirs are searched, in order, for *.wasm plugins; a missing
	// directory holds none.
	PluginDirs []string `toml:"plugin_dirs"`
	// Tuners is what tuner plugins' proposals become: "advise" (a notify
	// decision saying what would be set) or "act" (an action for actuate,
	// through its allowlist, clamps, journal and rate limits).
	Tuners string `toml:"tuners"`
}

// Tuners is the [tuners] section: the tune stage (package stages/tune).
type Tuners struct {
	// CPU and Readahead are each tuner's mode: "off", "advise" (say what
	// it would change and why) or "act" (try, keep what helps).
	CPU       string `toml:"cpu"`
	Readahead string `toml:"readahead"`
	Memory    string `toml:"memory"`
	Writeback string `toml:"writeback"`
	TCP       string `toml:"tcp"`
	// EffectWindowMS is the event time a setting is measured over, and the
	// harm bound's time (200..600000).
	EffectWindowMS int `toml:"effect_window_ms"`
	// HarmPct: a step that makes its objective more than this much worse is
	// reverted at the end of its effect window (1..50).
	HarmPct float64 `toml:"harm_pct"`
	// MaxSteps: settings tried per regime and target before settling (2..100).
	MaxSteps int `toml:"max_steps"`
	// ModelPath keeps the best settings found per regime and target.
	ModelPath string `toml:"model_path"`
}

// Daemon is the [daemon] section: the process itself.
type Daemon struct {
	// PIDFile is written at start and removed at exit ("" = none).
	PIDFile string `toml:"pid_file"`
	// LogFile receives the structured log ("" = standard error, which
	// journald captures under systemd).
	LogFile string `toml:"log_file"`
	// WorkDir holds the daemon's state: the actuation journal and, by
	// default, the learned model.
	WorkDir string `toml:"work_dir"`
	// MaxMemoryMB is the daemon's RSS goal in MiB: its Go memory limit is
	// this less the ring and the resident binary (internal/rssgoal); 0
	// leaves the runtime's (GOMEMLIMIT or none).
	MaxMemoryMB int64 `toml:"max_memory_mb"`
	// ThreadPoolSize is GOMAXPROCS; 0 uses every CPU.
	ThreadPoolSize int `toml:"thread_pool_size"`
	// RealTimePriority, when positive, runs the pipeline on one thread,
	// from the ring to the write, under SCHED_FIFO at this priority (1 to
	// 49): a window's reaction then waits for no other task's CPU time
	// nor a goroutine hand-off per stage (docs/performance.md). 0: the
	// stages on goroutines of their own, SCHED_OTHER.
	RealTimePriority int `toml:"realtime_priority"`
	// RealTimeWakeSpinUS, with RealTimePriority, wakes the pipeline's
	// thread this many µs before each window's end and keeps it on its CPU
	// until then (source.Config.WakeSpin): the window closes on time even
	// when the thread's wake-up is late. It costs that much CPU per
	// window. 0: off.
	RealTimeWakeSpinUS int `toml:"realtime_wake_spin_us"`
	// LatencyMode is the configuration measured for the user-space
	// reaction goal (issue 16: p99 <= 1 ms from a window's end to the
	// write, docs/performance.md): the real-time thread at
	// LatencyModePriority unless realtime_priority says otherwise, and,
	// with a memory goal, collections only near the Go memory limit
	// (Apply). The wake spin stays realtime_wake_spin_us's: it lowered
	// the median, not the p99, in the probe's runs. Off by default: the
	// real-time thread needs CAP_SYS_NICE, and the heap grows to the
	// limit between collections.
	LatencyMode bool `toml:"latency_mode"`
	// SocketPath is the control API's unix socket.
	SocketPath string `toml:"socket_path"`
	// SocketGroup, when set, lets this group's members use the control
	// socket besides root (mode 0660 instead of 0600).
	SocketGroup string `toml:"socket_group"`
	// MetricsAddr is where /metrics is served when
	// telemetry.export_prometheus is on.
	MetricsAddr string `toml:"metrics_addr"`
	// DryRun makes actuation advice-only: every change is logged, none is
	// made.
	DryRun bool `toml:"dry_run"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `toml:"log_level"`
}

// ML is the [ml] section: the predict stage's learners.
type ML struct {
	// ModelPath is where the learned state is saved and restored.
	ModelPath string `toml:"model_path"`
	// TrainingIntervalSec is how often the learned state is retrained
	// and saved.
	TrainingIntervalSec int `toml:"training_interval_sec"`
	// PredictionWindowSec is the forecast horizon.
	PredictionWindowSec int `toml:"prediction_window_sec"`
	// LearningRate is the online learners' step size, in (0, 1].
	LearningRate float64 `toml:"learning_rate"`
	// BatchSize is the number of feature windows per training step.
	BatchSize int `toml:"batch_size"`
	// EnableOnlineLearning lets the learners update while running;
	// off, the loaded model is only used for prediction.
	EnableOnlineLearning bool `toml:"enable_online_learning"`
	// SeedModel, a path or an http(s) URL of a bundle `ainka model
	// export` wrote on another host of the same role, is merged into the
	// model files at start (fleet/warm): a new host starts warm.
	SeedModel string `toml:"seed_model"`
}

// Policy is the [policy] section: the decide stage.
type Policy struct {
	// PolicyFile is the TOML policy set loaded at start and reloaded on
	// change; a missing file means no file policies.
	PolicyFile string `toml:"policy_file"`
	// PolicyUpdateIntervalSec is how often the policy file is checked
	// for changes.
	PolicyUpdateIntervalSec int `toml:"policy_update_interval_sec"`
	// MaxPolicies bounds the number of policies (file + control API).
	MaxPolicies int `toml:"max_policies"`
	// PolicyEffectivenessThreshold is the score below which an action
	// is reverted and its policy paused, in [0, 1].
	PolicyEffectivenessThreshold float64 `toml:"policy_effectiveness_threshold"`
	// EmergencyModeThreshold is the anomaly score above which the
	// engine enters emergency mode, in (0, 1].
	EmergencyModeThreshold float64 `toml:"emergency_mode_threshold"`
}

// Telemetry is the [telemetry] section: capture and aggregation.
type Telemetry struct {
	// CollectionIntervalMS is the aggregation window.
	CollectionIntervalMS int `toml:"collection_interval_ms"`
	// MetricsRetentionHours is how long learned history is kept: a saved
	// model last written longer ago is moved aside at start.
	MetricsRetentionHours int `toml:"metrics_retention_hours"`
	// EnableDetailedLogging logs every window's features and every
	// policy evaluation.
	EnableDetailedLogging bool `toml:"enable_detailed_logging"`
	// ExportPrometheus serves /metrics at daemon.metrics_addr.
	ExportPrometheus bool `toml:"export_prometheus"`
	// EventKinds are the kinds the eBPF programs capture.
	EventKinds []string `toml:"event_kinds"`
	// Sampling keeps 1 event in N per kind (absent = every event).
	Sampling map[string]int `toml:"sampling"`
	// RingBufferMB is the BPF ring buffer size, a power of two.
	RingBufferMB int `toml:"ring_buffer_mb"`
	// PushURL, when set, is a VictoriaMetrics-compatible import endpoint
	// (/api/v1/import/prometheus) the metrics are pushed to (fleet/push).
	PushURL string `toml:"push_url"`
	// PushIntervalMS is the time between pushed snapshots.
	PushIntervalMS int `toml:"push_interval_ms"`
	// PushLabels are added to every pushed sample; host defaults to the
	// host name.
	PushLabels map[string]string `toml:"push_labels"`
	// PushBufferKB bounds the snapshots kept while the endpoint is down.
	PushBufferKB int `toml:"push_buffer_kb"`
}

// Default returns the configuration the daemon runs with when there is no
// file. It is valid: Default().Validate() returns nil.
func Default() *Config {
	return &Config{
		Daemon: Daemon{
			PIDFile:        "/run/ainka/ainka.pid",
			LogFile:        "",
			WorkDir:        "/var/lib/ainka",
			MaxMemoryMB:    48,
			ThreadPoolSize: 0,
			SocketPath:     "/run/ainka/ainka.sock",
			SocketGroup:    "",
			MetricsAddr:    "127.0.0.1:9464",
			DryRun:         false,
			LogLevel:       "info",
		},
		ML: ML{
			ModelPath:            "/var/lib/ainka/model.bin",
			TrainingIntervalSec:  60,
			PredictionWindowSec:  1,
			LearningRate:         0.12,
			BatchSize:            1,
			EnableOnlineLearning: true,
		},
		Policy: Policy{
			PolicyFile:                   "/etc/ainka/policies.toml",
			PolicyUpdateIntervalSec:      5,
			MaxPolicies:                  64,
			PolicyEffectivenessThreshold: 0.05,
			EmergencyModeThreshold:       0.95,
		},
		Telemetry: Telemetry{
			CollectionIntervalMS:  int(settings.DefaultInterval / time.Millisecond),
			MetricsRetentionHours: 24,
			EnableDetailedLogging: false,
			ExportPrometheus:      false,
			EventKinds:            append([]string(nil), EventKinds...),
			Sampling:              map[string]int{},
			RingBufferMB:          16,
			PushIntervalMS:        10000,
			PushLabels:            map[string]string{},
			PushBufferKB:          4096,
		},
		Tuners: Tuners{
			CPU:            "advise",
			Readahead:      "advise",
			Memory:         "advise",
			Writeback:      "advise",
			TCP:            "advise",
			EffectWindowMS: 2000,
			HarmPct:        10,
			MaxSteps:       8,
			ModelPath:      "/var/lib/ainka/tuners.model",
		},
		Plugins: Plugins{
			PluginDirs: []string{"/etc/ainka/plugins"},
			Tuners:     "advise",
		},
	}
}

// SlogLevel returns daemon.log_level as a slog level. The value is
// validated, so an unknown name cannot reach here from Load.
func (d Daemon) SlogLevel() slog.Level {
	l, _ := ParseLogLevel(d.LogLevel)
	return l
}

// ParseLogLevel parses debug, info, warn or error (the --log-level flag).
func ParseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return slog.LevelInfo, fmt.Errorf("%w: log level %q: want debug, info, warn or error", ErrBadValue, s)
}

// LatencyModePriority is latency_mode's real-time priority, the one the
// probe measured it with (docs/performance.md).
const LatencyModePriority = 10

// RealTime returns the pipeline's SCHED_FIFO priority (0: none) and its
// wake spin in µs: realtime_priority, defaulted by latency_mode when it is
// on and the key is 0, and realtime_wake_spin_us.
func (d Daemon) RealTime() (prio, spinUS int) {
	prio = d.RealTimePriority
	if d.LatencyMode && prio == 0 {
		prio = LatencyModePriority
	}
	return prio, d.RealTimeWakeSpinUS
}

// MemoryGoal returns max_memory_mb in bytes (0 = no goal set by AINKA).
func (d Daemon) MemoryGoal() int64 { return d.MaxMemoryMB << 20 }

// TrainingInterval returns training_interval_sec as a duration.
func (m ML) TrainingInterval() time.Duration {
	return time.Duration(m.TrainingIntervalSec) * time.Second
}

// PredictionWindow returns prediction_window_sec as a duration.
func (m ML) PredictionWindow() time.Duration {
	return time.Duration(m.PredictionWindowSec) * time.Second
}

// UpdateInterval returns policy_update_interval_sec as a duration.
func (p Policy) UpdateInterval() time.Duration {
	return time.Duration(p.PolicyUpdateIntervalSec) * time.Second
}

// CollectionInterval returns collection_interval_ms as a duration.
func (t Telemetry) CollectionInterval() time.Duration {
	return time.Duration(t.CollectionIntervalMS) * time.Millisecond
}

// Retention returns metrics_retention_hours as a duration.
func (t Telemetry) Retention() time.Duration {
	return time.Duration(t.MetricsRetentionHours) * time.Hour
}

// PushInterval returns push_interval_ms as a duration.
func (t Telemetry) PushInterval() time.Duration {
	return time.Duration(t.PushIntervalMS) * time.Millisecond
}

// RingBufferBytes returns ring_buffer_mb in bytes.
func (t Telemetry) RingBufferBytes() int { return t.RingBufferMB << 20 }

// SamplingFor returns the 1-in-N sampling rate of an event kind (1 when
// the kind has no entry).
func (t Telemetry) SamplingFor(kind string) int {
	if n, ok := t.Sampling[kind]; ok && n > 0 {
		return n
	}
	return 1
}

// KindEnabled reports whether the event kind is captured.
func (t Telemetry) KindEnabled(kind string) bool {
	for _, k := range t.EventKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// MetricsListenAddr returns the address for the Prometheus listener, or ""
// when telemetry.export_prometheus is off.
func (c *Config) MetricsListenAddr() string {
	if !c.Telemetry.ExportPrometheus {
		return ""
	}
	return c.Daemon.MetricsAddr
}
