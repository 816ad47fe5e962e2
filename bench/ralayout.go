package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// The readahead scenario's phases each read a region of the device no
// other phase of the run reads, and never wrap: fio reads its region once
// (no --time_based) and stops at the phase's length or the region's end,
// whichever comes first. With one 1 GiB image read again from its start
// by every phase, a sequential phase at 300+ MiB/s wrapped after ~3.3 s
// and read the rest of its time from the page cache it had just filled:
// every later second measured cached re-reads, which no readahead
// setting changes, and the per-phase throughput and time to best were
// the cache's.
//
// Sizes: a sequential region holds raSeqBudgetMiB per second of its
// phase (a phase at read_ahead_kb 8192 read 494 MiB/s, 97 % of a region
// of 512 MiB/s, in a 15 s run under load 6: a quieter disk must not
// exhaust it); a
// random region raRandBudgetMiB per second, at least raRandMinMiB (4 KiB
// psync random reads made 6-12 MiB/s; a region far larger than what a
// phase reads keeps a large readahead's pages from serving the phase's
// later random reads). A phase that reads its whole region still
// measures the disk (its run is short, not cached); its read_pct says
// how much of its region it read.
const (
	raSeqBudgetMiB  = 768
	raRandBudgetMiB = 96
	raRandMinMiB    = 512
	// raImageFor: the image is sized for runs up to this long (the
	// suite's default duration), so runs of every length up to it share
	// one image written once; a longer run grows it.
	raImageFor = 30 * time.Second
)

// raRegion is where a phase reads, in bytes of the device.
type raRegion struct {
	off, size int64
}

// raPhases is the number of phases of a run.
func raPhases(quick bool) int {
	if quick {
		return 4
	}
	return 6
}

// raLayout places the n phases of a run whose phases last phaseLen one
// after the other: even phases sequential, odd phases random.
func raLayout(n int, phaseLen time.Duration) []raRegion {
	out := make([]raRegion, n)
	var off int64
	for i := range out {
		mib := int64(phaseLen.Seconds()*raSeqBudgetMiB + 0.999)
		if i%2 == 1 {
			mib = max(int64(phaseLen.Seconds()*raRandBudgetMiB+0.999), raRandMinMiB)
		}
		out[i] = raRegion{off: off, size: mib << 20}
		off += mib << 20
	}
	return out
}

// raImageBytes is the size of the image a run needs: the end of its last
// region, and at least what a run of raImageFor needs.
func raImageBytes(n int, phaseLen time.Duration) int64 {
	need := func(n int, d time.Duration) int64 {
		l := raLayout(n, d)
		return l[n-1].off + l[n-1].size
	}
	return max(need(n, phaseLen), need(raPhases(false), raImageFor/time.Duration(raPhases(false))))
}

// raImage is the backing file, kept in the work directory across runs:
// written with incompressible data (a fresh sparse file would read zeros
// without touching the disk), grown when a run needs more (only the new
// part is written).
func raImage(ctx context.Context, dir string, size int64) (string, error) {
	p := filepath.Join(filepath.Dir(dir), "readahead.img")
	var have int64
	if st, err := os.Stat(p); err == nil {
		have = st.Size()
	}
	if have >= size {
		return p, nil
	}
	// file_append: fio's --offset lays the file out anew, zeroing what
	// is before the offset.
	if _, err := run(ctx, "fio", "--name=fill", "--filename="+p, "--rw=write", "--bs=1M",
		"--file_append=1", "--size="+strconv.FormatInt(size-have, 10),
		"--refill_buffers", "--end_fsync=1", "--output=/dev/null"); err != nil {
		return "", fmt.Errorf("readahead: write backing file (%d MiB from %d MiB): %w", (size-have)>>20, have>>20, err)
	}
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("readahead: backing file: %w", err)
	}
	if st.Size() < size {
		return "", fmt.Errorf("readahead: backing file %s is %d MiB after writing, want %d MiB", p, st.Size()>>20, size>>20)
	}
	return p, nil
}
