package daemon

import (
	"bytes"
	"fmt"
	"regexp"
	"testing"

	"github.com/ainka/ainka/stages/actuate"
	"github.com/ainka/ainka/stages/decide"
)

// The ledger keeps the first original and the latest value of each knob,
// forgets a restored one, and ignores what did not change anything.
func TestKnobLedger(t *testing.T) {
	var l knobLedger
	for _, r := range []actuate.Result{
		{Kind: decide.Apply, Status: actuate.DryRun, Policy: "tuner:readahead", Knob: "readahead:vda", Old: "8192", New: "1024"},
		{Kind: decide.Apply, Status: actuate.DryRun, Policy: "tuner:readahead", Knob: "readahead:vda", Old: "8192", New: "512"},
		{Kind: decide.Apply, Status: actuate.Applied, Policy: "swap", Knob: "sysctl:vm.swappiness", Old: "60", New: "10"},
		{Kind: decide.Apply, Status: actuate.Applied, Policy: `q"uote`, Knob: "sysctl:vm.dirty_ratio", Old: "20", New: "10"},
		{Kind: decide.Revert, Status: actuate.Restored, Policy: `q"uote`, Knob: "sysctl:vm.dirty_ratio", Old: "10", New: "20"},
		{Kind: decide.Apply, Status: actuate.RateLimited, Policy: "x", Knob: "sysctl:kernel.sched_x", Old: "1", New: "2"},
		{Kind: decide.Apply, Status: actuate.Advice, Policy: "tuner:cpu", Action: "notify"},
	} {
		l.record(&r)
	}
	var b bytes.Buffer
	l.write(&b)
	want := `# HELP ainka_knob_change
# TYPE ainka_knob_change gauge
ainka_knob_change{knob="readahead:vda",policy="tuner:readahead",original="8192",current="512",status="dry_run"} T
ainka_knob_change{knob="sysctl:vm.swappiness",policy="swap",original="60",current="10",status="applied"} T
`
	got := regexp.MustCompile(`} \d{10}\n`).ReplaceAllString(b.String(), "} T\n")
	if got != want {
		t.Fatalf("ledger:\n%s\nwant\n%s", got, want)
	}
	for i := range maxLedgerKnobs + 10 {
		l.record(&actuate.Result{Kind: decide.Apply, Status: actuate.Applied, Knob: fmt.Sprint("k", i)})
	}
	if len(l.knobs) != maxLedgerKnobs {
		t.Fatalf("ledger holds %d knobs, bound %d", len(l.knobs), maxLedgerKnobs)
	}
}

func TestPushLabelsExpandEnv(t *testing.T) {
	t.Setenv("NODE_NAME", "node-7")
	t.Setenv("EMPTY_THING", "")
	got := pushLabels(map[string]string{"host": "${NODE_NAME}", "zone": "${EMPTY_THING}", "role": "db"})
	if fmt.Sprint(got) != "map[host:node-7 role:db]" {
		t.Fatalf("labels %v", got)
	}
}
