package faults

import (
	"fmt"
	"math"

	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict/alarm"
)

// Headroom is, for one fault, the feature whose persistent deviation
// inside the fault stood furthest above its largest one on the clean
// windows of the same recording: whether any per-feature rule could
// tell this fault from the clean windows at all.
type Headroom struct {
	Fault string
	// Feature is that feature ("" when no feature with a noise scale
	// deviated inside the fault); Inside and Clean its largest
	// persistent deviation (noise units) inside the fault and on the
	// clean windows, Ratio Inside / Clean.
	Feature              string
	Inside, Clean, Ratio float64
}

// Headrooms runs the alarm with p over the windows and reports each
// fault's headroom. The persistent deviation is what the alarm judged
// in each window (with the sustained rule, the one every window of the
// last Smooth reached). A feature that never deviated on the clean
// windows (Clean 0) is left out: its ratio has no bound. The alarm's own
// record also learns the warm-up and the faults' recoveries, so a
// headroom above Factor does not promise an alarm; one below 1 means no
// per-feature rule with this baseline can flag the fault without also
// flagging the clean windows.
func Headrooms(ws []Window, names []string, faults []Fault, p alarm.Params, o Options) ([]Headroom, error) {
	label := labelWindows(ws, faults, o)
	clean := make([]float64, len(names))
	inside := make([][]float64, len(faults))
	for k := range inside {
		inside[k] = make([]float64, len(names))
	}
	ids := make([]features.ID, len(names))
	for i, n := range names {
		ids[i], _ = features.Lookup(n) // replayAlarm rejects unknown names first
	}
	err := replayAlarm(ws, names, p, func(w int, h *alarm.Host, _ alarm.Result) {
		// The alarm leaves this window's deviation in the series' lag
		// ring, at the window's slot, for its record to learn later.
		slot := int((h.S.Windows - 1) % int64(p.Smooth))
		for i, id := range ids {
			z := h.S.S[id].Lag[slot]
			switch l := label[w]; {
			case l == -1:
				clean[i] = math.Max(clean[i], z)
			case l >= 0:
				inside[l][i] = math.Max(inside[l][i], z)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("headroom: %w", err)
	}
	out := make([]Headroom, len(faults))
	for k, f := range faults {
		out[k].Fault = f.Name
		for i, n := range names {
			if clean[i] > 0 && inside[k][i] > 0 && inside[k][i]/clean[i] > out[k].Ratio {
				out[k] = Headroom{Fault: f.Name, Feature: n, Inside: inside[k][i], Clean: clean[i], Ratio: inside[k][i] / clean[i]}
			}
		}
	}
	return out, nil
}
