package faults

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ErrDecode reports a bad `--tap decode` line.
var ErrDecode = errors.New("bad decode tap line")

// ForeignRate is the default rate (switches per second, estimated from
// the sampled records) at which other jobs' tasks make a second foreign.
const ForeignRate = 480

// ownTasks are the benchmark's tasks (scripts/faults/record.sh: the
// script and its subshells, the background dd, the faults'
// sh/true/timeout, python3, fio, sleep); kernelTasks the prefixes of
// kernel threads, of the host's own daemons, and of the benchmark's
// stress-ng and its workers (stress-ng-cpu, ...). Any other task is
// another job on the host.
var (
	ownTasks    = map[string]bool{"record.sh": true, "dd": true, "sh": true, "true": true, "timeout": true, "python3": true, "fio": true, "sleep": true, "ainka": true}
	kernelTasks = []string{"kworker", "rcu_", "ksoftirqd", "migration", "swapper", "kcompactd", "kswapd", "jbd2",
		"cpuhp", "khugepaged", "memfd:", "systemd", "irq/", "kdamond", "writeback", "kblockd", "spawner", "stress-ng"}
)

// foreignTask says whether a task name is another job's.
func foreignTask(comm string) bool {
	if comm == "" || ownTasks[comm] {
		return false
	}
	for _, k := range kernelTasks {
		if strings.HasPrefix(comm, k) {
			return false
		}
	}
	return true
}

// Foreign marks the seconds of a recording in which other jobs ran: the
// load the labels call clean although it is not the benchmark's
// workload (docs/predict.md, "R6 and clean2").
type Foreign struct {
	T0   uint64 // the recording's first event, CLOCK_MONOTONIC ns
	Secs []bool // second k covers [T0 + k s, T0 + (k+1) s)
}

// ReadForeign reads `ainka replay T.trace --tap decode` lines. A second
// is foreign when tasks that are neither the benchmark's nor kernel
// threads were switched in or out at least rate times in it, estimated
// as sampled sched_switch records × sched (the recording's sampling).
func ReadForeign(r io.Reader, sched, rate int) (Foreign, error) {
	if sched < 1 || rate < 1 {
		return Foreign{}, fmt.Errorf("read foreign: sampling %d and rate %d must be ≥ 1", sched, rate)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var (
		f      Foreign
		counts []int
		seen   bool
	)
	for n := 1; sc.Scan(); n++ {
		var e struct {
			Kind     string `json:"kind"`
			TsNs     uint64 `json:"ts_ns"`
			Comm     string `json:"comm"`
			NextComm string `json:"next_comm"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Kind == "" {
			return Foreign{}, fmt.Errorf("line %d: %w: %v", n, ErrDecode, err)
		}
		if !seen {
			f.T0, seen = e.TsNs, true
		}
		if e.Kind != "sched_switch" || e.TsNs < f.T0 {
			continue
		}
		k := int((e.TsNs - f.T0) / 1e9)
		for len(counts) <= k {
			counts = append(counts, 0)
		}
		for _, c := range []string{e.Comm, e.NextComm} {
			if foreignTask(c) {
				counts[k] += sched
			}
		}
	}
	if err := sc.Err(); err != nil {
		return Foreign{}, fmt.Errorf("read foreign: %w", err)
	}
	if !seen {
		return Foreign{}, fmt.Errorf("read foreign: %w: no events", ErrDecode)
	}
	f.Secs = make([]bool, len(counts))
	for k, c := range counts {
		f.Secs[k] = c >= rate
	}
	return f, nil
}

// At says whether the second holding ns was foreign.
func (f Foreign) At(ns uint64) bool {
	if ns < f.T0 {
		return false
	}
	k := (ns - f.T0) / 1e9
	return k < uint64(len(f.Secs)) && f.Secs[k]
}

// ForeignCount is, for one label (a fault, or the clean windows), how
// many of its windows lie in foreign seconds.
type ForeignCount struct {
	Name             string
	Foreign, Windows int
}

// ForeignWindows counts the clean windows (first) and each fault's
// windows that lie in foreign seconds, labelled as Score labels them.
func ForeignWindows(ws []Window, faults []Fault, o Options, f Foreign) []ForeignCount {
	out := make([]ForeignCount, len(faults)+1)
	out[0].Name = "clean"
	for k, fl := range faults {
		out[k+1].Name = fl.Name
	}
	o.Exclude = nil
	for i, l := range labelWindows(ws, faults, o) {
		if l < -1 {
			continue
		}
		c := &out[l+1]
		c.Windows++
		if f.At(ws[i].EndNs) {
			c.Foreign++
		}
	}
	return out
}

// ReadForeignFile is ReadForeign of the decode tap at path.
func ReadForeignFile(path string, sched, rate int) (Foreign, error) {
	f, err := os.Open(path)
	if err != nil {
		return Foreign{}, fmt.Errorf("read decode tap: %w", err)
	}
	defer f.Close()
	fr, err := ReadForeign(f, sched, rate)
	if err != nil {
		return Foreign{}, fmt.Errorf("%s: %w", path, err)
	}
	return fr, nil
}
