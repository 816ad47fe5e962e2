package plugins_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ainka/ainka/plugins"
	"github.com/ainka/ainka/plugins/wasm/wasmtest"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/stages/tune"
)

var built map[string]string

func TestMain(m *testing.M) { wasmtest.Main(m, &built, "pressure", "swappiness", "trap") }

// install copies built plugins into a new plugin directory.
func install(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		copyFile(t, built[n], filepath.Join(dir, n+".wasm"))
	}
	return dir
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func open(t testing.TB, o plugins.Options) *plugins.Set {
	t.Helper()
	s, err := plugins.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func vectors(n int) []features.Vector {
	vs := make([]features.Vector, n)
	for i := range vs {
		v := &vs[i]
		v.StartNs, v.EndNs = uint64(i)*100e6, uint64(i+1)*100e6
		for k := range v.Values {
			v.Values[k] = math.NaN()
		}
		v.Values[features.PSICPUSomePct] = 30
		v.Values[features.RunqLatencyP99Us] = 100 + float64(i%5)
		v.Values[features.PSIMemSomePct] = 40
		v.Values[features.MemAvailableMB] = 200
	}
	return vs
}

// TestPredictScores: with the example detector loaded, every predict
// Output carries its two scores beside the built-in ones, and its JSON
// (what --tap predict writes) shows them; a trapping detector beside it
// is disabled, logged and counted, and the others go on.
func TestPredictScores(t *testing.T) {
	var log bytes.Buffer
	s := open(t, plugins.Options{Dirs: []string{install(t, "pressure", "trap")}, Logger: logger(&log)})
	st, err := predict.New(predict.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	p := s.Predict(st)
	out := p.Process(vectors(10), nil)
	for i, o := range out {
		want := 2 // the trap detector scores twice, then traps
		if i < 2 {
			want = 3
		}
		if o.NPlugin != want || o.Plugin[0].Name != "pressure.pressure_surge" || o.Plugin[1] != (predict.PluginScore{Name: "pressure.cpu_starved", Score: 0.3}) {
			t.Fatalf("window %d: plugin scores %v", i, o.Plugin[:o.NPlugin])
		}
	}
	js := string(out[9].AppendJSON(nil))
	if !strings.HasSuffix(js, `,"plugins":{"pressure.pressure_surge":0,"pressure.cpu_starved":0.3}}`) {
		t.Fatalf("JSON ends %q", js[len(js)-90:])
	}
	loaded, disabled, refused := s.Counts()
	if loaded != 1 || disabled != 1 || refused != 0 {
		t.Fatalf("counts loaded %d disabled %d refused %d", loaded, disabled, refused)
	}
	if !strings.Contains(log.String(), "plugin disabled") || !strings.Contains(log.String(), "index out of range") {
		t.Fatalf("log: %s", log.String())
	}
	for _, ps := range s.Status() {
		if ps.Name == "trap" && (ps.State != plugins.Disabled || !strings.Contains(ps.Reason, "panic")) {
			t.Fatalf("trap status %+v", ps)
		}
		if ps.Name == "pressure" && (ps.State != plugins.Loaded || ps.Calls != 10 || ps.CPUSec <= 0) {
			t.Fatalf("pressure status %+v", ps)
		}
	}
}

// TestTuneAdvice: without Act a tuner's proposal becomes advice, with the
// plugin named as the policy; with Act it is the proposed action.
func TestTuneAdvice(t *testing.T) {
	for _, act := range []bool{false, true} {
		s := open(t, plugins.Options{Dirs: []string{install(t, "swappiness")}, Act: act})
		ts, err := tune.New(tune.Config{})
		if err != nil {
			t.Fatal(err)
		}
		p := s.Tune(ts)
		in := make([]predict.Output, 12)
		for i, v := range vectors(12) {
			in[i].Vector = v
		}
		out := p.Process(in, nil)
		var got []string
		for _, w := range out {
			for _, d := range w.Dec[:w.NDec] {
				if d.Policy == "plugin:swappiness" {
					got = append(got, d.Action.String()+" | "+d.Reason)
				}
			}
		}
		want := "notify | advice: would sysctl vm.swappiness -= 10: psi mem some 40.0%"
		if act {
			want = "sysctl vm.swappiness -= 10 | sysctl vm.swappiness -= 10: psi mem some 40.0%"
		}
		if len(got) != 1 || !strings.HasPrefix(got[0], want) {
			t.Fatalf("act %v: decisions %q, want one starting %q", act, got, want)
		}
	}
}

// TestReload: an unchanged plugin keeps its instance; a plugin file
// replaced by a broken one keeps the old plugin running and the new file
// is refused with the reason; a removed file unloads its plugin.
func TestReload(t *testing.T) {
	dir := install(t, "pressure")
	s := open(t, plugins.Options{Dirs: []string{dir}})
	st, _ := predict.New(predict.DefaultConfig())
	p := s.Predict(st)
	p.Process(vectors(3), nil)
	if err := s.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.Status(); len(got) != 1 || got[0].Calls != 3 {
		t.Fatalf("after an unchanged reload: %+v", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "pressure.wasm"), []byte("\x00asm garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := s.Status()
	if len(got) != 2 || got[0].Name != "pressure" || got[0].State != plugins.Loaded || got[0].Calls != 3 ||
		got[1].State != plugins.Refused || !strings.Contains(got[1].Reason, "compile") ||
		!strings.HasPrefix(got[1].Reason, "reload refused: ") || !strings.HasSuffix(got[1].Reason, "; version 1.0.0 keeps running") {
		t.Fatalf("after a broken reload: %+v", got)
	}
	if out := p.Process(vectors(1), nil); out[0].NPlugin != 2 {
		t.Fatalf("old plugin not running after a broken reload: %d scores", out[0].NPlugin)
	}
	os.Remove(filepath.Join(dir, "pressure.wasm"))
	if err := s.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.Status(); len(got) != 0 {
		t.Fatalf("after removing the file: %+v", got)
	}
}

// TestDuplicateName: two files with the same plugin name: the first
// directory wins, the other is refused naming both.
func TestDuplicateName(t *testing.T) {
	s := open(t, plugins.Options{Dirs: []string{install(t, "pressure"), install(t, "pressure")}})
	got := s.Status()
	if len(got) != 2 || got[1].State != plugins.Refused || !strings.Contains(got[1].Reason, `plugin "pressure" is already loaded from`) {
		t.Fatalf("%+v", got)
	}
}

// TestBadDirectory: a missing directory holds no plugins; a file where a
// directory should be is an error naming it.
func TestBadDirectory(t *testing.T) {
	s := open(t, plugins.Options{Dirs: []string{filepath.Join(t.TempDir(), "none")}})
	if len(s.Status()) != 0 {
		t.Fatal("plugins from a missing directory")
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := plugins.Open(context.Background(), plugins.Options{Dirs: []string{f}}); err == nil || !strings.Contains(err.Error(), "read plugin directory") {
		t.Fatalf("err = %v", err)
	}
}
