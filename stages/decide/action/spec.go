package action

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Form is the shape of a knob's value.
type Form uint8

const (
	Int      Form = iota // one integer
	Triple               // three integers "min default max" (tcp_rmem)
	Pair                 // two integers "low high" (ip_local_port_range)
	Enum                 // one word from Words (or, if Words is nil, any word the kernel lists)
	CPUMax               // cgroup cpu.max: "QUOTA PERIOD" or "max PERIOD" or "max"
	Bytes                // integer or "max" (memory.high)
	IOWeight             // "default N" or "N"
)

// Spec is what AINKA may do to one knob.
type Spec struct {
	Name     string
	Form     Form
	Min, Max float64  // allowed range of each integer
	Words    []string // Enum values
	// MaxStepRatio bounds one change: new/old and old/new stay within it
	// (0: no ratio bound). MaxStepAbs bounds |new-old| (0: none). A step
	// beyond the bound is clamped to it, so a policy converges in steps.
	MaxStepRatio float64
	MaxStepAbs   float64
	// Coupled names a knob whose value bounds this one (see Couplings).
	Why string // why it is on the list, for docs and logs
}

// Coupling is a limit between two knobs that the kernel does not enforce
// itself or enforces by silently misbehaving.
type Coupling struct {
	Low, High string // Low's value (its max element for a Triple) ≤ High's
	Why       string
}

// Sysctls is the allowlist of /proc/sys names.
var Sysctls = map[string]Spec{
	"vm.swappiness":                      {Form: Int, Min: 0, Max: 200, MaxStepAbs: 30, Why: "reclaim balance between anonymous memory and page cache"},
	"vm.dirty_ratio":                     {Form: Int, Min: 5, Max: 80, MaxStepAbs: 20, Why: "writeback throttling threshold"},
	"vm.dirty_background_ratio":          {Form: Int, Min: 1, Max: 50, MaxStepAbs: 10, Why: "background writeback start"},
	"vm.dirty_expire_centisecs":          {Form: Int, Min: 100, Max: 60000, MaxStepRatio: 4, Why: "age of dirty data before writeback"},
	"vm.dirty_writeback_centisecs":       {Form: Int, Min: 100, Max: 60000, MaxStepRatio: 4, Why: "flusher wakeup interval"},
	"vm.vfs_cache_pressure":              {Form: Int, Min: 10, Max: 1000, MaxStepRatio: 4, Why: "dentry/inode cache reclaim"},
	"vm.stat_interval":                   {Form: Int, Min: 1, Max: 60, Why: "vmstat update interval"},
	"kernel.sched_autogroup_enabled":     {Form: Int, Min: 0, Max: 1, Why: "per-session CPU fairness"},
	"kernel.numa_balancing":              {Form: Int, Min: 0, Max: 1, Why: "automatic NUMA page migration"},
	"net.core.rmem_max":                  {Form: Int, Min: 212992, Max: 1 << 30, MaxStepRatio: 4, Why: "largest socket receive buffer"},
	"net.core.wmem_max":                  {Form: Int, Min: 212992, Max: 1 << 30, MaxStepRatio: 4, Why: "largest socket send buffer"},
	"net.core.rmem_default":              {Form: Int, Min: 4096, Max: 1 << 30, MaxStepRatio: 4, Why: "default socket receive buffer"},
	"net.core.wmem_default":              {Form: Int, Min: 4096, Max: 1 << 30, MaxStepRatio: 4, Why: "default socket send buffer"},
	"net.core.somaxconn":                 {Form: Int, Min: 128, Max: 65535, MaxStepRatio: 8, Why: "listen backlog cap"},
	"net.core.netdev_max_backlog":        {Form: Int, Min: 1000, Max: 1 << 20, MaxStepRatio: 8, Why: "per-CPU input queue"},
	"net.core.busy_poll":                 {Form: Int, Min: 0, Max: 200, Why: "busy polling for low latency (µs)"},
	"net.core.busy_read":                 {Form: Int, Min: 0, Max: 200, Why: "busy reading for low latency (µs)"},
	"net.ipv4.tcp_rmem":                  {Form: Triple, Min: 4096, Max: 1 << 30, MaxStepRatio: 4, Why: "TCP receive buffer autotuning range"},
	"net.ipv4.tcp_wmem":                  {Form: Triple, Min: 4096, Max: 1 << 30, MaxStepRatio: 4, Why: "TCP send buffer autotuning range"},
	"net.ipv4.tcp_max_syn_backlog":       {Form: Int, Min: 128, Max: 1 << 20, MaxStepRatio: 8, Why: "half-open connection queue"},
	"net.ipv4.tcp_slow_start_after_idle": {Form: Int, Min: 0, Max: 1, Why: "cwnd reset after idle"},
	"net.ipv4.tcp_notsent_lowat":         {Form: Int, Min: 16384, Max: 1<<32 - 1, MaxStepRatio: 16, Why: "unsent data limit, latency of HTTP/2-style streams"},
	"net.ipv4.tcp_fastopen":              {Form: Int, Min: 0, Max: 3, Why: "TCP fast open"},
	"net.ipv4.tcp_congestion_control":    {Form: Enum, Words: []string{"cubic", "bbr", "reno", "htcp", "dctcp"}, Why: "congestion control algorithm"},
	"net.ipv4.ip_local_port_range":       {Form: Pair, Min: 1024, Max: 65535, Why: "ephemeral ports"},
}

// Couplings between sysctls, checked by the actuator against the values
// the kernel has at the time of the change.
var Couplings = []Coupling{
	{Low: "net.ipv4.tcp_rmem", High: "net.core.rmem_max", Why: "tcp_rmem max above rmem_max lets TCP autotune past the admin's socket limit"},
	{Low: "net.ipv4.tcp_wmem", High: "net.core.wmem_max", Why: "tcp_wmem max above wmem_max lets TCP autotune past the admin's socket limit"},
	{Low: "net.core.rmem_default", High: "net.core.rmem_max", Why: "a default above the max is silently capped"},
	{Low: "net.core.wmem_default", High: "net.core.wmem_max", Why: "a default above the max is silently capped"},
	{Low: "vm.dirty_background_ratio", High: "vm.dirty_ratio", Why: "background writeback must start before throttling"},
}

// MemoryHighFloorPct bounds one write of memory.high: never below this
// share of the cgroup's usage (memory.current). A limit under the usage
// makes the writer reclaim the difference at once and throttles the
// cgroup's tasks until they are back under it; a quarter at a time keeps
// that bounded (memory.high itself never invokes the OOM killer).
const MemoryHighFloorPct = 75

// CgroupFiles are the cgroup interface files AINKA may write: v2's, and
// memory.swappiness, which only cgroup v1 has (v2 applies vm.swappiness).
var CgroupFiles = map[string]Spec{
	"cpu.weight":        {Form: Int, Min: 1, Max: 10000, MaxStepRatio: 10, Why: "CPU share under contention"},
	"cpu.max":           {Form: CPUMax, Min: 1000, Max: 1000000, MaxStepRatio: 4, Why: "CPU bandwidth cap (quota µs per period µs)"},
	"memory.high":       {Form: Bytes, Min: 16 << 20, Max: 1 << 50, MaxStepRatio: 2, Why: "memory throttle point (never a hard limit: no OOM kill)"},
	"memory.swappiness": {Form: Int, Min: 0, Max: 200, MaxStepAbs: 60, Why: "reclaim balance of one cgroup's anonymous memory (cgroup v1)"},
	"io.weight":         {Form: IOWeight, Min: 1, Max: 10000, MaxStepRatio: 10, Why: "IO share under contention"},
}

// ReadaheadSpec bounds /sys/block/DEV/queue/read_ahead_kb. A step may be
// ×64: the readahead tuner's settings for a device span its original /8
// (random phases) to ×8 (sequential), and a returning phase's best must
// come back in one write (one write per knob per second): with ×8, a
// device tuned to 16 for a random phase was left at 128, not its
// sequential phase's 256 (TestLiveReadaheadFollowsPhases in a CI run).
var ReadaheadSpec = Spec{Name: "read_ahead_kb", Form: Int, Min: 0, Max: 16384, MaxStepRatio: 64, Why: "sequential read prefetch"}

// NiceSpec bounds nice values. Raising a process above normal priority
// (negative nice) is not something a policy engine should do to arbitrary
// processes: only de-prioritizing is allowed.
//
// A change is not bounded to a step (it was ±10 until 2026-11-28): a
// step bound limits how far one write moves a knob, and here the far end
// is nice 19 (CFS weight 15), less than the SCHED_IDLE (weight 3) that
// `sched SEL = idle` already sets in one write. What bounds a nice change
// is the range (never below the process's own nice, actuate's floor),
// one write per knob per second, the journal and the restore. The bound
// cost the CPU tuner a second write 1.2 s after every nice 19 it applied
// (the hogs at nice 10 meanwhile: docs/bench.md, session 8).
var NiceSpec = Spec{Name: "nice", Form: Int, Min: 0, Max: 19, Why: "CPU priority"}

// StateNames are the names of the engine's states (the design's state
// machine), in the order of decide.State, which String()s to them. They are
// the one spelling of a state in policies, JSON, logs, the CLI and the
// kernel module's names (kmod/genl, /proc/ainka), which tests hold to it.
var StateNames = []string{"learning", "optimizing", "anomaly_detection", "predictive_scaling", "emergency"}

// EPPs are the energy_performance_preference values of intel_pstate/amd_pstate.
var EPPs = []string{"default", "performance", "balance_performance", "balance_power", "power"}

// Governors are the cpufreq governors AINKA may select.
var Governors = []string{"performance", "powersave", "schedutil", "ondemand", "conservative"}

func has(ws []string, w string) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]Spec) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// SpecFor returns the spec of the knob a writes.
func SpecFor(a Action) (Spec, bool) {
	switch a.Kind {
	case Sysctl:
		s, ok := Sysctls[a.Target]
		s.Name = a.Target
		return s, ok
	case Cgroup:
		s, ok := CgroupFiles[a.Knob]
		s.Name = a.Knob
		return s, ok
	case Readahead:
		return ReadaheadSpec, true
	case Nice:
		return NiceSpec, true
	}
	return Spec{}, false
}

// CheckValue checks a value written as text against the spec's form and
// range; the actuators call it on the final value after relative ops.
func (s Spec) CheckValue(v string) error {
	switch s.Form {
	case Int:
		return s.checkInts(v, 1)
	case Pair:
		return s.checkInts(v, 2)
	case Triple:
		return s.checkInts(v, 3)
	case Enum:
		if s.Words != nil && !has(s.Words, v) {
			return fmt.Errorf("%s: %q is not one of %s", s.Name, v, strings.Join(s.Words, ", "))
		}
		if strings.ContainsAny(v, " \t/") || v == "" {
			return fmt.Errorf("%s: %q is not a single word", s.Name, v)
		}
		return nil
	case CPUMax:
		f := strings.Fields(v)
		if len(f) == 1 && f[0] == "max" {
			return nil
		}
		if len(f) != 2 {
			return fmt.Errorf("cpu.max: %q is not \"QUOTA PERIOD\" or \"max PERIOD\"", v)
		}
		p, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || p < 1000 || p > 1000000 {
			return fmt.Errorf("cpu.max: period %q must be an integer in [1000, 1000000] µs", f[1])
		}
		if f[0] == "max" {
			return nil
		}
		q, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || float64(q) < s.Min || float64(q) > s.Max*1000 {
			return fmt.Errorf("cpu.max: quota %q must be an integer ≥ %v µs or \"max\"", f[0], s.Min)
		}
		return nil
	case Bytes:
		if v == "max" {
			return nil
		}
		return s.checkInts(v, 1)
	case IOWeight:
		f := strings.Fields(v)
		if len(f) == 2 && f[0] == "default" {
			f = f[1:]
		}
		if len(f) != 1 {
			return fmt.Errorf("io.weight: %q is not \"N\" or \"default N\"", v)
		}
		return s.checkInts(f[0], 1)
	}
	return fmt.Errorf("%s: unknown form", s.Name)
}

func (s Spec) checkInts(v string, n int) error {
	f := strings.Fields(v)
	if len(f) != n {
		return fmt.Errorf("%s: %q must be %d integer(s)", s.Name, v, n)
	}
	prev := -1.0
	for _, x := range f {
		i, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return fmt.Errorf("%s: %q is not an integer", s.Name, x)
		}
		if float64(i) < s.Min || float64(i) > s.Max {
			return fmt.Errorf("%s: %d is outside the allowed range [%v, %v]", s.Name, i, s.Min, s.Max)
		}
		if float64(i) < prev {
			return fmt.Errorf("%s: values of %q must not decrease", s.Name, v)
		}
		prev = float64(i)
	}
	return nil
}

// IsName reports whether s is a safe single path component (device names,
// sysctl segments).
func IsName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || c == '_' || c == '.' || c == ':' || c == '@' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return false
		}
	}
	return true
}

// CleanCgroup normalizes a cgroup path relative to the cgroup v2 root and
// rejects anything that would leave it.
func CleanCgroup(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("empty cgroup path")
	}
	for _, seg := range strings.Split(strings.Trim(p, "/"), "/") {
		if seg == ".." {
			return "", fmt.Errorf("cgroup path %q escapes the cgroup root", p)
		}
		if seg != "" && seg != "." && !IsName(seg) {
			return "", fmt.Errorf("cgroup path %q has a bad component %q", p, seg)
		}
	}
	c := strings.TrimPrefix(path.Clean("/"+p), "/")
	if c == "" {
		return "", fmt.Errorf("cgroup path %q is the root cgroup; AINKA only changes child cgroups", p)
	}
	return c, nil
}

// Selector chooses processes for nice/ioprio.
type Selector struct {
	Kind string // "top-cpu", "name", "cgroup", "pid"
	Arg  string
}

// ParseSelector parses top-cpu, name:COMM, cgroup:PATH, pid:N[,N...].
func ParseSelector(s string) (Selector, error) {
	if s == "top-cpu" {
		return Selector{Kind: "top-cpu"}, nil
	}
	k, v, ok := strings.Cut(s, ":")
	if !ok || v == "" {
		return Selector{}, fmt.Errorf("bad process selector %q (top-cpu, name:COMM, cgroup:PATH, pid:N[,N...])", s)
	}
	switch k {
	case "pid":
		// Processes by id, as the tuners name tasks they discovered: one,
		// or a few (a batch job's workers) in one action.
		if err := checkPids(v); err != nil {
			return Selector{}, err
		}
		return Selector{Kind: "pid", Arg: v}, nil
	case "name":
		if len(v) > 15 || strings.ContainsAny(v, "/\n") {
			return Selector{}, fmt.Errorf("process name %q: a comm is at most 15 bytes without '/'", v)
		}
		return Selector{Kind: "name", Arg: v}, nil
	case "cgroup":
		c, err := CleanCgroup(v)
		if err != nil {
			return Selector{}, err
		}
		return Selector{Kind: "cgroup", Arg: c}, nil
	}
	return Selector{}, fmt.Errorf("bad process selector %q (top-cpu, name:COMM, cgroup:PATH, pid:N[,N...])", s)
}

// MaxPids bounds the processes one pid: selector names.
const MaxPids = 16

// checkPids checks "N" or "N,M,...": at most MaxPids ids above 1, written
// canonically (no sign, no leading zero, no repeat), so that one set of
// processes has one key.
func checkPids(v string) error {
	ids := strings.Split(v, ",")
	if len(ids) > MaxPids {
		return fmt.Errorf("process ids %q: at most %d", v, MaxPids)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if n, err := strconv.Atoi(id); err != nil || n < 2 || strconv.Itoa(n) != id {
			return fmt.Errorf("process id %q: want a number above 1", id)
		}
		if seen[id] {
			return fmt.Errorf("process ids %q: %s twice", v, id)
		}
		seen[id] = true
	}
	return nil
}

// SchedPolicies are the scheduling policies a sched action may set, from
// the highest priority to the lowest: AINKA only moves a process down
// this list from where it found it (SCHED_OTHER is where it starts; it is
// written only to restore).
var SchedPolicies = []string{"other", "batch", "idle"}

// SchedRank is a policy's place in SchedPolicies (-1: not one of them:
// fifo, rr, deadline, which AINKA never touches).
func SchedRank(p string) int {
	for i, x := range SchedPolicies {
		if x == p {
			return i
		}
	}
	return -1
}

// ParseIOPrio parses "idle", "be:N", "rt:N" into class and level.
func ParseIOPrio(v string) (class, level int, err error) {
	if v == "idle" {
		return 3, 0, nil
	}
	c, l, ok := strings.Cut(v, ":")
	n, perr := strconv.Atoi(l)
	if !ok || perr != nil || n < 0 || n > 7 {
		return 0, 0, fmt.Errorf("ioprio %q: want idle or be:0..7", v)
	}
	switch c {
	case "be":
		return 2, n, nil
	case "rt":
		return 0, 0, fmt.Errorf("ioprio %q: real-time IO class is not allowed (it can starve every other process)", v)
	}
	return 0, 0, fmt.Errorf("ioprio %q: want idle or be:0..7", v)
}

// check validates a parsed action against the table.
func check(a *Action, targetCol, knobCol, valueCol int) error {
	verr := func(err error) error { return &Error{valueCol, err.Error()} }
	switch a.Kind {
	case Sysctl:
		s, ok := Sysctls[a.Target]
		if !ok {
			return &Error{targetCol, fmt.Sprintf("sysctl %q is not on the allowlist (%s)", a.Target, sortedKeys(Sysctls))}
		}
		s.Name = a.Target
		if a.Op != Set && s.Form != Int {
			return &Error{valueCol, fmt.Sprintf("%s is not a single number; only \"=\" applies", a.Target)}
		}
		if a.Op == Set {
			if err := s.CheckValue(a.Value); err != nil {
				return verr(err)
			}
		}
	case Cgroup:
		return checkCgroup(a, targetCol, knobCol, valueCol)
	case Readahead:
		if !IsName(a.Target) {
			return &Error{targetCol, fmt.Sprintf("block device %q is not a device name", a.Target)}
		}
		if a.Op == Set {
			if err := ReadaheadSpec.CheckValue(a.Value); err != nil {
				return verr(err)
			}
		}
	case Nice:
		if _, err := ParseSelector(a.Target); err != nil {
			return &Error{targetCol, err.Error()}
		}
		if a.Op == Sub || (a.Op == Add && a.Num < 0) || (a.Op == Mul && a.Num < 1) {
			// A lower nice value is a higher priority.
			return &Error{valueCol, fmt.Sprintf("nice %s %s would lower the nice value, raising the processes' priority; AINKA never raises a priority (use += or =)", a.Op, a.Value)}
		}
		if a.Op == Set {
			if err := NiceSpec.CheckValue(a.Value); err != nil {
				return verr(err)
			}
		}
	case IOPrio:
		if _, err := ParseSelector(a.Target); err != nil {
			return &Error{targetCol, err.Error()}
		}
		if a.Op != Set {
			return &Error{valueCol, "ioprio takes \"=\""}
		}
		if _, _, err := ParseIOPrio(a.Value); err != nil {
			return verr(err)
		}
	case Sched:
		if _, err := ParseSelector(a.Target); err != nil {
			return &Error{targetCol, err.Error()}
		}
		if a.Op != Set || SchedRank(a.Value) < 1 {
			return &Error{valueCol, fmt.Sprintf("sched takes \"= batch\" or \"= idle\", not %s %s (AINKA never raises a priority: other is only restored)", a.Op, a.Value)}
		}
	case CPUFreq:
		return checkCPUFreq(a, targetCol, valueCol)
	case Kernel:
		return checkKernel(a, targetCol, knobCol, valueCol)
	}
	return nil
}

// checkCgroup checks a cgroup action and cleans its path.
func checkCgroup(a *Action, targetCol, knobCol, valueCol int) error {
	verr := func(err error) error { return &Error{valueCol, err.Error()} }
	c, err := CleanCgroup(a.Target)
	if err != nil {
		return &Error{targetCol, err.Error()}
	}
	a.Target = c
	s, ok := CgroupFiles[a.Knob]
	if !ok {
		return &Error{knobCol, fmt.Sprintf("cgroup file %q is not allowed (%s)", a.Knob, sortedKeys(CgroupFiles))}
	}
	s.Name = a.Knob
	if a.Op == Set {
		if err := s.CheckValue(a.Value); err != nil {
			return verr(err)
		}
	} else if s.Form == CPUMax {
		// *= on cpu.max scales the quota
		if a.Op != Mul {
			return &Error{valueCol, "cpu.max takes \"=\" or \"*=\" (scales the quota)"}
		}
	}
	return nil
}

// checkCPUFreq checks a cpufreq governor or energy preference.
func checkCPUFreq(a *Action, targetCol, valueCol int) error {
	verr := func(err error) error { return &Error{valueCol, err.Error()} }
	if a.Op != Set {
		return &Error{valueCol, "cpufreq takes \"=\""}
	}
	switch a.Target {
	case "governor":
		if !has(Governors, a.Value) {
			return verr(fmt.Errorf("governor %q is not one of %s", a.Value, strings.Join(Governors, ", ")))
		}
	case "epp":
		if !has(EPPs, a.Value) {
			return verr(fmt.Errorf("energy preference %q is not one of %s", a.Value, strings.Join(EPPs, ", ")))
		}
	default:
		return &Error{targetCol, fmt.Sprintf("cpufreq target %q: want governor or epp", a.Target)}
	}
	return nil
}

// checkKernel checks a kernel module state or recommendation.
func checkKernel(a *Action, targetCol, knobCol, valueCol int) error {
	verr := func(err error) error { return &Error{valueCol, err.Error()} }
	switch a.Target {
	case "state":
		if a.Op != Set || !has(StateNames, a.Value) {
			return verr(fmt.Errorf("kernel state must be set (=) to one of %s", strings.Join(StateNames, ", ")))
		}
	case "recommend":
		if !IsName(a.Knob) || len(a.Knob) > 31 {
			return &Error{knobCol, fmt.Sprintf("recommendation name %q: at most 31 characters of [A-Za-z0-9_.-]", a.Knob)}
		}
		if !a.IsNum || a.Num != float64(int64(a.Num)) {
			return verr(fmt.Errorf("recommendation value %q must be an integer", a.Value))
		}
	default:
		return &Error{targetCol, fmt.Sprintf("kernel target %q: want recommend or state", a.Target)}
	}
	return nil
}
