package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/internal/testenv"
)

// The phases of a run read disjoint regions, each large enough that a
// sequential phase at 1.4× the fastest rate measured here (494 MiB/s)
// cannot reach its end, and the image holds them all, for every run
// length from the CI's 8 s to the maximum 60 s.
func TestReadaheadLayoutNeverWraps(t *testing.T) {
	const fastestMiBs = 494
	for _, c := range []struct {
		d     time.Duration
		quick bool
	}{{8 * time.Second, true}, {15 * time.Second, false}, {30 * time.Second, false}, {60 * time.Second, false}} {
		n := raPhases(c.quick)
		phaseLen := c.d / time.Duration(n)
		regs := raLayout(n, phaseLen)
		img := raImageBytes(n, phaseLen)
		var end int64
		for i, r := range regs {
			if r.off < end {
				t.Errorf("%v: phase %d starts at %d MiB, inside phase %d's region (ends %d MiB)", c.d, i, r.off>>20, i-1, end>>20)
			}
			end = r.off + r.size
			need := int64(1.4 * fastestMiBs * phaseLen.Seconds() * (1 << 20))
			if i%2 == 1 {
				need = 8 * int64(12*phaseLen.Seconds()*(1<<20)) // 8× what a random phase read (12 MiB/s)
			}
			if r.size < need {
				t.Errorf("%v: phase %d's region %d MiB, want ≥ %d MiB", c.d, i, r.size>>20, need>>20)
			}
		}
		if img < end {
			t.Errorf("%v: image %d MiB, the regions end at %d MiB", c.d, img>>20, end>>20)
		}
		// Runs up to the default length share one image: no run grows it.
		if c.d <= raImageFor && img != raImageBytes(raPhases(false), raImageFor/time.Duration(raPhases(false))) {
			t.Errorf("%v: image %d MiB, want the %v run's", c.d, img>>20, raImageFor)
		}
	}
}

// raImage grows the image by writing only its new part: the data
// already there stays (fio's --offset would have zeroed it), and a
// large enough image is not written at all.
func TestReadaheadImageGrows(t *testing.T) {
	if _, err := exec.LookPath("fio"); err != nil {
		testenv.SkipUnlessVM(t, "needs fio (scripts/dev-packages.txt)")
	}
	dir := filepath.Join(t.TempDir(), "run")
	ctx := context.Background()
	p, err := raImage(ctx, dir, 2<<20)
	if err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(p)
	if err != nil || len(first) != 2<<20 {
		t.Fatalf("image: %d bytes, %v; want 2 MiB", len(first), err)
	}
	if bytes.Count(first, []byte{0}) > len(first)/16 {
		t.Fatalf("image is %d zero bytes of %d: not incompressible data", bytes.Count(first, []byte{0}), len(first))
	}
	if _, err := raImage(ctx, dir, 3<<20); err != nil {
		t.Fatal(err)
	}
	grown, _ := os.ReadFile(p)
	if len(grown) != 3<<20 || !bytes.Equal(grown[:2<<20], first) {
		t.Fatalf("grown image: %d bytes, first 2 MiB kept: %v", len(grown), bytes.Equal(grown[:min(len(grown), 2<<20)], first))
	}
	st, _ := os.Stat(p)
	if _, err := raImage(ctx, dir, 1<<20); err != nil {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(p); st2.Size() != 3<<20 || !st2.ModTime().Equal(st.ModTime()) {
		t.Errorf("a large enough image was written again (%d bytes)", st2.Size())
	}
	// An image path fio cannot write (a directory there): an error that
	// says what was being written.
	bad := t.TempDir()
	if err := os.Mkdir(filepath.Join(bad, "readahead.img"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := raImage(ctx, filepath.Join(bad, "run"), 1<<20); err == nil || !strings.Contains(err.Error(), "write backing file") {
		t.Errorf("an image path that is a directory: %v, want an error naming the backing file", err)
	}
}
