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
