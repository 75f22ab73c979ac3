#!/usr/bin/env python3
"""Compare two activation folders (ours from `spacetime-probe extract`, the script's) layer by layer.

    python bench/scripts/compare.py OURS THEIRS [--tolerance 1e-4]

Checks the manifests' rows, promptsSha256, token, prompt, numEntities, hiddenSize and layer count, then the
largest absolute difference per layer (float16/bfloat16 files are widened; bfloat16 is stored as <u2 bits).
Prints one JSON line and exits 1 when anything differs beyond the tolerance.
"""
import json
import os
import sys

import numpy as np


def load(folder, entry, dtype):
    array = np.load(os.path.join(folder, entry["file"]), mmap_mode="r")
    if dtype == "bfloat16":
        return (np.asarray(array, dtype=np.uint32) << 16).view(np.float32)
    return np.asarray(array, dtype=np.float32)


def main():
    args = sys.argv[1:]
    tolerance = 1e-4
    if "--tolerance" in args:
        at = args.index("--tolerance")
        tolerance = float(args[at + 1])
        del args[at:at + 2]
    ours, theirs = args
    a = json.load(open(os.path.join(ours, "manifest.json"), encoding="utf-8"))
    b = json.load(open(os.path.join(theirs, "manifest.json"), encoding="utf-8"))
    problems = [f"{key}: {a.get(key)!r} != {b.get(key)!r}" for key in
                ("rows", "promptsSha256", "token", "prompt", "numEntities", "hiddenSize") if a.get(key) != b.get(key)]
    if len(a["layers"]) != len(b["layers"]):
        problems.append(f"layers: {len(a['layers'])} != {len(b['layers'])}")
    worst = []
    for ea, eb in zip(a["layers"], b["layers"]):
        x, y = load(ours, ea, a.get("dtype", "float32")), load(theirs, eb, b.get("dtype", "float32"))
        worst.append(float(np.max(np.abs(x - y))) if x.shape == y.shape else float("inf"))
    if any(not (value <= tolerance) for value in worst):
        problems.append(f"max |difference| per layer {worst} exceeds {tolerance}")
    print(json.dumps({"ours": ours, "theirs": theirs, "maxAbsDiffPerLayer": worst, "tolerance": tolerance, "problems": problems}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
