package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os/user"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// maxSocketPath is the longest path a unix socket address can hold
// (sizeof sun_path minus the terminating NUL).
const maxSocketPath = 107

// Validate checks every value of c. The error joins one *Error per bad key;
// their Line is 0 since c is not tied to a file (Load fills it in).
func (c *Config) Validate() error { return c.validate() }

func (c *Config) validate() error {
	var v validator
	v.daemon(&c.Daemon, c.Telemetry.ExportPrometheus)
	v.ml(&c.ML)
	v.policy(&c.Policy)
	v.telemetry(&c.Telemetry)
	v.tuners(&c.Tuners)
	v.memoryGoal(c)
	v.ui(&c.UI)
	v.plugins(&c.Plugins)
	return errors.Join(v.errs...)
}

// minGoMiB is what max_memory_mb must hold beside the ring: the Go heap's
// floor (12) and the margin (1) of internal/rssgoal and the binary and
// libraries resident at start (10.3-10.6 MiB measured, 11 here). The
// daemon checks the same sum at start with the binary measured, so a
// configuration that validates starts unless the binary grew.
const minGoMiB = 24

// memoryGoal checks that max_memory_mb, an RSS goal, can hold the ring.
func (v *validator) memoryGoal(c *Config) {
	goal, ring := c.Daemon.MaxMemoryMB, int64(c.Telemetry.RingBufferMB)
	if goal >= 16 && ring > 0 && goal < ring+minGoMiB {
		v.bad("daemon.max_memory_mb", "%d MiB cannot hold the %d MiB ring (telemetry.ring_buffer_mb) and the daemon: at least %d, or 0 for no bound", goal, ring, ring+minGoMiB)
	}
}

func (v *validator) daemon(d *Daemon, prometheus bool) {
	v.path("daemon.pid_file", d.PIDFile, false)
	v.path("daemon.log_file", d.LogFile, false)
	v.path("daemon.work_dir", d.WorkDir, true)
	v.intRange("daemon.max_memory_mb", d.MaxMemoryMB, 0, 1<<20)
	if d.MaxMemoryMB > 0 && d.MaxMemoryMB < 16 {
		v.bad("daemon.max_memory_mb", "%d MiB is too small for the daemon (minimum 16, or 0 for no bound)", d.MaxMemoryMB)
	}
	v.intRange("daemon.thread_pool_size", int64(d.ThreadPoolSize), 0, 1024)
	v.intRange("daemon.realtime_priority", int64(d.RealTimePriority), 0, 49)         // pipeline.MaxRealTime
	v.intRange("daemon.realtime_wake_spin_us", int64(d.RealTimeWakeSpinUS), 0, 1000) // source.MaxWakeSpin
	if d.RealTimeWakeSpinUS > 0 && d.RealTimePriority == 0 && !d.LatencyMode {
		v.bad("daemon.realtime_wake_spin_us", "%d µs needs daemon.realtime_priority or daemon.latency_mode: only the real-time thread waits for the window's end", d.RealTimeWakeSpinUS)
	}
	if v.path("daemon.socket_path", d.SocketPath, true) && len(d.SocketPath) > maxSocketPath {
		v.bad("daemon.socket_path", "%d bytes is longer than a unix socket path can be (%d)", len(d.SocketPath), maxSocketPath)
	}
	if d.SocketGroup != "" {
		if _, err := LookupGroup(d.SocketGroup); err != nil {
			v.bad("daemon.socket_group", "%v", err)
		}
	}
	if d.MetricsAddr == "" {
		if prometheus {
			v.bad("daemon.metrics_addr", "empty, but telemetry.export_prometheus is on: give host:port")
		}
	} else {
		v.hostPort("daemon.metrics_addr", d.MetricsAddr)
	}
	if _, err := ParseLogLevel(d.LogLevel); err != nil {
		v.bad("daemon.log_level", "%q: want debug, info, warn or error", d.LogLevel)
	}
}

func (v *validator) ml(m *ML) {
	v.path("ml.model_path", m.ModelPath, false)
	v.intRange("ml.training_interval_sec", int64(m.TrainingIntervalSec), 1, 7*24*3600)
	v.intRange("ml.prediction_window_sec", int64(m.PredictionWindowSec), 1, 24*3600)
	if !(m.LearningRate > 0 && m.LearningRate <= 1) || math.IsNaN(m.LearningRate) {
		v.bad("ml.learning_rate", "%v is outside (0, 1]", m.LearningRate)
	}
	v.intRange("ml.batch_size", int64(m.BatchSize), 1, 1<<20)
	if s := m.SeedModel; s != "" {
		if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
			v.path("ml.seed_model", s, false)
		}
		if m.ModelPath == "" {
			v.bad("ml.seed_model", "set, but ml.model_path is empty: there is no model to seed")
		}
	}
}

func (v *validator) policy(p *Policy) {
	v.path("policy.policy_file", p.PolicyFile, false)
	v.intRange("policy.policy_update_interval_sec", int64(p.PolicyUpdateIntervalSec), 1, 24*3600)
	v.intRange("policy.max_policies", int64(p.MaxPolicies), 1, 10000)
	if !(p.PolicyEffectivenessThreshold >= 0 && p.PolicyEffectivenessThreshold <= 1) {
		v.bad("policy.policy_effectiveness_threshold", "%v is outside [0, 1]", p.PolicyEffectivenessThreshold)
	}
	if !(p.EmergencyModeThreshold > 0 && p.EmergencyModeThreshold <= 1) {
		v.bad("policy.emergency_mode_threshold", "%v is outside (0, 1]", p.EmergencyModeThreshold)
	}
}

func (v *validator) telemetry(t *Telemetry) {
	v.intRange("telemetry.collection_interval_ms", int64(t.CollectionIntervalMS), 10, 60000)
	v.intRange("telemetry.metrics_retention_hours", int64(t.MetricsRetentionHours), 1, 24*366)
	seen := map[string]bool{}
	for _, k := range t.EventKinds {
		switch {
		case !isKind(k):
			v.bad("telemetry.event_kinds", "unknown event kind %q (kinds: %s)", k, strings.Join(EventKinds, ", "))
		case seen[k]:
			v.bad("telemetry.event_kinds", "%q is listed twice", k)
		}
		seen[k] = true
	}
	kinds := make([]string, 0, len(t.Sampling))
	for k := range t.Sampling {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		key := "telemetry.sampling." + k
		if !isKind(k) {
			v.bad(key, "unknown event kind (kinds: %s)", strings.Join(EventKinds, ", "))
			continue
		}
		v.intRange(key, int64(t.Sampling[k]), 1, 1<<20)
	}
	if t.RingBufferMB < 1 || t.RingBufferMB > 1024 || t.RingBufferMB&(t.RingBufferMB-1) != 0 {
		v.bad("telemetry.ring_buffer_mb", "%d is not a power of two in 1..1024 (the BPF ring buffer needs one)", t.RingBufferMB)
	}
	v.push(t)
}

// push checks the fleet push keys; push.New checks the same again, so a
// configuration that validates can always push.
func (v *validator) push(t *Telemetry) {
	if t.PushURL != "" {
		if u, err := url.Parse(t.PushURL); err != nil {
			v.bad("telemetry.push_url", "%q is not a URL: %v", t.PushURL, errors.Unwrap(err))
		} else if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.bad("telemetry.push_url", "%q: want http://HOST[:PORT]/api/v1/import/prometheus (or https://)", t.PushURL)
		}
	}
	v.intRange("telemetry.push_interval_ms", int64(t.PushIntervalMS), 100, 3600000)
	v.intRange("telemetry.push_buffer_kb", int64(t.PushBufferKB), 16, 1<<20)
	names := make([]string, 0, len(t.PushLabels))
	for k := range t.PushLabels {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !labelNameRe.MatchString(k) || strings.HasPrefix(k, "__") {
			v.bad("telemetry.push_labels."+k, "not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)")
		}
	}
}

var labelNameRe = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func (v *validator) tuners(t *Tuners) {
	for _, km := range [][2]string{{"tuners.cpu", t.CPU}, {"tuners.readahead", t.Readahead},
		{"tuners.memory", t.Memory}, {"tuners.writeback", t.Writeback},
		{"tuners.tcp", t.TCP}} {
		if m := km[1]; m != "off" && m != "advise" && m != "act" {
			v.bad(km[0], "%q: want off, advise or act", m)
		}
	}
	v.intRange("tuners.effect_window_ms", int64(t.EffectWindowMS), 200, 600000)
	if !(t.HarmPct >= 1 && t.HarmPct <= 50) {
		v.bad("tuners.harm_pct", "%v is outside [1, 50]", t.HarmPct)
	}
	v.intRange("tuners.max_steps", int64(t.MaxSteps), 2, 100)
	v.path("tuners.model_path", t.ModelPath, false)
}

// hostPort checks a listening address: host:port, port a number.
func (v *validator) hostPort(key, addr string) {
	if host, port, err := net.SplitHostPort(addr); err != nil {
		v.bad(key, "%q is not host:port: %v", addr, err)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		v.bad(key, "port %q of %q is not a number in 0..65535", port, addr)
	} else if host != "" && net.ParseIP(host) == nil && strings.ContainsAny(host, " /") {
		v.bad(key, "host %q is neither an IP address nor a host name", host)
	}
}

func (v *validator) ui(u *UI) {
	if u.Addr != "" {
		v.hostPort("ui.ui_addr", u.Addr)
	}
	if u.FleetURL != "" {
		if p, err := url.Parse(u.FleetURL); err != nil {
			v.bad("ui.fleet_url", "%q is not a URL: %v", u.FleetURL, errors.Unwrap(err))
		} else if (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			v.bad("ui.fleet_url", "%q: want http://HOST:PORT, the fleet store's root (or https://)", u.FleetURL)
		}
	}
}

func (v *validator) plugins(p *Plugins) {
	for _, d := range p.PluginDirs {
		v.path("plugins.plugin_dirs", d, true)
	}
	if p.Tuners != "advise" && p.Tuners != "act" {
		v.bad("plugins.tuners", "%q: want advise or act", p.Tuners)
	}
}

type validator struct{ errs []error }

func (v *validator) bad(key, format string, args ...any) {
	v.errs = append(v.errs, &Error{Key: key, Msg: fmt.Sprintf(format, args...), Err: ErrBadValue})
}

func (v *validator) intRange(key string, n, lo, hi int64) {
	if n < lo || n > hi {
		v.bad(key, "%d is outside %d..%d", n, lo, hi)
	}
}

// path checks a path value; it reports whether the value is usable.
func (v *validator) path(key, p string, required bool) bool {
	switch {
	case p == "":
		if required {
			v.bad(key, "empty: a path is required")
		}
		return false
	case !filepath.IsAbs(p):
		v.bad(key, "%q is not an absolute path", p)
		return false
	case strings.ContainsRune(p, 0):
		v.bad(key, "contains a NUL byte")
		return false
	}
	return true
}

func isKind(k string) bool {
	for _, e := range EventKinds {
		if e == k {
			return true
		}
	}
	return false
}

// LookupGroup resolves a group name or numeric gid to a gid.
func LookupGroup(name string) (int, error) {
	if gid, err := strconv.Atoi(name); err == nil {
		if gid < 0 {
			return 0, fmt.Errorf("gid %d is negative", gid)
		}
		// A gid no group has would open the socket to nobody the
		// operator meant: most likely a typo.
		if _, err := user.LookupGroupId(name); err != nil {
			return 0, fmt.Errorf("gid %d is no group on this host (see getent group)", gid)
		}
		return gid, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("group %q does not exist on this host (create it with 'groupadd %s')", name, name)
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		return 0, fmt.Errorf("group %q has a non-numeric gid %q", name, g.Gid)
	}
	return gid, nil
}

// tomlKeys lists the toml tag names of a section struct.
func tomlKeys(v any) []string {
	t := reflect.TypeOf(v)
	keys := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("toml"); tag != "" {
			keys = append(keys, strings.Split(tag, ",")[0])
		}
	}
	return keys
}
