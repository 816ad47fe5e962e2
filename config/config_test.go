package config

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestLoadNoFileGivesDefaults(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Fatalf("Load(\"\") = %+v, want defaults", c)
	}
}

func TestLoadMissingExplicitFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if err == nil || !strings.Contains(err.Error(), "read config") || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("err = %v, want read config ... no such file", err)
	}
}

func TestEmptyFileGivesDefaults(t *testing.T) {
	c, err := Load(writeFile(t, "# nothing\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Fatalf("empty file = %+v, want defaults", c)
	}
}

// TestEveryKeyIsRead sets every key of every section to a value that is not
// its default and checks the loaded Config carries it: no key is parsed and
// dropped.
func TestEveryKeyIsRead(t *testing.T) {
	dir := t.TempDir()
	text := `
[daemon]
pid_file = "/tmp/x/ainka.pid"
log_file = "/tmp/x/ainka.log"
work_dir = "/tmp/x/state"
max_memory_mb = 512
thread_pool_size = 2
realtime_priority = 10
realtime_wake_spin_us = 200
latency_mode = true
socket_path = "/tmp/x/ainka.sock"
socket_group = "0"
metrics_addr = "127.0.0.1:9999"
dry_run = true
log_level = "debug"

[ml]
model_path = "/tmp/x/model.json"
training_interval_sec = 120
prediction_window_sec = 10
learning_rate = 0.5
batch_size = 8
enable_online_learning = false
seed_model = "https://models.example/db.ainka-model"

[policy]
policy_file = "/tmp/x/policies.toml"
policy_update_interval_sec = 1
max_policies = 3
policy_effectiveness_threshold = 0.3
emergency_mode_threshold = 0.5

[telemetry]
collection_interval_ms = 250
metrics_retention_hours = 2
enable_detailed_logging = true
export_prometheus = true
event_kinds = ["syscall", "block_io"]
ring_buffer_mb = 64
sampling = { syscall = 10 }
push_url = "https://vm.example:8428/api/v1/import/prometheus"
push_interval_ms = 2000
push_labels = { role = "db" }
push_buffer_kb = 16384
`
	p := filepath.Join(dir, "c.toml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	def := Default()
	for _, sec := range []struct {
		name     string
		got, def reflect.Value
	}{
		{"daemon", reflect.ValueOf(c.Daemon), reflect.ValueOf(def.Daemon)},
		{"ml", reflect.ValueOf(c.ML), reflect.ValueOf(def.ML)},
		{"policy", reflect.ValueOf(c.Policy), reflect.ValueOf(def.Policy)},
		{"telemetry", reflect.ValueOf(c.Telemetry), reflect.ValueOf(def.Telemetry)},
	} {
		for i := 0; i < sec.got.NumField(); i++ {
			key := sec.name + "." + sec.got.Type().Field(i).Tag.Get("toml")
			if !strings.Contains(text, "\n"+sec.got.Type().Field(i).Tag.Get("toml")+" = ") {
				t.Errorf("%s: the test file does not set it", key)
			}
			if reflect.DeepEqual(sec.got.Field(i).Interface(), sec.def.Field(i).Interface()) {
				t.Errorf("%s: loaded value %v equals the default: the key was not read", key, sec.got.Field(i).Interface())
			}
		}
	}
	// The typed accessors the other packages read.
	if got := c.Telemetry.CollectionInterval(); got != 250*time.Millisecond {
		t.Errorf("CollectionInterval = %v", got)
	}
	if got := c.Telemetry.Retention(); got != 2*time.Hour {
		t.Errorf("Retention = %v", got)
	}
	if got := c.ML.TrainingInterval(); got != 2*time.Minute {
		t.Errorf("TrainingInterval = %v", got)
	}
	if got := c.ML.PredictionWindow(); got != 10*time.Second {
		t.Errorf("PredictionWindow = %v", got)
	}
	if got := c.Policy.UpdateInterval(); got != time.Second {
		t.Errorf("UpdateInterval = %v", got)
	}
	if got := c.Telemetry.RingBufferBytes(); got != 64<<20 {
		t.Errorf("RingBufferBytes = %d", got)
	}
	if c.Telemetry.SamplingFor("syscall") != 10 || c.Telemetry.SamplingFor("net_rx") != 1 {
		t.Errorf("SamplingFor = %d, %d", c.Telemetry.SamplingFor("syscall"), c.Telemetry.SamplingFor("net_rx"))
	}
	if !c.Telemetry.KindEnabled("block_io") || c.Telemetry.KindEnabled("net_rx") {
		t.Errorf("KindEnabled wrong for %v", c.Telemetry.EventKinds)
	}
	if c.Daemon.SlogLevel() != slog.LevelDebug {
		t.Errorf("SlogLevel = %v", c.Daemon.SlogLevel())
	}
	if c.MetricsListenAddr() != "127.0.0.1:9999" {
		t.Errorf("MetricsListenAddr = %q", c.MetricsListenAddr())
	}
	c.Telemetry.ExportPrometheus = false
	if c.MetricsListenAddr() != "" {
		t.Errorf("MetricsListenAddr with export_prometheus off = %q, want none", c.MetricsListenAddr())
	}
}

func TestRelativePathsResolveAgainstConfigDir(t *testing.T) {
	p := writeFile(t, "[policy]\npolicy_file = \"policies.toml\"\n[daemon]\nsocket_path = \"run/a.sock\"\n")
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(p)
	if c.Policy.PolicyFile != filepath.Join(dir, "policies.toml") || c.Daemon.SocketPath != filepath.Join(dir, "run/a.sock") {
		t.Fatalf("paths = %q, %q; want under %s", c.Policy.PolicyFile, c.Daemon.SocketPath, dir)
	}
}

func TestErrors(t *testing.T) {
	long := "/" + strings.Repeat("s", 120)
	cases := []struct {
		name, text string
		sentinel   error
		key        string
		line       int
		msg        string
	}{
		{"syntax", "[daemon]\nmax_memory_mb = = 3\n", ErrSyntax, "", 2, "expected value"},
		{"unclosed table", "[daemon\n", ErrSyntax, "", 2, "to end table name"},
		{"duplicate key", "[daemon]\ndry_run = true\ndry_run = false\n", ErrSyntax, "", 3, "already been defined"},
		{"unknown section", "[daemn]\ndry_run = true\n", ErrUnknownKey, "daemn", 1, "unknown section"},
		{"unknown key with suggestion", "[daemon]\n\nmax_memory = 3\n", ErrUnknownKey, "daemon.max_memory", 3, "did you mean max_memory_mb?"},
		{"unknown top-level key", "verbose = true\n", ErrUnknownKey, "verbose", 1, "unknown section or key"},
		{"unknown sampling kind", "[telemetry.sampling]\nsyscalls = 2\n", ErrBadValue, "telemetry.sampling.syscalls", 2, "unknown event kind"},
		{"wrong type", "[daemon]\nmax_memory_mb = \"lots\"\n", ErrBadValue, "daemon.max_memory_mb", 2, "incompatible types"},
		{"wrong type bool", "[telemetry]\nexport_prometheus = 1\n", ErrBadValue, "telemetry.export_prometheus", 2, "incompatible types"},
		{"wrong type list", "[telemetry]\nevent_kinds = \"syscall\"\n", ErrBadValue, "telemetry.event_kinds", 2, "incompatible types"},
		{"negative memory", "[daemon]\nmax_memory_mb = -1\n", ErrBadValue, "daemon.max_memory_mb", 2, "-1 is outside 0..1048576"},
		{"tiny memory", "[daemon]\nmax_memory_mb = 4\n", ErrBadValue, "daemon.max_memory_mb", 2, "too small"},
		{"memory under the ring", "[daemon]\nmax_memory_mb = 40\n[telemetry]\nring_buffer_mb = 32\n", ErrBadValue, "daemon.max_memory_mb", 2, "40 MiB cannot hold the 32 MiB ring (telemetry.ring_buffer_mb) and the daemon: at least 56"},
		{"threads", "[daemon]\nthread_pool_size = -2\n", ErrBadValue, "daemon.thread_pool_size", 2, "outside 0..1024"},
		{"realtime priority", "[daemon]\nrealtime_priority = 50\n", ErrBadValue, "daemon.realtime_priority", 2, "outside 0..49"},
		{"wake spin", "[daemon]\nrealtime_priority = 10\nrealtime_wake_spin_us = 5000\n", ErrBadValue, "daemon.realtime_wake_spin_us", 3, "outside 0..1000"},
		{"wake spin without real time", "[daemon]\nrealtime_wake_spin_us = 200\n", ErrBadValue, "daemon.realtime_wake_spin_us", 2, "needs daemon.realtime_priority or daemon.latency_mode"},
		{"latency mode type", "[daemon]\nlatency_mode = \"on\"\n", ErrBadValue, "daemon.latency_mode", 2, "incompatible types"},
		{"empty work_dir", "[daemon]\nwork_dir = \"\"\n", ErrBadValue, "daemon.work_dir", 2, "a path is required"},
		{"empty socket", "[daemon]\nsocket_path = \"\"\n", ErrBadValue, "daemon.socket_path", 2, "a path is required"},
		{"long socket", "[daemon]\nsocket_path = \"" + long + "\"\n", ErrBadValue, "daemon.socket_path", 2, "longer than a unix socket path"},
		{"no such group", "[daemon]\nsocket_group = \"no-such-group-ainka\"\n", ErrBadValue, "daemon.socket_group", 2, "does not exist"},
		{"metrics addr", "[daemon]\nmetrics_addr = \"localhost\"\n", ErrBadValue, "daemon.metrics_addr", 2, "not host:port"},
		{"metrics port", "[daemon]\nmetrics_addr = \":http\"\n", ErrBadValue, "daemon.metrics_addr", 2, "not a number"},
		{"metrics port range", "[daemon]\nmetrics_addr = \":70000\"\n", ErrBadValue, "daemon.metrics_addr", 2, "0..65535"},
		{"prometheus without addr", "[daemon]\nmetrics_addr = \"\"\n[telemetry]\nexport_prometheus = true\n", ErrBadValue, "daemon.metrics_addr", 2, "export_prometheus is on"},
		{"log level", "[daemon]\nlog_level = \"loud\"\n", ErrBadValue, "daemon.log_level", 2, "want debug, info, warn or error"},
		{"training interval", "[ml]\ntraining_interval_sec = 0\n", ErrBadValue, "ml.training_interval_sec", 2, "0 is outside 1..604800"},
		{"prediction window", "[ml]\nprediction_window_sec = -5\n", ErrBadValue, "ml.prediction_window_sec", 2, "outside 1..86400"},
		{"learning rate zero", "[ml]\nlearning_rate = 0.0\n", ErrBadValue, "ml.learning_rate", 2, "outside (0, 1]"},
		{"learning rate big", "[ml]\nlearning_rate = 2\n", ErrBadValue, "ml.learning_rate", 2, "outside (0, 1]"},
		{"learning rate nan", "[ml]\nlearning_rate = nan\n", ErrBadValue, "ml.learning_rate", 2, "outside (0, 1]"},
		{"batch", "[ml]\nbatch_size = 0\n", ErrBadValue, "ml.batch_size", 2, "outside 1..1048576"},
		{"policy interval", "[policy]\npolicy_update_interval_sec = 0\n", ErrBadValue, "policy.policy_update_interval_sec", 2, "outside 1..86400"},
		{"max policies", "[policy]\nmax_policies = 0\n", ErrBadValue, "policy.max_policies", 2, "outside 1..10000"},
		{"effectiveness", "[policy]\npolicy_effectiveness_threshold = 1.5\n", ErrBadValue, "policy.policy_effectiveness_threshold", 2, "outside [0, 1]"},
		{"emergency", "[policy]\nemergency_mode_threshold = 0.0\n", ErrBadValue, "policy.emergency_mode_threshold", 2, "outside (0, 1]"},
		{"collection", "[telemetry]\ncollection_interval_ms = 5\n", ErrBadValue, "telemetry.collection_interval_ms", 2, "outside 10..60000"},
		{"retention", "[telemetry]\nmetrics_retention_hours = 0\n", ErrBadValue, "telemetry.metrics_retention_hours", 2, "outside 1..8784"},
		{"unknown kind", "[telemetry]\nevent_kinds = [\"syscall\", \"udp\"]\n", ErrBadValue, "telemetry.event_kinds", 2, `unknown event kind "udp"`},
		{"duplicate kind", "[telemetry]\nevent_kinds = [\"syscall\", \"syscall\"]\n", ErrBadValue, "telemetry.event_kinds", 2, "listed twice"},
		{"sampling zero", "[telemetry]\nsampling = { net_rx = 0 }\n", ErrBadValue, "telemetry.sampling.net_rx", 2, "outside 1..1048576"},
		{"sampling table", "[telemetry.sampling]\n\nblock_io = -3\n", ErrBadValue, "telemetry.sampling.block_io", 3, "outside 1..1048576"},
		{"ring size", "[telemetry]\nring_buffer_mb = 3\n", ErrBadValue, "telemetry.ring_buffer_mb", 2, "not a power of two"},
		{"seed path", "[ml]\nseed_model = \"/x/m\"\nmodel_path = \"\"\n", ErrBadValue, "ml.seed_model", 2, "ml.model_path is empty"},
		{"push scheme", "[telemetry]\npush_url = \"udp://vm:8428/x\"\n", ErrBadValue, "telemetry.push_url", 2, "want http://HOST"},
		{"push url", "[telemetry]\npush_url = \"http://vm:x:y/\"\n", ErrBadValue, "telemetry.push_url", 2, "is not a URL"},
		{"fleet url scheme", "[ui]\nfleet_url = \"vm:8428\"\n", ErrBadValue, "ui.fleet_url", 2, "want http://HOST:PORT"},
		{"fleet url", "[ui]\nfleet_url = \"http://vm:x:y/\"\n", ErrBadValue, "ui.fleet_url", 2, "is not a URL"},
		{"push interval", "[telemetry]\npush_interval_ms = 10\n", ErrBadValue, "telemetry.push_interval_ms", 2, "outside 100..3600000"},
		{"push buffer", "[telemetry]\npush_buffer_kb = 8\n", ErrBadValue, "telemetry.push_buffer_kb", 2, "outside 16..1048576"},
		{"push label", "[telemetry]\npush_labels = { \"node-name\" = \"a\" }\n", ErrBadValue, "telemetry.push_labels.node-name", 2, "not a label name"},
		{"dotted key", "daemon.thread_pool_size = 5000\n", ErrBadValue, "daemon.thread_pool_size", 1, "outside 0..1024"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, tc.text)
			c, err := Load(p)
			if err == nil {
				t.Fatalf("Load accepted %q: %+v", tc.text, c)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("err %v is not %v", err, tc.sentinel)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err %T %v is not a *config.Error", err, err)
			}
			if tc.key != "" && ce.Key != tc.key {
				t.Errorf("key = %q, want %q (err %v)", ce.Key, tc.key, err)
			}
			if ce.Line != tc.line {
				t.Errorf("line = %d, want %d (err %v)", ce.Line, tc.line, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, p+":"+strconv.Itoa(tc.line)+": ") {
				t.Errorf("message %q does not start with path:line", msg)
			}
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q does not contain %q", msg, tc.msg)
			}
		})
	}
}

func TestErrorMessageFormat(t *testing.T) {
	p := writeFile(t, "[daemon]\nlog_level = \"info\"\nmax_memory_mb = -1\n\n[ml]\nbatch_size = 0\n")
	_, err := Load(p)
	want := p + ":3: daemon.max_memory_mb: -1 is outside 0..1048576\n" + p + ":6: ml.batch_size: 0 is outside 1..1048576"
	if err == nil || err.Error() != want {
		t.Fatalf("err =\n%v\nwant\n%s", err, want)
	}
}

func TestValidateWithoutFile(t *testing.T) {
	c := Default()
	c.Telemetry.RingBufferMB = 0
	err := c.Validate()
	if err == nil || err.Error() != "telemetry.ring_buffer_mb: 0 is not a power of two in 1..1024 (the BPF ring buffer needs one)" {
		t.Fatalf("Validate = %v", err)
	}
}

func TestPrintRoundTrip(t *testing.T) {
	c := Default()
	c.Daemon.DryRun = true
	c.Telemetry.Sampling["syscall"] = 16
	c.Telemetry.EventKinds = []string{"net_rx"}
	var buf bytes.Buffer
	if err := c.WriteTOML(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[daemon]", "dry_run = true", "[telemetry.sampling]", "syscall = 16", `event_kinds = ["net_rx"]`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("printed config lacks %q:\n%s", want, buf.String())
		}
	}
	back, err := Parse("printed.toml", buf.Bytes())
	if err != nil {
		t.Fatalf("re-parse printed config: %v\n%s", err, buf.String())
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip differs:\n%+v\n%+v", back, c)
	}
}

// The shipped configuration is the built-in defaults but for the tuners
// the installed service acts with (the safe set: the CPU tuner only lowers
// priorities; the TCP tuners change a lossy or buffer-limited namespace's
// defaults for new connections only, within the admin's socket limits;
// the memory tuner lowers only a swappiness nobody chose, of the cgroup of
// a task losing its pages to reclaim beside a hog);
// `ainka run` without a configuration only advises.
func TestShippedConfigMatchesDefaults(t *testing.T) {
	c, err := Load("../packaging/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Tuners.CPU != "act" || Default().Tuners.CPU != "advise" {
		t.Errorf("tuners.cpu: shipped %q, default %q; want act and advise", c.Tuners.CPU, Default().Tuners.CPU)
	}
	if c.Tuners.TCP != "act" || Default().Tuners.TCP != "advise" {
		t.Errorf("tuners.tcp: shipped %q, default %q; want act and advise", c.Tuners.TCP, Default().Tuners.TCP)
	}
	if c.Tuners.Memory != "act" || Default().Tuners.Memory != "advise" {
		t.Errorf("tuners.memory: shipped %q, default %q; want act and advise", c.Tuners.Memory, Default().Tuners.Memory)
	}
	c.Tuners.CPU, c.Tuners.TCP, c.Tuners.Memory = Default().Tuners.CPU, Default().Tuners.TCP, Default().Tuners.Memory
	if !reflect.DeepEqual(c, Default()) {
		t.Fatalf("packaging/config.toml differs from Default():\n%+v\n%+v", c, Default())
	}
}

// TestApply shows thread_pool_size changes the process and max_memory_mb,
// an RSS goal the daemon governs (internal/rssgoal), does not set the Go
// limit to itself.
func TestApply(t *testing.T) {
	c := Default()
	c.Daemon.MaxMemoryMB = 77
	c.Daemon.ThreadPoolSize = 1
	before := debug.SetMemoryLimit(-1)
	procs := runtime.GOMAXPROCS(0)
	restore := c.Apply()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("memory limit = %d, want %d (unchanged)", got, before)
	}
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("GOMAXPROCS = %d, want 1", got)
	}
	restore()
	if debug.SetMemoryLimit(-1) != before || runtime.GOMAXPROCS(0) != procs {
		t.Errorf("restore did not restore (limit %d, procs %d)", debug.SetMemoryLimit(-1), runtime.GOMAXPROCS(0))
	}
	// Zero leaves the process as it is.
	c.Daemon.MaxMemoryMB, c.Daemon.ThreadPoolSize = 0, 0
	c.Apply()()
	if debug.SetMemoryLimit(-1) != before || runtime.GOMAXPROCS(0) != procs {
		t.Errorf("zero values changed the process")
	}
}

// TestApplyInChild checks the limits in a fresh process, where no other test
// has touched them: the same thing the daemon does at start.
func TestApplyInChild(t *testing.T) {
	if os.Getenv("AINKA_CONFIG_CHILD") == "1" {
		c := Default()
		c.Daemon.ThreadPoolSize = 1
		c.Apply()
		if runtime.GOMAXPROCS(0) != 1 {
			os.Exit(7)
		}
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestApplyInChild$")
	cmd.Env = append(os.Environ(), "AINKA_CONFIG_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func TestPIDFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "run", "ainka.pid")
	remove, err := WritePIDFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("pid file holds %q", b)
	}
	// A live other process in the file: refused.
	other := exec.Command("sleep", "10")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer other.Process.Kill()
	os.WriteFile(p, []byte(strconv.Itoa(other.Process.Pid)), 0o644)
	if _, err := WritePIDFile(p); !errors.Is(err, ErrAlreadyRunning) || !strings.Contains(err.Error(), strconv.Itoa(other.Process.Pid)) {
		t.Fatalf("live pid: err = %v, want ErrAlreadyRunning naming the pid", err)
	}
	// Not ours any more: remove leaves it.
	if err := remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("remove deleted another process's pid file")
	}
	// A stale pid (the process is gone) is replaced.
	other.Process.Kill()
	other.Wait()
	remove, err = WritePIDFile(p)
	if err != nil {
		t.Fatalf("stale pid: %v", err)
	}
	if err := remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("pid file still there after remove")
	}
	// Garbage in the file is treated as stale.
	os.WriteFile(p, []byte("garbage"), 0o644)
	if _, err := WritePIDFile(p); err != nil {
		t.Fatalf("garbage pid file: %v", err)
	}
	// "" disables the pid file.
	if rm, err := WritePIDFile(""); err != nil || rm() != nil {
		t.Fatalf("empty path: %v", err)
	}
}

func TestLogOutput(t *testing.T) {
	var fallback bytes.Buffer
	d := Default().Daemon
	w, closeFn, err := d.OpenLogOutput(&fallback)
	if err != nil || w != &fallback {
		t.Fatalf("empty log_file: w=%v err=%v, want the fallback", w, err)
	}
	closeFn()
	d.LogFile = filepath.Join(t.TempDir(), "log", "ainka.log")
	w, closeFn, err = d.OpenLogOutput(&fallback)
	if err != nil {
		t.Fatal(err)
	}
	slog.New(slog.NewTextHandler(w, nil)).Info("hello", "k", 1)
	closeFn()
	b, _ := os.ReadFile(d.LogFile)
	if !strings.Contains(string(b), "msg=hello k=1") || fallback.Len() != 0 {
		t.Fatalf("log file = %q, fallback = %q", b, fallback.String())
	}
	d.LogFile = "/proc/no/such/dir/x.log"
	if _, _, err := d.OpenLogOutput(&fallback); err == nil {
		t.Fatal("unwritable log_file accepted")
	}
}

func TestEnsureWorkDir(t *testing.T) {
	d := Default().Daemon
	d.WorkDir = filepath.Join(t.TempDir(), "state")
	if err := d.EnsureWorkDir(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(d.WorkDir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("work_dir: %v %v, want a 0700 directory", st, err)
	}
}

func TestParseLogLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError} {
		if got, err := ParseLogLevel(in); err != nil || got != want {
			t.Errorf("ParseLogLevel(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseLogLevel("trace"); !errors.Is(err, ErrBadValue) || !strings.Contains(err.Error(), `"trace"`) {
		t.Errorf("ParseLogLevel(trace) = %v", err)
	}
}

func TestLookupGroup(t *testing.T) {
	if gid, err := LookupGroup("root"); err != nil || gid != 0 {
		t.Errorf("LookupGroup(root) = %d, %v", gid, err)
	}
	if gid, err := LookupGroup("0"); err != nil || gid != 0 {
		t.Errorf("LookupGroup(0) = %d, %v", gid, err)
	}
	// A numeric gid that no group has was accepted.
	if _, err := LookupGroup("987654"); err == nil || !strings.Contains(err.Error(), "gid 987654 is no group on this host") {
		t.Errorf("LookupGroup(987654): %v", err)
	}
	if _, err := LookupGroup("-3"); err == nil {
		t.Error("negative gid accepted")
	}
}

// TestDaemonSetConfigIsValid checks the configuration embedded in the
// Kubernetes manifest, which no daemon reads before a cluster does.
func TestDaemonSetConfigIsValid(t *testing.T) {
	b, err := os.ReadFile("../deploy/kubernetes/daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(b), "  config.toml: |\n")
	if !ok {
		t.Fatal("daemonset.yaml has no config.toml block")
	}
	var text strings.Builder
	for _, line := range strings.Split(block, "\n") {
		if line != "" && !strings.HasPrefix(line, "    ") {
			break
		}
		text.WriteString(strings.TrimPrefix(line, "    ") + "\n")
	}
	c, err := Parse("daemonset.yaml:config.toml", []byte(text.String()))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Daemon.DryRun || c.MetricsListenAddr() != "0.0.0.0:9464" {
		t.Fatalf("daemonset config = %+v", c.Daemon)
	}
}

// TestDocumented keeps docs/config.md in step with the keys.
func TestDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for sec, keys := range knownKeys {
		if !strings.Contains(string(b), "### `["+sec+"]`") {
			t.Errorf("docs/config.md has no section [%s]", sec)
		}
		for _, k := range keys {
			if !strings.Contains(string(b), "| `"+k+"` |") {
				t.Errorf("docs/config.md does not document %s.%s", sec, k)
			}
		}
	}
}

func TestAllErrorsAtOnceInFileOrder(t *testing.T) {
	p := writeFile(t, "[telemetry]\nring_buffer_mb = 3\n[daemon]\nmax_memory = 3\nmax_memory_mb = -1\n")
	_, err := Load(p)
	want := p + ":2: telemetry.ring_buffer_mb: 3 is not a power of two in 1..1024 (the BPF ring buffer needs one)\n" +
		p + ":4: daemon.max_memory: unknown key (did you mean max_memory_mb?)\n" +
		p + ":5: daemon.max_memory_mb: -1 is outside 0..1048576"
	if err == nil || err.Error() != want {
		t.Fatalf("err =\n%v\nwant\n%s", err, want)
	}
	if !errors.Is(err, ErrUnknownKey) || !errors.Is(err, ErrBadValue) {
		t.Errorf("joined error does not match both sentinels")
	}
}

// latency_mode defaults the real-time priority it was measured with;
// explicit keys win; a spin with latency_mode alone is accepted (the mode
// brings the real-time thread it needs).
func TestLatencyMode(t *testing.T) {
	for _, tc := range []struct {
		text       string
		prio, spin int
	}{
		{"", 0, 0},
		{"[daemon]\nlatency_mode = true\n", LatencyModePriority, 0},
		{"[daemon]\nlatency_mode = true\nrealtime_priority = 20\nrealtime_wake_spin_us = 50\n", 20, 50},
		{"[daemon]\nlatency_mode = true\nrealtime_wake_spin_us = 500\n", LatencyModePriority, 500},
		{"[daemon]\nrealtime_priority = 5\n", 5, 0},
	} {
		c, err := Parse("t.toml", []byte(tc.text))
		if err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		if p, s := c.Daemon.RealTime(); p != tc.prio || s != tc.spin {
			t.Errorf("%q: RealTime() = %d, %d; want %d, %d", tc.text, p, s, tc.prio, tc.spin)
		}
	}
}

// latency_mode with a memory goal collects only near the Go memory limit
// (GOGC off); without a goal, or without the mode, the pacing stays.
func TestApplyLatencyModeGC(t *testing.T) {
	for _, tc := range []struct {
		mode   bool
		goal   int64
		wantGC int
	}{{true, 48, -1}, {true, 0, 100}, {false, 48, 100}} {
		before := debug.SetGCPercent(100)
		c := Default()
		c.Daemon.LatencyMode, c.Daemon.MaxMemoryMB = tc.mode, tc.goal
		restore := c.Apply()
		got := debug.SetGCPercent(-1)
		debug.SetGCPercent(got)
		restore()
		if after := debug.SetGCPercent(before); got != tc.wantGC || after != 100 {
			t.Errorf("latency_mode %v, max_memory_mb %d: GOGC %d under Apply, %d after restore; want %d, 100", tc.mode, tc.goal, got, after, tc.wantGC)
		}
	}
}
