package anomaly

import (
	"errors"
	"fmt"
	"sort"
)

// DefaultName is the detector `ainka detect` and the stage use.
const DefaultName = "ainka"

// ErrUnknown reports a detector name that is not registered.
var ErrUnknown = errors.New("unknown detector")

// variants are the named detectors: the default and the ablations that
// docs/predict.md compares it with.
var variants = map[string]func(Params) Params{
	"ainka": func(p Params) Params { return p },
	// deviation at one scale, no spatial rule.
	"fast": func(p Params) Params { p.SlowAlpha = 0; p.SpatialTol = 0; return p },
	// the predict stage's setting (StageParams) with a wall clock
	// (predict.Config.BootOffsetNs set).
	"stage": func(p Params) Params { return StageParams() },
	// the same without a wall clock: no time-of-week baseline.
	"stage-mono": func(p Params) Params { p = StageParams(); p.Season = 0; return p },
	// no rest period after a detection.
	"norest": func(p Params) Params { p.Rest = 0; p.RestSoft = 0; return p },
}

// Names lists the registered detectors.
func Names() []string {
	out := make([]string, 0, len(variants))
	for n := range variants {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Factory returns a constructor of detectors called name, with the
// parameter overrides in params ("name=value,...").
func Factory(name, params string) (func() *Detector, error) {
	v, ok := variants[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (have %v)", ErrUnknown, name, Names())
	}
	p, err := ParseParams(v(DefaultParams()), params)
	if err != nil {
		return nil, err
	}
	return func() *Detector {
		d := &Detector{}
		d.Init(p)
		return d
	}, nil
}

// NewNamed returns a detector called name with parameter overrides.
func NewNamed(name, params string) (*Detector, error) {
	v, ok := variants[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (have %v)", ErrUnknown, name, Names())
	}
	p, err := ParseParams(v(DefaultParams()), params)
	if err != nil {
		return nil, err
	}
	return New(p)
}
