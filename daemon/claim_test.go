package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ainka/ainka/config"
)

// TestPoliciesClaimedAtLoad: building a live chain journals the original
// of every policy's knob (fsynced) before any window, and a reload claims
// the knob of a policy it adds, so that no condition's first write waits
// for an fsync (issue 16, user-space reaction). Before, the journal was
// empty until the first change. /proc/sys is a directory of the test.
func TestPoliciesClaimedAtLoad(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Daemon.WorkDir = filepath.Join(dir, "work")
	cfg.Daemon.DryRun = false
	cfg.ML.ModelPath, cfg.Tuners.ModelPath = "", ""
	cfg.Policy.PolicyFile = filepath.Join(dir, "policies.toml")
	if err := cfg.Daemon.EnsureWorkDir(); err != nil {
		t.Fatal(err)
	}
	procSys := filepath.Join(dir, "sys")
	for _, k := range []string{"vm/swappiness", "vm/dirty_ratio"} {
		os.MkdirAll(filepath.Join(procSys, filepath.Dir(k)), 0o755)
		os.WriteFile(filepath.Join(procSys, k), []byte("60\n"), 0o644)
	}
	policy := func(name, knob string) string {
		return "[[policy]]\nname = \"" + name + "\"\ncondition = \"runq_latency_p99_us > 1e9\"\naction = \"sysctl " + knob + " = 40\"\n"
	}
	os.WriteFile(cfg.Policy.PolicyFile, []byte(policy("a", "vm.swappiness")), 0o644)
	var journal string
	c, err := Build(records(nil), ChainOptions{Config: cfg, Live: true,
		Adjust: func(s *StageConfigs) { s.Actuate.ProcSys = procSys; journal = s.Actuate.JournalPath }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Actuate.Close()
	if j, _ := os.ReadFile(journal); !strings.Contains(string(j), `"key":"sysctl:vm.swappiness"`) || !strings.Contains(string(j), `"orig":"60"`) {
		t.Fatalf("journal after Build: %q, want the claim of vm.swappiness", j)
	}
	if ch := c.Actuate.Changes(); len(ch) != 0 {
		t.Errorf("a claim listed as a change: %+v", ch)
	}
	os.WriteFile(cfg.Policy.PolicyFile, []byte(policy("a", "vm.swappiness")+policy("b", "vm.dirty_ratio")), 0o644)
	if err := c.Decide.Reload(); err != nil {
		t.Fatal(err)
	}
	if j, _ := os.ReadFile(journal); !strings.Contains(string(j), `"key":"sysctl:vm.dirty_ratio"`) {
		t.Errorf("journal after the reload: %q, want the claim of vm.dirty_ratio", j)
	}
}
