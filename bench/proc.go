package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// command builds a command in its own process group, so that stopping it
// stops everything it forked (stress-ng's workers, fio's jobs).
func command(name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return c
}

// stopGroup sends sig to c's process group, then SIGKILL after grace.
func stopGroup(c *exec.Cmd, done <-chan error, sig syscall.Signal, grace time.Duration) error {
	if c.Process == nil {
		return nil
	}
	_ = syscall.Kill(-c.Process.Pid, sig)
	select {
	case err := <-done:
		return err
	case <-time.After(grace):
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		return fmt.Errorf("%s: did not stop within %s after %s, killed", c.Path, grace, sig)
	}
}

// runCmd runs a command to completion, or until ctx ends (then its
// whole process group is stopped). The error carries the tail of its
// standard error.
func runCmd(ctx context.Context, c *exec.Cmd) ([]byte, error) {
	var out, errb bytes.Buffer
	if c.Stdout == nil {
		c.Stdout = &out
	}
	if c.Stderr == nil {
		c.Stderr = &errb
	}
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", c.Path, err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = stopGroup(c, done, syscall.SIGTERM, 3*time.Second)
		return out.Bytes(), ctx.Err()
	}
	if err != nil {
		return out.Bytes(), fmt.Errorf("%s %s: %w: %s", c.Path, strings.Join(c.Args[1:], " "), err, tail(errb.String(), 400))
	}
	return out.Bytes(), nil
}

// run is runCmd of a plain command line.
func run(ctx context.Context, name string, args ...string) ([]byte, error) {
	return runCmd(ctx, command(name, args...))
}

// background is a long-running process of a workload.
type background struct {
	cmd  *exec.Cmd
	done chan error
	out  bytes.Buffer
	errb bytes.Buffer
}

func startBackground(c *exec.Cmd) (*background, error) {
	b := &background{cmd: c, done: make(chan error, 1)}
	if c.Stdout == nil {
		c.Stdout = &b.out
	}
	if c.Stderr == nil {
		c.Stderr = &b.errb
	}
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", c.Path, err)
	}
	go func() { b.done <- c.Wait() }()
	return b, nil
}

// wait waits for the process to exit by itself, or stops it when ctx ends.
func (b *background) wait(ctx context.Context) error {
	select {
	case err := <-b.done:
		b.done <- err
		if err != nil {
			return fmt.Errorf("%s: %w: %s", b.cmd.Path, err, tail(b.errb.String(), 400))
		}
		return nil
	case <-ctx.Done():
		b.stop()
		return ctx.Err()
	}
}

// stop ends the process group (SIGTERM, then SIGKILL) and reaps it.
func (b *background) stop() {
	if gone, _ := b.exited(); gone {
		return
	}
	err := stopGroup(b.cmd, b.done, syscall.SIGTERM, 5*time.Second)
	b.done <- err
}

// exited reports whether the process has exited, and how.
func (b *background) exited() (bool, error) {
	select {
	case err := <-b.done:
		b.done <- err
		return true, err
	default:
		return false, nil
	}
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// writeFile writes a sysfs/procfs value, naming the file on error.
func writeFile(path, value string) error {
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("write %q to %s: %w", value, path, err)
	}
	return nil
}

func readTrim(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// every calls f each interval until stop is closed: the samplers that
// watch a knob or a counter beside a workload.
func every(interval time.Duration, stop <-chan struct{}, f func()) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			f()
		}
	}
}
