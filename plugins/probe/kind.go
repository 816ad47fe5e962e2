package probe

import (
	"fmt"
	"strings"

	"github.com/ainka/ainka/plugins/probe/probebpf"
	"github.com/ainka/ainka/plugins/probe/spec"
)

// MaxTracepointFields is the most fields the generic program copies: one
// u64 each after the header (104 bytes, within decode's events).
const MaxTracepointFields = probebpf.MaxFields

var _ [spec.MaxRecordSize - spec.HeaderSize - 8*MaxTracepointFields]struct{}

var fieldTypes = map[string]struct {
	size   int
	signed bool
}{
	"u8": {1, false}, "u16": {2, false}, "u32": {4, false}, "u64": {8, false},
	"s8": {1, true}, "s16": {2, true}, "s32": {4, true}, "s64": {8, true},
}

// Kind is the pipeline's view of the plugin as record kind k: the record
// layout and the features. For the declarative form, format is the
// tracepoint's (ReadFormat): each named field must exist and be an
// integer; for an object it is unused.
func (m *Manifest) Kind(k uint16, format *Format) (spec.Kind, error) {
	out := spec.Kind{Kind: k, Name: m.Name, Key: -1}
	key := ""
	if m.Tracepoint != nil {
		if err := m.tracepointLayout(&out, format); err != nil {
			return out, err
		}
	} else {
		if err := m.objectLayout(&out); err != nil {
			return out, err
		}
		key = m.Record.Key
	}
	idx := map[string]int{}
	for i, f := range out.Fields {
		idx[f.Name] = i
	}
	seen := map[string]bool{}
	for _, f := range m.Features {
		sf, err := m.feature(f, idx, &key, seen)
		if err != nil {
			return out, err
		}
		out.Features = append(out.Features, sf)
	}
	if key != "" {
		out.Key = idx[key]
	}
	if _, err := spec.NewSet([]spec.Kind{out}); err != nil {
		return out, fmt.Errorf("%w: %v", ErrManifest, err)
	}
	return out, nil
}

// tracepointLayout lays the generic record out: one u64 per field, in the
// manifest's order, sign-extended by the program when the tracepoint's
// field is signed.
func (m *Manifest) tracepointLayout(out *spec.Kind, format *Format) error {
	if format == nil {
		return fmt.Errorf("%w: %s: the format of tracepoint %s is needed", ErrManifest, m.Name, m.Tracepoint.Name)
	}
	for i, name := range m.Tracepoint.Fields {
		ff, ok := format.Field(name)
		if !ok {
			return fmt.Errorf("%w: %s: tracepoint %s has no field %q (it has %s)", ErrNoField, m.Name, m.Tracepoint.Name, name, fieldList(format))
		}
		if !ff.Integer() {
			return fmt.Errorf("%w: %s: field %s of %s is %q: only integers of 1, 2, 4 or 8 bytes can be captured", ErrNoField, m.Name, name, m.Tracepoint.Name, ff.Decl)
		}
		out.Fields = append(out.Fields, spec.Field{Name: name, Offset: spec.HeaderSize + 8*i, Size: 8, Signed: ff.Signed})
	}
	out.Size = spec.HeaderSize + 8*len(m.Tracepoint.Fields)
	return nil
}

func fieldList(f *Format) string {
	s := ""
	for _, ff := range f.Fields {
		if ff.Integer() && len(ff.Name) > 0 && !strings.HasPrefix(ff.Name, "common_") {
			if s != "" {
				s += ", "
			}
			s += ff.Name
		}
	}
	return s
}

func (m *Manifest) objectLayout(out *spec.Kind) error {
	r := m.Record
	if r.Size < spec.HeaderSize || r.Size > spec.MaxRecordSize {
		return fmt.Errorf("%w: %s: record size %d: want %d (the header) to %d", ErrManifest, m.Name, r.Size, spec.HeaderSize, spec.MaxRecordSize)
	}
	if len(r.Fields) > spec.MaxFields {
		return fmt.Errorf("%w: %s: %d record fields, limit %d", ErrManifest, m.Name, len(r.Fields), spec.MaxFields)
	}
	seen := map[string]bool{}
	for _, f := range r.Fields {
		t, ok := fieldTypes[f.Type]
		if !ok {
			return fmt.Errorf("%w: %s: field %s: type %q: want u8, u16, u32, u64, s8, s16, s32 or s64", ErrManifest, m.Name, f.Name, f.Type)
		}
		if !nameRE.MatchString(f.Name) || seen[f.Name] {
			return fmt.Errorf("%w: %s: field name %q: empty, invalid or listed twice", ErrManifest, m.Name, f.Name)
		}
		seen[f.Name] = true
		if f.Offset < spec.HeaderSize || f.Offset+t.size > r.Size || f.Offset%t.size != 0 {
			return fmt.Errorf("%w: %s: field %s at offset %d (%d bytes): outside the payload [%d, %d) or unaligned", ErrManifest, m.Name, f.Name, f.Offset, t.size, spec.HeaderSize, r.Size)
		}
		out.Fields = append(out.Fields, spec.Field{Name: f.Name, Offset: f.Offset, Size: t.size, Signed: t.signed})
	}
	if r.Key != "" && !seen[r.Key] {
		return fmt.Errorf("%w: %s: key %q is not a record field", ErrManifest, m.Name, r.Key)
	}
	out.Size = r.Size
	return nil
}

// feature checks one [[feature]]. The key ops name the key field; the
// declarative form has no [record] key, so its first key op sets it, and
// the others must agree.
func (m *Manifest) feature(f Feature, idx map[string]int, key *string, seen map[string]bool) (spec.Feature, error) {
	out := spec.Feature{Name: f.Name, Field: -1, Q: f.Q, Scale: f.Scale}
	if !nameRE.MatchString(f.Name) || seen[f.Name] {
		return out, fmt.Errorf("%w: %s: feature name %q: want 1-32 of a-z, 0-9, _ starting with a letter, once", ErrManifest, m.Name, f.Name)
	}
	seen[f.Name] = true
	op, ok := spec.ParseOp(f.Type)
	if !ok {
		return out, fmt.Errorf("%w: %s: feature %s: type %q: want count, rate, sum_rate, mean, quantile, distinct or top_share", ErrManifest, m.Name, f.Name, f.Type)
	}
	out.Op = op
	if op == spec.OpCount || op == spec.OpRate {
		if f.Field != "" {
			return out, fmt.Errorf("%w: %s: feature %s: %s takes no field", ErrManifest, m.Name, f.Name, f.Type)
		}
		return out, nil
	}
	i, ok := idx[f.Field]
	if !ok {
		return out, fmt.Errorf("%w: %s: feature %s: field %q is not a record field", ErrManifest, m.Name, f.Name, f.Field)
	}
	out.Field = i
	if op == spec.OpDistinct || op == spec.OpTopShare {
		if *key == "" {
			*key = f.Field
		}
		if *key != f.Field {
			return out, fmt.Errorf("%w: %s: feature %s counts per %s, but the key is %s (one key per plugin)", ErrManifest, m.Name, f.Name, f.Field, *key)
		}
	}
	if op == spec.OpQuantile && !(f.Q > 0 && f.Q < 1) {
		return out, fmt.Errorf("%w: %s: feature %s: q = %v, want a quantile in (0, 1)", ErrManifest, m.Name, f.Name, f.Q)
	}
	return out, nil
}
