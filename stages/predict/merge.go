package predict

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/ainka/ainka/stages/features"
)

// ModelMerge says what MergeModel took from the other model.
type ModelMerge struct {
	// Created: there was no model at the path; the other one is it now.
	Created bool
	// Features are the features whose detector (and forecasters) came from
	// the other model, out of features.Count.
	Features int
	// Joint: the joint detector came from the other model.
	Joint bool
}

// MergeModel merges the model file src (its bytes, from another host)
// into the model file at path, which the daemon then resumes from. Per
// feature, the detector that has learned from more samples wins, with its
// forecaster and neural forecaster when both were saved with the same
// horizon; so does the
// joint detector. What this host has learned longer is kept, what it has
// not learned yet is seeded. A missing file at path becomes src. src is
// checked as a model file is at start (ErrCorrupt, ErrIncompatible);
// nothing is written when it, or the file at path, is unusable.
func MergeModel(path string, src []byte) (ModelMerge, error) {
	sh, ss, err := decodeModel("imported", src)
	if err != nil {
		return ModelMerge{}, err
	}
	dh, ds, err := readModel(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ModelMerge{Created: true, Features: int(features.Count), Joint: true}, writeAtomic(path, src)
	}
	if err != nil {
		return ModelMerge{}, fmt.Errorf("merge into %s: %w", path, err)
	}
	var m ModelMerge
	for i := range ds.Det {
		if ss.Det[i].N > ds.Det[i].N {
			ds.Det[i] = ss.Det[i]
			if sh.Horizon == dh.Horizon {
				ds.Fc[i] = ss.Fc[i]
				ds.Net[i] = ss.Net[i] // it learned that forecaster's errors
			}
			m.Features++
		}
	}
	for i := range ds.Alarm.S {
		if ss.Alarm.S[i].Seen > ds.Alarm.S[i].Seen {
			ds.Alarm.S[i] = ss.Alarm.S[i]
		}
	}
	ds.Alarm.Windows = max(ds.Alarm.Windows, ss.Alarm.Windows)
	if ss.JointDet.N > ds.JointDet.N {
		ds.Joint, ds.JointDet, m.Joint = ss.Joint, ss.JointDet, true
	}
	dh.Processed = max(dh.Processed, sh.Processed)
	b, err := encodeModel(dh, ds)
	if err != nil {
		return ModelMerge{}, err
	}
	if err := writeAtomic(path, b); err != nil {
		return ModelMerge{}, err
	}
	return m, nil
}

// ReadModelFile reads and checks a model file and returns its bytes (for
// export: what is shipped is what was checked).
func ReadModelFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	if _, _, err := decodeModel(path, b); err != nil {
		return nil, err
	}
	return b, nil
}

// CheckModel checks a model file's bytes as Load would, writing nothing.
func CheckModel(b []byte) error {
	_, _, err := decodeModel("imported", b)
	return err
}
