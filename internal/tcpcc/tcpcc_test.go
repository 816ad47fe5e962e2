package tcpcc

import (
	"errors"
	"net"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// inNewNetns runs f on a thread in a network namespace of its own, with
// its loopback up. The thread is never unlocked: it dies with its
// goroutine instead of going back to the Go scheduler in that namespace.
func inNewNetns(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- err
			return
		}
		if err := loopbackUp(); err != nil {
			done <- err
			return
		}
		done <- f()
	}()
	return <-done
}

func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// conn is a loopback TCP connection whose both ends use algorithm cc.
type conn struct{ client, server *net.TCPConn }

func dial(t *testing.T, ln *net.TCPListener, cc string) (conn, error) {
	c, err := net.DialTCP("tcp4", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		return conn{}, err
	}
	s, err := ln.AcceptTCP()
	if err != nil {
		c.Close()
		return conn{}, err
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	for _, x := range []*net.TCPConn{c, s} {
		if err := setCC(x, cc); err != nil {
			return conn{}, err
		}
	}
	return conn{c, s}, nil
}

func setCC(c *net.TCPConn, cc string) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) { serr = unix.SetsockoptString(int(fd), unix.SOL_TCP, unix.TCP_CONGESTION, cc) })
	return errors.Join(err, serr)
}

func getCC(t *testing.T, c *net.TCPConn) string {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v string
	var gerr error
	if err := rc.Control(func(fd uintptr) { v, gerr = unix.GetsockoptString(int(fd), unix.SOL_TCP, unix.TCP_CONGESTION) }); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	return v
}

func newSwitcher(t *testing.T) *Switcher {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (eBPF)")
	}
	s, err := New()
	if err != nil {
		t.Fatalf("the TCP iterator must load on this kernel (6.18, BTF): %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestLiveSwitchOpenConnections: in a namespace of its own, two open
// connections on cubic move to bbr and back, a connection an
// application put on reno keeps it, and a pass run from another
// namespace touches none of them.
func TestLiveSwitchOpenConnections(t *testing.T) {
	s := newSwitcher(t)
	err := inNewNetns(t, func() error {
		ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return err
		}
		defer ln.Close()
		var cubic [2]conn
		for i := range cubic {
			if cubic[i], err = dial(t, ln, "cubic"); err != nil {
				return err
			}
		}
		reno, err := dial(t, ln, "reno")
		if err != nil {
			return err
		}
		other := make(chan error, 1)
		go func() { other <- inNewNetns(t, func() error { _, err := s.Switch("cubic", "bbr"); return err }) }()
		if err := <-other; err != nil {
			return err
		}
		if got := getCC(t, cubic[0].client); got != "cubic" {
			t.Errorf("a pass in another namespace switched this one's connection to %s", got)
		}
		c, err := s.Switch("cubic", "bbr")
		if err != nil {
			return err
		}
		if c.Seen != 6 || c.Switched != 4 || c.Failed != 0 {
			t.Errorf("pass to bbr: %+v, want 6 established ends seen, 4 switched, none failed", c)
		}
		for _, x := range cubic {
			if a, b := getCC(t, x.client), getCC(t, x.server); a != "bbr" || b != "bbr" {
				t.Errorf("after the pass to bbr: %s and %s", a, b)
			}
		}
		if a := getCC(t, reno.client); a != "reno" {
			t.Errorf("the application's reno became %s", a)
		}
		if c, err = s.Switch("bbr", "cubic"); err != nil || c.Switched != 4 || getCC(t, cubic[1].server) != "cubic" {
			t.Errorf("pass back to cubic: %+v %v, now %s", c, err, getCC(t, cubic[1].server))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSwitchBadNames: a name the kernel cannot hold is refused before
// the program runs.
func TestSwitchBadNames(t *testing.T) {
	s := &Switcher{}
	for _, n := range [][2]string{{"", "bbr"}, {"cubic", "a-name-longer-than-15"}, {"cu bic", "bbr"}, {"cubic", "bbr\x00"}} {
		if _, err := s.Switch(n[0], n[1]); !errors.Is(err, ErrName) {
			t.Errorf("Switch(%q, %q): %v, want ErrName", n[0], n[1], err)
		}
	}
}
