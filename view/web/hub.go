package web

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ainka/ainka/view"
)

// update is one message of the stream: the snapshot and the timeline
// events after the previous update (all of them in a viewer's first).
type update struct {
	// SentMs is the wall clock, in Unix milliseconds, the update was
	// published: viewers measure their update latency from it.
	SentMs   int64         `json:"sent_ms"`
	Snapshot view.Snapshot `json:"snapshot"`
	Events   []view.Event  `json:"events"`
}

// hub offers each published update to every viewer without waiting.
type hub struct {
	mu      sync.Mutex
	viewers map[chan []byte]struct{}
	closed  bool

	sent, dropped *metrics.Counter
}

func newHub(set *metrics.Set) *hub {
	h := &hub{viewers: map[chan []byte]struct{}{},
		sent:    set.GetOrCreateCounter("ainka_ui_updates_total"),
		dropped: set.GetOrCreateCounter("ainka_ui_updates_dropped_total")}
	set.GetOrCreateGauge("ainka_ui_viewers", func() float64 { return float64(h.count()) })
	return h
}

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.viewers)
}

// join adds a viewer: its channel holds one update, so a viewer that has
// not taken the last one yet loses the next.
func (h *hub) join() (chan []byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false
	}
	ch := make(chan []byte, 1)
	h.viewers[ch] = struct{}{}
	return ch, true
}

func (h *hub) leave(ch chan []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.viewers[ch]; ok {
		delete(h.viewers, ch)
		close(ch)
	}
}

// offer hands msg to every viewer that is ready for it and counts the
// others' loss.
func (h *hub) offer(msg []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.viewers {
		select {
		case ch <- msg:
			h.sent.Inc()
		default:
			h.dropped.Inc()
		}
	}
}

// close ends every viewer's stream; later joins are refused.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ch := range h.viewers {
		delete(h.viewers, ch)
		close(ch)
	}
}

// publish takes a snapshot every interval while someone watches, encodes
// it once and offers it to every viewer.
func (s *Server) publish(ctx context.Context) {
	t := time.NewTicker(s.o.Interval)
	defer t.Stop()
	var seq uint64 // the last timeline event published
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.hub.count() == 0 {
			continue // nobody watches: read nothing
		}
		ev := s.o.Timeline(seq)
		if len(ev) > 0 {
			seq = ev[len(ev)-1].Seq
		}
		s.hub.offer(s.message(ev))
	}
}

// message is an update with the snapshot of now as one server-sent
// event, framed once for every viewer.
func (s *Server) message(ev []view.Event) []byte {
	if ev == nil {
		ev = []view.Event{}
	}
	sent := time.Now().UnixMilli()
	b, err := json.Marshal(update{SentMs: sent, Snapshot: s.o.Snapshot(), Events: ev})
	if err != nil { // a Snapshot always encodes (Num writes NaN as null)
		s.o.Logger.Error("dashboard update not encoded", "err", err)
		b = []byte(`{}`)
	}
	return append(append([]byte("data: "), b...), "\n\n"...)
}

// writeTimeout cuts off a viewer whose browser has stopped reading: its
// updates were being dropped meanwhile.
const writeTimeout = 10 * time.Second

// events is the server-sent event stream of one viewer: a first update
// with the whole timeline, then one per interval.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	ch, ok := s.hub.join()
	if !ok {
		http.Error(w, "the daemon is stopping", http.StatusServiceUnavailable)
		return
	}
	defer s.hub.leave(ch)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	msg := s.message(s.o.Timeline(0))
	for {
		rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := w.Write(msg); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case msg, ok = <-ch:
			if !ok {
				return
			}
		}
	}
}
