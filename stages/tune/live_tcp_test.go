package tune_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/internal/testenv"
	"github.com/ainka/ainka/stages/actuate"
	"github.com/ainka/ainka/stages/tune"
)

// lossyLink is a client and a server namespace joined by a veth pair,
// the server dropping 10 % of the client's TCP segments at random
// (iptables -m statistic: this host's kernel has no netem), the client's
// default congestion control set to cubic.
type lossyLink struct {
	cli, srv string
	cliIno   uint64
	port     string
}

func newLossyLink(t *testing.T) *lossyLink {
	t.Helper()
	for _, tool := range []string{"ip", "iptables", "iperf3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (scripts/dev-packages.txt)", tool)
		}
	}
	id := os.Getpid() % 100000
	l := &lossyLink{cli: fmt.Sprintf("ainka-tcli-%d", id), srv: fmt.Sprintf("ainka-tsrv-%d", id), port: "5299"}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", l.cli).Run()
		exec.Command("ip", "netns", "del", l.srv).Run()
	})
	veth := fmt.Sprintf("atv%d", id)
	for _, c := range [][]string{
		{"ip", "netns", "add", l.cli}, {"ip", "netns", "add", l.srv},
		{"ip", "-n", l.cli, "link", "add", veth + "a", "type", "veth", "peer", "name", veth + "b", "netns", l.srv},
		{"ip", "-n", l.cli, "addr", "add", "10.223.0.1/30", "dev", veth + "a"},
		{"ip", "-n", l.srv, "addr", "add", "10.223.0.2/30", "dev", veth + "b"},
		{"ip", "-n", l.cli, "link", "set", veth + "a", "up"}, {"ip", "-n", l.srv, "link", "set", veth + "b", "up"},
		{"ip", "-n", l.srv, "link", "set", "lo", "up"},
		{"ip", "netns", "exec", l.srv, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", l.port,
			"-m", "statistic", "--mode", "random", "--probability", "0.10", "-j", "DROP"},
		{"ip", "netns", "exec", l.cli, "sysctl", "-qw", "net.ipv4.tcp_congestion_control=cubic"},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(c, " "), err, out)
		}
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join("/run/netns", l.cli), &st); err != nil {
		t.Fatal(err)
	}
	l.cliIno = st.Ino
	return l
}

// cc reads the client namespace's default congestion control.
func (l *lossyLink) cc(t *testing.T) string {
	out, err := exec.Command("ip", "netns", "exec", l.cli, "sysctl", "-n", "net.ipv4.tcp_congestion_control").Output()
	if err != nil {
		t.Fatalf("read the client's congestion control: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// traffic runs iperf3 clients of one second, one after another, from the
// client namespace until ctx ends (a namespace's default congestion
// control applies to the connections opened after it is set).
func (l *lossyLink) traffic(ctx context.Context, t *testing.T) {
	srv := exec.CommandContext(ctx, "ip", "netns", "exec", l.srv, "iperf3", "-s", "-B", "10.223.0.2", "-p", l.port)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer srv.Wait()
		time.Sleep(300 * time.Millisecond)
		for ctx.Err() == nil {
			exec.CommandContext(ctx, "ip", "netns", "exec", l.cli, "iperf3", "-c", "10.223.0.2", "-p", l.port, "-t", "1").Run()
		}
	}()
}

// TestLiveTCPTunerLossyLink: the tcp kind sees the client namespace's
// retransmissions on a link that drops 10 % of its segments, the TCP
// tuner classifies the namespace lossy and changes its congestion
// control, from outside the namespace, settles, and everything is
// restored at the end. A daemon started again with the model it saved
// applies the best it settled on at once when the traffic comes back,
// without a trial.
func TestLiveTCPTunerLossyLink(t *testing.T) {
	testenv.RequireRoot(t, "loads eBPF programs, creates network namespaces and writes their sysctls")
	testenv.LoadsCPU(t)
	l := newLossyLink(t)
	if got := l.cc(t); got != "cubic" {
		t.Fatalf("client namespace's congestion control %s, want cubic", got)
	}
	work := t.TempDir()
	cfg := tune.Config{TCP: tune.Act, EffectWindow: 2 * time.Second, MaxSteps: 4}
	lt := startLive(t, work, []record.Kind{record.KindTCP}, false, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l.traffic(ctx, t)
	knob := fmt.Sprintf("sysctl:netns:%d:net.ipv4.tcp_congestion_control", l.cliIno)
	applied, inNs, acted := l.firstApply(t, lt, knob)
	if !acted {
		t.Fatalf("no change of %s within 60 s; tuner: %+v", knob, lt.tuner("tcp"))
	}
	if !strings.Contains(applied.Why, "lossy") || !strings.Contains(applied.Why, "retransmitted") {
		t.Errorf("the change does not say why from the retransmissions: %s", applied.Why)
	}
	// A trial lasts an effect window (2 s): the setting read within 50 ms
	// of the write is the one written.
	if applied.Old != "cubic" || inNs != applied.New {
		t.Errorf("wrote %s -> %s, the namespace had %s just after", applied.Old, applied.New, inNs)
	}
	settled := waitFor(60*time.Second, func() bool { return lt.tuner("tcp").State == "settled" })
	logResults(t, lt.res.since(0))
	st := lt.tuner("tcp")
	t.Logf("tcp tuner: %+v", st)
	cancel()
	lt.stop(t)
	if got := l.cc(t); got != "cubic" {
		t.Errorf("client namespace's congestion control %s after the daemon stopped, want cubic restored", got)
	}
	if !settled {
		t.Fatalf("the tuner did not settle within 60 s: %+v", st)
	}
	// Which congestion control wins is this run's measurement, not a
	// property of the tuner: a clean-clone CI run measured bbr 37-78 %
	// below cubic on this veth link and kept cubic (harm reverted, as it
	// must). Then there is no best other than the original to re-apply.
	if st.Setting == "original" {
		t.Skipf("this run measured no congestion control better than cubic (kept the original); the restart half needs one: %+v", st)
	}

	lt = startLive(t, work, []record.Kind{record.KindTCP}, false, cfg)
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	l.traffic(ctx, t)
	applied, _, acted = l.firstApply(t, lt, knob)
	took := time.Since(start)
	logResults(t, lt.res.since(0))
	if !acted || applied.New != st.Setting || !strings.Contains(applied.Why, "best known") {
		t.Fatalf("restarted with the model: first change %+v, want %s re-applied as the best known", applied, st.Setting)
	}
	// The traffic starts 0.3 s after the server; the tuner needs two
	// 100 ms windows of it. The event-time figure is the tuner's own.
	t.Logf("best re-applied %v after the traffic started: %s", took, applied.Why)
	if took > 5*time.Second {
		t.Errorf("best re-applied %v after the traffic started, want within a few windows", took)
	}
	cancel()
	lt.stop(t)
	if got := l.cc(t); got != "cubic" {
		t.Errorf("client namespace's congestion control %s after the second daemon stopped, want cubic restored", got)
	}
}

// firstApply waits up to 60 s for actuate's first write of knob and
// returns it with the namespace's setting just after.
func (l *lossyLink) firstApply(t *testing.T, lt *liveTuner, knob string) (actuate.Result, string, bool) {
	var applied actuate.Result
	var inNs string
	acted := waitFor(60*time.Second, func() bool {
		for _, r := range lt.res.since(0) {
			if r.Knob == knob && r.Status == actuate.Applied {
				applied, inNs = r, l.cc(t)
				return true
			}
		}
		return false
	})
	return applied, inNs, acted
}
