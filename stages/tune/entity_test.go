package tune

import (
	"testing"

	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
)

// The task table holds MaxTasks; past it the least recently active entry
// makes room, and the evictions are counted.
func TestTrackerBounded(t *testing.T) {
	var tr tracker
	var v features.Vector
	for i := 0; i < 200; i++ {
		v.EndNs = uint64(i+1) * win
		v.NumTasks = 1
		v.Tasks[0] = features.TaskFeatures{PID: uint32(1000 + i), Runs: 1}
		tr.observe(&v)
		if i == 10 { // pid 1000 stays active
			v.Tasks[0].PID = 1000
			tr.observe(&v)
		}
	}
	if tr.nTasks != MaxTasks || tr.evicted != 200-MaxTasks {
		t.Fatalf("%d tasks, %d evicted", tr.nTasks, tr.evicted)
	}
	if tr.findTask(1199, 200*win) == nil || tr.findTask(1001, 200*win) != nil {
		t.Error("the newest task is missing or the oldest was kept")
	}
}

// A window costs no allocation when no tuner has anything to say.
func TestProcessNoAlloc(t *testing.T) {
	s, err := New(Config{CPU: Advise, Readahead: Advise, DeviceName: func(uint32) string { return "sda" }})
	if err != nil {
		t.Fatal(err)
	}
	in := make([]predict.Output, 1)
	in[0].Vector.NumTasks = 2
	in[0].Vector.Tasks[0] = features.TaskFeatures{PID: 7, Runs: 50, CPUShare: 0.1, MeanRunUs: 200, VoluntaryPerS: 500, WakeupsPerS: 500}
	in[0].Vector.Tasks[1] = features.TaskFeatures{PID: 8, Runs: 5, CPUShare: 0.2, MeanRunUs: 400, VoluntaryPerS: 50, WakeupsPerS: 50}
	out := make([]Window, 0, 1)
	now := uint64(1e12)
	allocs := testing.AllocsPerRun(200, func() {
		now += win
		in[0].Vector.StartNs, in[0].Vector.EndNs = now-win, now
		out = s.Process(in, out[:0])
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per window", allocs)
	}
}
