#!/usr/bin/env python3
"""Largest 5-second fall of mem_available_mb per label of a fault recording.

    scripts/faults/memdrop.py TAP LABELS [WARMUP]

TAP is `ainka replay T.trace --tap predict` output, LABELS the recording's
labels. A window belongs to a fault from its start to 10 s after its end
(the recovery tools/faults excludes), else it is clean; the first WARMUP
(300) windows to neither. Missing values are filled forward. It shows
whether a memory leak moved the host's available memory more than the
host's other work did (docs/predict.md).
"""
import json
import sys


def main(tap, labels, warmup=300):
    faults = json.load(open(labels))["faults"]
    rows = [json.loads(line) for line in open(tap)]
    vals, last = [], None
    for r in rows:
        v = r["features"]["mem_available_mb"]["value"]
        last = v if v is not None else last
        vals.append(last)
    worst = {}
    for i in range(max(warmup, 50), len(rows)):
        if vals[i] is None or vals[i - 50] is None:
            continue
        end = rows[i]["end_ns"]
        label = next((f["name"] for f in faults if f["start_ns"] < end <= f["end_ns"] + 10_000_000_000), "clean")
        worst[label] = max(worst.get(label, float("-inf")), vals[i - 50] - vals[i])
    for label, fall in worst.items():
        print(f"{label:14s} largest 5 s fall of mem_available_mb: {fall:.0f} MB")


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:]))
