package decide

import (
	"fmt"
	"sort"

	"github.com/ainka/ainka/stages/decide/action"
	"github.com/ainka/ainka/stages/decide/expr"
)

// rule is a compiled policy and what the engine keeps about it.
type rule struct {
	c      *compiled
	st     *expr.State
	api    bool
	paused bool
	reason string // why it is paused

	fired     bool
	lastFire  uint64
	active    bool  // its action is applied and not reverted
	clearFrom stamp // since when its condition is false while active
	effect    effectRecord
	acts      int
	suppr     int
	conflicts []string
}

func newRule(c *compiled, api bool) *rule {
	return &rule{c: c, st: c.prog.NewState(), api: api, effect: newEffectRecord()}
}

// origin names where the policy came from, for errors.
func (r *rule) origin() string {
	if r.c.Origin == "" {
		return "api"
	}
	return r.c.Origin
}

// writesKnob reports whether applying the rule changes a knob that has to
// be reverted (a notification changes nothing).
func (r *rule) writesKnob() bool { return r.c.act.Kind != action.Notify }

// ruleSet is the engine's policies, highest priority first, then by name,
// at most max of them.
type ruleSet struct {
	list []*rule
	max  int
}

func (rs *ruleSet) find(name string) (int, *rule) {
	for i, r := range rs.list {
		if r.c.Name == name {
			return i, r
		}
	}
	return -1, nil
}

// add adds an API policy.
func (rs *ruleSet) add(r *rule) error {
	if _, o := rs.find(r.c.Name); o != nil {
		return fmt.Errorf("%w: policy %q already exists (%s)", ErrPolicy, r.c.Name, o.origin())
	}
	if len(rs.list)+1 > rs.max {
		return fmt.Errorf("%w: max_policies is %d", ErrTooManyPolicies, rs.max)
	}
	next := append(append([]*rule(nil), rs.list...), r)
	if err := checkConflicts(next); err != nil {
		checkConflicts(rs.list) // restore the conflict lists
		return err
	}
	rs.set(next)
	return nil
}

// remove removes the named policy and returns it (nil if there is none).
func (rs *ruleSet) remove(name string) *rule {
	i, r := rs.find(name)
	if r == nil {
		return nil
	}
	rs.list = append(rs.list[:i:i], rs.list[i+1:]...)
	checkConflicts(rs.list)
	return r
}

// replaceFile makes cs the file policies, keeping the state of those
// that did not change, and returns the old ones that are gone or changed.
// On error nothing changes. It runs under the engine's lock, so it only
// matches names and checks limits, in time linear in the policies (plus a
// sort); compiling was done before.
// fileRules counts the policies that came from the policy file.
func (rs *ruleSet) fileRules() int {
	n := 0
	for _, r := range rs.list {
		if !r.api {
			n++
		}
	}
	return n
}

func (rs *ruleSet) replaceFile(cs []*compiled) (gone map[string]*rule, err error) {
	api := 0
	for _, r := range rs.list {
		if r.api {
			api++
		}
	}
	if n := api + len(cs); n > rs.max {
		return nil, fmt.Errorf("%w: %d policies, max_policies is %d", ErrTooManyPolicies, n, rs.max)
	}
	next := make([]*rule, 0, api+len(cs))
	apiNames := make(map[string]bool, api)
	gone = map[string]*rule{}
	for _, r := range rs.list {
		if r.api {
			next = append(next, r)
			apiNames[r.c.Name] = true
		} else {
			gone[r.c.Name] = r
		}
	}
	for _, c := range cs {
		p := c.Policy
		if apiNames[p.Name] {
			return nil, fmt.Errorf("%w: policy %q in %s also exists as an API policy", ErrPolicy, p.Name, p.Origin)
		}
		if o, ok := gone[p.Name]; ok && samePolicy(o.c.Policy, p) {
			next = append(next, o) // unchanged: keep its state
			delete(gone, p.Name)
			continue
		}
		next = append(next, newRule(c, false))
	}
	if err := checkConflicts(next); err != nil {
		checkConflicts(rs.list)
		return nil, err
	}
	rs.set(next)
	return gone, nil
}

func samePolicy(a, b Policy) bool {
	a.Origin, b.Origin = "", ""
	return a == b
}

func (rs *ruleSet) set(list []*rule) {
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].c.Priority != list[j].c.Priority {
			return list[i].c.Priority > list[j].c.Priority
		}
		return list[i].c.Name < list[j].c.Name
	})
	rs.list = list
}

// heldByHigher reports whether a policy of higher priority than r has its
// action applied on key.
func (rs *ruleSet) heldByHigher(r *rule, key string) bool {
	for _, o := range rs.list {
		if o != r && o.active && o.c.Priority > r.c.Priority && o.c.act.Key() == key {
			return true
		}
	}
	return false
}

// maxConflictNames bounds the conflicts listed per policy: with thousands
// of policies on one knob, listing every other one would be quadratic in
// time and memory.
const maxConflictNames = 8

// checkConflicts finds enabled policies that write one knob. Different
// priorities are fine (the higher wins) and are recorded; equal priorities
// cannot be decided and are an error. Linear in the policies, plus a sort.
func checkConflicts(rs []*rule) error {
	by := map[string][]*rule{}
	for _, r := range rs {
		r.conflicts = nil
		if k := r.c.act.Key(); k != "" && r.c.Enabled {
			by[k] = append(by[k], r)
		}
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := conflictsOn(k, by[k]); err != nil {
			return err
		}
	}
	return nil
}

// change is what a policy does to its knob; two policies with the same
// change do not conflict.
type change struct {
	op  action.Op
	val string
}

func changeOf(r *rule) change { return change{r.c.act.Op, r.c.act.Value} }

// conflictsOn records the conflicts among the policies g that write key:
// for each, the first maxConflictNames policies of g that make another
// change. Policies of one change are made contiguous (in order of first
// appearance, stable within a change), so each policy's list is found by
// skipping at most its own block.
func conflictsOn(key string, g []*rule) error {
	first := map[int]*rule{} // priority -> first policy of g with it
	block := map[change]int{}
	for _, r := range g {
		ch := changeOf(r)
		if _, ok := block[ch]; !ok {
			block[ch] = len(block)
		}
		f, ok := first[r.c.Priority]
		if !ok {
			first[r.c.Priority] = r
		} else if changeOf(f) != ch {
			return fmt.Errorf("%w: policies %q (%s) and %q (%s) both change %s with priority %d; give one a higher priority",
				ErrPolicy, f.c.Name, f.origin(), r.c.Name, r.origin(), key, r.c.Priority)
		}
	}
	if len(block) < 2 {
		return nil
	}
	byChange := append([]*rule(nil), g...)
	sort.SliceStable(byChange, func(i, j int) bool { return block[changeOf(byChange[i])] < block[changeOf(byChange[j])] })
	start := make([]int, len(block)+1) // start[b]: index of block b in byChange
	for i := len(byChange) - 1; i >= 0; i-- {
		start[block[changeOf(byChange[i])]] = i
	}
	start[len(block)] = len(byChange)
	for _, a := range g {
		b := block[changeOf(a)]
		for i := 0; i < len(byChange) && len(a.conflicts) < maxConflictNames; i++ {
			if i == start[b] {
				i = start[b+1] - 1 // skip a's own change
				continue
			}
			a.conflicts = append(a.conflicts, byChange[i].c.Name)
		}
	}
	return nil
}
