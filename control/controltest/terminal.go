package controltest

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Terminal is a command running in a tmux pseudo-terminal, for tests of
// what a person sees: Screen is the visible text, Keys types.
type Terminal struct {
	t    testing.TB
	name string
}

// StartTerminal runs the shell command line in a cols×rows tmux session
// that is killed at the end of the test. The test is skipped when tmux is
// not installed (CI installs it: .ci/run).
func StartTerminal(t testing.TB, cols, rows int, cmdline string) *Terminal {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed")
	}
	name := fmt.Sprintf("ainka-test-%d", time.Now().UnixNano())
	// -L: a private server, so tests never touch a person's tmux.
	out, err := exec.Command("tmux", "-L", name, "new-session", "-d", "-s", name,
		"-x", fmt.Sprint(cols), "-y", fmt.Sprint(rows), cmdline).CombinedOutput()
	if err != nil {
		t.Fatalf("start tmux: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "-L", name, "kill-server").Run() })
	return &Terminal{t: t, name: name}
}

// Screen returns the visible text of the terminal, "" once the session
// has ended.
func (m *Terminal) Screen() string {
	out, err := exec.Command("tmux", "-L", m.name, "capture-pane", "-p", "-t", m.name).Output()
	if err != nil {
		return ""
	}
	return string(out)
}

// Keys types keys (tmux key names: "q", "C-c", "Enter").
func (m *Terminal) Keys(keys ...string) {
	m.t.Helper()
	args := append([]string{"-L", m.name, "send-keys", "-t", m.name}, keys...)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		m.t.Fatalf("send keys %q: %v: %s", keys, err, out)
	}
}

// WaitFor polls the screen until it contains every one of want, and
// returns it; it fails the test with the last screen after timeout.
func (m *Terminal) WaitFor(timeout time.Duration, want ...string) string {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := m.Screen()
		missing := ""
		for _, w := range want {
			if !strings.Contains(s, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return s
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("after %s the screen lacks %q:\n%s", timeout, missing, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
