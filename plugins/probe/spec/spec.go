package spec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Bounds of plugin kinds.
const (
	// KindBase is the first plugin kind number (record.Kind).
	KindBase = 64
	// MaxKinds is how many plugin kinds one daemon runs.
	MaxKinds = 8
	// HeaderSize is AINKA's record header (record.HeaderSize).
	HeaderSize = 40
	// MaxRecordSize is the largest record decode holds (record.MaxRecordSize).
	MaxRecordSize = 120
	// MaxPayload is the most bytes after the header.
	MaxPayload = MaxRecordSize - HeaderSize
	// MaxFields is the most fields a record declares.
	MaxFields = 8
	// MaxFeatures is the most features of all plugin kinds together.
	MaxFeatures = 32
	// MaxHists is the most quantile fields of all plugin kinds together:
	// each costs a histogram in every window.
	MaxHists = 4
)

// ErrSpec is wrapped by every error of NewSet.
var ErrSpec = errors.New("bad probe kind")

// Field is one integer field of a record.
type Field struct {
	Name   string `json:"name"`
	Offset int    `json:"offset"` // from the record's start: at least HeaderSize
	Size   int    `json:"size"`   // 1, 2, 4 or 8
	Signed bool   `json:"signed,omitempty"`
}

// Bits returns the field's raw bits of rec (little-endian, zero-extended):
// the value a key is counted by. rec must hold the field (the record's
// size was checked).
func (f *Field) Bits(rec []byte) uint64 {
	b := rec[f.Offset:]
	switch f.Size {
	case 8:
		return binary.LittleEndian.Uint64(b)
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	}
	return uint64(b[0])
}

// SignExtended returns the field's bits, sign-extended to 64 bits when
// Signed: sums of these in two's complement are the sums of the values.
func (f *Field) SignExtended(rec []byte) uint64 {
	u := f.Bits(rec)
	if !f.Signed {
		return u
	}
	shift := uint(64 - 8*f.Size)
	return uint64(int64(u<<shift) >> shift)
}

// Value returns the field of rec as a number, sign-extended when Signed.
func (f *Field) Value(rec []byte) float64 {
	u := f.SignExtended(rec)
	if f.Signed {
		return float64(int64(u))
	}
	return float64(u)
}

// Op is how a feature is derived from a window's records of a kind.
type Op uint8

const (
	OpCount    Op = iota + 1 // records (weighted) in the window
	OpRate                   // records per second
	OpSumRate                // sum of Field per second
	OpMean                   // mean of Field
	OpQuantile               // Q-quantile of Field (a histogram; values clamped to [0, 2^40])
	OpDistinct               // distinct values of Field (the kind's key) in the window
	OpTopShare               // share of the records held by the most frequent key value
)

var opNames = map[Op]string{OpCount: "count", OpRate: "rate", OpSumRate: "sum_rate", OpMean: "mean",
	OpQuantile: "quantile", OpDistinct: "distinct", OpTopShare: "top_share"}

func (o Op) String() string {
	if n, ok := opNames[o]; ok {
		return n
	}
	return fmt.Sprintf("op %d", uint8(o))
}

// MarshalText writes the op's name: traces keep kinds as JSON.
func (o Op) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText reads an op's name.
func (o *Op) UnmarshalText(b []byte) error {
	op, ok := ParseOp(string(b))
	if !ok {
		return fmt.Errorf("%w: feature op %q", ErrSpec, b)
	}
	*o = op
	return nil
}

// ParseOp returns the op of a manifest's feature type.
func ParseOp(s string) (Op, bool) {
	for o, n := range opNames {
		if n == s {
			return o, true
		}
	}
	return 0, false
}

// needsField reports whether op reads a field (the key, for the key ops).
func (o Op) needsField() bool { return o != OpCount && o != OpRate }

// Feature is one feature of a plugin kind.
type Feature struct {
	Name  string  `json:"name"`
	Op    Op      `json:"op"`
	Field int     `json:"field"`           // index in Kind.Fields; -1 for count and rate
	Q     float64 `json:"q,omitempty"`     // OpQuantile: in (0, 1)
	Scale float64 `json:"scale,omitempty"` // the value is multiplied by it (unit conversion); 0 = 1
	// Hist is the histogram slot of an OpQuantile feature, set by NewSet.
	Hist int `json:"-"`
}

// Kind is one plugin record kind.
type Kind struct {
	Kind     uint16    `json:"kind"` // KindBase..KindBase+MaxKinds-1
	Name     string    `json:"name"` // the plugin's name
	Size     int       `json:"size"` // the record's size, header included
	Fields   []Field   `json:"fields"`
	Key      int       `json:"key"` // the field counted per value (distinct, top_share); -1 none
	Features []Feature `json:"features"`
}

// Set is the plugin kinds of a run. It is immutable once built.
type Set struct {
	kinds   [MaxKinds]*Kind
	retired [MaxKinds]*Kind // kinds a reload took out (Next)
	order   []*Kind         // by kind number
	names   []string
	hists   int
	nfeats  int
}

// NewSet checks kinds and numbers their histogram slots.
func NewSet(kinds []Kind) (*Set, error) {
	s := &Set{}
	for i := range kinds {
		k := kinds[i] // a copy: the set owns it
		k.Fields = append([]Field(nil), k.Fields...)
		k.Features = append([]Feature(nil), k.Features...)
		if err := s.add(&k); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Set) add(k *Kind) error {
	if k.Kind < KindBase || k.Kind >= KindBase+MaxKinds {
		return fmt.Errorf("%w: %s: kind %d outside [%d, %d)", ErrSpec, k.Name, k.Kind, KindBase, KindBase+MaxKinds)
	}
	if o := s.kinds[k.Kind-KindBase]; o != nil {
		return fmt.Errorf("%w: %s: kind %d already used by %s", ErrSpec, k.Name, k.Kind, o.Name)
	}
	if k.Size < HeaderSize || k.Size > MaxRecordSize {
		return fmt.Errorf("%w: %s: record of %d bytes, want %d to %d", ErrSpec, k.Name, k.Size, HeaderSize, MaxRecordSize)
	}
	if len(k.Fields) > MaxFields {
		return fmt.Errorf("%w: %s: %d fields, limit %d", ErrSpec, k.Name, len(k.Fields), MaxFields)
	}
	for _, f := range k.Fields {
		if f.Size != 1 && f.Size != 2 && f.Size != 4 && f.Size != 8 {
			return fmt.Errorf("%w: %s: field %s of %d bytes, want 1, 2, 4 or 8", ErrSpec, k.Name, f.Name, f.Size)
		}
		if f.Offset < HeaderSize || f.Offset+f.Size > k.Size {
			return fmt.Errorf("%w: %s: field %s at [%d, %d) outside the payload [%d, %d)", ErrSpec, k.Name, f.Name, f.Offset, f.Offset+f.Size, HeaderSize, k.Size)
		}
	}
	if k.Key >= len(k.Fields) {
		return fmt.Errorf("%w: %s: key field %d of %d", ErrSpec, k.Name, k.Key, len(k.Fields))
	}
	for i := range k.Features {
		if err := s.addFeature(k, i); err != nil {
			return err
		}
	}
	s.kinds[k.Kind-KindBase] = k
	s.order = append(s.order, k)
	return nil
}

func (s *Set) addFeature(k *Kind, i int) error {
	f := &k.Features[i]
	if s.nfeats == MaxFeatures {
		return fmt.Errorf("%w: %s: more than %d features in all", ErrSpec, k.Name, MaxFeatures)
	}
	if f.Op.needsField() && (f.Field < 0 || f.Field >= len(k.Fields)) {
		return fmt.Errorf("%w: %s: feature %s (%s) needs a field", ErrSpec, k.Name, f.Name, f.Op)
	}
	if (f.Op == OpDistinct || f.Op == OpTopShare) && f.Field != k.Key {
		return fmt.Errorf("%w: %s: feature %s counts per field %d but the key is field %d", ErrSpec, k.Name, f.Name, f.Field, k.Key)
	}
	if f.Op == OpQuantile {
		if !(f.Q > 0 && f.Q < 1) {
			return fmt.Errorf("%w: %s: feature %s: quantile %v outside (0, 1)", ErrSpec, k.Name, f.Name, f.Q)
		}
		f.Hist = -1
		for _, g := range k.Features[:i] {
			if g.Op == OpQuantile && g.Field == f.Field {
				f.Hist = g.Hist // one histogram per field
			}
		}
		if f.Hist < 0 {
			if s.hists == MaxHists {
				return fmt.Errorf("%w: %s: feature %s: more than %d quantile fields in all", ErrSpec, k.Name, f.Name, MaxHists)
			}
			f.Hist = s.hists
			s.hists++
		}
	}
	if f.Scale == 0 || math.IsNaN(f.Scale) || math.IsInf(f.Scale, 0) {
		f.Scale = 1
	}
	s.nfeats++
	s.names = append(s.names, k.Name+"."+f.Name)
	return nil
}

// Lookup returns plugin kind k, or nil.
func (s *Set) Lookup(k uint16) *Kind {
	if s == nil || k < KindBase || k >= KindBase+MaxKinds {
		return nil
	}
	return s.kinds[k-KindBase]
}

// Size returns the record size of plugin kind k, 0 when unknown.
func (s *Set) Size(k uint16) int {
	if p := s.Lookup(k); p != nil {
		return p.Size
	}
	return 0
}

// Kinds returns the kinds in the order they were added: the order of
// their features.
func (s *Set) Kinds() []*Kind {
	if s == nil {
		return nil
	}
	return s.order
}

// FeatureNames returns "PLUGIN.FEATURE" of every feature, in order.
func (s *Set) FeatureNames() []string {
	if s == nil {
		return nil
	}
	return s.names
}

// NumFeatures returns the number of features of all kinds.
func (s *Set) NumFeatures() int {
	if s == nil {
		return 0
	}
	return s.nfeats
}
