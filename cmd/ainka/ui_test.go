package main

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// --ui-addr: a non-loopback address without ui_allow_remote and a bad one
// are usage errors, a busy one a failure; each one line naming it.
func TestUIAddrRefused(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	trace := filepath.Join(repoRoot(t), "testdata/traces/cpu.trace")
	for _, c := range []struct {
		addr string
		code int
		want string
	}{
		{"0.0.0.0:9465", 2, "set ui_allow_remote = true in [ui]"},
		{"nope", 2, `ui_addr "nope": not host:port`},
		{busy.Addr().String(), 1, "address already in use"},
	} {
		_, stderr, code := ainka("replay", trace, "--ui-addr", c.addr)
		if code != c.code || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("--ui-addr %s: exit %d, stderr %q; want exit %d and one line with %q", c.addr, code, stderr, c.code, c.want)
		}
	}
}
