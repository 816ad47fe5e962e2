package tune

import (
	"fmt"
	"strconv"

	"github.com/ainka/ainka/stages/features"
)

// writebackFamily sets when background writeback starts
// (vm.dirty_background_ratio) on a host where bulk writes run beside
// tasks that wait for their own writes to be durable (fsync, fdatasync).
// Starting writeback earlier keeps less dirty data queued ahead of an
// fsync; starting it later keeps the bulk writes' flushing out of the
// fsyncs' way while bursts fit in memory. Which one helps depends on the
// device and the bursts, so the tuner tries both directions: half and a
// quarter of the original, and twice it (up to vm.dirty_ratio).
//
// Acting is refused where vm.dirty_background_bytes is set: writing the
// ratio makes the kernel clear the bytes, which a restore of the ratio
// would not bring back. Advice (and replays) assume the kernel's defaults
// (10 % and 20 %).
//
// Objective: the mean latency of the host's fsync and fdatasync calls,
// negated: the durable writes of the protected tasks, what they wait for.
// PSI io and the block write rate only decide that there is something to
// tune; they would also count the bulk writer's own throttling, which is
// not the work to protect.
type writebackFamily struct{}

func (writebackFamily) name() string      { return "writeback" }
func (writebackFamily) objective() string { return "fsync latency" }

// Evidence: at least minWriteBps of block writes and minFsyncPerS fsyncs,
// with PSI io some of at least minPSIIOPct.
const (
	minWriteBps  = 16e6
	minFsyncPerS = 5
	minPSIIOPct  = 1
)

const wbKnob = "vm.dirty_background_ratio"

func (writebackFamily) find(s *Stage, now uint64) (target, bool) {
	h := &s.tr.host
	if h.writeBps < minWriteBps || h.fsyncPerS < minFsyncPerS || !pressed(h.psiIO, minPSIIOPct) || now-h.fsyncNs > 2*s.windowNs {
		return target{}, false
	}
	tg := target{key: "writeback/host/fsync-beside-writes", sel: wbKnob, class: Latency, conf: warm(h.windows, 10),
		why:  fmt.Sprintf("%.0f MB/s written, %.0f fsyncs/s, PSI io some %.1f%%", h.writeBps/1e6, h.fsyncPerS, h.psiIO),
		orig: 10, limit: 20}
	if tg.conf < minConfidence {
		return target{}, false
	}
	if s.cfg.Writeback != Act {
		return tg, true
	}
	if b, err := s.cfg.Sysctl("vm.dirty_background_bytes"); err != nil || b != "0" {
		return target{}, false
	}
	n, err := s.original(wbKnob, func() (int, error) {
		v, err := s.cfg.Sysctl(wbKnob)
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(v)
	})
	if err != nil {
		return target{}, false
	}
	hi, err := s.cfg.Sysctl("vm.dirty_ratio")
	if tg.limit, err = strconv.Atoi(hi); err != nil {
		return target{}, false
	}
	tg.orig = n
	return tg, true
}

// arms: half and a quarter of the original ratio (at least 1), then twice
// it up to vm.dirty_ratio (kept in limit).
func (writebackFamily) arms(tg *target) []string {
	arms := []string{""}
	for _, n := range []int{tg.orig / 2, tg.orig / 4, min(2*tg.orig, tg.limit)} {
		n = max(n, 1)
		v := strconv.Itoa(n)
		if n != tg.orig && arms[len(arms)-1] != v {
			arms = append(arms, v)
		}
	}
	return arms
}

func (writebackFamily) action(tg *target, value string) string {
	if value == "0" {
		value = "1" // the revert's placeholder must parse; actuate restores the journal's original
	}
	return "sysctl " + wbKnob + " = " + value
}

func (writebackFamily) alive(s *Stage, tg *target, now uint64) bool {
	return now-s.tr.host.fsyncNs <= goneNs
}

func (writebackFamily) measure(s *Stage, v *features.Vector, tg *target) (float64, bool) {
	if v.Fsyncs == 0 {
		return 0, false
	}
	return -v.FsyncUs, true
}
