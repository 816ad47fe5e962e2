package decide

import (
	"crypto/sha256"
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

// read reads and compiles the file, refusing more than max policies, and
// remembers its fingerprint.
func (f *policyFile) read(max int) ([]*compiled, error) {
	data, err := os.ReadFile(f.path)
	if err == nil {
		var fi os.FileInfo
		if fi, err = os.Stat(f.path); err == nil {
			f.mu.Lock()
			f.mod, f.size, f.sum = fi.ModTime(), fi.Size(), sha256.Sum256(data)
			f.mu.Unlock()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read policy file: %w", err)
	}
	return parseFile(f.path, data, max)
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
