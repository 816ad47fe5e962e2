package view_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/stages/predict/alarm"
	"github.com/ainka/ainka/view"
)

// The view's second line is the host alarm, and when it fires, the
// features that drove it: the one-line why a person reads first.
func TestRenderHostAlarm(t *testing.T) {
	r := view.NewRecorder(view.Sources{Mode: "replay"})
	quiet := window(1, 1, 0)
	quiet.Alarm = alarm.Result{Level: 0.2, NDrivers: 1, Drivers: [alarm.MaxDrivers]features.ID{features.BlkIOPS}}
	r.ObservePredict([]predict.Output{quiet})
	if l := strings.Split(view.Render(r.Snapshot(), 120, 0, view.Plain), "\n")[1]; !strings.Contains(l, "host alarm 0.2") ||
		!strings.Contains(l, "closest: blk_iops") || strings.Contains(l, "ALARM") {
		t.Errorf("quiet: %q", l)
	}
	loud := window(2, 1, 0)
	loud.Alarm = alarm.Result{Level: 0.87, NDrivers: 2, Drivers: [alarm.MaxDrivers]features.ID{features.SyscallErrorsPerS, features.SyscallsPerS}}
	r.ObservePredict([]predict.Output{loud})
	s := r.Snapshot()
	if l := strings.Split(view.Render(s, 120, 0, view.Plain), "\n")[1]; !strings.Contains(l, "ALARM: syscall_errors_per_s, syscalls_per_s") {
		t.Errorf("alarm: %q", l)
	}
	if s.Alarm != 0.87 || len(s.AlarmHist) != 2 || s.AlarmHist[1] != 0.87 || s.EventTimeNs != 2*uint64(time.Second) {
		t.Errorf("snapshot: alarm %v, history %v", s.Alarm, s.AlarmHist)
	}
}

// The why names the entity that showed a driver most.
func TestRenderAlarmEntity(t *testing.T) {
	r := view.NewRecorder(view.Sources{Mode: "replay"})
	w := window(1, 1, 0)
	w.Alarm = alarm.Result{Level: 0.9, NDrivers: 1, Drivers: [alarm.MaxDrivers]features.ID{features.BlkIOPS}}
	w.Entities[0] = predict.Entity{Kind: predict.EntityDevice, ID: 8<<20 | 16}
	r.ObservePredict([]predict.Output{w})
	if l := strings.Split(view.Render(r.Snapshot(), 120, 0, view.Plain), "\n")[1]; !strings.Contains(l, "ALARM: blk_iops (device 8:16)") {
		t.Errorf("%q", l)
	}
}
