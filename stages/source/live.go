package source

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ainka/ainka/bpf"
	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/plugins/probe"
	"github.com/ainka/ainka/settings"
)

// Defaults of Config.
const (
	// MaxReadDeadline bounds the default ReadDeadline (long intervals).
	MaxReadDeadline = 50 * time.Millisecond
	// MinReadDeadline bounds the default ReadDeadline (short intervals).
	MinReadDeadline     = time.Millisecond
	DefaultBatchRecords = 4096
	// maxInjectBytes bounds the records Inject may queue between two reads.
	maxInjectBytes = 1 << 20
	// maxRecord is the largest record of ainka_record.h (host_sample).
	maxRecord = 120
	// MaxWakeSpin bounds Config.WakeSpin: it must stay below preciseWake,
	// where the reader stops reading the ring before a host sample.
	MaxWakeSpin = time.Millisecond
)

// Config configures a live source.
type Config struct {
	// Policy is the initial capture policy. Its Kinds also choose which
	// programs are attached (nil: all of bpf.ProbeKinds); kinds this kernel lacks are
	// left out and explained by Missing and Explain.
	Policy
	// RingBytes is the size of events_map (power of two); 0 = 16 MiB.
	RingBytes int
	// WakeupBytes: the kernel wakes the reader only once this much is
	// unread; 0 = RingBytes/16.
	WakeupBytes int
	// ReadDeadline bounds how long records wait in the ring when the
	// wakeup threshold is not reached; 0 = DefaultReadDeadline(HostInterval):
	// a quarter of the collection interval, within 1 to 50 ms (25 ms at
	// 100 ms). The aggregator closes a window only once it has read a
	// record past the window's end (plus its lateness), so without host
	// samples this deadline adds to the latency from a condition to its
	// decision (with them, the ring is drained before each sample, whose
	// timestamp closes the window: HostPhase). Shorter costs CPU even at a
	// constant event rate: more, smaller batches through every stage, more
	// batch churn for the GC (docs/performance.md), and a wakeup of the
	// reader and every stage each time, which on 2 busy CPUs is what slows
	// the workloads beside the daemon (docs/bench-history.md).
	ReadDeadline time.Duration
	// BatchRecords is the most records per batch; 0 = 4096.
	BatchRecords int
	// HostInterval is the host sampling period (collection interval);
	// 0 = settings.DefaultInterval, negative = no host samples.
	HostInterval time.Duration
	// HostPhase, when positive, takes each host sample at HostPhase past a
	// multiple of HostInterval in CLOCK_MONOTONIC, i.e. just after the end
	// of an aggregation window (windows are aligned to multiples of the
	// interval in event time). The ring is drained before each sample so
	// that records older than it go first, which makes the sample's
	// timestamp a watermark (aggregate.Config.HostWatermark closes the
	// window with it, at once, instead of when a record past the window's
	// end plus the lateness happens to be read). The last stretch before
	// each sample is slept with clock_nanosleep, not Go's timers, whose
	// wakeups have a resolution of a millisecond (preciseWake). 0 =
	// samples every HostInterval from the start, unaligned. Must be below
	// HostInterval.
	HostPhase time.Duration
	// KernelWait waits for the ring and for each aligned host sample's
	// time in the kernel, on the thread that calls Run: epoll_wait on the
	// ring and a timerfd set to the absolute deadline, instead of Go's
	// poller and its timers, which wake a thread-locked goroutine late on
	// an idle host (kwait.go). Only for the real-time pipeline
	// (pipeline.Options.RealTime with Inline, whose thread runs Run): Run
	// fails with ErrKernelWaitThread on a thread that is not SCHED_FIFO or
	// SCHED_RR (onRealTimeThread says why).
	KernelWait bool
	// WakeSpin, with HostPhase, wakes the reader this long before each
	// aligned host sample and keeps it on its CPU until the sample's time,
	// spinning on the clock: the sample, the watermark that closes a
	// window, is then taken on time even when the wake-up itself is late
	// (timer interrupt, a kernel without full preemption). It costs
	// WakeSpin of CPU per interval (2 % of a CPU for 200 µs at 10 ms
	// windows). 0 = off; at most MaxWakeSpin.
	WakeSpin time.Duration
	// Metrics receives ainka_bpf_seen_total{kind} and the other source
	// metrics; nil = none.
	Metrics *metrics.Set
	// ProcDir is /proc (tests point it elsewhere).
	ProcDir string
	// Probes are loaded probe plugins (plugins/probe): their rings are
	// read into the same batches, their kinds accounted like the
	// built-in ones (ProbeStats). The Live owns them from NewLive on.
	Probes []*probe.Loaded
}

// DefaultReadDeadline is the ring read deadline for a collection interval:
// interval/4 within [MinReadDeadline, MaxReadDeadline]; a negative
// interval (no host samples) counts as settings.DefaultInterval.
func DefaultReadDeadline(interval time.Duration) time.Duration {
	if interval <= 0 {
		interval = settings.DefaultInterval
	}
	return min(max(interval/4, MinReadDeadline), MaxReadDeadline)
}

// KindStats are one kind's counters. For the eBPF kinds, Seen, Emitted,
// Lost and Filtered come from stats_map; for host_sample and
// kernel_decision, Emitted counts records produced or injected and Lost
// those refused. Once Run has returned, for every kind exactly:
//
//	Emitted == Read + Lost    and    Read == (records the pipeline took) + Dropped
type KindStats struct {
	Seen, Emitted, Lost, Filtered uint64
	// Read counts records taken from the ring (or produced in user space)
	// and offered to the pipeline.
	Read uint64
	// Dropped counts records of Read that the pipeline had no room for.
	Dropped uint64
}

// Stats are the counters of every kind, indexed by record.Kind.
type Stats [record.NumKinds]KindStats

// Live is the live source: the eBPF probe, its ring buffer reader, the host
// sampler and the injection queue.
type Live struct {
	cfg    Config
	probe  *bpf.Probe
	rg     *ring
	host   *hostSampler
	policy atomic.Pointer[bpf.Policy]

	injMu    sync.Mutex
	injBuf   []byte
	injSpare []byte
	stopped  bool // Run has taken its last injected records

	read, dropped, userEmitted, userLost [record.NumKinds]atomic.Uint64

	statsMu    sync.Mutex
	closed     bool
	lastKernel [record.NumKinds]bpf.Stats // last stats_map read; final once closed

	ran       atomic.Bool
	closeOnce sync.Once
	m         *liveMetrics
	wrapped   uint64 // records that crossed the ring's end, once closed (tests)
	// ringPeak is the ring's peak (the ring itself goes at Close).
	ringPeak *atomic.Uint64
	ringSize uint64
	probes   []*probeRing
	// changes takes ChangeProbe's requests to Run; runDone is closed when
	// Run returns.
	changes chan probeChange
	runDone chan struct{}
}

// NewLive loads and attaches the eBPF object, writes the policy and opens
// the ring buffer reader. Errors name what is missing (root, BTF, ...); a
// kind whose tracepoint this kernel lacks is not an error: see Missing.
func NewLive(cfg Config) (*Live, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var probeKinds []record.Kind
	for _, k := range cfg.Kinds {
		if !k.Valid() {
			return nil, fmt.Errorf("%w: kind %s", ErrBadPolicy, k)
		}
		if k != record.KindHostSample && k != record.KindKernelDecision {
			probeKinds = append(probeKinds, k)
		}
	}
	if cfg.Kinds == nil {
		probeKinds = bpf.ProbeKinds
	}
	// Validate the policy before touching the kernel.
	if _, err := kernelPolicy(cfg.Policy, probeKinds, uint64(cfg.WakeupBytes)); err != nil {
		return nil, err
	}

	l := &Live{cfg: cfg, changes: make(chan probeChange), runDone: make(chan struct{})}
	if len(probeKinds) > 0 {
		p, err := bpf.Open(bpf.Options{RingBytes: cfg.RingBytes, Kinds: probeKinds})
		if err != nil {
			return nil, fmt.Errorf("start eBPF capture: %w", err)
		}
		l.probe = p
		// Run without what the kernel lacks: enable only what is attached.
		pol := cfg.Policy
		if pol.Kinds != nil {
			pol.Kinds = nil
			for _, k := range cfg.Kinds {
				if hasKind(p.Attached(), k) || k == record.KindHostSample || k == record.KindKernelDecision {
					pol.Kinds = append(pol.Kinds, k)
				}
			}
		}
		if err := l.SetPolicy(pol); err != nil {
			p.Close()
			return nil, err
		}
		rg, err := newRing(p.Events(), cfg.KernelWait)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("open events_map reader: %w", err)
		}
		l.rg = rg
		l.ringPeak, l.ringSize = &rg.peak, rg.size
	}
	if err := l.openProbes(cfg.Probes); err != nil {
		l.Close()
		return nil, err
	}
	if cfg.HostInterval > 0 && (cfg.Kinds == nil || hasKind(cfg.Kinds, record.KindHostSample)) {
		l.host = newHostSampler(cfg.ProcDir)
	}
	if cfg.Metrics != nil {
		l.m = newLiveMetrics(cfg.Metrics)
	}
	return l, nil
}

// withDefaults fills in cfg's zero values and checks the ring and timing.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.RingBytes == 0 {
		cfg.RingBytes = bpf.DefaultRingBytes
	}
	if cfg.WakeupBytes == 0 {
		cfg.WakeupBytes = cfg.RingBytes / 16
	}
	if cfg.WakeupBytes < 0 || cfg.WakeupBytes > cfg.RingBytes {
		return cfg, fmt.Errorf("%w: wakeup threshold %d bytes outside the %d-byte ring", ErrBadPolicy, cfg.WakeupBytes, cfg.RingBytes)
	}
	if cfg.BatchRecords <= 0 {
		cfg.BatchRecords = DefaultBatchRecords
	}
	if cfg.HostInterval == 0 {
		cfg.HostInterval = settings.DefaultInterval
	}
	if cfg.ReadDeadline <= 0 {
		cfg.ReadDeadline = DefaultReadDeadline(cfg.HostInterval)
	}
	if cfg.HostPhase < 0 || (cfg.HostPhase > 0 && cfg.HostPhase >= cfg.HostInterval) {
		return cfg, fmt.Errorf("%w: host sample phase %s outside [0, interval %s)", ErrBadPolicy, cfg.HostPhase, cfg.HostInterval)
	}
	if cfg.WakeSpin < 0 || cfg.WakeSpin > MaxWakeSpin || (cfg.WakeSpin > 0 && cfg.HostInterval > 0 && cfg.WakeSpin >= cfg.HostInterval/4) {
		return cfg, fmt.Errorf("%w: wake spin %s outside [0, %s] or not below a quarter of the interval %s", ErrBadPolicy, cfg.WakeSpin, MaxWakeSpin, cfg.HostInterval)
	}
	if cfg.ProcDir == "" {
		cfg.ProcDir = "/proc"
	}
	return cfg, nil
}

// Attached returns the eBPF kinds being captured.
func (l *Live) Attached() []record.Kind {
	if l.probe == nil {
		return nil
	}
	return l.probe.Attached()
}

// Missing returns, per requested kind this kernel cannot capture, why.
func (l *Live) Missing() map[record.Kind]error {
	if l.probe == nil {
		return nil
	}
	return l.probe.Missing
}

// Explain returns one line per requested kind that is not captured, naming
// the missing tracepoint; "" when everything requested is attached.
func (l *Live) Explain() string { return explainMissing(l.Missing()) }

// HostSamples reports whether the host sampler runs.
func (l *Live) HostSamples() bool { return l.host != nil }

// SetPolicy changes what the kernel records, from the next event on.
func (l *Live) SetPolicy(p Policy) error {
	if l.probe == nil {
		return fmt.Errorf("set policy: %w: no eBPF kind attached", ErrKindNotAttached)
	}
	kp, err := kernelPolicy(p, l.probe.Attached(), uint64(l.cfg.WakeupBytes))
	if err != nil {
		return err
	}
	if err := l.probe.SetPolicy(&kp); err != nil {
		return err
	}
	l.policy.Store(&kp)
	return nil
}

// KernelPolicy returns the policy last written to policies_map.
func (l *Live) KernelPolicy() bpf.Policy {
	if p := l.policy.Load(); p != nil {
		return *p
	}
	return bpf.Policy{}
}

// Inject queues a record produced outside the kernel probe (a
// kernel_decision from the kernel module, or a host_sample) into the
// stream; it is copied. It never blocks: when more than 1 MiB is waiting,
// the record is refused, counted as lost, and ErrInjectFull returned.
func (l *Live) Inject(rec []byte) error {
	k := record.RecordKind(rec)
	if k != record.KindKernelDecision && k != record.KindHostSample {
		return fmt.Errorf("%w: inject accepts kernel_decision and host_sample records, got kind %s (%d bytes)", ErrBadRecord, k, len(rec))
	}
	if len(rec) != k.RecordSize() {
		return fmt.Errorf("%w: %s record of %d bytes, want %d", ErrBadRecord, k, len(rec), k.RecordSize())
	}
	l.injMu.Lock()
	defer l.injMu.Unlock()
	if l.stopped {
		return fmt.Errorf("inject %s: %w", k, ErrStopped)
	}
	if len(l.injBuf)+len(rec) > maxInjectBytes {
		l.userEmitted[k].Add(1)
		l.userLost[k].Add(1)
		return fmt.Errorf("inject %s: %w", k, ErrInjectFull)
	}
	l.injBuf = append(l.injBuf, rec...)
	l.userEmitted[k].Add(1)
	return nil
}

// Stats returns the counters of every kind. The kernel's are read from
// stats_map now (or, after Run returned, are the final ones).
func (l *Live) Stats() Stats {
	var s Stats
	k := l.kernelStats()
	for i := range s {
		s[i] = KindStats{Seen: k[i].Seen, Emitted: k[i].Emitted, Lost: k[i].Lost, Filtered: k[i].Filtered}
		if record.Kind(i) == record.KindHostSample || record.Kind(i) == record.KindKernelDecision {
			e := l.userEmitted[i].Load()
			s[i].Seen, s[i].Emitted, s[i].Lost = e, e, l.userLost[i].Load()
		}
		s[i].Read = l.read[i].Load()
		s[i].Dropped = l.dropped[i].Load()
	}
	return s
}

func (l *Live) kernelStats() [record.NumKinds]bpf.Stats {
	l.statsMu.Lock()
	defer l.statsMu.Unlock()
	if l.probe != nil && !l.closed {
		if s, err := l.probe.Stats(); err == nil {
			l.lastKernel = s
		}
	}
	return l.lastKernel
}

// RingFill is how full the ring buffer was at its fullest (0..1) since
// the previous call, as the reader found it before each batch: near 1,
// records are about to be lost. 0 without a ring.
func (l *Live) RingFill() float64 {
	if l.ringPeak == nil || l.ringSize == 0 {
		return 0
	}
	return float64(l.ringPeak.Swap(0)) / float64(l.ringSize)
}

// Close detaches the programs and frees the object. Run closes too when it
// returns; Close is for a Live that never ran.
func (l *Live) Close() error {
	var err error
	l.closeOnce.Do(func() {
		if l.probe != nil {
			l.statsMu.Lock()
			if s, e := l.probe.Stats(); e == nil {
				l.lastKernel = s
			}
			l.closed = true
			if l.rg != nil {
				l.wrapped = l.rg.wrapped
				l.rg.close()
				l.rg = nil
			}
			err = l.probe.Close()
			l.statsMu.Unlock()
		}
		l.statsMu.Lock()
		l.closed = true
		l.closeProbes()
		l.statsMu.Unlock()
		if l.host != nil {
			l.host.close()
		}
	})
	return err
}

// Run reads records into batches until ctx ends. Then it detaches the
// programs, drains what is left in the ring, hands it on, reads the final
// (exact) counters and closes. It never blocks on the pipeline while the
// programs are attached: a full pipeline drops the batch and counts its
// records per kind. With Config.KernelWait it must be called on a
// real-time thread (ErrKernelWaitThread).
func (l *Live) Run(ctx context.Context, out *pipeline.Emitter[[]byte]) error {
	if !l.ran.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer l.Close()
	defer close(l.runDone)
	if l.cfg.KernelWait {
		if err := onRealTimeThread(); err != nil {
			return err
		}
	}
	r := &reader{l: l, out: out}
	// Host samples and metric refreshes share the collection interval.
	interval := l.cfg.HostInterval
	if interval <= 0 {
		interval = settings.DefaultInterval
	}
	nextHost := time.Now()
	if l.cfg.HostPhase > 0 {
		nextHost = alignedTime(interval, l.cfg.HostPhase)
	}
	for ctx.Err() == nil {
		now := time.Now()
		if !now.Before(nextHost) {
			if l.host != nil {
				// Records already in the ring are older than the
				// sample: hand them on first, so that a sample that
				// closes a window does not make them late.
				if err := r.readRing(time.Time{}); err != nil {
					return err
				}
				if err := r.readProbes(); err != nil {
					return err
				}
				r.addHostSample()
				r.send() // now: it may close a window (a watermark)
			}
			nextHost = nextHostAfter(nextHost, interval, l.cfg.HostPhase)
			l.refreshMetrics()
		}
		r.addInjected()
		if err := r.readRing(l.waitUntil(r, now, nextHost)); err != nil {
			return err
		}
		if err := r.readProbes(); err != nil {
			return err
		}
		r.applyChanges()
	}

	return l.stop(r)
}

// stop ends a run: it detaches the programs, drains the rings, hands the
// last records on and closes.
func (l *Live) stop(r *reader) error {
	// Stop the kernel side first so that the counters stop moving, then
	// take everything it emitted. A program already running on another
	// CPU may still finish a record after Detach returns, so drain until
	// the counters add up (or give up after a while; Stats then shows it).
	if l.probe != nil {
		if err := l.probe.Detach(); err != nil {
			return err
		}
	}
	if err := l.detachProbes(); err != nil {
		return err
	}
	for try := 0; ; try++ {
		if l.probe != nil {
			if err := r.readRing(time.Time{}); err != nil {
				return err
			}
		}
		if err := r.readProbes(); err != nil {
			return err
		}
		r.addInjected()
		r.sendFinal()
		if (l.probe == nil && len(l.probes) == 0) || try == 20 || l.drained() {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Refuse injections from now on, and take the last ones.
	l.injMu.Lock()
	l.stopped = true
	l.injMu.Unlock()
	r.addInjected()
	r.sendFinal()
	l.Close()
	l.refreshMetrics()
	return nil
}

// nextHostAfter returns when the host sample after the one due at next
// is due: one interval on, or, when that is already past (the sample was
// late), one interval from now, re-aligned to phase if there is one.
func nextHostAfter(next time.Time, interval, phase time.Duration) time.Time {
	next = next.Add(interval)
	if now := time.Now(); next.Before(now) {
		next = now.Add(interval)
		if phase > 0 {
			next = alignedTime(interval, phase)
		}
	}
	return next
}

// alignedTime returns the first time from now on that is phase past a
// multiple of interval in CLOCK_MONOTONIC (Go's monotonic clock readings
// are CLOCK_MONOTONIC too, so the offset carries over). It reads both
// clocks itself, back to back: given a time.Time read earlier (the run
// loop's, before a sample whose send could block for milliseconds), it
// put every later sample that much before its phase, for good, because
// the schedule then only adds intervals. In the VM under load that was
// 41 ms of a 50 ms interval (TestHostPhase).
func alignedTime(interval, phase time.Duration) time.Time {
	now, mono := time.Now(), monotonicNs()
	return now.Add(time.Duration(nextAligned(mono, uint64(interval), uint64(phase)) - mono))
}

// nextAligned returns the first t > mono with t % interval == phase.
func nextAligned(mono, interval, phase uint64) uint64 {
	t := mono - mono%interval + phase
	if t <= mono {
		t += interval
	}
	return t
}

// drained reports whether every record the probe emitted has been read.
func (l *Live) drained() bool {
	if !l.probesDrained() {
		return false
	}
	if l.probe == nil {
		return true
	}
	s, err := l.probe.Stats()
	if err != nil {
		return true
	}
	for _, k := range bpf.ProbeKinds {
		if s[k].Emitted != s[k].Lost+l.read[k].Load() {
			return false
		}
	}
	return true
}

type liveMetrics struct {
	seen, emitted, lost, dropped [record.NumKinds]*metrics.Counter
}

func newLiveMetrics(set *metrics.Set) *liveMetrics {
	m := &liveMetrics{}
	for k := record.Kind(1); k < record.NumKinds; k++ {
		label := fmt.Sprintf(`{kind=%q}`, k.String())
		if hasKind(bpf.ProbeKinds, k) {
			m.seen[k] = set.GetOrCreateCounter("ainka_bpf_seen_total" + label)
			m.emitted[k] = set.GetOrCreateCounter("ainka_bpf_emitted_total" + label)
			m.lost[k] = set.GetOrCreateCounter("ainka_ringbuf_lost_total" + label)
		}
		m.dropped[k] = set.GetOrCreateCounter("ainka_source_dropped_total" + label)
	}
	return m
}

// refreshMetrics copies the counters into the metrics set; it runs every
// host interval and once more with the final counters.
func (l *Live) refreshMetrics() {
	if l.m == nil {
		return
	}
	s := l.Stats()
	for k := record.Kind(1); k < record.NumKinds; k++ {
		if l.m.seen[k] != nil {
			l.m.seen[k].Set(s[k].Seen)
			l.m.emitted[k].Set(s[k].Emitted)
			l.m.lost[k].Set(s[k].Lost)
		}
		l.m.dropped[k].Set(s[k].Dropped)
	}
	l.refreshProbeMetrics(l.cfg.Metrics)
}
