package actuate

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ainka/ainka/internal/testenv"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decide/action"
)

// These tests change real kernel state: sysctls inside a network
// namespace they create, a cgroup they create, a loop device they attach,
// and processes they start. They skip, naming what is missing, when not
// root.

func needRoot(t *testing.T) {
	t.Helper()
	testenv.RequireRoot(t, "writes /proc/sys in a new network namespace, cgroup v2 files and process priorities")
}

// inNetns runs fn on an OS thread moved into a fresh network namespace.
// The thread is never unlocked, so it dies with fn's goroutine and the
// namespace with it.
func inNetns(t *testing.T, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			t.Errorf("unshare(CLONE_NEWNET): %v", err)
			return
		}
		fn()
	}()
	<-done
}

func sysctl(name string) string {
	b, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(name, ".", "/"))
	if err != nil {
		return "error: " + err.Error()
	}
	return norm(string(b))
}

// unloadableCC returns a congestion control the action language accepts
// but this kernel has neither built in nor as a module, if there is one.
func unloadableCC(t *testing.T) (string, bool) {
	avail := " " + sysctl("net.ipv4.tcp_available_congestion_control") + " "
	var uts unix.Utsname
	unix.Uname(&uts)
	mods := filepath.Join("/lib/modules", unix.ByteSliceToString(uts.Release[:]), "kernel/net/ipv4")
	for _, cc := range []string{"htcp", "dctcp"} {
		if m, _ := filepath.Glob(filepath.Join(mods, "tcp_"+cc+".ko*")); len(m) == 0 && !strings.Contains(avail, " "+cc+" ") {
			return cc, true
		}
	}
	t.Logf("every congestion control the action language knows can load here (%s, modules in %s): refusal not checked", avail, mods)
	return "", false
}

func TestHostSysctlNetns(t *testing.T) {
	needRoot(t)
	hostSomax, hostRmem := sysctl("net.core.somaxconn"), sysctl("net.ipv4.tcp_rmem")
	jp := filepath.Join(t.TempDir(), "journal")
	inNetns(t, func() {
		origSomax, origRmem, origPorts := sysctl("net.core.somaxconn"), sysctl("net.ipv4.tcp_rmem"), sysctl("net.ipv4.ip_local_port_range")
		rmemMax := sysctl("net.core.rmem_max")
		s, err := New(Config{JournalPath: jp, KnobInterval: -1, Logger: quiet})
		if err != nil {
			t.Error(err)
			return
		}
		apply := func(act string) Result {
			out := s.Process([]decide.Decision{dec(t, act)}, nil)
			if len(out) != 1 {
				t.Errorf("%s: %d results", act, len(out))
				return Result{}
			}
			return out[0]
		}
		r := apply("sysctl net.core.somaxconn *= 2")
		n, _ := strconv.Atoi(origSomax)
		if r.Status != Applied || sysctl("net.core.somaxconn") != strconv.Itoa(min(2*n, 65535)) {
			t.Errorf("somaxconn: %+v now %s", r, sysctl("net.core.somaxconn"))
		}
		// coupled limit against the kernel's real rmem_max
		r = apply(`sysctl net.ipv4.tcp_rmem = "4096 131072 1073741824"`)
		want := "4096 131072 " + rmemMax
		if r.Status != Applied || sysctl("net.ipv4.tcp_rmem") != want || !strings.Contains(r.Clamped, "net.core.rmem_max") {
			t.Errorf("tcp_rmem: %+v now %q want %q", r, sysctl("net.ipv4.tcp_rmem"), want)
		}
		if r = apply(`sysctl net.ipv4.ip_local_port_range = "20000 40000"`); r.Status != Applied || sysctl("net.ipv4.ip_local_port_range") != "20000 40000" {
			t.Errorf("port range: %+v", r)
		}
		// the kernel itself refuses a value (an algorithm it neither has
		// nor can load): reported as failed, the knob unchanged
		origCC := sysctl("net.ipv4.tcp_congestion_control")
		if cc, ok := unloadableCC(t); ok {
			if r = apply("sysctl net.ipv4.tcp_congestion_control = " + cc); r.Status != Failed || r.Err == "" || sysctl("net.ipv4.tcp_congestion_control") != origCC {
				t.Errorf("congestion control %s: %+v, now %s (was %s)", cc, r, sysctl("net.ipv4.tcp_congestion_control"), origCC)
			}
		}
		if len(s.Changes()) < 3 {
			t.Errorf("changes: %+v", s.Changes())
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if sysctl("net.core.somaxconn") != origSomax || sysctl("net.ipv4.tcp_rmem") != origRmem || sysctl("net.ipv4.ip_local_port_range") != origPorts {
			t.Errorf("not restored: %s %s %s", sysctl("net.core.somaxconn"), sysctl("net.ipv4.tcp_rmem"), sysctl("net.ipv4.ip_local_port_range"))
		}
	})
	if sysctl("net.core.somaxconn") != hostSomax || sysctl("net.ipv4.tcp_rmem") != hostRmem {
		t.Errorf("the host's own sysctls changed")
	}
}

// testCgroup creates a child cgroup of the cgroup2 root and removes it.
func testCgroup(t *testing.T) (root, rel string) {
	t.Helper()
	root, err := FindCgroup2("/proc/self/mountinfo")
	if err != nil {
		t.Skipf("no cgroup v2 mount: %v", err)
	}
	rel = fmt.Sprintf("ainka-test-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	dir := filepath.Join(root, rel)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("create test cgroup: %v", err)
	}
	t.Cleanup(func() {
		// move anything left to the root, then remove
		if b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err == nil {
			for _, p := range strings.Fields(string(b)) {
				os.WriteFile(filepath.Join(root, "cgroup.procs"), []byte(p), 0)
			}
		}
		for i := 0; i < 50; i++ {
			if err := os.Remove(dir); err == nil || os.IsNotExist(err) {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Errorf("remove test cgroup %s", dir)
	})
	return root, rel
}

// victim starts a sleeping process with a unique command name.
func victim(t *testing.T, cgroupDir string) (*exec.Cmd, string) {
	t.Helper()
	name := fmt.Sprintf("ainkav%d", os.Getpid()%1000000)
	bin := filepath.Join(t.TempDir(), name)
	src, err := os.ReadFile("/bin/sleep")
	if err != nil {
		t.Skipf("no /bin/sleep: %v", err)
	}
	os.WriteFile(bin, src, 0o755)
	cmd := exec.Command(bin, "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if cgroupDir != "" {
		if err := os.WriteFile(filepath.Join(cgroupDir, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0); err != nil {
			t.Fatalf("move victim into the test cgroup: %v", err)
		}
	}
	return cmd, name
}

func procNice(pid int) int {
	pi, err := readStat("/proc", pid)
	if err != nil {
		return -100
	}
	return pi.nice
}

func procIOPrio(pid int) string {
	r, _, e := unix.Syscall(unix.SYS_IOPRIO_GET, ioprioWhoProcess, uintptr(pid), 0)
	if e != 0 {
		return e.Error()
	}
	return formatIOPrio(int(r))
}

func TestHostCgroup(t *testing.T) {
	needRoot(t)
	root, rel := testCgroup(t)
	cmd, _ := victim(t, filepath.Join(root, rel))
	pid := cmd.Process.Pid
	s, err := New(Config{JournalPath: filepath.Join(t.TempDir(), "j"), KnobInterval: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.CgroupRoot != root {
		t.Errorf("cgroup root %q, want %q", s.cfg.CgroupRoot, root)
	}
	origIO, origNice := procIOPrio(pid), procNice(pid)
	want := niceAside(origNice)
	r := one(t, s, "nice cgroup:"+rel+" = "+strconv.Itoa(want))
	if r.Status != Applied || procNice(pid) != want || r.Target != fmt.Sprintf("pid %d (%s)", pid, filepath.Base(cmd.Path)) {
		t.Errorf("nice by cgroup: %+v, nice now %d", r, procNice(pid))
	}
	if r = one(t, s, "ioprio cgroup:"+rel+" = idle"); r.Status != Applied || procIOPrio(pid) != "idle" {
		t.Errorf("ioprio: %+v, now %s", r, procIOPrio(pid))
	}
	// cgroup v2 interface files: only where the controller is enabled
	ctrls := strings.Fields(readTrim(filepath.Join(root, "cgroup.controllers")))
	for _, c := range []struct{ ctrl, act, file, want string }{
		{"cpu", "cpu.weight = 20", "cpu.weight", "20"},
		{"cpu", `cpu.max = "50000 100000"`, "cpu.max", "50000 100000"},
		{"memory", "memory.high = 1073741824", "memory.high", "1073741824"},
		{"io", "io.weight = 50", "io.weight", "default 50"},
	} {
		r := one(t, s, "cgroup "+rel+" "+c.act)
		if !contains(ctrls, c.ctrl) {
			// hybrid hosts bind the controller to cgroup v1: the error says so
			if r.Status != Rejected || !strings.Contains(r.Err, "the "+c.ctrl+" controller is not enabled") {
				t.Errorf("%s without the %s controller: %+v", c.act, c.ctrl, r)
			}
			t.Logf("%s: the %s controller is not available in cgroup v2 on this host (%s); checked the error only", c.file, c.ctrl, strings.Join(ctrls, " "))
			continue
		}
		if !strings.Contains(readTrim(filepath.Join(root, "cgroup.subtree_control")), c.ctrl) {
			if err := os.WriteFile(filepath.Join(root, "cgroup.subtree_control"), []byte("+"+c.ctrl), 0); err != nil {
				t.Errorf("enable %s for the test cgroup: %v", c.ctrl, err)
				continue
			}
			r = one(t, s, "cgroup "+rel+" "+c.act)
		}
		if r.Status != Applied || readTrim(filepath.Join(root, rel, c.file)) != c.want {
			t.Errorf("%s: %+v now %q", c.act, r, readTrim(filepath.Join(root, rel, c.file)))
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if procNice(pid) != origNice || procIOPrio(pid) != origIO {
		t.Errorf("not restored: nice %d ioprio %s (was %d, %s)", procNice(pid), procIOPrio(pid), origNice, origIO)
	}
	if w := readTrim(filepath.Join(root, rel, "cpu.weight")); w != "?" && w != "100" {
		t.Errorf("cpu.weight not restored: %s", w)
	}
}

func TestCgroupConfinement(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	os.MkdirAll(filepath.Join(root, "ok"), 0o755)
	os.WriteFile(filepath.Join(root, "ok", "cpu.weight"), []byte("100\n"), 0o644)
	os.WriteFile(filepath.Join(outside, "cpu.weight"), []byte("100\n"), 0o644)
	os.Symlink(outside, filepath.Join(root, "evil"))
	if _, err := cgroupFile(root, "ok", "cpu.weight"); err != nil {
		t.Errorf("ok: %v", err)
	}
	if _, err := cgroupFile(root, "evil", "cpu.weight"); err == nil || !strings.Contains(err.Error(), "outside the cgroup root") {
		t.Errorf("symlink escape: %v", err)
	}
	if _, err := cgroupFile(root, "../x", "cpu.weight"); err == nil || !strings.Contains(err.Error(), "escapes") {
		t.Errorf("dotdot escape: %v", err)
	}
	if _, err := cgroupFile(root, "ok", "io.weight"); err == nil || !strings.Contains(err.Error(), "io controller is not enabled") {
		t.Errorf("missing file: %v", err)
	}
	mi := filepath.Join(t.TempDir(), "mountinfo")
	os.WriteFile(mi, []byte("31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n41 31 0:38 / /sys/fs/cgroup/my\\040root rw,relatime - cgroup2 cgroup2 rw\n"), 0o644)
	if p, err := FindCgroup2(mi); err != nil || p != "/sys/fs/cgroup/my root" {
		t.Errorf("FindCgroup2 = %q, %v", p, err)
	}
	os.WriteFile(mi, []byte("31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"), 0o644)
	if _, err := FindCgroup2(mi); err != ErrNoCgroup2 {
		t.Errorf("no cgroup2: %v", err)
	}
}

// loopDevice attaches a loop device to a small file.
func loopDevice(t *testing.T) string { return testenv.LoopDevice(t) }

func TestHostReadaheadAndTopCPU(t *testing.T) {
	needRoot(t)
	dev := loopDevice(t)
	p := "/sys/block/" + dev + "/queue/read_ahead_kb"
	orig := readTrim(p)
	s, err := New(Config{JournalPath: filepath.Join(t.TempDir(), "j"), KnobInterval: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if r := one(t, s, "readahead "+dev+" = 1024"); r.Status != Applied || readTrim(p) != "1024" {
		t.Errorf("readahead: %+v now %s", r, readTrim(p))
	}
	testenv.LoadsCPU(t)
	// top-cpu picks a busy process: start one that spins on every CPU at
	// the highest priority. On a machine shared with other work in other
	// cgroups it may still not be the busiest, so the check is the
	// selector's promise itself: what it picks used, in the 200 ms after,
	// at least half the CPU time of our spinner (an idle or random pick
	// uses next to none).
	busy := exec.Command("nice", "-n", "-20", os.Args[0], "-test.run=^$")
	busy.Env = append(os.Environ(), helperEnv+"=spin")
	if err := busy.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { busy.Process.Kill(); busy.Wait() }()
	time.Sleep(300 * time.Millisecond)
	checkTopCPU(t, busy.Process.Pid)
	s.Close()
	if readTrim(p) != orig {
		t.Errorf("readahead not restored: %s, want %s", readTrim(p), orig)
	}
}

// checkTopCPU selects top-cpu until it picks spinner or a process at
// least half as busy (one that lives through the measurement).
func checkTopCPU(t *testing.T, spinner int) {
	t.Helper()
	ticks := func(pid int) float64 {
		pi, err := readStat("/proc", pid)
		if err != nil {
			return -1
		}
		return pi.ticks
	}
	var picked []string
	for range 5 {
		procs, err := selectProcs("/proc", "", action.Selector{Kind: "top-cpu"})
		if err != nil || len(procs) != 1 {
			t.Fatalf("top-cpu: %v %v", procs, err)
		}
		p := procs[0]
		if p.pid == spinner {
			return
		}
		p0, s0 := ticks(p.pid), ticks(spinner)
		time.Sleep(200 * time.Millisecond)
		p1, s1 := ticks(p.pid), ticks(spinner)
		picked = append(picked, fmt.Sprintf("pid %d (%s) %.0f ticks vs the spinner's %.0f", p.pid, p.comm, p1-p0, s1-s0))
		if p0 >= 0 && p1 >= 0 && p1-p0 >= (s1-s0)/2 && s1 > s0 {
			t.Logf("top-cpu picked %s", picked[len(picked)-1])
			return
		}
	}
	t.Errorf("top-cpu picked %v: none as busy as the spinner (pid %d)", picked, spinner)
}

// The kill -9 test: a child process (this test binary, re-executed in a
// network namespace) journals and changes knobs one by one and is
// SIGKILLed in the middle; a second start of the stage restores every
// original value.

const helperEnv = "AINKA_ACTUATE_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "apply":
		os.Exit(helperApply())
	case "recover":
		os.Exit(helperRecover())
	case "killsteps", "recoversteps":
		os.Exit(helperKillSteps())
	case "spin": // one busy thread per CPU: top-cpu's obvious choice
		for range runtime.NumCPU() - 1 {
			go func() {
				//lint:ignore SA5002 burning CPU is this child's job
				for {
				}
			}()
		}
		//lint:ignore SA5002 burning CPU is this child's job
		for {
		}
	}
	os.Exit(m.Run())
}

// niceAside is a nice value that differs from base, the one the test's
// victims inherit from the suite (0, or 10 under make test's nice -n 10),
// so that setting it is a change the journal must revert.
// (The stage moves nice only up: AINKA never raises a priority, so a
// suite run at nice 19 has nothing to change.)
func niceAside(base int) int {
	return min(base+5, 19)
}

func helperActions() []string {
	nice := strconv.Itoa(niceAside(procNice(os.Getpid()))) // the victim's nice is ours
	name, dev := os.Getenv("AINKA_VICTIM"), os.Getenv("AINKA_LOOP")
	if cg := os.Getenv("AINKA_CGROUP"); cg != "" {
		return []string{"cgroup " + cg + " cpu.weight = 20", "nice name:" + name + " = " + nice, "cgroup " + cg + " cpu.weight = 40"}
	}
	acts := []string{
		"sysctl net.core.somaxconn = 1024",
		"sysctl net.ipv4.tcp_slow_start_after_idle = 0",
		"nice name:" + name + " = " + nice,
		"ioprio name:" + name + " = idle",
		`sysctl net.ipv4.ip_local_port_range = "30000 40000"`,
		`sysctl net.ipv4.tcp_rmem = "4096 65536 2097152"`,
	}
	if dev != "" {
		acts = append(acts, "readahead "+dev+" = 2048")
	}
	return acts
}

func helperApply() int {
	s, err := New(Config{JournalPath: os.Getenv("AINKA_JOURNAL"), KnobInterval: -1, Logger: quiet})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	for i, act := range helperActions() {
		a, err := action.Parse(act)
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		out := s.Process([]decide.Decision{{TimeNs: uint64(i + 1), Kind: decide.Apply, Policy: "kill9", Action: a}}, nil)
		for _, r := range out {
			if r.Status != Applied {
				fmt.Println("error", act, r.Status, r.Err)
				return 1
			}
		}
		fmt.Println("applied", i+1)
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Println("done")
	time.Sleep(time.Minute) // killed before this ends
	return 0
}

func helperRecover() int {
	// New restores what the journal holds; no Close: the restart alone
	// must be enough.
	s, err := New(Config{JournalPath: os.Getenv("AINKA_JOURNAL"), Logger: quiet})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("open", len(s.Changes()))
	return 0
}

func TestKill9Restore(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip(8) for a named network namespace")
	}
	ns := fmt.Sprintf("ainka-k9-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v %s", err, out)
	}
	defer exec.Command("ip", "netns", "del", ns).Run()
	nsRead := func(name string) string {
		out, err := exec.Command("ip", "netns", "exec", ns, "cat", "/proc/sys/"+strings.ReplaceAll(name, ".", "/")).Output()
		if err != nil {
			return "error"
		}
		return norm(string(out))
	}
	cmd, vname := victim(t, "")
	pid := cmd.Process.Pid
	dev := ""
	if _, err := exec.LookPath("losetup"); err == nil {
		dev = loopDevice(t)
	}
	sysctls := []string{"net.core.somaxconn", "net.ipv4.tcp_slow_start_after_idle", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_rmem"}
	orig := map[string]string{}
	for _, n := range sysctls {
		orig[n] = nsRead(n)
	}
	origNice, origIO := procNice(pid), procIOPrio(pid)
	origRA := ""
	if dev != "" {
		origRA = readTrim("/sys/block/" + dev + "/queue/read_ahead_kb")
	}
	jp := filepath.Join(t.TempDir(), "journal")
	env := append(os.Environ(), "AINKA_JOURNAL="+jp, "AINKA_VICTIM="+vname, "AINKA_LOOP="+dev)

	child := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^$")
	child.Env = append(env, helperEnv+"=apply")
	stdout, _ := child.StdoutPipe()
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	killed := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "error") {
			t.Fatalf("helper: %s", line)
		}
		if line == "applied 4" { // in the middle: more changes follow
			child.Process.Signal(syscall.SIGKILL)
			killed = true
			break
		}
	}
	child.Wait()
	if !killed {
		t.Fatal("helper ended before it was killed")
	}
	// the first four changes are in place, unrestored
	if nsRead("net.core.somaxconn") != "1024" || nsRead("net.ipv4.tcp_slow_start_after_idle") != "0" || procNice(pid) != niceAside(origNice) || procIOPrio(pid) != "idle" {
		t.Fatalf("changes before the kill are not visible: somaxconn %s nice %d ioprio %s",
			nsRead("net.core.somaxconn"), procNice(pid), procIOPrio(pid))
	}
	if st, err := os.Stat(jp); err != nil || st.Size() == 0 {
		t.Fatalf("no journal after the kill: %v", err)
	}

	rec := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^$")
	rec.Env = append(env, helperEnv+"=recover")
	out, err := rec.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "open 0") {
		t.Fatalf("restart: %v %s", err, out)
	}
	for _, n := range sysctls {
		if got := nsRead(n); got != orig[n] {
			t.Errorf("%s = %q after restart, want %q", n, got, orig[n])
		}
	}
	if procNice(pid) != origNice || procIOPrio(pid) != origIO {
		t.Errorf("process priority after restart: nice %d ioprio %s, want %d %s", procNice(pid), procIOPrio(pid), origNice, origIO)
	}
	if dev != "" && readTrim("/sys/block/"+dev+"/queue/read_ahead_kb") != origRA {
		t.Errorf("readahead after restart %s, want %s", readTrim("/sys/block/"+dev+"/queue/read_ahead_kb"), origRA)
	}
}

func TestHostCPUWeightV1Fallback(t *testing.T) {
	needRoot(t)
	v1 := FindCgroup1CPU("/proc/self/mountinfo")
	root, err := FindCgroup2("/proc/self/mountinfo")
	if v1 == "" || err != nil || v2Has(root, "cpu") {
		t.Skip("the cpu controller is not bound to cgroup v1 on this host; TestHostCgroup covers cpu.weight in v2")
	}
	rel := fmt.Sprintf("ainka-test-v1-%d", os.Getpid())
	dir := filepath.Join(v1, rel)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd, _ := victim(t, "")
	os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0)
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		os.WriteFile(filepath.Join(v1, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0)
		for i := 0; i < 50 && os.Remove(dir) != nil; i++ {
			time.Sleep(20 * time.Millisecond)
		}
	}()
	s, err := New(Config{JournalPath: filepath.Join(t.TempDir(), "j"), KnobInterval: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	r := one(t, s, "cgroup "+rel+" cpu.weight = 20")
	if r.Status != Applied || readTrim(filepath.Join(dir, "cpu.shares")) != "205" || !strings.Contains(r.Clamped, "cgroup v1 cpu.shares 205") {
		t.Errorf("cpu.weight via v1: %+v shares %s", r, readTrim(filepath.Join(dir, "cpu.shares")))
	}
	s.Close()
	if got := readTrim(filepath.Join(dir, "cpu.shares")); got != "1024" {
		t.Errorf("cpu.shares after Close %s, want 1024", got)
	}
}

// TestKill9RestoreCgroup is the kill -9 test for cgroup files (outside a
// network namespace: "ip netns exec" remounts /sys without the cgroup
// mounts). cpu.weight is the v2 file, or v1 cpu.shares on hybrid hosts.
func TestKill9RestoreCgroup(t *testing.T) {
	needRoot(t)
	root, err := FindCgroup2("/proc/self/mountinfo")
	if err != nil {
		t.Skipf("no cgroup2: %v", err)
	}
	rel := fmt.Sprintf("ainka-k9-%d", os.Getpid())
	var dir, file, orig string
	if v2Has(root, "cpu") {
		if !strings.Contains(readTrim(filepath.Join(root, "cgroup.subtree_control")), "cpu") {
			if err := os.WriteFile(filepath.Join(root, "cgroup.subtree_control"), []byte("+cpu"), 0); err != nil {
				t.Skipf("enable cpu in %s: %v", root, err)
			}
		}
		dir, file = filepath.Join(root, rel), "cpu.weight"
	} else if v1 := FindCgroup1CPU("/proc/self/mountinfo"); v1 != "" {
		dir, file = filepath.Join(v1, rel), "cpu.shares"
	} else {
		t.Skip("no cpu controller in cgroup v2 or v1")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(dir)
	orig = readTrim(filepath.Join(dir, file))
	cmd, vname := victim(t, "")
	origNice := procNice(cmd.Process.Pid)
	jp := filepath.Join(t.TempDir(), "journal")
	env := append(os.Environ(), "AINKA_JOURNAL="+jp, "AINKA_VICTIM="+vname, "AINKA_CGROUP="+rel)
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(env, helperEnv+"=apply")
	stdout, _ := child.StdoutPipe()
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	killed := false
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "error") {
			t.Fatalf("helper: %s", l)
		} else if l == "applied 2" {
			child.Process.Signal(syscall.SIGKILL)
			killed = true
			break
		}
	}
	child.Wait()
	if !killed {
		t.Fatal("helper ended before it was killed")
	}
	if now := readTrim(filepath.Join(dir, file)); now == orig || procNice(cmd.Process.Pid) != niceAside(origNice) {
		t.Fatalf("changes before the kill not visible: %s = %s (was %s), nice %d", file, now, orig, procNice(cmd.Process.Pid))
	}
	rec := exec.Command(os.Args[0], "-test.run=^$")
	rec.Env = append(env, helperEnv+"=recover")
	if out, err := rec.CombinedOutput(); err != nil || !strings.Contains(string(out), "open 0") {
		t.Fatalf("restart: %v %s", err, out)
	}
	if now := readTrim(filepath.Join(dir, file)); now != orig || procNice(cmd.Process.Pid) != origNice {
		t.Errorf("after restart %s = %s (want %s), nice %d (want %d)", file, now, orig, procNice(cmd.Process.Pid), origNice)
	}
}
