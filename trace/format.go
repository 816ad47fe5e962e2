package trace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/ainka/ainka/plugins/probe/spec"
)

// Magic opens every trace file.
const Magic = "AINKATRC"

// FormatVersion is the version of the container format written by this
// package. Readers accept every version up to and including it.
const FormatVersion = 1

const (
	preambleLen  = 16
	frameHdrLen  = 12
	maxFrameLen  = 1 << 20 // no record or header comes close; bounds the damage a bad length can do
	endFrameLen  = 16
	statsHdrLen  = 16
	kindStatsLen = 32
	// BlockSize is the most record bytes (with their length prefixes) a
	// records frame holds.
	BlockSize = 4096
	// MaxRecordLen is the longest record a trace can hold.
	MaxRecordLen = 1<<16 - 1
)

// FrameType tells what a frame carries.
type FrameType uint8

const (
	FrameHeader FrameType = 1
	FrameRecord FrameType = 2 // a block of records; Reader.Next returns them one by one
	FrameStats  FrameType = 3
	FrameEnd    FrameType = 4
)

func (t FrameType) String() string {
	switch t {
	case FrameHeader:
		return "header"
	case FrameRecord:
		return "records"
	case FrameStats:
		return "stats"
	case FrameEnd:
		return "end"
	}
	return fmt.Sprintf("frame type %d", uint8(t))
}

// Sentinel errors; the errors returned by Reader wrap one of them and carry
// the byte offset (see *FormatError).
var (
	ErrNotTrace      = errors.New("not an ainka trace")
	ErrFutureVersion = errors.New("unsupported trace format version")
	ErrCorrupt       = errors.New("corrupt frame")
	ErrTruncated     = errors.New("truncated")
)

// FormatError describes damage found at a byte offset of the file.
type FormatError struct {
	Offset int64  // byte offset of the frame (or preamble) that is bad
	Kind   error  // ErrNotTrace, ErrCorrupt or ErrTruncated
	Detail string // what exactly is wrong
}

func (e *FormatError) Error() string {
	switch e.Kind {
	case ErrTruncated:
		return fmt.Sprintf("trace: truncated at byte %d: %s", e.Offset, e.Detail)
	case ErrNotTrace:
		return fmt.Sprintf("trace: not an ainka trace (byte %d: %s)", e.Offset, e.Detail)
	}
	return fmt.Sprintf("trace: %v at byte %d: %s", e.Kind, e.Offset, e.Detail)
}

func (e *FormatError) Unwrap() error { return e.Kind }

// VersionError is returned for a trace written by a newer format version.
type VersionError struct {
	File, Supported uint32
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("trace: format version %d is newer than the newest this ainka reads (%d); upgrade ainka", e.File, e.Supported)
}

func (e *VersionError) Unwrap() error { return ErrFutureVersion }

// KindConfig says how one record kind was captured.
type KindConfig struct {
	Kind         uint16 `json:"kind"`
	Name         string `json:"name"`
	Enabled      bool   `json:"enabled"`
	SampleEvery  uint32 `json:"sample_every,omitempty"` // 1-in-N sampling; 0 or 1 = every event
	MinLatencyNs uint64 `json:"min_latency_ns,omitempty"`
	// Budget and BudgetPeriodNs: the kernel's adaptive sampling (records
	// carry their weight; schema 2), informational.
	Budget         uint32 `json:"budget,omitempty"`
	BudgetPeriodNs uint64 `json:"budget_period_ns,omitempty"`
}

// Header describes a capture. It is informational except for
// SchemaVersion, which decide whether decode can read the records.
type Header struct {
	// FormatVersion is the container version read from the preamble; the
	// writer always writes the current FormatVersion.
	FormatVersion uint32 `json:"-"`
	// SchemaVersion is AINKA_SCHEMA_VERSION of bpf/ainka_record.h that the
	// records follow.
	SchemaVersion uint32 `json:"schema_version"`
	KernelRelease string `json:"kernel_release"`
	Hostname      string `json:"hostname"`
	NumCPU        int    `json:"num_cpu"`
	// CaptureStart is the wall clock at the start, for people; pipeline
	// time is the records' ts_ns.
	CaptureStart time.Time `json:"capture_start"`
	// BootOffsetNs is CLOCK_REALTIME - CLOCK_MONOTONIC at capture start:
	// wall time of a record = ts_ns + BootOffsetNs.
	BootOffsetNs         int64        `json:"boot_offset_ns"`
	CollectionIntervalMs uint32       `json:"collection_interval_ms,omitempty"`
	Kinds                []KindConfig `json:"kinds"`
	// Note says how the trace was made (workload, command line).
	Note string `json:"note,omitempty"`
	// Probes are the probe plugin kinds whose records the trace holds
	// (none before they existed: such traces replay as before).
	Probes []ProbeKind `json:"probes,omitempty"`
}

// ProbeABI is the version of ProbeKind in trace headers. A reader replays
// the plugin kinds of versions it knows and refuses others, naming both.
const ProbeABI = 1

// ProbeKind is a probe plugin's record kind as captured: its layout and
// features as the pipeline used them, so that a replay needs neither the
// plugin nor this host's tracefs, and its manifest for people.
type ProbeKind struct {
	ABI      int       `json:"abi"`
	Kind     spec.Kind `json:"kind"`
	Version  string    `json:"version"`
	Manifest string    `json:"manifest"`
}

// MaxKinds bounds the per-kind arrays of a stats snapshot.
const MaxKinds = 16

// KindStats are the kernel's exact counters for one kind (stats_map).
type KindStats struct {
	Seen     uint64 // events that hit the probe, sampled out or not
	Emitted  uint64 // records written into the ring buffer
	Lost     uint64 // records lost because the ring buffer was full
	Filtered uint64 // events dropped by policy (sampling, filters)
}

// Stats is a snapshot of the cumulative counters, indexed by record kind.
type Stats struct {
	TsNs  uint64 // CLOCK_MONOTONIC time of the snapshot
	N     int    // number of kinds present in Kinds
	Kinds [MaxKinds]KindStats
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frameCRC checksums a whole frame held contiguously in memory: one call,
// because the fixed cost of a CRC call dominates for 64-byte records.
func frameCRC(frame []byte) uint32 {
	return crc32.Checksum(frame[4:], castagnoli)
}

func putFrameHeader(dst []byte, t FrameType, payload []byte) {
	binary.LittleEndian.PutUint32(dst[4:], uint32(len(payload)))
	dst[8] = byte(t)
	dst[9], dst[10], dst[11] = 0, 0, 0
	c := crc32.Update(0, castagnoli, dst[4:frameHdrLen])
	binary.LittleEndian.PutUint32(dst[0:], crc32.Update(c, castagnoli, payload))
}

func encodeStats(dst []byte, s *Stats) []byte {
	n := s.N
	if n > MaxKinds {
		n = MaxKinds
	}
	dst = binary.LittleEndian.AppendUint64(dst, s.TsNs)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	for i := 0; i < n; i++ {
		k := &s.Kinds[i]
		dst = binary.LittleEndian.AppendUint64(dst, k.Seen)
		dst = binary.LittleEndian.AppendUint64(dst, k.Emitted)
		dst = binary.LittleEndian.AppendUint64(dst, k.Lost)
		dst = binary.LittleEndian.AppendUint64(dst, k.Filtered)
	}
	return dst
}

func decodeStats(s *Stats, p []byte) error {
	if len(p) < statsHdrLen {
		return fmt.Errorf("stats frame of %d bytes, want at least %d", len(p), statsHdrLen)
	}
	n := binary.LittleEndian.Uint32(p[8:])
	if n > MaxKinds {
		return fmt.Errorf("stats frame has %d kinds, limit %d", n, MaxKinds)
	}
	if want := statsHdrLen + int(n)*kindStatsLen; len(p) != want {
		return fmt.Errorf("stats frame of %d bytes, want %d for %d kinds", len(p), want, n)
	}
	*s = Stats{TsNs: binary.LittleEndian.Uint64(p), N: int(n)}
	for i := 0; i < int(n); i++ {
		q := p[statsHdrLen+i*kindStatsLen:]
		s.Kinds[i] = KindStats{
			Seen:     binary.LittleEndian.Uint64(q),
			Emitted:  binary.LittleEndian.Uint64(q[8:]),
			Lost:     binary.LittleEndian.Uint64(q[16:]),
			Filtered: binary.LittleEndian.Uint64(q[24:]),
		}
	}
	return nil
}
