package actuate

import (
	"os"

	"github.com/ainka/ainka/internal/tcpcc"
)

// A namespace's net.ipv4.tcp_congestion_control names the algorithm of
// the connections opened after it is set; those open at the change keep
// theirs until they end. On a lossy link that is the very connection
// whose crawl made the tuner act: in the tcp-lossy-cubic bench each run's
// first connection stayed on cubic (one of five) although bbr was set
// within 1.4 s of it opening. So, when Config.OpenConns is set, every
// write of that sysctl (a change, a restore, a rollback) also moves the
// namespace's established connections from the value it replaced to the
// one written: the setting and the connections stay one knob, journaled
// and restored as one. Connections on another algorithm (an
// application's own choice) are left alone.

// ccSysctl is the knob whose writes open connections follow.
const ccSysctl = "net.ipv4.tcp_congestion_control"

// OpenConns moves the established TCP connections of the calling
// thread's network namespace from one congestion control to another
// (tcpcc.Lazy in the daemon).
type OpenConns interface {
	Switch(from, to string) (tcpcc.Counts, error)
	Close() error
}

// followingCC makes the host's congestion-control knob k move the open
// connections with each write (k unchanged if name is another sysctl or
// the feature is off).
func (s *Stage) followingCC(k *knob, name string) *knob {
	if name != ccSysctl || s.cfg.OpenConns == nil {
		return k
	}
	write := k.write
	k.write = func(v string) error {
		old, rerr := k.read()
		if err := write(v); err != nil {
			return err
		}
		if rerr == nil {
			s.followCC(k.key, old, v)
		}
		return nil
	}
	return k
}

// writeCC writes a congestion control to path (a namespace's sysctl,
// from a thread inside it) and moves that namespace's open connections
// from the value it replaced.
func (s *Stage) writeCC(key, path, v string) error {
	b, rerr := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(v), 0); err != nil {
		return err
	}
	if rerr == nil {
		s.followCC(key, norm(string(b)), v)
	}
	return nil
}

// followCC switches the calling thread's namespace's open connections
// from from to to. A failure leaves them as they were and is logged: the
// sysctl itself was written, and new connections follow it.
func (s *Stage) followCC(key, from, to string) {
	from, to = norm(from), norm(to)
	if from == to || from == "" || to == "" {
		return
	}
	c, err := s.cfg.OpenConns.Switch(from, to)
	if err != nil {
		s.cfg.Logger.Warn("open TCP connections keep their congestion control", "knob", key, "from", from, "to", to, "err", err)
		return
	}
	s.cfg.Logger.Info("open TCP connections switched", "knob", key, "from", from, "to", to,
		"switched", c.Switched, "established", c.Seen, "failed", c.Failed)
}
