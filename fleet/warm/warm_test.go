package warm_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ainka/ainka/fleet/warm"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
)

// golden reads a trace's feature vectors (testdata/golden).
func golden(t testing.TB, name string) []features.Vector {
	t.Helper()
	f, err := os.Open("../../testdata/golden/" + name + ".features.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []features.Vector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		var v features.Vector
		for i := range v.Values {
			v.Values[i] = math.NaN()
		}
		for k, x := range m {
			if id, ok := features.Lookup(k); ok {
				if f, isNum := x.(float64); isNum {
					v.Values[id] = f
				}
			}
		}
		out = append(out, v)
	}
	return out
}

// feed runs n windows of vs (cycled) through s from window index at,
// returning the outputs.
func feed(s *predict.Stage, vs []features.Vector, at, n int) []predict.Output {
	in := make([]features.Vector, n)
	for i := range in {
		in[i] = vs[i%len(vs)]
		in[i].StartNs = uint64(at+i) * 100e6
		in[i].EndNs = uint64(at+i+1) * 100e6
	}
	return s.Process(in, nil)
}

// learned saves a model of n windows of idle to dir/name.
func learned(t testing.TB, dir, name string, n int) string {
	t.Helper()
	cfg := predict.DefaultConfig()
	cfg.ModelPath = filepath.Join(dir, name)
	s, err := predict.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	feed(s, golden(t, "idle"), 0, n)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	return cfg.ModelPath
}

func samples(t *testing.T, path string) int64 {
	mi, err := predict.ReadModelInfo(path)
	if err != nil {
		t.Fatal(err)
	}
	return mi.Samples[features.CPUBusyPct]
}

// Import into an empty place takes the model; into a host that learned
// longer it takes nothing; a host that learned less is seeded.
func TestExportImportMerge(t *testing.T) {
	dir := t.TempDir()
	long := learned(t, dir, "long.model", 400)
	short := learned(t, dir, "short.model", 50)
	here := warm.HostFacts()
	b, err := warm.Export(warm.Paths{Predict: long}, here, "src")
	if err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, "fresh", "model")
	r, err := warm.Import(b, warm.Paths{Predict: fresh}, here)
	if err != nil || !r.Predict.Created || samples(t, fresh) != 400 {
		t.Fatalf("import into nothing: %+v, %v, %d samples", r, err, samples(t, fresh))
	}
	if r, err = warm.Import(b, warm.Paths{Predict: short}, here); err != nil || r.Predict.Features == 0 || samples(t, short) != 400 {
		t.Fatalf("import into a shorter-learned host: %+v, %v, %d samples", r, err, samples(t, short))
	}
	b2, _ := warm.Export(warm.Paths{Predict: learned(t, dir, "tiny.model", 20)}, here, "src2")
	if r, err = warm.Import(b2, warm.Paths{Predict: long}, here); err != nil || r.Predict.Features != 0 || r.Predict.Joint || samples(t, long) != 400 {
		t.Fatalf("a shorter-learned seed must not overwrite: %+v, %v, %d samples", r, err, samples(t, long))
	}
	if !strings.Contains(r.String(), "detectors of 0 features taken") {
		t.Errorf("report %q", r.String())
	}
}

// Every bad bundle is refused naming the problem, and nothing is written.
func TestImportRefusesBadBundles(t *testing.T) {
	dir := t.TempDir()
	src := learned(t, dir, "src.model", 200)
	dst := learned(t, dir, "dst.model", 20)
	before, _ := os.ReadFile(dst)
	here := warm.HostFacts()
	good, err := warm.Export(warm.Paths{Predict: src}, here, "src")
	if err != nil {
		t.Fatal(err)
	}
	other := func(f func(*warm.Facts)) []byte {
		x := here
		f(&x)
		b, _ := warm.Export(warm.Paths{Predict: src}, x, "src")
		return b
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)-10] ^= 0xff
	hdrLen := int(binary.LittleEndian.Uint32(good[8:]))
	v2 := bytes.Replace(bytes.Clone(good[:12+hdrLen]), []byte(`"version":1`), []byte(`"version":2`), 1)
	v2 = append(v2, good[12+hdrLen:]...)
	for _, c := range []struct {
		name string
		b    []byte
		want error
		msg  string
	}{
		{"garbage", []byte("hello, this is not a model"), warm.ErrCorrupt, "not an AINKA model bundle"},
		{"empty", nil, warm.ErrCorrupt, "not an AINKA model bundle"},
		{"truncated", good[:len(good)-100], warm.ErrCorrupt, "truncated"},
		{"header cut", good[:20], warm.ErrCorrupt, "header of"},
		{"flipped byte", flipped, warm.ErrCorrupt, "checksum mismatch"},
		{"other version", v2, warm.ErrIncompatible, "bundle format version 2"},
		{"other kernel", other(func(f *warm.Facts) { f.Kernel = "5.10.0-28-amd64" }), warm.ErrIncompatible, "kernel series: 5.10 vs"},
		{"other CPU count", other(func(f *warm.Facts) { f.CPUs = here.CPUs + 62 }), warm.ErrIncompatible, "CPUs, this host has"},
		{"other schema", other(func(f *warm.Facts) { f.Schema = "0123456789abcdef" }), warm.ErrIncompatible, "feature schema 0123456789abcdef"},
	} {
		_, err := warm.Import(c.b, warm.Paths{Predict: dst}, here)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %v naming %q", c.name, err, c.want, c.msg)
		}
	}
	if after, _ := os.ReadFile(dst); !bytes.Equal(before, after) {
		t.Error("a refused import changed the model file")
	}
	if _, err := warm.Export(warm.Paths{Predict: filepath.Join(dir, "none")}, here, "x"); !errors.Is(err, warm.ErrNoModel) {
		t.Errorf("export of nothing: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "bad.model"), []byte("AINKAMDL garbage"), 0o644)
	if _, err := warm.Export(warm.Paths{Predict: filepath.Join(dir, "bad.model")}, here, "x"); !errors.Is(err, predict.ErrCorrupt) {
		t.Errorf("export of a damaged model: %v", err)
	}
}

// The command line: export then import through Command, and its usage
// errors.
func TestCommand(t *testing.T) {
	dir := t.TempDir()
	src := learned(t, dir, "src.model", 200)
	bundle := filepath.Join(dir, "b", "db.ainka-model")
	var out bytes.Buffer
	ctx := context.Background()
	if err := warm.Command(ctx, []string{"export", "--model-path", src, "--tuner-model-path", filepath.Join(dir, "none"), "--out", bundle}, &out); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "dst.model")
	if err := warm.Command(ctx, []string{"import", bundle, "--model-path", dst, "--json"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"Created":true`) {
		t.Errorf("output %s", out.String())
	}
	for _, args := range [][]string{nil, {"frobnicate"}, {"export", "--model-path", src}, {"import", "--model-path", dst}, {"info", "x", "--model-path", src}, {"import", "--bogus"}} {
		if err := warm.Command(ctx, args, &out); !errors.Is(err, warm.ErrUsage) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
	if err := warm.Command(ctx, []string{"import", filepath.Join(dir, "missing"), "--model-path", dst}, &out); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("import of a missing file: %v", err)
	}
}

// detect returns the first window (counted from the injection) whose
// joint score, or any feature's score, reaches 0.5 (about a 1e-5 tail),
// or -1.
func detect(outs []predict.Output) (joint, feature int) {
	joint, feature = -1, -1
	for i, o := range outs {
		if joint < 0 && o.Joint >= 0.5 {
			joint = i
		}
		for _, s := range o.Score {
			if feature < 0 && s >= 0.5 {
				feature = i
			}
		}
	}
	return joint, feature
}

// A host seeded with the model another host learned on the same workload
// detects a change of workload (idle → a CPU-bound stress-ng, real
// feature vectors of testdata/golden) earlier, in windows, than a host
// that starts cold: the warm start the fleet's seed_model is for.
func TestWarmHostDetectsEarlier(t *testing.T) {
	const learn, before, after = 600, 30, 120
	dir := t.TempDir()
	src := learned(t, dir, "src.model", learn)
	b, err := warm.Export(warm.Paths{Predict: src}, warm.HostFacts(), "src")
	if err != nil {
		t.Fatal(err)
	}
	warmPath := filepath.Join(dir, "warm.model")
	if _, err := warm.Import(b, warm.Paths{Predict: warmPath}, warm.HostFacts()); err != nil {
		t.Fatal(err)
	}
	idle, cpu := golden(t, "idle"), golden(t, "cpu")
	run := func(path string) (int, int) {
		cfg := predict.DefaultConfig()
		cfg.ModelPath = path
		s, err := predict.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		feed(s, idle, 0, before)
		return detect(feed(s, cpu, before, after))
	}
	wj, wf := run(warmPath)
	cj, cf := run("")
	t.Logf("anomaly injected after %d idle windows; seeded with %d windows learned on another host: joint score ≥ 0.5 at window %d, a feature's at %d; cold: %d and %d (-1: not within %d windows)",
		before, learn, wj, wf, cj, cf, after)
	earlier := func(w, c int) bool { return w >= 0 && (c < 0 || w < c) }
	if !earlier(wj, cj) && !earlier(wf, cf) {
		t.Errorf("the warm host detected no earlier than the cold one: warm %d/%d, cold %d/%d", wj, wf, cj, cf)
	}
}
