package genl

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
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
		return moduleErr(syscall.ENOSPC, fmt.Sprintf("too many policies (%d)", MaxPolicies))
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
		return moduleErr(syscall.ENOENT, fmt.Sprintf("no policy with id %d", id))
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
		return Policy{}, moduleErr(syscall.ENOENT, fmt.Sprintf("no policy with id %d", id))
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
	if err := ValidateRecKey(key); err != nil {
		return err
	}
	if _, ok := f.recs[key]; !ok && len(f.recs) >= MaxRecs {
		return moduleErr(syscall.ENOSPC, fmt.Sprintf("recommendation table full (%d)", MaxRecs))
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
		return moduleErr(syscall.ENOENT, fmt.Sprintf("no recommendation %q", key))
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
		return 0, moduleErr(syscall.ENOENT, fmt.Sprintf("no recommendation %q", key))
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
	if err := ValidateState(s); err != nil {
		return err
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
	if err := ValidateActuation(a); err != nil {
		return ActuationResult{}, err
	}
	if a.Kind == ActionRestore {
		f.actuations = nil
		return ActuationResult{Kind: ActionRestore}, nil
	}
	if a.Kind == ActionRenice && a.PID != 0 {
		if err := reniceTarget(int(a.PID)); err != nil {
			return ActuationResult{}, err
		}
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

// reniceTarget answers what the module answers for a pid on this host:
// ESRCH when there is no such process, EPERM for a kernel thread.
func reniceTarget(pid int) error {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return moduleErr(syscall.ESRCH, "no such process")
	}
	// Field 9 (flags) follows the ")" that ends the command name.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	var flags uint64
	if len(f) > 6 {
		fmt.Sscan(f[6], &flags)
	}
	if flags&pfKthread != 0 {
		return moduleErr(syscall.EPERM, "refusing to renice a kernel thread")
	}
	return nil
}

// pfKthread is the kernel's PF_KTHREAD task flag.
const pfKthread = 0x00200000
