package trace

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrClosed is returned by a Writer used after Close.
var ErrClosed = errors.New("trace: writer closed")

// Writer streams a trace. It buffers; call Close to write the end frame and
// flush. It is not safe for concurrent use.
type Writer struct {
	bw      *bufio.Writer
	hdr     [frameHdrLen]byte
	scratch []byte
	block   []byte // records not yet framed
	records uint64
	frames  uint64
	closed  bool
}

// NewWriter writes the preamble and the header frame to w.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	h.FormatVersion = FormatVersion
	js, err := json.Marshal(&h)
	if err != nil {
		return nil, fmt.Errorf("encode trace header: %w", err)
	}
	if len(js) > maxFrameLen {
		return nil, fmt.Errorf("encode trace header: %d bytes, limit %d", len(js), maxFrameLen)
	}
	tw := &Writer{bw: bufio.NewWriterSize(w, 256<<10), scratch: make([]byte, 0, 512), block: make([]byte, 0, BlockSize+2+MaxRecordLen)}
	var pre [preambleLen]byte
	copy(pre[:], Magic)
	binary.LittleEndian.PutUint32(pre[8:], FormatVersion)
	if _, err := tw.bw.Write(pre[:]); err != nil {
		return nil, fmt.Errorf("write trace preamble: %w", err)
	}
	if err := tw.frame(FrameHeader, js); err != nil {
		return nil, fmt.Errorf("write trace header: %w", err)
	}
	return tw, nil
}

func (w *Writer) frame(t FrameType, payload []byte) error {
	if w.closed {
		return ErrClosed
	}
	putFrameHeader(w.hdr[:], t, payload)
	if _, err := w.bw.Write(w.hdr[:]); err != nil {
		return err
	}
	if _, err := w.bw.Write(payload); err != nil {
		return err
	}
	w.frames++
	return nil
}

// WriteRecord appends one raw record, byte for byte. It is framed with
// the next records into a block of up to BlockSize bytes.
func (w *Writer) WriteRecord(rec []byte) error {
	if w.closed {
		return ErrClosed
	}
	if len(rec) > MaxRecordLen {
		return fmt.Errorf("write trace record: %d bytes, limit %d", len(rec), MaxRecordLen)
	}
	if len(w.block) > 0 && len(w.block)+2+len(rec) > BlockSize {
		if err := w.endBlock(); err != nil {
			return fmt.Errorf("write trace record: %w", err)
		}
	}
	w.block = binary.LittleEndian.AppendUint16(w.block, uint16(len(rec)))
	w.block = append(w.block, rec...)
	w.records++
	return nil
}

// endBlock frames the pending records.
func (w *Writer) endBlock() error {
	if len(w.block) == 0 {
		return nil
	}
	err := w.frame(FrameRecord, w.block)
	w.block = w.block[:0]
	return err
}

// WriteStats appends a snapshot of the kernel counters, after the records
// written so far.
func (w *Writer) WriteStats(s *Stats) error {
	if err := w.endBlock(); err != nil {
		return fmt.Errorf("write trace stats: %w", err)
	}
	w.scratch = encodeStats(w.scratch[:0], s)
	if err := w.frame(FrameStats, w.scratch); err != nil {
		return fmt.Errorf("write trace stats: %w", err)
	}
	return nil
}

// Records returns how many records were written so far.
func (w *Writer) Records() uint64 { return w.records }

// Flush writes buffered frames to the underlying writer, so that a reader
// sees everything up to here (as truncated, until Close).
func (w *Writer) Flush() error {
	if w.closed {
		return ErrClosed
	}
	if err := w.endBlock(); err != nil {
		return fmt.Errorf("flush trace: %w", err)
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("flush trace: %w", err)
	}
	return nil
}

// Close writes the end frame and flushes. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return ErrClosed
	}
	if err := w.endBlock(); err != nil {
		return fmt.Errorf("write trace end: %w", err)
	}
	var p [endFrameLen]byte
	binary.LittleEndian.PutUint64(p[0:], w.records)
	binary.LittleEndian.PutUint64(p[8:], w.frames+1)
	if err := w.frame(FrameEnd, p[:]); err != nil {
		return fmt.Errorf("write trace end: %w", err)
	}
	w.closed = true
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("flush trace: %w", err)
	}
	return nil
}
