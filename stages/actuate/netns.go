package actuate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/stages/decide/action"
)

// A network namespace's sysctls (net.ipv4.*: tcp_congestion_control,
// tcp_rmem, ...) are its own: /proc/sys/net shows the copy of the
// namespace of the thread that opens it. So a knob of another namespace
// is read and written by a thread that enters the namespace (setns) for
// the open, on a goroutine of its own locked to that thread: if the
// thread cannot go back to the daemon's namespace it is left locked, and
// the Go runtime ends it with its goroutine rather than reuse it.

// errNoNetns: no name or process opens the namespace any more.
var errNoNetns = errors.New("network namespace not found")

// netnsKnob is sysctl name inside the namespace of inode ino. The
// namespace is looked up at every read and write: one deleted since
// leaves nothing to restore (errGone).
func (s *Stage) netnsKnob(key string, ino uint64, name string) *knob {
	p := s.sysctlPath(name)
	k := &knob{key: key, typ: "file", path: p, desc: fmt.Sprintf("%s in network namespace %d", p, ino)}
	k.read = func() (string, error) {
		var v string
		err := s.inNetns(ino, func() error {
			b, err := os.ReadFile(p)
			v = norm(string(b))
			return err
		})
		return v, err
	}
	k.write = func(v string) error {
		return s.inNetns(ino, func() error { return os.WriteFile(p, []byte(v), 0) })
	}
	k.cmd = func(v string) string {
		ns, err := s.netnsPath(ino)
		if err != nil {
			ns = fmt.Sprintf("<netns %d>", ino)
		}
		return fmt.Sprintf("nsenter --net=%s sysctl -w %s=%s", shellQuote(ns), name, shellQuote(v))
	}
	return k
}

// inNetns runs f on a thread inside the namespace of inode ino.
func (s *Stage) inNetns(ino uint64, f func() error) error {
	path, err := s.netnsPath(ino)
	if err != nil {
		return fmt.Errorf("%w: %v", errGone, err)
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		back, err := enterNetns(path, ino)
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		ferr := f()
		err = unix.Setns(back, unix.CLONE_NEWNET)
		unix.Close(back)
		if err == nil {
			runtime.UnlockOSThread()
		} // else the thread dies with this goroutine
		done <- errors.Join(ferr, err)
	}()
	return <-done
}

// enterNetns moves the calling (locked) thread into the namespace at path
// if it is still inode ino, and returns an fd of the namespace to go back to.
func enterNetns(path string, ino uint64) (int, error) {
	back, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open own network namespace: %w", err)
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(back)
		return -1, fmt.Errorf("%w: open %s: %v", errGone, path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Ino != ino {
		unix.Close(back)
		return -1, fmt.Errorf("%w: %s is no longer network namespace %d", errGone, path, ino)
	}
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		unix.Close(back)
		return -1, fmt.Errorf("enter network namespace %d (%s): %w", ino, path, err)
	}
	return back, nil
}

// netnsPath finds a file that opens the network namespace of inode ino:
// a name under /run/netns (ip netns), else /proc/PID/ns/net of a process
// in it.
func (s *Stage) netnsPath(ino uint64) (string, error) {
	var st unix.Stat_t
	if names, err := os.ReadDir(s.cfg.RunNetns); err == nil {
		for _, n := range names {
			p := filepath.Join(s.cfg.RunNetns, n.Name())
			if unix.Stat(p, &st) == nil && st.Ino == ino {
				return p, nil
			}
		}
	}
	procs, err := os.ReadDir(s.cfg.Proc)
	if err != nil {
		return "", err
	}
	for _, d := range procs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		p := filepath.Join(s.cfg.Proc, d.Name(), "ns", "net")
		if unix.Stat(p, &st) == nil && st.Ino == ino {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: inode %d", errNoNetns, ino)
}

// planNetnsSysctl plans a sysctl inside a network namespace. Couplings
// are checked against the host's values, which are the global ones
// (net.core.rmem_max has no copy per namespace).
func (s *Stage) planNetnsSysctl(a action.Action, ino uint64) ([]plan, error) {
	spec := action.Sysctls[a.Target]
	spec.Name = a.Target
	if _, err := s.netnsPath(ino); err != nil {
		return nil, fmt.Errorf("%w: sysctl %s: %v", errUnsupported, a.Target, err)
	}
	return []plan{{s.netnsKnob(a.Key(), ino, a.Target), s.sysctlTarget(a, spec)}}, nil
}

// netnsKnobForKey rebuilds "sysctl:netns:INODE:NAME" from the journal.
func (s *Stage) netnsKnobForKey(key, rest string) (*knob, error) {
	ns, name, _ := strings.Cut(strings.TrimPrefix(rest, action.NetnsPrefix), ":")
	ino, err := strconv.ParseUint(ns, 10, 32)
	if err != nil || ino == 0 || !action.PerNetns(name) {
		return nil, fmt.Errorf("%w: sysctl %q in a network namespace", errNotAllowed, rest)
	}
	return s.netnsKnob(key, ino, name), nil
}
