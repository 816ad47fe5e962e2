package spec

import (
	"errors"
	"strings"
	"testing"
)

// TestNext: a reload's set retires the kinds it leaves out (decode still
// accepts them), never gives a retired number again, and refuses a kind
// that keeps its number with another layout.
func TestNext(t *testing.T) {
	a, b := kind(KindBase), kind(KindBase+1)
	b.Name = "b"
	s, err := NewSet([]Kind{a, b})
	if err != nil {
		t.Fatal(err)
	}
	r := NewRegistry(s)
	next, err := r.Load().Next([]Kind{b})
	if err != nil {
		t.Fatal(err)
	}
	r.Store(next)
	got := r.Load()
	if got.Lookup(KindBase) != nil || got.Retired(KindBase) == nil || got.Lookup(KindBase+1) == nil ||
		!got.Used(KindBase) || got.Used(KindBase+2) || len(got.FeatureNames()) != 3 {
		t.Fatalf("after removing kind %d: active %v, retired %v", KindBase, got.FeatureNames(), got.Retired(KindBase))
	}
	// The retirement is kept by later sets.
	c := kind(KindBase + 2)
	c.Name = "c"
	later, err := got.Next([]Kind{b, c})
	if err != nil || later.Retired(KindBase) == nil || later.Lookup(KindBase+2) == nil {
		t.Fatalf("later: %v, %v", later, err)
	}
	if _, err := later.Next([]Kind{a}); !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), "was retired in this run") {
		t.Errorf("a retired number again: %v", err)
	}
	b2 := b
	b2.Features = b.Features[:1]
	if _, err := later.Next([]Kind{b2, c}); !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), "changes its record layout") {
		t.Errorf("a layout change under the same number: %v", err)
	}
	var none *Registry
	if none.Load() != nil {
		t.Error("nil registry")
	}
	if empty, err := (*Set)(nil).Next(nil); err != nil || empty == nil || empty.NumFeatures() != 0 {
		t.Errorf("no kinds: %v, %v", empty, err)
	}
}

// TestSameLayout: what a record means and what is derived from it; the
// histogram slot a set numbered and an unset scale do not count.
func TestSameLayout(t *testing.T) {
	a, b := kind(KindBase), kind(KindBase)
	b.Features = append([]Feature(nil), b.Features...)
	b.Features[1].Hist, b.Features[0].Scale = 3, 1
	if !SameLayout(&a, &b) {
		t.Error("same kind differs")
	}
	for name, change := range map[string]func(k *Kind){
		"size":    func(k *Kind) { k.Size = 64 },
		"field":   func(k *Kind) { k.Fields = []Field{{Name: "a", Offset: 48, Size: 8}, k.Fields[1]} },
		"feature": func(k *Kind) { k.Features = append(k.Features[:2:2], Feature{Name: "x", Op: OpCount, Field: -1}) },
		"q": func(k *Kind) {
			k.Features = []Feature{k.Features[0], k.Features[1], {Name: "q99", Op: OpQuantile, Field: 0, Q: 0.9}}
		},
		"name": func(k *Kind) { k.Name = "other" },
	} {
		c := kind(KindBase)
		change(&c)
		if SameLayout(&a, &c) {
			t.Errorf("%s: a change not seen", name)
		}
	}
}
