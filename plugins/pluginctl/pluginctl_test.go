package pluginctl_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ainka/ainka/plugins/pluginctl"
	"github.com/ainka/ainka/plugins/wasm/wasmtest"
)

var built map[string]string

func TestMain(m *testing.M) { wasmtest.Main(m, &built, "pressure", "swappiness", "garbage", "import") }

func run(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = pluginctl.Main(args, &o, &e)
	return code, o.String(), e.String()
}

// TestValidate: the examples validate; hostile modules fail with exit 1
// and their reason; bad usage exits 2.
func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"validate", built["pressure"]}, 0, "ok: pressure 1.0.0, a detector (ABI 1), 3 calls"},
		{[]string{"validate", built["swappiness"]}, 0, "ok: swappiness 1.0.0, a tuner (ABI 1), 3 calls"},
		{[]string{"validate", built["garbage"]}, 1, "ainka plugin validate: window 1 (every feature NaN): plugin returned garbage: score s = 7, outside [0,1]"},
		{[]string{"validate", built["import"]}, 1, "imports env.open_socket, which AINKA does not provide"},
		{[]string{"validate", "/nonexistent.wasm"}, 1, "read plugin: open /nonexistent.wasm: no such file or directory"},
		{[]string{"validate"}, 2, "want one plugin file"},
		{[]string{"frobnicate"}, 2, `unknown subcommand "frobnicate"`},
		{nil, 2, "want a subcommand"},
		{[]string{"info", built["pressure"]}, 0, "features     runq_latency_p99_us, psi_cpu_some_pct"},
	} {
		code, out, errOut := run(tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("%v: exit %d, output %q %q; want exit %d containing %q", tc.args, code, out, errOut, tc.code, tc.want)
		}
	}
}

// TestList: list reads plugin_dirs from the configuration and shows each
// plugin loaded, and each file refused with its reason.
func TestList(t *testing.T) {
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	os.Mkdir(plugins, 0o755)
	b, _ := os.ReadFile(built["pressure"])
	os.WriteFile(filepath.Join(plugins, "pressure.wasm"), b, 0o644)
	os.WriteFile(filepath.Join(plugins, "junk.wasm"), []byte("junk"), 0o644)
	cfg := filepath.Join(dir, "config.toml")
	os.WriteFile(cfg, []byte("[plugins]\nplugin_dirs = [\""+plugins+"\"]\n"), 0o644)
	code, out, errOut := run("list", "--config", cfg)
	if code != 0 || !strings.Contains(out, "pressure  1.0.0    detector  loaded") || !strings.Contains(out, "refused") || !strings.Contains(out, "junk.wasm") {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	os.WriteFile(cfg, []byte("[plugins]\ntuners = \"maybe\"\n"), 0o644)
	if code, _, errOut := run("list", "--config", cfg); code != 2 || !strings.Contains(errOut, "plugins.tuners") {
		t.Fatalf("bad configuration: exit %d, %s", code, errOut)
	}
}

// TestValidateProbe: validate checks a probe plugin's directory as the
// daemon would, without loading it: the CO-RE example passes, a manifest
// that lies about its record is refused with the reason and exit 1.
func TestValidateProbe(t *testing.T) {
	var out, errw strings.Builder
	if code := pluginctl.Main([]string{"validate", "../../examples/plugins/probes/proclife"}, &out, &errw); code != 0 ||
		!strings.Contains(out.String(), "ok: proclife 1.0.0, a probe plugin (ABI 1) on object proclife_bpfel.o: records of 56 bytes") {
		t.Fatalf("exit %d: %s%s", code, out.String(), errw.String())
	}
	dir := t.TempDir()
	m, err := os.ReadFile("../../examples/plugins/probes/proclife/plugin.toml")
	if err != nil {
		t.Fatal(err)
	}
	o, err := os.ReadFile("../../examples/plugins/probes/proclife/proclife_bpfel.o")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "plugin.toml"), []byte(strings.Replace(string(m), "size = 56", "size = 64", 1)), 0o644)
	os.WriteFile(filepath.Join(dir, "proclife_bpfel.o"), o, 0o644)
	out.Reset()
	errw.Reset()
	if code := pluginctl.Main([]string{"validate", dir}, &out, &errw); code != 1 || !strings.Contains(errw.String(), "struct proclife_record is 56 bytes, the manifest says 64") {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
}
