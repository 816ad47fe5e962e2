package tune

import (
	"fmt"

	"github.com/ainka/ainka/stages/features"
)

// readaheadFamily sets a block device's read_ahead_kb from its access
// pattern: larger for sequential readers, smaller for random ones (the
// class picks the direction, the trials the size; actuate's step bound of
// ×8 per change applies).
//
// Objective: what the readers get done: read bytes/s for a sequential
// device, requests/s for a random one.
type readaheadFamily struct{}

func (readaheadFamily) name() string      { return "readahead" }
func (readaheadFamily) objective() string { return "device read progress" }

func (readaheadFamily) find(s *Stage, now uint64) (target, bool) {
	var top *devEnt
	var cls Class
	conf := 0.0
	for i := 0; i < s.tr.nDevs; i++ {
		e := &s.tr.devs[i]
		if now-e.lastNs > 2*s.windowNs {
			continue
		}
		c, cf := classifyDevice(e)
		if (c == Sequential || c == Random) && cf >= minConfidence && (top == nil || e.iops > top.iops) {
			top, cls, conf = e, c, cf
		}
	}
	if top == nil {
		return target{}, false
	}
	name := s.devName(top.dev)
	if name == "" {
		return target{}, false
	}
	return target{
		key: fmt.Sprintf("readahead/%s/%s", name, cls), sel: name, dev: top.dev,
		class: cls, conf: conf, why: explainDevice(top, name),
	}, true
}

func (readaheadFamily) arms(tg *target) []string {
	if tg.class == Sequential {
		return []string{"", "256", "512", "1024"}
	}
	return []string{"", "64", "32", "16"}
}

func (readaheadFamily) action(tg *target, value string) string {
	return "readahead " + tg.sel + " = " + value
}

// alive: the device is still read in the same pattern; a device whose
// pattern changed ends the trial like one that went away.
func (readaheadFamily) alive(s *Stage, tg *target, now uint64) bool {
	e := s.tr.findDev(tg.dev, now)
	if e == nil {
		return false
	}
	c, _ := classifyDevice(e)
	return c == tg.class || c == Unknown
}

func (readaheadFamily) measure(s *Stage, v *features.Vector, tg *target) (float64, bool) {
	for i := 0; i < v.NumDevices; i++ {
		if d := &v.Devices[i]; d.Dev == tg.dev {
			if tg.class == Sequential {
				return d.ReadBytesPerS, true
			}
			return d.IOPS * d.ReadRequestsPct / 100, true
		}
	}
	return 0, true // idle in this window: no progress
}
