package bench

import (
	"bytes"
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
		Summary: "iperf3 from the host's network namespace to a server in another one over veth, 10 % of the data packets dropped at random (iptables -m statistic in the server's namespace; this kernel has no netem), a 100 Mbit/s tbf bottleneck on the sender's side" +
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
	tcpRate     = "100mbit"
)

type tcpLossy struct {
	netns  bool
	server *background
	out    []byte
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
		append(ns, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "5201", "-m", "statistic", "--mode", "random",
			"--probability", tcpLoss, "-j", "DROP"),
	}
	for _, s := range steps {
		if _, err := run(ctx, s[0], s[1:]...); err != nil {
			return fmt.Errorf("tcp-lossy setup: %w", err)
		}
	}
	srv, err := startBackground(command("ip", append(ns[1:], "iperf3", "-s", "-1", "-B", tcpPeerAddr)...))
	if err != nil {
		return err
	}
	t.server = srv
	time.Sleep(300 * time.Millisecond) // the server listens
	return nil
}

func (t *tcpLossy) Workload(ctx context.Context, env *Env) error {
	args := []string{"-c", tcpPeerAddr, "-t", strconv.Itoa(int(env.Duration.Seconds())), "-J"}
	if env.KnobValue != "" {
		args = append(args, "-C", env.KnobValue)
	}
	var err error
	for i := 0; i < 10; i++ { // the server may not listen yet
		t.out, err = run(ctx, "iperf3", args...)
		if err == nil || ctx.Err() != nil || !bytes.Contains(t.out, []byte("Connection refused")) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

func (t *tcpLossy) Metric(env *Env) (*Figures, error) {
	var res struct {
		End struct {
			Sent struct {
				BPS         float64 `json:"bits_per_second"`
				Retransmits float64 `json:"retransmits"`
			} `json:"sum_sent"`
			Received struct {
				BPS float64 `json:"bits_per_second"`
			} `json:"sum_received"`
			CPU struct {
				Host float64 `json:"host_total"`
			} `json:"cpu_utilization_percent"`
		} `json:"end"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(t.out, &res); err != nil {
		return nil, fmt.Errorf("iperf3 report: %w", err)
	}
	if res.Error != "" {
		return nil, errors.New("iperf3: " + res.Error)
	}
	f := newFigures()
	f.Values["throughput_mbit_s"] = res.End.Received.BPS / 1e6
	f.Values["sent_mbit_s"] = res.End.Sent.BPS / 1e6
	f.Values["retransmits"] = res.End.Sent.Retransmits
	f.Values["sender_cpu_pct"] = res.End.CPU.Host
	return f, nil
}

func (t *tcpLossy) Teardown(ctx context.Context, env *Env) error {
	if t.server != nil {
		t.server.stop()
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
