package action

import (
	"strings"
	"testing"
)

// TestNetnsSysctl: the namespace word parses, keys and prints apart from
// the host's sysctl; bad namespaces and sysctls without a copy per
// namespace are errors naming the word.
func TestNetnsSysctl(t *testing.T) {
	a, err := Parse("sysctl netns:4026532345 net.ipv4.tcp_congestion_control = bbr")
	if err != nil {
		t.Fatal(err)
	}
	if ino, ok := NetnsSysctl(a); !ok || ino != 4026532345 || a.Target != "net.ipv4.tcp_congestion_control" || a.Value != "bbr" {
		t.Fatalf("parsed %+v (netns %d %v)", a, ino, ok)
	}
	if k := a.Key(); k != "sysctl:netns:4026532345:net.ipv4.tcp_congestion_control" {
		t.Errorf("key %q", k)
	}
	host, _ := Parse("sysctl net.ipv4.tcp_congestion_control = bbr")
	if host.Key() == a.Key() {
		t.Errorf("host and namespace sysctl share key %q", a.Key())
	}
	if _, ok := NetnsSysctl(host); ok {
		t.Errorf("host sysctl taken for a namespace's")
	}
	if back, err := Parse(a.String()); err != nil || back.Key() != a.Key() {
		t.Errorf("String %q does not parse back: %v", a.String(), err)
	}
	for src, want := range map[string]string{
		"sysctl netns:x net.ipv4.tcp_congestion_control = bbr":        `column 8: "netns:x": want netns:INODE`,
		"sysctl netns:0 net.ipv4.tcp_congestion_control = bbr":        `column 8: "netns:0"`,
		"sysctl netns:12 vm.swappiness = 10":                          "column 17: sysctl vm.swappiness has no copy per network namespace",
		"sysctl netns:12 net.ipv4.tcp_congestion_control = westwoodx": "column 51",
		"sysctl netns:12": "ends too early",
	} {
		if _, err := Parse(src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want %q", src, err, want)
		}
	}
}
