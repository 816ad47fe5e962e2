package control

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// LogEntry is one structured log record as `ainka-cli logs` shows it.
type LogEntry struct {
	Seq   uint64         `json:"seq"`
	Time  time.Time      `json:"time"`
	Level string         `json:"level"`
	Msg   string         `json:"msg"`
	Attrs map[string]any `json:"attrs,omitempty"`
}

// DefaultLogEntries is the ring's capacity when NewLogRing is given 0: a
// few minutes of a busy daemon's log, a few MiB at most.
const DefaultLogEntries = 4096

// LogRing keeps the daemon's most recent log records in memory, bounded by
// a number of entries, and fans new ones out to followers. A follower that
// does not keep up loses entries (counted) rather than slowing the logger.
type LogRing struct {
	mu      sync.Mutex
	buf     []LogEntry
	next    int // index of the slot the next entry goes to
	count   int
	seq     uint64
	subs    map[*logSub]struct{}
	dropped atomic.Uint64
}

type logSub struct{ ch chan LogEntry }

// NewLogRing returns a ring holding up to capacity entries (0 means
// DefaultLogEntries).
func NewLogRing(capacity int) *LogRing {
	if capacity <= 0 {
		capacity = DefaultLogEntries
	}
	return &LogRing{buf: make([]LogEntry, capacity), subs: map[*logSub]struct{}{}}
}

func (r *LogRing) add(e LogEntry) {
	r.mu.Lock()
	r.seq++
	e.Seq = r.seq
	r.buf[r.next] = e
	r.next = (r.next + 1) % len(r.buf)
	if r.count < len(r.buf) {
		r.count++
	}
	for s := range r.subs {
		select {
		case s.ch <- e:
		default:
			r.dropped.Add(1)
		}
	}
	r.mu.Unlock()
}

// Since returns the entries logged at or after t, oldest first (the zero
// time returns everything held), and the sequence number of the newest
// entry held, for a follower to continue from.
func (r *LogRing) Since(t time.Time) (entries []LogEntry, last uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := (r.next - r.count + len(r.buf)) % len(r.buf)
	for i := 0; i < r.count; i++ {
		e := r.buf[(start+i)%len(r.buf)]
		if !e.Time.Before(t) {
			entries = append(entries, e)
		}
	}
	return entries, r.seq
}

// Subscribe returns a channel receiving every entry logged from now on,
// buffered by buf entries, and a function that ends the subscription.
func (r *LogRing) Subscribe(buf int) (<-chan LogEntry, func()) {
	if buf <= 0 {
		buf = 256
	}
	s := &logSub{ch: make(chan LogEntry, buf)}
	r.mu.Lock()
	r.subs[s] = struct{}{}
	r.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			r.mu.Lock()
			delete(r.subs, s)
			r.mu.Unlock()
		})
	}
}

// Dropped counts entries that followers lost because they fell behind.
func (r *LogRing) Dropped() uint64 { return r.dropped.Load() }

// Handler wraps next so that every record it handles is also kept in the
// ring. Level filtering is next's: the ring keeps what the log shows. A nil
// next keeps records at Info and above in the ring only.
func (r *LogRing) Handler(next slog.Handler) slog.Handler {
	return &ringHandler{ring: r, next: next}
}

type ringHandler struct {
	ring   *LogRing
	next   slog.Handler
	attrs  []slog.Attr // from WithAttrs, keys already prefixed with groups
	prefix string      // from WithGroup: "g1.g2."
}

func (h *ringHandler) Enabled(ctx context.Context, l slog.Level) bool {
	if h.next == nil {
		return l >= slog.LevelInfo
	}
	return h.next.Enabled(ctx, l)
}

func (h *ringHandler) Handle(ctx context.Context, rec slog.Record) error {
	e := LogEntry{Time: rec.Time, Level: rec.Level.String(), Msg: rec.Message}
	if n := len(h.attrs) + rec.NumAttrs(); n > 0 {
		e.Attrs = make(map[string]any, n)
		for _, a := range h.attrs {
			putAttr(e.Attrs, "", a)
		}
		rec.Attrs(func(a slog.Attr) bool {
			putAttr(e.Attrs, h.prefix, a)
			return true
		})
	}
	h.ring.add(e)
	if h.next == nil {
		return nil
	}
	return h.next.Handle(ctx, rec)
}

func (h *ringHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), prefixed(h.prefix, as)...)
	if h.next != nil {
		c.next = h.next.WithAttrs(as)
	}
	return &c
}

func (h *ringHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.prefix = h.prefix + name + "."
	if h.next != nil {
		c.next = h.next.WithGroup(name)
	}
	return &c
}

func prefixed(prefix string, as []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = slog.Attr{Key: prefix + a.Key, Value: a.Value}
	}
	return out
}

// putAttr flattens groups into dotted keys and turns values into what
// encoding/json can always marshal.
func putAttr(m map[string]any, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			putAttr(m, p, g)
		}
		return
	}
	if a.Key == "" {
		return
	}
	m[prefix+a.Key] = jsonValue(v)
}

func jsonValue(v slog.Value) any {
	switch v.Kind() {
	case slog.KindString:
		return v.String()
	case slog.KindInt64:
		return v.Int64()
	case slog.KindUint64:
		return v.Uint64()
	case slog.KindFloat64:
		if f := v.Float64(); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
		return fmt.Sprint(v.Float64()) // JSON has no NaN or Inf
	case slog.KindBool:
		return v.Bool()
	case slog.KindDuration:
		return v.Duration().String()
	case slog.KindTime:
		return v.Time()
	}
	switch x := v.Any().(type) {
	case error:
		return x.Error()
	case fmt.Stringer:
		return x.String()
	case []string, []int, []int64, []uint64, []float64, map[string]string, map[string]int:
		return x
	default:
		return fmt.Sprint(x)
	}
}
