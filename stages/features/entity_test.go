package features

import (
	"math"
	"testing"

	"github.com/ainka/ainka/stages/aggregate"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/decode/decodetest"
)

func TestEntities(t *testing.T) {
	base := uint64(100) * 1000 * ms
	recs := [][]byte{
		decodetest.SchedSwitch(base+0*ms, 0, 0, "swapper/0", 7, "hog", 0),
		decodetest.Preempted(base+40*ms, 0, 7, "hog", 9, "lat", 3*ms),
		decodetest.SchedSwitch(base+41*ms, 0, 9, "lat", 7, "hog", 0),
		decodetest.SchedWakeup(base+60*ms, 1, 7, 9, "lat", false),
	}
	for i := uint64(0); i < 4; i++ {
		recs = append(recs, decodetest.BlockIOAt(base+(70+i)*ms, 7, 8<<20, 0, 100+i*8, 8, 50_000))
	}
	recs = append(recs, decodetest.Syscall(base+300*ms, 0, 1, "x", 0, 0, 1))
	ws := windows(t, aggregate.Config{}, recs...)
	var v Vector
	Compute(&ws[0], &v)
	if v.NumTasks != 2 || v.NumDevices != 1 {
		t.Fatalf("%d tasks, %d devices", v.NumTasks, v.NumDevices)
	}
	hog, lat := v.Tasks[0], v.Tasks[1]
	if decode.CommString(&hog.Comm) != "hog" || !near(hog.CPUShare, 0.99) || !near(hog.InvoluntaryPerS, 10) || hog.VoluntaryPerS != 0 {
		t.Errorf("hog: %+v", hog)
	}
	if decode.CommString(&lat.Comm) != "lat" || !near(lat.MeanRunUs, 1000) || !near(lat.RunqUs, 3000) || !near(lat.VoluntaryPerS, 10) || !near(lat.WakeupsPerS, 10) {
		t.Errorf("lat: %+v", lat)
	}
	d := v.Devices[0]
	if d.IOs != 4 || !near(d.SeqRatio, 0.75) || !near(d.IOPS, 40) || !near(d.MeanLatencyUs, 50) || !near(d.MeanRequestKiB, 4) {
		t.Errorf("device: %+v", d)
	}
	// Sampled sched_switch: run times are unknown, so no task table.
	cfg := aggregate.Config{}
	cfg.SampleEvery[decode.KindSchedSwitch] = 4
	ws = windows(t, cfg, recs...)
	Compute(&ws[0], &v)
	if v.NumTasks != 0 || v.NumDevices != 1 || math.IsNaN(v.Devices[0].SeqRatio) {
		t.Errorf("sampled: %d tasks, %d devices", v.NumTasks, v.NumDevices)
	}
}

// A task's longest wait is kept beside its mean: two runs after 3 ms and
// 1 ms of waiting are a mean of 2 ms and a tail of 3 ms.
func TestEntitiesRunqTail(t *testing.T) {
	base := uint64(100) * 1000 * ms
	recs := [][]byte{
		decodetest.Preempted(base+40*ms, 0, 7, "hog", 9, "lat", 3*ms),
		decodetest.Preempted(base+41*ms, 0, 9, "lat", 7, "hog", 0),
		decodetest.Preempted(base+60*ms, 0, 7, "hog", 9, "lat", 1*ms),
		decodetest.Syscall(base+300*ms, 0, 1, "x", 0, 0, 1),
	}
	ws := windows(t, aggregate.Config{}, recs...)
	var v Vector
	Compute(&ws[0], &v)
	for i := 0; i < v.NumTasks; i++ {
		if f := v.Tasks[i]; decode.CommString(&f.Comm) == "lat" {
			if f.Runs != 2 || !near(f.RunqUs, 2000) || !near(f.RunqMaxUs, 3000) {
				t.Errorf("lat: %d runs, mean wait %.0f µs, longest %.0f µs; want 2, 2000, 3000", f.Runs, f.RunqUs, f.RunqMaxUs)
			}
			return
		}
	}
	t.Fatalf("no task lat in %d tasks", v.NumTasks)
}
