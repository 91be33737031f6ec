"""Query benchmark: in-process latency and memory of retrieval.

    python bench/query.py --index /tmp/ix            # latency on a real index
    python bench/query.py --synthetic 1000000        # FAISS choice at 1M vectors

Part 1 times ``retrieve`` (hybrid, dense, lexical) and ``answer`` over the dev gold
questions against an existing index and prints p50/p95 and peak RSS.
Part 2 builds a synthetic index of N vectors shaped like the real ones (real window
vectors plus noise), and compares exact search (IndexFlatIP) with IVF and HNSW at several
settings: p50/p95 per query and recall@10 against exact search.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(values), p)) if values else float("nan")


def questions() -> list[str]:
    gold = ROOT / "corpus" / "eval" / "dev.jsonl"
    qs = [json.loads(line)["question"] for line in gold.read_text().splitlines() if line.strip()]
    return qs or ["what happened to sickness absence?"]


def bench_index(index_dir: Path, repeats: int) -> np.ndarray:
    from qa.answer import answer
    from qa.retrieve import retrieve
    from qa.store import open_index

    reader = open_index(index_dir)  # queried with the index's own model, whatever it is
    model = reader.embedder
    qs = questions()
    counts = reader.manifest["counts"]
    print(f"index {index_dir}: {counts['reports']} reports, {counts['paragraphs']} paragraphs, "
          f"{counts['windows']} windows; {len(qs)} questions x {repeats}")
    for q in qs[:5]:
        retrieve(reader, model, q)  # warm up
    for mode in ("hybrid", "dense", "lexical"):
        times = []
        for _ in range(repeats):
            for q in qs:
                t = time.perf_counter()
                retrieve(reader, model, q, k=10, mode=mode)
                times.append((time.perf_counter() - t) * 1000)
        print(f"  retrieve {mode:8s} p50 {pct(times, 50):6.1f} ms   p95 {pct(times, 95):6.1f} ms")
    times = []
    for q in qs:
        t = time.perf_counter()
        answer(reader, model, q)
        times.append((time.perf_counter() - t) * 1000)
    print(f"  answer   (hybrid) p50 {pct(times, 50):6.1f} ms   p95 {pct(times, 95):6.1f} ms  (adds sentence scoring)")
    print(f"  peak RSS {rss_mb():.0f} MB")
    from ingest.vector_index import all_vectors

    _, vectors = all_vectors(reader.vectors)  # flat or IVF
    queries = model.encode(qs)
    return vectors, queries


def bench_synthetic(base: np.ndarray, queries: np.ndarray, n: int, seed: int = 0) -> None:
    import faiss

    rng = np.random.default_rng(seed)
    dim = base.shape[1]
    print(f"\nsynthetic index: {n:,} vectors of dimension {dim} (real window vectors + noise)")
    t = time.perf_counter()
    xb = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        picks = base[rng.integers(0, len(base), stop - start)]
        chunk = picks + rng.normal(0, 0.35 / np.sqrt(dim) * 2, picks.shape).astype(np.float32)
        xb[start:stop] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    print(f"  built vectors in {time.perf_counter() - t:.1f}s; RSS {rss_mb():.0f} MB")
    k = 10
    flat = faiss.IndexFlatIP(dim)
    flat.add(xb)

    def timed(index, label: str, truth: np.ndarray | None) -> np.ndarray:
        times, found = [], []
        for q in queries:
            t = time.perf_counter()
            _, ids = index.search(q.reshape(1, -1), k)
            times.append((time.perf_counter() - t) * 1000)
            found.append(ids[0])
        found = np.asarray(found)
        recall = 1.0 if truth is None else float(np.mean(
            [len(set(a) & set(b)) / k for a, b in zip(found, truth, strict=True)]))
        print(f"  {label:28s} p50 {pct(times, 50):7.1f} ms  p95 {pct(times, 95):7.1f} ms  recall@10 {recall:.3f}")
        return found

    truth = timed(flat, "IndexFlatIP (exact)", None)
    del flat
    nlist = int(4 * np.sqrt(n))
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    t = time.perf_counter()
    ivf.train(xb[rng.choice(n, min(n, 50 * nlist), replace=False)])
    ivf.add(xb)
    print(f"  IVF{nlist},Flat trained+added in {time.perf_counter() - t:.0f}s")
    for nprobe in (8, 16, 32, 64):
        ivf.nprobe = nprobe
        timed(ivf, f"IVF{nlist},Flat nprobe={nprobe}", truth)
    del ivf
    hnsw = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 40
    t = time.perf_counter()
    hnsw.add(xb)
    print(f"  HNSW32 built in {time.perf_counter() - t:.0f}s; RSS {rss_mb():.0f} MB")
    for ef in (32, 64, 128):
        hnsw.hnsw.efSearch = ef
        timed(hnsw, f"HNSW32 efSearch={ef}", truth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="index", help="an index built with council-qa ingest")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--synthetic", type=int, default=0, metavar="N", help="also test N synthetic vectors")
    args = parser.parse_args()
    vectors, queries = bench_index(Path(args.index), args.repeats)
    if args.synthetic:
        bench_synthetic(vectors, queries, args.synthetic)


if __name__ == "__main__":
    main()
