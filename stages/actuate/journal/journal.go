package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Op is a record type.
type Op string

const (
	OpSet      Op = "set"
	OpApplied  Op = "applied"
	OpRestored Op = "restored"
	OpYielded  Op = "yielded"
	// OpForgot ends a yield: `ainka-cli reset` lets AINKA change the knob
	// again.
	OpForgot Op = "forgot"
)

// Record is one line of the journal.
type Record struct {
	Seq  uint64 `json:"seq"`
	Op   Op     `json:"op"`
	Key  string `json:"key"`
	Type string `json:"type,omitempty"` // how to reach the knob: file, nice, ioprio, kernel
	// Path is for the humans who read the journal. Restores never use
	// it: the knob is resolved from Key against the allowlist, so a
	// journal someone edited cannot make AINKA write another file.
	Path string `json:"path,omitempty"`
	Orig string `json:"orig,omitempty"`
	// Prev is the value AINKA read just before this set: its own earlier
	// value, or the original. A crash between the record's fsync and the
	// write leaves the knob at Prev, which is AINKA's, not an outside
	// change. Yielded records carry AINKA's last value here.
	Prev string `json:"prev,omitempty"`
	New  string `json:"new,omitempty"`
	// Policy and Why explain the change.
	Policy string `json:"policy,omitempty"`
	Why    string `json:"why,omitempty"`
	Wall   string `json:"wall,omitempty"` // wall clock, for humans
}

// Entry is an open knob (changed by AINKA and not yet restored) or a
// yielded one (changed by someone else since; AINKA leaves it alone).
type Entry struct {
	Key, Type, Path string
	Orig            string // before AINKA's first change
	Written         string // what AINKA last wrote (as the kernel reports it once applied)
	// Prev is AINKA's value before the last set whose write is not known
	// to have happened ("" once applied): the knob may hold either.
	Prev        string
	Outside     string // yielded: the value someone else set
	Policy, Why string
	Since       string
}

// Ours reports whether cur is a value AINKA put in the knob: what it
// wrote, or its value before a write that may not have happened.
func (e Entry) Ours(cur string, same func(a, b string) bool) bool {
	return same(cur, e.Written) || e.Prev != "" && same(cur, e.Prev)
}

// Resting reports whether the entry is a claim at rest: AINKA put the
// original back (a revert in the pipeline) and keeps the entry open, so
// that the original stays on disk and the next change of the knob need
// not wait for an fsync (see Intent). A resting knob holds no change of
// AINKA's: it is not listed as a change, and an outside value found in it
// ends the claim instead of yielding the knob.
func (e Entry) Resting(same func(a, b string) bool) bool {
	return e.Prev == "" && same(e.Written, e.Orig)
}

// Journal is an open journal file. It is safe for concurrent use.
type Journal struct {
	mu      sync.Mutex
	path    string
	f       *os.File
	size    int64 // bytes of whole, durable records: a failed append is cut back to it
	unlock  func() error
	seq     uint64
	open    map[string]*Entry
	yielded map[string]*Entry
	skipped []Skipped
	aside   string
	// durable maps a key to the original that an fsynced record of the
	// current file holds for it: a set record that carries that original
	// again need not be synced (see Intent).
	durable map[string]string
	// syncHook, if set, replaces the journal file's fsync (tests).
	syncHook func(*os.File) error
	syncs    atomic.Uint64
	behind   behind // the size rewrite, off the path of the change that triggers it
}

// Syncs is how many times the journal's file has been fsynced since Open:
// an fsync is 1 to 50 ms on a shared disk, so a count that moves while
// only claimed knobs change means one is on the path to a write.
func (j *Journal) Syncs() uint64 { return j.syncs.Load() }

// Skipped is a journal line that could not be read and was set aside.
type Skipped struct {
	Line int
	Text string
	Err  string
}

// Errors of Open. Each message says how to recover.
var (
	// ErrCorrupt marks journal lines that cannot be read (other than a
	// torn last line). Open does not fail on them: see Skipped.
	ErrCorrupt = errors.New("journal corrupt")
	// ErrUnsafe: the journal or its directory could be written by
	// someone other than the user AINKA runs as.
	ErrUnsafe = errors.New("journal not safe to trust")
	// ErrLocked: another process holds the journal's directory.
	ErrLocked = errors.New("journal directory in use")
)

// Open opens or creates the journal at path and replays it. The entries it
// returns are the knobs left open by a previous run that did not restore
// them (it crashed): the caller restores them and calls Restored/Yielded.
// It takes an exclusive lock on the journal's directory (see LockDir) and
// refuses a directory or file that another user could write. Lines that
// cannot be read are set aside in a file of their own (Skipped, Aside)
// and the journal is rewritten from the lines that can.
func Open(path string) (*Journal, []Entry, error) {
	dir, f, unlock, err := openSafe(path)
	if err != nil {
		return nil, nil, err
	}
	j := &Journal{path: path, f: f, unlock: unlock, open: map[string]*Entry{}, yielded: map[string]*Entry{}, durable: map[string]string{}}
	fail := func(err error) (*Journal, []Entry, error) {
		f.Close()
		unlock()
		return nil, nil, err
	}
	data, err := readAll(f)
	if err != nil {
		return fail(fmt.Errorf("read journal %s: %w", path, err))
	}
	good := j.replay(data)
	if len(j.skipped) > 0 {
		if j.aside, err = setAside(dir, path, data); err != nil {
			return fail(err)
		}
		if err := j.rewrite(); err != nil {
			return fail(err)
		}
	} else if good < int64(len(data)) {
		// torn last line: the crash came before its fsync finished, so the
		// write it announced was never made. Cut it off.
		if err := f.Truncate(good); err != nil {
			return fail(fmt.Errorf("truncate torn journal line of %s: %w", path, err))
		}
		j.size = good
	} else {
		j.size = good
	}
	return j, j.Open(), nil
}

// replay applies every readable line of data and returns the length of
// the whole lines. Unreadable lines are recorded in j.skipped.
func (j *Journal) replay(data []byte) int64 {
	var good int64
	for line := 1; len(data) > 0; line++ {
		i := 0
		for i < len(data) && data[i] != '\n' {
			i++
		}
		if i == len(data) {
			break // torn last line
		}
		var r Record
		err := json.Unmarshal(data[:i], &r)
		if err == nil {
			err = r.check()
		}
		if err != nil {
			j.skipped = append(j.skipped, Skipped{Line: line, Text: clip(string(data[:i]), 200), Err: err.Error()})
		} else {
			j.apply(r)
		}
		good += int64(i + 1)
		data = data[i+1:]
	}
	return good
}

// check rejects records that parse but cannot be one AINKA wrote.
func (r *Record) check() error {
	switch r.Op {
	case OpSet, OpApplied, OpRestored, OpYielded, OpForgot:
	default:
		return fmt.Errorf("unknown op %q", r.Op)
	}
	if r.Key == "" {
		return errors.New("no key")
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func (j *Journal) apply(r Record) {
	if r.Seq > j.seq {
		j.seq = r.Seq
	}
	switch r.Op {
	case OpSet:
		e := j.open[r.Key]
		if e == nil {
			e = &Entry{Key: r.Key, Type: r.Type, Path: r.Path, Orig: r.Orig, Since: r.Wall}
			j.open[r.Key] = e
		}
		delete(j.yielded, r.Key)
		e.Written, e.Prev, e.Policy, e.Why = r.New, r.Prev, r.Policy, r.Why
	case OpApplied:
		if e := j.open[r.Key]; e != nil {
			e.Written, e.Prev = r.New, ""
		}
	case OpRestored:
		delete(j.open, r.Key)
	case OpYielded:
		e := j.open[r.Key]
		if e == nil { // a rewritten journal: the record carries the entry
			e = &Entry{Key: r.Key, Type: r.Type, Path: r.Path, Orig: r.Orig, Written: r.Prev, Policy: r.Policy, Since: r.Wall}
		}
		e.Outside, e.Prev = r.New, ""
		delete(j.open, r.Key)
		j.yielded[r.Key] = e
	case OpForgot:
		delete(j.yielded, r.Key)
	}
}

func sorted(m map[string]*Entry) []Entry {
	out := make([]Entry, 0, len(m))
	for _, e := range m {
		out = append(out, *e)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Key < out[b].Key })
	return out
}

// Open returns the open knobs, sorted by key.
func (j *Journal) Open() []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	return sorted(j.open)
}

// Yields returns the knobs yielded to an outside change and not forgotten
// (by Forget), sorted by key. They survive restarts.
func (j *Journal) Yields() []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	return sorted(j.yielded)
}

// Skipped returns the lines Open could not read, and Aside the file they
// were set aside in ("" when none).
func (j *Journal) Skipped() []Skipped { return j.skipped }

// Aside is the file the unreadable journal was copied to by Open.
func (j *Journal) Aside() string { return j.aside }

// Get returns the open entry for key.
func (j *Journal) Get(key string) (Entry, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	e, ok := j.open[key]
	if !ok {
		return Entry{}, false
	}
	return *e, true
}

// append writes r as one line at the end of the durable records; sync
// makes it durable before returning. A record that fails (a full disk)
// is cut off again, so the journal takes the next one once there is room.
func (j *Journal) append(r Record, sync bool) error {
	if j.f == nil {
		return errors.New("journal closed")
	}
	j.seq++
	r.Seq = j.seq
	r.Wall = time.Now().UTC().Format(time.RFC3339Nano)
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode journal record: %w", err)
	}
	b = append(b, '\n')
	if _, err := j.f.WriteAt(b, j.size); err != nil {
		j.f.Truncate(j.size)
		return fmt.Errorf("write journal %s: %w (no change was made; AINKA retries once there is room)", j.path, err)
	}
	if sync {
		if err := j.sync(j.f); err != nil {
			j.f.Truncate(j.size)
			return fmt.Errorf("fsync journal %s: %w (no change was made)", j.path, err)
		}
		if r.Op == OpSet {
			j.durable[r.Key] = r.Orig
		}
		j.behind.synced++
		if j.behind.dirPending {
			j.syncDir() // the file this record is durable in must be the journal's name too
		}
	}
	j.size += int64(len(b))
	j.apply(r)
	return nil
}

// Intent records that key is about to be written with newVal. cur is the
// current value; it becomes the original only for the first change of a
// knob. It returns once the record can be read by the next start.
//
// The record that claims a knob (its first change: it carries a new
// original) is fsynced. Later ones, while the claim's record is in the
// file, are written without an fsync: a process that dies (kill -9, a
// panic, the OOM killer) leaves its completed writes in the page cache,
// where the next start reads them; only a power loss or a kernel crash
// loses them, and that also resets every knob AINKA can write (sysctls,
// sysfs, cgroups and priorities do not survive a reboot), while the
// original it must find is on disk. This keeps the fsync off the path
// from a condition to its write (docs/reliability.md).
func (j *Journal) Intent(key, typ, path, cur, newVal, policy, why string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	orig := cur
	if e := j.open[key]; e != nil {
		orig = e.Orig
	}
	o, ok := j.durable[key]
	sync := (!ok || o != orig) && !diesWithBoot(typ)
	return j.append(Record{Op: OpSet, Key: key, Type: typ, Path: path, Orig: orig, Prev: cur, New: newVal, Policy: policy, Why: why}, sync)
}

// diesWithBoot reports whether a knob of this type cannot outlive a reboot
// of the host: a process's priority (nice, ioprio, sched; its key holds
// the process's start time since boot) and the kernel module's
// recommendations (a table in the module's memory). An fsync guards a
// record against a power loss or a kernel crash only, after which such a
// knob no longer exists, so its claim is not fsynced: a process matched
// by a policy's selector is claimed by its first change (its matches come
// and go, so policy load cannot claim it), and that change then waits for
// no fsync (issue 16, user-space reaction). A kill -9 of the daemon
// leaves the record in the page cache, where the next start reads it.
func diesWithBoot(typ string) bool {
	switch typ {
	case "nice", "ioprio", "sched", "kernel":
		return true
	}
	return false
}

// Claim is a knob to claim before any change: Key, Type and Path as in
// Intent, Orig its current value.
type Claim struct{ Key, Type, Path, Orig, Policy string }

// Claim journals the originals of knobs that a change may soon be asked
// for (a policy's knob, at policy load), fsynced once for all, so that
// the first change of each is journaled without an fsync: the claim's
// record holds the original on disk already (see Intent). A claim is at
// rest (Entry.Resting): it holds no change, a restart or Close closes it
// and leaves the knob alone, and an outside value ends it. Knobs open or
// yielded already are left as they are. It returns the keys it claimed.
//
// The fsync runs without the journal's lock: a policy reload claims while
// the pipeline goes on, and a change of a knob claimed before (Intent)
// must not wait behind this fsync (1 to 50 ms on a shared disk). A change
// of a knob of this very claim made meanwhile finds it not yet durable and
// fsyncs its own record, as a first change always did.
func (j *Journal) Claim(cs []Claim) ([]string, error) {
	j.mu.Lock()
	var keys, origs []string
	for _, c := range cs {
		if _, ok := j.open[c.Key]; ok {
			continue
		}
		if _, ok := j.yielded[c.Key]; ok {
			continue
		}
		r := Record{Op: OpSet, Key: c.Key, Type: c.Type, Path: c.Path, Orig: c.Orig, New: c.Orig, Policy: c.Policy, Why: "claimed before its first change"}
		if err := j.append(r, false); err != nil {
			j.mu.Unlock()
			return keys, err
		}
		keys, origs = append(keys, c.Key), append(origs, c.Orig)
	}
	f := j.f
	j.mu.Unlock()
	if len(keys) == 0 {
		return nil, nil
	}
	if err := j.sync(f); err != nil {
		return keys, fmt.Errorf("fsync journal %s: %w", j.path, err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f != f {
		// Rewritten (or closed) meanwhile: a rewrite fsyncs the open
		// knobs' originals itself and marks them durable.
		return keys, nil
	}
	for i, k := range keys {
		if e := j.open[k]; e != nil && e.Orig == origs[i] {
			j.durable[k] = origs[i]
		}
	}
	return keys, nil
}

// sync is f.Sync, or a test's stand-in (syncHook), counted (Syncs).
func (j *Journal) sync(f *os.File) error {
	j.syncs.Add(1)
	if j.syncHook != nil {
		return j.syncHook(f)
	}
	return f.Sync()
}

// Synced reports whether the next Intent for key with original orig would
// be written without an fsync (its claim is on disk): for tests.
func (j *Journal) Synced(key, orig string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	o, ok := j.durable[key]
	return ok && o == orig
}

// Applied records the value the kernel reports after the write. It is not
// synced: losing it only makes the next start accept the value before the
// write as AINKA's too. Once the file has grown past maxSize it is
// rewritten with the current state alone (the claims' originals stay on
// disk, fsynced by the rewrite), by a goroutine of its own
// (rewriteBehind): its two fsyncs, 1 to 50 ms on a shared disk, must not
// hold up the pipeline's next windows, which run on the thread that called
// Applied.
func (j *Journal) Applied(key, val string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.append(Record{Op: OpApplied, Key: key, New: val}, false); err != nil {
		return err
	}
	if j.size > maxSize && !j.behind.running {
		j.behind.running = true
		j.behind.wg.Add(1)
		go j.rewriteBehind()
	}
	return nil
}

// maxSize is how large the file may grow before Applied rewrites it:
// claims at rest keep knobs open, and every change and revert of them
// appends, so "truncate once nothing is open" alone would not bound it.
// About 3000 changes.
const maxSize = 1 << 20

// Restored closes key: its original value is back.
func (j *Journal) Restored(key string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.open[key]; !ok {
		return nil
	}
	if err := j.append(Record{Op: OpRestored, Key: key}, true); err != nil {
		return err
	}
	return j.compact()
}

// Yielded closes key without restoring it: someone else set it to
// outside. The yield is kept (across restarts) until Forget.
func (j *Journal) Yielded(key, outside string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	e, ok := j.open[key]
	if !ok {
		return nil
	}
	if err := j.append(Record{Op: OpYielded, Key: key, Type: e.Type, Path: e.Path, Orig: e.Orig, Prev: e.Written, New: outside, Policy: e.Policy}, true); err != nil {
		return err
	}
	return j.compact()
}

// Forget ends the yield of key: AINKA may change it again.
func (j *Journal) Forget(key string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.yielded[key]; !ok {
		return nil
	}
	if err := j.append(Record{Op: OpForgot, Key: key}, true); err != nil {
		return err
	}
	return j.compact()
}

// compact shrinks the file once no knob is open: empty when nothing is
// yielded either, else the yields alone.
func (j *Journal) compact() error {
	if len(j.open) > 0 {
		return nil
	}
	if len(j.yielded) > 0 {
		return j.rewrite()
	}
	if err := j.f.Truncate(0); err != nil {
		return fmt.Errorf("compact journal %s: %w", j.path, err)
	}
	j.size = 0
	j.behind.gen++
	clear(j.durable)
	if err := j.sync(j.f); err != nil {
		return fmt.Errorf("fsync journal %s: %w", j.path, err)
	}
	return nil
}

// Path returns the journal's file name.
func (j *Journal) Path() string { return j.path }

// Close closes the file and releases the directory lock.
func (j *Journal) Close() error {
	j.behind.wg.Wait()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	j.f.Sync()
	err := j.f.Close()
	j.f = nil
	return errors.Join(err, j.unlock())
}
