package journal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// held are the directories this process has locked, so that the daemon
// can take its work_dir's lock first thing and the journal it opens later
// shares it (flock locks belong to an open file, not to a process).
var held = struct {
	sync.Mutex
	m map[string]*heldDir
}{m: map[string]*heldDir{}}

type heldDir struct {
	f *os.File
	n int
}

// LockDir takes an exclusive lock (flock) on dir, after checking that
// only this user can write it. A second process that wants the same
// directory gets ErrLocked at once; within this process the lock is
// shared and counted. release gives it back.
func LockDir(dir string) (release func() error, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("journal directory %s: %w", dir, err)
	}
	held.Lock()
	defer held.Unlock()
	if h := held.m[abs]; h != nil {
		h.n++
		return releaser(abs), nil
	}
	f, err := os.OpenFile(abs, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open journal directory %s: %w", abs, err)
	}
	if err := checkOwner(f, abs, "directory", "chown root %[1]s && chmod 700 %[1]s"); err != nil {
		f.Close()
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is held by another ainka (it journals and restores the knobs it changed); stop that one first, or give this one another work_dir", ErrLocked, abs)
		}
		return nil, fmt.Errorf("lock journal directory %s: %w", abs, err)
	}
	held.m[abs] = &heldDir{f: f, n: 1}
	return releaser(abs), nil
}

func releaser(abs string) func() error {
	var once sync.Once
	return func() error {
		var err error
		once.Do(func() {
			held.Lock()
			defer held.Unlock()
			h := held.m[abs]
			if h == nil {
				return
			}
			if h.n--; h.n == 0 {
				delete(held.m, abs)
				err = h.f.Close() // closing releases the flock
			}
		})
		return err
	}
}

// checkOwner refuses a file or directory that is not owned by this
// process's user or that group or others may write: root must not act on
// a journal another user could have planted. fix is the shell command
// that repairs it (%[1]s is the path).
func checkOwner(f *os.File, path, what, fix string) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("stat journal %s %s: %w", what, path, err)
	}
	uid := uint32(os.Geteuid())
	if st.Uid != uid {
		return fmt.Errorf("%w: %s %s is owned by uid %d, not %d; if its content is yours: "+fix, ErrUnsafe, what, path, st.Uid, uid, path)
	}
	if st.Mode&0o022 != 0 {
		return fmt.Errorf("%w: %s %s can be written by group or others (mode %04o); if its content is yours: "+fix, ErrUnsafe, what, path, st.Mode&0o7777, path)
	}
	return nil
}

// openSafe locks the journal's directory (creating it 0700) and opens the
// journal file without following a symlink.
func openSafe(path string) (dir string, f *os.File, unlock func() error, err error) {
	dir = filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, nil, fmt.Errorf("create journal directory: %w", err)
	}
	unlock, err = LockDir(dir)
	if err != nil {
		return "", nil, nil, err
	}
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		unlock()
		if errors.Is(err, unix.ELOOP) {
			return "", nil, nil, fmt.Errorf("%w: journal %s is a symbolic link; remove it (rm %s) and start again", ErrUnsafe, path, path)
		}
		return "", nil, nil, fmt.Errorf("open journal: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG {
		err = fmt.Errorf("%w: journal %s is not a regular file; move it aside and start again", ErrUnsafe, path)
		f.Close()
		unlock()
		return "", nil, nil, err
	}
	if err := checkOwner(f, path, "file", "chown root %[1]s && chmod 600 %[1]s"); err != nil {
		f.Close()
		unlock()
		return "", nil, nil, err
	}
	return dir, f, unlock, nil
}

func readAll(f *os.File) ([]byte, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}

// setAside copies a journal with unreadable lines next to it, whole, so
// that nothing in it is lost to the rewrite; it returns the copy's name.
func setAside(dir, path string, data []byte) (string, error) {
	name := filepath.Join(dir, fmt.Sprintf("%s.corrupt-%s", filepath.Base(path), time.Now().UTC().Format("20060102T150405.000000000")))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return "", fmt.Errorf("%w: set the unreadable journal aside: %v; move %s away by hand to start", ErrCorrupt, err, path)
	}
	_, err = f.Write(data)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("%w: set the unreadable journal aside in %s: %v", ErrCorrupt, name, err)
	}
	return name, nil
}

// rewrite replaces the file by one holding only the current state (the
// open and the yielded knobs), atomically: a new file, fsynced, renamed
// over the old one, the directory fsynced.
func (j *Journal) rewrite() error {
	buf, _ := j.state()
	tmp := j.path + ".new"
	os.Remove(tmp) // a leftover of a crash in here; the directory is ours (locked)
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("rewrite journal: %w", err)
	}
	_, err = f.Write(buf)
	if err == nil {
		err = j.sync(f)
	}
	if err == nil {
		err = os.Rename(tmp, j.path)
	}
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("rewrite journal %s: %w (the old one is intact)", j.path, err)
	}
	j.syncDir()
	j.f.Close()
	j.f, j.size = f, int64(len(buf))
	j.behind.gen++
	j.behind.dirPending = false
	j.markDurable(nil, true) // the new file holds (fsynced) the originals of the open knobs only
	return nil
}
