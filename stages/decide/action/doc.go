// Package action is the action language of AINKA policies and the static
// table of what may be changed: the sysctl allowlist with value ranges and
// step bounds, the cgroup v2 files, the process selectors.
//
//	sysctl vm.swappiness = 10
//	sysctl net.core.rmem_max *= 2
//	sysctl net.ipv4.tcp_rmem = "4096 131072 16777216"
//	cgroup ainka/hogs cpu.weight = 20
//	cgroup ainka/hogs cpu.max = "50000 100000"
//	readahead vda = 1024
//	nice top-cpu += 5          (also name:stress-ng, cgroup:ainka/hogs, pid:42,43)
//	ioprio name:rsync = idle   (rt:N, be:N, idle)
//	sched pid:42,43 = idle     (batch, idle: never back towards other)
//	cpufreq governor = powersave
//	cpufreq epp = power
//	kernel recommend sched_weight = 20
//	kernel state = emergency
//	notify                     (advice only: log, change nothing)
//	reduce_freq                (the design's short form: cpufreq epp = power)
//
// It lives apart from the actuators so that the policy engine can reject a
// bad action when the policy file is loaded, naming the column, while the
// actuators (which import this package) enforce the same table at run time.
package action
