package tune

import (
	"fmt"
	"strconv"

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
	conf, name := 0.0, ""
	for i := 0; i < s.tr.nDevs; i++ {
		e := &s.tr.devs[i]
		if now-e.lastNs > 2*s.windowNs {
			continue
		}
		c, cf := classifyDevice(e)
		if (c == Sequential || c == Random) && cf >= minConfidence && (top == nil || e.iops > top.iops) {
			n := s.devName(e.dev)
			if n == "" || (s.cfg.AllowDevice != nil && !s.cfg.AllowDevice(n)) {
				continue
			}
			top, cls, conf, name = e, c, cf, n
		}
	}
	if top == nil {
		return target{}, false
	}
	tg := target{
		key: fmt.Sprintf("readahead/%s/%s", name, cls), sel: name, dev: top.dev,
		class: cls, conf: conf, why: explainDevice(top, name), orig: defaultReadaheadKB,
	}
	if s.cfg.Readahead == Act {
		// Only acting needs the live value; advice (and replays) assume
		// the kernel's default, so they stay deterministic.
		kb, err := s.original(name, func() (int, error) { return s.cfg.ReadaheadKB(name) })
		if err != nil {
			return target{}, false
		}
		tg.orig = kb
	}
	return tg, true
}

// defaultReadaheadKB is the kernel's default read_ahead_kb.
const defaultReadaheadKB = 128

// arms double (sequential) or halve (random) the original read_ahead_kb
// up to three times, within [minReadaheadKB, maxReadaheadKB]: a device
// set to 8 MiB by its driver is not "tuned" to 256 KiB for a sequential
// reader.
func (readaheadFamily) arms(tg *target) []string {
	arms := []string{""}
	kb := max(tg.orig, minReadaheadKB/2)
	for range 3 {
		if tg.class == Sequential {
			kb *= 2
		} else {
			kb /= 2
		}
		if kb < minReadaheadKB || kb > maxReadaheadKB {
			break
		}
		arms = append(arms, strconv.Itoa(kb))
	}
	return arms
}

const minReadaheadKB, maxReadaheadKB = 8, 16384

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
