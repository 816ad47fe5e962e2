package actuate

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ainka/ainka/stages/actuate/journal"
)

// TestCrashBetweenFsyncAndWrite: the second change of a knob is
// journaled and fsynced, then the process dies before the write. The next
// start must restore the first original, not yield the knob (issue 16,
// defect 1). The strace test in hostile_test.go kills at every syscall.
func TestCrashBetweenFsyncAndWrite(t *testing.T) {
	root, cfg := fakeSys(t)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r := one(t, s, "readahead fake0 += 8"); r.Status != Applied {
		t.Fatalf("first change: %+v", r)
	}
	// the second change's record is on disk; the write never happens
	if err := s.j.Intent("readahead:fake0", "file", "", "136", "144", "test", ""); err != nil {
		t.Fatal(err)
	}
	s.j.Close() // kill -9: no restore on exit
	s2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := read(t, filepath.Join(root, "block/fake0/queue/read_ahead_kb")); got != "128" {
		t.Errorf("read_ahead_kb = %s after the restart, want the first original 128", got)
	}
	if len(s2.j.Open()) != 0 || len(s2.j.Yields()) != 0 {
		t.Errorf("journal after recovery: open %+v yields %+v", s2.j.Open(), s2.j.Yields())
	}
}

// writeJournal puts lines in a fresh journal of cfg.
func writeJournal(t *testing.T, cfg Config, lines ...string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(cfg.JournalPath), 0o700)
	if err := os.WriteFile(cfg.JournalPath, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestJournalCannotRedirect: a planted or edited journal can name only
// knobs the allowlist names, resolved from the key; its stored path and
// content cannot make AINKA write anything else (defect 2).
func TestJournalCannotRedirect(t *testing.T) {
	root, cfg := fakeSys(t)
	victim := filepath.Join(root, "victim")
	os.WriteFile(victim, []byte("keep\n"), 0o644)
	os.WriteFile(filepath.Join(root, "sys/vm/swappiness"), []byte("61\n"), 0o644)
	writeJournal(t, cfg,
		`{"seq":1,"op":"set","key":"sysctl:vm.swappiness","type":"file","path":"`+victim+`","orig":"60","new":"61"}`,
		`{"seq":2,"op":"set","key":"file:`+victim+`","type":"file","path":"`+victim+`","orig":"owned","new":"keep"}`,
		`{"seq":3,"op":"set","key":"sysctl:kernel.core_pattern","type":"file","path":"`+victim+`","orig":"|/bin/sh","new":"keep"}`,
		`{"seq":4,"op":"set","key":"readahead:../../etc","type":"file","orig":"1","new":"keep"}`,
		`{"seq":5,"op":"set","key":"sysctl:net.core.somaxconn","type":"file","orig":"1\n2","new":"4096"}`)
	var logs bytes.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := read(t, victim); got != "keep" {
		t.Errorf("victim file = %q: the journal's path was written", got)
	}
	if got := read(t, filepath.Join(root, "sys/vm/swappiness")); got != "60" {
		t.Errorf("vm.swappiness = %s, want 60 restored through the allowlist", got)
	}
	if got := read(t, filepath.Join(root, "sys/net/core/somaxconn")); got != "4096" {
		t.Errorf("somaxconn = %q: a value with a line break was written", got)
	}
	for _, want := range []string{"not a knob AINKA may write", "kernel.core_pattern", "control character"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not say %q:\n%s", want, logs.String())
		}
	}
}

// TestYieldLifecycle: a yield survives a restart (AINKA does not change
// the administrator's value again), rollback --print still names the
// original, and reset lets AINKA act again (defect 9).
func TestYieldLifecycle(t *testing.T) {
	root, cfg := fakeSys(t)
	ra := filepath.Join(root, "block/fake0/queue/read_ahead_kb")
	s, _ := New(cfg)
	if r := one(t, s, "readahead fake0 += 8"); r.Status != Applied {
		t.Fatalf("%+v", r)
	}
	os.WriteFile(ra, []byte("45\n"), 0o644) // the administrator
	if rs := s.Audit(); len(rs) != 1 || rs[0].Status != Yielded {
		t.Fatalf("audit: %+v", rs)
	}
	s.Close()
	s, _ = New(cfg)
	if r := one(t, s, "readahead fake0 += 8"); r.Status != Yielded || read(t, ra) != "45" {
		t.Errorf("after restart: %s %s, file %s: AINKA changed the administrator's value again", r.Status, r.Err, read(t, ra))
	}
	cmds := strings.Join(s.RollbackCommands(), "\n")
	if !strings.Contains(cmds, "yielded") || !strings.Contains(cmds, "echo 128 > "+ra) {
		t.Errorf("rollback --print after a yield does not name the original:\n%s", cmds)
	}
	if rs := s.Rollback(); len(rs) != 0 || read(t, ra) != "45" {
		t.Errorf("rollback touched a yielded knob: %+v, file %s", rs, read(t, ra))
	}
	s.Reset()
	if r := one(t, s, "readahead fake0 += 8"); r.Status != Applied || read(t, ra) != "53" {
		t.Errorf("after reset: %s %s, file %s", r.Status, r.Err, read(t, ra))
	}
	s.Close()
	if read(t, ra) != "45" {
		t.Errorf("after reset and exit: %s, want the value AINKA found then (45)", read(t, ra))
	}
	j, _, _ := journal.Open(cfg.JournalPath)
	defer j.Close()
	if len(j.Yields()) != 0 || len(j.Open()) != 0 {
		t.Errorf("journal after reset and exit: %+v %+v", j.Yields(), j.Open())
	}
}

// TestCorruptJournalStarts: one unreadable line no longer blocks the
// start: every readable entry is restored and the skip is logged with
// where the journal was set aside (defect 11).
func TestCorruptJournalStarts(t *testing.T) {
	root, cfg := fakeSys(t)
	os.WriteFile(filepath.Join(root, "sys/vm/swappiness"), []byte("30\n"), 0o644)
	writeJournal(t, cfg, `{"seq":1,"op":"set","key":"sysctl:vm.swappiness","orig":"60","new":"30"}`, "garbage")
	var logs bytes.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("a corrupt line stopped the start: %v", err)
	}
	defer s.Close()
	if got := read(t, filepath.Join(root, "sys/vm/swappiness")); got != "60" {
		t.Errorf("swappiness = %s, want restored 60", got)
	}
	if !strings.Contains(logs.String(), "line=2") || !strings.Contains(logs.String(), "journal.corrupt-") {
		t.Errorf("log does not say what was skipped and where it went:\n%s", logs.String())
	}
}
