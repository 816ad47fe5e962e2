package journal

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestReplay(t *testing.T) {
	p := filepath.Join(t.TempDir(), "j")
	j, open, err := Open(p)
	if err != nil || len(open) != 0 {
		t.Fatal(err, open)
	}
	j.Intent("a", "file", "/x/a", "1", "2", "pol", "why")
	j.Applied("a", "2")
	j.Intent("a", "file", "/x/a", "2", "3", "pol", "why") // orig stays 1
	j.Intent("b", "file", "/x/b", "7", "8", "pol", "why")
	j.Restored("b")
	j.Close()
	// crash: a torn last line is dropped
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":99,"op":"set","key":"c","orig":"5`)
	f.Close()

	j, open, err = Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].Key != "a" || open[0].Orig != "1" || open[0].Written != "3" || open[0].Prev != "2" {
		t.Fatalf("open = %+v", open)
	}
	j.Restored("a")
	if st, _ := os.Stat(p); st.Size() != 0 {
		t.Errorf("journal not compacted: %d bytes", st.Size())
	}
	j.Intent("d", "file", "/x/d", "1", "2", "", "")
	j.Close()
	_, open, _ = Open(p)
	if len(open) != 1 || open[0].Key != "d" {
		t.Errorf("after compaction: %+v", open)
	}
}

// TestCrashBeforeSecondWrite: the second change of a knob is journaled,
// then the process dies before writing. The knob holds AINKA's first
// value, which the entry must still call AINKA's (Prev), with the first
// original to go back to. Before Prev existed the entry knew only the
// original and the new target, and the next start yielded the knob.
func TestCrashBeforeSecondWrite(t *testing.T) {
	p := filepath.Join(t.TempDir(), "j")
	j, _, _ := Open(p)
	j.Intent("a", "file", "", "10", "18", "", "")
	j.Applied("a", "18")
	j.Intent("a", "file", "", "18", "26", "", "")
	j.Close() // kill -9 here: the write of 26 never happened
	j, open, err := Open(p)
	if err != nil || len(open) != 1 {
		t.Fatal(err, open)
	}
	defer j.Close()
	same := func(a, b string) bool { return a == b }
	e := open[0]
	if e.Orig != "10" || !e.Ours("18", same) || !e.Ours("26", same) || e.Ours("45", same) {
		t.Errorf("entry %+v: want original 10, 18 and 26 AINKA's, 45 not", e)
	}
}

// TestCorruptLineSetAside: an unreadable line in the middle no longer
// stops Open: the rest is replayed, the whole file is copied aside, the
// journal rewritten from what could be read, and the line reported.
func TestCorruptLineSetAside(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "j")
	data := `{"seq":1,"op":"set","key":"a","orig":"1","new":"2"}` + "\nnot json\n" +
		`{"seq":3,"op":"set","key":"b","orig":"5","new":"6"}` + "\n" + `{"seq":4,"op":"bogus","key":"b"}` + "\n"
	os.WriteFile(p, []byte(data), 0o600)
	j, open, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 2 || open[0].Orig != "1" || open[1].Orig != "5" {
		t.Errorf("open = %+v", open)
	}
	sk := j.Skipped()
	if len(sk) != 2 || sk[0].Line != 2 || sk[1].Line != 4 || !strings.Contains(sk[1].Err, "bogus") {
		t.Errorf("skipped = %+v", sk)
	}
	if b, err := os.ReadFile(j.Aside()); err != nil || string(b) != data {
		t.Errorf("aside %q: %v %q", j.Aside(), err, b)
	}
	j.Close()
	j, open, err = Open(p)
	if err != nil || len(open) != 2 || len(j.Skipped()) != 0 {
		t.Errorf("after the rewrite: %v %+v %+v", err, open, j.Skipped())
	}
	j.Close()
}

// TestYieldsSurvive: a yield is kept across restarts and compaction
// until Forget, with the original value.
func TestYieldsSurvive(t *testing.T) {
	p := filepath.Join(t.TempDir(), "j")
	j, _, _ := Open(p)
	j.Intent("a", "file", "", "45", "46", "pol", "")
	j.Applied("a", "46")
	if err := j.Yielded("a", "45"); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j, open, err := Open(p)
	if err != nil || len(open) != 0 {
		t.Fatal(err, open)
	}
	y := j.Yields()
	if len(y) != 1 || y[0].Key != "a" || y[0].Orig != "45" || y[0].Written != "46" || y[0].Outside != "45" {
		t.Fatalf("yields = %+v", y)
	}
	j.Forget("a")
	if st, _ := os.Stat(p); st.Size() != 0 || len(j.Yields()) != 0 {
		t.Errorf("after Forget: %d bytes, %+v", st.Size(), j.Yields())
	}
	j.Close()
}

// TestUnsafe: a journal another user could write is refused, as is one
// that is a symbolic link, and the error says how to repair it.
func TestUnsafe(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "j")
	os.Chmod(dir, 0o777)
	if _, _, err := Open(p); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "chmod 700") {
		t.Errorf("world-writable dir: %v", err)
	}
	os.Chmod(dir, 0o700)
	target := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(target, []byte("keep\n"), 0o600)
	os.Symlink(target, p)
	if _, _, err := Open(p); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("symlink: %v", err)
	}
	os.Remove(p)
	os.WriteFile(p, nil, 0o600)
	os.Chmod(p, 0o666)
	if _, _, err := Open(p); !errors.Is(err, ErrUnsafe) {
		t.Errorf("journal mode 0666: %v", err)
	}
	os.Chmod(p, 0o600)
	if os.Geteuid() == 0 {
		os.Chown(dir, 65534, 65534)
		if _, _, err := Open(p); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "owned by uid 65534") {
			t.Errorf("dir owned by nobody: %v", err)
		}
		os.Chown(dir, 0, 0)
	}
	if j, _, err := Open(p); err != nil {
		t.Errorf("repaired: %v", err)
	} else {
		j.Close()
	}
	if _, _, err := Open(filepath.Join(p, "sub", "j")); err == nil {
		t.Error("journal under a file opened")
	}
}

// TestLockDir: while a journal is open, another process cannot take its
// directory (flock(1) stands for the second ainka); after Close it can.
func TestLockDir(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("needs flock(1)")
	}
	dir := t.TempDir()
	j, _, err := Open(filepath.Join(dir, "j"))
	if err != nil {
		t.Fatal(err)
	}
	release, err := LockDir(dir) // shared within the process
	if err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("flock", "-n", dir, "true").Run(); err == nil {
		t.Error("another process locked the directory of an open journal")
	}
	release()
	j.Close()
	if out, err := exec.Command("flock", "-n", dir, "true").CombinedOutput(); err != nil {
		t.Errorf("directory still locked after Close: %v %s", err, out)
	}
	hold := exec.Command("flock", dir, "sleep", "30")
	if err := hold.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { hold.Process.Kill(); hold.Wait() }()
	for range 100 { // wait until flock(1) holds it
		if exec.Command("flock", "-n", dir, "true").Run() != nil {
			break
		}
	}
	if _, _, err := Open(filepath.Join(dir, "j")); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "another ainka") {
		t.Errorf("locked by another process: %v", err)
	}
}

// TestFullDisk: on a full file system an append fails and leaves no
// partial line; once there is room again the next one succeeds (the
// buffered writer used to keep its first error forever).
func TestFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounts a small tmpfs: needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=16k,mode=0700"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	p := filepath.Join(dir, "j")
	j, _, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.Intent("a", "file", "", "1", "2", "", ""); err != nil {
		t.Fatal(err)
	}
	fill := filepath.Join(dir, "fill")
	os.WriteFile(fill, make([]byte, 64<<10), 0o600) // ENOSPC part way: the disk is full
	big := strings.Repeat("x", 3000)
	failed := false
	for range 8 { // the first pages may still have room
		if err := j.Intent("b", "file", "", "1", big, "", ""); err != nil {
			failed = true
			if !strings.Contains(err.Error(), "no change was made") {
				t.Errorf("error does not say what happened: %v", err)
			}
			break
		}
	}
	if !failed {
		t.Fatal("no append failed on a full disk")
	}
	os.Remove(fill)
	if err := j.Intent("c", "file", "", "1", "2", "", ""); err != nil {
		t.Fatalf("after space returned: %v", err)
	}
	j.Close()
	j2, open, err := Open(p)
	if err != nil || len(j2.Skipped()) != 0 {
		t.Fatalf("reopen: %v %+v", err, j2.Skipped())
	}
	defer j2.Close()
	keys := ""
	for _, e := range open {
		keys += e.Key
	}
	if !strings.HasPrefix(keys, "a") || !strings.HasSuffix(keys, "c") {
		t.Errorf("open after the full disk: %s", keys)
	}
}

// TestClaimSyncedOnce: the first set of a knob (its claim, carrying the
// original) is fsynced; later sets with the same original are not, as long
// as the claim's record is in the file: compaction forgets it, a rewrite
// keeps the open knobs' originals synced.
func TestClaimSyncedOnce(t *testing.T) {
	p := filepath.Join(t.TempDir(), "j")
	j, _, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if j.Synced("a", "1") {
		t.Fatal("unclaimed knob synced")
	}
	j.Intent("a", "file", "", "1", "2", "", "")
	j.Applied("a", "2")
	if !j.Synced("a", "1") || j.Synced("a", "2") {
		t.Error("claim of a: want synced with original 1 only")
	}
	j.Intent("b", "file", "", "7", "8", "", "")
	j.Restored("a")
	if !j.Synced("b", "7") {
		t.Error("b's claim forgotten while its record is in the file")
	}
	j.Restored("b") // nothing open: truncated
	if j.Synced("b", "7") {
		t.Error("a claim counted as synced after its record was truncated away")
	}
	j.Intent("c", "file", "", "3", "4", "", "")
	for i := 0; j.size < maxSize/2; i++ {
		j.Intent("c", "file", "", "4", "3", "", "")
		j.Applied("c", "3")
	}
	for j.sizeNow() <= maxSize {
		j.Intent("c", "file", "", "3", "4", "", "")
		j.Applied("c", "4")
	}
	j.behind.wg.Wait() // the rewrite runs beside the changes (rewriteBehind)
	if !j.Synced("c", "3") || j.sizeNow() > 1024 {
		t.Errorf("after the size rewrite: synced %v, %d bytes", j.Synced("c", "3"), j.sizeNow())
	}
	j.Close()
	_, open, _ := Open(p)
	if len(open) != 1 || open[0].Orig != "3" || open[0].Written != "4" {
		t.Errorf("after the rewrite: %+v", open)
	}
}

// TestClaimSyncsWithoutLock: a claim's fsync holds no lock, so a change of
// a knob claimed before goes on meanwhile (a policy reload must not stall
// the pipeline's writes); a change of a knob of the pending claim fsyncs
// its own record; once the claim's fsync is done its knobs are durable.
func TestClaimSyncsWithoutLock(t *testing.T) {
	j, _, err := Open(filepath.Join(t.TempDir(), "j"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, err := j.Claim([]Claim{{Key: "old", Type: "file", Orig: "1"}}); err != nil || !j.Synced("old", "1") {
		t.Fatalf("first claim: err %v, synced %v", err, j.Synced("old", "1"))
	}
	entered, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	j.syncHook = func(f *os.File) error {
		if first.CompareAndSwap(false, true) { // the claim's
			close(entered)
			<-release
		}
		return f.Sync()
	}
	done := make(chan error, 1)
	go func() {
		_, err := j.Claim([]Claim{{Key: "new", Type: "file", Orig: "5"}, {Key: "new2", Type: "file", Orig: "7"}})
		done <- err
	}()
	<-entered
	changed := make(chan error, 1)
	go func() { changed <- j.Intent("old", "file", "", "1", "2", "", "") }()
	select {
	case err := <-changed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a change of a claimed knob waited for another claim's fsync")
	}
	if j.Synced("new", "5") {
		t.Error("a claim counted durable before its fsync")
	}
	if err := j.Intent("new2", "file", "", "7", "8", "", ""); err != nil || !j.Synced("new2", "7") {
		t.Errorf("a change of a knob whose claim is pending: err %v, synced %v; want fsynced itself", err, j.Synced("new2", "7"))
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !j.Synced("new", "5") || !j.Synced("new2", "7") {
		t.Errorf("after the claim's fsync: new synced %v, new2 %v", j.Synced("new", "5"), j.Synced("new2", "7"))
	}
	// Changes of claimed knobs cost no fsync: Syncs does not move.
	n := j.Syncs()
	for _, v := range []string{"6", "5", "6"} {
		if err := j.Intent("new", "file", "", "5", v, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	if d := j.Syncs() - n; d != 0 {
		t.Errorf("%d fsyncs for three changes of a claimed knob, want 0", d)
	}
}
