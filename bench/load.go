package bench

import (
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Load is what else ran on the host during a run.
type Load struct {
	LoadAvg1Start float64   `json:"loadavg1_start"`
	LoadAvg1End   float64   `json:"loadavg1_end"`
	Others        []ProcCPU `json:"others"`         // processes outside the suite above 5 % of a CPU
	OthersCPUPct  float64   `json:"others_cpu_pct"` // all processes outside the suite, % of one CPU
	Busy          bool      `json:"busy"`
}

// ProcCPU is one foreign process's CPU use during a run.
type ProcCPU struct {
	PID  int     `json:"pid"`
	Comm string  `json:"comm"`
	Pct  float64 `json:"cpu_pct"`
}

// busyThreshold is the foreign CPU use (% of one CPU) above which a run
// is flagged busy: on 2 CPUs a fifth of one is already felt by latency
// figures.
const busyThreshold = 20.0

// others reports a process as foreign above this share of one CPU.
const othersThreshold = 5.0

type cpuSample struct {
	at    time.Time
	ticks map[procKey]uint64
	comm  map[procKey]string
}

var clockTicks = 100.0 // USER_HZ on Linux

func sampleCPU() cpuSample {
	s := cpuSample{at: time.Now(), ticks: map[procKey]uint64{}, comm: map[procKey]string{}}
	self := os.Getpid()
	parent := map[int]int{}
	var keys []procKey
	for _, pid := range pids() {
		comm, f, err := statFields(pid)
		if err != nil || len(f) < 20 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		parent[pid] = ppid
		if pid == 2 || ppid == 2 { // kernel threads work for whoever does I/O: not counted
			continue
		}
		start, _ := strconv.ParseUint(f[19], 10, 64)
		ut, _ := strconv.ParseUint(f[11], 10, 64)
		st, _ := strconv.ParseUint(f[12], 10, 64)
		k := procKey{pid, start}
		keys = append(keys, k)
		s.ticks[k] = ut + st
		s.comm[k] = comm
	}
	for _, k := range keys {
		if descends(k.pid, self, parent) {
			delete(s.ticks, k)
		}
	}
	return s
}

// descends reports whether pid is anc or one of its descendants.
func descends(pid, anc int, parent map[int]int) bool {
	for i := 0; i < 64 && pid > 1; i++ {
		if pid == anc {
			return true
		}
		pid = parent[pid]
	}
	return false
}

// foreignLoad compares two samples: CPU used by processes outside the
// suite between them.
func foreignLoad(a, b cpuSample) (total float64, top []ProcCPU) {
	secs := b.at.Sub(a.at).Seconds()
	if secs <= 0 {
		return 0, nil
	}
	for k, t := range b.ticks {
		d := float64(t - a.ticks[k]) // a process born meanwhile counts from 0
		if t < a.ticks[k] {
			continue
		}
		pct := d / clockTicks / secs * 100
		total += pct
		if pct > othersThreshold {
			top = append(top, ProcCPU{PID: k.pid, Comm: b.comm[k], Pct: pct})
		}
	}
	sort.Slice(top, func(i, j int) bool { return top[i].Pct > top[j].Pct })
	return total, top
}

func loadAvg1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
