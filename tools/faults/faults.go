package faults

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
)

// Errors of the readers.
var (
	ErrLabels = errors.New("bad fault labels")
	ErrTap    = errors.New("bad predict tap line")
)

// Fault is one injected fault: its name and when it ran, in
// CLOCK_MONOTONIC nanoseconds (the clock of the trace's events).
type Fault struct {
	Name    string `json:"name"`
	StartNs uint64 `json:"start_ns"`
	EndNs   uint64 `json:"end_ns"`
}

// ReadLabels reads a labels file {"faults": [{name, start_ns, end_ns}...]}.
func ReadLabels(path string) ([]Fault, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read labels: %w", err)
	}
	var l struct {
		Faults []Fault `json:"faults"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("read labels %s: %w: %v", path, ErrLabels, err)
	}
	if len(l.Faults) == 0 {
		return nil, fmt.Errorf("read labels %s: %w: no faults", path, ErrLabels)
	}
	for i, f := range l.Faults {
		if f.Name == "" || f.EndNs <= f.StartNs || (i > 0 && f.StartNs < l.Faults[i-1].EndNs) {
			return nil, fmt.Errorf("read labels %s: %w: fault %d (%q) is empty, unnamed or overlaps the one before", path, ErrLabels, i, f.Name)
		}
	}
	return l.Faults, nil
}

// Window is one window of the predict stage's output.
type Window struct {
	EndNs uint64
	Joint float64
	// Alarm is the host-level alarm's level and AlarmDrivers the features
	// it named (NaN and none in a tap without them).
	Alarm        float64
	AlarmDrivers []string
	// Scores and Values are the feature scores and values, in the order
	// of Names (NaN: none).
	Scores, Values []float64
}

// tapLine is the part of a `--tap predict` line the scorer reads.
type tapLine struct {
	EndNs    uint64   `json:"end_ns"`
	Joint    *float64 `json:"joint_score"`
	Alarm    *float64 `json:"alarm"`
	Drivers  []string `json:"drivers"`
	Features map[string]struct {
		Value *float64 `json:"value"`
		Score *float64 `json:"score"`
	} `json:"features"`
}

// ReadTap reads `--tap predict` JSON lines: the windows in event-time
// order and the feature names (sorted) their Scores follow.
func ReadTap(r io.Reader) ([]Window, []string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	var (
		out   []Window
		names []string
		index map[string]int
	)
	for n := 1; sc.Scan(); n++ {
		var l tapLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, nil, fmt.Errorf("line %d: %w: %v", n, ErrTap, err)
		}
		if len(l.Features) == 0 {
			return nil, nil, fmt.Errorf("line %d: %w: no features", n, ErrTap)
		}
		if index == nil {
			for name := range l.Features {
				names = append(names, name)
			}
			sort.Strings(names)
			index = map[string]int{}
			for i, name := range names {
				index[name] = i
			}
		}
		w := Window{EndNs: l.EndNs, Joint: nan(l.Joint), Alarm: nan(l.Alarm), AlarmDrivers: l.Drivers,
			Scores: make([]float64, len(names)), Values: make([]float64, len(names))}
		for i := range w.Scores {
			w.Scores[i], w.Values[i] = nan(nil), nan(nil)
		}
		for name, f := range l.Features {
			i, ok := index[name]
			if !ok {
				return nil, nil, fmt.Errorf("line %d: %w: feature %q not in the first line", n, ErrTap, name)
			}
			w.Scores[i], w.Values[i] = nan(f.Score), nan(f.Value)
		}
		out = append(out, w)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read tap: %w", err)
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("read tap: %w: no windows", ErrTap)
	}
	return out, names, nil
}

// nan is *p, or NaN for a JSON null.
func nan(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
