package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"
)

func init() {
	register(Spec{
		Name:    "cpu-contention",
		Summary: "cyclictest at 1 kHz and a loopback request/response loop (measured by its client) beside stress-ng CPU hogs (2 per CPU) in their own process group",
		// The CPU tuner acts by default (the installed service's
		// configuration): the ainka arm must beat untuned.
		Primary: MetricSpec{Name: "cyclictest_p99_us", Unit: "µs", LowerIsBetter: true, NoiseFloor: 0.5, MustImprove: true},
		// latency-performance: tuned's profile for latency-sensitive work.
		TunedProfile: "latency-performance",
		// The hogs' scheduling class and nice: what issue 9's CPU tuner can change.
		Knob: Knob{Name: "hog scheduling", Values: []string{"nice0", "nice10", "nice19", "batch", "idle"},
			QuickValues: []string{"nice19", "idle"}},
		Tools: []string{"cyclictest", "stress-ng", "chrt", "nice"},
		New:   func() Scenario { return &cpuContention{} },
	})
}

// hogLead is how long the hogs run before measuring starts.
const hogLead = time.Second

type cpuContention struct {
	server *background
	addr   string
	hist   []byte
	rr     []byte
	yaml   string
}

func (c *cpuContention) Setup(ctx context.Context, env *Env) error {
	c.addr = "127.0.0.1:" + strconv.Itoa(20000+os.Getpid()%20000)
	bg, err := startBackground(command(env.Self, "internal", "rr-server", c.addr))
	c.server = bg
	return err
}

// hogCommand wraps stress-ng in the knob's scheduling class or nice.
func hogCommand(knob string, args []string) ([]string, error) {
	switch knob {
	case "", "nice0":
		return args, nil
	case "nice10", "nice19":
		return append([]string{"nice", "-n", knob[4:]}, args...), nil
	case "batch", "idle":
		return append([]string{"chrt", "--" + knob, "0"}, args...), nil
	}
	return nil, fmt.Errorf("cpu-contention: unknown hog scheduling %q", knob)
}

func (c *cpuContention) Workload(ctx context.Context, env *Env) error {
	secs := strconv.Itoa(int(env.Duration.Seconds()))
	c.yaml = filepath.Join(env.Dir, "stress.yaml")
	hog, err := hogCommand(env.KnobValue, []string{"stress-ng", "--cpu", strconv.Itoa(2 * runtime.NumCPU()),
		"--timeout", secs + "s", "--metrics-brief", "--yaml", c.yaml})
	if err != nil {
		return err
	}
	hogs, err := startBackground(command(hog[0], hog[1:]...))
	if err != nil {
		return err
	}
	defer hogs.stop()
	// Measuring starts when the hogs have run for a second: the steady
	// state of a host with batch work on it, which every arm alike is
	// measured in. (AINKA's tuner puts a setting it learned for this
	// workload back within ~0.5 s of its return; the first run of an arm
	// still explores during its measurement.)
	time.Sleep(hogLead)
	histPath := filepath.Join(env.Dir, "cyclictest.hist")
	var wg sync.WaitGroup
	var errCT, errRR error
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, errCT = run(ctx, "cyclictest", "-t1", "-p0", "--policy=other", "-i1000", "-D", secs, "-q", "-h", "20000", "--histfile="+histPath)
		c.hist, _ = os.ReadFile(histPath)
	}()
	go func() {
		defer wg.Done()
		c.rr, errRR = run(ctx, env.Self, "internal", "rr-client", c.addr, "1000", env.Duration.String())
	}()
	wg.Wait()
	if errCT != nil || errRR != nil {
		return fmt.Errorf("cyclictest: %v; request/response: %v", errCT, errRR)
	}
	return hogs.wait(ctx)
}

func (c *cpuContention) Metric(env *Env) (*Figures, error) {
	f := newFigures()
	h, err := parseHistogram(c.hist)
	if err != nil {
		return nil, err
	}
	q := h.quantiles101()
	f.Quantiles["cyclictest_us"] = q
	f.Values["cyclictest_p50_us"], f.Values["cyclictest_p99_us"], f.Values["cyclictest_max_us"] = q[50], q[99], q[100]
	rr, err := parseLatency(c.rr)
	if err != nil {
		return nil, err
	}
	f.Quantiles["rr_us"] = rr.Quantiles
	f.Values["rr_p50_us"], f.Values["rr_p99_us"], f.Values["rr_max_us"] = rr.Quantiles[50], rr.Quantiles[99], rr.Quantiles[100]
	f.Values["rr_requests"] = float64(rr.N)
	ops, err := stressOpsPerSec(c.yaml, "cpu")
	if err != nil {
		return nil, err
	}
	f.Values["hog_bogo_ops_per_s"] = ops
	return f, nil
}

func (c *cpuContention) Teardown(ctx context.Context, env *Env) error {
	if c.server != nil {
		c.server.stop()
	}
	return nil
}
