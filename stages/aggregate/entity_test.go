package aggregate

import (
	"testing"

	"github.com/ainka/ainka/stages/decode/decodetest"
)

func TestTaskRunTimeAndSwitches(t *testing.T) {
	base := uint64(10) * 1000 * ms
	evs := events(t,
		decodetest.SchedSwitch(base+1*ms, 0, 0, "swapper/0", 7, "hog", 0),
		decodetest.Preempted(base+31*ms, 0, 7, "hog", 9, "lat", 2*ms), // hog ran 30 ms, preempted
		decodetest.SchedSwitch(base+32*ms, 0, 9, "lat", 7, "hog", 0),  // lat ran 1 ms, blocked
		// hog still runs when the window closes: 68 ms more in window 0,
		// then 50 ms in window 1 before it blocks.
		decodetest.SchedSwitch(base+150*ms, 0, 7, "hog", 0, "swapper/0", 0),
		decodetest.Syscall(base+400*ms, 0, 1, "x", 0, 0, 1),
	)
	ws := run(t, Config{}, 2, evs)
	byPID := func(w *Window, pid uint32) *TaskStat {
		for i := 0; i < w.NumTasks; i++ {
			if w.Tasks[i].PID == pid {
				return &w.Tasks[i]
			}
		}
		t.Fatalf("window %d: no task %d", w.StartNs, pid)
		return nil
	}
	hog, lat := byPID(&ws[0], 7), byPID(&ws[0], 9)
	if hog.RunNs != 98*ms || hog.Preempted != 1 || hog.SwitchesOut != 1 {
		t.Errorf("hog window 0: run %d ns, preempted %d of %d", hog.RunNs, hog.Preempted, hog.SwitchesOut)
	}
	if lat.RunNs != 1*ms || lat.Preempted != 0 || lat.SwitchesOut != 1 || lat.RunqNs != 2*ms {
		t.Errorf("lat: %+v", *lat)
	}
	if hog1 := byPID(&ws[1], 7); hog1.RunNs != 50*ms || hog1.Preempted != 0 {
		t.Errorf("hog window 1: run %d ns, preempted %d", hog1.RunNs, hog1.Preempted)
	}
	// Without entities, no run time is accounted.
	ws = run(t, Config{NoEntities: true}, 2, evs)
	if byPID(&ws[0], 7).RunNs != 0 {
		t.Error("NoEntities still accounts run time")
	}
}

func TestDeviceSequential(t *testing.T) {
	base := uint64(10) * 1000 * ms
	const dev = 7 << 20 // major 7, minor 0
	var recs [][]byte
	// 10 contiguous 256-sector reads, then 10 scattered ones.
	for i := uint64(0); i < 10; i++ {
		recs = append(recs, decodetest.BlockIOAt(base+i*ms, 5, dev, 0, 4096+i*256, 256, 100_000))
	}
	for i := uint64(0); i < 10; i++ {
		recs = append(recs, decodetest.BlockIOAt(base+(20+i)*ms, 5, dev, 0, (i*7919+13)*100_003, 8, 100_000))
	}
	// A second device interleaved does not break the first one's stream.
	recs = append(recs, decodetest.BlockIOAt(base+40*ms, 5, 8<<20, 0, 0, 8, 1))
	recs = append(recs, decodetest.Syscall(base+400*ms, 0, 1, "x", 0, 0, 1))
	ws := run(t, Config{}, 3, events(t, recs...))
	d := &ws[0].Devices[0]
	if d.Dev != dev || d.Reads != 20 || d.Seq != 9 {
		t.Fatalf("device: %+v, want 20 reads of which 9 continue the previous one", *d)
	}
}

// BenchmarkAggregateEntities measures the cost of the per-entity
// accounting (run time per task, continuity per device): the same input
// with it (entities) and without it (base), in one run.
func BenchmarkAggregateEntities(b *testing.B) {
	evs := events(b, decodetest.Mixed(1<<16, 2, 1e9, 2000)...)
	for _, bc := range []struct {
		name string
		cfg  Config
	}{{"base", Config{NoEntities: true}}, {"entities", Config{}}} {
		b.Run(bc.name, func(b *testing.B) { benchAggregate(b, bc.cfg, evs) })
	}
}
