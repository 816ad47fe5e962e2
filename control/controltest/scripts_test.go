package controltest_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ainka/ainka/control/controltest"
)

// built holds the real ainka-cli and the fake daemon, built once.
var built string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ainka-scripts-test")
	if err != nil {
		panic(err)
	}
	for name, pkg := range map[string]string{
		"ainka":     "github.com/ainka/ainka/control/controltest/fakeainka",
		"ainka-cli": "github.com/ainka/ainka/cmd/ainka-cli",
	} {
		if _, err := controltest.BuildTo(dir, pkg, name); err != nil {
			os.RemoveAll(dir)
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	built = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// prefix lays the binaries out in an installation prefix, the way
// scripts/install.sh does (copies: a test may remove one).
func prefix(t *testing.T) string {
	t.Helper()
	p := t.TempDir()
	bin := filepath.Join(p, "bin")
	os.MkdirAll(bin, 0o755)
	for _, name := range []string{"ainka", "ainka-cli"} {
		b, err := os.ReadFile(filepath.Join(built, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bin, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(p, "x.trace"), []byte("trace"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestIntegrationScript runs scripts/integration_test.sh against a prefix
// holding the real CLI and a stand-in daemon, checking the script's own
// logic; the lead's end-to-end test runs it against the real daemon.
func TestIntegrationScript(t *testing.T) {
	p := prefix(t)
	unit, err := os.ReadFile("../../packaging/ainka.service")
	if err != nil {
		t.Fatal(err)
	}
	unitPath := filepath.Join(p, "ainka.service")
	os.WriteFile(unitPath, bytes.ReplaceAll(unit, []byte("/usr/local/bin/ainka"), []byte(filepath.Join(p, "bin", "ainka"))), 0o644)
	cmd := exec.Command("../../scripts/integration_test.sh", "--prefix", p, "--config", "../../packaging/config.toml",
		"--trace", filepath.Join(p, "x.trace"), "--unit", unitPath)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "FAIL") || !strings.Contains(string(out), " 0 failed") {
		t.Fatalf("integration_test.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"PASS  a bad config is refused", "PASS  ainka-cli status", "PASS  status shows emergency", "PASS  control socket removed at exit", "PASS  pid file removed at exit"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A broken installation is reported, not passed: no CLI binary.
	os.Remove(filepath.Join(p, "bin", "ainka-cli"))
	cmd = exec.Command("../../scripts/integration_test.sh", "--prefix", p, "--trace", filepath.Join(p, "x.trace"))
	cmd.Env = append(os.Environ(), "PATH=/usr/bin:/bin")
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "FAIL  ainka-cli binary") {
		t.Fatalf("missing CLI: %v\n%s", err, out)
	}
}

func TestDemoScript(t *testing.T) {
	p := prefix(t)
	cmd := exec.Command("../../scripts/demo.sh", filepath.Join(p, "x.trace"))
	cmd.Env = append(os.Environ(), "AINKA_BIN_DIR="+filepath.Join(p, "bin"), "DEMO_WARMUP=0.2")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"$ ainka-cli status", "state:", "policy demo_busy added", "emergency mode on", "sysctl -w vm.swappiness=60", "stopped cleanly"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "(exit ") {
		t.Errorf("a demo step failed:\n%s", out)
	}
}

// TestDemoInteractive answers the -i pauses from standard input: two steps,
// then q, which ends the tour (and the daemon) early.
func TestDemoInteractive(t *testing.T) {
	p := prefix(t)
	cmd := exec.Command("../../scripts/demo.sh", "-i", filepath.Join(p, "x.trace"))
	cmd.Env = append(os.Environ(), "AINKA_BIN_DIR="+filepath.Join(p, "bin"), "DEMO_WARMUP=0.2")
	cmd.Stdin = strings.NewReader("\n\nq\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo.sh -i: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "state:") || strings.Contains(string(out), "Metrics:") {
		t.Fatalf("demo -i did not stop at q after the first step:\n%s", out)
	}
	// The daemon the demo started is gone with it.
	daemon := filepath.Join(p, "bin", "ainka")
	procs, _ := filepath.Glob("/proc/[0-9]*/exe")
	for _, exe := range procs {
		if target, err := os.Readlink(exe); err == nil && target == daemon {
			t.Fatalf("the demo left its daemon running (%s)", exe)
		}
	}
}
