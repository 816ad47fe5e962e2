package spec

import (
	"errors"
	"strings"
	"testing"
)

func kind(k uint16) Kind {
	return Kind{Kind: k, Name: "k", Size: 56, Key: -1,
		Fields:   []Field{{Name: "a", Offset: 40, Size: 8}, {Name: "b", Offset: 48, Size: 4, Signed: true}},
		Features: []Feature{{Name: "r", Op: OpRate, Field: -1}, {Name: "q50", Op: OpQuantile, Field: 0, Q: 0.5}, {Name: "q99", Op: OpQuantile, Field: 0, Q: 0.99}}}
}

func TestNewSet(t *testing.T) {
	s, err := NewSet([]Kind{kind(KindBase), kind(KindBase + 1)})
	if err != nil {
		t.Fatal(err)
	}
	k := s.Lookup(KindBase + 1)
	if k == nil || s.Size(KindBase+1) != 56 || s.Lookup(KindBase+2) != nil || s.Size(3) != 0 {
		t.Fatalf("lookup %v", k)
	}
	// Two quantiles of one field share a histogram; each kind has its own.
	if k.Features[1].Hist != 1 || k.Features[2].Hist != 1 || s.Lookup(KindBase).Features[2].Hist != 0 {
		t.Fatalf("hist slots %+v / %+v", s.Lookup(KindBase).Features, k.Features)
	}
	if n := s.FeatureNames(); len(n) != 6 || n[4] != "k.q50" || s.NumFeatures() != 6 {
		t.Fatalf("names %v", n)
	}
	var nilSet *Set
	if nilSet.Lookup(KindBase) != nil || nilSet.NumFeatures() != 0 || nilSet.Kinds() != nil {
		t.Fatal("nil set")
	}
}

func TestNewSetRefuses(t *testing.T) {
	cases := map[string]func(k *Kind){
		"outside":       func(k *Kind) { k.Kind = 9 },
		"record of 130": func(k *Kind) { k.Size = 130 },
		"of 3 bytes":    func(k *Kind) { k.Fields[0].Size = 3 },
		"outside the payload": func(k *Kind) {
			k.Fields[1].Offset = 54
		},
		"key field 5": func(k *Kind) { k.Key = 5 },
		"needs a field": func(k *Kind) {
			k.Features[1].Field = -1
		},
		"quantile 1 outside": func(k *Kind) { k.Features[1].Q = 1 },
		"the key is field -1": func(k *Kind) {
			k.Features = append(k.Features, Feature{Name: "d", Op: OpDistinct, Field: 0})
		},
	}
	for says, edit := range cases {
		k := kind(KindBase)
		edit(&k)
		_, err := NewSet([]Kind{k})
		if !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), says) {
			t.Errorf("%s: got %v", says, err)
		}
	}
	if _, err := NewSet([]Kind{kind(KindBase), kind(KindBase)}); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Errorf("duplicate kind: %v", err)
	}
	many := []Kind{kind(KindBase), kind(KindBase + 1), kind(KindBase + 2), kind(KindBase + 3), kind(KindBase + 4)}
	if _, err := NewSet(many); err == nil || !strings.Contains(err.Error(), "quantile fields") {
		t.Errorf("5 histograms: %v", err)
	}
}

func TestFieldValue(t *testing.T) {
	rec := make([]byte, 64)
	copy(rec[40:], []byte{0xfe, 0xff, 0xff, 0xff, 0x01, 0, 0, 0})
	cases := []struct {
		f    Field
		want float64
		bits uint64
	}{
		{Field{Offset: 40, Size: 1}, 254, 0xfe},
		{Field{Offset: 40, Size: 1, Signed: true}, -2, 0xfe},
		{Field{Offset: 40, Size: 2, Signed: true}, -2, 0xfffe},
		{Field{Offset: 40, Size: 4, Signed: true}, -2, 0xfffffffe},
		{Field{Offset: 40, Size: 4}, 0xfffffffe, 0xfffffffe},
		{Field{Offset: 40, Size: 8}, 0x1fffffffe, 0x1fffffffe},
	}
	for _, c := range cases {
		if got := c.f.Value(rec); got != c.want || c.f.Bits(rec) != c.bits {
			t.Errorf("%+v: value %v bits %#x, want %v %#x", c.f, got, c.f.Bits(rec), c.want, c.bits)
		}
	}
	if o, ok := ParseOp("top_share"); !ok || o != OpTopShare || o.String() != "top_share" {
		t.Error("ParseOp")
	}
	if _, ok := ParseOp("nope"); ok {
		t.Error("ParseOp(nope)")
	}
}
