package journal

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Op is a record type.
type Op string

const (
	OpSet      Op = "set"
	OpApplied  Op = "applied"
	OpRestored Op = "restored"
	OpYielded  Op = "yielded"
)

// Record is one line of the journal.
type Record struct {
	Seq  uint64 `json:"seq"`
	Op   Op     `json:"op"`
	Key  string `json:"key"`
	Type string `json:"type,omitempty"` // how to reach the knob: file, nice, ioprio, kernel
	Path string `json:"path,omitempty"` // file knobs: the file; nice/ioprio: "PID:STARTTIME"
	Orig string `json:"orig,omitempty"`
	New  string `json:"new,omitempty"`
	// Policy and Why explain the change.
	Policy string `json:"policy,omitempty"`
	Why    string `json:"why,omitempty"`
	Wall   string `json:"wall,omitempty"` // wall clock, for humans
}

// Entry is an open knob: changed by AINKA and not yet restored.
type Entry struct {
	Key, Type, Path string
	Orig            string // before AINKA's first change
	Written         string // what AINKA last wrote (as the kernel reports it once applied)
	Policy, Why     string
	Since           string
}

// Journal is an open journal file. It is safe for concurrent use.
type Journal struct {
	mu   sync.Mutex
	path string
	f    *os.File
	w    *bufio.Writer
	seq  uint64
	open map[string]*Entry
}

// ErrCorrupt marks a journal line that cannot be read (other than a torn
// last line).
var ErrCorrupt = errors.New("journal corrupt")

// Open opens or creates the journal at path and replays it. The entries it
// returns are the knobs left open by a previous run that did not restore
// them (it crashed): the caller restores them and calls Restored/Yielded.
func Open(path string) (*Journal, []Entry, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("create journal dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open journal: %w", err)
	}
	j := &Journal{path: path, f: f, open: map[string]*Entry{}}
	if err := j.replay(); err != nil {
		f.Close()
		return nil, nil, err
	}
	if _, err := f.Seek(0, 2); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("seek journal: %w", err)
	}
	j.w = bufio.NewWriter(f)
	return j, j.Open(), nil
}

func (j *Journal) replay() error {
	data, err := os.ReadFile(j.path)
	if err != nil {
		return fmt.Errorf("read journal: %w", err)
	}
	line := 0
	for len(data) > 0 {
		line++
		i := 0
		for i < len(data) && data[i] != '\n' {
			i++
		}
		if i == len(data) {
			// torn last line: the crash came before its fsync finished,
			// so the write it announced was never made. Cut it off.
			st, err := j.f.Stat()
			if err != nil {
				return fmt.Errorf("stat journal: %w", err)
			}
			if err := j.f.Truncate(st.Size() - int64(len(data))); err != nil {
				return fmt.Errorf("truncate torn journal line: %w", err)
			}
			break
		}
		var r Record
		if err := json.Unmarshal(data[:i], &r); err != nil {
			return fmt.Errorf("%w: %s line %d: %v", ErrCorrupt, j.path, line, err)
		}
		j.apply(r)
		data = data[i+1:]
	}
	return nil
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
		e.Written, e.Policy, e.Why = r.New, r.Policy, r.Why
	case OpApplied:
		if e := j.open[r.Key]; e != nil {
			e.Written = r.New
		}
	case OpRestored, OpYielded:
		delete(j.open, r.Key)
	}
}

// Open returns the open knobs, sorted by key.
func (j *Journal) Open() []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]Entry, 0, len(j.open))
	for _, e := range j.open {
		out = append(out, *e)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Key < out[b].Key })
	return out
}

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

// append writes r; sync makes it durable before returning.
func (j *Journal) append(r Record, sync bool) error {
	j.seq++
	r.Seq = j.seq
	r.Wall = time.Now().UTC().Format(time.RFC3339Nano)
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode journal record: %w", err)
	}
	b = append(b, '\n')
	if _, err := j.w.Write(b); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	if sync {
		if err := j.f.Sync(); err != nil {
			return fmt.Errorf("fsync journal: %w", err)
		}
	}
	j.apply(r)
	return nil
}

// Intent records that key is about to be written with newVal. orig is the
// current value; it is kept only for the first change of a knob. It
// returns once the record is on disk.
func (j *Journal) Intent(key, typ, path, orig, newVal, policy, why string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if e := j.open[key]; e != nil {
		orig = e.Orig
	}
	return j.append(Record{Op: OpSet, Key: key, Type: typ, Path: path, Orig: orig, New: newVal, Policy: policy, Why: why}, true)
}

// Applied records the value the kernel reports after the write. It is not
// synced: losing it only makes the next start compare against the value
// that was asked for.
func (j *Journal) Applied(key, val string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.append(Record{Op: OpApplied, Key: key, New: val}, false)
}

// Restored closes key: its original value is back.
func (j *Journal) Restored(key string) error { return j.close(key, OpRestored) }

// Yielded closes key without restoring it: someone else changed it.
func (j *Journal) Yielded(key string) error { return j.close(key, OpYielded) }

func (j *Journal) close(key string, op Op) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.open[key]; !ok {
		return nil
	}
	if err := j.append(Record{Op: op, Key: key}, true); err != nil {
		return err
	}
	if len(j.open) == 0 {
		return j.compact()
	}
	return nil
}

// compact empties the file once no knob is open.
func (j *Journal) compact() error {
	if err := j.f.Truncate(0); err != nil {
		return fmt.Errorf("compact journal: %w", err)
	}
	if _, err := j.f.Seek(0, 0); err != nil {
		return fmt.Errorf("compact journal: %w", err)
	}
	j.w.Reset(j.f)
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("fsync journal: %w", err)
	}
	return nil
}

// Path returns the journal's file name.
func (j *Journal) Path() string { return j.path }

// Close flushes and closes the file.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	j.w.Flush()
	j.f.Sync()
	err := j.f.Close()
	j.f = nil
	return err
}
