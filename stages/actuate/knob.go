package actuate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/kmod/genl"
)

// knob is one thing AINKA can read and write, identified by key in the
// journal.
type knob struct {
	key  string
	typ  string // journal type: file, nice, ioprio, kernel
	path string // file path; "PID:START" for nice/ioprio; recommendation key for kernel
	desc string // for humans: "/proc/sys/vm/swappiness", "pid 1234 (stress-ng)"

	read  func() (string, error)
	write func(string) error
	cmd   func(v string) string // shell equivalent of writing v
}

// errGone: the process or file the knob reached no longer exists, so
// there is nothing to restore.
var errGone = errors.New("knob gone")

func fileKnob(key, path string) *knob {
	k := &knob{key: key, typ: "file", path: path, desc: path}
	k.read = func() (string, error) {
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%w: %s", errGone, path)
		}
		if err != nil {
			return "", fmt.Errorf("read %s: %w", path, err)
		}
		return norm(string(b)), nil
	}
	k.write = func(v string) error {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: %s", errGone, path)
		}
		if err != nil {
			return fmt.Errorf("open %s: %w", path, err)
		}
		_, err = f.WriteString(v)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %q to %s: %w", v, path, err)
		}
		return nil
	}
	k.cmd = func(v string) string { return fmt.Sprintf("echo %s > %s", shellQuote(v), shellQuote(path)) }
	if name, ok := strings.CutPrefix(key, "sysctl:"); ok {
		k.cmd = func(v string) string { return fmt.Sprintf("sysctl -w %s=%s", name, shellQuote(v)) }
	}
	return k
}

// norm makes values comparable: the kernel separates tcp_rmem's numbers
// with tabs and ends lines with newlines, AINKA writes spaces.
func norm(s string) string { return strings.Join(strings.Fields(s), " ") }

// same reports whether two knob values are equal after normalization
// ("default 100" and "100" for io.weight are the same setting).
func same(a, b string) bool {
	a, b = norm(a), norm(b)
	if a == b {
		return true
	}
	return strings.TrimPrefix(a, "default ") == strings.TrimPrefix(b, "default ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '_' || r == '-' || r == '=' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// procKnob reaches one process by pid and start time: a recycled pid is a
// different process and is left alone.
func procKnob(proc, typ string, pid int, start uint64, comm string) *knob {
	id := fmt.Sprintf("%d:%d", pid, start)
	k := &knob{key: typ + ":" + id, typ: typ, path: id, desc: fmt.Sprintf("pid %d (%s)", pid, comm)}
	alive := func() error {
		pi, err := readStat(proc, pid)
		if err != nil || pi.start != start {
			return fmt.Errorf("%w: pid %d exited", errGone, pid)
		}
		return nil
	}
	switch typ {
	case "nice":
		k.read = func() (string, error) {
			pi, err := readStat(proc, pid)
			if err != nil || pi.start != start {
				return "", fmt.Errorf("%w: pid %d exited", errGone, pid)
			}
			return strconv.Itoa(pi.nice), nil
		}
		k.write = func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("nice %q: %w", v, err)
			}
			if err := alive(); err != nil {
				return err
			}
			for _, tid := range tasks(proc, pid) {
				if err := unix.Setpriority(unix.PRIO_PROCESS, tid, n); err != nil && !errors.Is(err, unix.ESRCH) {
					return fmt.Errorf("setpriority(%d, %d): %w", tid, n, err)
				}
			}
			return nil
		}
		k.cmd = func(v string) string { return fmt.Sprintf("renice -n %s -p %d", v, pid) }
	case "ioprio":
		k.read = func() (string, error) {
			if err := alive(); err != nil {
				return "", err
			}
			r, _, e := unix.Syscall(unix.SYS_IOPRIO_GET, ioprioWhoProcess, uintptr(pid), 0)
			if e != 0 {
				return "", fmt.Errorf("ioprio_get(%d): %w", pid, e)
			}
			return formatIOPrio(int(r)), nil
		}
		k.write = func(v string) error {
			prio, err := parseIOPrioValue(v)
			if err != nil {
				return err
			}
			if err := alive(); err != nil {
				return err
			}
			for _, tid := range tasks(proc, pid) {
				if _, _, e := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, uintptr(tid), uintptr(prio)); e != 0 && e != unix.ESRCH {
					return fmt.Errorf("ioprio_set(%d, %s): %w", tid, v, e)
				}
			}
			return nil
		}
		k.cmd = func(v string) string {
			p, _ := parseIOPrioValue(v)
			class, level := p>>13, p&0x1fff
			if class == 0 {
				return fmt.Sprintf("ionice -c 0 -p %d", pid)
			}
			if class == 3 {
				return fmt.Sprintf("ionice -c 3 -p %d", pid)
			}
			return fmt.Sprintf("ionice -c %d -n %d -p %d", class, level, pid)
		}
	}
	return k
}

const ioprioWhoProcess = 1

// formatIOPrio renders an ioprio value as "none", "be:N", "rt:N", "idle".
func formatIOPrio(p int) string {
	class, level := p>>13, p&0x1fff
	switch class {
	case 1:
		return fmt.Sprintf("rt:%d", level)
	case 2:
		return fmt.Sprintf("be:%d", level)
	case 3:
		return "idle"
	}
	return "none"
}

func parseIOPrioValue(v string) (int, error) {
	switch v {
	case "none":
		return 0, nil
	case "idle":
		return 3 << 13, nil
	}
	c, l, ok := strings.Cut(v, ":")
	n, err := strconv.Atoi(l)
	if !ok || err != nil || n < 0 || n > 7 {
		return 0, fmt.Errorf("ioprio %q: want none, idle, be:N or rt:N", v)
	}
	switch c {
	case "be":
		return 2<<13 | n, nil
	case "rt":
		return 1<<13 | n, nil
	}
	return 0, fmt.Errorf("ioprio %q: want none, idle, be:N or rt:N", v)
}

// absent is the value of a kernel recommendation that is not set.
const absent = "<unset>"

// kernelKnob is one recommendation in the kernel module's table.
func kernelKnob(c genl.Client, name string) *knob {
	k := &knob{key: "kernel:recommend:" + name, typ: "kernel", path: name, desc: "kernel recommendation " + name}
	ctx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), time.Second)
	}
	k.read = func() (string, error) {
		if c == nil {
			return "", fmt.Errorf("%w: kernel module not loaded", errGone)
		}
		cx, cancel := ctx()
		defer cancel()
		v, err := c.Recommendation(cx, name)
		if errors.Is(err, genl.ErrNotFound) {
			return absent, nil // the module's answer for an unset key
		}
		if err != nil {
			return "", fmt.Errorf("read kernel recommendation %s: %w", name, err)
		}
		return strconv.FormatInt(v, 10), nil
	}
	k.write = func(v string) error {
		if c == nil {
			return fmt.Errorf("%w: kernel module not loaded", errGone)
		}
		cx, cancel := ctx()
		defer cancel()
		if v == absent {
			return c.DelRecommendation(cx, name)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("recommendation %q: %w", v, err)
		}
		return c.SetRecommendation(cx, name, n)
	}
	k.cmd = func(v string) string {
		return fmt.Sprintf("# kernel recommendation %s: restore to %s with 'ainka-cli rollback' (needs the daemon) or 'rmmod ainka_core'", name, v)
	}
	return k
}
