package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

func init() {
	register(Spec{
		Name: "tcp-lossy",
		Summary: "iperf3 from the host's network namespace to a server in another one over veth, 10 % of the data packets dropped at random (iptables -m statistic in the server's namespace; SYNs and control messages, segments under 1000 bytes, spared; this kernel has no netem), a 100 Mbit/s tbf bottleneck on the sender's side" +
			" — the sender is in the host namespace so that the host's TCP settings (tuned's, AINKA's) apply to it",
		Primary: MetricSpec{Name: "throughput_mbit_s", Unit: "Mbit/s", NoiseFloor: 0.25},
		// network-throughput: larger tcp_rmem/tcp_wmem.
		TunedProfile: "network-throughput",
		// The sender's congestion control (iperf3 -C, per socket).
		Knob:  Knob{Name: "congestion control", Values: []string{"reno", "cubic", "bbr"}, QuickValues: []string{"cubic", "bbr"}},
		Tools: []string{"iperf3", "ip", "tc", "iptables"},
		New:   func() Scenario { return &tcpLossy{} },
	})
}

const (
	tcpNetns    = "ainka-bench-srv"
	tcpHostIf   = "abv0"
	tcpPeerIf   = "abv1"
	tcpHostAddr = "10.222.0.1"
	tcpPeerAddr = "10.222.0.2"
	tcpLoss     = "0.10"
	tcpDataLen  = "1000:65535" // the IP lengths the drop applies to
	tcpRate     = "100mbit"
)

type tcpLossy struct {
	netns bool
	// server: the present connection's iperf3 server; next: the next
	// connection's, started while the present one runs (tcpserver.go).
	server, next *background
	outs         [][]byte // iperf3 -J reports, one per connection
	// starts: when each connection's client started, from the workload's
	// start (the throughput series' time base).
	starts []time.Duration
	begin  time.Time // the workload's start (wall clock: the daemon's log is)
	// The tcp-lossy-cubic variant (tcp_cubic.go): the host's default
	// congestion control during the run, and connections of connSecs
	// one after another (0: one connection for the whole run).
	hostCC   string
	savedCC  string
	connSecs int
	elapsed  time.Duration
}

func (t *tcpLossy) Setup(ctx context.Context, env *Env) error {
	if _, err := run(ctx, "ip", "netns", "add", tcpNetns); err != nil {
		return err
	}
	t.netns = true
	ns := []string{"ip", "netns", "exec", tcpNetns}
	steps := [][]string{
		{"ip", "link", "add", tcpHostIf, "type", "veth", "peer", "name", tcpPeerIf, "netns", tcpNetns},
		{"ip", "addr", "add", tcpHostAddr + "/30", "dev", tcpHostIf},
		{"ip", "link", "set", tcpHostIf, "up"},
		{"ip", "-n", tcpNetns, "addr", "add", tcpPeerAddr + "/30", "dev", tcpPeerIf},
		{"ip", "-n", tcpNetns, "link", "set", tcpPeerIf, "up"},
		{"ip", "-n", tcpNetns, "link", "set", "lo", "up"},
		{"tc", "qdisc", "add", "dev", tcpHostIf, "root", "tbf", "rate", tcpRate, "burst", "32kb", "latency", "20ms"},
		// Only the data segments (1000 bytes and more: the stream's are
		// full-sized), not the SYNs nor iperf3's control messages. A
		// dropped SYN waits the 1 s initial RTO before its connection
		// starts, whatever the congestion control, and in tcp-lossy-cubic's
		// runs of 2 s connections such gaps (1-2.5 s, in every arm) moved
		// a run's figure by up to 20 %. A dropped control message (the
		// test's parameters, its end, the results: small segments on
		// their own) waits a retransmission timeout of 200 ms or more:
		// 0.2-1.4 s of gaps per run in every arm (session 8, gaps_s), the
		// figure's largest noise, which no congestion control changes.
		append(ns, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", tcpPortRange, "!", "--syn",
			"-m", "length", "--length", tcpDataLen, "-m", "statistic", "--mode", "random",
			"--probability", tcpLoss, "-j", "DROP"),
	}
	for _, s := range steps {
		if _, err := run(ctx, s[0], s[1:]...); err != nil {
			return fmt.Errorf("tcp-lossy setup: %w", err)
		}
	}
	if err := t.setHostCC(); err != nil {
		return err
	}
	srv, err := startServer(0)
	if err != nil {
		return err
	}
	t.server = srv
	time.Sleep(300 * time.Millisecond) // the server listens
	return nil
}

func (t *tcpLossy) Workload(ctx context.Context, env *Env) error {
	secs := int(env.Duration.Seconds())
	start := time.Now()
	t.begin = start
	if t.connSecs == 0 {
		t.starts = append(t.starts, 0)
		out, err := t.conn(ctx, env, 0, secs, false)
		t.outs = append(t.outs, out)
		return err
	}
	for i := 0; time.Since(start) < env.Duration-time.Duration(t.connSecs)*time.Second/2; i++ {
		at := time.Since(start)
		out, err := t.conn(ctx, env, i, t.connSecs, true)
		if err != nil {
			return err
		}
		t.outs, t.starts = append(t.outs, out), append(t.starts, at)
	}
	t.elapsed = time.Since(start)
	return nil
}

// conn runs connection i, of secs seconds, against its own server; when
// more may follow, it starts the next connection's server first.
func (t *tcpLossy) conn(ctx context.Context, env *Env, i, secs int, more bool) ([]byte, error) {
	if more {
		next, err := startServer(i + 1)
		if err != nil {
			return nil, err
		}
		t.next = next
	}
	srv := t.server
	out, err := t.iperf(ctx, env, connPort(i), secs)
	if gone, e := srv.exited(); err != nil && gone {
		err = fmt.Errorf("%w; its server on port %d had exited (%v): %s", err, connPort(i), e, tail(srv.errb.String(), 300))
	}
	srv.kill()
	t.server, t.next = t.next, nil
	return out, err
}

// iperf runs one iperf3 client connection of secs seconds to port.
func (t *tcpLossy) iperf(ctx context.Context, env *Env, port, secs int) ([]byte, error) {
	// Intervals of 0.25 s: the series shows the first fraction of a
	// second of each connection, where a tuner's change lands.
	args := []string{"-c", tcpPeerAddr, "-p", strconv.Itoa(port), "-t", strconv.Itoa(secs), "-J", "-i", "0.25"}
	if env.KnobValue != "" {
		args = append(args, "-C", env.KnobValue)
	}
	// The server may not listen yet (the first connection's, started at
	// the setup): retried.
	return retryIperf(ctx, iperfRetryFor, iperfRetryPause, func() ([]byte, error) {
		return run(ctx, "iperf3", args...)
	})
}

func (t *tcpLossy) Metric(env *Env) (*Figures, error) {
	var recvBytes, bps, sent, retrans, cpu float64
	for _, out := range t.outs {
		r, err := parseIperf(out)
		if err != nil {
			return nil, err
		}
		recvBytes += r.End.Received.Bytes
		bps, sent, cpu = bps+r.End.Received.BPS, sent+r.End.Sent.BPS, cpu+r.End.CPU.Host
		retrans += r.End.Sent.Retransmits
	}
	n := float64(len(t.outs))
	if n == 0 {
		return nil, errors.New("iperf3: no report")
	}
	f := newFigures()
	t.series(f)
	if !t.begin.IsZero() {
		// To read the arm's daemon log against (its times are wall clock).
		f.Values["workload_start_unix_s"] = float64(t.begin.UnixMilli()) / 1e3
	}
	f.Values["throughput_mbit_s"] = bps / n / 1e6
	if t.connSecs > 0 && t.elapsed > 0 {
		// Connections one after another: what the client got over the
		// whole run, the gaps between connections included.
		f.Values["throughput_mbit_s"] = 8 * recvBytes / t.elapsed.Seconds() / 1e6
		f.Values["connections"] = n
	}
	if t.connSecs > 0 {
		t.ccFigures(f)
		t.gapFigures(f)
	}
	f.Values["sent_mbit_s"] = sent / n / 1e6
	f.Values["retransmits"] = retrans
	f.Values["sender_cpu_pct"] = cpu / n
	return f, nil
}

// series puts the connections' throughput over time in f ("sent
// Mbit/s": what the client wrote in each of iperf3's intervals, placed
// at its connection's start in the workload).
func (t *tcpLossy) series(f *Figures) {
	for i, out := range t.outs {
		r, err := parseIperf(out)
		if err != nil || i >= len(t.starts) {
			continue
		}
		for _, iv := range r.Intervals {
			f.Series["sent Mbit/s"] = append(f.Series["sent Mbit/s"], Point{T: t.starts[i].Seconds() + iv.Sum.End, V: iv.Sum.BPS / 1e6})
		}
	}
}

type iperfReport struct {
	Intervals []struct {
		Sum struct {
			End float64 `json:"end"` // seconds from the connection's test start
			BPS float64 `json:"bits_per_second"`
		} `json:"sum"`
	} `json:"intervals"`
	End struct {
		Sent struct {
			BPS         float64 `json:"bits_per_second"`
			Retransmits float64 `json:"retransmits"`
		} `json:"sum_sent"`
		Received struct {
			BPS     float64 `json:"bits_per_second"`
			Bytes   float64 `json:"bytes"`
			Seconds float64 `json:"seconds"`
		} `json:"sum_received"`
		CPU struct {
			Host float64 `json:"host_total"`
		} `json:"cpu_utilization_percent"`
		// SenderCC is the congestion control the connection ran with.
		SenderCC string `json:"sender_tcp_congestion"`
	} `json:"end"`
	Error string `json:"error"`
}

func parseIperf(out []byte) (*iperfReport, error) {
	var res iperfReport
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("iperf3 report: %w", err)
	}
	if res.Error != "" {
		return nil, errors.New("iperf3: " + res.Error)
	}
	return &res, nil
}

func (t *tcpLossy) Teardown(ctx context.Context, env *Env) error {
	for _, srv := range []*background{t.server, t.next} {
		if srv != nil {
			srv.kill()
		}
	}
	if !t.netns {
		return nil
	}
	// Deleting the namespace frees its veth end asynchronously: delete
	// the host's end first and wait until it is gone.
	_, errLink := run(ctx, "ip", "link", "del", tcpHostIf)
	_, err := run(ctx, "ip", "netns", "del", tcpNetns)
	for i := 0; i < 50; i++ {
		if _, serr := os.Stat("/sys/class/net/" + tcpHostIf); serr != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.Join(err, errLink, fmt.Errorf("tcp-lossy: %s still present 5 s after teardown", tcpHostIf))
}
