package aggregate

import (
	"encoding/binary"

	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/stages/decode"
)

// MaxProbeKeys bounds the per-key table of probe plugin kinds in a window;
// values past it are counted in ProbeWindow.KeysOther.
const MaxProbeKeys = 64

// ProbeKey is one value of a plugin kind's key field in the window.
type ProbeKey struct {
	Kind  uint16
	Key   uint64 // the field's raw bits
	Count uint64 // weighted
}

// ProbeWindow is what the window holds of the probe plugin kinds (package
// plugins/probe/spec), indexed by kind - spec.KindBase: what their
// declared features need, nothing else.
type ProbeWindow struct {
	// Set is the kinds the window was aggregated for, set when it is
	// emitted: after a reload changed them, the features of a window are
	// those of the kinds it was closed with.
	Set    *spec.Set
	Counts [spec.MaxKinds]uint64
	// Sums are weighted sums of fields in two's complement: a signed
	// field's sum is int64(Sums[..]) (SumValue).
	Sums      [spec.MaxKinds][spec.MaxFields]uint64
	Hists     [spec.MaxHists]Hist
	NumKeys   int
	KeysOther uint64
	Keys      [MaxProbeKeys]ProbeKey
}

func (p *ProbeWindow) reset() {
	p.Counts = [spec.MaxKinds]uint64{}
	p.Sums = [spec.MaxKinds][spec.MaxFields]uint64{}
	for i := range p.Hists {
		p.Hists[i].Reset()
	}
	clear(p.Keys[:p.NumKeys])
	p.NumKeys, p.KeysOther = 0, 0
}

// addProbe folds a plugin record of weight n into the window. The field
// work a kind does is what its features declared (probePlan).
func (w *Window) addProbe(pl *probePlan, e *decode.Event, n uint64) {
	i := int(e.Kind) - spec.KindBase
	if i < 0 || i >= spec.MaxKinds || pl.kinds[i] == nil {
		return
	}
	k := pl.kinds[i]
	p := &w.Probe
	p.Counts[i] += n
	rec := e.Bytes()
	for j := range k.sums {
		s := &k.sums[j]
		p.Sums[i][s.slot] += s.bits(rec) * n
	}
	for j := range k.hists {
		h := &k.hists[j]
		v := h.bits(rec)
		if h.signed && int64(v) < 0 {
			v = 0
		}
		p.Hists[h.slot].AddN(v, n)
	}
	if k.hasKey {
		p.addKey(uint16(e.Kind), k.key.bits(rec), n)
	}
}

// SumValue returns the sum of field f of plugin kind index i.
func (p *ProbeWindow) SumValue(i int, f *spec.Field, field int) float64 {
	if f.Signed {
		return float64(int64(p.Sums[i][field]))
	}
	return float64(p.Sums[i][field])
}

func (p *ProbeWindow) addKey(kind uint16, key, n uint64) {
	for j := 0; j < p.NumKeys; j++ {
		if q := &p.Keys[j]; q.Key == key && q.Kind == kind {
			q.Count += n
			return
		}
	}
	if p.NumKeys == MaxProbeKeys {
		p.KeysOther += n
		return
	}
	p.Keys[p.NumKeys] = ProbeKey{Kind: kind, Key: key, Count: n}
	p.NumKeys++
}

// probePlan is, per plugin kind, which fields are summed, which are
// histogrammed and which is the key: the declared features' needs,
// computed once.
type probePlan struct {
	set   *spec.Set
	kinds [spec.MaxKinds]*kindPlan
	// hists is what each histogram slot holds: a kind's field.
	hists [spec.MaxHists]histOwner
}

type histOwner struct {
	kind  uint16
	field int
}

type kindPlan struct {
	sums   []fieldSlot // slot: the field's index (ProbeWindow.Sums)
	hists  []fieldSlot // slot: the histogram (ProbeWindow.Hists)
	hasKey bool
	key    fieldSlot
}

type fieldSlot struct {
	slot   int
	end    int  // the field's end in the record: it is the top bytes of rec[end-8:end]
	shift  uint // 64 - 8 * size
	signed bool
}

func newSlot(f spec.Field, slot int) fieldSlot {
	return fieldSlot{slot: slot, end: f.Offset + f.Size, shift: uint(64 - 8*f.Size), signed: f.Signed}
}

// bits is spec.Field.SignExtended in one load and one shift: the 8 bytes
// that end where the field ends hold it in their top bytes (little-endian),
// and every field ends at least 8 bytes into the record (after the
// 40-byte header).
func (s *fieldSlot) bits(rec []byte) uint64 {
	u := binary.LittleEndian.Uint64(rec[s.end-8 : s.end])
	if s.signed {
		return uint64(int64(u) >> s.shift)
	}
	return u >> s.shift
}

func newProbePlan(set *spec.Set) *probePlan {
	if set == nil {
		return nil
	}
	pl := &probePlan{set: set}
	for _, k := range set.Kinds() {
		kp := &kindPlan{hasKey: k.Key >= 0}
		if kp.hasKey {
			kp.key = newSlot(k.Fields[k.Key], k.Key)
		}
		for _, f := range k.Features {
			switch f.Op {
			case spec.OpSumRate, spec.OpMean:
				kp.sums = addSlot(kp.sums, newSlot(k.Fields[f.Field], f.Field))
			case spec.OpQuantile:
				kp.hists = addSlot(kp.hists, newSlot(k.Fields[f.Field], f.Hist))
				pl.hists[f.Hist] = histOwner{kind: k.Kind, field: f.Field}
			}
		}
		pl.kinds[int(k.Kind)-spec.KindBase] = kp
	}
	return pl
}

func addSlot(s []fieldSlot, v fieldSlot) []fieldSlot {
	for _, x := range s {
		if x.slot == v.slot {
			return s
		}
	}
	return append(s, v)
}

// followProbes makes the stage aggregate the kinds of set from now on (a
// reload changed them). The open windows keep what they hold of the kinds
// that stay (their slots are by kind number, which a kind keeps, and by
// field); a histogram slot that now holds another kind's field starts
// empty.
func (a *Stage) followProbes(set *spec.Set) {
	if a.probes != nil && a.probes.set == set || a.probes == nil && set == nil {
		return
	}
	old := a.probes
	a.probes = newProbePlan(set)
	if a.probes == nil {
		a.probes = &probePlan{} // no kinds: windows say so (an empty set)
	}
	for i := range spec.MaxHists {
		if old == nil || old.hists[i] != a.probes.hists[i] {
			for _, w := range a.w {
				w.Probe.Hists[i].Reset()
			}
		}
	}
}
