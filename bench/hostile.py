"""Hostile input files through the isolated reader: outcome, seconds and peak memory per file.

    .venv/bin/python bench/hostile.py              the hostile set (built in a temporary folder)
    .venv/bin/python bench/hostile.py --corpus     the shared corpus: load_report vs read_reports

Each hostile file is read by its own ``read_reports`` call (a fresh child), so the child's
peak resident memory (VmHWM, sampled from /proc every 10 ms) belongs to that file alone.
Targets: at most 60 s and 1 GB per file.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from hostile_files import build_all  # noqa: E402

from ingest.errors import UnreadableReport  # noqa: E402
from ingest.isolate import read_reports  # noqa: E402
from ingest.report import load_report  # noqa: E402

SEED_PDF = ROOT / "corpus" / "worcestershire-2020-02-13-chief-executive-annual-report.pdf"
COUNCILS = ROOT.parent / "shared" / "corpus" / "councils"


class PeakSampler:
    """Highest VmHWM (kB) seen in any live child of this process while running."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            for child in multiprocessing.active_children():
                try:
                    status = Path(f"/proc/{child.pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def hostile_table(bomb_mb: int, timeout_s: float, memory_mb: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        files = build_all(Path(folder), SEED_PDF, bomb_mb=bomb_mb)
        files["good: seed report"] = SEED_PDF
        print(f"built {len(files)} files in {time.perf_counter() - started:.1f} s\n")
        print(f"{'file':24} {'size':>9} {'seconds':>8} {'peak MB':>8}  outcome")
        over = 0
        for key, path in files.items():
            started = time.perf_counter()
            with PeakSampler() as sampler:
                [(_, outcome)] = list(read_reports([path], timeout_s=timeout_s, memory_mb=memory_mb))
            seconds = time.perf_counter() - started
            peak_mb = sampler.peak_kb / 1024
            over += seconds > 60 or peak_mb > 1024
            text = (f"ERROR {outcome.reason}" if isinstance(outcome, UnreadableReport)
                    else f"OK {len(outcome.paragraphs)} paragraphs")
            size = path.stat().st_size
            peak = f"{peak_mb:>8.0f}" if peak_mb else f"{'<10ms':>8}"
            print(f"{key[:24]:24} {size / 1024:>7.0f}KB {seconds:>8.2f} {peak}  {text}")
        print(f"\nfiles over 60 s or 1 GB: {over}")
        return 1 if over else 0


def corpus_comparison() -> int:
    paths = sorted(p for p in COUNCILS.rglob("*") if p.suffix.lower() in (".pdf", ".md"))
    if not paths:
        print(f"no shared corpus at {COUNCILS}")
        return 1
    started = time.perf_counter()
    list(read_reports([SEED_PDF]))  # starts the forkserver now, with the code the parent imported
    print(f"first read_reports call (starts the forkserver): {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    direct: dict[Path, int | str] = {}
    for path in paths:
        try:
            direct[path] = len(load_report(path).paragraphs)
        except UnreadableReport as exc:
            direct[path] = exc.reason
    print(f"{len(paths)} files  in-process load_report: {time.perf_counter() - started:.1f} s")
    status = 0
    for workers in (1, 2):
        started = time.perf_counter()
        isolated = {path: (outcome.reason if isinstance(outcome, UnreadableReport) else len(outcome.paragraphs))
                    for path, outcome in read_reports(paths, workers=workers)}
        seconds = time.perf_counter() - started
        differ = [f"{path.name}: {direct[path]} vs {isolated[path]}"
                  for path in paths if isolated[path] != direct[path]]
        status |= bool(differ)
        print(f"{len(paths)} files  read_reports workers={workers}: {seconds:.1f} s  "
              f"(differences from load_report: {differ or 'none'})")
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="store_true", help="time the shared corpus instead")
    parser.add_argument("--bomb-mb", type=int, default=1024, help="inflated size of the .docx bomb")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--memory-mb", type=int, default=1024)
    args = parser.parse_args()
    if args.corpus:
        return corpus_comparison()
    return hostile_table(args.bomb_mb, args.timeout, args.memory_mb)


if __name__ == "__main__":
    sys.exit(main())
