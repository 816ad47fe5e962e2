package decide

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// policyFile reads the policy file and tells whether it changed since it
// was last read. It has its own lock so that polling the file never waits
// for the engine.
type policyFile struct {
	path string

	mu      sync.Mutex
	sum     [32]byte
	mod     time.Time
	size    int64
	lastErr string // the last reload error, "" after a good one
}

// EmptyMarker, as a line of a policy file without policies, says the
// file is meant to be empty: only then does a reload remove every running
// file policy. Without it an empty file is taken for one caught while it
// was being written (cp truncates, then writes) and the running set stays.
const EmptyMarker = "# ainka: no policies"

// ErrEmptyPolicyFile: a reload found no policies and no EmptyMarker.
var ErrEmptyPolicyFile = errors.New("policy file has no policies")

// settle is how long a policy file must be left unmodified before it is
// read: a file written in place is read whole, not half written.
const settle = 150 * time.Millisecond

// read reads and compiles the file, refusing more than max policies, and
// remembers its fingerprint. empty reports a file that says it is meant
// to have no policies (EmptyMarker).
func (f *policyFile) read(max int) (cs []*compiled, empty bool, err error) {
	data, fi, err := readComplete(f.path)
	if err != nil {
		return nil, false, fmt.Errorf("read policy file: %w", err)
	}
	f.mu.Lock()
	f.mod, f.size, f.sum = fi.ModTime(), fi.Size(), sha256.Sum256(data)
	f.mu.Unlock()
	cs, err = parseFile(f.path, data, max)
	return cs, bytes.Contains(data, []byte(EmptyMarker)), err
}

// readComplete reads path once it has been left alone for settle and
// stays the same (size and modification time) across the read, so a
// reload never sees a file someone is writing in place. It gives up after
// about two seconds of writing.
func readComplete(path string) ([]byte, os.FileInfo, error) {
	for try := 0; ; try++ {
		before, err := os.Stat(path)
		if err != nil {
			return nil, nil, err
		}
		if age := time.Since(before.ModTime()); age < settle && age > -time.Second && try < 12 {
			time.Sleep(settle - age)
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		after, err := os.Stat(path)
		if err != nil {
			return nil, nil, err
		}
		if after.ModTime().Equal(before.ModTime()) && after.Size() == before.Size() && int64(len(data)) == after.Size() {
			return data, after, nil
		}
		if try >= 12 {
			return nil, nil, fmt.Errorf("%s kept changing while it was read: not reloaded (write it elsewhere and mv it into place)", path)
		}
		time.Sleep(settle)
	}
}

// changed reports whether the file's contents differ from the last read.
// A new modification time alone (touch, an editor saving the same text)
// is not a change.
func (f *policyFile) changed() bool {
	fi, err := os.Stat(f.path)
	if err != nil {
		return false
	}
	f.mu.Lock()
	mod, size, sum := f.mod, f.size, f.sum
	f.mu.Unlock()
	if fi.ModTime().Equal(mod) && fi.Size() == size {
		return false
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return false
	}
	if sha256.Sum256(data) != sum {
		return true
	}
	f.mu.Lock()
	f.mod, f.size = fi.ModTime(), fi.Size()
	f.mu.Unlock()
	return false
}

func (f *policyFile) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastErr = ""
	if err != nil {
		f.lastErr = err.Error()
	}
}

func (f *policyFile) err() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastErr
}
