package bench

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"syscall"
	"time"
)

// One iperf3 server per connection. A server that serves connection
// after connection (iperf3 -s) is "busy running a test" until its end
// exchange with the last client is over, and that exchange crosses the
// lossy link: a lost segment of it waits for a retransmission timeout,
// backed off. Clients retrying for up to 6 s still failed 2 of 25
// tcp-lossy-cubic runs (run E, session 7), and in the runs that did not
// fail the 0.2 s retries were most of the gaps between connections.
// So each connection gets a server of its own (iperf3 -s -1: one test,
// then exit), started while the connection before it runs, on the other
// of two ports; once its client has its report the server is killed
// (the report already holds the server's side: iperf3 exchanges the
// results before the client exits), which frees its port for the
// connection after next.
const (
	tcpPort0 = 5201
	tcpPorts = 2
)

// tcpPortRange is the ports' iptables range ("5201:5202").
var tcpPortRange = fmt.Sprintf("%d:%d", tcpPort0, tcpPort0+tcpPorts-1)

// connPort is connection i's server port.
func connPort(i int) int { return tcpPort0 + i%tcpPorts }

// startServer starts connection i's server in the scenario's namespace.
func startServer(i int) (*background, error) {
	return startBackground(command("ip", "netns", "exec", tcpNetns,
		"iperf3", "-s", "-1", "-B", tcpPeerAddr, "-p", strconv.Itoa(connPort(i))))
}

// kill ends a process group at once and reaps it: its sockets are
// closed when this returns.
func (b *background) kill() {
	if gone, _ := b.exited(); gone {
		return
	}
	if b.cmd.Process != nil {
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	}
	b.done <- <-b.done
}

// Retries of an iperf3 client whose server did not accept it yet.
const (
	// iperfRetryFor bounds them: a server started 2 s earlier listens
	// within milliseconds, so this is only reached when something is
	// wrong (and then the run fails, naming the last error).
	iperfRetryFor = 10 * time.Second
	// iperfRetryPause is short: the time waited counts against the
	// run's throughput (in every arm).
	iperfRetryPause = 50 * time.Millisecond
)

// iperfRetryable: the server does not listen yet, or still runs another
// test (a server of several tests, tcp-lossy's before this change).
func iperfRetryable(out []byte) bool {
	return bytes.Contains(out, []byte("Connection refused")) || bytes.Contains(out, []byte("server is busy"))
}

// retryIperf calls attempt until it succeeds, fails for a reason
// iperfRetryable does not name, ctx ends, or bound has passed since the
// first call, pausing pause between calls. The error says how long it
// retried.
func retryIperf(ctx context.Context, bound, pause time.Duration, attempt func() ([]byte, error)) ([]byte, error) {
	start := time.Now()
	for n := 1; ; n++ {
		out, err := attempt()
		if err == nil || ctx.Err() != nil || !iperfRetryable(out) {
			return out, err
		}
		if time.Since(start)+pause > bound {
			return out, fmt.Errorf("iperf3: %d attempts in %v, the server did not accept: %w", n, time.Since(start).Round(time.Millisecond), err)
		}
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(pause):
		}
	}
}
