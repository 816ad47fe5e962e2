package tune

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/stages/decide/action"
	"github.com/ainka/ainka/stages/features"
)

// tcpFamily sets the congestion control of a network namespace whose
// links lose packets: every namespace has its own
// net.ipv4.tcp_congestion_control, the one its new connections start
// with. Loss-based algorithms (reno, cubic) halve their window at each
// loss and crawl on a link that drops packets at random; a model-based
// one (bbr) paces at the bandwidth it measures. Which one wins depends on
// the link, so the tuner tries the algorithms this kernel offers
// (tcp_available_congestion_control, within the action allowlist), bbr
// first. The sysctl applies to connections opened after it; the
// actuator also moves the namespace's open connections that were on the
// replaced algorithm (stages/actuate/conns.go, a TCP socket iterator)
// when the daemon acts (not in replays or dry runs, where the objective
// moves only as new connections come).
//
// The action names the namespace by its inode (sysctl netns:INODE ...;
// actuate enters it to write), or is the plain sysctl for the daemon's
// own namespace, so that an operator's host policy on the same sysctl is
// the same knob. Advice (and replays) assume bbr is there to try.
//
// Objective: the namespace's TCP throughput, bytes sent and acknowledged
// plus bytes received per second, from the sockets' own counters.
type tcpFamily struct{}

func (tcpFamily) name() string      { return "tcp" }
func (tcpFamily) objective() string { return "TCP throughput" }

// Evidence of a lossy link: at least minTCPBps of traffic and a loss
// estimate (segments retransmitted over sent) of minLossPct; a clean one
// stays under cleanLossPct.
const (
	minTCPBps    = 100e3
	minLossPct   = 1
	cleanLossPct = 0.1
)

const tcpCCKnob = "net.ipv4.tcp_congestion_control"

// netEnt follows one network namespace's TCP across windows.
type netEnt struct {
	netns   uint32
	startNs uint64 // the start of its present streak of traffic
	lastNs  uint64
	windows int
	bps     float64 // tx + rx bytes/s
	tx      float64 // bytes/s sent and acknowledged
	retrans float64 // retransmissions/s
	loss    float64 // % of segments retransmitted
	rttUs   float64 // median smoothed RTT
	// lossSeen: loss has had a sample in this streak (a window with
	// segments sent). Until then e.loss is no estimate: a streak's first
	// window often has none (a socket's first record only sets its
	// counters' baseline), and an average started at 0 there took 4-6
	// windows to reach minLossPct on a link losing 1.5-2.5 % (the re-applied
	// runs of tcp-lossy-cubic acted 0.5-0.8 s after their traffic began).
	lossSeen bool
	// burst: the last window alone lost at least minLossPct of its
	// segments while sending minTCPBps (a burst of retransmissions).
	burst bool
	// tcp_wmem and tcp_rmem ("min default max") as the buffer tuner read
	// them once in this streak (bufs[i][2] == 0: not read or unreadable).
	bufs    [2][3]int64
	bufRead [2]bool
}

// netTable bounds the namespaces followed (MaxNetns entries).
type netTable struct {
	ents [MaxNetns]netEnt
	n    int
}

// MaxNetns bounds the network namespaces the TCP tuner follows.
const MaxNetns = 8

func (nt *netTable) observe(v *features.Vector) {
	for i := 0; i < v.NumNetns; i++ {
		f := &v.Netns[i]
		e := nt.get(f.Netns, v.EndNs)
		if v.EndNs-e.lastNs > goneNs { // back after a quiet spell
			*e = netEnt{netns: f.Netns}
		}
		first := e.windows == 0
		if first {
			e.startNs = v.StartNs
		}
		e.lastNs = v.EndNs
		e.bps = ewma(e.bps, f.TxBytesPerS+f.RxBytesPerS, first)
		e.tx = ewma(e.tx, f.TxBytesPerS, first)
		e.retrans = ewma(e.retrans, f.RetransPerS, first)
		if !math.IsNaN(f.LossPct) {
			e.loss = ewma(e.loss, f.LossPct, !e.lossSeen)
			e.lossSeen = true
		}
		e.burst = f.LossPct >= minLossPct && f.TxBytesPerS >= minTCPBps
		if !math.IsNaN(f.RTTP50Us) {
			e.rttUs = ewma(e.rttUs, f.RTTP50Us, first)
		}
		e.windows++
	}
}

// get returns the namespace's entry, evicting the least recently active.
func (nt *netTable) get(netns uint32, now uint64) *netEnt {
	old := 0
	for i := 0; i < nt.n; i++ {
		if nt.ents[i].netns == netns {
			return &nt.ents[i]
		}
		if nt.ents[i].lastNs < nt.ents[old].lastNs {
			old = i
		}
	}
	if nt.n < MaxNetns {
		old = nt.n
		nt.n++
	}
	nt.ents[old] = netEnt{netns: netns, lastNs: now}
	return &nt.ents[old]
}

// has reports whether the namespace has an entry, however old.
func (nt *netTable) has(netns uint32) bool {
	for i := 0; i < nt.n; i++ {
		if nt.ents[i].netns == netns {
			return true
		}
	}
	return false
}

func (nt *netTable) find(netns uint32, now uint64) *netEnt {
	for i := 0; i < nt.n; i++ {
		if e := &nt.ents[i]; e.netns == netns && now-e.lastNs <= goneNs {
			return e
		}
	}
	return nil
}

// classifyNetns labels a namespace's links lossy or clean from its loss
// estimate, with the confidence of how clear the verdict is and how many
// windows it rests on (need for full confidence).
func classifyNetns(e *netEnt, need int) (Class, float64) {
	if e.bps < minTCPBps || !e.lossSeen {
		return Unknown, 0
	}
	w := warm(e.windows, need)
	switch {
	case e.loss >= minLossPct:
		return Lossy, w * clamp01(0.5+e.loss/(4*minLossPct))
	case e.loss < cleanLossPct:
		return Clean, w
	}
	return Unknown, 0.5 * w
}

// classifyKnown classifies a namespace whose best congestion control is
// known: on netKnownWarm windows of its average, or on the last window
// alone when it lost a burst of segments. The average lags a streak
// that began with other, clean traffic (the host namespace's, before the
// bench's iperf3): from ~0 it took 1.4 s of the link's 2.6 % to reach
// minLossPct in a re-applied run. The burst decides only where the
// average is not clean (netAlive's test, which would end the setting).
func classifyKnown(e *netEnt) (Class, float64) {
	c, cf := classifyNetns(e, netKnownWarm)
	if c != Lossy && e.burst && e.loss >= cleanLossPct {
		return Lossy, minConfidence
	}
	return c, cf
}

func explainNetns(e *netEnt, name string) string {
	return fmt.Sprintf("network namespace %s: %.1f Mbit/s, %.1f%% of segments retransmitted (%.0f/s), RTT %.0f µs",
		name, 8*e.bps/1e6, e.loss, e.retrans, e.rttUs)
}

// Windows of evidence a namespace needs to be classified with full
// confidence: netWarm, or netKnownWarm when a best congestion control is
// known for it (its links were classified in the trials that found it,
// and each window without it is a window of the original's crawl). One
// window of loss then decides: at minLossPct of the segments of a
// window carrying minTCPBps, that is a burst of retransmissions, not a
// stray one. Wrong, it costs one clean classification (netAlive's over:
// three windows) before the original is back.
const (
	netWarm      = 5
	netKnownWarm = 1
)

func tcpKey(name string) string { return "tcp/" + name + "/lossy/congestion_control" }

func (tcpFamily) find(s *Stage, now uint64) (target, bool) {
	var top *netEnt
	conf := 0.0
	for i := 0; i < s.tr.nets.n; i++ {
		e := &s.tr.nets.ents[i]
		if now-e.lastNs > 2*s.windowNs {
			continue
		}
		if s.netnsBusy(tcpFamily{}, e.netns) {
			continue
		}
		if e.tx < minTCPBps {
			// Congestion control governs what a namespace sends: one that
			// only receives (the server of an upload, whose few segments
			// out are ACKs and control messages) is no target. The full
			// bench's ainka arm trialled the tcp-lossy-cubic server's
			// namespace, where no setting changes anything.
			continue
		}
		c, cf := classifyNetns(e, netWarm)
		if (c == Lossy || e.burst && c != Clean) && cf < minConfidence {
			// Names are looked up only here, for a namespace already
			// lossy on thin evidence or losing a burst of segments now.
			if _, known := s.best(phaseRegime, tcpKey(s.cfg.NetnsName(e.netns))); known {
				c, cf = classifyKnown(e)
			}
		}
		if c == Lossy && cf >= minConfidence && (top == nil || e.bps > top.bps) {
			top, conf = e, cf
		}
	}
	if top == nil {
		return restartTarget(s, now)
	}
	name := s.cfg.NetnsName(top.netns)
	return ccTarget(s, top.netns, name, conf, explainNetns(top, name))
}

// ccTarget is the lossy namespace ino (named name) as a target: in act
// mode with the congestion controls the kernel offers and the one in
// place (false when they cannot be read).
func ccTarget(s *Stage, ino uint32, name string, conf float64, why string) (target, bool) {
	tg := target{key: tcpKey(name), sel: name, netns: ino, class: Lossy, conf: conf, why: why}
	tg.own = name == OwnNetns // the plain sysctl: the daemon's own namespace
	tg.follow = s.cfg.ConnsFollow
	if s.cfg.TCP == Act {
		avail, err := s.cfg.Sysctl("net.ipv4.tcp_available_congestion_control")
		if err != nil {
			return target{}, false
		}
		tg.avail = avail
		// The one in place is no arm of its own (it is the original): a
		// namespace's, unread, was tried as one under its name.
		if tg.own {
			tg.cur, _ = s.cfg.Sysctl(tcpCCKnob)
		} else {
			tg.cur, _ = s.cfg.NetnsSysctl(ino, tcpCCKnob)
		}
		tg.cur = strings.TrimSpace(tg.cur)
	}
	return tg, true
}

// arms: the original, then bbr, then the other algorithms the kernel
// offers that the allowlist names (advice: bbr alone). A lossy link
// already on bbr gets no trial: the loss-based algorithms halve their
// window at every drop and cannot beat it there, and since open
// connections follow a change (actuate's pass), each such step would
// cost every connection of the namespace an effect window at a fraction
// of its rate (tcp-lossy, one connection on this host's default bbr).
func (tcpFamily) arms(tg *target) []string {
	if tg.avail == "" {
		return []string{"", "bbr"}
	}
	if tg.class == Lossy && tg.cur == "bbr" {
		return nil
	}
	have := strings.Fields(tg.avail)
	arms := []string{""}
	words := append([]string{"bbr"}, action.Sysctls[tcpCCKnob].Words...)
	for _, w := range words {
		if w != tg.cur && hasWord(have, w) && !hasWord(arms, w) && len(arms) < MaxArms {
			arms = append(arms, w)
		}
	}
	return arms
}

// order: on a lossy link whose open connections follow a change
// (ConnsFollow), the loss-tolerant algorithm goes first, then the
// original, then the rest. A namespace is a target only once its links
// lose segments steadily (classifyNetns), which is where the loss-based
// algorithms (cubic, reno) halve their window at every drop while bbr
// paces at the bandwidth it measures; bpftune's congestion tuner moves a
// connection to bbr outright past 1 % loss. Here it is only the first
// arm, still measured against the original after it. Where connections
// do not follow, the original goes first: measured right after bbr it
// would be measured on connections bbr opened.
func (tcpFamily) order(tg *target, n int) (o [MaxArms]int, ok bool) {
	if !tg.follow || tg.class != Lossy || n < 2 || n > MaxArms || tg.cur == "bbr" || !hasWord(strings.Fields(tg.avail), "bbr") {
		return o, false
	}
	o[0], o[1] = 1, 0 // arms: "", bbr, the others (arms)
	for i := 2; i < n; i++ {
		o[i] = i
	}
	return o, true
}

func hasWord(ws []string, w string) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

// action: "0" (the tuner's restore) names the knob only; any allowed
// word parses, and actuate restores by the knob's key.
func (tcpFamily) action(tg *target, value string) string {
	if value == "0" {
		value = "reno"
	}
	if tg.own {
		return "sysctl " + tcpCCKnob + " = " + value
	}
	return fmt.Sprintf("sysctl %s%d %s = %s", action.NetnsPrefix, tg.netns, tcpCCKnob, value)
}

// alive: the namespace still carries TCP traffic. A settled setting
// stays through quiet spells of up to settledIdleNs, unless the links
// turn clean: the connections of the namespace's next burst then open
// with it, instead of with the original until the namespace is found
// lossy again.
//
// The best's SeenNs follows the namespace's traffic while it is settled
// (restartTarget), and is cleared when the links turn clean. A setting
// put back at the daemon's start, before the namespace's traffic,
// lives as long as a running daemon would have kept it (restartAlive).
func (tcpFamily) alive(s *Stage, tg *target, now uint64) bool {
	settled := s.settledOn(tg.key)
	if settled && !s.tr.nets.has(tg.netns) {
		return restartAlive(s, tg, now)
	}
	alive := netAlive(s, tg, now, func(e *netEnt) bool {
		c, cf := classifyNetns(e, netWarm)
		return c == Clean && cf >= minConfidence
	})
	switch e := s.tr.nets.find(tg.netns, now); {
	case settled && !alive:
		s.seen(tg.key, 0)
	case settled && e != nil && e.lastNs == now:
		s.seen(tg.key, now)
	}
	return alive
}

// netAlive: an exploring trial's namespace carries TCP traffic; a
// settled one's was seen within settledIdleNs and is not over (over).
func netAlive(s *Stage, tg *target, now uint64, over func(e *netEnt) bool) bool {
	if !s.settledOn(tg.key) {
		return s.tr.nets.find(tg.netns, now) != nil
	}
	for i := 0; i < s.tr.nets.n; i++ {
		if e := &s.tr.nets.ents[i]; e.netns == tg.netns {
			return now-e.lastNs <= settledIdleNs && !over(e)
		}
	}
	return false
}

// settledIdleNs bounds how long a settled congestion control outlives
// its namespace's traffic.
const settledIdleNs = 10 * 60e9

// lag: the connections open at a change keep the old congestion
// control until they end. In tcp-lossy-cubic (connections of 2 s, one
// after another, effect window 2 s) a step measured from one window
// after the change saw mostly the connection opened before it and the
// gap between two: bbr measured -57 % and reno -67 % against cubic,
// both reverted as harmful, and the trial kept cubic, which the model
// then re-applied in every later run (12 Mbit/s where bbr gives 70). A
// step is measured from one effect window after the change: the harm
// bound's time counts from when the setting reaches connections. When
// the open connections follow the change (ConnsFollow), it reaches them
// at once: a step is measured from the next window, as other tuners'.
func (tcpFamily) lag(s *Stage) uint64 {
	if s.cfg.ConnsFollow {
		return s.windowNs
	}
	return uint64(s.cfg.EffectWindow.Nanoseconds())
}

func (tcpFamily) workload(tg *target) string {
	return "network namespace " + tg.sel + "/" + tg.class.String()
}

// workStart: when the namespace's present streak of traffic began (0:
// none seen yet, as for a setting put back at the daemon's start).
func (tcpFamily) workStart(s *Stage, tg *target, now uint64) uint64 {
	for i := 0; i < s.tr.nets.n; i++ {
		if e := &s.tr.nets.ents[i]; e.netns == tg.netns {
			return e.startNs
		}
	}
	return 0
}

func (tcpFamily) measure(s *Stage, v *features.Vector, tg *target) (float64, bool) {
	for i := 0; i < v.NumNetns; i++ {
		if f := &v.Netns[i]; f.Netns == tg.netns {
			return f.TxBytesPerS + f.RxBytesPerS, true
		}
	}
	return 0, true // no TCP in this window: no throughput
}

// OwnNetns is NetnsName's name for the daemon's own network namespace.
const OwnNetns = "host"

// netnsName names a namespace from the host: the daemon's own, a name
// under /run/netns (ip netns), else its inode.
func netnsName(ino uint32) string {
	var st unix.Stat_t
	if unix.Stat("/proc/self/ns/net", &st) == nil && st.Ino == uint64(ino) {
		return OwnNetns
	}
	if names, err := os.ReadDir("/run/netns"); err == nil {
		for _, n := range names {
			if unix.Stat(filepath.Join("/run/netns", n.Name()), &st) == nil && st.Ino == uint64(ino) {
				return n.Name()
			}
		}
	}
	return fmt.Sprintf("netns-%d", ino)
}
