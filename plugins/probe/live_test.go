package probe_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf/ringbuf"

	"github.com/ainka/ainka/bpf"
	"github.com/ainka/ainka/plugins/probe"
	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/stages/source"
)

// loadLive loads and attaches example probe plugin name as kind k, with a
// reader of its ring; both are closed when the test ends.
func loadLive(t *testing.T, name string, k uint16) (*probe.Plugin, *probe.Loaded, *ringbuf.Reader) {
	t.Helper()
	if err := bpf.Preflight(); err != nil {
		t.Skipf("live eBPF test: %v", err)
	}
	if err := source.EnsureTracefs(); err != nil {
		t.Fatal(err)
	}
	p, err := probe.Open("../../examples/plugins/probes/"+name, k, "")
	if err != nil {
		t.Fatal(err)
	}
	l, err := p.Load(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	rd, err := ringbuf.NewReader(l.Events())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	return p, l, rd
}

// readRing returns the records the ring holds within 2 s, each checked
// to be of the plugin's kind and size.
func readRing(t *testing.T, rd *ringbuf.Reader, p *probe.Plugin) [][]byte {
	t.Helper()
	var out [][]byte
	rd.SetDeadline(time.Now().Add(2 * time.Second))
	for {
		rec, err := rd.Read()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b := rec.RawSample
		if len(b) != p.Kind.Size || binary.LittleEndian.Uint16(b[20:]) != p.Kind.Kind {
			t.Fatalf("record of %d bytes, kind %d", len(b), binary.LittleEndian.Uint16(b[20:]))
		}
		out = append(out, b)
	}
}

// TestLiveSignals loads the declarative example on this kernel: the
// generic program on signal:signal_generate. Signals sent to a child
// process must come back as records of the plugin's kind with the
// signal's number, the target and the result, counted exactly.
func TestLiveSignals(t *testing.T) {
	p, l, rd := loadLive(t, "signals", spec.KindBase+1)

	// SIGCONT to a running process is generated (and ignored) without
	// changing anything.
	proc, err := os.StartProcess("/bin/sleep", []string{"sleep", "30"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Kill()
	// Signals the test sends itself are the daemon's own (filtered):
	// a shell sends n, and the test one more.
	const n = 50
	sh := exec.Command("/bin/sh", "-c", fmt.Sprintf("i=0; while [ $i -lt %d ]; do kill -CONT %d; i=$((i+1)); done", n, proc.Pid))
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if err := proc.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, b := range readRing(t, rd, p) {
		sig, result, pid := p.Kind.Fields[0].Value(b), p.Kind.Fields[1].Value(b), p.Kind.Fields[2].Value(b)
		// result: 0 delivered, 1 ignored (SIGCONT's default action).
		if pid == float64(proc.Pid) && sig == float64(syscall.SIGCONT) && (result == 0 || result == 1) {
			got++
		}
		if binary.LittleEndian.Uint32(b[8:]) == uint32(os.Getpid()) {
			t.Fatalf("a record of the test itself (the daemon's own thread group): %x", b)
		}
	}
	if got != n {
		t.Fatalf("%d SIGCONT records for pid %d, want %d", got, proc.Pid, n)
	}
	if err := l.Detach(); err != nil {
		t.Fatal(err)
	}
	st, err := l.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Seen != st.Emitted+st.Filtered || st.Filtered < 1 || st.Emitted < n || st.Lost != 0 {
		t.Fatalf("stats %+v: want seen = emitted + filtered, the test's own signal filtered, %d emitted, none lost", st, n)
	}
}

// TestLiveProclife loads the CO-RE example: its object is checked,
// loaded with its kind set, and attached to tp_btf/sched_process_exit.
// Processes that exit (one killed by SIGKILL) come back as records with
// their lifetime and exit signal.
func TestLiveProclife(t *testing.T) {
	p, l, rd := loadLive(t, "proclife", spec.KindBase+2)
	const n = 20
	pids := map[float64]bool{}
	for i := 0; i < n; i++ {
		c := exec.Command("/bin/true")
		if err := c.Run(); err != nil {
			t.Fatal(err)
		}
		pids[float64(c.Process.Pid)] = true
	}
	killed := exec.Command("/bin/sleep", "30")
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	killed.Process.Kill()
	killed.Wait()
	lifetime, code, sig := p.Kind.Fields[0], p.Kind.Fields[1], p.Kind.Fields[2]
	exited, gotKill := 0, false
	for _, b := range readRing(t, rd, p) {
		pid := float64(binary.LittleEndian.Uint32(b[8:]))
		switch {
		case pids[pid]:
			if lifetime.Value(b) <= 0 || lifetime.Value(b) > 10e9 || code.Value(b) != 0 || sig.Value(b) != 0 {
				t.Errorf("/bin/true %v: lifetime %v ns, exit code %v, signal %v", pid, lifetime.Value(b), code.Value(b), sig.Value(b))
			}
			exited++
		case pid == float64(killed.Process.Pid):
			gotKill = sig.Value(b) == float64(syscall.SIGKILL) && lifetime.Value(b) >= 50e6
		}
	}
	if exited != n || !gotKill {
		t.Fatalf("%d of %d exits recorded, the SIGKILLed sleep recorded right: %v", exited, n, gotKill)
	}
	st, err := l.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Seen != st.Emitted+st.Filtered || st.Emitted < n+1 || st.Lost != 0 {
		t.Fatalf("stats %+v", st)
	}
}
