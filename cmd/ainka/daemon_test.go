package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ainka/ainka/internal/testenv"

	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/control/controltest"
	"github.com/ainka/ainka/daemon"
)

// startReplayDaemon runs the real ainka binary as a replay daemon serving
// the control socket, and stops it with SIGTERM at the end of the test.
func startReplayDaemon(t *testing.T, extra ...string) (sock string, stderr *bytes.Buffer) {
	t.Helper()
	bin := controltest.Build(t, "github.com/ainka/ainka/cmd/ainka", "ainka")
	sock = filepath.Join(controltest.SocketDir(t), "ainka.sock")
	args := append([]string{"replay", filepath.Join(repoRoot(t), "testdata/traces/cpu.trace"),
		"--socket", sock, "--hold", "--policy", filepath.Join(repoRoot(t), "policies/default.toml")}, extra...)
	cmd := exec.Command(bin, args...)
	stderr = &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("daemon exit on SIGTERM: %v\n%s", err, stderr)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Errorf("daemon did not stop on SIGTERM")
		}
		if _, err := os.Stat(sock); err == nil {
			t.Errorf("socket %s left behind after exit", sock)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := control.NewClient(sock).Status(context.Background()); err == nil {
			return sock, stderr
		}
		select {
		case err := <-done:
			t.Fatalf("daemon exited before serving: %v\n%s", err, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon not serving %s after 20s\n%s", sock, stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCLIAgainstDaemon drives every ainka-cli command, in both spellings,
// with and without --json, against the real daemon over its real socket.
func TestCLIAgainstDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	sock, _ := startReplayDaemon(t)
	cli := controltest.BuildCLI(t)
	controltest.RunEveryCommand(t, cli, sock, controltest.PolicyArgs{Condition: "cpu_busy_pct > 99", Action: "notify"})

	// The daemon's own view after a replay: real stages, real counters.
	st, err := control.NewClient(sock).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode != "replay" || !st.DryRun || len(st.Stages) != len(daemon.StageNames) {
		t.Errorf("status = mode %q dry-run %v stages %d, want replay, dry-run, %d stages", st.Mode, st.DryRun, len(st.Stages), len(daemon.StageNames))
	}
	if st.Stages[1].Name != "decode" || st.Stages[1].Out == 0 {
		t.Errorf("decode stage %+v: want events decoded from the trace", st.Stages[1])
	}
	// A condition the real parser rejects comes back as a usage-level
	// error naming the problem.
	r := controltest.RunCLI(t, cli, sock, "policy", "add", "bad", "--condition", "cpu_busy_pct >", "--action", "notify")
	if r.Code == 0 || !strings.Contains(r.Stderr, "bad") {
		t.Errorf("bad condition accepted: exit %d, stderr %q", r.Code, r.Stderr)
	}
}

// TestSocketRefusesNonRoot connects to the daemon's socket as an
// unprivileged user: the socket's mode keeps it out.
func TestSocketRefusesNonRoot(t *testing.T) {
	testenv.RequireRoot(t, "switch to an unprivileged uid")
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	sock, _ := startReplayDaemon(t)
	cli := controltest.BuildCLI(t)
	// The CLI binary lives in a 0700 temp dir: copy it where uid 65534 can
	// run it (SocketDir is traversable by every user, like the socket's).
	pub := filepath.Join(controltest.SocketDir(t), "ainka-cli")
	data, err := os.ReadFile(cli)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(pub, "--socket", sock, "status")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if err == nil {
		t.Fatalf("uid 65534 got the daemon's status:\n%s", out.String())
	}
	if !strings.Contains(strings.ToLower(out.String()), "permission denied") && !strings.Contains(out.String(), "refused") {
		t.Errorf("unprivileged status failed without saying why: %v\n%s", err, out.String())
	}
}

// repoRoot is the module root (tests run in cmd/ainka).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}
