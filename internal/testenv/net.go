package testenv

import (
	"net"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// UDPLoopback sends n datagrams to itself over lo, bringing lo up if it is
// down (a fresh VM), and reads each back: packets the net_rx probe sees.
func UDPLoopback(tb testing.TB, n int) {
	tb.Helper()
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		tb.Fatal(err)
	}
	if lo.Attrs().Flags&net.FlagUp == 0 {
		if err := netlink.LinkSetUp(lo); err != nil {
			tb.Fatal(err)
		}
	}
	rc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer rc.Close()
	sc, err := net.Dial("udp4", rc.LocalAddr().String())
	if err != nil {
		tb.Fatal(err)
	}
	defer sc.Close()
	buf := make([]byte, 2048)
	for range n {
		if _, err := sc.Write([]byte("ainka")); err != nil {
			tb.Fatal(err)
		}
		rc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := rc.ReadFrom(buf); err != nil {
			tb.Fatal(err)
		}
	}
}

// TCPLoopback opens a TCP connection to itself over lo and makes n
// request/response exchanges on it: incoming segments of an established
// connection, which the tcp probe (tcp:tcp_probe) sees.
func TCPLoopback(tb testing.TB, n int) {
	tb.Helper()
	UDPLoopback(tb, 0) // lo up
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		buf := make([]byte, 64)
		for range n {
			if _, err := c.Read(buf); err != nil {
				done <- err
				return
			}
			if _, err := c.Write([]byte("pong")); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	for range n {
		if _, err := c.Write([]byte("ping")); err != nil {
			tb.Fatal(err)
		}
		if _, err := c.Read(buf); err != nil {
			tb.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
}
