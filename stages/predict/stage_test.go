package predict

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict/anomaly"
	"github.com/ainka/ainka/stages/predict/forecast"
)

// vectors makes n windows of 100 ms with seasonal noise on every feature
// (each feature its own level), from a fixed seed. Feature PSIIOFullPct is
// always missing.
func vectors(n int, seed uint64) []features.Vector {
	r := rand.New(rand.NewPCG(seed, 3))
	out := make([]features.Vector, n)
	for k := range out {
		v := &out[k]
		v.StartNs = uint64(k) * 100e6
		v.EndNs = v.StartNs + 100e6
		for i := range v.Values {
			lvl := float64(10 * (i + 1))
			v.Values[i] = lvl + lvl/10*math.Sin(2*math.Pi*float64(k)/50) + r.NormFloat64()*lvl/50
		}
		v.Values[features.PSIIOFullPct] = math.NaN()
	}
	return out
}

func newStage(t testing.TB, mod func(*Config)) *Stage {
	t.Helper()
	c := DefaultConfig()
	if mod != nil {
		mod(&c)
	}
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func run(s *Stage, in []features.Vector) []Output {
	var out []Output
	for k := 0; k < len(in); k += 64 {
		out = s.Process(in[k:min(k+64, len(in))], out)
	}
	return out
}

func TestProcess(t *testing.T) {
	in := vectors(3000, 1)
	in[2500].Values[features.CPUBusyPct] *= 3
	s := newStage(t, nil)
	out := run(s, in)
	if len(out) != len(in) {
		t.Fatalf("%d outputs for %d inputs", len(out), len(in))
	}
	for k, o := range out {
		if o.Vector != in[k] && !(math.IsNaN(o.Vector.Values[features.PSIIOFullPct])) {
			t.Fatalf("window %d: vector not copied", k)
		}
		if !math.IsNaN(o.Score[features.PSIIOFullPct]) || !math.IsNaN(o.Forecast[features.PSIIOFullPct].Value) {
			t.Fatalf("window %d: missing feature scored %v / forecast %v, want NaN", k, o.Score[features.PSIIOFullPct], o.Forecast[features.PSIIOFullPct])
		}
		for i, sc := range o.Score {
			if i != int(features.PSIIOFullPct) && !(sc >= 0 && sc <= 1) {
				t.Fatalf("window %d feature %d: score %v", k, i, sc)
			}
		}
		if !(o.Joint >= 0) || math.IsInf(o.Joint, 0) {
			t.Fatalf("window %d: joint %v", k, o.Joint)
		}
		if o.HorizonNs != 1e9 {
			t.Fatalf("horizon %d ns, want 1e9 (1 s)", o.HorizonNs)
		}
	}
	if sc := out[2500].Score[features.CPUBusyPct]; sc < 0.65 {
		t.Errorf("tripled cpu_busy_pct scored %v, want >= 0.65", sc)
	}
	quiet := 0
	for k := 1000; k < 2500; k++ {
		if out[k].Score[features.SyscallsPerS] >= 0.65 {
			quiet++
		}
	}
	if quiet > 0 {
		t.Errorf("%d alarms on clean syscalls_per_s", quiet)
	}
}

// The joint score catches a combination that no feature shows alone: every
// feature follows the same daily-like cycle, and for a while half of them
// run against it, each staying inside its usual range. The cluster model
// sees it; the host alarm's deviations alone do not reach an alarm point.
func TestJointCatchesBrokenCorrelation(t *testing.T) {
	in := vectors(3000, 14)
	breakCorrelation(in, 2500, 2540)
	s := newStage(t, nil)
	out := run(s, in)
	if first := firstJoint(out, 2400, 2600); first < 2500 || first > 2520 {
		t.Errorf("joint: first detection at %d, want within [2500, 2520]", first)
	}
	for k := 1000; k < 2500; k++ {
		if out[k].Joint >= jointAlarm {
			t.Errorf("joint false alarm at %d: %v", k, out[k].Joint)
			break
		}
		if out[k].Alarm.Joint >= jointAlarm {
			t.Errorf("window %d: the alarm's deviations alone reach %v", k, out[k].Alarm.Joint)
			break
		}
	}
}

// jointAlarm is a joint score of one alarm point.
const jointAlarm = 1

// breakCorrelation makes half of the features run against the common
// cycle in windows [from, to), each staying inside its usual range.
func breakCorrelation(in []features.Vector, from, to int) {
	for k := from; k < to; k++ {
		for i := 0; i < int(features.Count); i += 2 {
			lvl := float64(10 * (i + 1))
			in[k].Values[i] -= 2 * lvl / 10 * math.Sin(2*math.Pi*float64(k)/50)
		}
	}
}

// firstJoint is the first window in [from, to) whose joint score is an
// alarm, or -1.
func firstJoint(out []Output, from, to int) int {
	for k := from; k < to; k++ {
		if out[k].Joint >= jointAlarm {
			return k
		}
	}
	return -1
}

func TestProcessAllMissing(t *testing.T) {
	s := newStage(t, nil)
	var v features.Vector
	for i := range v.Values {
		v.Values[i] = math.NaN()
	}
	out := s.Process([]features.Vector{v}, nil)
	if !math.IsNaN(out[0].Joint) {
		t.Errorf("joint of an empty vector = %v, want NaN", out[0].Joint)
	}
	b := out[0].AppendJSON(nil)
	if !json.Valid(b) {
		t.Errorf("invalid JSON: %s", b)
	}
}

func TestAppendJSON(t *testing.T) {
	s := newStage(t, nil)
	out := run(s, vectors(20, 2))
	b := out[19].AppendJSON(nil)
	if !json.Valid(b) {
		t.Fatalf("invalid JSON: %s", b)
	}
	if !bytes.HasPrefix(b, []byte(`{"start_ns":1900000000,"end_ns":2000000000,"horizon_ns":1000000000,"joint_score":`)) {
		t.Errorf("key order: %.100s", b)
	}
	if !strings.Contains(string(b), `"psi_io_full_pct":{"value":null,"score":null,"forecast":null,"lo":null,"hi":null}`) {
		t.Errorf("missing feature not null: %s", b)
	}
	var m struct {
		Features map[string]struct {
			Value, Score, Forecast, Lo, Hi *float64
		}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Features) != int(features.Count) {
		t.Errorf("%d features in JSON, want %d", len(m.Features), features.Count)
	}
	if f := m.Features["syscalls_per_s"]; f.Value == nil || *f.Value != out[19].Vector.Values[0] {
		t.Errorf("syscalls_per_s value %v, want %v", f.Value, out[19].Vector.Values[0])
	}
	if !bytes.Equal(b, out[19].AppendJSON(nil)) {
		t.Error("AppendJSON not deterministic")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		key string
		mod func(*Config)
	}{
		{"collection_interval_ms", func(c *Config) { c.Window = 0 }},
		{"learning_rate", func(c *Config) { c.LearningRate = 0 }},
		{"learning_rate", func(c *Config) { c.LearningRate = math.NaN() }},
		{"batch_size", func(c *Config) { c.BatchSize = 0 }},
		{"training_interval_sec", func(c *Config) { c.TrainingIntervalSec = -1 }},
		{"prediction_window_sec", func(c *Config) { c.PredictionWindowSec = 0 }},
		{"boot_offset_ns", func(c *Config) { c.BootOffsetNs = -1 }},
		{"prediction_window_sec", func(c *Config) { c.PredictionWindowSec = 1000 }},
	} {
		cfg := DefaultConfig()
		c.mod(&cfg)
		_, err := New(cfg)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s: err = %v, want ErrConfig naming the key", c.key, err)
		}
	}
}

// Each [ml] key changes behaviour as its name says.

func TestLearningRate(t *testing.T) {
	// After a level shift the faster learner's baseline reaches the new
	// level sooner.
	in := vectors(1500, 4)
	r := rand.New(rand.NewPCG(4, 4))
	for k := range in {
		in[k].Values[features.CPUBusyPct] = 180 + r.NormFloat64()
		if k >= 1000 {
			in[k].Values[features.CPUBusyPct] += 50
		}
	}
	slow := newStage(t, func(c *Config) { c.LearningRate = 0.01 })
	fast := newStage(t, func(c *Config) { c.LearningRate = 0.3 })
	run(slow, in[:1020])
	run(fast, in[:1020])
	target := 180 + 50.0
	ds := math.Abs(slow.det[features.CPUBusyPct].S.Fast.Mean - target)
	df := math.Abs(fast.det[features.CPUBusyPct].S.Fast.Mean - target)
	if !(df < 2 && ds > 20) {
		t.Errorf("20 windows after the shift: baseline off by %.1f (rate 0.3) and %.1f (rate 0.01)", df, ds)
	}
}

func TestBatchSize(t *testing.T) {
	in := vectors(400, 5)
	s := newStage(t, func(c *Config) { c.BatchSize = 50 })
	fc := &s.fc[features.SyscallsPerS]
	prev := fc.S.W
	changes := 0
	for k := range in {
		s.Process(in[k:k+1], nil)
		if fc.S.W != prev {
			changes++
			prev = fc.S.W
			if fc.S.N <= int64(s.horizon) || (fc.S.N-int64(s.horizon))%50 != 0 {
				t.Fatalf("coefficients changed at window %d, not at a batch end", k)
			}
		}
	}
	if changes < 5 {
		t.Errorf("coefficients changed %d times in 400 windows with batch 50", changes)
	}
}

func TestTrainingInterval(t *testing.T) {
	in := vectors(3000, 6) // 300 s of windows
	s := newStage(t, func(c *Config) { c.TrainingIntervalSec = 60 })
	l := &s.det[features.SyscallsPerS].S.LikeFast
	commits := 0
	prev := l.UseMean
	for k := range in {
		s.Process(in[k:k+1], nil)
		if l.UseMean != prev {
			prev = l.UseMean
			if in[k].EndNs > 61e9 {
				commits++
				if (in[k].EndNs-100e6)%60e9 != 0 {
					t.Fatalf("calibration changed at %d ns, not on a 60 s boundary", in[k].EndNs)
				}
			}
		}
	}
	if commits != 3 {
		t.Errorf("%d re-estimations after the first minute (at 120.1, 180.1, 240.1 s), want 3", commits)
	}
	// With 0 the calibration follows every window.
	s0 := newStage(t, func(c *Config) { c.TrainingIntervalSec = 0 })
	l0 := &s0.det[features.SyscallsPerS].S.LikeFast
	changes := 0
	prev = l0.UseMean
	for k := range in[:1000] {
		s0.Process(in[k:k+1], nil)
		if l0.UseMean != prev {
			changes++
			prev = l0.UseMean
		}
	}
	if changes < 900 {
		t.Errorf("interval 0: calibration changed in %d of 1000 windows", changes)
	}
}

func TestPredictionWindow(t *testing.T) {
	// A ramp: the forecast h windows ahead is the value h windows later.
	for _, sec := range []float64{0.5, 2} {
		s := newStage(t, func(c *Config) { c.PredictionWindowSec = sec })
		h := sec / 0.1
		var v features.Vector
		var o []Output
		for k := 0; k < 2000; k++ {
			for i := range v.Values {
				v.Values[i] = float64(k)
			}
			v.EndNs = uint64(k+1) * 100e6
			o = s.Process([]features.Vector{v}, o[:0])
		}
		got := o[0].Forecast[0].Value
		if math.Abs(got-(1999+h)) > 0.5 {
			t.Errorf("prediction_window_sec %v: forecast %v at 1999, want %v", sec, got, 1999+h)
		}
		if o[0].HorizonNs != uint64(sec*1e9) {
			t.Errorf("prediction_window_sec %v: horizon_ns %d", sec, o[0].HorizonNs)
		}
	}
}

func TestOnlineLearningOff(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.bin")
	a := newStage(t, func(c *Config) { c.ModelPath = path })
	run(a, vectors(1000, 7))
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	b := newStage(t, func(c *Config) { c.ModelPath = path; c.EnableOnlineLearning = false })
	before := b.det[3].S.Fast
	beforeFc := b.fc[3].S.W
	in := vectors(500, 8)
	for k := range in {
		in[k].Values[3] += 100 // a new regime a learner would adapt to
	}
	out := run(b, in)
	if b.det[3].S.Fast != before || b.fc[3].S.W != beforeFc {
		t.Error("model changed with enable_online_learning = false")
	}
	if out[499].Score[3] == 0 && out[100].Score[3] == 0 && out[0].Score[3] < 0.65 {
		t.Error("frozen model does not flag the new regime")
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "model.bin")
	in := vectors(2000, 9)
	a := newStage(t, func(c *Config) { c.ModelPath = path })
	run(a, in[:1200])
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	b := newStage(t, func(c *Config) { c.ModelPath = path })
	if err := b.LoadError(); err != nil {
		t.Fatal(err)
	}
	if b.Processed() != 1200 {
		t.Errorf("loaded model processed %d, want 1200", b.Processed())
	}
	// Learning resumes exactly where it stopped: the same inputs give
	// bit-identical outputs.
	oa, ob := run(a, in[1200:]), run(b, in[1200:])
	for k := range oa {
		ja, jb := oa[k].AppendJSON(nil), ob[k].AppendJSON(nil)
		if !bytes.Equal(ja, jb) {
			t.Fatalf("window %d differs after reload:\n%s\n%s", k, ja, jb)
		}
	}
	mi, err := ReadModelInfo(path)
	if err != nil {
		t.Fatal(err)
	}
	if mi.Processed != 1200 || mi.Samples[0] != 1200 || mi.Samples[features.PSIIOFullPct] != 0 || mi.Horizon != 10 {
		t.Errorf("model info %+v", mi)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("temp files left beside the model: %v", ents)
	}
	// A model saved with another horizon keeps its anomaly state.
	c := newStage(t, func(c *Config) { c.ModelPath = path; c.PredictionWindowSec = 2 })
	if c.LoadError() != nil || c.det[0].S.N != 1200 || c.fc[0].S.N != 0 {
		t.Errorf("other horizon: err %v, detector N %d, forecaster N %d", c.LoadError(), c.det[0].S.N, c.fc[0].S.N)
	}
}

func TestBadModelFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.bin")
	s := newStage(t, func(c *Config) { c.ModelPath = good })
	run(s, vectors(100, 10))
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(good)
	cases := []struct {
		name string
		data []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrCorrupt, "shorter than"},
		{"truncated", b[:len(b)/2], ErrCorrupt, "header says"},
		{"bit flip", flip(b, len(b)-100), ErrCorrupt, "checksum"},
		{"foreign", bytes.Repeat([]byte("x"), 4096), ErrCorrupt, "bad magic"},
		{"future version", flip(b, 8), ErrIncompatible, "format version"},
		{"older version", version(b, 1), ErrIncompatible, "format version 1"},
		{"other feature count", flip(b, 12), ErrIncompatible, "features"},
	}
	for _, c := range cases {
		p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
		os.WriteFile(p, c.data, 0o644)
		if _, err := ReadModelInfo(p); !errors.Is(err, c.want) {
			t.Errorf("%s: ReadModelInfo err = %v", c.name, err)
		}
		st := newStage(t, func(cfg *Config) { cfg.ModelPath = p })
		err := st.LoadError()
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: LoadError = %v, want %v mentioning %q and the path", c.name, err, c.want, c.msg)
		}
		if st.Processed() != 0 {
			t.Errorf("%s: not a fresh start", c.name)
		}
		// Set aside, not overwritten by the next save: the message says
		// where it went, and the bytes are all there.
		aside, _ := os.ReadFile(p + ".unusable")
		if _, errStat := os.Stat(p); !os.IsNotExist(errStat) || !bytes.Equal(aside, c.data) || !strings.Contains(err.Error(), "set aside as "+p+".unusable") {
			t.Errorf("%s: model not set aside as %s.unusable (%v); message %v", c.name, p, errStat, err)
		}
	}
	if _, err := ReadModelInfo(filepath.Join(dir, "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
	if st := newStage(t, func(c *Config) { c.ModelPath = filepath.Join(dir, "absent") }); st.LoadError() != nil {
		t.Errorf("absent model file is an error: %v", st.LoadError())
	}
	if err := newStage(t, nil).Save(); !errors.Is(err, ErrNoModelPath) {
		t.Errorf("Save without model_path: %v", err)
	}
}

// version returns a copy of model file b claiming format version v.
func version(b []byte, v uint32) []byte {
	c := bytes.Clone(b)
	c[8], c[9], c[10], c[11] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	return c
}

func flip(b []byte, at int) []byte {
	c := bytes.Clone(b)
	c[at] ^= 0x40
	return c
}

func TestReset(t *testing.T) {
	in := vectors(500, 11)
	a := newStage(t, nil)
	run(a, in)
	a.Reset()
	if a.Processed() != 0 || a.det[0].S.N != 0 || a.fc[0].S.N != 0 || a.joint.S.Used != 0 {
		t.Fatal("Reset left learned state")
	}
	fresh := newStage(t, nil)
	oa, of := run(a, in), run(fresh, in)
	for k := range oa {
		if !bytes.Equal(oa[k].AppendJSON(nil), of[k].AppendJSON(nil)) {
			t.Fatalf("window %d: reset stage differs from a fresh one", k)
		}
	}
}

// Save and Reset from other goroutines while Process runs (go test -race).
func TestConcurrentSaveReset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.bin")
	s := newStage(t, func(c *Config) { c.ModelPath = path })
	in := vectors(2000, 12)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 5; i++ {
			if err := s.Save(); err != nil {
				t.Error(err)
			}
			s.Reset()
			time.Sleep(time.Millisecond)
		}
	}()
	run(s, in)
	wg.Wait()
	if _, err := ReadModelInfo(path); err != nil {
		t.Error(err)
	}
}

func BenchmarkProcess(b *testing.B) { benchProcess(b, 0) }

// BenchmarkProcessWallClock: the same with the time-of-week baseline.
func BenchmarkProcessWallClock(b *testing.B) { benchProcess(b, monday) }

func benchProcess(b *testing.B, offset int64) {
	in := vectors(4096, 13)
	s := newStage(b, func(c *Config) { c.BootOffsetNs = offset })
	out := make([]Output, 0, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := (i * 64) & 4095
		// Event time must move on when the input wraps around, or every
		// window after the first pass is skipped as one from the past
		// (and the benchmark measures the skip).
		for j := k; j < k+64; j++ {
			in[j].StartNs = uint64(i*64+j-k) * 100e6
			in[j].EndNs = in[j].StartNs + 100e6
		}
		out = s.Process(in[k:k+64], out[:0])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/64, "ns/vector")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/64/float64(features.Count), "ns/feature")
}

// TestMemoryPerSeries reports the fixed memory of each learner (go test -v);
// docs/predict.md quotes it. It fails if a learner grows past its budget.
func TestMemoryPerSeries(t *testing.T) {
	det := unsafe.Sizeof(anomaly.Detector{})
	fc := unsafe.Sizeof(forecast.Forecaster{})
	nn := unsafe.Sizeof(forecast.Net{})
	st := unsafe.Sizeof(Stage{})
	t.Logf("per series: anomaly detector %d B, forecaster %d B, neural forecaster %d B; whole stage (%d features + joint) %d B", det, fc, nn, features.Count, st)
	if det > 32<<10 || fc > 32<<10 || nn > 16<<10 {
		t.Errorf("per-series memory %d + %d + %d B, budget 32, 32 and 16 KiB", det, fc, nn)
	}
	// The model file: the budget is 4 MiB; with 30 features (the
	// budget's feature count) it would be the size of 30/Count of this
	// one's learners plus the joint model.
	path := filepath.Join(t.TempDir(), "model.bin")
	s := newStage(t, func(c *Config) { c.ModelPath = path })
	run(s, vectors(50, 1))
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	per30 := fi.Size() * 30 / int64(features.Count)
	t.Logf("model file %d B for %d features (about %d B for 30)", fi.Size(), features.Count, per30)
	if per30 > 4<<20 {
		t.Errorf("model file %d B for %d features, over 4 MiB scaled to 30 features", fi.Size(), features.Count)
	}
}

// monday is the boot offset that puts event time 0 at Monday 2026-11-23
// 00:00 UTC.
var monday = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC).UnixNano()

// dailyVectors: 5-minute windows over two weeks, every feature a daily
// cycle with noise; from day shiftDay on, the cycle runs three hours late
// (every value is a usual one and every step a usual step: only the time
// of day is wrong).
func dailyVectors(shiftDay int) []features.Vector {
	const step = 5 * 60 * 1e9
	r := rand.New(rand.NewPCG(21, 5))
	out := make([]features.Vector, 14*288)
	for k := range out {
		v := &out[k]
		v.StartNs = uint64(k) * step
		v.EndNs = v.StartNs + step
		hours := float64(k) / 12
		if k >= shiftDay*288 {
			hours -= 3
		}
		for i := range v.Values {
			lvl := float64(10 * (i + 1))
			v.Values[i] = lvl + lvl/4*math.Sin(2*math.Pi*hours/24) + r.NormFloat64()*lvl/100
		}
	}
	return out
}

// With the boot offset the stage knows the time of day and flags a daily
// cycle running three hours late; without it, it cannot, and neither
// raises an alarm on the clean days before.
func TestBootOffsetTimeOfWeek(t *testing.T) {
	const shiftDay = 10 // a Thursday
	in := dailyVectors(shiftDay)
	for _, c := range []struct {
		offset int64
		want   bool
	}{{monday, true}, {0, false}} {
		s := newStage(t, func(cfg *Config) {
			cfg.Window = 5 * time.Minute
			cfg.BootOffsetNs = c.offset
		})
		out := run(s, in)
		f := features.CPUBusyPct
		clean, shifted := 0, 0
		for k := 7 * 288; k < len(out); k++ {
			if out[k].Score[f] >= 0.65 {
				if k < shiftDay*288 {
					clean++
				} else {
					shifted++
				}
			}
		}
		if clean > 0 {
			t.Errorf("offset %d: %d alarms on clean days 7-9", c.offset, clean)
		}
		if (shifted > 0) != c.want {
			t.Errorf("offset %d: %d alarms on the shifted days, want alarms: %v", c.offset, shifted, c.want)
		}
	}
}

// The wall-clock bucket is derived from event time + offset, in UTC.
func TestConfigBucket(t *testing.T) {
	c := DefaultConfig()
	if b := c.bucket(123); b != -1 {
		t.Errorf("no offset: bucket %d, want -1", b)
	}
	c.BootOffsetNs = monday
	// Monday 13:40 UTC is the 28th half hour of a weekday.
	if b := c.bucket(uint64((13*60 + 40) * 60e9)); b != 27 {
		t.Errorf("Monday 13:40: bucket %d, want 27", b)
	}
	// Saturday 00:10 is the first half hour of a weekend day.
	if b := c.bucket(uint64((5*24*60 + 10) * 60e9)); b != 48 {
		t.Errorf("Saturday 00:10: bucket %d, want 48", b)
	}
}
