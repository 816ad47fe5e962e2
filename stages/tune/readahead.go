package tune

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ainka/ainka/stages/features"
)

// readaheadFamily sets a block device's read_ahead_kb from its access
// pattern: larger for sequential readers, smaller for random ones (the
// class picks the direction, the trials the size; actuate's step bound of
// ×64 per change applies).
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
		if (c == Sequential || c == Random) && cf >= minConfidence && readsMatter(e) && (top == nil || e.iops > top.iops) {
			n := s.devName(e.dev)
			if n == "" || (s.cfg.AllowDevice != nil && !s.cfg.AllowDevice(n)) || s.underLoop(n, now) {
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

// order: a sequential phase tries the largest readahead first, then the
// original, then the others from large to small. A sequential reader's
// throughput rises with readahead until the device's bandwidth is used
// and stays there (bench: 8192 KiB best of 16..8192 for every sequential
// phase, 2× the loop's default 2560), so the largest is the likeliest
// best, and phases are short (a few seconds): a trial that starts with
// the original and climbs spends most of a phase below the best. A
// random phase keeps the natural order (the original, then smaller):
// random reads hardly respond, so there the original is the likeliest.
func (readaheadFamily) order(tg *target, n int) (o [MaxArms]int, ok bool) {
	if tg.class != Sequential || n < 2 || n > MaxArms {
		return o, false
	}
	o[0], o[1] = n-1, 0
	for i := 2; i < n; i++ {
		o[i] = n - i
	}
	return o, true
}

func (readaheadFamily) action(tg *target, value string) string {
	return "readahead " + tg.sel + " = " + value
}

// alive: the device is still read, enough to matter, in the same
// pattern (or between patterns, where neither class holds); otherwise
// its phase has ended and the trial pauses (phase.go).
func (readaheadFamily) alive(s *Stage, tg *target, now uint64) bool {
	e := s.tr.findDev(tg.dev, now)
	if e == nil || !readsMatter(e) {
		return false
	}
	c, _ := classifyDevice(e)
	return c == tg.class || c == Unknown
}

// Readahead targets need reads that matter: at least minReadIOPS read
// requests/s or minReadBps read, on the moving averages. The host's disk
// read at a few tens of requests/s by other sessions' builds was
// classified (20 requests/s is the classifier's floor) and stepped 32
// times in one bench run, its objective mostly other processes' noise; a
// device that reads so little gains nothing a person would notice from
// its readahead. Sequential readers at a large readahead issue few, big
// requests: the bytes criterion keeps them.
const (
	minReadIOPS = 100
	minReadBps  = 4 << 20
)

func readsMatter(e *devEnt) bool {
	return e.iops*e.readPct/100 >= minReadIOPS || e.readBps >= minReadBps
}

// phaseStart: when the device's present access pattern began.
func (readaheadFamily) phaseStart(s *Stage, tg *target, now uint64) uint64 {
	if e := s.tr.findDev(tg.dev, now); e != nil {
		return e.patternNs
	}
	return 0
}

func (readaheadFamily) measure(s *Stage, v *features.Vector, tg *target) (float64, bool) {
	for i := 0; i < v.NumDevices; i++ {
		if d := &v.Devices[i]; d.Dev == tg.dev {
			// A window of the other pattern is the next phase already
			// (the class follows a window or two later): not this
			// setting's measure.
			if (d.SeqRatio >= 0.5) != (tg.class == Sequential) {
				return 0, false
			}
			if tg.class == Sequential {
				return d.ReadBytesPerS, true
			}
			return d.IOPS * d.ReadRequestsPct / 100, true
		}
	}
	return 0, true // idle in this window: no progress
}

// underLoop reports whether the disk name holds the backing file of a
// loop device read now, enough to matter. Its reads are then the loop's:
// tuning both measures each against the other's trials, and the disk's
// readahead is not what the readers see (a loop with direct I/O reads its
// file with O_DIRECT, which readahead never touches). In a bench run the
// host disk vda, under loop0, was classified like loop0 and tried first
// (it reads a little more), its trials reverted as harmful in turn.
func (s *Stage) underLoop(name string, now uint64) bool {
	for i := 0; i < s.tr.nDevs; i++ {
		e := &s.tr.devs[i]
		if now-e.lastNs > 2*s.windowNs || !readsMatter(e) {
			continue
		}
		if l := s.devName(e.dev); strings.HasPrefix(l, "loop") && s.backing(l) == name {
			return true
		}
	}
	return false
}

// backing caches the disk under a loop device ("" when none or unknown):
// read from sysfs once per loop device.
func (s *Stage) backing(loop string) string {
	return cachedName(s.backs, loop, s.cfg.LoopBacking)
}
