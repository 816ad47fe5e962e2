package genl

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"sync"
	"time"
)

// Fake is an in-memory Client for unit tests of other packages. It
// validates requests like the module does (returning errors wrapping
// ErrInvalid), keeps policies, recommendations, the state and the
// actuations it was asked for, and delivers events given to Emit (and the
// state changes it makes) to its subscribers. It does not sample
// anything: tests drive decisions with Emit.
type Fake struct {
	mu         sync.Mutex
	closed     bool
	state      State
	seq        uint64
	policies   map[uint32]Policy
	recs       map[string]int64
	actuations []Actuation
	subs       []chan Event
}

var _ Client = (*Fake)(nil)

// NewFake returns an empty Fake in the learning state.
func NewFake() *Fake {
	return &Fake{state: StateLearning, policies: map[uint32]Policy{}, recs: map[string]int64{}}
}

var recKeyRe = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,31}$`)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// ValidatePolicy applies the module's checks to p without sending it.
func ValidatePolicy(p Policy) error {
	switch {
	case p.ID == 0:
		return invalid("policy id must be >= 1")
	case p.Metric == 0 || p.Metric > metricMax:
		return invalid("metric %d out of range", p.Metric)
	case p.Cmp == 0 || p.Cmp > cmpMax:
		return invalid("comparison %d out of range", p.Cmp)
	case p.Action == 0 || p.Action > ActionReadahead:
		return invalid("action %d out of range for a policy", p.Action)
	case p.For < 0 || p.For > time.Hour:
		return invalid("for-duration %v out of 0..1h", p.For)
	case p.Priority > 65535:
		return invalid("priority %d out of 0..65535", p.Priority)
	case p.TargetState > stateMax:
		return invalid("target state %d out of range", p.TargetState)
	case p.RecKey != "" && !recKeyRe.MatchString(p.RecKey):
		return invalid("recommendation key %q must be 1..31 of [A-Za-z0-9_.:-]", p.RecKey)
	case p.Action == ActionRenice && (p.ActValue < NiceMin || p.ActValue > NiceMax):
		return invalid("nice %d out of -20..19", p.ActValue)
	case p.Action == ActionReadahead && (p.ActValue < 0 || p.ActValue > RAPagesMax):
		return invalid("ra_pages %d out of 0..65536", p.ActValue)
	}
	return nil
}

func (f *Fake) check(ctx context.Context) error {
	if f.closed {
		return ErrClosed
	}
	return ctx.Err()
}

func (f *Fake) Status(ctx context.Context) (Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(ctx); err != nil {
		return Status{}, err
	}
	return Status{Version: Version, State: f.state, Policies: uint32(len(f.policies)),
		Recommendations: uint32(len(f.recs)), Actuations: uint32(len(f.actuations))}, nil
}

func (f *Fake) SetPolicy(ctx context.Context, p Policy) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(ctx); err != nil {
		return err
	}
	if err := ValidatePolicy(p); err != nil {
		return err
	}
	if _, ok := f.policies[p.ID]; !ok && len(f.policies) >= MaxPolicies {
		return invalid("too many policies (%d)", MaxPolicies)
	}
	p.Hits, p.Active = 0, false
	f.policies[p.ID] = p
	return nil
}

func (f *Fake) DelPolicy(ctx context.Context, id uint32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(ctx); err != nil {
		return err
	}
	if _, ok := f.policies[id]; !ok {
		return invalid("no policy with id %d", id)
	}
	delete(f.policies, id)
	return nil
}

func (f *Fake) Policy(ctx context.Context, id uint32) (Policy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(ctx); err != nil {
		return Policy{}, err
	}
	p, ok := f.policies[id]
	if !ok {
		return Policy{}, invalid("no policy with id %d", id)
	}
	return p, nil
}

func (f *Fake) Policies(ctx context.Context) ([]Policy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(ctx); err != nil {
		return nil, err
	}
	ps := make([]Policy, 0, len(f.policies))
	for _, p := range f.policies {
		ps = append(ps, p)
	}
	// The module's order: priority descending, then id.
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Priority != ps[j].Priority {
			return ps[i].Priority > ps[j].Priority
		}
		return ps[i].ID < ps[j].ID
	})
	return ps, nil
}

func (f *Fake) SetRecommendation(ctx context.Context, key string, value int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(ctx); err != nil {
		return err
	}
	if !recKeyRe.MatchString(key) {
		return invalid("recommendation key %q must be 1..31 of [A-Za-z0-9_.:-]", key)
	}
	if _, ok := f.recs[key]; !ok && len(f.recs) >= MaxRecs {
		return invalid("recommendation table full (%d)", MaxRecs)
	}
	f.recs[key] = value
	return nil
}

func (f *Fake) DelRecommendation(ctx context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(ctx); err != nil {
		return err
	}
	if _, ok := f.recs[key]; !ok {
		return invalid("no recommendation %q", key)
	}
	delete(f.recs, key)
	return nil
}

func (f *Fake) Recommendation(ctx context.Context, key string) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(ctx); err != nil {
		return 0, err
	}
	v, ok := f.recs[key]
	if !ok {
		return 0, invalid("no recommendation %q", key)
	}
	return v, nil
}

func (f *Fake) Recommendations(ctx context.Context) (map[string]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(ctx); err != nil {
		return nil, err
	}
	m := make(map[string]int64, len(f.recs))
	for k, v := range f.recs {
		m[k] = v
	}
	return m, nil
}

func (f *Fake) setStateLocked(s State) {
	if s == f.state {
		return
	}
	prev := f.state
	f.state = s
	f.emitLocked(Event{Type: EventStateChange, State: s, PrevState: prev})
}

func (f *Fake) SetState(ctx context.Context, s State) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(ctx); err != nil {
		return err
	}
	if s == 0 || s > stateMax {
		return invalid("state %d out of range", s)
	}
	f.setStateLocked(s)
	return nil
}

func (f *Fake) Reset(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(ctx); err != nil {
		return err
	}
	f.actuations = nil
	f.setStateLocked(StateLearning)
	return nil
}

func (f *Fake) Actuate(ctx context.Context, a Actuation) (ActuationResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(ctx); err != nil {
		return ActuationResult{}, err
	}
	switch a.Kind {
	case ActionRestore:
		f.actuations = nil
		return ActuationResult{Kind: ActionRestore}, nil
	case ActionRenice:
		if a.Value < NiceMin || a.Value > NiceMax {
			return ActuationResult{}, invalid("nice %d out of -20..19", a.Value)
		}
	case ActionReadahead:
		if a.Value < 0 || a.Value > RAPagesMax {
			return ActuationResult{}, invalid("ra_pages %d out of 0..65536", a.Value)
		}
	default:
		return ActuationResult{}, invalid("actuation kind %d", a.Kind)
	}
	f.actuations = append(f.actuations, a)
	return ActuationResult{Kind: a.Kind, PID: a.PID, Value: a.Value}, nil
}

// Actuations returns what was actuated since the last Reset or Restore.
func (f *Fake) Actuations() []Actuation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Actuation(nil), f.actuations...)
}

func (f *Fake) Subscribe(ctx context.Context) (<-chan Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(ctx); err != nil {
		return nil, err
	}
	ch := make(chan Event, 1024)
	f.subs = append(f.subs, ch)
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, c := range f.subs {
			if c == ch {
				f.subs = append(f.subs[:i], f.subs[i+1:]...)
				close(ch)
				return
			}
		}
	}()
	return ch, nil
}

// Emit delivers e to every subscriber (numbering it when Seq is 0); a
// subscriber whose buffer is full misses it, as a lagging netlink reader
// would.
func (f *Fake) Emit(e Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.emitLocked(e)
}

func (f *Fake) emitLocked(e Event) {
	f.seq++
	if e.Seq == 0 {
		e.Seq = f.seq
	}
	for _, c := range f.subs {
		select {
		case c <- e:
		default:
		}
	}
}

func (f *Fake) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		for _, c := range f.subs {
			close(c)
		}
		f.subs = nil
	}
	return nil
}
