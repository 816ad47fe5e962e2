package tune

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ainka/ainka/stages/decide/action"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/features"
)

// cpuFamily lowers the CPU priority of discovered batch hogs when
// latency-sensitive tasks wait to run: their scheduling policy (SCHED_IDLE,
// SCHED_BATCH) or their nice. It never raises anyone's priority: every
// setting is below the hogs' own (actuate refuses anything else, and
// never touches real-time tasks or a policy someone else chose).
//
// The target is a batch job, not one process: every batch task of the
// command that holds the most CPU in all (stress-ng's four workers, a
// build's compilers), because lowering one worker of four leaves the
// other three where they were and changes nothing the latency tasks feel.
//
// Objective: the latency-sensitive tasks' longest run-queue wait in each
// window (about their p99 at 1000 runs/s), the mean over their runs,
// negated (higher is better). It was their mean wait, and with one 2 s
// trial per setting the bench's cpu-contention kept nice 10, whose
// cyclictest p99 was 2.8× SCHED_IDLE's (docs/bench-history.md): a mean over
// thousands of short waits hides the few long ones p99 is made of.
type cpuFamily struct{}

func (cpuFamily) name() string      { return "cpu" }
func (cpuFamily) sticky()           {}
func (cpuFamily) objective() string { return "latency tasks' longest run-queue wait" }

// yield ranks the settings by how much CPU the job gives up, by its CFS
// weight: SCHED_IDLE (3) > nice 19 (15) > nice 10 (110) > SCHED_BATCH
// (1024, the original's weight: it only stops the job's own wake-ups
// from preempting). Among settings whose gains are within noise of the
// best, the one that yields most is kept (tuner.choose): measurements
// cannot tell them apart, and the more the job yields, the less a
// latency task's next burst waits.
func (cpuFamily) yield(value string) int {
	switch value {
	case "idle":
		return 4
	case "19":
		return 3
	case "10":
		return 2
	case "batch":
		return 1
	}
	return 0
}

// minRunqUs: below this mean wait nobody suffers enough to act.
const minRunqUs = 50

// knownWarm is the warm-up (windows) a batch job needs when the current
// regime has a best setting for it: its class was established in the
// trials that found that setting, and the setting is worth most if it is
// back in place at once.
const knownWarm = 3

// minJobShare: a batch job using less CPU than this in all (half a CPU)
// does not make anyone wait much; it is not worth a trial.
const minJobShare = 0.5

// memberNs: a job's tasks are those of its command seen this recently.
const memberNs = 1e9

// reclaimFaults: under memory pressure (PSI memory some ≥ minPSIMemPct),
// a task faulting this often is memory-bound, not CPU-bound, and is no
// CPU target: lowering its priority stretches the reclaim it does while
// holding the memory cgroup's and the LRU's locks, which the protected
// tasks then wait on. A clean-clone CI run of the bench's memory-pressure
// scenario put its growing hog at SCHED_BATCH/IDLE (the latency tasks'
// mean run-queue wait moved ±50 %) while the toucher's p99 fault latency
// went 0.61× untuned. Its pressure belongs to the memory tuner.
const reclaimFaults = 1000

func (f cpuFamily) find(s *Stage, now uint64) (target, bool) {
	var tg target
	job, share, suffer := f.bestJob(s, now, true)
	if job == nil {
		return tg, false
	}
	comm := job.comm
	tg.key, tg.class, tg.share = "cpu/"+decode.CommString(&comm)+"/batch", Batch, share
	if _, known := s.best(s.reg.cur, tg.key); !suffer && !known {
		return tg, false
	}
	var top *taskEnt
	for i := 0; i < s.tr.nTasks && tg.npids < len(tg.pids); i++ {
		e := &s.tr.tasks[i]
		if e.comm != comm || !f.member(s, e, now) {
			continue
		}
		tg.pids[tg.npids] = e.pid
		tg.npids++
		if top == nil || e.cpuShare > top.cpuShare {
			top = e
		}
	}
	_, raw := classifyTaskRaw(top)
	tg.conf = raw * warm(top.windows, 10)
	slices.Sort(tg.pids[:tg.npids])
	tg.pid = tg.pids[0]
	tg.sel = pidSelector(tg.pids[:tg.npids])
	tg.why = fmt.Sprintf("%d tasks, %.2f CPU in all; the busiest: %s", tg.npids, share, explainTask(top))
	if s.cfg.CPU == Act {
		// Only acting needs the live values; advice (and replays) never
		// read the host, so they stay deterministic.
		n, err := s.original(tg.sel, func() (int, error) { return maxNice(s.cfg.Nice, tg.pids[:tg.npids]) })
		if err != nil {
			return target{}, false
		}
		tg.orig = n
	}
	return tg, true
}

// bestJob is a task of the batch job (its command's batch tasks) with the
// most CPU in all, at least minJobShare, of which one task at least is
// confidently batch (or warm enough, for a job the current regime has a
// best setting for); and whether a latency-sensitive task suffers.
//
// With preferKnown (choosing a target), a job the current regime has a
// best setting for goes before bigger jobs it has none for: its setting
// is one write, at once, and a trial on the other would keep the tuner
// (one target at a time) from it. A busy-host bench run (2026-11-29
// 00:14, session 8) began a trial on another session's compile 0.2 s
// after the hogs started, their moving averages still low, and applied
// the hogs' known SCHED_IDLE 3.8 s after their start instead of 0.4 s.
func (f cpuFamily) bestJob(s *Stage, now uint64, preferKnown bool) (job *taskEnt, share float64, suffer bool) {
	share = minJobShare
	known := false
	for i := 0; i < s.tr.nTasks; i++ {
		e := &s.tr.tasks[i]
		if now-e.lastNs > 2*s.windowNs || e.pid <= 1 {
			continue
		}
		c, raw := classifyTaskRaw(e)
		conf := raw * warm(e.windows, 10)
		switch {
		case c == Latency && conf >= minConfidence && e.runqUs >= minRunqUs:
			suffer = true
		case c == Batch && f.confident(s, e, conf, now) && (job == nil || e.comm != job.comm):
			sh := f.jobShare(s, e, now)
			if sh < minJobShare {
				continue
			}
			k := false
			if preferKnown {
				_, k = s.best(s.reg.cur, "cpu/"+decode.CommString(&e.comm)+"/batch")
			}
			if job == nil || k && !known || k == known && sh >= share {
				job, share, known = e, sh, k
			}
		}
	}
	return job, share, suffer
}

// member: a task the tuner may act on as part of a job: batch by its
// features (the warm-up is the job's, not each worker's: the busiest
// workers of a job crowd each other out of a window's task table, and
// each enters it only now and then), seen within memberNs.
//
// A task that streams data from storage (Config.Streamer) is none: with
// a large readahead its pages are ready when it asks, so it runs like a
// CPU hog (the bench's readahead reader at read_ahead_kb 8192: 0.54 CPU,
// 97 % of its switches preemptions, 7 wakeups/s) and ioBound does not
// see it; but its CPU is the copying of what it reads, and at SCHED_IDLE
// the throughput its readahead won goes (a live bench run proposed
// "sched pid:3746 = idle: cpu/fio/batch").
func (cpuFamily) member(s *Stage, e *taskEnt, now uint64) bool {
	if now-e.lastNs > memberNs || e.windows < 2 || s.settled(e.pid) || !s.mayTarget(e) || inReclaim(s, e) || ioBound(s, e) {
		return false
	}
	c, _ := classifyTaskRaw(e)
	return c == Batch && !s.streaming(e)
}

// inReclaim: a task faulting like a memory hog while the host is under
// memory pressure (reclaimFaults).
func inReclaim(s *Stage, e *taskEnt) bool {
	return e.faultsPerS >= reclaimFaults && pressed(s.tr.host.psiMem, minPSIMemPct)
}

// ioBound: a task that blocks on its own (under 90 % of its switches are
// preemptions) while the host waits on I/O (PSI io some >= minPSIIOPct).
// A writer holds the filesystem's journal and page locks between its
// blocks; taking its CPU away keeps them from the fsyncs of the tasks it
// would protect: the CI bench's writeback scenario with its burst writer
// at SCHED_IDLE read the small task's fsync p99 2.4-2.6 ms against
// 0.9-1.2 ms untuned.
func ioBound(s *Stage, e *taskEnt) bool {
	sw := e.volPerS + e.involPerS
	return sw > 0 && e.involPerS < 0.9*sw && pressed(s.tr.host.psiIO, minPSIIOPct)
}

// confident: a task sure enough to be batch for its job to be a target.
func (f cpuFamily) confident(s *Stage, e *taskEnt, conf float64, now uint64) bool {
	if !f.member(s, e, now) {
		return false
	}
	if conf >= minConfidence {
		return true
	}
	if e.windows < knownWarm {
		return false
	}
	_, known := s.best(s.reg.cur, "cpu/"+decode.CommString(&e.comm)+"/batch")
	return known
}

// jobShare is the CPU share of job's command's member tasks.
func (f cpuFamily) jobShare(s *Stage, job *taskEnt, now uint64) float64 {
	sum := 0.0
	for i := 0; i < s.tr.nTasks; i++ {
		if e := &s.tr.tasks[i]; e.comm == job.comm && f.member(s, e, now) {
			sum += e.cpuShare
		}
	}
	return sum
}

// displaced: another batch job now takes more than twice the CPU of the
// target's; the trial ends, and the next one is on the bigger job (a
// target chosen when it was the biggest, say another session's compiler,
// must not keep the tuner from the job that makes the latency tasks wait).
// The target's CPU is the more of what it takes now and what it took
// when chosen: at SCHED_IDLE or nice 10 on a busy host it gets what
// others leave, and its workers, preempted within a fraction of a
// millisecond, no longer look like batch at all (0.00 CPU in all as
// members). A bench run on a host at load 17 had stress-ng, settled at
// nice 10, "displaced by compile (0.58 CPU in all against 0.00)", put
// back at full weight, found again a second later and displaced again.
// What it took is the most since it was chosen (tg.share follows it): a
// job whose known setting is applied 0.2 s into its return is chosen on
// its workers' moving averages of then, a fraction of what it takes.
func (f cpuFamily) displaced(s *Stage, tg *target, now uint64) (string, bool) {
	cur := s.tr.findTask(tg.pid, now)
	if cur == nil {
		return "", false
	}
	tg.share = max(tg.share, f.jobShare(s, cur, now))
	job, share, _ := f.bestJob(s, now, false)
	if job == nil || job.comm == cur.comm {
		return "", false
	}
	if mine := tg.share; share > 2*mine {
		return fmt.Sprintf("displaced by %s (%.2f CPU in all against %.2f)", decode.CommString(&job.comm), share, mine), true
	}
	return "", false
}

// shed: a task of the target that now looks latency-sensitive leaves
// the job. A service that loads its working set at full CPU and then
// serves requests is batch for its first second: the CI bench's
// memory-pressure toucher (192 MiB filled, then 16 pages touched a
// millisecond) was taken into the job with the hog beside it (same
// command) and kept at SCHED_IDLE for the run, and its p99 was 0.75×
// untuned. So is a task that has begun reclaiming under memory pressure
// (reclaimFaults): taken into the job before the pressure began, it
// would keep its low priority while it holds the reclaim locks.
func (cpuFamily) shed(s *Stage, tg *target, now uint64) (int, string, bool) {
	for i, p := range tg.pids[:tg.npids] {
		e := s.tr.findTask(p, now)
		if e == nil {
			continue
		}
		if c, conf := classifyTask(e); c == Latency && conf >= minConfidence {
			return i, fmt.Sprintf("%s now latency-sensitive (confidence %.2f)", explainTask(e), conf), true
		}
		if inReclaim(s, e) {
			return i, fmt.Sprintf("%s now reclaiming (%.0f page faults/s, PSI memory some %.1f%%)", explainTask(e), e.faultsPerS, s.tr.host.psiMem), true
		}
		if ioBound(s, e) {
			return i, fmt.Sprintf("%s now blocking on I/O (PSI io some %.1f%%)", explainTask(e), s.tr.host.psiIO), true
		}
	}
	return 0, "", false
}

// minGrowShare: batch members a settled job's setting does not reach
// must hold this much CPU in all (a quarter of a CPU) to get it.
const minGrowShare = 0.25

// grown fills add with the settled job's batch members its setting does
// not reach, when they hold minGrowShare CPU or more: a worker missed
// when a known setting was applied 0.3 s into the job's return, or one
// started since. A bench run (cpu-contention, 2026-11-28) left one of
// stress-ng's four workers at full weight for its whole run. A nice
// setting skips a task whose own nice is already at or above it (the
// tuner never raises a priority).
func (f cpuFamily) grown(s *Stage, tg *target, setting string, now uint64, add []uint32) (int, string) {
	var comm *[decode.CommLen]byte
	for _, p := range tg.pids[:tg.npids] {
		if e := s.tr.findTask(p, now); e != nil {
			comm = &e.comm
			break
		}
	}
	if comm == nil {
		return 0, ""
	}
	n, share := 0, 0.0
	for i := 0; i < s.tr.nTasks && n < len(add) && tg.npids+n < len(tg.pids); i++ {
		e := &s.tr.tasks[i]
		if e.comm != *comm || slices.Contains(tg.pids[:tg.npids], e.pid) || !f.member(s, e, now) || !f.below(s, e.pid, setting) {
			continue
		}
		add[n], n, share = e.pid, n+1, share+e.cpuShare
	}
	if share < minGrowShare {
		return 0, ""
	}
	return n, fmt.Sprintf("the job grew: %d more of its tasks with %.2f CPU in all get its setting", n, share)
}

// below: the task's own nice is below a nice setting (any for a sched
// setting: actuate refuses a task whose policy was chosen before AINKA).
func (cpuFamily) below(s *Stage, pid uint32, setting string) bool {
	want, err := strconv.Atoi(setting)
	if err != nil {
		return true
	}
	n, err := s.cfg.Nice(int(pid))
	return err == nil && n < want
}

// pidSelector names the tasks as actuate's pid selector does: "pid:1,2".
func pidSelector(pids []uint32) string {
	var b strings.Builder
	b.WriteString("pid:")
	for i, p := range pids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(p), 10))
	}
	return b.String()
}

// maxNice is the highest nice of the tasks: the arms start above it.
func maxNice(nice func(int) (int, error), pids []uint32) (int, error) {
	m := 0
	for _, p := range pids {
		n, err := nice(int(p))
		if err != nil {
			return 0, err
		}
		m = max(m, n)
	}
	return m, nil
}

// arms: the original (the baseline), SCHED_IDLE (CFS weight 3 against
// 1024: the hogs run on what nobody else wants), SCHED_BATCH (no wakeup
// preemption of others), then nice 10 and 19 above the original; the
// last is what advice proposes before any trial. Nice 5 is left out:
// five arms already take ten seconds of trials with a 2 s effect window.
func (cpuFamily) arms(tg *target) []string {
	arms := []string{"", "idle", "batch"}
	for _, n := range []int{10, 19} {
		if n > tg.orig {
			arms = append(arms, strconv.Itoa(n))
		}
	}
	return arms
}

// order tries the original first, then the settings by how much they
// yield, the strongest first: SCHED_IDLE, nice 19, nice 10, and
// SCHED_BATCH last (it only stops the job's wake-ups from preempting
// others: 11 % worse than the original in the full bench run of
// 2026-11-28). A workload shorter than the whole trial measures the
// likely best before it ends: the bench's 8 s CI runs fit the original
// and two steps, which were SCHED_IDLE and SCHED_BATCH, never nice 19.
func (f cpuFamily) order(tg *target, n int) (o [MaxArms]int, ok bool) {
	arms := f.arms(tg)
	if len(arms) != n || n > MaxArms {
		return o, false
	}
	for i := range n {
		o[i] = i
	}
	slices.SortStableFunc(o[1:n], func(a, b int) int { return f.yield(arms[b]) - f.yield(arms[a]) })
	return o, true
}

// action is "sched SEL = idle|batch" or "nice SEL = N"; "" (the original)
// is a nice action, the one reverted when nothing else is in place.
func (cpuFamily) action(tg *target, value string) string {
	if action.SchedRank(value) > 0 {
		return "sched " + tg.sel + " = " + value
	}
	if value == "" {
		value = "0"
	}
	return "nice " + tg.sel + " = " + value
}

func (cpuFamily) alive(s *Stage, tg *target, now uint64) bool {
	for _, p := range tg.pids[:tg.npids] {
		if s.tr.findTask(p, now) != nil {
			return true
		}
	}
	return false
}

func (cpuFamily) measure(s *Stage, v *features.Vector, tg *target) (float64, bool) {
	var wait, runs float64
	for i := 0; i < v.NumTasks; i++ {
		f := &v.Tasks[i]
		if f.Runs == 0 || slices.Contains(tg.pids[:tg.npids], f.PID) {
			continue
		}
		e := s.tr.findTask(f.PID, v.EndNs)
		if e == nil {
			continue
		}
		if c, conf := classifyTask(e); c != Latency || conf < minConfidence {
			continue
		}
		wait += f.RunqMaxUs * float64(f.Runs)
		runs += float64(f.Runs)
	}
	if runs < 5 {
		return 0, false
	}
	return -wait / runs, true
}
