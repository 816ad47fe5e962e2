package bench

import (
	"fmt"
	"os"
	"strings"
)

// tcp-lossy-cubic is tcp-lossy on a host whose default congestion control
// is cubic, Debian's stock default (this host's is bbr, which makes the
// untuned arm tcp-lossy's oracle and leaves a tuner nothing to win), and
// with the client opening a connection every few seconds, one after
// another: a namespace's default congestion control applies to the
// connections opened after it is set, so a tuner can only show its value
// on a workload that opens connections. The oracle's values are still
// set per connection (iperf3 -C).
func init() {
	register(Spec{
		Name: "tcp-lossy-cubic",
		Summary: "tcp-lossy with the host's default congestion control set to cubic (Debian's stock default) for the run, and iperf3 connections of 2 s one after another;" +
			" throughput is the bytes received over the whole run, gaps between connections included",
		Primary:      MetricSpec{Name: "throughput_mbit_s", Unit: "Mbit/s", NoiseFloor: 0.25},
		TunedProfile: "network-throughput",
		Knob:         Knob{Name: "congestion control", Values: []string{"reno", "cubic", "bbr"}, QuickValues: []string{"cubic", "bbr"}},
		Tools:        []string{"iperf3", "ip", "tc", "iptables"},
		New:          func() Scenario { return &tcpLossy{hostCC: "cubic", connSecs: 2} },
		Variant:      true,
	})
}

const ccPath = "/proc/sys/net/ipv4/tcp_congestion_control"

// setHostCC sets the host's default congestion control for the variant,
// remembering the one to put back (AfterArm).
func (t *tcpLossy) setHostCC() error {
	if t.hostCC == "" {
		return nil
	}
	b, err := os.ReadFile(ccPath)
	if err != nil {
		return fmt.Errorf("tcp-lossy-cubic: %w", err)
	}
	t.savedCC = strings.TrimSpace(string(b))
	if err := os.WriteFile(ccPath, []byte(t.hostCC), 0); err != nil {
		return fmt.Errorf("tcp-lossy-cubic: set the host's congestion control to %s: %w", t.hostCC, err)
	}
	return nil
}

// AfterArm puts the host's congestion control back once the arm's daemon
// has stopped (the daemon restores what it changed to the variant's
// cubic first). A value other than the variant's is what the arm left
// changed.
func (t *tcpLossy) AfterArm(env *Env) []string {
	if t.savedCC == "" {
		return nil
	}
	var left []string
	if b, err := os.ReadFile(ccPath); err == nil && strings.TrimSpace(string(b)) != t.hostCC {
		left = append(left, fmt.Sprintf("net.ipv4.tcp_congestion_control: %s left, the run's default was %s", strings.TrimSpace(string(b)), t.hostCC))
	}
	if err := os.WriteFile(ccPath, []byte(t.savedCC), 0); err != nil {
		left = append(left, "net.ipv4.tcp_congestion_control: restore "+t.savedCC+": "+err.Error())
	}
	return left
}

// ccFigures: which congestion control the connections ran with (iperf3's
// sender_tcp_congestion): the share that ran with another than the run's
// default (tuned_conns_pct), and the first of them (first_tuned_conn,
// from 1; 0 when none did). iperf3 reads the algorithm when its test
// starts: a connection that AINKA's actuator moved to another algorithm
// while it ran (actuate's open-connection pass) counts as the default's,
// so a run whose tuner re-applied a known best at once has
// first_tuned_conn 2 although its first connection ran mostly on it.
func (t *tcpLossy) ccFigures(f *Figures) {
	tuned, first := 0, 0
	for i, out := range t.outs {
		r, err := parseIperf(out)
		if err != nil || r.End.SenderCC == "" || r.End.SenderCC == t.hostCC {
			continue
		}
		tuned++
		if first == 0 {
			first = i + 1
		}
	}
	f.Values["tuned_conns_pct"] = 100 * float64(tuned) / float64(len(t.outs))
	f.Values["first_tuned_conn"] = float64(first)
}

// gapFigures splits a run of connections into its connections' own
// rate (in_conn_mbit_s: the bytes received over the seconds the server
// measured them) and the time between and around them (gaps_s: the
// run's length less those seconds: starting iperf3, the test's set-up
// and end exchanges over the lossy link, waits for a server). The run's
// figure is the first diluted by the second; two arms can differ by
// either.
func (t *tcpLossy) gapFigures(f *Figures) {
	var bytes, secs float64
	for _, out := range t.outs {
		if r, err := parseIperf(out); err == nil {
			bytes, secs = bytes+r.End.Received.Bytes, secs+r.End.Received.Seconds
		}
	}
	if secs <= 0 || t.elapsed <= 0 {
		return
	}
	f.Values["in_conn_mbit_s"] = 8 * bytes / secs / 1e6
	f.Values["gaps_s"] = t.elapsed.Seconds() - secs
}
