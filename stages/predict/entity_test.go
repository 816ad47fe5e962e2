package predict

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict/alarm"
)

// Each driver is attributed to the entity with the largest share of it;
// a feature without a per-entity table gets none; a comm with quotes and
// control bytes stays valid JSON.
func TestAlarmEntities(t *testing.T) {
	var o Output
	v := &o.Vector
	v.NumTasks, v.NumDevices = 2, 2
	v.Tasks[0] = features.TaskFeatures{PID: 7, RunqUs: 50, CPUShare: 0.9}
	v.Tasks[1] = features.TaskFeatures{PID: 42, RunqUs: 900, CPUShare: 0.1}
	copy(v.Tasks[1].Comm[:], "st\"re\x01ss")
	v.Devices[0] = features.DeviceFeatures{Dev: 8 << 20, IOPS: 5000}
	v.Devices[1] = features.DeviceFeatures{Dev: 259 << 20, IOPS: 10}
	o.Alarm = alarm.Result{Level: 0.9, NDrivers: 3,
		Drivers: [alarm.MaxDrivers]features.ID{features.RunqLatencyP99Us, features.BlkIOPS, features.SyscallErrorsPerS}}
	attribute(v, &o.Alarm, &o.Entities)
	if want := `runq_latency_p99_us (task 42 (st?re?ss)), blk_iops (device 8:0), syscall_errors_per_s`; o.Why() != want {
		t.Errorf("why %q, want %q", o.Why(), want)
	}
	var m struct {
		Drivers  []string  `json:"drivers"`
		Entities []*string `json:"entities"`
	}
	if err := json.Unmarshal(o.AppendJSON(nil), &m); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	if len(m.Entities) != 3 || *m.Entities[1] != "device 8:0" || m.Entities[2] != nil || !strings.HasPrefix(*m.Entities[0], "task 42") {
		t.Errorf("entities %v", m.Entities)
	}
	// Sampled scheduler events leave the task table empty: no entity.
	v.NumTasks = 0
	attribute(v, &o.Alarm, &o.Entities)
	if o.Entities[0].Kind != EntityNone || o.Entities[1].Kind != EntityDevice {
		t.Errorf("without tasks: %+v", o.Entities)
	}
}
