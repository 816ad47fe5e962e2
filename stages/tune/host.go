package tune

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ainka/ainka/stages/features"
)

// hostEnt follows the host-wide features the memory and writeback tuners
// look for pressure in, as moving averages over about ten windows. A PSI
// feature this kernel (or a replayed trace) lacks stays NaN.
type hostEnt struct {
	windows   int
	psiMem    float64 // PSI memory some, % of time
	psiIO     float64 // PSI io some, % of time
	writeBps  float64 // block write bytes/s
	fsyncPerS float64
	fsyncNs   uint64 // event time of the last window with an fsync
}

func (h *hostEnt) observe(v *features.Vector) {
	first := h.windows == 0
	h.psiMem = ewmaNaN(h.psiMem, v.Values[features.PSIMemSomePct], first)
	h.psiIO = ewmaNaN(h.psiIO, v.Values[features.PSIIOSomePct], first)
	wb := v.Values[features.BlkWriteBytesPerS]
	if math.IsNaN(wb) {
		wb = 0
	}
	h.writeBps = ewma(h.writeBps, wb, first)
	secs := float64(v.EndNs-v.StartNs) / 1e9
	fs := 0.0
	if secs > 0 {
		fs = float64(v.Fsyncs) / secs
	}
	h.fsyncPerS = ewma(h.fsyncPerS, fs, first)
	if v.Fsyncs > 0 {
		h.fsyncNs = v.EndNs
	}
	h.windows++
}

// ewmaNaN is ewma for a feature that may have no source: NaN in, the old
// average stays; the first value seen starts it.
func ewmaNaN(old, x float64, first bool) float64 {
	switch {
	case math.IsNaN(x):
		if first {
			return math.NaN()
		}
		return old
	case first || math.IsNaN(old):
		return x
	}
	return old + alpha*(x-old)
}

// pressed reports whether a PSI average shows pressure of at least pct,
// or PSI is unknown here (then other evidence decides alone).
func pressed(avg, pct float64) bool { return math.IsNaN(avg) || avg >= pct }

// sysRead reads /proc/sys/NAME (vm.swappiness).
func sysRead(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join("/proc/sys", strings.ReplaceAll(name, ".", "/")))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// errNoMemcg: the process's memory is accounted to the root cgroup only.
var errNoMemcg = errors.New("no memory cgroup of its own")

// procMemCgroup reads /proc/PID/cgroup: the process's cgroup in the v1
// memory hierarchy if there is one, else its cgroup v2 path.
func procMemCgroup(pid uint32) (string, bool, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	v2 := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 7:memory:/ainka-bench/lat (v1), 0::/user.slice (v2)
		id, rest, _ := strings.Cut(sc.Text(), ":")
		ctrls, path, _ := strings.Cut(rest, ":")
		for _, c := range strings.Split(ctrls, ",") {
			if c == "memory" {
				return path, true, nil
			}
		}
		if id == "0" && ctrls == "" {
			v2 = path
		}
	}
	if err := sc.Err(); err != nil {
		return "", false, fmt.Errorf("read /proc/%d/cgroup: %w", pid, err)
	}
	if v2 == "" {
		return "", false, fmt.Errorf("pid %d: %w", pid, errNoMemcg)
	}
	return v2, false, nil
}

// readInt reads a file holding one integer.
func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

// readSwapped reads the bytes in swap of a v1 memory cgroup (memory.stat
// swap, with swap accounting) or of the host ("": /proc/meminfo SwapTotal
// less SwapFree).
func readSwapped(root, cgroup string) (uint64, error) {
	if cgroup != "" {
		p := filepath.Join(root, cgroup, "memory.stat")
		v, err := statField(p, "swap ")
		if err != nil {
			return 0, fmt.Errorf("%s: %w", p, err)
		}
		return v, nil
	}
	total, err1 := statField("/proc/meminfo", "SwapTotal:")
	free, err2 := statField("/proc/meminfo", "SwapFree:")
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/meminfo: %w", err)
	}
	return (total - min(free, total)) << 10, nil
}

// cgroup2Root is where the cgroup v2 hierarchy is mounted.
const cgroup2Root = "/sys/fs/cgroup"

// readReclaimed reads the pages reclaim has taken from a memory cgroup so
// far. v1: memory.stat total_pgpgout, the pages uncharged from the cgroup
// and its children; a swap-out uncharges one, and so does a page-cache
// page dropped, while a resident working set frees none. v2: memory.stat
// pgsteal, the pages reclaimed from it (the memory controller must be
// enabled there).
func readReclaimed(root1, root2, cgroup string, v1 bool) (uint64, error) {
	p, field := filepath.Join(root1, cgroup, "memory.stat"), "total_pgpgout "
	if !v1 {
		p, field = filepath.Join(root2, cgroup, "memory.stat"), "pgsteal "
	}
	v, err := statField(p, field)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", p, err)
	}
	return v, nil
}

// errNoField: a statistics file lacks the field asked for.
var errNoField = errors.New("no such field")

// statField reads the number after prefix on its line of file p.
func statField(p, prefix string) (uint64, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			return strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("%w %q", errNoField, strings.TrimSpace(prefix))
}
