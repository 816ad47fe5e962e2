package tune

import (
	"strings"
	"testing"

	"github.com/ainka/ainka/stages/decode"
)

// On the recorded traces: stress-ng's CPU workers are batch work, and the
// sequential fio reader's device is sequential.
func TestClassifyTraces(t *testing.T) {
	var tr tracker
	outs := traceOutputs(t, "cpu.trace")
	for i := range outs {
		tr.observe(&outs[i].Vector)
	}
	batch, latency := 0, 0
	for i := 0; i < tr.nTasks; i++ {
		e := &tr.tasks[i]
		c, conf := classifyTask(e)
		comm := decode.CommString(&e.comm)
		if strings.HasPrefix(comm, "stress-ng-cpu") && e.windows > 10 {
			if c != Batch || conf < minConfidence {
				t.Errorf("%s: %v %.2f, want batch", explainTask(e), c, conf)
			}
			batch++
		}
		if c == Latency && conf >= minConfidence {
			latency++
			t.Logf("latency: %s (%.2f)", explainTask(e), conf)
		}
	}
	if batch == 0 {
		t.Fatal("no stress-ng-cpu worker tracked")
	}
	t.Logf("%d batch workers, %d latency-sensitive tasks, %d tracked", batch, latency, tr.nTasks)

	tr = tracker{}
	outs = traceOutputs(t, "fio-seqread.trace")
	for i := range outs {
		tr.observe(&outs[i].Vector)
	}
	found := false
	for i := 0; i < tr.nDevs; i++ {
		e := &tr.devs[i]
		c, conf := classifyDevice(e)
		t.Logf("%s -> %v %.2f", explainDevice(e, "dev"), c, conf)
		found = found || c == Sequential && conf >= minConfidence
	}
	if !found {
		t.Error("no sequential device in fio-seqread")
	}
}
