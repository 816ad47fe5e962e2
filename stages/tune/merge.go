package tune

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ModelMerge says what MergeModel took from the other model.
type ModelMerge struct {
	Created bool // there was no model at the path
	Regimes int  // regimes added (the others matched one of this host's)
	Bests   int  // best settings added
}

// CheckModel checks a tuner model file's bytes (for export and import).
func CheckModel(b []byte) error {
	_, _, err := decodeModel(b)
	return err
}

// MergeModel merges the tuner model src (its bytes, from another host)
// into the model file at path. A regime of src within the regime radius
// of one of this host's is that regime; the others are added while there
// is room (MaxRegimes). A best setting of src is added for a (regime,
// target) this host has not measured; what this host measured is kept.
// A missing file at path becomes src. Nothing is written when src or the
// file at path is unusable.
func MergeModel(path string, src []byte) (ModelMerge, error) {
	in, _, err := decodeModel(src)
	if err != nil {
		return ModelMerge{}, err
	}
	// Trials are this host's own unfinished measures: another host's
	// are not taken (its bests are).
	// Nor when its workloads were last seen: its event times are another
	// host's, and its links (a namespace named "host" is another path)
	// are not this host's.
	in.Trials, in.Boot = nil, ""
	for i := range in.Best {
		in.Best[i].SeenNs = 0
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ModelMerge{Created: true, Regimes: len(in.Regimes), Bests: len(in.Best)}, writeModel(path, in)
	}
	if err != nil {
		return ModelMerge{}, fmt.Errorf("read tuner model: %w", err)
	}
	own, _, err := decodeModel(b)
	if err != nil {
		return ModelMerge{}, fmt.Errorf("merge into %s: %w", path, err)
	}
	m := mergeState(own, in)
	return m, writeModel(path, own)
}

func mergeState(own, in *modelState) ModelMerge {
	var m ModelMerge
	r := regimes{list: own.Regimes, nextID: own.NextRegime}
	ids := map[uint32]uint32{phaseRegime: phaseRegime} // in's regime id → own's
	for _, c := range in.Regimes {
		if j := r.nearest(c.C); j >= 0 {
			ids[c.ID] = r.list[j].ID
			continue
		}
		if len(r.list) >= MaxRegimes {
			continue
		}
		r.nextID++
		ids[c.ID] = r.nextID
		r.list = append(r.list, regimeCentre{ID: r.nextID, C: c.C, Seen: c.Seen, LastNs: c.LastNs})
		m.Regimes++
	}
	for _, b := range in.Best {
		id, ok := ids[b.Regime]
		if !ok {
			continue
		}
		known := false
		for _, o := range own.Best {
			known = known || (o.Regime == id && o.Target == b.Target)
		}
		if !known {
			b.Regime = id
			own.Best = append(own.Best, b)
			m.Bests++
		}
	}
	own.Regimes, own.NextRegime = r.list, r.nextID
	return m
}
