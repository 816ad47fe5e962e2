package netns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// Errors of Do.
var (
	// ErrNotFound: no name or process opens the namespace any more.
	ErrNotFound = errors.New("network namespace not found")
	// ErrGone: the namespace went between finding it and entering it.
	ErrGone = errors.New("network namespace gone")
)

// Dirs are where namespaces are found: the names of ip netns (RunNetns,
// default /run/netns) and the processes (Proc, default /proc).
type Dirs struct {
	RunNetns string
	Proc     string
}

func (d Dirs) orDefault() Dirs {
	if d.RunNetns == "" {
		d.RunNetns = "/run/netns"
	}
	if d.Proc == "" {
		d.Proc = "/proc"
	}
	return d
}

// Do runs f on a thread inside the namespace of inode ino, on a
// goroutine of its own locked to that thread: if the thread cannot go
// back to the caller's namespace it is left locked, and the Go runtime
// ends it with its goroutine rather than reuse it. The namespace is
// looked up at every call.
func (d Dirs) Do(ino uint64, f func() error) error {
	path, err := d.Path(ino)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		back, err := enter(path, ino)
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

// ReadSysctl reads /proc/sys/NAME (dots for slashes) inside the
// namespace of inode ino.
func (d Dirs) ReadSysctl(ino uint64, name string) (string, error) {
	var v string
	p := filepath.Join("/proc/sys", filepath.FromSlash(dotsToSlashes(name)))
	err := d.Do(ino, func() error {
		b, err := os.ReadFile(p)
		v = string(b)
		return err
	})
	return v, err
}

func dotsToSlashes(name string) string {
	b := []byte(name)
	for i, c := range b {
		if c == '.' {
			b[i] = '/'
		}
	}
	return string(b)
}

// enter moves the calling (locked) thread into the namespace at path if
// it is still inode ino, and returns an fd of the namespace to go back to.
func enter(path string, ino uint64) (int, error) {
	back, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open own network namespace: %w", err)
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(back)
		return -1, fmt.Errorf("%w: open %s: %v", ErrGone, path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Ino != ino {
		unix.Close(back)
		return -1, fmt.Errorf("%w: %s is no longer network namespace %d", ErrGone, path, ino)
	}
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		unix.Close(back)
		return -1, fmt.Errorf("enter network namespace %d (%s): %w", ino, path, err)
	}
	return back, nil
}

// Path finds a file that opens the network namespace of inode ino: a
// name under RunNetns (ip netns), else /proc/PID/ns/net of a process in
// it.
func (d Dirs) Path(ino uint64) (string, error) {
	d = d.orDefault()
	var st unix.Stat_t
	if names, err := os.ReadDir(d.RunNetns); err == nil {
		for _, n := range names {
			p := filepath.Join(d.RunNetns, n.Name())
			if unix.Stat(p, &st) == nil && st.Ino == ino {
				return p, nil
			}
		}
	}
	procs, err := os.ReadDir(d.Proc)
	if err != nil {
		return "", fmt.Errorf("%w: inode %d: %v", ErrNotFound, ino, err)
	}
	for _, e := range procs {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		p := filepath.Join(d.Proc, e.Name(), "ns", "net")
		if unix.Stat(p, &st) == nil && st.Ino == ino {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: inode %d", ErrNotFound, ino)
}
