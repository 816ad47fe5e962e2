package trace

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Reader reads a trace frame by frame. Slices it returns point into its
// buffer and are valid until the next call; reading a record allocates
// nothing. The first damage found ends the stream with one *FormatError
// (sticky); every frame before it has been delivered.
type Reader struct {
	src    io.Reader
	buf    []byte
	r, w   int   // unread bytes are buf[r:w]
	off    int64 // file offset of buf[r]
	eof    bool
	err    error // sticky
	hdr    Header
	stats  Stats
	nstats int
	recs   uint64
	frames uint64
	ended  bool
	// Unread records of the current block are buf[blk:blkEnd]; indices,
	// not a slice, so that stepping through a block stores no pointer
	// (no GC write barrier per record).
	blk, blkEnd int
	blkOff      int64 // the block frame's offset, for errors
}

// NewReader reads and checks the preamble and header of a trace.
func NewReader(src io.Reader) (*Reader, error) {
	r := &Reader{}
	if err := r.Reset(src); err != nil {
		return nil, err
	}
	return r, nil
}

// Reset makes r read another trace (or the same file again, for repeated
// replays), keeping its buffer, and reads that trace's header.
func (r *Reader) Reset(src io.Reader) error {
	buf := r.buf
	if buf == nil {
		buf = make([]byte, 64<<10) // a few blocks; reads this size cost little more per byte than larger ones
	}
	*r = Reader{src: src, buf: buf}
	return r.start()
}

func (r *Reader) start() error {
	n, err := r.fill(preambleLen)
	if err != nil {
		return err
	}
	p := r.buf[r.r : r.r+n]
	if n == 0 {
		return &FormatError{Offset: 0, Kind: ErrNotTrace, Detail: "empty file"}
	}
	if n < len(Magic) || string(p[:len(Magic)]) != Magic {
		if n < len(Magic) && string(p) == Magic[:n] {
			return &FormatError{Offset: 0, Kind: ErrTruncated, Detail: fmt.Sprintf("file ends after %d of %d preamble bytes", n, preambleLen)}
		}
		return &FormatError{Offset: 0, Kind: ErrNotTrace, Detail: fmt.Sprintf("bad magic %q, want %q", p[:min(n, len(Magic))], Magic)}
	}
	if n < preambleLen {
		return &FormatError{Offset: 0, Kind: ErrTruncated, Detail: fmt.Sprintf("file ends after %d of %d preamble bytes", n, preambleLen)}
	}
	v := binary.LittleEndian.Uint32(p[8:])
	if v == 0 {
		return &FormatError{Offset: 8, Kind: ErrCorrupt, Detail: "format version 0"}
	}
	if v > FormatVersion {
		return &VersionError{File: v, Supported: FormatVersion}
	}
	if binary.LittleEndian.Uint32(p[12:]) != 0 {
		return &FormatError{Offset: 12, Kind: ErrCorrupt, Detail: "reserved preamble bytes not zero"}
	}
	r.consume(preambleLen)
	start := r.off
	t, payload, err := r.next()
	if err != nil {
		return err
	}
	if t != FrameHeader {
		return r.fail(&FormatError{Offset: start, Kind: ErrCorrupt, Detail: fmt.Sprintf("first frame is %v, want header", t)})
	}
	if err := json.Unmarshal(payload, &r.hdr); err != nil {
		return r.fail(&FormatError{Offset: start, Kind: ErrCorrupt, Detail: fmt.Sprintf("bad header: %v", err)})
	}
	r.hdr.FormatVersion = v
	return nil
}

// Header returns the capture's header.
func (r *Reader) Header() Header { return r.hdr }

// Stats returns the latest stats snapshot read so far and whether there
// was one.
func (r *Reader) Stats() (Stats, bool) { return r.stats, r.nstats > 0 }

// Records returns how many records were delivered so far.
func (r *Reader) Records() uint64 { return r.recs }

// Offset returns the byte offset of the next frame.
func (r *Reader) Offset() int64 { return r.off }

// NextRecord returns the next raw record, consuming stats frames on the
// way (see Stats). It returns io.EOF after the end frame.
func (r *Reader) NextRecord() ([]byte, error) {
	for {
		t, p, err := r.Next()
		if err != nil {
			return nil, err
		}
		if t == FrameRecord {
			return p, nil
		}
	}
}

// Next returns the next record (one at a time, also from a block) or
// stats frame. It returns io.EOF after the end frame, and a *FormatError
// (wrapping ErrTruncated or ErrCorrupt) when the file is damaged.
func (r *Reader) Next() (FrameType, []byte, error) {
	for {
		if r.err != nil {
			return 0, nil, r.err
		}
		if r.blk < r.blkEnd {
			return r.nextInBlock()
		}
		start := r.off
		t, p, err := r.next()
		if err != nil {
			return 0, nil, err
		}
		switch t {
		case FrameRecord:
			// p lies in buf just before r.r: the frame was consumed, and
			// buf is not refilled until the block is used up.
			r.blk, r.blkEnd, r.blkOff = r.r-len(p), r.r, start
			continue
		case FrameStats:
			if err := decodeStats(&r.stats, p); err != nil {
				return 0, nil, r.fail(&FormatError{Offset: start, Kind: ErrCorrupt, Detail: err.Error()})
			}
			r.nstats++
			return t, p, nil
		case FrameEnd:
			if len(p) != endFrameLen {
				return 0, nil, r.fail(&FormatError{Offset: start, Kind: ErrCorrupt, Detail: fmt.Sprintf("end frame of %d bytes, want %d", len(p), endFrameLen)})
			}
			if n := binary.LittleEndian.Uint64(p); n != r.recs {
				return 0, nil, r.fail(&FormatError{Offset: start, Kind: ErrCorrupt, Detail: fmt.Sprintf("end frame counts %d records, file has %d", n, r.recs)})
			}
			r.ended = true
			// Anything after the end frame is damage, not a second trace.
			if n, err := r.fill(1); err != nil {
				return 0, nil, err
			} else if n > 0 {
				return 0, nil, r.fail(&FormatError{Offset: r.off, Kind: ErrCorrupt, Detail: "data after the end frame"})
			}
			return 0, nil, r.fail(io.EOF)
		case FrameHeader:
			return 0, nil, r.fail(&FormatError{Offset: start, Kind: ErrCorrupt, Detail: "second header frame"})
		default:
			return 0, nil, r.fail(&FormatError{Offset: start, Kind: ErrCorrupt, Detail: fmt.Sprintf("unknown frame type %d", uint8(t))})
		}
	}
}

// nextInBlock returns the next record of the current block. The block's
// CRC has been checked, so a bad length here is a writer's bug, reported
// like any other damage.
func (r *Reader) nextInBlock() (FrameType, []byte, error) {
	b := r.buf[r.blk:r.blkEnd]
	if len(b) < 2 {
		return 0, nil, r.fail(&FormatError{Offset: r.blkOff, Kind: ErrCorrupt, Detail: "record length cut at the end of its block"})
	}
	n := int(b[0]) | int(b[1])<<8
	if 2+n > len(b) {
		return 0, nil, r.fail(&FormatError{Offset: r.blkOff, Kind: ErrCorrupt, Detail: fmt.Sprintf("record of %d bytes overruns its block", n)})
	}
	r.blk += 2 + n
	r.recs++
	return FrameRecord, b[2 : 2+n : 2+n], nil
}

// next reads and checks one frame.
func (r *Reader) next() (FrameType, []byte, error) {
	start := r.off
	n, err := r.fill(frameHdrLen)
	if err != nil {
		return 0, nil, err
	}
	if n == 0 {
		return 0, nil, r.fail(&FormatError{Offset: start, Kind: ErrTruncated, Detail: fmt.Sprintf("no end frame after %d records (capture interrupted?)", r.recs)})
	}
	if n < frameHdrLen {
		return 0, nil, r.fail(&FormatError{Offset: start, Kind: ErrTruncated, Detail: fmt.Sprintf("file ends %d bytes into a %d-byte frame header", n, frameHdrLen)})
	}
	h := r.buf[r.r : r.r+frameHdrLen]
	length := binary.LittleEndian.Uint32(h[4:])
	if length > maxFrameLen {
		return 0, nil, r.fail(&FormatError{Offset: start, Kind: ErrCorrupt, Detail: fmt.Sprintf("frame length %d exceeds limit %d", length, maxFrameLen)})
	}
	total := frameHdrLen + int(length)
	if n < total {
		if n, err = r.fill(total); err != nil {
			return 0, nil, err
		}
		if n < total {
			return 0, nil, r.fail(&FormatError{Offset: start, Kind: ErrTruncated, Detail: fmt.Sprintf("file ends %d bytes into a %d-byte frame", n, total)})
		}
	}
	frame := r.buf[r.r : r.r+total]
	payload := frame[frameHdrLen:]
	if frameCRC(frame) != binary.LittleEndian.Uint32(frame) {
		return 0, nil, r.fail(&FormatError{Offset: start, Kind: ErrCorrupt, Detail: "crc mismatch"})
	}
	if frame[9]|frame[10]|frame[11] != 0 {
		return 0, nil, r.fail(&FormatError{Offset: start, Kind: ErrCorrupt, Detail: "reserved bytes not zero"})
	}
	r.consume(total)
	r.frames++
	return FrameType(frame[8]), payload, nil
}

func (r *Reader) fail(err error) error {
	r.err = err
	return err
}

func (r *Reader) consume(n int) {
	r.r += n
	r.off += int64(n)
}

// fill makes at least want bytes available in buf[r.r:r.w] unless the file
// ends first, and returns how many are available (at most want is
// guaranteed to be meaningful). Only I/O errors are returned.
func (r *Reader) fill(want int) (int, error) {
	if r.w-r.r >= want {
		return r.w - r.r, nil
	}
	if r.r+want > len(r.buf) {
		if want > len(r.buf) {
			nb := make([]byte, want)
			r.w = copy(nb, r.buf[r.r:r.w])
			r.buf = nb
		} else {
			r.w = copy(r.buf, r.buf[r.r:r.w])
		}
		r.r = 0
	}
	for r.w-r.r < want && !r.eof {
		m, err := r.src.Read(r.buf[r.w:])
		r.w += m
		if errors.Is(err, io.EOF) {
			r.eof = true
			break
		}
		if err != nil {
			return 0, r.fail(fmt.Errorf("read trace at byte %d: %w", r.off+int64(r.w-r.r), err))
		}
		if m == 0 {
			// A reader that returns 0, nil forever would spin; treat a
			// run of them as the end like io.ReadAtLeast does.
			m, err = r.src.Read(r.buf[r.w:])
			r.w += m
			if m == 0 && err == nil {
				return 0, r.fail(fmt.Errorf("read trace at byte %d: %w", r.off+int64(r.w-r.r), io.ErrNoProgress))
			}
			if errors.Is(err, io.EOF) {
				r.eof = true
			} else if err != nil {
				return 0, r.fail(fmt.Errorf("read trace at byte %d: %w", r.off+int64(r.w-r.r), err))
			}
		}
	}
	return r.w - r.r, nil
}
