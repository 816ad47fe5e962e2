package bench

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// attempts returns an attempt function that replays outs in order (the
// last one for ever after), failing for every out but "ok", and counts
// its calls.
func attempts(n *int, outs ...string) func() ([]byte, error) {
	return func() ([]byte, error) {
		out := outs[min(*n, len(outs)-1)]
		*n++
		if out == "ok" {
			return []byte(out), nil
		}
		return []byte(out), errors.New("exit status 1")
	}
}

const (
	refused = `{"error": "error - unable to connect to server: Connection refused"}`
	busy    = `{"error": "error - the server is busy running a test. try again later"}`
)

// TestRetryIperf: a client whose server does not listen yet or is busy
// is retried until it gets through; another failure is not retried; a
// server that never accepts fails the connection after the bound,
// saying how long it tried; a cancelled run stops retrying.
func TestRetryIperf(t *testing.T) {
	ctx := context.Background()
	var n int
	out, err := retryIperf(ctx, time.Second, time.Millisecond, attempts(&n, refused, busy, "ok"))
	if err != nil || string(out) != "ok" || n != 3 {
		t.Errorf("refused, busy, ok: %q %v after %d attempts, want ok after 3", out, err, n)
	}

	n = 0
	other := `{"error": "error - unable to send control message: Connection reset by peer"}`
	if _, err = retryIperf(ctx, time.Second, time.Millisecond, attempts(&n, other, "ok")); err == nil || n != 1 {
		t.Errorf("another failure: %v after %d attempts, want its error after 1", err, n)
	}

	n = 0
	start := time.Now()
	_, err = retryIperf(ctx, 100*time.Millisecond, 10*time.Millisecond, attempts(&n, busy))
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "did not accept") || !strings.Contains(err.Error(), "exit status 1") {
		t.Errorf("always busy: %v, want the bound's error wrapping the last one", err)
	}
	if took < 90*time.Millisecond || took > 5*time.Second || n < 2 {
		t.Errorf("always busy: gave up after %v and %d attempts, want the 100 ms bound", took, n)
	}

	n = 0
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err = retryIperf(cctx, time.Hour, time.Millisecond, attempts(&n, refused)); err == nil || n != 1 {
		t.Errorf("cancelled: %v after %d attempts, want to stop at once", err, n)
	}
}

// TestConnPorts: consecutive connections alternate between the two
// servers' ports, which the drop rule's range covers.
func TestConnPorts(t *testing.T) {
	if connPort(0) == connPort(1) || connPort(0) != connPort(2) || connPort(1) != connPort(3) {
		t.Errorf("ports %d %d %d %d", connPort(0), connPort(1), connPort(2), connPort(3))
	}
	if tcpPortRange != "5201:5202" {
		t.Errorf("drop rule's ports %s", tcpPortRange)
	}
}
