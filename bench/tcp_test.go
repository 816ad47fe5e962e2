package bench

import (
	"fmt"
	"math"
	"testing"
	"time"
)

func iperfOut(cc string, bytes float64) []byte {
	return []byte(fmt.Sprintf(`{"start":{},"end":{"sum_sent":{"bits_per_second":%g,"retransmits":3},`+
		`"sum_received":{"bits_per_second":%g,"bytes":%g,"seconds":1.5},"cpu_utilization_percent":{"host_total":2},"sender_tcp_congestion":%q}}`,
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
	// 4 connections of 1.5 s measured in a run of 8 s: 2 s of gaps; 32e6
	// bytes in 6 s inside them.
	if f.Values["gaps_s"] != 2 || math.Abs(f.Values["in_conn_mbit_s"]-8*32e6/6/1e6) > 1e-9 {
		t.Errorf("gaps %v s, in-connection rate %v Mbit/s, want 2 and %v", f.Values["gaps_s"], f.Values["in_conn_mbit_s"], 8*32e6/6/1e6)
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

// TestTCPSeries: each connection's intervals are placed at its start in
// the workload, in order.
func TestTCPSeries(t *testing.T) {
	conn := func(bps ...float64) []byte {
		iv := ""
		for i, b := range bps {
			if i > 0 {
				iv += ","
			}
			iv += fmt.Sprintf(`{"sum":{"end":%g,"bits_per_second":%g}}`, 0.25*float64(i+1), b)
		}
		return []byte(`{"intervals":[` + iv + `],"end":{"sum_received":{"bits_per_second":1,"bytes":1}}}`)
	}
	tc := &tcpLossy{hostCC: "cubic", connSecs: 2, elapsed: 5 * time.Second,
		outs: [][]byte{conn(11e6, 60e6), conn(70e6)}, starts: []time.Duration{0, 2300 * time.Millisecond}}
	f, err := tc.Metric(&Env{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Point{{T: 0.25, V: 11}, {T: 0.5, V: 60}, {T: 2.55, V: 70}}
	got := f.Series["sent Mbit/s"]
	if len(got) != len(want) {
		t.Fatalf("series %v, want %v", got, want)
	}
	for i := range want {
		if math.Abs(got[i].T-want[i].T) > 1e-9 || got[i].V != want[i].V {
			t.Fatalf("series %v, want %v", got, want)
		}
	}
}
