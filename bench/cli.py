"""Whole-process timings of the command line, as a person waits for them.

    python bench/cli.py [--index DIR ...] [--runs 5] [--fresh-export]

For each index (default: one of the bundled corpus built with the default model), times as
separate processes, side by side in one run: ``--help``, ``status``, an unchanged re-ingest of
corpus/, and a one-shot ``ask`` three ways: on the ONNX export, cold (the first process after the
export is made) and warm, and on torch (``COUNCIL_QA_QUERY_BACKEND=torch``) for comparison.
Prints the median and the fastest of ``--runs`` runs of each, their median CPU time (user +
system over all threads: what the command costs whatever else the machine is doing), the ask's
time beyond ``--help`` (the CLI's own start), the export's time and size, which backend the ask
really used and whether it imported torch, and the machine's load average before and after.
``--fresh-export`` deletes the model's cached export first, so its time is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "qa.cli"]
QUESTION = "what happened to sickness absence?"
EXPORT = """
import json, sys, time
from ingest.embed import export_for_queries, load_embedder
started = time.perf_counter()
folder = export_for_queries(load_embedder(sys.argv[1]))
print(json.dumps({"folder": str(folder) if folder else None, "seconds": time.perf_counter() - started}))
"""
PROBE = """
import json, sys
from qa.store import open_index
reader = open_index(sys.argv[1])
print(json.dumps({"embedder": type(reader.embedder).__name__, "torch": "torch" in sys.modules,
                  "sentence_transformers": "sentence_transformers" in sys.modules,
                  "gradio": "gradio" in sys.modules}))
"""


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds user + system over all threads, stdout) of one process."""
    cpu, started = cpu_of_children(), time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return elapsed, cpu_of_children() - cpu, done.stdout


def timed(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    wall, cpu, _ = run(CLI + args, env)
    return wall, cpu


def model_of(index: str) -> str:
    return json.loads((Path(index) / "manifest.json").read_text())["model"]


def export(model: str, fresh: bool) -> tuple[float | None, str, int]:
    """(seconds to export in a process that loads torch, folder, bytes); seconds None if reused."""
    from ingest.onnx_encoder import find_export

    existing = find_export(model)
    if existing is not None and fresh:
        shutil.rmtree(existing)
        existing = None
    out = run([sys.executable, "-c", EXPORT, model])[2]
    made = json.loads(out.strip().splitlines()[-1])
    folder = Path(made["folder"]) if made["folder"] else None
    size = sum(f.stat().st_size for f in folder.iterdir()) if folder else 0
    return (None if existing else made["seconds"]), str(folder), size


def bench_index(index: str, runs: int, fresh: bool) -> None:
    model = model_of(index)
    print(f"\n== {model}: index {index}")
    seconds, folder, size = export(model, fresh)
    made = "reused" if seconds is None else f"made in {seconds:.1f} s (torch load + export + check)"
    print(f"ONNX export {folder}: {size / 1e6:.0f} MB, {made}")
    ask = ["ask", QUESTION, "--index", index]
    rows: list[tuple[str, list[tuple[float, float]]]] = [("ask, ONNX, cold (first after the export)", [timed(ask)])]
    plan = {
        "council-qa --help": (["--help"], None),
        "council-qa status": (["status", "--index", index], None),
        "council-qa ingest corpus/ (unchanged)": (["ingest", str(ROOT / "corpus"), "--index", index, "-q"], None),
        "ask, ONNX, warm": (ask, None),
        "ask, torch (COUNCIL_QA_QUERY_BACKEND=torch)": (ask, {"COUNCIL_QA_QUERY_BACKEND": "torch"}),
    }
    for name, (argv, env) in plan.items():
        rows.append((name, [timed(argv, env) for _ in range(runs)]))
    start = statistics.median(wall for wall, _ in dict(rows)["council-qa --help"])
    print(f"{'command (whole process)':46s} {'median s':>9s} {'best s':>7s} {'CPU s':>6s} {'beyond --help':>14s}")
    for name, times in rows:
        wall = statistics.median(w for w, _ in times)
        beyond = f"{wall - start:14.2f}" if name.startswith("ask") else ""
        print(f"{name:46s} {wall:9.2f} {min(w for w, _ in times):7.2f} "
              f"{statistics.median(c for _, c in times):6.2f} {beyond}")
    probe = json.loads(run([sys.executable, "-c", PROBE, index])[2].strip().splitlines()[-1])
    print(f"the ask path loaded {probe['embedder']}; imported torch: {probe['torch']}, "
          f"sentence_transformers: {probe['sentence_transformers']}, gradio: {probe['gradio']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", action="append", help="an index to time against (repeatable)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--fresh-export", action="store_true", help="delete the cached ONNX export first")
    args = parser.parse_args()
    indexes = args.index or [str(Path(tempfile.mkdtemp(prefix="council-qa-bench-")) / "index")]
    if not args.index:
        timed(["ingest", str(ROOT / "corpus"), "--index", indexes[0], "-q"])
    sys.path.insert(0, str(ROOT))
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores; "
          f"{args.runs} runs each")
    for index in indexes:
        bench_index(index, args.runs, args.fresh_export)
    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
