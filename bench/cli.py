"""Whole-process timings of the command line, as a person waits for them.

    python bench/cli.py [--index DIR] [--runs 3]

Builds an index of the bundled corpus (unless --index names one), then times, as separate
processes: ``--help``, ``status``, an unchanged re-ingest and a one-shot ``ask``. Prints the
median and the fastest of ``--runs`` runs of each, and the machine's load at the start.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "qa.cli"]


def timed(args: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(CLI + args, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    index = args.index or str(Path(tempfile.mkdtemp(prefix="council-qa-bench-")) / "index")
    if not args.index:
        timed(["ingest", str(ROOT / "corpus"), "--index", index, "-q"])
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; index {index}")
    commands = {
        "council-qa --help": ["--help"],
        "council-qa status": ["status", "--index", index],
        "council-qa ingest corpus/ (unchanged)": ["ingest", str(ROOT / "corpus"), "--index", index, "-q"],
        "council-qa ask \"what happened to sickness absence?\"": ["ask", "what happened to sickness absence?",
                                                                  "--index", index],
    }
    print(f"{'command':56s} {'median s':>9s} {'best s':>7s}")
    for name, argv in commands.items():
        runs = [timed(argv) for _ in range(args.runs)]
        print(f"{name:56s} {statistics.median(runs):9.2f} {min(runs):7.2f}")


if __name__ == "__main__":
    main()
