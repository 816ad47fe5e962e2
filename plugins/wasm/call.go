package wasm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/sys"
	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/stages/decide/action"
	"github.com/ainka/ainka/stages/features"
)

// Stats are a module's counts since it was loaded.
type Stats struct {
	Calls    uint64        // detect or tune calls made
	Outputs  uint64        // scores or proposals returned
	CPU      time.Duration // thread CPU time spent in its calls
	Disabled error         // why it was disabled; nil while enabled
}

// Stats returns the module's counts.
func (m *Module) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st
}

// Detect passes v's features to a detector and writes its scores, one per
// Info.Scores, into scores (which must have room for them). Each score is
// in [0,1] or NaN (no opinion).
func (m *Module) Detect(v *features.Vector, scores []float64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.enter(Detector, v); err != nil {
		return err
	}
	n := int32(m.stack[0])
	if int(n) != len(m.Info.Scores) {
		return m.disable(fmt.Errorf("%w: %s returned %d, %s declares %d scores", ErrGarbage, exportDetect, n, m.Info.Name, len(m.Info.Scores)))
	}
	b, _ := m.mod.Memory().Read(m.buf, uint32(8*n))
	for i := range m.Info.Scores {
		s := math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		if !math.IsNaN(s) && (s < 0 || s > 1) {
			return m.disable(fmt.Errorf("%w: score %s = %g, outside [0,1]", ErrGarbage, m.Info.Scores[i], s))
		}
		scores[i] = s
	}
	m.st.Outputs += uint64(n)
	return nil
}

// Proposal is one knob step a tuner proposes, parsed against the allowlist.
type Proposal struct {
	Action action.Action
	Reason string // the plugin's words after "#", if any
}

// Tune passes v's features to a tuner and appends its proposals to dst.
// A proposal that is not an action of the allowlist disables the tuner.
func (m *Module) Tune(v *features.Vector, dst []Proposal) ([]Proposal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.enter(Tuner, v); err != nil {
		return dst, err
	}
	raw, err := m.read(m.stack[0], MaxProposalBytes)
	if err != nil {
		return dst, m.disable(fmt.Errorf("%s: %w", exportTune, err))
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(raw) == 0 {
		lines = nil
	}
	if len(lines) > MaxProposals {
		return dst, m.disable(fmt.Errorf("%w: %d proposals in one window, at most %d", ErrGarbage, len(lines), MaxProposals))
	}
	for _, line := range lines {
		src, why, _ := strings.Cut(line, "#")
		a, err := action.Parse(strings.TrimSpace(src))
		if err != nil {
			return dst, m.disable(fmt.Errorf("%w: proposal %q: %v", ErrGarbage, line, err))
		}
		dst = append(dst, Proposal{Action: a, Reason: strings.TrimSpace(why)})
	}
	m.st.Outputs += uint64(len(lines))
	return dst, nil
}

// enter writes v's features into the buffer and makes the kind's call,
// with the time limit, accounting its CPU time. On success the result is
// in m.stack[0].
func (m *Module) enter(k Kind, v *features.Vector) error {
	if m.st.Disabled != nil {
		return m.offErr
	}
	if m.Info.Kind != k || m.rt == nil {
		return fmt.Errorf("%w: %s is a %s", ErrKind, m.Info.Name, m.Info.Kind)
	}
	b, ok := m.mod.Memory().Read(m.buf, uint32(8*len(m.ids)))
	if !ok {
		return m.disable(fmt.Errorf("%w: its buffer at %#x left its memory", ErrGarbage, m.buf))
	}
	for i, id := range m.ids {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v.Values[id]))
	}
	m.stack[0] = v.EndNs
	// The watchdog cancels the module's context (wazero then closes the
	// module, even inside a loop) when the call runs past CallTimeout; a
	// timer reset per call costs less than a context per call.
	m.watchdog.Reset(m.lim.CallTimeout)
	runtime.LockOSThread()
	t0 := threadCPU()
	err := m.call.CallWithStack(m.ctx, m.stack)
	used := threadCPU() - t0
	runtime.UnlockOSThread()
	m.watchdog.Stop()
	m.st.CPU += used
	m.st.Calls++
	if err != nil {
		return m.disable(m.failure(m.call.Definition().Name(), err))
	}
	if used > m.lim.CallCPU {
		return m.disable(fmt.Errorf("%w: %s used %v of CPU, more than %v", ErrTimeout, m.call.Definition().Name(), used.Round(time.Microsecond), m.lim.CallCPU))
	}
	return nil
}

// failure turns a wazero error into one wrapping a sentinel, with the
// guest's last words (a Go guest prints its panic or "out of memory").
func (m *Module) failure(what string, err error) error {
	words := m.stderr.last()
	if words != "" {
		words = " (" + words + ")"
	}
	var exit *sys.ExitError
	switch {
	case errors.As(err, &exit) && (exit.ExitCode() == sys.ExitCodeDeadlineExceeded || exit.ExitCode() == sys.ExitCodeContextCanceled):
		return fmt.Errorf("%w: %s ran past %v", ErrTimeout, what, m.lim.CallTimeout)
	case errors.As(err, &exit):
		return fmt.Errorf("%w: %s exited with code %d%s", ErrTrap, what, exit.ExitCode(), words)
	}
	msg, _, _ := strings.Cut(err.Error(), "\n") // wazero appends a stack trace
	return fmt.Errorf("%w: %s: %s%s", ErrTrap, what, msg, words)
}

// disable records the first failure for good and closes the instance.
func (m *Module) disable(err error) error {
	m.st.Disabled = err
	m.offErr = fmt.Errorf("%w: %s: %v", ErrDisabled, m.Info.Name, err)
	if m.rt != nil {
		m.rt.Close(context.Background())
		m.rt = nil
	}
	return err
}

func threadCPU() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// tailWriter keeps the first line of a guest's stderr that says why it
// died: a Go runtime writes "fatal error: ..." or "panic: ..." before its
// goroutine dump and exit.
type tailWriter struct {
	mu       sync.Mutex
	line     []byte
	headline string
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range p {
		if c != '\n' {
			if len(w.line) < 256 {
				w.line = append(w.line, c)
			}
			continue
		}
		s := strings.TrimSpace(string(w.line))
		w.line = w.line[:0]
		if w.headline == "" && (strings.HasPrefix(s, "panic:") || strings.HasPrefix(s, "fatal error:")) {
			w.headline = truncate(s, 160)
		}
	}
	return len(p), nil
}

func (w *tailWriter) last() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.headline
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
