#!/usr/bin/env python3
"""Seconds of a fault recording in which other jobs ran, per label.

    ainka replay T.trace --tap decode > T.decode
    scripts/faults/foreign.py T.decode T.labels.json SCHED [RATE]

SCHED is the recording's sched_switch sampling (1 in SCHED, its README
entry). A second is foreign when the tasks that are neither the
benchmark's (record.sh and its subshells, dd, sh/true/timeout, python3,
fio, stress-ng, sleep) nor kernel threads were switched in or out at
least RATE (480) times in it, estimated as sampled records x SCHED.
Seconds are counted from the trace's first event and labelled like
tools/faults labels windows: a fault from 5 s before its start (a job
already running when it starts moves its features too) to its end, its
recovery the 10 s after, the first 30 s warm-up, the rest clean. The
foreign seconds show where the labels call another job's load clean,
or where a fault ran beside one (docs/predict.md, "R6 and clean2").
"""
import collections
import json
import sys

OWN = {"record.sh", "dd", "sh", "true", "timeout", "python3", "fio", "sleep", "ainka"}
KERNEL = ("kworker", "rcu_", "ksoftirqd", "migration", "swapper", "kcompactd", "kswapd", "jbd2",
          "cpuhp", "khugepaged", "memfd:", "systemd", "irq/", "kdamond", "writeback", "kblockd",
          "spawner", "stress-ng")


def foreign(comm):
    return bool(comm) and comm not in OWN and not comm.startswith(KERNEL)


def main(decode, labels, sched, rate=480):
    faults = json.load(open(labels))["faults"]
    t0, per = None, collections.Counter()
    with open(decode) as f:
        for line in f:
            e = json.loads(line)
            if t0 is None:
                t0 = e["ts_ns"]
            if e["kind"] == "sched_switch":
                s = (e["ts_ns"] - t0) // 1_000_000_000
                per[s] += sched * (foreign(e["comm"]) + foreign(e["next_comm"]))

    def label(s):
        t = t0 + s * 1_000_000_000 + 500_000_000
        for f in faults:
            if f["start_ns"] - 5e9 < t <= f["end_ns"]:
                return f["name"]
            if f["end_ns"] < t <= f["end_ns"] + 10e9:
                return "recovery"
        return "clean" if s >= 30 else "warm-up"

    seconds = collections.Counter(label(s) for s in range((max(per) if per else 0) + 1))
    hits = collections.defaultdict(list)
    for s in sorted(per):
        if per[s] >= rate:
            hits[label(s)].append(s)
    for name in seconds:
        h = hits.get(name, [])
        span = f" ({h[0]}-{h[-1]} s)" if h else ""
        print(f"{name:14s} {len(h):4d} of {seconds[name]:4d} s foreign{span}")


if __name__ == "__main__":
    usage = "usage: foreign.py T.decode T.labels.json SCHED [RATE]"
    if len(sys.argv) not in (4, 5):
        sys.exit(usage)
    try:
        nums = [int(a) for a in sys.argv[3:]]
    except ValueError as err:
        sys.exit(f"foreign.py: SCHED and RATE must be whole numbers: {err}\n{usage}")
    main(sys.argv[1], sys.argv[2], *nums)
