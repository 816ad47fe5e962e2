package push

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Defaults of Config.
const (
	DefaultInterval    = 10 * time.Second
	DefaultBufferBytes = 4 << 20
	// LogPeriod is how often a failing push is logged at most.
	LogPeriod = time.Minute
	// minBackoff is the first retry's delay; it doubles up to maxBackoff.
	minBackoff = 250 * time.Millisecond
	maxBackoff = time.Minute
)

// Errors of New.
var (
	ErrBadURL   = errors.New("bad push URL")
	ErrBadLabel = errors.New("bad push label")
)

// Config says where and how to push.
type Config struct {
	// URL is the store's import endpoint, http or https, e.g.
	// http://vm:8428/api/v1/import/prometheus.
	URL string
	// Interval is the time between snapshots (0: DefaultInterval).
	Interval time.Duration
	// Labels are added to every sample (host=..., role=...).
	Labels map[string]string
	// BufferBytes bounds the compressed snapshots waiting to be sent
	// (0: DefaultBufferBytes).
	BufferBytes int
	// Write writes the metrics in Prometheus text format (comments are
	// skipped, samples must not carry timestamps).
	Write func(io.Writer)
	// Metrics receives the pusher's own counters (nil: a set of its own).
	Metrics *metrics.Set
	// Log gets the failures, at most once per LogPeriod (nil: discarded).
	Log *slog.Logger
	// Client posts the snapshots (nil: one with a timeout of Interval,
	// at least 2 s).
	Client *http.Client
}

// Pusher takes snapshots and sends them; see the package comment.
type Pusher struct {
	cfg     Config
	labels  []byte // `a="x",b="y"`, sorted by name
	q       queue
	wake    chan struct{}
	elog    errLog
	backoff time.Duration // the retry loop's current delay
	maxWait time.Duration

	snapMu       sync.Mutex   // Snapshot may be called beside Run
	text, zipped bytes.Buffer // the snapshot's scratch
	zw           *gzip.Writer
	sendMu       sync.Mutex // one post at a time: Flush may be called beside Run

	taken, sent, sentBytes *metrics.Counter
	dropFull, dropRejected *metrics.Counter
	errs                   map[string]*metrics.Counter
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// labelEscaper escapes a label value as the text format reads it (Go's
// %q escapes more than that, which the store would keep literally).
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// New checks cfg and sets the pusher up; nothing is sent before Run.
func New(cfg Config) (*Pusher, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadURL, cfg.URL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w %q: want http://HOST[:PORT]/PATH or https://...", ErrBadURL, cfg.URL)
	}
	if cfg.Write == nil {
		return nil, errors.New("push: no metrics to write")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.BufferBytes <= 0 {
		cfg.BufferBytes = DefaultBufferBytes
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.NewSet()
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: max(cfg.Interval, 2*time.Second)}
	}
	labels, err := formatLabels(cfg.Labels)
	if err != nil {
		return nil, err
	}
	p := &Pusher{cfg: cfg, labels: labels, wake: make(chan struct{}, 1),
		elog:    errLog{log: cfg.Log, url: u.Redacted(), period: LogPeriod},
		maxWait: min(4*cfg.Interval, maxBackoff)}
	p.q.max = cfg.BufferBytes
	p.zw, _ = gzip.NewWriterLevel(&p.zipped, gzip.BestSpeed)
	p.register(cfg.Metrics)
	return p, nil
}

func (p *Pusher) register(set *metrics.Set) {
	p.taken = set.GetOrCreateCounter("ainka_push_snapshots_total")
	p.sent = set.GetOrCreateCounter("ainka_push_sent_total")
	p.sentBytes = set.GetOrCreateCounter("ainka_push_sent_bytes_total")
	p.dropFull = set.GetOrCreateCounter(`ainka_push_dropped_total{reason="buffer_full"}`)
	p.dropRejected = set.GetOrCreateCounter(`ainka_push_dropped_total{reason="rejected"}`)
	p.errs = map[string]*metrics.Counter{}
	for _, r := range reasons {
		p.errs[r] = set.GetOrCreateCounter(`ainka_push_errors_total{reason="` + r + `"}`)
	}
	set.GetOrCreateGauge("ainka_push_buffered_bytes", func() float64 { _, b := p.q.size(); return float64(b) })
	set.GetOrCreateGauge("ainka_push_buffered_snapshots", func() float64 { n, _ := p.q.size(); return float64(n) })
}

// formatLabels checks the names and escapes the values once.
func formatLabels(m map[string]string) ([]byte, error) {
	names := make([]string, 0, len(m))
	for k := range m {
		if !labelName.MatchString(k) || strings.HasPrefix(k, "__") {
			return nil, fmt.Errorf("%w: %q is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)", ErrBadLabel, k)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	var b []byte
	for i, k := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, '"')
		b = append(b, labelEscaper.Replace(m[k])...)
		b = append(b, '"')
	}
	return b, nil
}

// Run takes a snapshot every interval and sends them until ctx ends; then
// it takes a last one and tries for a few seconds to deliver what is
// buffered, so that a short run's final state reaches the store.
func (p *Pusher) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() { defer close(done); p.sendLoop(ctx) }()
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case now := <-t.C:
			p.Snapshot(now)
		}
	}
	<-done
	p.Snapshot(time.Now())
	final, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	p.Flush(final)
	return nil
}

// Snapshot writes the metrics, labels and stamps every sample with now,
// compresses them and queues the result for the sender.
func (p *Pusher) Snapshot(now time.Time) {
	p.snapMu.Lock()
	defer p.snapMu.Unlock()
	p.text.Reset()
	p.cfg.Write(&p.text)
	p.zipped.Reset()
	p.zw.Reset(&p.zipped)
	p.zw.Write(Stamp(nil, p.text.Bytes(), p.labels, now.UnixMilli()))
	p.zw.Close()
	p.taken.Inc()
	data := bytes.Clone(p.zipped.Bytes())
	if n := p.q.push(data); n > 0 {
		p.dropFull.Add(n)
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// sendLoop posts the oldest snapshot until the buffer is empty, then
// waits for the next one; a failure waits out the backoff first.
func (p *Pusher) sendLoop(ctx context.Context) {
	for ctx.Err() == nil {
		if progress, backoff := p.sendOne(ctx); !progress {
			wait := p.wake
			var timer <-chan time.Time
			if backoff > 0 {
				wait, timer = nil, time.After(backoff)
			}
			select {
			case <-ctx.Done():
			case <-wait:
			case <-timer:
			}
		}
	}
}

// Flush sends what is buffered, oldest first, until the buffer is empty
// or a post fails (Run's sender does this by itself; for tools and tests).
func (p *Pusher) Flush(ctx context.Context) {
	for {
		if progress, _ := p.sendOne(ctx); !progress {
			return
		}
	}
}

// sendOne posts the oldest snapshot. It reports whether it made progress
// (sent or dropped one), so the caller can go on at once, and how long to
// back off before the next try.
func (p *Pusher) sendOne(ctx context.Context) (bool, time.Duration) {
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	it, ok := p.q.peek()
	if !ok {
		return false, p.backoff
	}
	err := p.post(ctx, it.data)
	switch {
	case err == nil:
		p.q.pop(it.seq)
		p.sent.Inc()
		p.sentBytes.Add(len(it.data))
		p.backoff = 0
		p.elog.ok()
		return true, 0
	case ctx.Err() != nil:
		return false, 0 // shutting down, not the store's fault
	}
	p.errs[reason(err)].Inc()
	n, _ := p.q.size()
	p.elog.fail(time.Now(), err, n)
	if rejected(err) {
		p.q.pop(it.seq)
		p.dropRejected.Inc()
		return true, 0
	}
	p.backoff = min(max(2*p.backoff, minBackoff), p.maxWait)
	return false, p.backoff
}

func (p *Pusher) post(ctx context.Context, data []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.URL, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := p.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		return &statusError{code: resp.StatusCode, body: strings.TrimSpace(string(body))}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096)) // let the connection be reused
	return nil
}
