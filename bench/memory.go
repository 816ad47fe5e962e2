package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func init() {
	register(Spec{
		Name: "memory-pressure",
		Summary: "a memory hog growing by 150 MiB/s and rewriting all it holds (restarted when OOM-killed) and a latency-sensitive task touching 16 random pages of its 192 MiB every ms, both in a cgroup v1 memory cgroup limited to 512 MiB, swap on zram (2 GiB)" +
			" — cgroup v1 because this host binds the memory controller there",
		Primary: MetricSpec{Name: "touch_p99_us", Unit: "µs", LowerIsBetter: true, NoiseFloor: 0.5},
		// latency-performance: vm.swappiness = 10.
		TunedProfile: "latency-performance",
		// vm.swappiness, set before the cgroups are made: a v1 memory cgroup
		// takes its parent's swappiness when created (the root's is vm.swappiness).
		Knob:  Knob{Name: "vm.swappiness", Values: []string{"0", "10", "60", "100", "200"}, QuickValues: []string{"10", "100"}},
		Tools: []string{"mkswap", "swapon", "swapoff"},
		New:   func() Scenario { return &memoryPressure{} },
	})
}

const (
	memCgroup    = "/sys/fs/cgroup/memory/ainka-bench"
	memLimitMiB  = 512
	touchMiB     = 192
	zramDiskSize = "2G"
	hogMiBPerS   = 150
)

type memoryPressure struct {
	origSwappiness string
	swapOn         bool
	cgroups        bool
	touchOut       []byte
	hogMiB         float64
	hogDeaths      int
	zramMaxMiB     atomic.Int64
	swappiness     float64
}

func (m *memoryPressure) Setup(ctx context.Context, env *Env) error {
	if env.KnobValue != "" {
		var err error
		if m.origSwappiness, err = readTrim("/proc/sys/vm/swappiness"); err != nil {
			return err
		}
		if err := writeFile("/proc/sys/vm/swappiness", env.KnobValue); err != nil {
			return err
		}
	}
	if err := m.zramSwap(ctx); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Dir(memCgroup) + "/memory.limit_in_bytes"); err != nil {
		return fmt.Errorf("memory-pressure: no cgroup v1 memory controller at %s: %w", filepath.Dir(memCgroup), err)
	}
	m.cgroups = true
	for _, d := range []string{memCgroup, memCgroup + "/hog", memCgroup + "/lat"} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("memory-pressure: %w", err)
		}
	}
	sw, _ := readTrim(memCgroup + "/hog/memory.swappiness")
	m.swappiness = atof(sw)
	return writeFile(memCgroup+"/memory.limit_in_bytes", strconv.Itoa(memLimitMiB<<20))
}

// zramSwap makes zram0 a swap device; it refuses a zram0 already in use.
func (m *memoryPressure) zramSwap(ctx context.Context) error {
	if size, err := readTrim("/sys/block/zram0/disksize"); err != nil {
		return fmt.Errorf("memory-pressure: no zram0 (CONFIG_ZRAM; /sys/class/zram-control/hot_add): %w", err)
	} else if size != "0" {
		return fmt.Errorf("memory-pressure: zram0 is in use (disksize %s); not touching it", size)
	}
	if err := writeFile("/sys/block/zram0/disksize", zramDiskSize); err != nil {
		return err
	}
	m.swapOn = true // from here Teardown resets zram0
	if _, err := run(ctx, "mkswap", "/dev/zram0"); err != nil {
		return err
	}
	_, err := run(ctx, "swapon", "-p", "100", "/dev/zram0")
	return err
}

func (m *memoryPressure) Workload(ctx context.Context, env *Env) error {
	touch := command(env.Self, "internal", "incgroup", memCgroup+"/lat", "--", env.Self, "internal", "touch",
		strconv.Itoa(touchMiB), "1000", env.Duration.String())
	var wg sync.WaitGroup
	var errT, errH error
	wg.Add(2)
	go func() {
		defer wg.Done()
		m.touchOut, errT = runCmd(ctx, touch)
	}()
	go func() {
		defer wg.Done()
		time.Sleep(time.Second) // the task has its working set before the hog grows
		errH = m.hog(ctx, env)
	}()
	stop := make(chan struct{})
	go m.watchZram(stop)
	wg.Wait()
	close(stop)
	if err := errors.Join(errT, errH); err != nil {
		return fmt.Errorf("memory-pressure: %w", err)
	}
	return nil
}

// watchZram records the most data zram held during the run (the hog's
// swap is freed when it ends, before the metrics are read).
func (m *memoryPressure) watchZram(stop chan struct{}) {
	every(250*time.Millisecond, stop, func() {
		if st, err := readTrim("/sys/block/zram0/mm_stat"); err == nil {
			if fs := strings.Fields(st); len(fs) > 0 {
				m.zramMaxMiB.Store(max(m.zramMaxMiB.Load(), int64(atof(fs[0]))>>20))
			}
		}
	})
}

// hog runs the growing hog until the run ends, restarting it when the
// OOM killer ends it (as a service manager would); its progress is the
// MiB it touched, summed over its lives.
func (m *memoryPressure) hog(ctx context.Context, env *Env) error {
	end := time.Now().Add(env.Duration - time.Second)
	progress := filepath.Join(env.Dir, "grow.progress")
	for time.Now().Before(end) {
		hctx, cancel := context.WithDeadline(ctx, end)
		_, err := run(hctx, env.Self, "internal", "incgroup", memCgroup+"/hog", "--", env.Self, "internal", "grow",
			strconv.Itoa(hogMiBPerS), progress)
		cancel()
		if b, rerr := os.ReadFile(progress); rerr == nil {
			m.hogMiB += atof(string(b))
			_ = os.Remove(progress)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			m.hogDeaths++ // killed (the OOM killer's SIGKILL): start again
		}
	}
	return nil
}

func (m *memoryPressure) Metric(env *Env) (*Figures, error) {
	f := newFigures()
	lat, err := parseLatency(m.touchOut)
	if err != nil {
		return nil, err
	}
	f.Quantiles["touch_us"] = lat.Quantiles
	f.Values["touch_p50_us"], f.Values["touch_p99_us"], f.Values["touch_max_us"] = lat.Quantiles[50], lat.Quantiles[99], lat.Quantiles[100]
	f.Values["hog_touched_mib_s"] = m.hogMiB / (env.Duration - time.Second).Seconds()
	f.Values["hog_restarts"] = float64(m.hogDeaths)
	f.Values["oom_kills"] = oomKills(memCgroup) + oomKills(memCgroup+"/hog") + oomKills(memCgroup+"/lat")
	f.Values["cgroup_swappiness"] = m.swappiness
	f.Values["zram_max_mib"] = float64(m.zramMaxMiB.Load())
	return f, nil
}

// oomKills reads the OOM kill counter of a v1 memory cgroup: the kills
// of its own tasks (a kill is counted in the victim's cgroup, not in the
// ancestor whose limit was hit).
func oomKills(dir string) float64 {
	b, err := os.ReadFile(filepath.Join(dir, "memory.oom_control"))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "oom_kill "); ok {
			return atof(v)
		}
	}
	return -1
}

func (m *memoryPressure) Teardown(ctx context.Context, env *Env) error {
	var errs []error
	if m.cgroups {
		if _, err := os.Stat(memCgroup); err == nil {
			errs = append(errs, removeCgroupTree(memCgroup))
		}
	}
	if m.swapOn {
		if _, err := run(ctx, "swapoff", "/dev/zram0"); err != nil && strings.Contains(readOr("/proc/swaps"), "/dev/zram0") {
			errs = append(errs, err)
		}
		errs = append(errs, writeFile("/sys/block/zram0/reset", "1"))
	}
	if m.origSwappiness != "" {
		errs = append(errs, writeFile("/proc/sys/vm/swappiness", m.origSwappiness))
	}
	return errors.Join(errs...)
}

func readOr(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}
