package actuate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ainka/ainka/stages/decide"
)

func revert(t *testing.T, s *Stage, act string) []Result {
	t.Helper()
	d := dec(t, act)
	d.Kind, d.Reason = decide.Revert, "calm"
	return s.Process([]decide.Decision{d}, nil)
}

// TestRevertKeepsClaim: a revert in the pipeline puts the original back
// and keeps the claim at rest, so that the next change of the knob is
// journaled without an fsync (issue 16, user-space reaction); a resting
// claim is no change (Changes, rollback --print) and Close still closes
// it with the knob at its first original and the journal empty.
func TestRevertKeepsClaim(t *testing.T) {
	root, cfg := fakeSys(t)
	sw := filepath.Join(root, "sys/vm/swappiness")
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const key = "sysctl:vm.swappiness"
	if s.j.Synced(key, "60") {
		t.Fatal("a knob never claimed counts as synced")
	}
	if r := one(t, s, "sysctl vm.swappiness = 40"); r.Status != Applied || r.JournaledNs == 0 {
		t.Fatalf("first change: %+v", r)
	}
	if !s.j.Synced(key, "60") {
		t.Error("the claim's original was not fsynced")
	}
	if rs := revert(t, s, "sysctl vm.swappiness = 40"); len(rs) != 1 || rs[0].Status != Restored || read(t, sw) != "60" {
		t.Fatalf("revert: %+v, file %s", rs, read(t, sw))
	}
	e, ok := s.j.Get(key)
	if !ok || !e.Resting(same) {
		t.Fatalf("after the revert the claim is %+v (open %v), want resting", e, ok)
	}
	if ch, cmds := s.Changes(), s.RollbackCommands(); len(ch) != 0 || len(cmds) != 0 {
		t.Errorf("a resting claim listed as a change: %+v %q", ch, cmds)
	}
	if !s.j.Synced(key, "60") {
		t.Error("the next change of a resting claim would wait for an fsync")
	}
	if r := one(t, s, "sysctl vm.swappiness = 45"); r.Status != Applied || read(t, sw) != "45" {
		t.Fatalf("second change: %+v", r)
	}
	if ch := s.Changes(); len(ch) != 1 || ch[0].Original != "60" || ch[0].Value != "45" {
		t.Errorf("changes after the second change: %+v", ch)
	}
	s.Close()
	if got := read(t, sw); got != "60" {
		t.Errorf("after Close swappiness = %s, want 60", got)
	}
	if st, _ := os.Stat(cfg.JournalPath); st.Size() != 0 {
		t.Errorf("journal not empty after Close: %d bytes", st.Size())
	}
}

// TestRestingClaimTakesOutsideValue: someone changes a knob whose claim is
// at rest. Nothing of AINKA's is in it, so it is not yielded (as it was
// not before claims were kept): the audit ends the claim quietly, and the
// next change takes the outside value as the new original.
func TestRestingClaimTakesOutsideValue(t *testing.T) {
	root, cfg := fakeSys(t)
	sw := filepath.Join(root, "sys/vm/swappiness")
	s, _ := New(cfg)
	one(t, s, "sysctl vm.swappiness = 40")
	revert(t, s, "sysctl vm.swappiness = 40")
	os.WriteFile(sw, []byte("55\n"), 0o644) // the administrator
	if rs := s.Audit(); len(rs) != 0 {
		t.Errorf("audit of a resting claim: %+v", rs)
	}
	if _, ok := s.j.Get("sysctl:vm.swappiness"); ok {
		t.Error("the audit kept a claim whose knob holds an outside value")
	}
	if r := one(t, s, "sysctl vm.swappiness = 40"); r.Status != Applied || read(t, sw) != "40" {
		t.Fatalf("change after the outside value: %+v", r)
	}
	revert(t, s, "sysctl vm.swappiness = 40")
	os.WriteFile(sw, []byte("50\n"), 0o644) // again, now without an audit between
	if r := one(t, s, "sysctl vm.swappiness = 30"); r.Status != Applied || r.Old != "50" {
		t.Fatalf("change of a resting claim after an outside value: %+v", r)
	}
	s.Close()
	if got := read(t, sw); got != "50" {
		t.Errorf("after Close swappiness = %s, want the administrator's 50", got)
	}
	if len(s.j.Yields()) != 0 {
		t.Errorf("yields: %+v", s.j.Yields())
	}
}

// TestCrashWithRestingClaim: a run dies with a claim at rest (and one
// resting claim whose knob someone changed since); the next start leaves
// both knobs as they are and the journal empty.
func TestCrashWithRestingClaim(t *testing.T) {
	root, cfg := fakeSys(t)
	sw, ra := filepath.Join(root, "sys/vm/swappiness"), filepath.Join(root, "block/fake0/queue/read_ahead_kb")
	s, _ := New(cfg)
	for _, act := range []string{"sysctl vm.swappiness = 40", "readahead fake0 += 8"} {
		one(t, s, act)
		revert(t, s, act)
	}
	os.WriteFile(ra, []byte("256\n"), 0o644)
	restartAfterKill(t, s, cfg)
	if a, b := read(t, sw), read(t, ra); a != "60" || b != "256" {
		t.Errorf("after the restart swappiness %s (want 60), read_ahead_kb %s (want 256)", a, b)
	}
}

// restartAfterKill ends s as kill -9 would (the journal closed, nothing
// restored) and starts again, which must leave nothing open or yielded.
func restartAfterKill(t *testing.T, s *Stage, cfg Config) {
	t.Helper()
	s.j.Close()
	s2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	if len(s2.j.Open()) != 0 || len(s2.j.Yields()) != 0 {
		t.Errorf("journal after recovery: open %+v yields %+v", s2.j.Open(), s2.j.Yields())
	}
}

// TestCgroupPathKept: a cgroup's file is resolved once and kept (issue 16:
// resolving took hundreds of microseconds on a busy host, on every
// change); a cgroup gone since fails the read, which drops what was kept,
// and the same cgroup made again is found again.
func TestCgroupPathKept(t *testing.T) {
	root, cfg := fakeSys(t)
	cfg.Cgroup1CPU = "-"
	dir := filepath.Join(root, "cg", "app")
	mk := func() {
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "cpu.weight"), []byte("100\n"), 0o644)
	}
	mk()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r := one(t, s, "cgroup app cpu.weight = 50"); r.Status != Applied {
		t.Fatalf("first change: %+v", r)
	}
	if _, ok := s.cgPaths["app\x00cpu.weight"]; !ok {
		t.Fatal("the resolved cgroup file was not kept")
	}
	os.RemoveAll(dir)
	if r := one(t, s, "cgroup app cpu.weight = 60"); r.Status == Applied || len(s.cgPaths) != 0 {
		t.Fatalf("change of a removed cgroup: %+v, kept %v", r, s.cgPaths)
	}
	mk()
	// AINKA's change went with the old cgroup: the new one's 100 is not
	// AINKA's (yielded, as before the paths were kept), but it was read.
	if r := one(t, s, "cgroup app cpu.weight = 70"); r.Old != "100" || len(s.cgPaths) != 1 {
		t.Fatalf("change of the cgroup made again: %+v, kept %v", r, s.cgPaths)
	}
}

// TestClaimBeforeFirstChange: claiming a policy's knob at load journals
// its original with an fsync, so that the first change is journaled
// without one (issue 16: the one fsynced claim was the reaction's p99).
// The claim holds no change: not listed, closed by Close with the knob
// untouched and the journal empty; a process selector's knobs, a notify
// and a device that does not exist are not claimed.
func TestClaimBeforeFirstChange(t *testing.T) {
	root, cfg := fakeSys(t)
	sw := filepath.Join(root, "sys/vm/swappiness")
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const key = "sysctl:vm.swappiness"
	keys, err := s.Claim(pas(t, "sysctl vm.swappiness = 40", "readahead nosuch0 = 64", "nice name:nosuch = 5", "notify"))
	if err != nil || len(keys) != 1 || keys[0] != key {
		t.Fatalf("claimed %q, %v; want only %s", keys, err, key)
	}
	if !s.j.Synced(key, "60") {
		t.Fatal("after the claim the first change would still wait for an fsync")
	}
	if e, ok := s.j.Get(key); !ok || !e.Resting(same) {
		t.Fatalf("claim %+v (open %v), want resting", e, ok)
	}
	if ch, cmds := s.Changes(), s.RollbackCommands(); len(ch) != 0 || len(cmds) != 0 {
		t.Errorf("a claim listed as a change: %+v %q", ch, cmds)
	}
	if again, _ := s.Claim(pas(t, "sysctl vm.swappiness = 40")); len(again) != 0 {
		t.Errorf("a claimed knob claimed again: %q", again)
	}
	if r := one(t, s, "sysctl vm.swappiness = 40"); r.Status != Applied || read(t, sw) != "40" {
		t.Fatalf("first change: %+v", r)
	}
	if ch := s.Changes(); len(ch) != 1 || ch[0].Original != "60" {
		t.Errorf("changes: %+v", ch)
	}
	if rs := s.Rollback(); len(rs) != 1 || rs[0].Status != Restored || read(t, sw) != "60" {
		t.Errorf("rollback: %+v, file %s", rs, read(t, sw))
	}
	s.Claim(pas(t, "sysctl vm.swappiness = 40"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(cfg.JournalPath); read(t, sw) != "60" || st.Size() != 0 {
		t.Errorf("after Close swappiness %s, journal %d bytes; want 60 and empty", read(t, sw), st.Size())
	}
}

// TestCrashAfterClaim: a run dies after claiming, before and after its
// first change; the next start restores the knob to the original the
// claim journaled, and an administrator's value set after the claim and
// before any change is kept (not AINKA's).
func TestCrashAfterClaim(t *testing.T) {
	root, cfg := fakeSys(t)
	sw, dr := filepath.Join(root, "sys/vm/swappiness"), filepath.Join(root, "sys/vm/dirty_ratio")
	s, _ := New(cfg)
	s.Claim(pas(t, "sysctl vm.swappiness = 40", "sysctl vm.dirty_ratio = 30"))
	one(t, s, "sysctl vm.swappiness = 40")
	os.WriteFile(dr, []byte("25\n"), 0o644) // the administrator
	restartAfterKill(t, s, cfg)
	if a, b := read(t, sw), read(t, dr); a != "60" || b != "25" {
		t.Errorf("after the restart swappiness %s (want 60), dirty_ratio %s (want the administrator's 25)", a, b)
	}
}

// TestClaimDryRun: dry-run has no journal and claims nothing.
func TestClaimDryRun(t *testing.T) {
	_, cfg := fakeSys(t)
	cfg.DryRun = true
	s, _ := New(cfg)
	if keys, err := s.Claim(pas(t, "sysctl vm.swappiness = 40")); len(keys) != 0 || err != nil {
		t.Errorf("dry-run claimed %q, %v", keys, err)
	}
}

func pas(t *testing.T, acts ...string) []decide.PolicyAction {
	t.Helper()
	var out []decide.PolicyAction
	for _, a := range acts {
		out = append(out, decide.PolicyAction{Policy: "test", Action: dec(t, a).Action})
	}
	return out
}
