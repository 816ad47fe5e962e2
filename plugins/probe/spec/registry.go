package spec

import (
	"fmt"
	"sync/atomic"
)

// Registry is the probe plugin kinds of a running daemon, behind its
// stages: a reload that adds, removes or renumbers a kind stores a new Set
// (Set.Next), and decode, aggregate and features take it at their next
// batch. A Set itself never changes, so a stage holding one reads it
// without locks.
type Registry struct{ cur atomic.Pointer[Set] }

// NewRegistry returns a registry holding s (nil: no kinds).
func NewRegistry(s *Set) *Registry {
	r := &Registry{}
	r.cur.Store(s)
	return r
}

// Load returns the current set; nil for a nil registry or no kinds.
func (r *Registry) Load() *Set {
	if r == nil {
		return nil
	}
	return r.cur.Load()
}

// Store makes s the current set.
func (r *Registry) Store(s *Set) { r.cur.Store(s) }

// Next returns the set of kinds that follows s at a reload. s's kinds
// left out are retired: decode still accepts their records (those still
// in flight when their plugin went), aggregate and features ignore them.
// A kind number is never used again in a run once retired, and a kind
// that keeps its number keeps its record layout: a record in flight is
// always read with the layout it was written with.
func (s *Set) Next(kinds []Kind) (*Set, error) {
	out, err := NewSet(kinds)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return out, nil
	}
	out.retired = s.retired
	for _, k := range s.order {
		i := k.Kind - KindBase
		if nk := out.kinds[i]; nk == nil {
			out.retired[i] = k
		} else if !SameLayout(k, nk) {
			return nil, fmt.Errorf("%w: %s: kind %d changes its record layout or features: a changed kind takes a new number", ErrSpec, nk.Name, nk.Kind)
		}
	}
	for i, k := range out.kinds {
		if k != nil && out.retired[i] != nil {
			return nil, fmt.Errorf("%w: %s: kind %d was retired in this run (by %s): records of it may still be in flight", ErrSpec, k.Name, k.Kind, out.retired[i].Name)
		}
	}
	return out, nil
}

// Retired returns kind k when s retired it (Next), else nil: decode
// accepts its records, nothing else reads them.
func (s *Set) Retired(k uint16) *Kind {
	if s == nil || k < KindBase || k >= KindBase+MaxKinds {
		return nil
	}
	return s.retired[k-KindBase]
}

// Used reports whether kind number k is taken in s: a kind of s or one it
// retired.
func (s *Set) Used(k uint16) bool { return s.Lookup(k) != nil || s.Retired(k) != nil }

// SameLayout reports whether a and b are the same kind to the pipeline:
// name, number, record size, fields, key and features (what a record
// means and what is derived from it).
func SameLayout(a, b *Kind) bool {
	if a.Kind != b.Kind || a.Name != b.Name || a.Size != b.Size || a.Key != b.Key ||
		len(a.Fields) != len(b.Fields) || len(a.Features) != len(b.Features) {
		return false
	}
	for i := range a.Fields {
		if a.Fields[i] != b.Fields[i] {
			return false
		}
	}
	for i := range a.Features {
		fa, fb := a.Features[i], b.Features[i]
		fa.Hist, fb.Hist = 0, 0 // numbered by the set, not the plugin
		if fa.Scale == 0 {
			fa.Scale = 1
		}
		if fb.Scale == 0 {
			fb.Scale = 1
		}
		if fa != fb {
			return false
		}
	}
	return true
}
