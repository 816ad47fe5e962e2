package rssgoal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// ErrSmaps is returned for /proc/self/smaps content that cannot be read as
// mappings with their Rss and Anonymous sizes.
var ErrSmaps = errors.New("malformed smaps")

// Usage is the process's resident memory by who owns it, in bytes.
type Usage struct {
	// Anon is anonymous memory: the Go runtime's heap, stacks and
	// structures (and a binary's written data pages), what the Go memory
	// limit bounds.
	Anon int64
	// Fixed is resident file-backed memory other than BPF maps: the
	// binary's text and read-only data, libc, the vDSO.
	Fixed int64
	// BPF is resident memory of mmapped BPF maps: the ring buffer.
	BPF int64
}

// Total is the resident set size.
func (u Usage) Total() int64 { return u.Anon + u.Fixed + u.BPF }

// ReadSelf reads the current process's usage from /proc/self/smaps.
func ReadSelf() (Usage, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return Usage{}, fmt.Errorf("read memory usage: %w", err)
	}
	defer f.Close()
	return ParseSmaps(f)
}

// ParseSmaps sums the mappings of a /proc/PID/smaps text. A mapping's
// anonymous pages count as Anon whatever it maps; the rest of its Rss is
// BPF for a BPF map (anon_inode:bpf-map) and Fixed otherwise.
func ParseSmaps(r io.Reader) (Usage, error) {
	var u Usage
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	line, mappings := 0, 0
	bpf := false
	var rss, anon int64 = -1, -1
	flush := func() error {
		if mappings == 0 {
			return nil
		}
		if rss < 0 || anon < 0 || anon > rss {
			return fmt.Errorf("%w: mapping %d before line %d: Rss %d, Anonymous %d", ErrSmaps, mappings, line, rss, anon)
		}
		if bpf {
			u.BPF += rss - anon
		} else {
			u.Fixed += rss - anon
		}
		u.Anon += anon
		return nil
	}
	for sc.Scan() {
		line++
		text := sc.Text()
		name, rest, _ := strings.Cut(text, ":")
		if isHeader(name) {
			if err := flush(); err != nil {
				return Usage{}, err
			}
			mappings++
			bpf = strings.Contains(text, "bpf-map")
			rss, anon = -1, -1
			continue
		}
		if name != "Rss" && name != "Anonymous" {
			continue
		}
		if mappings == 0 {
			return Usage{}, fmt.Errorf("%w: line %d: %s before any mapping", ErrSmaps, line, name)
		}
		n, err := parseKB(rest)
		if err != nil {
			return Usage{}, fmt.Errorf("%w: line %d: %s: %v", ErrSmaps, line, name, err)
		}
		if name == "Rss" {
			rss = n
		} else {
			anon = n
		}
	}
	if err := sc.Err(); err != nil {
		return Usage{}, fmt.Errorf("read smaps: %w", err)
	}
	if mappings == 0 {
		return Usage{}, fmt.Errorf("%w: no mappings", ErrSmaps)
	}
	return u, flush()
}

// isHeader reports whether a line's text before its first colon starts a
// mapping: "7f12a000-7f12b000 r-xp 00000000 08:01 1234 /usr/bin/x" has an
// address range there; a field line ("Rss") does not.
func isHeader(beforeColon string) bool {
	lo, _, ok := strings.Cut(beforeColon, "-")
	if !ok || lo == "" {
		return false
	}
	for _, c := range lo {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// parseKB reads " 1234 kB" as bytes.
func parseKB(s string) (int64, error) {
	f := strings.Fields(s)
	if len(f) != 2 || f[1] != "kB" {
		return 0, fmt.Errorf("%q is not a size in kB", strings.TrimSpace(s))
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || n < 0 || n > 1<<40 {
		return 0, fmt.Errorf("%q is not a size in kB", f[0])
	}
	return n << 10, nil
}
