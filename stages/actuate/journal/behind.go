package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// behind is the state of the size rewrite that runs beside the changes
// (rewriteBehind). Its fields are guarded by Journal.mu, but for wg.
type behind struct {
	running bool
	wg      sync.WaitGroup
	// gen counts the times the file was replaced or emptied: a rewrite
	// that finds it moved gives up (the file is small again).
	gen uint64
	// synced counts the records made durable by an fsync of their own: a
	// rewrite that copies one in the tail fsyncs the new file again.
	synced uint64
	// dirPending: the new file has its name, not yet fsynced in the
	// directory; a record made durable meanwhile fsyncs the directory too.
	dirPending bool
	err        error // the last rewrite's failure, for tests; the old file stays whole
}

// errMoved: the journal was closed, emptied or rewritten while a rewrite
// behind was writing its new file.
var errMoved = errors.New("journal replaced meanwhile")

// rewriteBehind replaces the file by one holding the current state, as
// rewrite does, with the journal's lock held only to take the state and to
// swap the files, not through the new file's fsync: the change that
// crossed maxSize, and those after it, go on meanwhile. Records appended
// to the old file in that time are copied behind the state; if one of them
// was made durable by its own fsync, the new file is fsynced again before
// it takes the journal's name.
func (j *Journal) rewriteBehind() {
	defer j.behind.wg.Done()
	err := j.rewriteConcurrent()
	j.mu.Lock()
	j.behind.running, j.behind.err = false, err
	j.mu.Unlock()
}

func (j *Journal) rewriteConcurrent() error {
	j.mu.Lock()
	if j.f == nil {
		j.mu.Unlock()
		return errMoved
	}
	head, heldOrig := j.state()
	f0, off0, gen0, synced0 := j.f, j.size, j.behind.gen, j.behind.synced
	j.mu.Unlock()

	// Not rewrite's ".new": that one runs under the lock (a compaction, a
	// corrupt journal at Open) and may rename its file while this one is
	// being written.
	tmp := j.path + ".behind"
	os.Remove(tmp) // a leftover of a crash in here; the directory is ours (locked)
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("rewrite journal: %w", err)
	}
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if _, err := f.Write(head); err != nil {
		return fail(fmt.Errorf("rewrite journal %s: %w (the old one is intact)", j.path, err))
	}
	if err := j.sync(f); err != nil {
		return fail(fmt.Errorf("rewrite journal %s: %w (the old one is intact)", j.path, err))
	}

	j.mu.Lock()
	if j.f != f0 || j.behind.gen != gen0 {
		j.mu.Unlock()
		return fail(errMoved)
	}
	resynced, err := j.copyTail(f0, f, off0, int64(len(head)), j.behind.synced != synced0)
	if err == nil {
		err = os.Rename(tmp, j.path)
	}
	if err != nil {
		j.mu.Unlock()
		return fail(fmt.Errorf("rewrite journal %s: %w (the old one is intact)", j.path, err))
	}
	f0.Close()
	j.f, j.size = f, int64(len(head))+(j.size-off0)
	j.behind.gen++
	j.markDurable(heldOrig, resynced)
	j.behind.dirPending = true
	gen := j.behind.gen
	j.mu.Unlock()

	j.syncDir() // outside the lock: a durable record meanwhile syncs it itself
	j.mu.Lock()
	if j.behind.gen == gen {
		j.behind.dirPending = false
	}
	j.mu.Unlock()
	return nil
}

// state encodes the open and the yielded knobs as records (the head of a
// rewritten file) and returns the originals of the open ones it holds.
func (j *Journal) state() ([]byte, map[string]string) {
	var buf []byte
	add := func(r Record) {
		j.seq++
		r.Seq = j.seq
		b, _ := json.Marshal(r)
		buf = append(append(buf, b...), '\n')
	}
	held := make(map[string]string, len(j.open))
	for _, e := range sorted(j.open) {
		add(Record{Op: OpSet, Key: e.Key, Type: e.Type, Path: e.Path, Orig: e.Orig, Prev: e.Prev, New: e.Written, Policy: e.Policy, Why: e.Why, Wall: e.Since})
		held[e.Key] = e.Orig
	}
	for _, e := range sorted(j.yielded) {
		add(Record{Op: OpYielded, Key: e.Key, Type: e.Type, Path: e.Path, Orig: e.Orig, Prev: e.Written, New: e.Outside, Policy: e.Policy, Wall: e.Since})
	}
	return buf, held
}

// copyTail copies the old file's records from off (appended since the
// state was taken) to the new file at at, and fsyncs the new file again
// when one of them was durable (resync); it says whether it did.
func (j *Journal) copyTail(old, f *os.File, off, at int64, resync bool) (bool, error) {
	if n := j.size - off; n > 0 {
		tail := make([]byte, n)
		if _, err := old.ReadAt(tail, off); err != nil {
			return false, fmt.Errorf("read the records since the state: %w", err)
		}
		if _, err := f.WriteAt(tail, at); err != nil {
			return false, fmt.Errorf("copy the records since the state: %w", err)
		}
	}
	if !resync {
		return false, nil
	}
	return true, j.sync(f)
}

// markDurable sets which originals the new file holds on disk: those of
// its head that are still the open knobs' originals, or, once the whole
// file was fsynced again, every open knob's (each has its set record in
// the head or the tail).
func (j *Journal) markDurable(head map[string]string, all bool) {
	clear(j.durable)
	for k, e := range j.open {
		if o, ok := head[k]; all || ok && o == e.Orig {
			j.durable[k] = e.Orig
		}
	}
}

// syncDir fsyncs the journal's directory: a renamed file's name is durable
// once it is.
func (j *Journal) syncDir() {
	if d, err := os.Open(filepath.Dir(j.path)); err == nil {
		d.Sync()
		d.Close()
	}
}
