#!/usr/bin/env python3
"""Which tasks ran, second by second, in a stretch of a fault recording.

    ainka replay T.trace --tap decode > T.decode
    scripts/faults/comms.py T.decode FROM TO [N]

Prints, for each second from FROM to TO (seconds after the trace's first
event, the origin `--tap predict` windows count from too), the N (6) task
names seen most often in the sampled sched_switch records (the task
switched out and the one switched in) and in the sampled page faults.
The benchmark's own tasks are stress-ng, dd, sh/true/timeout (the fork
storm), python3 (the leak, the failing opens), fio, record.sh and sleep;
any other user task is another job on the host, whose load the labels
call clean (docs/predict.md, "R6 and clean2").
"""
import collections
import json
import sys


def main(path, lo, hi, n=6):
    t0 = None
    bins = collections.defaultdict(collections.Counter)
    with open(path) as f:
        for line in f:
            e = json.loads(line)
            if t0 is None:
                t0 = e["ts_ns"]
            s = int((e["ts_ns"] - t0) // 1_000_000_000)
            if not lo <= s <= hi:
                continue
            if e["kind"] == "sched_switch":
                bins[s][e["comm"]] += 1
                bins[s][e["next_comm"]] += 1
            elif e["kind"] == "page_fault":
                bins[s][e["comm"]] += 1
    for s in range(lo, hi + 1):
        top = ", ".join(f"{c} {k}" for c, k in bins[s].most_common(n))
        print(f"{s:5d} s  {top}")


if __name__ == "__main__":
    usage = "usage: comms.py T.decode FROM TO [N]"
    if len(sys.argv) not in (4, 5):
        sys.exit(usage)
    try:
        nums = [int(a) for a in sys.argv[2:]]
    except ValueError as err:
        sys.exit(f"comms.py: FROM, TO and N must be whole seconds/counts: {err}\n{usage}")
    main(sys.argv[1], *nums)
