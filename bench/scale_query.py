"""The query half of ``bench/scale.py`` (see its docstring): ``query`` and ``threshold``."""

from __future__ import annotations

import argparse
import functools
import json
import os
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from scale import pct, peak_mb, rss_mb

MODES = ("hybrid", "dense", "lexical")
TIMED = ("lexical", "window_ids_for_reports", "window_paragraphs", "paragraph_flags", "paragraphs")
"""IndexReader methods timed one by one (plus the vector search) to show where the time goes."""


class LookupEmbedder:
    """The fake query embedder: the dev questions' vectors, embedded once by ``build`` with the
    index's real model (so dense search finds what the model would)."""

    def __init__(self, name: str, questions: Sequence[str], vectors: np.ndarray) -> None:
        self.name, self.dimension = name, int(vectors.shape[1])
        self.rows = {q: v for q, v in zip(questions, vectors, strict=True)}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.rows[t] for t in texts])


def flat_view(out: Path) -> Path:
    """A sibling index directory whose vectors are the exact copy (symlinks, same database)."""
    view = out.parent / f"{out.name}-flat"
    gen = json.loads((out / "manifest.json").read_text())["generation"]
    (view / gen).mkdir(parents=True, exist_ok=True)
    for name, target in (("council.sqlite", "council.sqlite"), ("windows.faiss", "windows-flat.faiss")):
        link = view / gen / name
        if not link.exists():
            link.symlink_to(out / gen / target)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["vectors"], manifest["faiss_index"] = {"kind": "flat"}, "IndexIDMap2(IndexFlatIP)"
    (view / "manifest.json").write_text(json.dumps(manifest))
    return view


def instrument(reader, spent: dict[str, float]) -> None:  # noqa: ANN001
    """Wrap the reader's lookups and the vector search so each adds its time to ``spent``."""
    from ingest import vector_index

    def timed(name: str, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run(*a, **kw):  # noqa: ANN002, ANN003, ANN202
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[name] += (time.perf_counter() - t) * 1000
        return run

    for name in TIMED:
        setattr(reader, name, timed(name, getattr(reader, name)))
    if not getattr(vector_index.search, "__wrapped__", None):
        vector_index.search = timed("vector search", vector_index.search)


def filters_for(reader, qs: list[str]) -> dict[str, Callable[[int], object]]:  # noqa: ANN001
    from qa.records import Filters

    reports = reader.reports()
    sizes: dict[str, int] = defaultdict(int)
    for r in reports:
        sizes[r.council] += 1
    council = max(sizes, key=sizes.__getitem__)
    print(f"filters: council {council!r} ({sizes[council]} reports), year 2024"
          f" ({sum(1 for r in reports if (r.date or '').startswith('2024'))} reports), one report (rotating)")
    return {
        "none": lambda i: Filters(),
        "council": lambda i: Filters(council=council),
        "year": lambda i: Filters(since="2024-01-01", until="2024-12-31"),
        "report": lambda i: Filters(reports=(reports[(i * 37) % len(reports)].source,)),
    }


def time_retrieve(reader, embedder: LookupEmbedder, qs: list[str],  # noqa: ANN001
                  modes: Sequence[str] = MODES, only: Sequence[str] = ()) -> dict:
    from qa.retrieve import retrieve

    spent: dict[str, float] = defaultdict(float)
    instrument(reader, spent)
    filters = {k: v for k, v in filters_for(reader, qs).items() if not only or k in only}
    tops = {}
    for mode in modes:
        for fname, make in filters.items():
            for i, q in enumerate(qs[:3]):
                retrieve(reader, embedder, q, k=10, mode=mode, filters=make(i))  # warm up
            spent.clear()
            times, top = [], []
            for i, q in enumerate(qs):
                t = time.perf_counter()
                hits = retrieve(reader, embedder, q, k=10, mode=mode, filters=make(i))
                times.append((time.perf_counter() - t) * 1000)
                top.append([h.paragraph_id for h in hits])
            tops[f"{mode}/{fname}"] = top
            parts = ", ".join(f"{k} {v / len(qs):.1f}" for k, v in sorted(spent.items(), key=lambda kv: -kv[1]))
            print(f"  retrieve {mode:8s} {fname:8s} p50 {pct(times, 50):6.1f} ms  p95 {pct(times, 95):6.1f} ms"
                  f"   mean ms per call: {parts}", flush=True)
    return tops


def recall_table(index, queries: np.ndarray, truth: np.ndarray, nprobes: list[int]) -> None:  # noqa: ANN001
    from ingest import vector_index

    search = getattr(vector_index.search, "__wrapped__", vector_index.search)
    keep = index.nprobe
    for nprobe in nprobes:
        index.nprobe = nprobe
        times, recalls = [], []
        for q, want in zip(queries, truth, strict=True):
            t = time.perf_counter()
            _, ids = search(index, q, 800)
            times.append((time.perf_counter() - t) * 1000)
            recalls.append(len(set(ids[:10].tolist()) & set(want.tolist())) / 10)
        print(f"  IVF{index.nlist} nprobe={nprobe:3d}: window search (800) p50 {pct(times, 50):5.1f} ms"
              f"  p95 {pct(times, 95):5.1f} ms  recall@10 vs exact {np.mean(recalls):.3f}", flush=True)
    index.nprobe = keep


def query(args: argparse.Namespace) -> None:
    from ingest import vector_index
    from qa.store import open_index

    out = Path(args.out)
    where = flat_view(out) if args.vectors == "flat" else out
    qs = json.loads((out / "questions.json").read_text())
    qvecs = np.load(out / "questions.npy")
    t = time.perf_counter()
    reader = open_index(where)
    vector_index.prepare_for_search(reader.vectors, reader.manifest)
    counts = reader.manifest["counts"]
    print(f"{where}: {counts['paragraphs']:,} paragraphs, {counts['windows']:,} windows, {counts['reports']:,}"
          f" reports; vectors {reader.manifest['vectors']}; opened in {time.perf_counter() - t:.1f} s,"
          f" RSS {rss_mb():.0f} MB; load {os.getloadavg()[0]:.1f}", flush=True)
    qs, qvecs = qs[: args.questions], qvecs[: args.questions]
    embedder = LookupEmbedder(reader.model_name, qs, qvecs)
    tops = time_retrieve(reader, embedder, qs, args.modes, args.filters)
    truth_file = out / "truth.npy"
    if args.vectors == "flat":
        truth = np.stack([vector_index.search(reader.vectors, q, 10)[1] for q in np.load(out / "questions.npy")])
        np.save(truth_file, truth)
        (out / "tops-flat.json").write_text(json.dumps(tops))
    else:
        report_ivf(reader, out, args, tops)
    if args.every_word:
        import qa.lexical

        qa.lexical.COMMON_TERM_PARAGRAPHS = 10**12
        print("  every question word searched (no common-word rule):")
        time_retrieve(reader, embedder, qs, ("hybrid", "lexical"), args.filters)
    print(f"  RSS {rss_mb():.0f} MB, peak {peak_mb():.0f} MB; load {os.getloadavg()[0]:.1f}")


def report_ivf(reader, out: Path, args: argparse.Namespace, tops: dict) -> None:  # noqa: ANN001
    """Recall@10 of the window search against exact search (the flat run's, or this index with
    every list probed, which is exact), per nprobe; retrieve() top-10 shared with the flat run."""
    from ingest import vector_index

    qvecs = np.load(out / "questions.npy")[: args.recall_questions]
    truth_file = out / "truth.npy"
    if truth_file.exists():
        truth = np.load(truth_file)[: len(qvecs)]
    else:
        keep, reader.vectors.nprobe = reader.vectors.nprobe, reader.vectors.nlist
        truth = np.stack([vector_index.search(reader.vectors, q, 10)[1] for q in qvecs])
        reader.vectors.nprobe = keep
    recall_table(reader.vectors, qvecs, truth, args.nprobe)
    if (out / "tops-flat.json").exists():
        exact = json.loads((out / "tops-flat.json").read_text())
        for key in sorted(tops.keys() & exact.keys()):
            same = np.mean([len(set(a) & set(b)) / max(1, len(b)) for a, b in zip(tops[key], exact[key], strict=True)])
            print(f"  retrieve {key}: top-10 paragraphs shared with exact search {same:.3f}")


def threshold(args: argparse.Namespace) -> None:
    """Exact search (IndexIDMap2(IndexFlatIP), 800 neighbours, one query at a time) against size."""
    import faiss

    rng = np.random.default_rng(0)
    for dim in (768, 384):
        xb = rng.standard_normal((1_000_000, dim), dtype=np.float32)
        faiss.normalize_L2(xb)
        qs = rng.standard_normal((100, dim), dtype=np.float32)
        faiss.normalize_L2(qs)
        for n in (50_000, 100_000, 150_000, 200_000, 300_000, 500_000, 1_000_000):
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
            index.add_with_ids(xb[:n], np.arange(n, dtype=np.int64))
            times = []
            for q in np.concatenate([qs, qs]):
                t = time.perf_counter()
                index.search(q.reshape(1, -1), 800)
                times.append((time.perf_counter() - t) * 1000)
            print(f"  exact {dim}-d {n:>9,} vectors: p50 {pct(times, 50):6.1f} ms  p95 {pct(times, 95):6.1f} ms"
                  f"  ({n * dim * 4 / 1e9:.2f} GB; load {os.getloadavg()[0]:.1f})", flush=True)
