package source

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/ainka/ainka/internal/testenv"

	"github.com/VictoriaMetrics/metrics"
	"github.com/ainka/ainka/bpf"
	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/pipeline"
	"golang.org/x/sys/unix"
)

// needKernel skips unless this process can load eBPF on this kernel.
func needKernel(t testing.TB) {
	t.Helper()
	if err := bpf.Preflight(); err != nil {
		testenv.SkipUnlessVM(t, "real-kernel test skipped: %v", err)
	}
}

// collector is the stage after the source: it counts records per kind and
// keeps copies for inspection.
type collector struct {
	mu     sync.Mutex
	count  [record.NumKinds]uint64
	total  uint64
	recs   [][]byte
	keep   func(rec []byte) bool
	delay  time.Duration
	badLen int
}

func (c *collector) Process(in [][]byte, out []struct{}) []struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rec := range in {
		k := record.RecordKind(rec)
		if len(rec) != k.RecordSize() {
			c.badLen++
		}
		c.count[k]++
		c.total++
		if c.keep != nil && c.keep(rec) {
			c.recs = append(c.recs, append([]byte(nil), rec...))
		}
	}
	if c.delay > 0 {
		time.Sleep(c.delay)
	}
	return out
}

// capture runs l in a pipeline while work runs, then stops and returns
// what the collector saw.
func capture(t *testing.T, l *Live, c *collector, queueLen int, work func()) {
	t.Helper()
	captureWith(t, l, c, pipeline.Options{QueueLen: queueLen}, work)
}

// realTime is how the daemon runs the source with Config.KernelWait
// (realtime_priority): every stage on one SCHED_FIFO thread.
var realTime = pipeline.Options{RealTime: 10, Inline: true}

// captureWith is capture with the pipeline's options; a pipeline refused
// real-time priority skips the test.
func captureWith(t *testing.T, l *Live, c *collector, opts pipeline.Options, work func()) {
	t.Helper()
	if opts.RealTime > 0 && os.Geteuid() != 0 {
		t.Skip("SCHED_FIFO needs root (CAP_SYS_NICE)")
	}
	p := pipeline.New(opts)
	src := pipeline.AddSource[[]byte](p, "source", l)
	pipeline.AddStage[[]byte, struct{}](p, "collect", src, c)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	// Deferred, so that a t.Fatal inside work still stops the pipeline.
	defer func() {
		cancel()
		if err := <-done; errors.Is(err, pipeline.ErrRealTime) {
			t.Skipf("the kernel refused SCHED_FIFO here: %v", err)
		} else if err != nil {
			t.Errorf("pipeline: %v", err)
		}
		if c.badLen != 0 {
			t.Errorf("%d records of the wrong size for their kind", c.badLen)
		}
	}()
	time.Sleep(20 * time.Millisecond)
	work()
}

// checkExact asserts the accounting identities for every kind.
func checkExact(t *testing.T, l *Live, c *collector) Stats {
	t.Helper()
	s := l.Stats()
	for k := record.Kind(1); k < record.NumKinds; k++ {
		ks := s[k]
		if ks.Emitted != ks.Read+ks.Lost {
			t.Errorf("%s: emitted %d != read %d + lost %d", k, ks.Emitted, ks.Read, ks.Lost)
		}
		if ks.Read != c.count[k]+ks.Dropped {
			t.Errorf("%s: read %d != delivered %d + dropped %d", k, ks.Read, c.count[k], ks.Dropped)
		}
		if k <= record.KindBlockIO && ks.Seen != ks.Emitted+ks.Filtered {
			t.Errorf("%s: seen %d != emitted %d + filtered %d", k, ks.Seen, ks.Emitted, ks.Filtered)
		}
	}
	return s
}

func hdrPid(rec []byte) uint32 { return binary.LittleEndian.Uint32(rec[8:]) }

// Workloads, each producing one kind of event from this process.

func getpids(n int) {
	for range n {
		unix.Getpid()
	}
}

func touchPages(t *testing.T, pages int) {
	mem, err := unix.Mmap(-1, 0, pages*os.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(mem); i += os.Getpagesize() {
		mem[i] = 1
	}
	unix.Munmap(mem)
}

// directFile prepares a file read with O_DIRECT, so that every read is a
// block request to the disk under dir. It returns nil when dir's file
// system has no O_DIRECT (tmpfs, as in the VM).
func directFile(t *testing.T, dir string, blocks int) func() {
	const bs = 4096
	path := filepath.Join(dir, "blk")
	if err := os.WriteFile(path, make([]byte, bs*blocks), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fsync(mustOpen(t, path)); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECT, 0)
	if err != nil {
		t.Logf("no O_DIRECT under %s (%v): no block I/O workload", dir, err)
		return nil
	}
	t.Cleanup(func() { unix.Close(fd) })
	buf, err := unix.Mmap(-1, 0, bs, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS) // page-aligned
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(buf) })
	return func() {
		for i := range blocks {
			if _, err := unix.Pread(fd, buf, int64(i*bs)); err != nil {
				t.Error(err)
				return
			}
		}
	}
}

func mustOpen(t *testing.T, path string) int {
	fd, err := unix.Open(path, unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func runChild(t *testing.T) {
	if err := exec.Command("/bin/true").Run(); err != nil {
		t.Fatal(err)
	}
}

// TestLiveAllKinds drives each of the probe's kinds from this process and
// checks they arrive, that records make sense, and that the counters add up
// exactly once the source has stopped.
func TestLiveAllKinds(t *testing.T) {
	needKernel(t)
	set := metrics.NewSet()
	l, err := NewLive(Config{RingBytes: 4 << 20, Metrics: set, Policy: Policy{IncludeSelf: true}})
	if err != nil {
		t.Fatal(err)
	}
	if e := l.Explain(); e != "" {
		t.Errorf("kinds missing on this kernel:\n%s", e)
	}
	self := uint32(os.Getpid())
	c := &collector{keep: func(rec []byte) bool {
		k := record.RecordKind(rec)
		return hdrPid(rec) == self && k != record.KindSchedSwitch && k != record.KindSchedWakeup || k == record.KindHostSample || k == record.KindBlockIO
	}}
	blockReads := directFile(t, t.TempDir(), 16)
	capture(t, l, c, 64, func() {
		getpids(1000)
		touchPages(t, 64)
		testenv.UDPLoopback(t, 20)
		testenv.TCPLoopback(t, 20)
		if blockReads != nil {
			blockReads()
		}
		runChild(t)
		time.Sleep(120 * time.Millisecond) // one host sample at least
	})
	for _, k := range append(bpf.ProbeKinds, record.KindHostSample) {
		if c.count[k] == 0 && (k != record.KindBlockIO || blockReads != nil) {
			t.Errorf("no %s record", k)
		}
	}
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	var wantComm [16]byte
	copy(wantComm[:15], strings.TrimSpace(string(comm)))
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &st); err != nil {
		t.Fatal(err)
	}
	var sawGetpid, sawUserFault, sawLo, sawBlk, sawTCP bool
	for _, rec := range c.recs {
		switch record.RecordKind(rec) {
		case record.KindSyscall:
			if binary.LittleEndian.Uint32(rec[40:]) == unix.SYS_GETPID && int64(binary.LittleEndian.Uint64(rec[48:])) == int64(self) {
				sawGetpid = true
				if [16]byte(rec[24:40]) != wantComm {
					t.Errorf("comm %q, want %q", rec[24:40], wantComm)
				}
			}
		case record.KindPageFault:
			if binary.LittleEndian.Uint16(rec[22:])&1 != 0 {
				sawUserFault = true
			}
		case record.KindNetRx:
			if binary.LittleEndian.Uint32(rec[40:]) == 1 && binary.LittleEndian.Uint16(rec[48:]) == 0x0800 {
				sawLo = true // ifindex 1 = lo, ETH_P_IP
			}
		case record.KindTCP:
			var r record.TCP
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&r)), unsafe.Sizeof(r)), rec)
			if uint64(r.Netns) == st.Ino && r.Family == unix.AF_INET && r.Daddr[0] == 127 && r.SockCookie != 0 && r.SegsOut > 0 {
				sawTCP = true // one of our loopback connections, in our namespace
			}
		case record.KindBlockIO:
			if hdrPid(rec) == self && binary.LittleEndian.Uint32(rec[44:]) == 0 /* REQ_OP_READ */ &&
				binary.LittleEndian.Uint32(rec[56:]) == 8 && binary.LittleEndian.Uint64(rec[64:]) > 0 {
				sawBlk = true // a 4 KiB read of ours with a latency
			}
		}
	}
	if blockReads == nil {
		sawBlk = true // nothing to look for
	}
	if !sawGetpid || !sawUserFault || !sawLo || !sawBlk || !sawTCP {
		t.Errorf("getpid %v, user fault %v, IPv4 on lo %v, our O_DIRECT read %v, our TCP on lo %v", sawGetpid, sawUserFault, sawLo, sawBlk, sawTCP)
	}
	s := checkExact(t, l, c)
	for k := record.Kind(1); k < record.NumKinds; k++ {
		t.Logf("%-15s %+v delivered %d", k, s[k], c.count[k])
	}
	var sb strings.Builder
	set.WritePrometheus(&sb)
	for _, want := range []string{`ainka_bpf_emitted_total{kind="block_io"}`, `ainka_ringbuf_lost_total{kind="syscall"}`,
		`ainka_bpf_seen_total{kind="net_rx"}`, `ainka_source_dropped_total{kind="host_sample"}`} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestLiveDropsAreCounted makes the pipeline too slow so the source must
// drop, and checks the drops are counted per kind and still add up.
func TestLiveDropsAreCounted(t *testing.T) {
	needKernel(t)
	l, err := NewLive(Config{
		Policy:       Policy{Kinds: []record.Kind{record.KindSyscall}, Pid: uint32(os.Getpid()), IncludeSelf: true},
		BatchRecords: 16, RingBytes: 1 << 20, HostInterval: -1, ReadDeadline: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{delay: 20 * time.Millisecond}
	capture(t, l, c, 1, func() {
		for range 20 {
			getpids(500)
			time.Sleep(5 * time.Millisecond)
		}
	})
	s := checkExact(t, l, c)
	if s[record.KindSyscall].Dropped == 0 {
		t.Errorf("no drops counted with a 20 ms/batch stage: %+v", s[record.KindSyscall])
	}
	t.Logf("syscall %+v delivered %d", s[record.KindSyscall], c.count[record.KindSyscall])
}

// policyCase runs a getpid workload under a policy and returns the syscall
// records of this process and the stats.
func policyCase(t *testing.T, pol Policy, work func()) (*collector, Stats) {
	t.Helper()
	pol.Kinds = []record.Kind{record.KindSyscall, record.KindPageFault}
	l, err := NewLive(Config{Policy: pol, RingBytes: 4 << 20, HostInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	self := uint32(os.Getpid())
	c := &collector{keep: func(rec []byte) bool { return hdrPid(rec) == self }}
	capture(t, l, c, 64, work)
	return c, checkExact(t, l, c)
}

func TestPolicySelfExclusion(t *testing.T) {
	needKernel(t)
	c, s := policyCase(t, Policy{}, func() { getpids(2000); touchPages(t, 16) })
	if len(c.recs) != 0 {
		t.Errorf("%d records of this process despite self-exclusion", len(c.recs))
	}
	if s[record.KindSyscall].Filtered < 2000 {
		t.Errorf("syscall filtered %d, want >= 2000", s[record.KindSyscall].Filtered)
	}
}

func TestPolicyPidFilter(t *testing.T) {
	needKernel(t)
	self := uint32(os.Getpid())
	c, _ := policyCase(t, Policy{Pid: self, IncludeSelf: true}, func() { getpids(500) })
	if c.total != uint64(len(c.recs)) {
		t.Errorf("pid filter %d let %d records of other processes through", self, c.total-uint64(len(c.recs)))
	}
	if len(c.recs) < 500 {
		t.Errorf("%d records of this process, want >= 500", len(c.recs))
	}
	// Filter on init: nothing of ours.
	c, _ = policyCase(t, Policy{Pid: 1, IncludeSelf: true}, func() { getpids(500) })
	if len(c.recs) != 0 {
		t.Errorf("pid filter 1 let %d records of this process through", len(c.recs))
	}
}

func TestPolicySampling(t *testing.T) {
	needKernel(t)
	const n = 10
	c, s := policyCase(t, Policy{Pid: uint32(os.Getpid()), IncludeSelf: true,
		SampleEvery: map[record.Kind]uint32{record.KindSyscall: n}}, func() { getpids(20000) })
	// Each CPU emits the 1st, (n+1)th, ... event that passed the filters:
	// ceil(matched_cpu / n) per CPU.
	sys := s[record.KindSyscall]
	lo, hi := sys.Emitted*n-uint64(numCPU())*n, sys.Emitted*n
	if c.count[record.KindSyscall] != sys.Emitted-sys.Lost-sys.Dropped {
		t.Errorf("delivered %d, emitted %d", c.count[record.KindSyscall], sys.Emitted)
	}
	if sys.Emitted < 20000/n || sys.Emitted > 2*20000/n {
		t.Errorf("1-in-%d sampling of 20000 getpids emitted %d", n, sys.Emitted)
	}
	t.Logf("1-in-%d: emitted %d of %d seen (matched in [%d, %d])", n, sys.Emitted, sys.Seen, lo, hi)
}

func numCPU() int {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) == nil {
		return max(set.Count(), 1)
	}
	return 1
}

func TestPolicyMinLatency(t *testing.T) {
	needKernel(t)
	self := uint32(os.Getpid())
	c, _ := policyCase(t, Policy{Pid: self, IncludeSelf: true,
		MinLatency: map[record.Kind]time.Duration{record.KindSyscall: 5 * time.Millisecond}}, func() {
		getpids(1000)
		ts := unix.Timespec{Nsec: int64(20 * time.Millisecond)}
		unix.Nanosleep(&ts, nil)
	})
	var slept bool
	for _, rec := range c.recs {
		if record.RecordKind(rec) != record.KindSyscall {
			continue
		}
		lat := binary.LittleEndian.Uint64(rec[56:])
		if lat < uint64(5*time.Millisecond) {
			t.Errorf("syscall %d of %d ns passed a 5 ms filter", binary.LittleEndian.Uint32(rec[40:]), lat)
		}
		if binary.LittleEndian.Uint32(rec[40:]) == unix.SYS_NANOSLEEP {
			slept = true
		}
	}
	if !slept {
		t.Error("the 20 ms nanosleep was not recorded")
	}
}

// TestPolicyDisableAtRunTime turns page faults off while running: the
// probe still sees them but emits none.
func TestPolicyDisableAtRunTime(t *testing.T) {
	needKernel(t)
	self := uint32(os.Getpid())
	l, err := NewLive(Config{Policy: Policy{Kinds: []record.Kind{record.KindSyscall, record.KindPageFault}, Pid: self, IncludeSelf: true},
		RingBytes: 1 << 20, HostInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	var before, after Stats
	capture(t, l, c, 64, func() {
		if err := l.SetPolicy(Policy{Kinds: []record.Kind{record.KindSyscall}, Pid: self, IncludeSelf: true}); err != nil {
			t.Fatal(err)
		}
		before = l.Stats()
		touchPages(t, 256)
		after = l.Stats()
	})
	checkExact(t, l, c)
	pf0, pf1 := before[record.KindPageFault], after[record.KindPageFault]
	if pf1.Seen-pf0.Seen < 256 {
		t.Errorf("page faults seen while disabled: %d, want >= 256", pf1.Seen-pf0.Seen)
	}
	if pf1.Emitted != pf0.Emitted {
		t.Errorf("disabled page_fault still emitted %d", pf1.Emitted-pf0.Emitted)
	}
	if err := l.SetPolicy(Policy{Kinds: []record.Kind{record.KindNetRx}}); !errors.Is(err, ErrKindNotAttached) {
		t.Errorf("enabling an unattached kind: %v", err)
	}
}

func TestBadPolicies(t *testing.T) {
	for _, pol := range []Policy{
		{Kinds: []record.Kind{0}},
		{Kinds: []record.Kind{42}},
		{MinLatency: map[record.Kind]time.Duration{record.KindNetRx: time.Millisecond}},
		{MinLatency: map[record.Kind]time.Duration{record.KindSyscall: -time.Millisecond}},
		{SampleEvery: map[record.Kind]uint32{99: 2}},
	} {
		if _, err := NewLive(Config{Policy: pol}); !errors.Is(err, ErrBadPolicy) {
			t.Errorf("NewLive(%+v) = %v, want ErrBadPolicy", pol, err)
		}
	}
	if _, err := NewLive(Config{WakeupBytes: 1 << 30}); !errors.Is(err, ErrBadPolicy) {
		t.Errorf("wakeup threshold above the ring: %v", err)
	}
	if _, err := CgroupID("/proc"); err == nil {
		t.Error("CgroupID(/proc) accepted a non-cgroup path")
	}
	if _, err := CgroupID("/nonexistent"); err == nil {
		t.Error("CgroupID of a missing path")
	}
}
