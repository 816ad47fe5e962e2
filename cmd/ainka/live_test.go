package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/ainka/ainka/internal/testenv"

	"github.com/ainka/ainka/daemon"
	"golang.org/x/sys/unix"
)

// TestWorkloadHelper is not a test: run as a child process with
// AINKA_TEST_WORKLOAD set, it makes events of every eBPF kind (the parent
// cannot: the daemon never traces its own process).
func TestWorkloadHelper(t *testing.T) {
	dir := os.Getenv("AINKA_TEST_WORKLOAD")
	if dir == "" {
		t.Skip("helper process for TestRunLive")
	}
	deadline := time.Now().Add(4 * time.Second)
	// block_io: O_DIRECT reads of a file on a real disk.
	path := filepath.Join(dir, "blk.dat")
	os.WriteFile(path, bytes.Repeat([]byte{1}, 1<<20), 0o644)
	f, _ := os.Open(path)
	f.Sync()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECT, 0)
	if err != nil {
		t.Fatal(err)
	}
	buf, _ := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	// net_rx: UDP over loopback.
	rx, _ := net.ListenPacket("udp4", "127.0.0.1:0")
	tx, _ := net.Dial("udp4", rx.LocalAddr().String())
	go func() {
		b := make([]byte, 2048)
		for {
			if _, _, err := rx.ReadFrom(b); err != nil {
				return
			}
		}
	}()
	for i := 0; time.Now().Before(deadline); i++ {
		unix.Pread(fd, buf, int64(i%256)*4096)
		tx.Write(buf[:512])
		// page_fault: touch fresh anonymous pages.
		m, _ := unix.Mmap(-1, 0, 16<<12, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
		for p := 0; p < len(m); p += 4096 {
			m[p] = 1
		}
		unix.Munmap(m)
		// sched_switch / sched_wakeup: sleep and be woken.
		time.Sleep(200 * time.Microsecond)
	}
}

// TestRunLive is the data plane's live check: `ainka run --tap decode`
// while a mixed workload runs prints events of all six kinds, and per kind
// the kernel's emitted count equals decoded + lost in the ring + dropped by
// the pipeline, exactly.
func TestRunLive(t *testing.T) {
	testenv.RequireRoot(t, "load eBPF programs")
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skip("needs kernel BTF (/sys/kernel/btf/vmlinux)")
	}
	dir, err := os.MkdirTemp("/var/tmp", "ainka-live") // on a disk, not tmpfs
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	child := exec.CommandContext(context.Background(), os.Args[0], "-test.run=^TestWorkloadHelper$")
	child.Env = append(os.Environ(), "AINKA_TEST_WORKLOAD="+dir)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Wait()
	time.Sleep(300 * time.Millisecond)
	out, stderr, code := ainka("run", "--duration", "2s", "--tap", "decode")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	kinds := map[string]int{}
	dec := json.NewDecoder(bytes.NewReader([]byte(out)))
	for dec.More() {
		var ev struct {
			Kind string `json:"kind"`
			Ts   uint64 `json:"ts_ns"`
			Comm *string
		}
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("bad tap line: %v", err)
		}
		kinds[ev.Kind]++
	}
	for _, k := range []string{"syscall", "sched_switch", "sched_wakeup", "page_fault", "net_rx", "block_io"} {
		if kinds[k] == 0 {
			t.Errorf("no %s events in the decode tap (got %v)", k, kinds)
		}
	}
	t.Log(stderr)
	re := regexp.MustCompile(`(\w+) emitted=(\d+) decoded=(\d+) lost=(\d+) dropped=(\d+)`)
	m := re.FindAllStringSubmatch(stderr, -1)
	if len(m) < 6 {
		t.Fatalf("summary lacks per-kind accounting: %q", stderr)
	}
	for _, g := range m {
		n := func(i int) uint64 { v, _ := strconv.ParseUint(g[i], 10, 64); return v }
		if n(2) != n(3)+n(4)+n(5) {
			t.Errorf("%s: emitted %d != decoded %d + lost %d + dropped %d", g[1], n(2), n(3), n(4), n(5))
		}
	}
}

// TestRecordLive records a second of this host and replays the file:
// header, stats snapshots and every record make it through.
func TestRecordLive(t *testing.T) {
	testenv.RequireRoot(t, "load eBPF programs")
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skip("needs kernel BTF (/sys/kernel/btf/vmlinux)")
	}
	path := filepath.Join(t.TempDir(), "live.trace")
	_, stderr, code := ainka("record", "-o", path, "--duration", "1s", "--kinds", "syscall,sched_switch,host_sample", "--sample", "syscall=4", "--note", "test")
	if code != 0 || !regexp.MustCompile(`^record: \d+ records, \d+ bytes to `).MatchString(stderr) {
		t.Fatalf("record: exit %d: %q", code, stderr)
	}
	out, stderr, code := ainka("trace", "info", path)
	if code != 0 {
		t.Fatalf("trace info: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"note:            test", "syscall (1 in 4)", "page_fault (off)", "emitted"} {
		if !bytes.Contains([]byte(out), []byte(want)) {
			t.Errorf("trace info lacks %q:\n%s", want, out)
		}
	}
	n := daemon.CountRecords(path)
	_, stderr, code = ainka("replay", path)
	if code != 0 || !bytes.Contains([]byte(stderr), []byte("replay: "+strconv.FormatUint(n, 10)+" events")) || n < 10 {
		t.Fatalf("replay of %d records: exit %d: %q", n, code, stderr)
	}
}
