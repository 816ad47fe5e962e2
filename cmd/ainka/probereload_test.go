package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/control/controltest"
	"github.com/ainka/ainka/internal/testenv"
)

// TestProbePluginSIGHUP (root): the real daemon, in dry run, reloads its
// probe plugins on SIGHUP: a new version is swapped in (same record kind),
// a broken one is refused with its reason while the running version goes
// on, both as `ainka-cli plugins` shows them (GET /v1/plugins).
func TestProbePluginSIGHUP(t *testing.T) {
	testenv.RequireRoot(t, "load eBPF programs")
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skip("needs kernel BTF")
	}
	bin := controltest.Build(t, "github.com/ainka/ainka/cmd/ainka", "ainka")
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	manifest, err := os.ReadFile("../../examples/plugins/probes/signals/plugin.toml")
	if err != nil {
		t.Fatal(err)
	}
	install := func(version, extra string) {
		os.MkdirAll(filepath.Join(plugins, "signals"), 0o755)
		m := strings.Replace(string(manifest), `version = "1.0.0"`, `version = "`+version+`"`, 1) + extra
		if err := os.WriteFile(filepath.Join(plugins, "signals", "plugin.toml"), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	install("1.0.0", "")
	sock, cfg := filepath.Join(dir, "a.sock"), filepath.Join(dir, "a.toml")
	body := fmt.Sprintf("[daemon]\npid_file = %q\nwork_dir = %q\nsocket_path = %q\ndry_run = true\n[ml]\nmodel_path = \"\"\n"+
		"[policy]\npolicy_file = \"\"\n[telemetry]\nevent_kinds = [\"sched_switch\"]\n[tuners]\ncpu = \"off\"\nreadahead = \"off\"\n"+
		"[plugins]\nplugin_dirs = [%q]\n", filepath.Join(dir, "a.pid"), filepath.Join(dir, "work"), sock, plugins)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	d := exec.Command(bin, "run", "--config", cfg)
	d.Stderr = &stderr
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Wait() }()
	defer d.Process.Kill()
	probes := func() []control.Plugin {
		ps, _ := control.NewClient(sock).Plugins(context.Background())
		var out []control.Plugin
		for _, p := range ps {
			if p.Kind == control.PluginProbe {
				out = append(out, p)
			}
		}
		return out
	}
	has := func(ps []control.Plugin, state, version, reason string) bool {
		for _, p := range ps {
			if p.State == state && p.Version == version && strings.Contains(p.Reason, reason) {
				return true
			}
		}
		return false
	}
	if !waitFor(30*time.Second, func() bool { return has(probes(), "loaded", "1.0.0", "") }) {
		t.Fatalf("signals 1.0.0 never loaded: %+v\n%s", probes(), stderr.String())
	}
	install("1.0.1", "")
	d.Process.Signal(syscall.SIGHUP)
	if !waitFor(20*time.Second, func() bool { ps := probes(); return len(ps) == 1 && has(ps, "loaded", "1.0.1", "") }) {
		t.Fatalf("no swap to 1.0.1: %+v\n%s", probes(), stderr.String())
	}
	if p := probes()[0]; p.Probe == nil || p.Probe.RecordKind != 64 {
		t.Errorf("swapped plugin's kind: %+v", p.Probe)
	}
	install("1.0.2", "[tracepoint.extra]\n")
	d.Process.Signal(syscall.SIGHUP)
	if !waitFor(20*time.Second, func() bool {
		ps := probes()
		return len(ps) == 2 && has(ps, "loaded", "1.0.1", "") && has(ps, "refused", "", "; version 1.0.1 keeps running")
	}) {
		t.Fatalf("broken version: %+v\n%s", probes(), stderr.String())
	}
	d.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no exit after SIGTERM\n%s", stderr.String())
	}
	for _, want := range []string{"probe plugin swapped", "probe plugin refused", "reload refused"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, stderr.String())
		}
	}
}
