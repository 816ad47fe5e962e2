package tune

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ainka/ainka/stages/features"
)

// tcpBufFamily raises the TCP buffer limit of a network namespace whose
// links' bandwidth-delay product nears it: the largest window a
// connection can keep in flight is a share of its buffer (net.ipv4.
// tcp_wmem's max for a sender, tcp_rmem's for a receiver, each
// namespace's own), and once rate × RTT reaches it, the rate is the
// buffer's, not the link's. The evidence is the namespace's rate in its
// main direction times its median smoothed RTT (the tcp kind's samples)
// against the limit in place; the trial decides whether more helps.
//
// Bounds: only the max is changed, only ever raised (×2, ×4: actuate's
// step bound for these sysctls), and never above the host's socket
// limit an admin set (net.core.wmem_max / rmem_max, the allowlist's
// coupling): a namespace already at or past it is left alone. An
// operator's policy on the knob holds it (the tuners' rule), and an
// outside write wins over the tuner (actuate's journal yields).
//
// It acts only in act mode (advice and replays would need the limit,
// which is read from the host): the congestion-control tuner advises
// for lossy links. It and that tuner never try settings on one
// namespace at the same time: each would measure the other's effect.
//
// Objective: the namespace's TCP throughput, as the congestion-control
// tuner's.
type tcpBufFamily struct{}

func (tcpBufFamily) name() string      { return "tcp-buffers" }
func (tcpBufFamily) objective() string { return "TCP throughput" }

// bufShare: a connection keeps in flight about this share of its buffer
// limit (the rest is the kernel's per-packet overhead and the window it
// holds back): at rate × RTT ≥ max/bufShare the buffer may be the limit.
const bufShare = 4

// minBufEvidence: below this rate × RTT × bufShare (bytes) no limit is
// near (the kernel's own default max is 4 MiB or more): the namespace's
// limits are not even read.
const minBufEvidence = 64 << 10

var bufKnobs = [2]string{"net.ipv4.tcp_wmem", "net.ipv4.tcp_rmem"}

// bufLimits are the host's socket limits an admin sets, which bound each.
var bufLimits = [2]string{"net.core.wmem_max", "net.core.rmem_max"}

// bufFactors are the limits tried, times the original.
var bufFactors = [...]int64{2, 4}

func (f tcpBufFamily) find(s *Stage, now uint64) (target, bool) {
	if s.cfg.TCP != Act {
		return target{}, false
	}
	for i := 0; i < s.tr.nets.n; i++ {
		e := &s.tr.nets.ents[i]
		if now-e.lastNs > 2*s.windowNs || e.bps < minTCPBps || e.windows < netWarm || e.rttUs <= 0 || s.netnsBusy(f, e.netns) {
			continue
		}
		dir := 0 // sender
		if e.tx < e.bps/2 {
			dir = 1 // receiver
		}
		rate := e.tx
		if dir == 1 {
			rate = e.bps - e.tx
		}
		need := rate * e.rttUs / 1e6 * bufShare
		if need < minBufEvidence {
			continue // no limit worth reading about
		}
		lim := f.limits(s, e, dir)
		if lim[2] == 0 || need < float64(lim[2]) {
			continue
		}
		name := s.cfg.NetnsName(e.netns)
		tg := target{key: "tcp/" + name + "/buffer-limited/" + bufKnobs[dir][len("net.ipv4."):], sel: name, netns: e.netns,
			own: name == OwnNetns, class: BufferLimited, conf: warm(e.windows, netWarm), limit: dir,
			why: fmt.Sprintf("%s; %.0f KiB in flight at that rate and RTT, %s max %d KiB", explainNetns(e, name),
				rate*e.rttUs/1e6/1024, bufKnobs[dir], lim[2]/1024)}
		tg.cur = fmt.Sprintf("%d %d %d", lim[0], lim[1], lim[2])
		tg.avail = f.room(s, dir, lim[2])
		if tg.avail == "" {
			continue // at the admin's socket limit already
		}
		return tg, true
	}
	return target{}, false
}

// limits reads the namespace's tcp_wmem or tcp_rmem once per streak.
func (tcpBufFamily) limits(s *Stage, e *netEnt, dir int) [3]int64 {
	if e.bufRead[dir] {
		return e.bufs[dir]
	}
	e.bufRead[dir] = true
	var v string
	var err error
	if s.cfg.NetnsName(e.netns) == OwnNetns {
		v, err = s.cfg.Sysctl(bufKnobs[dir])
	} else {
		v, err = s.cfg.NetnsSysctl(e.netns, bufKnobs[dir])
	}
	if err != nil {
		s.logf("tuner tcp-buffers: read %s of network namespace %d: %v", bufKnobs[dir], e.netns, err)
		return e.bufs[dir]
	}
	f := strings.Fields(v)
	for i := 0; i < 3 && len(f) == 3; i++ {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil || n <= 0 {
			return [3]int64{}
		}
		e.bufs[dir][i] = n
	}
	return e.bufs[dir]
}

// room returns the maxima to try, space-separated: the original times
// bufFactors, those at or under the host's socket limit.
func (tcpBufFamily) room(s *Stage, dir int, max int64) string {
	v, err := s.cfg.Sysctl(bufLimits[dir])
	if err != nil {
		return ""
	}
	limit, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return ""
	}
	var out []string
	for _, k := range bufFactors {
		if max*k <= limit {
			out = append(out, strconv.FormatInt(max*k, 10))
		}
	}
	return strings.Join(out, " ")
}

// arms: the original, then the larger maxima (tg.avail).
func (tcpBufFamily) arms(tg *target) []string {
	return append([]string{""}, strings.Fields(tg.avail)...)
}

// action sets the max, keeping the namespace's min and default; "0" (the
// tuner's restore) and "" name the knob at its original.
func (tcpBufFamily) action(tg *target, value string) string {
	f := strings.Fields(tg.cur)
	if value != "" && value != "0" && len(f) == 3 {
		f[2] = value
	}
	v := strings.Join(f, " ")
	if tg.own {
		return fmt.Sprintf("sysctl %s = %q", bufKnobs[tg.limit], v)
	}
	return fmt.Sprintf("sysctl netns:%d %s = %q", tg.netns, bufKnobs[tg.limit], v)
}

// alive: as the congestion-control tuner's; a settled limit stays
// through quiet spells.
func (tcpBufFamily) alive(s *Stage, tg *target, now uint64) bool {
	return netAlive(s, tg, now, func(*netEnt) bool { return false })
}

func (tcpBufFamily) measure(s *Stage, v *features.Vector, tg *target) (float64, bool) {
	return tcpFamily{}.measure(s, v, tg)
}

// lag: one effect window, as the congestion-control tuner's without
// ConnsFollow (the actuator moves open connections' congestion control,
// not their buffers).
func (tcpBufFamily) lag(s *Stage) uint64 { return uint64(s.cfg.EffectWindow.Nanoseconds()) }

func (tcpBufFamily) workload(tg *target) string { return tcpFamily{}.workload(tg) }

func (tcpBufFamily) workStart(s *Stage, tg *target, now uint64) uint64 {
	return tcpFamily{}.workStart(s, tg, now)
}
