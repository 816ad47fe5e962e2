package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func init() {
	register(Spec{
		Name:    "readahead",
		Summary: "fio buffered 4 KiB reads (psync) of a loop device (losetup --direct-io=on, backing file on the real disk), phases alternating sequential and random, each reading a region of its own once (never wrapping into the page cache), the device's cache flushed before each phase",
		// 40 %: since the phases stopped re-reading the page cache, the
		// random phases are disk-bound on a shared disk; one 15 s run at
		// read_ahead_kb 2560 read them at 4.7-8.9 MiB/s, another at
		// 11.7-17.3 (2×), and the geometric mean moves by √2 with them.
		Primary: MetricSpec{Name: "geomean_mib_s", Unit: "MiB/s", NoiseFloor: 0.4},
		// throughput-performance raises readahead to ≥ 4096 KiB on disks.
		TunedProfile: "throughput-performance",
		Knob: Knob{Name: "read_ahead_kb", Values: []string{"16", "128", "1024", "8192"},
			QuickValues: []string{"16", "8192"}},
		Tools: []string{"fio", "losetup"},
		New:   func() Scenario { return &readahead{} },
	})
}

type readahead struct {
	dev    string // /dev/loopN
	origRA string // before attaching (an arm's daemon may have changed it already)
	setRA  string // after attaching (and the oracle's write): what an arm must leave
	// detached is the value the detach itself left, when the value before
	// it was setRA: the loop driver recomputes its limits on detach and
	// raises a smaller readahead to the one it derives (16 → 2560 after
	// oracle 16, with the value sampled unchanged all through the run).
	detached string
	raFile   string
	phaseLen time.Duration
	regions  []raRegion // where each phase reads (ralayout.go)
	phases   []raPhase
	marks    []Mark
	samples  []Point
}

type raPhase struct {
	kind    string // read or randread
	start   float64
	mibS    float64
	readPct float64 // of its region
	bw      []Point
}

func (r *readahead) Setup(ctx context.Context, env *Env) error {
	r.phaseLen = env.Duration / time.Duration(raPhases(env.Quick))
	r.regions = raLayout(raPhases(env.Quick), r.phaseLen)
	img, err := raImage(ctx, env.Dir, raImageBytes(raPhases(env.Quick), r.phaseLen))
	if err != nil {
		return err
	}
	// Attaching sets the device's readahead (the loop driver derives it
	// from the backing file's device) and detaching keeps it: read the
	// free device's value first, to put it back after the run (AfterArm).
	out, err := run(ctx, "losetup", "--find")
	if err != nil {
		return fmt.Errorf("readahead: losetup: %w", err)
	}
	r.dev = strings.TrimSpace(string(out))
	r.raFile = filepath.Join("/sys/block", filepath.Base(r.dev), "queue", "read_ahead_kb")
	if r.origRA, err = readTrim(r.raFile); err != nil {
		return err
	}
	if _, err := run(ctx, "losetup", "--direct-io=on", r.dev, img); err != nil {
		r.dev = ""
		return fmt.Errorf("readahead: losetup: %w", err)
	}
	if env.KnobValue != "" {
		if err := writeFile(r.raFile, env.KnobValue); err != nil {
			return err
		}
	}
	r.setRA, err = readTrim(r.raFile)
	return err
}

// Workload runs the phases back to back and samples the device's
// read_ahead_kb every 100 ms beside them: a change (by an arm) is a mark.
func (r *readahead) Workload(ctx context.Context, env *Env) error {
	n := len(r.regions)
	t0 := time.Now()
	stop := make(chan struct{})
	done := make(chan struct{})
	go r.watchKnob(t0, stop, done)
	defer func() { close(stop); <-done }()
	for i := 0; i < n; i++ {
		kind := "read"
		if i%2 == 1 {
			kind = "randread"
		}
		if err := flushBuffers(r.dev); err != nil {
			return err
		}
		start := time.Since(t0).Seconds()
		r.marks = append(r.marks, Mark{T: start, Label: "phase " + kind})
		ph, err := r.phase(ctx, env, kind, i)
		if err != nil {
			return err
		}
		ph.start = start
		r.phases = append(r.phases, ph)
	}
	if n := len(r.samples); n > 0 { // the knob's last value holds to the end
		r.samples = append(r.samples, Point{T: time.Since(t0).Seconds(), V: r.samples[n-1].V})
	}
	return nil
}

func (r *readahead) watchKnob(t0 time.Time, stop, done chan struct{}) {
	defer close(done)
	last, _ := readTrim(r.raFile)
	r.samples = append(r.samples, Point{T: 0, V: atof(last)})
	every(100*time.Millisecond, stop, func() {
		v, err := readTrim(r.raFile)
		if err != nil || v == last {
			return
		}
		t := time.Since(t0).Seconds()
		r.marks = append(r.marks, Mark{T: t, Label: "ra=" + v})
		r.samples = append(r.samples, Point{T: t, V: atof(v)})
		last = v
	})
}

// phase reads the phase's region once, for the phase's length at most
// (ralayout.go: never wrapping into what it has just cached).
func (r *readahead) phase(ctx context.Context, env *Env, kind string, i int) (raPhase, error) {
	logPrefix := filepath.Join(env.Dir, fmt.Sprintf("phase%d", i))
	reg := r.regions[i]
	out, err := run(ctx, "fio", "--name="+kind, "--filename="+r.dev, "--rw="+kind, "--bs=4k", "--ioengine=psync",
		"--direct=0", "--fadvise_hint=0", fmt.Sprintf("--offset=%d", reg.off), fmt.Sprintf("--size=%d", reg.size),
		fmt.Sprintf("--runtime=%dms", r.phaseLen.Milliseconds()),
		"--write_bw_log="+logPrefix, "--log_avg_msec=250", "--output-format=json")
	if err != nil {
		return raPhase{}, fmt.Errorf("readahead phase %d (%s): %w", i, kind, err)
	}
	jobs, err := parseFio(out)
	if err != nil {
		return raPhase{}, fmt.Errorf("readahead phase %d: %w", i, err)
	}
	rd := jobs[kind].Read
	ph := raPhase{kind: kind, mibS: rd.BW / 1024, readPct: 100 * float64(rd.IOBytes) / float64(reg.size)}
	ph.bw, err = readBWLog(logPrefix + "_bw.1.log")
	return ph, err
}

// readBWLog reads fio's bandwidth log: "msec, KiB/s, dir, bs, offset".
func readBWLog(path string) ([]Point, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fio bandwidth log: %w", err)
	}
	var pts []Point
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ",")
		if len(f) < 2 {
			continue
		}
		ms, err1 := strconv.ParseFloat(strings.TrimSpace(f[0]), 64)
		kib, err2 := strconv.ParseFloat(strings.TrimSpace(f[1]), 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("fio bandwidth log %s: bad line %q", path, l)
		}
		pts = append(pts, Point{T: ms / 1000, V: kib / 1024})
	}
	return pts, nil
}

func (r *readahead) Metric(env *Env) (*Figures, error) {
	f := newFigures()
	per := map[string][]float64{}
	var ttb []float64
	for i, ph := range r.phases {
		per[ph.kind] = append(per[ph.kind], ph.mibS)
		for _, p := range ph.bw {
			f.Series["MiB/s"] = append(f.Series["MiB/s"], Point{T: ph.start + p.T, V: p.V})
		}
		if i > 0 {
			tts := timeToSteady(ph.bw)
			ttb = append(ttb, tts)
			f.Values[fmt.Sprintf("phase%d_time_to_steady_s", i)] = tts
		}
		f.Values[fmt.Sprintf("phase%d_%s_mib_s", i, ph.kind)] = ph.mibS
		f.Values[fmt.Sprintf("phase%d_read_pct", i)] = ph.readPct
		// Where the phase starts and ends in the series: time to best
		// (timetobest.go) cuts the series per phase.
		f.Values[fmt.Sprintf("phase%d_start_s", i)] = ph.start
		if n := len(ph.bw); n > 0 {
			f.Values[fmt.Sprintf("phase%d_end_s", i)] = ph.start + ph.bw[n-1].T
		}
	}
	seq, rnd := summarize(per["read"]).Median, summarize(per["randread"]).Median
	if seq <= 0 || rnd <= 0 {
		return nil, fmt.Errorf("readahead: no throughput measured (seq %.3g, random %.3g MiB/s)", seq, rnd)
	}
	f.Values["seq_mib_s"], f.Values["rand_mib_s"] = seq, rnd
	f.Values["geomean_mib_s"] = math.Sqrt(seq * rnd)
	f.Values["time_to_steady_s_max"] = maxOf(ttb)
	if len(r.samples) > 0 {
		f.Values["read_ahead_kb_start"] = r.samples[0].V
	}
	f.Values["ra_changes"] = float64(len(r.samples) - 2)
	f.Series["read_ahead_kb/100"] = scale(r.samples, 0.01)
	f.Marks = r.marks
	return f, nil
}

// timeToSteady is the time from a phase's start until its throughput
// first reaches 90 % of the phase's steady state (the median of its
// second half): how long a phase change costs before the setting fits.
func timeToSteady(bw []Point) float64 {
	if len(bw) < 2 {
		return 0
	}
	var tail []float64
	for _, p := range bw[len(bw)/2:] {
		tail = append(tail, p.V)
	}
	sort.Float64s(tail)
	steady := quantile(tail, 0.5)
	for _, p := range bw {
		if p.V >= 0.9*steady {
			return p.T
		}
	}
	return bw[len(bw)-1].T
}

func (r *readahead) Teardown(ctx context.Context, env *Env) error {
	if r.dev == "" {
		return nil
	}
	before, _ := readTrim(r.raFile)
	_, err := run(ctx, "losetup", "-d", r.dev)
	if after, rerr := readTrim(r.raFile); err == nil && rerr == nil && before == r.setRA {
		r.detached = after
	}
	return err
}

// AfterArm runs once the arm's daemon has stopped (and restored what it
// changed). The device's readahead must be back to the suite's baseline
// (an arm like tuned changes every device before the attach and restores
// it) or to what the attach or the oracle set (an arm that changed it
// during the run and restored it); anything else the arm left changed.
// Then the baseline value is put back: the attach's own change is the
// suite's, not the arm's.
func (r *readahead) AfterArm(env *Env) []string {
	if r.raFile == "" {
		return nil
	}
	want, ok := env.Baseline[r.raFile]
	if !ok {
		want = r.origRA
	}
	now, err := readTrim(r.raFile)
	if err != nil || now == want {
		return nil
	}
	var left []string
	if now != r.setRA && now != r.detached {
		left = append(left, fmt.Sprintf("%s: %q after the run: the arm changed it from %q and did not restore it", r.raFile, now, r.setRA))
	}
	if err := writeFile(r.raFile, want); err != nil {
		left = append(left, err.Error())
	}
	return left
}

// flushBuffers drops the device's page cache (BLKFLSBUF): only this
// device, not the whole host's caches.
func flushBuffers(dev string) error {
	f, err := os.Open(dev)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.IoctlSetInt(int(f.Fd()), unix.BLKFLSBUF, 0); err != nil {
		return fmt.Errorf("flush %s: %w", dev, err)
	}
	return nil
}

func atof(s string) float64 {
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

func maxOf(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, x)
	}
	return m
}

func scale(pts []Point, k float64) []Point {
	out := make([]Point, len(pts))
	for i, p := range pts {
		out[i] = Point{T: p.T, V: p.V * k}
	}
	return out
}
