package tune

import (
	"fmt"
	"sync"

	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decide/action"
	"github.com/ainka/ainka/stages/predict"
)

// MaxDecisions bounds the decisions one Window carries; more wait for the
// next window (in order).
const MaxDecisions = 4

// Window is the stage's output: the predict output it was given, the
// regime, and the tuners' decisions for that window.
type Window struct {
	Out      predict.Output
	Regime   uint32
	Event    string // "new", "return" or "" (the regime of the window)
	NDec     int
	Dec      [MaxDecisions]decide.Decision
	Deferred int // decisions still waiting for a later window
}

// Best is the best setting found for a target in a regime.
type Best struct {
	Regime uint32  `json:"regime"`
	Target string  `json:"target"`
	Value  string  `json:"value"` // "" = the original setting
	Gain   float64 `json:"gain"`  // relative gain of the objective measured
	Trials int     `json:"trials"`
	// Runoff lists the settings the trial could not tell from Value (its
	// gain within noise of theirs), Value first, while their runoff runs
	// (saved at the trial's end): a daemon killed before the runoff's
	// end runs it when the target returns (runoff.go). Empty once
	// decided, or cut short.
	Runoff []Contender `json:"runoff,omitempty"`
	// SeenNs is the event time its target's workload was last seen with
	// Value in place (the TCP tuner's, tcprestart.go), 0 when unknown or
	// when it ended on another class (links turned clean). Event times
	// are this boot's: the model file names the boot (modelState.Boot).
	SeenNs uint64 `json:"seen_ns,omitempty"`
}

// Contender is a setting in a runoff, with its gain over the original
// measured in the trial.
type Contender struct {
	Value string  `json:"value"`
	Gain  float64 `json:"gain"`
}

// Stage is the tune stage's processor. Process runs on the pipeline's
// goroutine; Status and Save may be called from others.
type Stage struct {
	mu       sync.Mutex
	cfg      Config
	windowNs uint64
	tr       tracker
	reg      regimes
	tuners   []*tuner
	bests    []Best
	pending  []decide.Decision
	names    map[uint32]string
	backs    map[string]string // loop device → the disk under it
	event    string
	switchNs uint64 // event time the current regime's streak began
	ttb      []uint64
	now      uint64 // the last window's end (event time)
	loadErr  error
	boot     string // Config.BootID, read once
	loadNote string
	// origs are the settings targets had before AINKA first changed them
	// (by selector): read once, so that a value AINKA itself wrote, or
	// whose revert is still on its way to actuate, is never taken for
	// an original.
	origs map[string]int
	// memcgs caches tasks' memory cgroups for the memory tuner (memcg.go).
	memcgs map[uint32]memcgEnt
}

// New builds the stage and loads Config.ModelPath when it exists.
func New(cfg Config) (*Stage, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &Stage{cfg: cfg, windowNs: 100e6, names: map[uint32]string{}, backs: map[string]string{}, origs: map[string]int{}, memcgs: map[uint32]memcgEnt{}}
	s.reg.list = make([]regimeCentre, 0, MaxRegimes)
	s.pending = make([]decide.Decision, 0, 32)
	s.tuners = []*tuner{{fam: cpuFamily{}, mode: cfg.CPU}, {fam: readaheadFamily{}, mode: cfg.Readahead},
		{fam: memoryFamily{}, mode: cfg.Memory}, {fam: writebackFamily{}, mode: cfg.Writeback},
		{fam: tcpFamily{}, mode: cfg.TCP}, {fam: tcpBufFamily{}, mode: cfg.TCP}}
	s.boot = cfg.BootID()
	if cfg.ModelPath != "" {
		s.loadErr = s.load(cfg.ModelPath)
	}
	return s, nil
}

// LoadError is why the model file could not be used (nil when it was, or
// when there was none); the file was set aside and learning started afresh.
func (s *Stage) LoadError() error { return s.loadErr }

// LoadNote says what was done to a usable model file on load (an older
// format migrated), "" when nothing was.
func (s *Stage) LoadNote() string { return s.loadNote }

// Process appends one Window per input to out.
func (s *Stage) Process(in []predict.Output, out []Window) []Window {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range in {
		o := &in[i]
		n := len(out)
		if n < cap(out) {
			out = out[:n+1]
		} else {
			out = append(out, Window{})
		}
		w := &out[n]
		w.Out = *o
		s.window(&w.Out)
		w.Regime, w.Event = s.reg.cur, s.event
		w.NDec = copy(w.Dec[:], s.pending)
		s.pending = s.pending[:copy(s.pending, s.pending[w.NDec:])]
		w.Deferred = len(s.pending)
	}
	return out
}

// Flush emits nothing: decisions left pending at the end are dropped with
// the run (actuate restores every knob at exit anyway).
func (s *Stage) Flush(out []Window) []Window { return out }

func (s *Stage) window(o *predict.Output) {
	v := &o.Vector
	if d := v.EndNs - v.StartNs; d > 0 && d < 10*s.windowNs && s.windowNs == 100e6 {
		s.windowNs = d // learn the interval from the first full window
	}
	s.now = v.EndNs
	s.tr.observe(v)
	changed, returned, since := s.reg.observe(regimeX(v), v.EndNs)
	s.event = ""
	if changed {
		s.event, s.switchNs = "new", since
		if returned {
			s.event = "return"
		}
	}
	for _, t := range s.tuners {
		t.step(s, v)
	}
}

// emit queues a decision for the next window out.
func (s *Stage) emit(d decide.Decision) {
	s.cfg.Logger.Info("tuner", "policy", d.Policy, "kind", d.Kind.String(), "why", d.Reason)
	if len(s.pending) < cap(s.pending) {
		s.pending = append(s.pending, d)
	}
}

func (s *Stage) effect(t *tuner, now uint64, arm int, before, after, score float64) {
	a := t.fam.action(&t.tg, t.arms[arm])
	d := decide.Decision{TimeNs: now, Kind: decide.Effect, Policy: "tuner:" + t.fam.name(), Objective: t.fam.objective(),
		Before: before, After: after, Score: score, Effectiveness: t.b.mean(arm)}
	if pa, err := action.Parse(a); err == nil {
		d.Action = pa
	}
	d.Reason = fmt.Sprintf("%s of %s: %s %.4g -> %.4g (%+.0f%%)", a, t.tg.key, t.fam.objective(), before, after, 100*score)
	s.emit(d)
}

func (s *Stage) logf(format string, args ...any) {
	s.cfg.Logger.Info(fmt.Sprintf(format, args...))
}

// devName caches device names: they are read from sysfs once per device.
func (s *Stage) devName(dev uint32) string {
	return cachedName(s.names, dev, s.cfg.DeviceName)
}

// cachedName looks k up in m, else asks read and keeps the answer while
// m holds fewer than 4*MaxDevices names.
func cachedName[K comparable](m map[K]string, k K, read func(K) string) string {
	if n, ok := m[k]; ok {
		return n
	}
	n := read(k)
	if len(m) < 4*MaxDevices {
		m[k] = n
	}
	return n
}

// original returns sel's setting before AINKA, read by read the first
// time it is asked for.
func (s *Stage) original(sel string, read func() (int, error)) (int, error) {
	if v, ok := s.origs[sel]; ok {
		return v, nil
	}
	v, err := read()
	if err != nil {
		return 0, err
	}
	if len(s.origs) >= maxOrigs {
		clear(s.origs) // bounded; the values are read again
	}
	s.origs[sel] = v
	return v, nil
}

const maxOrigs = 256

// held reports whether an operator's policy holds the knob of the action
// src.
func (s *Stage) held(src string) bool {
	if s.cfg.Held == nil {
		return false
	}
	a, err := action.Parse(src)
	return err == nil && s.cfg.Held(a)
}

// settled reports whether a CPU target pid is already at its settled
// setting in another tuner state (one hog at a time is tried).
func (s *Stage) settled(pid uint32) bool {
	for _, t := range s.tuners {
		if t.active && t.tg.pid == pid && t.exploit {
			return true
		}
	}
	return false
}

// settledOn reports whether a tuner has settled on the target key (or
// re-applied its known best).
func (s *Stage) settledOn(key string) bool {
	for _, t := range s.tuners {
		if t.active && t.exploit && t.tg.key == key {
			return true
		}
	}
	return false
}

// netnsBusy reports whether a tuner other than self's is trying
// settings on the network namespace ino: two trials on one namespace
// would measure each other's effect.
func (s *Stage) netnsBusy(self family, ino uint32) bool {
	for _, t := range s.tuners {
		if t.fam != self && t.active && !t.exploit && t.tg.netns == ino {
			return true
		}
	}
	return false
}

func (s *Stage) best(regime uint32, key string) (Best, bool) {
	for _, b := range s.bests {
		if b.Regime == regime && b.Target == key {
			return b, true
		}
	}
	return Best{}, false
}

// remember stores a best setting; the model file is written at once
// (settling is rare: a few times per regime and target).
func (s *Stage) remember(b Best) {
	s.keep(b)
	s.save()
}

// keep stores b in the bests, replacing the one of its regime and target.
func (s *Stage) keep(b Best) {
	for i := range s.bests {
		if s.bests[i].Regime == b.Regime && s.bests[i].Target == b.Target {
			s.bests[i] = b
			return
		}
	}
	s.bests = append(s.bests, b)
}

// timeToBest records how long after its workload began (since) a best
// known setting was applied.
func (s *Stage) timeToBest(since, now uint64) {
	if since != 0 && now >= since && len(s.ttb) < 1024 {
		s.ttb = append(s.ttb, now-since)
	}
}

func (s *Stage) save() {
	if s.cfg.ModelPath == "" {
		return
	}
	if err := s.saveTo(s.cfg.ModelPath); err != nil {
		s.logf("tuners: save model: %v", err)
	}
}
