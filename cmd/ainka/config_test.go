package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/internal/testenv"

	"github.com/ainka/ainka/config"
)

// writeConfig writes a configuration file for a test.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestRunDryRunPrintsEffectiveConfig: `ainka run --config F --dry-run`
// validates, prints the effective configuration (with command-line
// overrides) and exits 0 without needing root or touching the kernel.
func TestRunDryRunPrintsEffectiveConfig(t *testing.T) {
	cfg := writeConfig(t, "[telemetry]\ncollection_interval_ms = 250\nring_buffer_mb = 32\n[daemon]\nmax_memory_mb = 64\n")
	var out, errb bytes.Buffer
	code := dispatch([]string{"run", "--config", cfg, "--dry-run", "--log-level", "debug", "--kinds", "syscall,net_rx"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"collection_interval_ms = 250", "ring_buffer_mb = 32", `log_level = "debug"`, `"syscall", "net_rx"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("effective configuration lacks %q:\n%s", want, out.String())
		}
	}
	// What was printed is itself a valid configuration.
	if _, err := config.Parse("printed", out.Bytes()); err != nil {
		t.Errorf("printed configuration does not load: %v", err)
	}
}

// TestRunConfigErrors: each bad configuration is one line naming the key
// and line, exit 2, before anything starts.
func TestRunConfigErrors(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"[daemon]\nfoo = 1\n", "daemon.foo"},
		{"[telemetry]\n\ncollection_interval_ms = -5\n", ":3:"},
		{"[ml]\nlearning_rate = 7\n", "ml.learning_rate"},
		{"[policy\n", "config.toml"},
	} {
		var out, errb bytes.Buffer
		code := dispatch([]string{"run", "--config", writeConfig(t, tc.body), "--dry-run"}, &out, &errb)
		if code != exitUsage || !strings.Contains(errb.String(), tc.want) || strings.Count(strings.TrimSpace(errb.String()), "\n") > 3 {
			t.Errorf("config %q: exit %d, stderr %q; want exit 2 naming %q", tc.body, code, errb.String(), tc.want)
		}
	}
	var out, errb bytes.Buffer
	if code := dispatch([]string{"run", "--dry-run", "--log-level", "loud"}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "log-level") {
		t.Errorf("--log-level loud: exit %d, %q", code, errb.String())
	}
}

// TestReplayConfigKeys shows the daemon's own keys changing what a replay
// daemon does: log_file and log_level (a JSON log at debug), and
// enable_detailed_logging (every window logged), export_prometheus with
// metrics_addr (/metrics served), socket_path (the control socket).
func TestReplayConfigKeys(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "ainka.log")
	addr := freeAddr(t)
	sock := filepath.Join(t.TempDir(), "s.sock")
	cfg := writeConfig(t, fmt.Sprintf(`[daemon]
log_file = %q
log_level = "debug"
socket_path = %q
metrics_addr = %q
[ml]
model_path = ""
[telemetry]
enable_detailed_logging = true
export_prometheus = true
`, logFile, sock, addr))
	trace := filepath.Join(tracesDir, "cpu.trace")
	done := make(chan int, 1)
	var out, errb bytes.Buffer
	go func() {
		done <- dispatch([]string{"replay", trace, "--config", cfg, "--hold", "--duration", "4s"}, &out, &errb)
	}()
	// /metrics answers while the daemon holds.
	var body string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(body, `ainka_stage_in_total{stage="decode"}`) {
		t.Errorf("export_prometheus: /metrics at %s did not serve the pipeline's metrics (%d bytes)", addr, len(body))
	}
	if _, err := os.Stat(sock); err != nil {
		t.Errorf("socket_path: no control socket at %s: %v", sock, err)
	}
	if code := <-done; code != exitOK {
		t.Fatalf("replay exit %d: %s", code, errb.String())
	}
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("log_file: %v", err)
	}
	if !bytes.Contains(log, []byte(`"msg":"window"`)) {
		t.Errorf("enable_detailed_logging: no window records in the JSON log:\n%.400s", log)
	}
	if !bytes.Contains(log, []byte(`"level":"DEBUG"`)) && !bytes.Contains(log, []byte(`"level":"INFO"`)) {
		t.Errorf("log_level/log_file: no structured records in %s:\n%.400s", logFile, log)
	}
	if _, err := os.Stat(sock); err == nil {
		t.Errorf("socket %s left after exit", sock)
	}
}

// TestLiveConfigKeys runs the real live daemon with a configuration and
// checks the keys it owns: pid_file (written while running, removed at
// exit), work_dir (created 0700 for the journal), model_path (the model is
// saved at exit), socket_path; and dry_run (no work_dir: nothing will be
// journaled because nothing will be written).
func TestLiveConfigKeys(t *testing.T) {
	testenv.RequireRoot(t, "load the eBPF programs")
	for _, dry := range []bool{false, true} {
		t.Run(fmt.Sprintf("dry_run=%v", dry), func(t *testing.T) {
			dir := t.TempDir()
			pid := filepath.Join(dir, "run", "ainka.pid")
			work := filepath.Join(dir, "state")
			model := filepath.Join(dir, "model.bin")
			sock := filepath.Join(dir, "ainka.sock")
			cfg := writeConfig(t, fmt.Sprintf(`[daemon]
pid_file = %q
work_dir = %q
socket_path = %q
dry_run = %v
[ml]
model_path = %q
[policy]
policy_file = ""
[telemetry]
event_kinds = ["syscall", "sched_switch"]
`, pid, work, sock, dry, model))
			done := make(chan int, 1)
			var out, errb bytes.Buffer
			go func() { done <- dispatch([]string{"run", "--config", cfg, "--duration", "3s"}, &out, &errb) }()
			sawPID, sawSock := false, false
			for i := 0; i < 50 && !(sawPID && sawSock); i++ {
				if b, err := os.ReadFile(pid); err == nil && strings.TrimSpace(string(b)) == fmt.Sprint(os.Getpid()) {
					sawPID = true
				}
				if _, err := os.Stat(sock); err == nil {
					sawSock = true
				}
				time.Sleep(50 * time.Millisecond)
			}
			if !sawPID {
				t.Errorf("pid_file %s never held this process's pid", pid)
			}
			if !sawSock {
				t.Errorf("socket_path: no control socket at %s while running", sock)
			}
			if code := <-done; code != exitOK {
				t.Fatalf("run exit %d: %s", code, errb.String())
			}
			if _, err := os.Stat(pid); err == nil {
				t.Errorf("pid_file %s left after exit", pid)
			}
			st, err := os.Stat(work)
			switch {
			case dry && err == nil:
				t.Errorf("dry_run: work_dir %s created although nothing may be written", work)
			case !dry && err != nil:
				t.Errorf("work_dir: %v", err)
			case !dry && st.Mode().Perm() != 0o700:
				t.Errorf("work_dir mode %v, want 0700", st.Mode().Perm())
			}
			if _, err := os.Stat(model); err != nil {
				t.Errorf("model_path: model not saved at exit: %v", err)
			}
		})
	}
}

// A run and its --dry-run validate the flags alike: --interval 1000h and
// --ring-mb 2048 passed a real run but not --dry-run, and --interval 1ms
// failed late, about prediction_window_sec. Each is now a usage error
// naming the flag, before anything starts (so no root is needed here).
func TestRunFlagsValidatedLikeDryRun(t *testing.T) {
	for _, tc := range []struct{ flag, value, msg string }{
		{"--interval", "1000h", "--interval sets telemetry.collection_interval_ms: 3600000000 is outside 10..60000"},
		{"--interval", "1ms", "--interval sets telemetry.collection_interval_ms: 1 is outside 10..60000"},
		{"--ring-mb", "2048", "--ring-mb sets telemetry.ring_buffer_mb: 2048 is not a power of two in 1..1024"},
	} {
		for _, dry := range []bool{false, true} {
			args := []string{"run", tc.flag, tc.value, "--duration", "1s", "--view", "off"}
			if dry {
				args = append(args, "--dry-run")
			}
			var out, errb bytes.Buffer
			if code := dispatch(args, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), tc.msg) {
				t.Errorf("%v: exit %d, stderr %q; want %d with %q", args, code, errb.String(), exitUsage, tc.msg)
			}
		}
	}
}
