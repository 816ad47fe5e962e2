package actuate

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decide/action"
)

// schedTarget moves a SCHED_OTHER process down to batch or idle with its
// nice kept, back towards its original, and refuses real-time tasks, a
// policy chosen before AINKA, and any move above the original.
func TestSchedTarget(t *testing.T) {
	for _, c := range []struct {
		act, cur, floor, want string
		err                   error
	}{
		{"sched pid:2 = idle", "other 0", "other 0", "idle 0", nil},
		{"sched pid:2 = batch", "other 7", "other 7", "batch 7", nil},
		{"sched pid:2 = batch", "idle 0", "other 0", "batch 0", nil}, // AINKA's idle back towards other
		{"sched pid:2 = idle", "fifo 0", "fifo 0", "", errRealtime},
		{"sched pid:2 = idle", "deadline 0", "deadline 0", "", errRealtime},
		{"sched pid:2 = idle", "policy7 0", "policy7 0", "", errRealtime},
		{"sched pid:2 = idle", "batch 0", "batch 0", "", errPolicySet}, // someone chose batch
		{"sched pid:2 = batch", "idle 0", "idle 0", "", errPolicySet},
	} {
		a, err := action.Parse(c.act)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := schedTarget(a, c.cur, c.floor)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s from %s (original %s): %q, %v; want %v", c.act, c.cur, c.floor, got, err, c.err)
			}
		} else if err != nil || got != c.want {
			t.Errorf("%s from %s (original %s): %q, %v; want %s", c.act, c.cur, c.floor, got, err, c.want)
		}
	}
	for _, v := range []string{"", "idle", "idle x", "idle 0 1", "idle 20", "turbo 0"} {
		if _, _, err := parseSchedValue(v); err == nil {
			t.Errorf("parseSchedValue(%q) accepted", v)
		}
	}
}

func procSched(pid int) string {
	pi, err := readStat("/proc", pid)
	if err != nil {
		return err.Error()
	}
	return schedPolicyNames[pi.policy] + " " + strconv.Itoa(pi.nice)
}

// startProc starts args and waits until its scheduling reads want (nice
// and chrt set it, then exec the command).
func startProc(t *testing.T, want string, args ...string) int {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	if err := cmd.Start(); err != nil {
		t.Skipf("start %v: %v", args, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := cmd.Process.Pid
	for deadline := time.Now().Add(5 * time.Second); procSched(pid) != want; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%v: scheduling %q, not %q", args, procSched(pid), want)
		}
	}
	return pid
}

// startNiced starts `sleep 60` at the absolute nice value nice: nice(1)
// adds to the test's own nice, which is not 0 under `nice -n 10 make
// test`, so the value is set on the child itself (root may lower it).
func startNiced(t *testing.T, nice int) int {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skipf("start sleep: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if err := unix.Setpriority(unix.PRIO_PROCESS, cmd.Process.Pid, nice); err != nil {
		t.Fatalf("set the child's nice to %d: %v", nice, err)
	}
	return cmd.Process.Pid
}

// On real processes: idle and batch with the nice kept, journaled as
// "POLICY NICE", restored on revert and by the next start after a crash;
// a real-time task and a task someone put at SCHED_BATCH are refused; an
// outside change after AINKA's is yielded; dry-run says what it would do.
func TestHostSched(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("chrt"); err != nil {
		t.Skip("needs chrt (util-linux)")
	}
	own := procSched(os.Getpid())
	if !strings.HasPrefix(own, "other ") {
		t.Skipf("the test runs as %s, not SCHED_OTHER", own)
	}
	nice := strings.TrimPrefix(own, "other ")
	plain := startNiced(t, 5)
	rt := startProc(t, "fifo "+nice, "chrt", "--fifo", "1", "sleep", "60")
	batch := startProc(t, "batch "+nice, "chrt", "--batch", "0", "sleep", "60")
	journal := filepath.Join(t.TempDir(), "j")
	s, err := New(Config{JournalPath: journal, KnobInterval: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sel := "sched pid:" + strconv.Itoa(plain)
	if r := one(t, s, sel+" = idle"); r.Status != Applied || r.Old != "other 5" || procSched(plain) != "idle 5" {
		t.Fatalf("= idle: %s %s %s -> %s, now %s", r.Status, r.Err, r.Old, r.New, procSched(plain))
	}
	if r := one(t, s, sel+" = batch"); r.Status != Applied || procSched(plain) != "batch 5" {
		t.Errorf("idle -> batch (towards the original): %s %s, now %s", r.Status, r.Err, procSched(plain))
	}
	for _, pid := range []int{rt, batch} {
		r := one(t, s, "sched pid:"+strconv.Itoa(pid)+" = idle")
		if r.Status != Rejected || procSched(pid) == "idle "+nice {
			t.Errorf("pid %d (%s before): %s %s", pid, r.Old, r.Status, r.Err)
		}
	}
	s.Process([]decide.Decision{{Kind: decide.Revert, Policy: "test", Action: dec(t, sel+" = idle").Action}}, nil)
	if got := procSched(plain); got != "other 5" {
		t.Errorf("revert: %s, want other 5", got)
	}
	// A crash with the process at idle: the next start restores both.
	one(t, s, sel+" = idle")
	s.j.Close()
	s2, err := New(Config{JournalPath: journal, KnobInterval: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if got := procSched(plain); got != "other 5" {
		t.Errorf("after a crash and a start: %s, want other 5", got)
	}
	// Someone renices the process after AINKA set it idle: AINKA yields.
	one(t, s2, sel+" = idle")
	if err := exec.Command("renice", "-n", "7", "-p", strconv.Itoa(plain)).Run(); err != nil {
		t.Fatal(err)
	}
	out := s2.Process([]decide.Decision{dec(t, sel+" = batch")}, nil) // the audit may yield first
	if r := out[len(out)-1]; r.Status != Yielded || procSched(plain) != "idle 7" {
		t.Errorf("after an outside renice: %s %s, now %s", r.Status, r.Err, procSched(plain))
	}
	s2.Close()
	if got := procSched(plain); got != "idle 7" {
		t.Errorf("a yielded knob was restored at exit: %s", got)
	}
	dry, err := New(Config{DryRun: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer dry.Close()
	exec.Command("chrt", "--other", "-p", "0", strconv.Itoa(plain)).Run()
	if r := one(t, dry, sel+" = idle"); r.Status != DryRun || r.New != "idle 7" || procSched(plain) != "other 7" {
		t.Errorf("dry run: %s %s -> %s, now %s", r.Status, r.Old, r.New, procSched(plain))
	}
}
