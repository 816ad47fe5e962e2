package actuate

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/ainka/ainka/internal/netns"
	"github.com/ainka/ainka/stages/decide/action"
)

// A network namespace's sysctls (net.ipv4.*: tcp_congestion_control,
// tcp_rmem, ...) are its own: /proc/sys/net shows the copy of the
// namespace of the thread that opens it. So a knob of another namespace
// is read and written by a thread that enters the namespace (setns) for
// the open (internal/netns).

// netnsKnob is sysctl name inside the namespace of inode ino. The
// namespace is looked up at every read and write: one deleted since
// leaves nothing to restore (errGone).
func (s *Stage) netnsKnob(key string, ino uint64, name string) *knob {
	p := s.sysctlPath(name)
	k := &knob{key: key, typ: "file", path: p, desc: fmt.Sprintf("%s in network namespace %d", p, ino)}
	k.read = func() (string, error) {
		var v string
		err := s.inNetns(ino, func() error {
			b, err := os.ReadFile(p)
			v = norm(string(b))
			return err
		})
		return v, err
	}
	k.write = func(v string) error {
		return s.inNetns(ino, func() error {
			if name == ccSysctl && s.cfg.OpenConns != nil {
				return s.writeCC(key, p, v)
			}
			return os.WriteFile(p, []byte(v), 0)
		})
	}
	k.cmd = func(v string) string {
		ns, err := s.netnsPath(ino)
		if err != nil {
			ns = fmt.Sprintf("<netns %d>", ino)
		}
		return fmt.Sprintf("nsenter --net=%s sysctl -w %s=%s", shellQuote(ns), name, shellQuote(v))
	}
	return k
}

// inNetns runs f on a thread inside the namespace of inode ino
// (internal/netns); a namespace gone since is errGone.
func (s *Stage) inNetns(ino uint64, f func() error) error {
	err := s.netnsDirs().Do(ino, f)
	if errors.Is(err, netns.ErrNotFound) || errors.Is(err, netns.ErrGone) {
		return fmt.Errorf("%w: %v", errGone, err)
	}
	return err
}

func (s *Stage) netnsDirs() netns.Dirs { return netns.Dirs{RunNetns: s.cfg.RunNetns, Proc: s.cfg.Proc} }

func (s *Stage) netnsPath(ino uint64) (string, error) { return s.netnsDirs().Path(ino) }

// planNetnsSysctl plans a sysctl inside a network namespace. Couplings
// are checked against the host's values, which are the global ones
// (net.core.rmem_max has no copy per namespace).
func (s *Stage) planNetnsSysctl(a action.Action, ino uint64) ([]plan, error) {
	spec := action.Sysctls[a.Target]
	spec.Name = a.Target
	if _, err := s.netnsPath(ino); err != nil {
		return nil, fmt.Errorf("%w: sysctl %s: %v", errUnsupported, a.Target, err)
	}
	return []plan{{s.netnsKnob(a.Key(), ino, a.Target), s.sysctlTarget(a, spec)}}, nil
}

// netnsKnobForKey rebuilds "sysctl:netns:INODE:NAME" from the journal.
func (s *Stage) netnsKnobForKey(key, rest string) (*knob, error) {
	ns, name, _ := strings.Cut(strings.TrimPrefix(rest, action.NetnsPrefix), ":")
	ino, err := strconv.ParseUint(ns, 10, 32)
	if err != nil || ino == 0 || !action.PerNetns(name) {
		return nil, fmt.Errorf("%w: sysctl %q in a network namespace", errNotAllowed, rest)
	}
	return s.netnsKnob(key, ino, name), nil
}
