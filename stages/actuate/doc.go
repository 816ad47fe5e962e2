// Package actuate is the stage that changes the host: it turns decide's
// Decisions into writes to real knobs (sysctls under /proc/sys, cgroup v2
// interface files, block readahead, process nice and ioprio, cpufreq, and
// the kernel module's recommendations and state), safely.
//
// Safety, in the order a change goes through it:
//   - validation against the table of package action (allowlist, ranges),
//     then clamping to the range and to the knob's step bound, and to
//     coupled limits between sysctls (tcp_rmem max ≤ rmem_max, ...);
//   - a rate limit per knob and overall;
//   - yield: a knob AINKA changed whose value is no longer what AINKA
//     wrote has been changed by someone else; AINKA lets it go and logs
//     so, and never touches it again for that change;
//   - the journal (package journal): the original value is on disk before
//     the write, so that Close (on exit) and New (at the next start, after
//     a crash) restore every knob;
//   - dry-run: everything above runs, the write does not; the result says
//     exactly what would change.
//
// Every change is logged (log/slog) with what, why (policy, condition and
// its values) and, when decide measures it, its effect.
package actuate
