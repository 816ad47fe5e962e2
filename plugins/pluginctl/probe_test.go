package pluginctl_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ainka/ainka/control"
)

const proclife = "../../examples/plugins/probes/proclife"

// copyProbe copies the proclife example into dir/name, with its manifest
// edited by edit.
func copyProbe(t *testing.T, dir, name string, edit func(string) string) string {
	t.Helper()
	d := filepath.Join(dir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"plugin.toml", "proclife_bpfel.o"} {
		b, err := os.ReadFile(filepath.Join(proclife, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "plugin.toml" {
			b = []byte(edit(string(b)))
		}
		if err := os.WriteFile(filepath.Join(d, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// TestListProbes: list shows the probe plugins of plugin_dirs beside the
// logic ones, checked (form, programs, features) or refused with the
// reason, as a table and as JSON.
func TestListProbes(t *testing.T) {
	dir := t.TempDir()
	pdir := filepath.Join(dir, "plugins")
	copyProbe(t, pdir, "a_proclife", func(s string) string { return s })
	copyProbe(t, pdir, "b_liar", func(s string) string {
		return strings.Replace(strings.Replace(s, "size = 56", "size = 64", 1), `name = "proclife"`, `name = "liar"`, 1)
	})
	b, _ := os.ReadFile(built["pressure"])
	os.WriteFile(filepath.Join(pdir, "pressure.wasm"), b, 0o644)
	cfg := filepath.Join(dir, "config.toml")
	os.WriteFile(cfg, []byte("[plugins]\nplugin_dirs = [\""+pdir+"\"]\n"), 0o644)

	code, out, errOut := run("list", "--config", cfg)
	for _, want := range []string{
		"pressure  1.0.0    detector  loaded",
		"proclife  1.0.0    probe  checked  object  proclife_exit tp_btf sched_process_exit  proclife.exits_per_s, proclife.lifetime_p50_ms",
		"b_liar", "struct proclife_record is 56 bytes, the manifest says 64",
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d, want %q in:\n%s%s", code, want, out, errOut)
		}
	}
	code, out, errOut = run("list", "--config", cfg, "--json")
	var st []control.Plugin
	if err := json.Unmarshal([]byte(out), &st); code != 0 || err != nil || len(st) != 3 {
		t.Fatalf("--json: exit %d, %v, %d plugins:\n%s%s", code, err, len(st), out, errOut)
	}
	p := st[1]
	if p.Kind != "probe" || p.State != "checked" || p.Probe == nil || p.Probe.Form != "object" || p.Probe.RecordSize != 56 ||
		len(p.Features) != 4 || st[2].State != "refused" || !strings.Contains(st[2].Reason, "the manifest says 64") {
		t.Fatalf("--json: %+v %+v", p, st[2])
	}
	if code, _, errOut := run("list", "--config", cfg, "extra"); code != 2 || !strings.Contains(errOut, "usage") {
		t.Fatalf("extra argument: exit %d, %s", code, errOut)
	}
}

// TestInfoProbe: info describes a probe plugin (programs, record layout,
// features), as text and JSON; a broken one exits 1 with the reason, bad
// usage exits 2.
func TestInfoProbe(t *testing.T) {
	code, out, errOut := run("info", proclife)
	for _, want := range []string{
		"kind         probe (object form)", "license      GPL",
		"programs     proclife_exit tp_btf sched_process_exit",
		"record       56 bytes: lifetime_ns@40/8, exit_code@48/4, exit_signal@52/4",
		"feature      proclife.lifetime_p99_ms: quantile of lifetime_ns (q 0.99) × 1e-06",
		"feature      proclife.exit_signals: distinct of exit_signal",
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d, want %q in:\n%s%s", code, want, out, errOut)
		}
	}
	code, out, _ = run("info", "--json", proclife)
	var p control.Plugin
	if err := json.Unmarshal([]byte(out), &p); code != 0 || err != nil || p.Name != "proclife" || p.Probe == nil || len(p.Probe.Programs) != 1 {
		t.Fatalf("--json: exit %d, %v, %+v", code, err, p)
	}
	code, out, _ = run("info", "--json", built["pressure"])
	if err := json.Unmarshal([]byte(out), &p); code != 0 || err != nil || p.Name != "pressure" || p.Kind != "detector" {
		t.Fatalf("--json of a wasm plugin: exit %d, %v, %+v", code, err, p)
	}
	bad := copyProbe(t, t.TempDir(), "bad", func(s string) string { return strings.Replace(s, `license = "GPL"`, `license = "Proprietary"`, 1) })
	if code, _, errOut := run("info", bad); code != 1 || !strings.Contains(errOut, "Proprietary") {
		t.Fatalf("non-GPL manifest: exit %d, %s", code, errOut)
	}
	if code, _, errOut := run("info", "--json"); code != 2 || !strings.Contains(errOut, "want one plugin file") {
		t.Fatalf("no path: exit %d, %s", code, errOut)
	}
}
