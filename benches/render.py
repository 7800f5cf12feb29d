#!/usr/bin/env python3
"""Whole-process benchmark: `sparkup render --profile prod` against `kubectl kustomize` on a folder
holding the same rendered objects, interleaved in one run so both see the same machine state.

Prints the median wall time of each, the ratio sparkup/kubectl, and sparkup's peak RSS, measured
by GNU time (`apt-get install time`) in separate runs: the rusage of a child forked from Python
would count Python's own pages from before the exec.

Usage: python3 benches/render.py [--runs N] [--binary PATH]
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

from common import parse_args


def run_once(argv):
    """Runs argv with stdout discarded; returns its wall time in seconds."""
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed: {proc.stderr.decode()}")
    return elapsed


def peak_rss_kib(argv, runs):
    """The largest maximum resident set size of `runs` runs, in KiB, as GNU time reports it."""
    peak = 0
    for _ in range(runs):
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M"] + argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=True,
        )
        peak = max(peak, int(proc.stderr.decode().strip().splitlines()[-1]))
    return peak


def main():
    args = parse_args(__doc__, 60)

    with tempfile.TemporaryDirectory(prefix="sparkup-bench-") as tmp:
        folder = os.path.join(tmp, "prod")
        subprocess.run(
            [args.binary, "render", "--profile", "prod", "--output-dir", folder],
            check=True,
            stderr=subprocess.DEVNULL,
        )
        sparkup = [args.binary, "render", "--profile", "prod"]
        kustomize = ["kubectl", "kustomize", folder]
        for argv in (sparkup, kustomize):  # warm the page cache
            run_once(argv)

        times = {"sparkup": [], "kubectl": []}
        for _ in range(args.runs):
            times["sparkup"].append(run_once(sparkup))
            times["kubectl"].append(run_once(kustomize))
        peak_rss = peak_rss_kib(sparkup, 10)
        kubectl_rss = peak_rss_kib(kustomize, 3)

    median = {k: statistics.median(v) for k, v in times.items()}
    ratio = median["sparkup"] / median["kubectl"]
    print(f"runs (interleaved):                 {args.runs} each")
    print(f"sparkup render --profile prod:      median {median['sparkup'] * 1000:8.2f} ms")
    print(f"kubectl kustomize (same objects):   median {median['kubectl'] * 1000:8.2f} ms")
    print(f"ratio sparkup / kubectl:            {ratio:.3f}  (target <= 0.10)")
    print(f"sparkup peak RSS:                   {peak_rss / 1024:.1f} MiB  (target <= 15 MB)")
    print(f"kubectl kustomize peak RSS:         {kubectl_rss / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
