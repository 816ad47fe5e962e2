package trace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ainka/ainka/internal/testenv"
	"time"
)

func testHeader() Header {
	return Header{
		SchemaVersion: 1,
		KernelRelease: "6.18.0-test",
		Hostname:      "host",
		NumCPU:        2,
		CaptureStart:  time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
		BootOffsetNs:  1_700_000_000_000_000_000,
		Kinds:         []KindConfig{{Kind: 1, Name: "syscall", Enabled: true, SampleEvery: 4}},
	}
}

// record makes a distinct record of a realistic size.
func record(i int) []byte {
	r := make([]byte, 64+8*(i%3))
	binary.LittleEndian.PutUint64(r, uint64(i)*1000)
	binary.LittleEndian.PutUint32(r[8:], uint32(i))
	return r
}

// buildTrace writes n records with a stats frame every 10 records and
// returns the file and the byte offset at which each record frame ends.
func buildTrace(t testing.TB, n int) ([]byte, []int) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testHeader())
	if err != nil {
		t.Fatal(err)
	}
	var ends []int
	for i := 0; i < n; i++ {
		if err := w.WriteRecord(record(i)); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		ends = append(ends, buf.Len())
		if i%10 == 9 {
			s := Stats{TsNs: uint64(i), N: 2}
			s.Kinds[1] = KindStats{Seen: uint64(i), Emitted: uint64(i), Lost: 1, Filtered: 2}
			if err := w.WriteStats(&s); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), ends
}

// readAll returns how many records were read before the error (nil at a
// clean end) and checks that every one is intact.
func readAll(t testing.TB, data []byte) (int, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		rec, err := r.NextRecord()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if !bytes.Equal(rec, record(n)) {
			t.Fatalf("record %d differs", n)
		}
		n++
	}
}

func TestRoundTrip(t *testing.T) {
	data, _ := buildTrace(t, 100)
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header()
	want := testHeader()
	want.FormatVersion = FormatVersion
	if h.Hostname != want.Hostname || h.KernelRelease != want.KernelRelease || !h.CaptureStart.Equal(want.CaptureStart) ||
		h.BootOffsetNs != want.BootOffsetNs || h.FormatVersion != FormatVersion || len(h.Kinds) != 1 || h.Kinds[0] != want.Kinds[0] {
		t.Fatalf("header = %+v, want %+v", h, want)
	}
	n, err := readAll(t, data)
	if err != nil || n != 100 {
		t.Fatalf("read %d records, err %v; want 100, nil", n, err)
	}
	r, _ = NewReader(bytes.NewReader(data))
	for {
		if _, err := r.NextRecord(); err != nil {
			break
		}
	}
	s, ok := r.Stats()
	if !ok || s.TsNs != 99 || s.N != 2 || s.Kinds[1].Seen != 99 || s.Kinds[1].Filtered != 2 {
		t.Fatalf("last stats = %+v, %v", s, ok)
	}
	if _, err := r.NextRecord(); err != io.EOF {
		t.Fatalf("after end: %v, want io.EOF", err)
	}
}

// Every truncation point gives ErrTruncated at the offset of the first
// missing frame and delivers every complete record before it.
func TestTruncatedEverywhere(t *testing.T) {
	data, ends := buildTrace(t, 25)
	for cut := 0; cut < len(data); cut++ {
		n, err := readAll(t, data[:cut])
		if err == nil {
			t.Fatalf("cut at %d: no error", cut)
		}
		if cut >= len(Magic) && !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d: %v, want truncated", cut, err)
		}
		complete := 0
		for _, e := range ends {
			if e <= cut {
				complete++
			}
		}
		if n != complete {
			t.Fatalf("cut at %d: delivered %d records, want %d", cut, n, complete)
		}
		var fe *FormatError
		if errors.As(err, &fe) && (fe.Offset > int64(cut) || !strings.Contains(err.Error(), "byte ")) {
			t.Fatalf("cut at %d: error %q names a bad offset", cut, err)
		}
	}
}

// Flipping any byte is detected, and nothing damaged is delivered.
func TestCorruptEverywhere(t *testing.T) {
	data, ends := buildTrace(t, 12)
	for i := range data {
		bad := bytes.Clone(data)
		bad[i] ^= 0x20
		n, err := readAll(t, bad)
		if err == nil {
			t.Fatalf("flip at %d: no error", i)
		}
		// Records that end before the damaged byte are all delivered.
		before := 0
		for _, e := range ends {
			if e <= i {
				before++
			}
		}
		if i >= preambleLen && n < before {
			t.Fatalf("flip at %d: delivered %d records, want at least %d (err %v)", i, n, before, err)
		}
		if strings.Count(err.Error(), "\n") != 0 {
			t.Fatalf("multi-line error %q", err)
		}
	}
}

func TestCorruptMessage(t *testing.T) {
	data, ends := buildTrace(t, 5)
	bad := bytes.Clone(data)
	bad[ends[2]+20] ^= 1 // inside the payload of record 3
	n, err := readAll(t, bad)
	want := "trace: corrupt frame at byte " + strconv.Itoa(ends[2]) + ": crc mismatch"
	if n != 3 || err == nil || err.Error() != want {
		t.Fatalf("got %d records, %v; want 3, %q", n, err, want)
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("%v does not wrap ErrCorrupt", err)
	}
}

func TestFutureVersion(t *testing.T) {
	data, _ := buildTrace(t, 1)
	bad := bytes.Clone(data)
	binary.LittleEndian.PutUint32(bad[8:], FormatVersion+1)
	_, err := NewReader(bytes.NewReader(bad))
	var ve *VersionError
	if !errors.As(err, &ve) || !errors.Is(err, ErrFutureVersion) {
		t.Fatalf("err = %v, want *VersionError", err)
	}
	if !strings.Contains(err.Error(), "version 2") || !strings.Contains(err.Error(), "(1)") {
		t.Fatalf("error %q does not name both versions", err)
	}
}

func TestRandomFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	_, err := NewReader(bytes.NewReader(junk))
	if !errors.Is(err, ErrNotTrace) || !strings.Contains(err.Error(), "not an ainka trace") {
		t.Fatalf("err = %v, want not an ainka trace", err)
	}
	if _, err := NewReader(bytes.NewReader(nil)); !errors.Is(err, ErrNotTrace) {
		t.Fatalf("empty file: %v", err)
	}
}

func TestTrailingData(t *testing.T) {
	data, _ := buildTrace(t, 3)
	n, err := readAll(t, append(bytes.Clone(data), 0))
	if n != 3 || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "after the end frame") {
		t.Fatalf("got %d, %v", n, err)
	}
}

func TestOversizedFrameLength(t *testing.T) {
	data, ends := buildTrace(t, 3)
	bad := bytes.Clone(data)
	binary.LittleEndian.PutUint32(bad[ends[0]+4:], 0xffffff00)
	n, err := readAll(t, bad)
	if n != 1 || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "exceeds limit") {
		t.Fatalf("got %d, %v", n, err)
	}
}

func TestStatsRoundTrip(t *testing.T) {
	var s Stats
	s.TsNs, s.N = 42, MaxKinds
	for i := range s.Kinds {
		s.Kinds[i] = KindStats{uint64(i), uint64(2 * i), uint64(3 * i), uint64(4 * i)}
	}
	var got Stats
	if err := decodeStats(&got, encodeStats(nil, &s)); err != nil || got != s {
		t.Fatalf("got %+v, %v", got, err)
	}
	if err := decodeStats(&got, make([]byte, 3)); err == nil {
		t.Fatal("short stats frame accepted")
	}
}

func TestWriterClosed(t *testing.T) {
	w, err := NewWriter(io.Discard, testHeader())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRecord(record(0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

func TestReadFromFile(t *testing.T) {
	data, _ := buildTrace(t, 3000) // larger than the reader's buffer
	path := filepath.Join(t.TempDir(), "x.trace")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		rec, err := r.NextRecord()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rec, record(n)) {
			t.Fatalf("record %d differs", n)
		}
		n++
	}
	if n != 3000 {
		t.Fatalf("read %d records", n)
	}
}

func TestReaderZeroAlloc(t *testing.T) {
	data, _ := buildTrace(t, 2000)
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := r.NextRecord(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per record", allocs)
	}
}

func BenchmarkReader(b *testing.B) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, testHeader())
	for i := 0; i < 10000; i++ {
		w.WriteRecord(record(i))
	}
	w.Close()
	data := buf.Bytes()
	b.SetBytes(int64(len(data) / 10000))
	b.ReportAllocs()
	b.ResetTimer()
	var r *Reader
	for i := 0; i < b.N; i++ {
		if i%10000 == 0 {
			r, _ = NewReader(bytes.NewReader(data))
		}
		if _, err := r.NextRecord(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriter(b *testing.B) {
	w, err := NewWriter(io.Discard, testHeader())
	if err != nil {
		b.Fatal(err)
	}
	rec := record(1)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := w.WriteRecord(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// Records written without flushes share blocks; a cut loses at most the
// block it falls in, and every record before that block is delivered.
func TestBlocksTruncated(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testHeader())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		if err := w.WriteRecord(record(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if n, err := readAll(t, data); n != 1000 || err != nil {
		t.Fatalf("whole file: %d, %v", n, err)
	}
	// Average record frame ≈ 74 bytes: blocks hold about 55 of them.
	if len(data) > 1000*76+2000 {
		t.Fatalf("%d bytes for 1000 records: blocks not shared", len(data))
	}
	for cut := len(data) - 1; cut > 0; cut -= 97 {
		n, err := readAll(t, data[:cut])
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		// Everything but the cut block (≤ BlockSize) and the header.
		if want := (cut - 400 - BlockSize) / 76; n < want {
			t.Fatalf("cut at %d: only %d records delivered", cut, n)
		}
	}
}

func TestBadBlockInside(t *testing.T) {
	// A block whose CRC is right but whose record length overruns it: the
	// writer's bug, reported as damage at the block.
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, testHeader())
	w.Flush()
	off := buf.Len()
	block := []byte{10, 0, 1, 2, 3}
	var fh [frameHdrLen]byte
	putFrameHeader(fh[:], FrameRecord, block)
	buf.Write(fh[:])
	buf.Write(block)
	n, err := readAll(t, buf.Bytes())
	if n != 0 || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "overruns its block") || !strings.Contains(err.Error(), strconv.Itoa(off)) {
		t.Fatalf("got %d, %v", n, err)
	}
}

func TestRecordTooLong(t *testing.T) {
	w, _ := NewWriter(io.Discard, testHeader())
	if err := w.WriteRecord(make([]byte, MaxRecordLen+1)); err == nil {
		t.Fatal("oversized record accepted")
	}
	if err := w.WriteRecord(make([]byte, MaxRecordLen)); err != nil {
		t.Fatal(err)
	}
}

func TestReset(t *testing.T) {
	data, _ := buildTrace(t, 50)
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for pass := 0; pass < 3; pass++ {
		if pass > 0 {
			if err := r.Reset(bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
		}
		n := 0
		for {
			rec, err := r.NextRecord()
			if err == io.EOF {
				break
			}
			if err != nil || !bytes.Equal(rec, record(n)) {
				t.Fatalf("pass %d record %d: %v", pass, n, err)
			}
			n++
		}
		if n != 50 || r.Records() != 50 {
			t.Fatalf("pass %d: %d records", pass, n)
		}
	}
	if err := r.Reset(bytes.NewReader([]byte("junk"))); !errors.Is(err, ErrNotTrace) {
		t.Fatalf("reset to junk: %v", err)
	}
}

// TestBenchReader guards BenchmarkReader's path (make bench-check): reading
// records of an in-memory trace, CRC check included, costs at most 4 times
// checksumming and copying the same bytes (1.3 to 1.6 measured on the
// shared 2-vCPU VM).
func TestBenchReader(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, testHeader())
	for i := 0; i < 10000; i++ {
		w.WriteRecord(record(i))
	}
	w.Close()
	data := buf.Bytes()
	per := len(data) / 10000
	dst := make([]byte, per)
	testenv.BenchRatio(t, 4, func(n int) {
		var r *Reader
		for i := 0; i < n; i++ {
			if i%10000 == 0 {
				r, _ = NewReader(bytes.NewReader(data))
			}
			if _, err := r.NextRecord(); err != nil {
				t.Fatal(err)
			}
		}
	}, func(n int) {
		var sum uint32
		for i := 0; i < n; i++ {
			j := i % 10000 * per
			sum = crc32.Update(sum, castagnoli, data[j:j+per])
			copy(dst, data[j:j+per])
		}
	})
}
