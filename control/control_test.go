package control_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ainka/ainka/internal/testenv"

	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/control/controltest"
)

// TestMain doubles as the unprivileged client of TestUnprivilegedPeer: run
// with AINKA_CTL_CHILD_SOCKET set, the binary asks for the status and
// prints the outcome.
func TestMain(m *testing.M) {
	if sock := os.Getenv("AINKA_CTL_CHILD_SOCKET"); sock != "" {
		c := control.NewClient(sock)
		_, err := c.Status(context.Background())
		if err != nil {
			fmt.Printf("uid=%d error: %v\n", os.Getuid(), err)
			os.Exit(0)
		}
		fmt.Printf("uid=%d ok\n", os.Getuid())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestEveryEndpoint(t *testing.T) {
	fake := controltest.NewFakeDaemon()
	s := controltest.StartServer(t, fake, control.Options{})
	c := control.NewClient(s.SocketPath())
	defer c.Close()

	st, err := c.Status(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.State != "optimizing" || st.Mode != "replay" || len(st.Stages) != 2 || st.Ring[0].Lost != 10 {
		t.Fatalf("status = %+v", st)
	}
	if st.UptimeSec < 89 || st.UptimeSec > 200 {
		t.Errorf("uptime = %v, want about 90 s", st.UptimeSec)
	}
	if st.Stages[0].InPerSec <= 0 {
		t.Errorf("source rate = %v, want > 0", st.Stages[0].InPerSec)
	}

	m, err := c.Metrics(ctx(t))
	if err != nil || !strings.Contains(m, `ainka_stage_in_total{stage="decode"} 12345`) {
		t.Fatalf("metrics = %q, %v", m, err)
	}

	if err := c.AddPolicy(ctx(t), control.PolicySpec{Name: "mem", Condition: "mem_available_mb < 100", Action: "drop_caches", Priority: 5}); err != nil {
		t.Fatal(err)
	}
	ps, err := c.Policies(ctx(t))
	if err != nil || len(ps) != 2 || ps[1].Name != "mem" || ps[1].Priority != 5 || ps[1].Source != "api" {
		t.Fatalf("policies = %+v, %v", ps, err)
	}
	if err := c.RemovePolicy(ctx(t), "mem"); err != nil {
		t.Fatal(err)
	}

	o, err := c.Optimize(ctx(t))
	if err != nil || len(o.Decisions) != 2 || o.Decisions[0].Changes[0].To != "balance_power" {
		t.Fatalf("optimize = %+v, %v", o, err)
	}
	if err := c.SetEmergency(ctx(t), true); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Status(ctx(t)); !st.Emergency || st.State != "emergency" {
		t.Fatalf("emergency not set: %+v", st)
	}
	if err := c.SetEmergency(ctx(t), false); err != nil {
		t.Fatal(err)
	}
	r, err := c.Reset(ctx(t))
	if err != nil || len(r.Reverted) != 1 || len(r.Cleared) != 2 {
		t.Fatalf("reset = %+v, %v", r, err)
	}
	rb, err := c.Rollback(ctx(t), true)
	if err != nil || len(rb.Commands) != 1 || len(rb.Restored) != 0 {
		t.Fatalf("rollback --print = %+v, %v", rb, err)
	}
	rb, err = c.Rollback(ctx(t), false)
	if err != nil || len(rb.Restored) != 1 {
		t.Fatalf("rollback = %+v, %v", rb, err)
	}
	want := []string{"Metrics", "AddPolicy mem", "ListPolicies", "RemovePolicy mem", "Optimize", "SetEmergency true", "SetEmergency false", "Reset", "Rollback(print)", "Rollback"}
	if got := fake.CallLog(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("calls = %v\nwant    %v", got, want)
	}
}

func TestErrorsReachTheClient(t *testing.T) {
	fake := controltest.NewFakeDaemon()
	s := controltest.StartServer(t, fake, control.Options{})
	c := control.NewClient(s.SocketPath())

	err := c.RemovePolicy(ctx(t), "nope")
	if !errors.Is(err, control.ErrNotFound) || err.Error() != `policy "nope": not found` {
		t.Errorf("remove unknown = %v", err)
	}
	err = c.AddPolicy(ctx(t), control.PolicySpec{Name: "cpu_high", Condition: "x>1", Action: "a"})
	if !errors.Is(err, control.ErrConflict) || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate = %v", err)
	}
	err = c.AddPolicy(ctx(t), control.PolicySpec{Name: "bad", Condition: "cpu ?? 3", Action: "a"})
	if !errors.Is(err, control.ErrInvalid) || !strings.Contains(err.Error(), "column 5") {
		t.Errorf("bad condition = %v", err)
	}
	err = c.AddPolicy(ctx(t), control.PolicySpec{Name: "x"})
	if !errors.Is(err, control.ErrInvalid) || !strings.Contains(err.Error(), "name, condition and action are required") {
		t.Errorf("missing fields = %v", err)
	}
	err = c.AddPolicy(ctx(t), control.PolicySpec{Name: "x", Condition: "a>1", Action: "b", Cooldown: "soon"})
	if !errors.Is(err, control.ErrInvalid) || !strings.Contains(err.Error(), `cooldown "soon"`) {
		t.Errorf("bad cooldown = %v", err)
	}
	// A name with a slash survives the URL path.
	if err := c.RemovePolicy(ctx(t), "a/b"); !errors.Is(err, control.ErrNotFound) || !strings.Contains(err.Error(), `"a/b"`) {
		t.Errorf("remove a/b = %v", err)
	}
	err = c.Logs(ctx(t), 0, false, func(control.LogEntry) error { return nil })
	if err != nil {
		t.Errorf("logs without a ring: %v", err)
	}

	fake.SetFail(errors.New("pipeline stopped"))
	if _, err := c.Optimize(ctx(t)); err == nil || err.Error() != "pipeline stopped" {
		t.Errorf("daemon failure = %v", err)
	} else if ae := (*control.APIError)(nil); !errors.As(err, &ae) || ae.Status != 500 {
		t.Errorf("daemon failure status: %v", err)
	}
	if _, err := c.Status(ctx(t)); err == nil {
		t.Error("failing status accepted")
	}
}

func rawRequest(t *testing.T, sock, method, path, body string) (int, string) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return net.Dial("unix", sock)
	}}}
	req, _ := http.NewRequest(method, "http://x"+path, strings.NewReader(body))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestBadRequests(t *testing.T) {
	s := controltest.StartServer(t, controltest.NewFakeDaemon(), control.Options{})
	for _, tc := range []struct {
		method, path, body string
		code               int
		msg                string
	}{
		{"POST", "/v1/policies", "{", 400, "bad JSON body"},
		{"POST", "/v1/policies", `{"name":"a","condition":"x","action":"y","colour":1}`, 400, `unknown field \"colour\"`},
		{"POST", "/v1/emergency", `{"on":"yes"}`, 400, `want {\"on\": true|false}`},
		{"GET", "/v1/logs?since=yesterday", "", 400, `since=\"yesterday\" is not a positive duration`},
		{"GET", "/v2/status", "", 404, "no endpoint GET /v2/status"},
		{"DELETE", "/v1/status", "", 404, "no endpoint DELETE /v1/status"},
	} {
		code, body := rawRequest(t, s.SocketPath(), tc.method, tc.path, tc.body)
		if code != tc.code || !strings.Contains(body, tc.msg) {
			t.Errorf("%s %s %s: %d %s, want %d containing %q", tc.method, tc.path, tc.body, code, body, tc.code, tc.msg)
		}
	}
}

type slowDaemon struct{ *controltest.FakeDaemon }

func (slowDaemon) Optimize(ctx context.Context) (control.OptimizeResult, error) {
	<-ctx.Done()
	return control.OptimizeResult{}, fmt.Errorf("evaluation cycle: %w", ctx.Err())
}

func TestDaemonTimeout(t *testing.T) {
	s := controltest.StartServer(t, slowDaemon{controltest.NewFakeDaemon()}, control.Options{Timeout: 50 * time.Millisecond})
	_, err := control.NewClient(s.SocketPath()).Optimize(ctx(t))
	var ae *control.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusGatewayTimeout || !strings.Contains(err.Error(), "did not answer within 50ms") {
		t.Fatalf("slow daemon: %v", err)
	}
}

func TestSocketFile(t *testing.T) {
	dir := controltest.SocketDir(t)
	sock := filepath.Join(dir, "sub", "dir", "ainka.sock")
	controltest.StartServer(t, controltest.NewFakeDaemon(), control.Options{SocketPath: sock})
	st, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || st.Mode()&os.ModeSocket == 0 {
		t.Errorf("socket mode = %v, want srw-------", st.Mode())
	}
	if dst, _ := os.Stat(filepath.Dir(sock)); dst.Mode().Perm() != 0o755 {
		t.Errorf("socket directory mode = %v, want 0755", dst.Mode().Perm())
	}

	// A second daemon on the same path is refused and leaves the first alone.
	s2, _ := control.NewServer(controltest.NewFakeDaemon(), control.Options{SocketPath: sock})
	if err := s2.Listen(); !errors.Is(err, control.ErrAlreadyListening) {
		t.Fatalf("second Listen = %v, want ErrAlreadyListening", err)
	}
	if _, err := control.NewClient(sock).Status(ctx(t)); err != nil {
		t.Fatalf("first server broken by the second: %v", err)
	}
}

func TestSocketGroup(t *testing.T) {
	testenv.RequireRoot(t, "chown of the socket to a group")
	sock := filepath.Join(controltest.SocketDir(t), "ainka.sock")
	controltest.StartServer(t, controltest.NewFakeDaemon(), control.Options{SocketPath: sock, Group: "65534"})
	st, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o660 || st.Sys().(*syscall.Stat_t).Gid != 65534 {
		t.Errorf("socket mode %v gid %d, want 0660 gid 65534", st.Mode().Perm(), st.Sys().(*syscall.Stat_t).Gid)
	}
	if _, err := control.NewServer(controltest.NewFakeDaemon(), control.Options{Group: "no-such-group-ainka"}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("unknown group: %v", err)
	}
}

func TestStaleSocketReplaced(t *testing.T) {
	sock := filepath.Join(controltest.SocketDir(t), "ainka.sock")
	// A socket file left by a daemon that was killed: bound, not listening.
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: sock}); err != nil {
		t.Fatal(err)
	}
	syscall.Close(fd)

	_, err = control.NewClient(sock).Status(ctx(t))
	if !errors.Is(err, control.ErrNotRunning) || !strings.Contains(err.Error(), "nothing listens on "+sock) {
		t.Fatalf("stale socket client error = %v", err)
	}
	controltest.StartServer(t, controltest.NewFakeDaemon(), control.Options{SocketPath: sock})
	if _, err := control.NewClient(sock).Status(ctx(t)); err != nil {
		t.Fatalf("after replacing the stale socket: %v", err)
	}
}

func TestNotRunning(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	_, err := control.NewClient(sock).Status(ctx(t))
	want := "ainka daemon is not running (no socket at " + sock + "): start it with 'ainka run'"
	if !errors.Is(err, control.ErrNotRunning) || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}

func TestSocketRemovedAtStop(t *testing.T) {
	sock := filepath.Join(controltest.SocketDir(t), "ainka.sock")
	s, err := control.NewServer(controltest.NewFakeDaemon(), control.Options{SocketPath: sock})
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(c) }()
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Fatalf("socket still there after Serve returned: %v", err)
	}
}

func TestLogsOverSocket(t *testing.T) {
	ring := control.NewLogRing(100)
	log := slog.New(ring.Handler(slog.NewTextHandler(io.Discard, nil)))
	log.Info("old", "n", 1)
	s := controltest.StartServer(t, controltest.NewFakeDaemon(), control.Options{Logs: ring})
	c := control.NewClient(s.SocketPath())

	var got []string
	err := c.Logs(ctx(t), time.Minute, false, func(e control.LogEntry) error {
		got = append(got, fmt.Sprintf("%s %s %v", e.Level, e.Msg, e.Attrs["n"]))
		return nil
	})
	if err != nil || strings.Join(got, "|") != "INFO old 1" {
		t.Fatalf("logs = %q, %v", got, err)
	}

	// Follow: the backlog, then new entries as they are logged.
	fctx, cancel := context.WithCancel(ctx(t))
	defer cancel()
	lines := make(chan string, 10)
	go func() {
		c.Logs(fctx, 0, true, func(e control.LogEntry) error {
			lines <- e.Msg
			return nil
		})
		close(lines)
	}()
	if m := <-lines; m != "old" {
		t.Fatalf("first followed entry = %q", m)
	}
	go func() {
		for i := 0; fctx.Err() == nil; i++ {
			log.Warn("new", "i", i)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	select {
	case m := <-lines:
		if m != "new" {
			t.Fatalf("followed entry = %q", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no followed entry within 5s")
	}
	cancel()
	for range lines {
	}
}

// TestUnprivilegedPeer really switches to uid 65534 (nobody) in a child
// process and checks that the socket refuses it, by file mode first and, with
// the mode opened up, by the peer-credential check; a member of the
// configured group is let in.
func TestUnprivilegedPeer(t *testing.T) {
	testenv.RequireRoot(t, "switching to an unprivileged uid")
	dir := controltest.SocketDir(t)
	// The test binary lives in a 0700 build directory: copy it where
	// nobody can execute it.
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "child.test")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	// The child's outcome is its stdout; stderr is the Go runtime's and
	// the tooling's (under -cover: "GOCOVERDIR not set"), shown on failure.
	runAs := func(sock string, uid, gid uint32, groups ...uint32) string {
		cmd := exec.Command(bin)
		cmd.Env = []string{"AINKA_CTL_CHILD_SOCKET=" + sock}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid, Groups: append([]uint32{}, groups...)}}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child as uid %d: %v\n%s%s", uid, err, out, stderr.String())
		}
		return strings.TrimSpace(string(out))
	}

	// Root only, mode 0600: the kernel refuses the connection.
	rootOnly := filepath.Join(dir, "root.sock")
	controltest.StartServer(t, controltest.NewFakeDaemon(), control.Options{SocketPath: rootOnly})
	out := runAs(rootOnly, 65534, 65534)
	if !strings.Contains(out, "uid=65534 error: permission denied on "+rootOnly) {
		t.Errorf("nobody on a 0600 socket: %q", out)
	}
	// Even if the file mode is opened up, the peer check refuses.
	if err := os.Chmod(rootOnly, 0o666); err != nil {
		t.Fatal(err)
	}
	out = runAs(rootOnly, 65534, 65534)
	if !strings.Contains(out, "uid=65534 error: permission denied: uid 65534") || !strings.Contains(out, "is not root") {
		t.Errorf("nobody past the file mode: %q", out)
	}

	// With socket_group = 65534: a member is let in, a non-member is not.
	grp := filepath.Join(dir, "group.sock")
	controltest.StartServer(t, controltest.NewFakeDaemon(), control.Options{SocketPath: grp, Group: "65534"})
	if out := runAs(grp, 65534, 65534); out != "uid=65534 ok" {
		t.Errorf("group member: %q", out)
	}
	if err := os.Chmod(grp, 0o666); err != nil {
		t.Fatal(err)
	}
	out = runAs(grp, 65534, 12345)
	if !strings.Contains(out, "not in group 65534 (gid 65534)") {
		t.Errorf("non-member past the file mode: %q", out)
	}
	// A supplementary group counts too.
	if out := runAs(grp, 65534, 12345, 65534); out != "uid=65534 ok" {
		t.Errorf("supplementary member: %q", out)
	}
}

// BenchmarkStatusParallel measures the control API's answer time while many
// clients ask at once; the p99 is reported (the goal is under 100 ms with
// the pipeline at full load, which the daemon's own benchmark adds).
func BenchmarkStatusParallel(b *testing.B) {
	s := controltest.StartServer(b, controltest.NewFakeDaemon(), control.Options{})
	lat := make(chan time.Duration, b.N+64)
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := control.NewClient(s.SocketPath())
		defer c.Close()
		for pb.Next() {
			t0 := time.Now()
			if _, err := c.Status(context.Background()); err != nil {
				b.Error(err)
				return
			}
			lat <- time.Since(t0)
		}
	})
	b.StopTimer()
	close(lat)
	var all []time.Duration
	for d := range lat {
		all = append(all, d)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	}
}

// BenchmarkStatus is one client asking in a loop: the round trip of one
// `ainka-cli status` request once connected.
func BenchmarkStatus(b *testing.B) {
	s := controltest.StartServer(b, controltest.NewFakeDaemon(), control.Options{})
	c := control.NewClient(s.SocketPath())
	defer c.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Status(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestStopWithFollower: a `logs -f` in progress does not hold up the
// daemon's exit.
func TestStopWithFollower(t *testing.T) {
	ring := control.NewLogRing(10)
	sock := filepath.Join(controltest.SocketDir(t), "ainka.sock")
	s, err := control.NewServer(controltest.NewFakeDaemon(), control.Options{SocketPath: sock, Logs: ring, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(sctx) }()
	followed := make(chan error, 1)
	got := make(chan struct{}, 1)
	slog.New(ring.Handler(nil)).Info("before")
	go func() {
		followed <- control.NewClient(sock).Logs(context.Background(), 0, true, func(control.LogEntry) error {
			got <- struct{}{}
			return nil
		})
	}()
	<-got // the follower is connected
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Serve did not return within 3s with a follower connected")
	}
	select {
	case err := <-followed:
		if err != nil {
			t.Fatalf("follower ended with %v, want a clean end", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the follower was not ended")
	}
}
