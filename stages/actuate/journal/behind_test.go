package journal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func (j *Journal) sizeNow() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.size
}

// fill changes claimed knob c (its first change fsynced) until the file is
// one record short of maxSize.
func fill(t *testing.T, j *Journal) {
	t.Helper()
	if err := j.Intent("c", "file", "", "3", "4", "", ""); err != nil {
		t.Fatal(err)
	}
	for v := 0; j.sizeNow() < maxSize-400; v++ {
		j.Intent("c", "file", "", "4", "4", "", "")
		j.Applied("c", "4")
	}
}

// fullJournal opens a journal one record short of maxSize whose rewrite
// stops in its new file's fsync: wait is closed once it is there, and it
// goes on once release is closed.
func fullJournal(t *testing.T) (p string, j *Journal, wait, release chan struct{}) {
	p = filepath.Join(t.TempDir(), "j")
	j, _, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, j)
	entered := make(chan struct{})
	wait, release = entered, make(chan struct{})
	j.syncHook = func(f *os.File) error {
		if strings.HasSuffix(f.Name(), ".behind") && entered != nil {
			close(entered)
			entered = nil
			<-release
		}
		return f.Sync()
	}
	return p, j, wait, release
}

// TestRewriteBehind: the change that grows the journal past maxSize does
// not wait for the rewrite's fsync (before, Applied rewrote the file and
// fsynced it twice on the pipeline's thread: 1 to 50 ms on a shared disk
// added to the next windows' reactions). The changes made while the new
// file is being fsynced, a first change with an fsync of its own among
// them, are in the new file, durable, and a restart reads them.
func TestRewriteBehind(t *testing.T) {
	p, j, wait, release := fullJournal(t)
	done := make(chan struct{})
	go func() {
		for j.sizeNow() <= maxSize {
			j.Intent("c", "file", "", "4", "5", "", "")
			j.Applied("c", "5")
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("the change that crossed maxSize waited for the rewrite's fsync")
	}
	<-wait // the rewrite is in its fsync, the journal's lock free
	if err := j.Intent("c", "file", "", "5", "6", "", ""); err != nil {
		t.Fatal(err)
	}
	j.Applied("c", "6")
	syncs := j.Syncs()
	if err := j.Intent("d", "file", "", "7", "8", "", ""); err != nil { // a first change: its own fsync
		t.Fatal(err)
	}
	if j.Syncs() != syncs+1 {
		t.Errorf("a first change during the rewrite: %d fsyncs, want 1", j.Syncs()-syncs)
	}
	close(release)
	j.behind.wg.Wait()
	if j.behind.err != nil {
		t.Fatalf("rewrite: %v", j.behind.err)
	}
	if n := j.sizeNow(); n > 4096 {
		t.Errorf("journal still %d bytes after the rewrite", n)
	}
	if !j.Synced("c", "3") || !j.Synced("d", "7") {
		t.Errorf("after the rewrite: c synced %v, d synced %v; want both (d's record was fsynced in the tail)", j.Synced("c", "3"), j.Synced("d", "7"))
	}
	j.Close()
	if _, err := os.Stat(p + ".behind"); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
	_, open, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{"c": {"3", "6"}, "d": {"7", "8"}}
	if len(open) != 2 {
		t.Fatalf("after a restart: %+v, want c and d", open)
	}
	for _, e := range open {
		if w := want[e.Key]; e.Orig != w[0] || e.Written != w[1] {
			t.Errorf("%s: orig %q written %q, want %q %q", e.Key, e.Orig, e.Written, w[0], w[1])
		}
	}
}

// TestRewriteBehindGivesWay: a journal emptied while the rewrite writes
// its new file (every knob restored) keeps its empty file; the rewrite's
// is dropped.
func TestRewriteBehindGivesWay(t *testing.T) {
	p, j, wait, release := fullJournal(t)
	for j.sizeNow() <= maxSize {
		j.Intent("c", "file", "", "4", "5", "", "")
		j.Applied("c", "5")
	}
	<-wait
	j.Restored("c") // nothing open: the file is emptied
	close(release)
	j.behind.wg.Wait()
	if j.behind.err != errMoved {
		t.Errorf("rewrite over an emptied journal: err %v, want errMoved", j.behind.err)
	}
	if n := j.sizeNow(); n != 0 {
		t.Errorf("journal %d bytes, want 0", n)
	}
	j.Close()
	if _, err := os.Stat(p + ".behind"); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
	if _, open, err := Open(p); err != nil || len(open) != 0 {
		t.Errorf("after a restart: %+v, %v; want nothing open", open, err)
	}
}

// TestProcessClaimNotSynced: the first change of a process's priority or
// of a kernel recommendation is journaled without an fsync (neither
// outlives the reboot that a lost record needs), and a restart after the
// daemon's kill still finds its original: the record is in the file. A
// file knob's first change is fsynced as before.
func TestProcessClaimNotSynced(t *testing.T) {
	p := filepath.Join(t.TempDir(), "j")
	j, _, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key, typ string
		syncs    uint64
	}{
		{"nice:4242:777", "nice", 0},
		{"ioprio:4242:777", "ioprio", 0},
		{"sched:4242:777", "sched", 0},
		{"kernel:recommend:x", "kernel", 0},
		{"sysctl:vm.swappiness", "file", 1},
	} {
		n := j.Syncs()
		if err := j.Intent(c.key, c.typ, "", "0", "5", "", ""); err != nil {
			t.Fatal(err)
		}
		if got := j.Syncs() - n; got != c.syncs {
			t.Errorf("first change of %s (%s): %d fsyncs, want %d", c.key, c.typ, got, c.syncs)
		}
	}
	// a kill -9: the file is not closed (Close would fsync it)
	j.f.Close()
	j.f = nil
	j.unlock()
	_, open, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 5 {
		t.Errorf("after a restart: %d knobs open, want 5: %+v", len(open), open)
	}
	for _, e := range open {
		if e.Orig != "0" {
			t.Errorf("%s: original %q, want 0", e.Key, e.Orig)
		}
	}
}
