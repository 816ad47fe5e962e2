package actuate

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/internal/netns"
	"github.com/ainka/ainka/internal/tcpcc"
	"github.com/ainka/ainka/stages/decide"
)

// fakeConns records the passes over open connections (the kernel
// boundary: internal/tcpcc runs them for real, TestLiveNetnsOpenConns).
type fakeConns struct {
	passes []string
	err    error
	closed bool
}

func (f *fakeConns) Switch(from, to string) (tcpcc.Counts, error) {
	if f.closed {
		return tcpcc.Counts{}, errors.New("switch after close")
	}
	f.passes = append(f.passes, from+">"+to)
	return tcpcc.Counts{Seen: 2, Switched: 1}, f.err
}

func (f *fakeConns) Close() error { f.closed = true; return nil }

// TestOpenConnsFollowCC: each write of the congestion control (the
// change, the revert, the restore at start after a crash, the restore
// at exit) moves the open connections from the value replaced to the
// value written, and nothing else does; a failed pass leaves the sysctl
// applied.
func TestOpenConnsFollowCC(t *testing.T) {
	root, cfg := fakeSys(t)
	p := filepath.Join(root, "sys/net/ipv4/tcp_congestion_control")
	if err := os.WriteFile(p, []byte("cubic\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &fakeConns{}
	cfg.OpenConns = f
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	one(t, s, "sysctl vm.swappiness = 50")
	if r := one(t, s, "sysctl net.ipv4.tcp_congestion_control = bbr"); r.Status != Applied {
		t.Fatalf("apply: %+v", r)
	}
	d := dec(t, "sysctl net.ipv4.tcp_congestion_control = bbr")
	d.Kind = decide.Revert
	s.Process([]decide.Decision{d}, nil)
	f.err = errors.New("no BPF here")
	if r := one(t, s, "sysctl net.ipv4.tcp_congestion_control = reno"); r.Status != Applied || read(t, p) != "reno" {
		t.Fatalf("a failed pass must leave the sysctl applied: %+v, now %s", r, read(t, p))
	}
	f.err = nil
	s.j.Close() // a crash: no restore at exit
	s2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	one(t, s2, "sysctl net.ipv4.tcp_congestion_control = bbr")
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	want := "cubic>bbr bbr>cubic cubic>reno reno>cubic cubic>bbr bbr>cubic"
	if got := strings.Join(f.passes, " "); got != want || !f.closed || read(t, p) != "cubic" {
		t.Fatalf("passes %q, want %q; closed %v; sysctl now %s", got, want, f.closed, read(t, p))
	}

	f2 := &fakeConns{}
	cfg.OpenConns, cfg.DryRun = f2, true
	s3, _ := New(cfg)
	one(t, s3, "sysctl net.ipv4.tcp_congestion_control = bbr")
	s3.Close()
	if len(f2.passes) != 0 {
		t.Fatalf("dry run switched connections: %v", f2.passes)
	}
}

// dialIn opens a loopback TCP connection inside the namespace of inode
// ino (both ends there) and returns its client end.
func dialIn(t *testing.T, ino uint64) *net.TCPConn {
	t.Helper()
	var c *net.TCPConn
	err := netns.Dirs{}.Do(ino, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		ifr, _ := unix.NewIfreq("lo")
		if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
			return err
		}
		ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
		if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
			return err
		}
		ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return err
		}
		defer ln.Close()
		if c, err = net.DialTCP("tcp4", nil, ln.Addr().(*net.TCPAddr)); err != nil {
			return err
		}
		srv, err := ln.AcceptTCP()
		t.Cleanup(func() { c.Close(); srv.Close() })
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func connCC(t *testing.T, c *net.TCPConn) string {
	t.Helper()
	rc, _ := c.SyscallConn()
	var v string
	var gerr error
	if err := rc.Control(func(fd uintptr) { v, gerr = unix.GetsockoptString(int(fd), unix.SOL_TCP, unix.TCP_CONGESTION) }); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	return v
}

// TestLiveNetnsOpenConns: a connection open in a namespace when its
// congestion control is changed takes the new one, and the original
// again when the actuator restores the sysctl at exit; the host's own
// setting is untouched.
func TestLiveNetnsOpenConns(t *testing.T) {
	needRoot(t)
	ns, ino := testNetns(t)
	orig := nsSysctl(t, ns, ccSysctl)
	want := "bbr"
	if orig == "bbr" {
		want = "cubic"
	}
	c := dialIn(t, ino)
	if got := connCC(t, c); got != orig {
		t.Fatalf("a new connection has %s, the namespace's default %s", got, orig)
	}
	hostCC := sysctl(ccSysctl)
	s, err := New(Config{JournalPath: filepath.Join(t.TempDir(), "journal"), KnobInterval: -1, Logger: quiet, OpenConns: &tcpcc.Lazy{}})
	if err != nil {
		t.Fatal(err)
	}
	act := fmt.Sprintf("sysctl netns:%d %s = %s", ino, ccSysctl, want)
	if r := s.Process([]decide.Decision{dec(t, act)}, nil); len(r) != 1 || r[0].Status != Applied {
		t.Fatalf("%s: %+v", act, r)
	}
	if got := connCC(t, c); got != want {
		t.Errorf("the open connection has %s after the change to %s", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := connCC(t, c); got != orig || nsSysctl(t, ns, ccSysctl) != orig {
		t.Errorf("after the restore: connection %s, sysctl %s, want %s", got, nsSysctl(t, ns, ccSysctl), orig)
	}
	if sysctl(ccSysctl) != hostCC {
		t.Errorf("the host's congestion control changed to %s", sysctl(ccSysctl))
	}
}
