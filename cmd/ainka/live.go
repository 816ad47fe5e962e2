package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/daemon"
	"github.com/ainka/ainka/settings"
	"github.com/ainka/ainka/stages/source"
)

// liveFlags choose what the kernel records; run and record share them.
type liveFlags struct {
	kinds      string
	sample     kindValues
	minLatency kindValues
	pid        uint
	ringMB     int
	interval   time.Duration
}

// kindValues is a repeatable KIND=VALUE flag.
type kindValues map[record.Kind]string

func (k kindValues) String() string { return "" }

func (k kindValues) Set(v string) error {
	name, val, ok := strings.Cut(v, "=")
	if !ok || val == "" {
		return fmt.Errorf("want KIND=VALUE, got %q", v)
	}
	kind, err := record.ParseKind(name)
	if err != nil {
		return err
	}
	k[kind] = val
	return nil
}

func (f *liveFlags) register(fs *flag.FlagSet) {
	f.sample, f.minLatency = kindValues{}, kindValues{}
	fs.StringVar(&f.kinds, "kinds", "", "comma-separated `KINDS` to record (default: all; host_sample adds /proc samples)")
	fs.Var(f.sample, "sample", "record 1 in N events of a kind: `KIND=N` (repeatable)")
	fs.Var(f.minLatency, "min-latency", "drop events of a kind faster than D: `KIND=D` (syscall, sched_switch, block_io; repeatable)")
	fs.UintVar(&f.pid, "pid", 0, "record only this process (thread group `ID`)")
	fs.IntVar(&f.ringMB, "ring-mb", 16, "size of the eBPF ring buffer in `MiB` (power of two)")
	fs.DurationVar(&f.interval, "interval", settings.DefaultInterval, "collection interval: window length and host sampling period")
}

// config turns the flags into the live source's configuration.
func (f *liveFlags) config() (source.Config, error) {
	var cfg source.Config
	if f.kinds != "" {
		cfg.Kinds = []record.Kind{}
		for _, name := range strings.Split(f.kinds, ",") {
			k, err := record.ParseKind(strings.TrimSpace(name))
			if err != nil {
				return cfg, daemon.Usagef("--kinds: %v", err)
			}
			cfg.Kinds = append(cfg.Kinds, k)
		}
	}
	if len(f.sample) > 0 {
		cfg.SampleEvery = map[record.Kind]uint32{}
		for k, v := range f.sample {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil || n == 0 {
				return cfg, daemon.Usagef("--sample %s=%s: want a positive integer", k, v)
			}
			cfg.SampleEvery[k] = uint32(n)
		}
	}
	if len(f.minLatency) > 0 {
		cfg.MinLatency = map[record.Kind]time.Duration{}
		for k, v := range f.minLatency {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return cfg, daemon.Usagef("--min-latency %s=%s: want a duration such as 50us", k, v)
			}
			cfg.MinLatency[k] = d
		}
	}
	if f.interval < time.Millisecond || f.interval%time.Millisecond != 0 {
		return cfg, daemon.Usagef("--interval %s: want whole milliseconds, at least 1ms", f.interval)
	}
	if f.ringMB <= 0 || f.ringMB&(f.ringMB-1) != 0 {
		return cfg, daemon.Usagef("--ring-mb %d: want a power of two", f.ringMB)
	}
	cfg.Budget = source.DefaultBudget // bounded records of the hot kinds (docs/bench-history.md)
	cfg.Pid = uint32(f.pid)
	cfg.RingBytes = f.ringMB << 20
	cfg.HostInterval = f.interval
	return cfg, nil
}
