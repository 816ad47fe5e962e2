package actuate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/stages/decide/action"
)

// The scheduling policies of sched(7) by number, as /proc/PID/stat's
// field 41 and sched_setattr(2) write them.
var schedPolicyNames = map[int]string{0: "other", 1: "fifo", 2: "rr", 3: "batch", 5: "idle", 6: "deadline"}

func schedPolicyNumber(name string) (int, bool) {
	for n, s := range schedPolicyNames {
		if s == name {
			return n, true
		}
	}
	return 0, false
}

// Errors of sched plans.
var (
	errRealtime  = errors.New("AINKA never touches real-time or deadline tasks")
	errPolicySet = errors.New("scheduling policy chosen before AINKA")
)

// schedValue is a sched knob's value: the policy and the nice, "idle 0".
// The nice travels with the policy so that the journal keeps both as they
// were, and a restore (at exit, or after a crash) puts both back.
func schedValue(policy string, nice int) string { return policy + " " + strconv.Itoa(nice) }

func parseSchedValue(v string) (string, int, error) {
	f := strings.Fields(v)
	if len(f) != 2 {
		return "", 0, fmt.Errorf("sched value %q: want \"POLICY NICE\"", v)
	}
	n, err := strconv.Atoi(f[1])
	if _, ok := schedPolicyNumber(f[0]); !ok || err != nil || n < -20 || n > 19 {
		return "", 0, fmt.Errorf("sched value %q: want \"POLICY NICE\" (other, batch, idle; nice -20..19)", v)
	}
	return f[0], n, nil
}

// schedKnob is one process's scheduling policy and nice, reached by pid
// and start time like nice and ioprio.
func schedKnob(proc string, pid int, start uint64, comm string) *knob {
	id := fmt.Sprintf("%d:%d", pid, start)
	k := &knob{key: "sched:" + id, typ: "sched", path: id, desc: fmt.Sprintf("pid %d (%s)", pid, comm)}
	k.read = func() (string, error) {
		pi, err := readStat(proc, pid)
		if err != nil || pi.start != start {
			return "", fmt.Errorf("%w: pid %d exited", errGone, pid)
		}
		name, ok := schedPolicyNames[pi.policy]
		if !ok {
			name = "policy" + strconv.Itoa(pi.policy)
		}
		return schedValue(name, pi.nice), nil
	}
	k.write = func(v string) error {
		pol, nice, err := parseSchedValue(v)
		if err != nil {
			return err
		}
		n, _ := schedPolicyNumber(pol)
		if action.SchedRank(pol) < 0 {
			return fmt.Errorf("sched %s: %w", pol, errRealtime)
		}
		if pi, err := readStat(proc, pid); err != nil || pi.start != start {
			return fmt.Errorf("%w: pid %d exited", errGone, pid)
		}
		for _, tid := range tasks(proc, pid) {
			if err := schedSetattr(tid, n, nice); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("sched_setattr(%d, %s, nice %d): %w", tid, pol, nice, err)
			}
		}
		return nil
	}
	k.cmd = func(v string) string {
		pol, nice, err := parseSchedValue(v)
		if err != nil {
			return "# sched: " + err.Error()
		}
		return fmt.Sprintf("chrt -a --%s -p 0 %d && renice -n %d -p %d", pol, pid, nice, pid)
	}
	return k
}

// schedSetattr sets a thread's normal-class policy and nice in one call
// (sched_setscheduler would keep the nice; the restore must set both).
func schedSetattr(tid, policy, nice int) error {
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: uint32(policy), Nice: int32(nice)}
	_, _, e := unix.Syscall(unix.SYS_SCHED_SETATTR, uintptr(tid), uintptr(unsafe.Pointer(&attr)), 0)
	if e != 0 {
		return e
	}
	return nil
}

// schedTarget plans a sched change: the action's policy with the nice the
// process has. It refuses real-time and deadline tasks, a task whose
// policy was not SCHED_OTHER before AINKA (floor: the journal's original,
// else the current value; someone chose that policy), and any move up
// the list other > batch > idle from the original (a higher priority).
// Going back down towards the original, as the CPU tuner does between
// trials, stays allowed.
func schedTarget(a action.Action, cur, floor string) (string, string, error) {
	pol, nice, err := parseSchedValue(cur)
	if err != nil {
		if f := strings.Fields(cur); len(f) == 2 && action.SchedRank(f[0]) < 0 {
			return "", "", fmt.Errorf("policy %s: %w", f[0], errRealtime)
		}
		return "", "", err
	}
	if action.SchedRank(pol) < 0 {
		return "", "", fmt.Errorf("policy %s: %w", pol, errRealtime)
	}
	fpol, _, err := parseSchedValue(floor)
	if err != nil {
		return "", "", err
	}
	if action.SchedRank(fpol) != 0 {
		return "", "", fmt.Errorf("%w: the process ran %s before AINKA changed anything; AINKA leaves it alone", errPolicySet, fpol)
	}
	if action.SchedRank(a.Value) < action.SchedRank(fpol) {
		return "", "", fmt.Errorf("%w: sched %s is above the process's own %s", errRaisesPriority, a.Value, fpol)
	}
	return schedValue(a.Value, nice), "", nil
}
