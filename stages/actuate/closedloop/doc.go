// Package closedloop holds the end-to-end experiment of the decide and
// actuate stages on a real workload: CPU hogs (stress-ng) beside a
// latency-sensitive process (cyclictest) in separate cgroups, the live
// eBPF pipeline seeing run-queue latency from sched events, and a policy
// lowering the hogs' cpu.weight. It is a test that runs only when asked
// (AINKA_CLOSED_LOOP=1, as root, with stress-ng and cyclictest installed);
// scripts/closed-loop.sh runs it and docs/actuate.md has the figures.
package closedloop
