package control_test

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/control/controltest"
)

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// A flood of connections that never finish their request held a file
// descriptor each, without bound (21 000 of them exhausted the daemon's
// descriptors; actuation then failed with "too many open files"). Now the
// server holds at most MaxConns, answers the rest 503 at once, frees the
// stalled ones after ReadTimeout, and then answers normally again.
func TestSocketFlood(t *testing.T) {
	const maxConns, flood = 16, 2000
	s := controltest.StartServer(t, controltest.NewFakeDaemon(), control.Options{MaxConns: maxConns, ReadTimeout: 3 * time.Second})
	base := openFDs(t)
	conns := make([]net.Conn, 0, flood)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	t0 := time.Now()
	for i := 0; i < flood; i++ {
		c, err := net.Dial("unix", s.SocketPath())
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
		c.Write([]byte("POST /v1/policies HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"name\":"))
	}
	time.Sleep(300 * time.Millisecond) // the server has answered the last ones
	// This process holds the flood's client ends; the server's own
	// descriptors are what is left: the connections it serves, not the flood.
	server := openFDs(t) - base - flood
	dialing := time.Since(t0)
	if server > 2*maxConns+8 { // served and being refused
		t.Errorf("the server holds %d descriptors more during a flood of %d (limit %d connections)", server, flood, maxConns)
	}
	// While the slots are taken, a client is told so at once.
	if code, body := rawRequestErr(s.SocketPath(), "GET", "/v1/status", ""); dialing < 2*time.Second &&
		(code != http.StatusServiceUnavailable || !strings.Contains(body, "too many connections")) {
		t.Errorf("during the flood: %d %s, want 503", code, body)
	}
	busy := 0 // a refusal answers when it can, else just closes
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		if strings.HasPrefix(line, "HTTP/1.1 503") {
			busy++
		}
		c.Close()
	}
	t.Logf("flood of %d dialled in %v: server descriptors +%d, %d answered 503", flood, dialing, server, busy)
	// The stalled bodies time out; the socket answers again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := rawRequestErr(s.SocketPath(), "GET", "/v1/status", "")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer after the flood: %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rawRequestErr is rawRequest that returns a failure as code 0.
func rawRequestErr(sock, method, path, body string) (int, string) {
	c, err := net.Dial("unix", sock)
	if err != nil {
		return 0, err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	req, _ := http.NewRequest(method, "http://x"+path, strings.NewReader(body))
	if err := req.Write(c); err != nil {
		return 0, err.Error()
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b strings.Builder
	bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String()
}

// Malformed and oversized requests: each a 4xx naming the problem.
func TestHostileRequests(t *testing.T) {
	s := controltest.StartServer(t, controltest.NewFakeDaemon(), control.Options{})
	long := strings.Repeat("n", 12_000) // under the header limit
	for _, tc := range []struct {
		name, method, path, body string
		code                     int
		msg                      string
	}{
		{"trailing JSON", "POST", "/v1/policies", `{"name":"a","condition":"cpu>1","action":"notify"}{"name":"b"}`, 400, "data after the JSON value"},
		{"trailing garbage", "POST", "/v1/emergency", `{"on":true} x`, 400, "data after the JSON value"},
		{"body too large", "POST", "/v1/policies", `{"name":"` + strings.Repeat("a", 100_000) + `"}`, 400, "request body too large"},
		{"long name echoed", "DELETE", "/v1/policies/" + long, "", 404, "more bytes)"},
	} {
		code, body := rawRequestErr(s.SocketPath(), tc.method, tc.path, tc.body)
		if code != tc.code || !strings.Contains(body, tc.msg) {
			t.Errorf("%s: %d %.300s, want %d containing %q", tc.name, code, body, tc.code, tc.msg)
		}
		if len(body) > 2048 {
			t.Errorf("%s: a %d-byte error reply", tc.name, len(body))
		}
	}
	// A trailing newline is not trailing data.
	if code, body := rawRequestErr(s.SocketPath(), "POST", "/v1/emergency", "{\"on\":true}\n\n"); code != 200 {
		t.Errorf("body with a trailing newline: %d %s", code, body)
	}
	// Headers over the limit.
	req := "GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("h", 64<<10) + "\r\n\r\n"
	c, err := net.Dial("unix", s.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte(req))
	line, _ := bufio.NewReader(c).ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 431") {
		t.Errorf("64 KiB header: %q, want 431", line)
	}
}
