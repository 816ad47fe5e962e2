package tune

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A daemon restart is no change of a link. While the daemon runs, a
// namespace's settled congestion control outlives its traffic by up to
// settledIdleNs (alive): its next connections open with it. At exit the
// daemon restores every knob (the journal's rule), so a daemon stopped
// and started again within that time used to start from the original
// and wait for the link to lose segments again: in tcp-lossy-cubic,
// where the bench restarts the daemon for each run, every run's first
// connection crawled on cubic for 0.5-2.3 s before bbr came back.
//
// So a best the model saw in place on its namespace's traffic (SeenNs,
// kept while settled, cleared when the links turn clean) less than
// settledIdleNs ago, in this boot (modelState.Boot: event times restart
// with the host), is put back at the daemon's first windows, before the
// namespace's traffic: what a daemon that had kept running would have
// in place. It lives as long as that daemon would have kept it
// (restartAlive): traffic confirms it or ends it (clean links restore
// the original within netWarm windows, as for any settled setting), and
// without traffic it goes at settledIdleNs after the traffic last seen.
// Only named namespaces (the daemon's own, /run/netns names): an inode
// is no name that lasts. An operator's policy on the knob still holds it
// (start's held), and the actuator still yields to an outside write.

// restartTarget returns a namespace whose best congestion control was
// seen in place on its traffic within settledIdleNs, and has not been
// seen on clean links since.
func restartTarget(s *Stage, now uint64) (target, bool) {
	for i := range s.bests {
		b := &s.bests[i]
		if b.Regime != phaseRegime || b.SeenNs == 0 || b.Value == "" || now < b.SeenNs || now-b.SeenNs > settledIdleNs {
			continue
		}
		name, ok := ccKeyName(b.Target)
		if !ok {
			continue
		}
		ino, err := s.cfg.NetnsInode(name)
		if err != nil {
			s.logf("tuner tcp: %s: %v; its best is no longer put back before its traffic", b.Target, err)
			b.SeenNs = 0
			continue
		}
		if s.netnsBusy(tcpFamily{}, ino) {
			continue
		}
		if e := s.tr.nets.find(ino, now); e != nil {
			if c, cf := classifyNetns(e, netWarm); c == Clean && cf >= minConfidence {
				b.SeenNs = 0 // clean now: its own evidence decides
				continue
			}
		}
		why := fmt.Sprintf("network namespace %s: %s was in place on its lossy links %.1f s ago, before the daemon restarted (a settled setting outlives its traffic by %v)",
			name, b.Value, float64(now-b.SeenNs)/1e9, time.Duration(settledIdleNs))
		return ccTarget(s, ino, name, 1, why)
	}
	return target{}, false
}

// restartAlive: a setting put back before its namespace's traffic lives
// while its best's SeenNs is within settledIdleNs.
func restartAlive(s *Stage, tg *target, now uint64) bool {
	b, ok := s.best(phaseRegime, tg.key)
	return ok && b.SeenNs != 0 && now >= b.SeenNs && now-b.SeenNs <= settledIdleNs
}

// ccKeyName is the namespace name of a congestion-control key (tcpKey).
func ccKeyName(key string) (string, bool) {
	name, ok := strings.CutPrefix(key, "tcp/")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(name, "/lossy/congestion_control")
}

// seen sets the SeenNs of key's best (0: clear it).
func (s *Stage) seen(key string, ns uint64) {
	for i := range s.bests {
		if b := &s.bests[i]; b.Regime == phaseRegime && b.Target == key {
			b.SeenNs = ns
			return
		}
	}
}

// netnsInode finds a namespace by its NetnsName: the daemon's own, or a
// name under /run/netns.
func netnsInode(name string) (uint32, error) {
	path := filepath.Join("/run/netns", name)
	switch {
	case name == OwnNetns:
		path = "/proc/self/ns/net"
	case name == "" || strings.ContainsRune(name, '/') || strings.HasPrefix(name, "netns-"):
		return 0, fmt.Errorf("network namespace %q: no name to find it by", name)
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, fmt.Errorf("network namespace %s: %w", name, err)
	}
	return uint32(st.Ino), nil
}

// bootID reads this boot's id ("" when unreadable: no SeenNs then holds
// across restarts).
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
