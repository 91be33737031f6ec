"""Benchmark: read and segment every report in ../shared/corpus/councils (and the seed).

Not a test. Run ``python bench/segment.py [DIR ...]``; prints per-document pages,
numbered paragraphs, unnumbered blocks and seconds, then the total pages per second.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.errors import UnreadableReport  # noqa: E402
from ingest.readers import SUPPORTED_SUFFIXES  # noqa: E402
from ingest.report import load_report  # noqa: E402

DEFAULT_DIRS = [ROOT.parent / "shared" / "corpus" / "councils", ROOT / "corpus"]


def _files(dirs: list[Path]) -> list[Path]:
    out: list[Path] = []
    for d in dirs:
        if d.is_file():
            out.append(d)
        elif d.is_dir():
            out.extend(
                p for p in sorted(d.rglob("*"))
                if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and "eval" not in p.parts
            )
    return out


def main(argv: list[str]) -> int:
    dirs = [Path(a) for a in argv] or DEFAULT_DIRS
    files = _files(dirs)
    if not files:
        print("no documents found in " + ", ".join(map(str, dirs)))
        return 1
    total_pages = 0
    total_time = 0.0
    print(f"{'document':60} {'pages':>5} {'paras':>5} {'blocks':>6} {'sec':>6}")
    for path in files:
        start = time.perf_counter()
        try:
            report = load_report(path)
        except UnreadableReport as exc:
            elapsed = time.perf_counter() - start
            total_time += elapsed
            print(f"{path.name[:60]:60} {'-':>5} {'-':>5} {'-':>6} {elapsed:6.2f}  unreadable: {exc.reason}")
            continue
        elapsed = time.perf_counter() - start
        total_time += elapsed
        total_pages += report.pages
        numbered = sum(p.numbered for p in report.paragraphs)
        blocks = len(report.paragraphs) - numbered
        print(f"{path.name[:60]:60} {report.pages:5d} {numbered:5d} {blocks:6d} {elapsed:6.2f}")
    rate = total_pages / total_time if total_time else float("inf")
    print(f"\n{len(files)} documents, {total_pages} pages in {total_time:.1f} s: {rate:.1f} pages/second")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
