package rssgoal

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// DropBinaryPages unmaps the resident pages of the executable's read-only
// mappings (text, read-only data, the function table) from this process
// and returns how many bytes of mappings it covered. The pages stay in the
// page cache: the ones the daemon still runs fault back in at once, at
// the cost of a minor fault per 64 KiB (fault-around). Why: the kernel
// maps a file's cached pages around every fault, so 86% of the text and
// 81% of the function table were resident in a soak although the daemon
// runs a small part of them; that was 11.7 MiB of a 48 MiB goal.
//
// Only mappings that cannot have been written are touched (no 'w' in their
// permissions): for those MADV_DONTNEED loses nothing. The running
// executable cannot be rewritten in place (ETXTBSY), so what faults back
// is what was there.
func DropBinaryPages() (int64, error) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, fmt.Errorf("read mappings: %w", err)
	}
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, fmt.Errorf("find the executable: %w", err)
	}
	var total int64
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		lo, hi, ok := readOnlyMapping(sc.Text(), exe)
		if !ok {
			continue
		}
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, lo, hi-lo, unix.MADV_DONTNEED); errno != 0 {
			return total, fmt.Errorf("madvise %x-%x: %w", lo, hi, errno)
		}
		total += int64(hi - lo)
	}
	return total, sc.Err()
}

// readOnlyMapping parses a /proc/self/maps line and says whether it maps
// path without write permission, with its address range.
func readOnlyMapping(line, path string) (lo, hi uintptr, ok bool) {
	f := strings.Fields(line)
	if len(f) < 6 || strings.Join(f[5:], " ") != path || len(f[1]) < 2 || f[1][1] == 'w' {
		return 0, 0, false
	}
	a, b, found := strings.Cut(f[0], "-")
	l, err1 := strconv.ParseUint(a, 16, 64)
	h, err2 := strconv.ParseUint(b, 16, 64)
	if !found || err1 != nil || err2 != nil || h <= l {
		return 0, 0, false
	}
	return uintptr(l), uintptr(h), true
}
