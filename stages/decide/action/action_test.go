package action

import (
	"errors"
	"strings"
	"testing"
)

func TestParseGood(t *testing.T) {
	cases := map[string]string{
		"sysctl vm.swappiness = 10":                        "sysctl vm.swappiness = 10",
		"sysctl net.core.rmem_max*=2":                      "sysctl net.core.rmem_max *= 2",
		`sysctl net.ipv4.tcp_rmem = "4096 131072 6291456"`: `sysctl net.ipv4.tcp_rmem = "4096 131072 6291456"`,
		"cgroup /ainka/hogs/ cpu.weight = 20":              "cgroup ainka/hogs cpu.weight = 20",
		`cgroup hogs cpu.max = "50000 100000"`:             `cgroup hogs cpu.max = "50000 100000"`,
		"cgroup hogs memory.high = max":                    "cgroup hogs memory.high = max",
		"readahead vda = 1024":                             "readahead vda = 1024",
		"nice top-cpu += 5":                                "nice top-cpu += 5",
		"nice name:stress-ng=10":                           "nice name:stress-ng = 10",
		"ioprio cgroup:hogs = idle":                        "ioprio cgroup:hogs = idle",
		"nice pid:42,43,1000 = 10":                         "nice pid:42,43,1000 = 10",
		"sched pid:42,43 = idle":                           "sched pid:42,43 = idle",
		"sched name:stress-ng = batch":                     "sched name:stress-ng = batch",
		"cpufreq governor = powersave":                     "cpufreq governor = powersave",
		"reduce_freq":                                      "cpufreq epp = power",
		"kernel recommend sched_weight = 20":               "kernel recommend sched_weight = 20",
		"kernel state = emergency":                         "kernel state = emergency",
		"notify":                                           "notify",
		"sysctl vm.swappiness -= -5":                       "sysctl vm.swappiness -= -5",
	}
	for src, want := range cases {
		a, err := Parse(src)
		if err != nil {
			t.Errorf("Parse(%q): %v", src, err)
			continue
		}
		if a.String() != want {
			t.Errorf("Parse(%q) = %q, want %q", src, a.String(), want)
		}
	}
	a, _ := Parse("cgroup a/b cpu.weight = 5")
	b, _ := Parse("cgroup /a/b/ cpu.weight *= 2")
	if a.Key() != b.Key() || a.Key() != "cgroup:a/b:cpu.weight" {
		t.Errorf("keys %q %q", a.Key(), b.Key())
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		src string
		col int
		msg string
	}{
		{"", 1, "empty action"},
		{"frobnicate x = 1", 1, `unknown action "frobnicate"`},
		{"sysctl kernel.panic = 1", 8, "not on the allowlist"},
		{"sysctl vm.swappiness = 500", 24, "outside the allowed range"},
		{"sysctl vm.swappiness = lots", 24, "not an integer"},
		{"sysctl vm.swappiness += x", 25, "needs a number"},
		{"sysctl vm.swappiness", 21, "expected an operator"},
		{"nice top-cpu -= 10", 17, "raising the processes' priority"},
		{"nice top-cpu += -5", 17, "raising the processes' priority"},
		{"nice pid:7 *= 0.5", 15, "raising the processes' priority"},
		{"sysctl vm.swappiness ~ 5", 22, "expected an operator"},
		{"sysctl vm.swappiness = 5 6", 26, "unexpected \"6\""},
		{`sysctl net.ipv4.tcp_rmem = "4096 1 2"`, 28, "outside the allowed range"},
		{`sysctl net.ipv4.tcp_rmem = "8192 4096 1000000"`, 28, "must not decrease"},
		{`sysctl net.ipv4.tcp_rmem *= 2`, 29, "only \"=\" applies"},
		{`sysctl vm.swappiness = "5`, 24, "unterminated"},
		{"cgroup ../etc cpu.weight = 5", 8, "escapes the cgroup root"},
		{"cgroup / cpu.weight = 5", 8, "root cgroup"},
		{"cgroup a cgroup.procs = 1", 10, "not allowed"},
		{"cgroup a cpu.weight = 0", 23, "outside the allowed range"},
		{`cgroup a cpu.max = "10 100000"`, 20, "quota"},
		{`cgroup a cpu.max += 5`, 21, "cpu.max takes"},
		{"readahead ../sda = 5", 11, "not a device name"},
		{"nice everyone = 5", 6, "bad process selector"},
		{"nice name:x = -5", 15, "outside the allowed range"},
		{"ioprio name:x = rt:1", 17, "not allowed"},
		{"nice pid:42,1 = 5", 6, `process id "1"`},
		{"nice pid:42,42 = 5", 6, "42 twice"},
		{"nice pid:42,043 = 5", 6, `process id "043"`},
		{"nice pid:2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18 = 5", 6, "at most 16"},
		{"sched pid:42 = other", 16, "never raises a priority"},
		{"sched pid:42 = fifo", 16, "sched takes"},
		{"sched pid:42 += 1", 17, "sched takes"},
		{"sched everyone = idle", 7, "bad process selector"},
		{"cpufreq governor = turbo", 20, "not one of"},
		{"cpufreq fan = on", 9, "want governor or epp"},
		{"kernel state = sleepy", 16, "kernel state must"},
		{"kernel recommend x = 1.5", 22, "must be an integer"},
		{"notify me", 8, "takes no arguments"},
		{"cgroup a", 9, "ends too early"},
	}
	for _, c := range cases {
		_, err := Parse(c.src)
		var ae *Error
		if !errors.As(err, &ae) {
			t.Errorf("Parse(%q) = %v, want *Error", c.src, err)
			continue
		}
		if ae.Col != c.col || !strings.Contains(ae.Msg, c.msg) {
			t.Errorf("Parse(%q) = %v, want column %d ...%s...", c.src, err, c.col, c.msg)
		}
	}
}

func TestCheckValue(t *testing.T) {
	s := CgroupFiles["io.weight"]
	s.Name = "io.weight"
	for _, v := range []string{"default 100", "50"} {
		if err := s.CheckValue(v); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	if err := s.CheckValue("default 0"); err == nil {
		t.Error("io.weight 0 accepted")
	}
}
