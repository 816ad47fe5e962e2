package bench

import (
	"fmt"
	"testing"
	"time"
)

func iperfOut(cc string, bytes float64) []byte {
	return []byte(fmt.Sprintf(`{"start":{},"end":{"sum_sent":{"bits_per_second":%g,"retransmits":3},`+
		`"sum_received":{"bits_per_second":%g,"bytes":%g},"cpu_utilization_percent":{"host_total":2},"sender_tcp_congestion":%q}}`,
		8*bytes/2, 8*bytes/2, bytes, cc))
}

// TestTCPCubicFigures: tcp-lossy-cubic reports the throughput over the
// whole run and which connections ran with another congestion control
// than the run's default; a report without the field counts as the
// default, and a run where none changed says 0.
func TestTCPCubicFigures(t *testing.T) {
	tc := &tcpLossy{hostCC: "cubic", connSecs: 2, elapsed: 8 * time.Second,
		outs: [][]byte{iperfOut("cubic", 1e6), iperfOut("bbr", 15e6), iperfOut("bbr", 15e6), iperfOut("", 1e6)}}
	f, err := tc.Metric(&Env{})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Values["throughput_mbit_s"]; got != 8*32e6/8/1e6 {
		t.Errorf("throughput %v Mbit/s, want 32", got)
	}
	if f.Values["first_tuned_conn"] != 2 || f.Values["tuned_conns_pct"] != 50 || f.Values["connections"] != 4 {
		t.Errorf("figures %v", f.Values)
	}
	tc.outs = tc.outs[:1]
	if f, _ = tc.Metric(&Env{}); f.Values["first_tuned_conn"] != 0 || f.Values["tuned_conns_pct"] != 0 {
		t.Errorf("untuned run: %v", f.Values)
	}
	tc.outs = append(tc.outs, []byte(`{"error":"the server is busy"}`))
	if _, err := tc.Metric(&Env{}); err == nil {
		t.Error("a failed connection's report gave no error")
	}
}
