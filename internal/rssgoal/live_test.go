package rssgoal

import (
	"bufio"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
)

// TestGovernedBurstStaysUnderGoal runs bursts of allocation in this process
// (batches of 256 KiB, up to 8 MiB of them live, 320 MiB allocated in all)
// at GOGC=400, a collector that lets the heap grow to five times what is
// live. Ungoverned, the peak RSS (VmHWM) passes the goal; governed by Start
// with that goal, it stays under it. The goal is this process's fixed part
// plus Margin plus a Go limit of what the runtime holds at rest + 14 MiB.
func TestGovernedBurstStaysUnderGoal(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	debug.FreeOSMemory()
	u, err := ReadSelf()
	if err != nil {
		t.Fatal(err)
	}
	goal := u.Fixed + u.BPF + Margin + max(Floor, goHeld()+14<<20)

	resetPeak(t)
	burst(8<<20, 320<<20)
	free := peak(t)
	if free <= goal {
		t.Fatalf("ungoverned peak %s is under the goal %s: this burst cannot show the bound", mib(free), mib(goal))
	}

	debug.FreeOSMemory()
	g, err := Start(goal, 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	resetPeak(t)
	burst(8<<20, 320<<20)
	held := peak(t)
	t.Logf("goal %s (fixed %s, Go limit %s): peak RSS ungoverned %s, governed %s", mib(goal), mib(u.Fixed), mib(g.Limit()), mib(free), mib(held))
	if held > goal {
		t.Fatalf("governed peak RSS %s passes the goal %s", mib(held), mib(goal))
	}
}

var sink [][]byte

// burst allocates total bytes in 256 KiB batches, the last live bytes of
// them kept alive, touching every page.
func burst(live, total int64) {
	const size = 256 << 10
	keep := make([][]byte, live/size)
	for i := int64(0); i < total/size; i++ {
		b := make([]byte, size)
		for j := 0; j < size; j += 4096 {
			b[j] = byte(i)
		}
		keep[i%int64(len(keep))] = b
	}
	sink = keep
	sink = nil
}

// goHeld is the memory the Go runtime holds from the OS (mapped, not
// released): what its memory limit counts.
func goHeld() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64() - s[1].Value.Uint64())
}

// resetPeak sets VmHWM back to the current RSS (clear_refs 5, Linux 4.0).
func resetPeak(t *testing.T) {
	runtime.GC()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak RSS: %v", err)
	}
}

// peak reads VmHWM from /proc/self/status.
func peak(t *testing.T) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}
