package actuate

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/stages/decide"
)

// testNetns creates a named network namespace (ip netns add) and returns
// its name and inode; it is deleted at the end of the test.
func testNetns(t *testing.T) (string, uint64) {
	t.Helper()
	name := fmt.Sprintf("ainka-test-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join("/run/netns", name), &st); err != nil {
		t.Fatal(err)
	}
	return name, st.Ino
}

// nsSysctl reads a sysctl inside the named namespace with ip netns exec:
// a check independent of the actuator's own setns.
func nsSysctl(t *testing.T, ns, name string) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, "sysctl", "-n", name).Output()
	if err != nil {
		t.Fatalf("ip netns exec %s sysctl -n %s: %v", ns, name, err)
	}
	return norm(string(out))
}

// TestNetnsSysctl: from the daemon's own namespace, the actuator writes a
// namespace's congestion control and send buffers, journaled, leaves the
// host's alone, restores them at Close, and a namespace deleted before
// the restore leaves nothing to restore and no error.
func TestNetnsSysctl(t *testing.T) {
	needRoot(t)
	ns, ino := testNetns(t)
	hostCC, hostWmem := sysctl("net.ipv4.tcp_congestion_control"), sysctl("net.ipv4.tcp_wmem")
	origCC, origWmem := nsSysctl(t, ns, "net.ipv4.tcp_congestion_control"), nsSysctl(t, ns, "net.ipv4.tcp_wmem")
	want := "reno"
	if origCC == "reno" {
		want = "cubic"
	}
	f := strings.Fields(origWmem)
	wmem := fmt.Sprintf("%s %s %s", f[0], f[1], f[1]) // a smaller max: never above wmem_max
	s, err := New(Config{JournalPath: filepath.Join(t.TempDir(), "journal"), KnobInterval: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for _, act := range []string{
		fmt.Sprintf("sysctl netns:%d net.ipv4.tcp_congestion_control = %s", ino, want),
		fmt.Sprintf(`sysctl netns:%d net.ipv4.tcp_wmem = "%s"`, ino, wmem),
	} {
		if r := s.Process([]decide.Decision{dec(t, act)}, nil); len(r) != 1 || r[0].Status != Applied {
			t.Fatalf("%s: %+v", act, r)
		}
	}
	if got := nsSysctl(t, ns, "net.ipv4.tcp_congestion_control"); got != want {
		t.Errorf("namespace's congestion control %s, want %s", got, want)
	}
	if got := nsSysctl(t, ns, "net.ipv4.tcp_wmem"); got != wmem {
		t.Errorf("namespace's tcp_wmem %q, want %q", got, wmem)
	}
	if sysctl("net.ipv4.tcp_congestion_control") != hostCC || sysctl("net.ipv4.tcp_wmem") != hostWmem {
		t.Errorf("the host's own sysctls changed")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if cc, w := nsSysctl(t, ns, "net.ipv4.tcp_congestion_control"), nsSysctl(t, ns, "net.ipv4.tcp_wmem"); cc != origCC || w != origWmem {
		t.Errorf("not restored: %s %q, want %s %q", cc, w, origCC, origWmem)
	}

	// The namespace goes away before the restore.
	s, err = New(Config{JournalPath: filepath.Join(t.TempDir(), "journal"), KnobInterval: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	act := fmt.Sprintf("sysctl netns:%d net.ipv4.tcp_congestion_control = %s", ino, want)
	if r := s.Process([]decide.Decision{dec(t, act)}, nil); len(r) != 1 || r[0].Status != Applied {
		t.Fatalf("%s: %+v", act, r)
	}
	if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns del: %v: %s", err, out)
	}
	if err := s.Close(); err != nil {
		t.Errorf("close after the namespace went away: %v", err)
	}
	s, err = New(Config{JournalPath: filepath.Join(t.TempDir(), "journal"), KnobInterval: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r := s.Process([]decide.Decision{dec(t, act)}, nil); len(r) != 1 || r[0].Status == Applied || !strings.Contains(r[0].Err, "network namespace not found") {
		t.Errorf("a namespace that is gone: %+v", r)
	}
}
