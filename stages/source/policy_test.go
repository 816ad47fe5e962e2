package source

import (
	"encoding/binary"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/ainka/ainka/bpf/record"
	"golang.org/x/sys/unix"
)

// TestBudgetPolicy: adaptive sampling reaches policies_map for the kinds
// whose consumers read weights, with its period, and nowhere else.
func TestBudgetPolicy(t *testing.T) {
	attached := []record.Kind{record.KindSyscall, record.KindSchedSwitch, record.KindPageFault, record.KindBlockIO}
	kp, err := kernelPolicy(Policy{Budget: DefaultBudget}, attached, 0)
	if err != nil {
		t.Fatal(err)
	}
	if kp.Kind[record.KindSyscall].Budget == 0 || kp.Kind[record.KindPageFault].Budget == 0 {
		t.Errorf("default budget not set: %+v", kp.Kind)
	}
	if kp.Kind[record.KindSchedSwitch].Budget != 0 || kp.Kind[record.KindBlockIO].Budget != 0 {
		t.Errorf("sched_switch or block_io sampled adaptively: %+v", kp.Kind)
	}
	if kp.RatePeriodNs != uint64(DefaultRatePeriod) {
		t.Errorf("rate period %d ns, want %d", kp.RatePeriodNs, DefaultRatePeriod)
	}
	kinds := TraceKinds(kp, false)
	if kc := kinds[record.KindSyscall-1]; kc.Budget != DefaultBudget[record.KindSyscall] || kc.BudgetPeriodNs != kp.RatePeriodNs {
		t.Errorf("trace header for syscall: %+v", kc)
	}
	kp, err = kernelPolicy(Policy{}, attached, 0)
	if err != nil || kp.Kind[record.KindSyscall].Budget != 0 {
		t.Errorf("no budget asked: %+v, %v", kp.Kind[record.KindSyscall], err)
	}
	for _, p := range []Policy{
		{Budget: map[record.Kind]uint32{record.KindSchedSwitch: 10}},
		{Budget: map[record.Kind]uint32{record.KindBlockIO: 10}},
		{Budget: map[record.Kind]uint32{0: 10}},
		{RatePeriod: -time.Millisecond},
	} {
		if _, err := kernelPolicy(p, attached, 0); !errors.Is(err, ErrBadPolicy) {
			t.Errorf("kernelPolicy(%+v) = %v, want ErrBadPolicy", p, err)
		}
	}
}

// TestPolicyAdaptiveSampling: with a budget, a hot kind's records stay
// about budget per CPU per period however many events there are, their
// weights add up to the events, and the accounting stays exact.
func TestPolicyAdaptiveSampling(t *testing.T) {
	needKernel(t)
	const (
		budget = 5
		period = 10 * time.Millisecond
		calls  = 200000
		pages  = 4096
	)
	self := uint32(os.Getpid())
	pol := Policy{Pid: self, IncludeSelf: true, RatePeriod: period,
		Budget: map[record.Kind]uint32{record.KindSyscall: budget, record.KindPageFault: budget}}
	var took time.Duration
	c, s := policyCase(t, pol, func() {
		start := time.Now()
		getpids(calls)
		touchSmallPages(t, pages)
		took = time.Since(start)
	})
	var getpid, getpidRecs, faults, faultRecs uint64
	for _, rec := range c.recs {
		w := record.Weight(binary.LittleEndian.Uint16(rec[22:]))
		switch record.RecordKind(rec) {
		case record.KindSyscall:
			if binary.LittleEndian.Uint32(rec[40:]) == unix.SYS_GETPID {
				getpid += w
				getpidRecs++
			}
		case record.KindPageFault:
			faults += w
			faultRecs++
		}
	}
	t.Logf("%d getpids in %s: %d records weigh %d; %d page-fault records weigh %d (%d pages touched); syscall seen %d emitted %d",
		calls, took, getpidRecs, getpid, faultRecs, faults, pages, s[record.KindSyscall].Seen, s[record.KindSyscall].Emitted)
	if getpid < calls*7/10 || getpid > calls*13/10 {
		t.Errorf("getpid records weigh %d, want %d ± 30%%", getpid, calls)
	}
	if faults < pages*7/10 {
		t.Errorf("page-fault records weigh %d, want at least %d (pages touched)", faults, pages*7/10)
	}
	// At most twice the budget per period and CPU (a period that outgrows
	// its weight doubles it), plus the first period of each CPU at weight 1.
	periods := uint64(took/period) + 2
	limit := 2*budget*uint64(numCPU())*periods + 2*budget*uint64(numCPU())
	if e := s[record.KindSyscall].Emitted; e > limit || e > calls/10 {
		t.Errorf("syscall records %d for %d calls in %s: want at most %d", e, calls, took, limit)
	}
}

// touchSmallPages faults pages in one 4 KiB page at a time: without
// MADV_NOHUGEPAGE a kernel with transparent huge pages "always" (Debian's
// 6.1 in the VM) maps the region in 2 MiB pages, a few faults in all.
func touchSmallPages(t *testing.T, pages int) {
	mem, err := unix.Mmap(-1, 0, pages*os.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	if err := unix.Madvise(mem, unix.MADV_NOHUGEPAGE); err != nil {
		t.Logf("madvise(MADV_NOHUGEPAGE): %v", err)
	}
	for i := 0; i < len(mem); i += os.Getpagesize() {
		mem[i] = 1
	}
}
