"""Whole-stack scale benchmark: a synthetic index of N paragraphs queried through ``retrieve()``.

    python bench/scale.py build --source /tmp/idx/v3-mpnet --out /tmp/scale/ix --paragraphs 1000000
    python bench/scale.py query --out /tmp/scale/ix --vectors ivf    # then --vectors flat
    python bench/scale.py threshold                                  # exact search p95 against size

``build`` recombines the paragraphs of a real index (``--source``, built with all-mpnet-base-v2):
synthetic paragraph = a real paragraph + the first sentence of another, kept with the real
paragraph's label, heading, page and windows (the last window gains the sentence), in ~3,000
reports over 30 councils (a few large), 2015-2026, the real committees. Its vectors come from a
deterministic fake embedder: the real window's mpnet vector + 0.5 x the other paragraph's first
window + Gaussian noise (norm ~0.7, as ``bench/query.py``), normalised. The SQLite database is
written directly in the real schema (``ingest.index_format.SCHEMA``; the writer's per-report path
would segment and window 1M paragraphs again), the vectors through ``ingest.vector_index``: both
``windows.faiss`` (what the writer would choose: IVF at this size) and ``windows-flat.faiss``
(exact, for comparison). The dev questions are embedded once with the real model.
``query`` opens the index with ``qa.store.open_index`` and times ``qa.retrieve.retrieve`` per mode
and filter, with where the time goes, RSS, and (IVF) recall@10 of the window search against exact.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COUNCILS = [
    "Kent County Council", "Bristol City Council", "Birmingham City Council", "Leeds City Council",
    "Manchester City Council", "Somerset Council", "Cornwall Council", "Norfolk County Council",
    "Surrey County Council", "Essex County Council", "Hampshire County Council", "Devon County Council",
    "Worcestershire County Council", "Nottingham City Council", "Leicester City Council", "Merton Council",
    "Cardiff Council", "Limerick City and County Council", "Tintern Community Council", "Oxford City Council",
    "Cambridge City Council", "York Council", "Bath and North East Somerset Council", "Sheffield City Council",
    "Liverpool City Council", "Wiltshire Council", "Shropshire Council", "Durham County Council",
    "West of England Combined Authority", "Manordeilo and Salem Community Council",
]
FILTERS = ("none", "council", "year", "report")


def rss_mb() -> float:
    """Current resident set (MB), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(values), p)) if values else float("nan")


def dev_questions(n: int) -> list[str]:
    lines = (ROOT / "corpus" / "eval" / "dev.jsonl").read_text().splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()][:n]


# -- build ---------------------------------------------------------------------------------
def read_source(source: Path) -> dict:
    """The real index's paragraphs, windows and vectors, as arrays."""
    import faiss

    from ingest.vector_index import all_vectors

    manifest = json.loads((source / "manifest.json").read_text())
    gen = source / manifest["generation"]
    db = sqlite3.connect(f"file:{gen / 'council.sqlite'}?mode=ro", uri=True)
    paras = db.execute("SELECT id, report_id, label, page, heading, text, numbered, part_of, scanned, tabular"
                       " FROM paragraphs ORDER BY report_id, seq").fetchall()
    windows = db.execute("SELECT id, paragraph_id, text FROM windows ORDER BY paragraph_id, seq").fetchall()
    reports = dict(db.execute("SELECT id, title FROM reports"))
    committees = sorted({c for (c,) in db.execute("SELECT committee FROM reports") if c})
    db.close()
    ids, vectors = all_vectors(faiss.read_index(str(gen / "windows.faiss")))
    row_of = {int(w): i for i, w in enumerate(ids)}
    win_rows: dict[int, list[tuple[str, int]]] = {}
    for wid, pid, text in windows:
        win_rows.setdefault(pid, []).append((text, row_of[wid]))
    paras = [p for p in paras if p[0] in win_rows]
    return {"paras": paras, "windows": win_rows, "vectors": vectors, "reports": reports,
            "committees": committees or ["Cabinet"], "model": manifest["model"]}


def plan(src: dict, n: int, reports: int, seed: int) -> list[tuple]:
    """Synthetic reports: (council, committee, date, title, [(source paragraph, other paragraph)])."""
    rng = np.random.default_rng(seed)
    paras = src["paras"]
    by_report: dict[int, list[int]] = {}
    for i, p in enumerate(paras):
        by_report.setdefault(p[1], []).append(i)
    source_reports = sorted(by_report)
    sizes = rng.integers(50, 620, reports).astype(float)
    sizes = np.maximum(1, np.round(sizes * n / sizes.sum())).astype(int)
    sizes[-1] += n - sizes.sum()
    weights = 1.0 / np.arange(1, len(COUNCILS) + 1) ** 0.8  # a few large councils, a long tail
    councils = rng.choice(len(COUNCILS), reports, p=weights / weights.sum())
    days = rng.integers(0, 365 * 12 - 60, reports)
    out = []
    for r in range(reports):
        src_report = source_reports[r % len(source_reports)]
        own = by_report[src_report]
        picks = [own[j % len(own)] for j in range(int(sizes[r]))]
        others = rng.integers(0, len(paras), len(picks))
        date = str(np.datetime64("2015-01-01") + np.timedelta64(int(days[r]), "D"))
        committee = src["committees"][r % len(src["committees"])]
        title = f"{src['reports'][src_report]} ({committee}, {date[:4]})"
        out.append((COUNCILS[councils[r]], committee, date, title, list(zip(picks, others.tolist(), strict=True))))
    return out


def first_sentence(text: str) -> str:
    head = text.split(". ")[0].strip()
    return head if head.endswith(".") else head + "."


def write_database(path: Path, src: dict, reports: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
    """Write the SQLite database; (source vector row, other vector row or -1) per window, in id order."""
    from ingest.index_format import SCHEMA
    from ingest.rows import text_hash

    db = sqlite3.connect(path, isolation_level=None)
    db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-400000;" + SCHEMA)
    db.execute("BEGIN")
    paras, windows = src["paras"], src["windows"]
    pid = wid = 0
    src_rows: list[int] = []
    mix_rows: list[int] = []
    for rid, (council, committee, date, title, picks) in enumerate(reports, start=1):
        prows, frows, wrows = [], [], []
        for seq, (a, b) in enumerate(picks):
            pid += 1
            _, _, label, page, heading, text, numbered, part_of, scanned, tabular = paras[a]
            extra = first_sentence(paras[b][5])
            full = f"{text} {extra}"
            prows.append((pid, rid, seq, label, page, heading, full, numbered, part_of, scanned, tabular,
                          len(full.split()), text_hash(full)))
            frows.append((pid, full, heading, title))
            own = windows[paras[a][0]]
            for wseq, (wtext, row) in enumerate(own):
                wid += 1
                last = wseq == len(own) - 1
                wrows.append((wid, pid, wseq, f"{wtext} {extra}" if last else wtext))
                src_rows.append(row)
                mix_rows.append(windows[paras[b][0]][0][1] if last else -1)
        db.execute("INSERT INTO reports(id, source, path, sha256, title, date, council, meeting, committee,"
                   " meeting_date, item, pages, paragraphs, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (rid, f"synthetic-{rid:05d}.pdf", f"synthetic/{rid:05d}.pdf", f"{rid:064x}", title, date,
                    council, f"{committee} {date}", committee, date, "", max(p[4] for p in prows), len(prows),
                    "2026-11-27T00:00:00+00:00"))
        db.executemany("INSERT INTO paragraphs(id, report_id, seq, label, page, heading, text, numbered, part_of,"
                       " scanned, tabular, words, text_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", prows)
        db.executemany("INSERT INTO paragraphs_fts(rowid, text, heading, title) VALUES (?,?,?,?)", frows)
        db.executemany("INSERT INTO windows(id, paragraph_id, seq, text) VALUES (?,?,?,?)", wrows)
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode=DELETE")
    db.close()
    return np.asarray(src_rows, dtype=np.int64), np.asarray(mix_rows, dtype=np.int64)


def vector_chunks(base: np.ndarray, src_rows: np.ndarray, mix_rows: np.ndarray, seed: int, chunk: int = 200_000):
    """Yield (window ids, vectors) in chunks: the deterministic fake embedder (module docstring)."""
    dim = base.shape[1]
    for start in range(0, len(src_rows), chunk):
        stop = min(len(src_rows), start + chunk)
        rng = np.random.default_rng([seed, start])
        x = base[src_rows[start:stop]].copy()
        mix = mix_rows[start:stop]
        x[mix >= 0] += 0.5 * base[mix[mix >= 0]]
        x += rng.normal(0, 0.7 / np.sqrt(dim), x.shape).astype(np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        yield np.arange(start + 1, stop + 1, dtype=np.int64), np.ascontiguousarray(x, dtype=np.float32)


def write_vectors(gen: Path, src: dict, rows: tuple[np.ndarray, np.ndarray], seed: int) -> dict:
    """windows-flat.faiss (exact) and windows.faiss (what the writer chooses at this size)."""
    import faiss

    from ingest import vector_index

    base = src["vectors"]
    flat = vector_index.empty_flat(base.shape[1])
    for ids, x in vector_chunks(base, *rows, seed):
        flat.add_with_ids(x, ids)
    faiss.write_index(flat, str(gen / "windows-flat.faiss"))
    count = int(flat.ntotal)
    del flat
    if count < vector_index.IVF_THRESHOLD:
        shutil.copy(gen / "windows-flat.faiss", gen / "windows.faiss")
        return {"kind": "flat"}
    t = time.perf_counter()
    rng = np.random.default_rng(seed)
    sample_rows = np.sort(rng.choice(count, min(count, vector_index.TRAIN_PER_LIST * vector_index.nlist_for(count)),
                                     replace=False))
    sample = np.concatenate([x[np.isin(ids - 1, sample_rows)] for ids, x in vector_chunks(base, *rows, seed)])
    ivf = vector_index.train_ivf(sample, count, seed)
    print(f"  IVF trained ({ivf.nlist} lists, {len(sample):,} samples) in {time.perf_counter() - t:.0f} s", flush=True)
    for ids, x in vector_chunks(base, *rows, seed):
        ivf.add_with_ids(x, ids)
    print(f"  IVF built in {time.perf_counter() - t:.0f} s", flush=True)
    faiss.write_index(ivf, str(gen / "windows.faiss"))
    return vector_index.ivf_spec(ivf, count)


def embed_questions(model: str, out: Path, n: int) -> None:
    from ingest.embed import load_embedder

    qs = dev_questions(n)
    np.save(out / "questions.npy", load_embedder(model).encode(qs).astype(np.float32))
    (out / "questions.json").write_text(json.dumps(qs))


def build(args: argparse.Namespace) -> None:
    from ingest.index_format import BuildParams, new_manifest, write_manifest

    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    gen = out / "gen-000001"
    gen.mkdir(parents=True)
    t0 = time.perf_counter()
    src = read_source(Path(args.source))
    embed_questions(src["model"], out, args.questions)
    reports = plan(src, args.paragraphs, args.reports, args.seed)
    t = time.perf_counter()
    rows = write_database(gen / "council.sqlite", src, reports)
    print(f"database: {args.paragraphs:,} paragraphs, {len(rows[0]):,} windows, {len(reports):,} reports"
          f" in {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    spec = write_vectors(gen, src, rows, args.seed)
    print(f"vectors: {spec} in {time.perf_counter() - t:.0f} s", flush=True)
    dim = src["vectors"].shape[1]
    params = BuildParams(src["model"], dim, 50, 1)
    counts = {"reports": len(reports), "paragraphs": args.paragraphs, "windows": len(rows[0]),
              "vectors": len(rows[0])}
    write_manifest(out, new_manifest(params, gen.name, counts, "2026-11-27T00:00:00+00:00",
                                     "2026-11-27T00:00:00+00:00", vectors=spec))
    sizes = {p.name: p.stat().st_size / 1e9 for p in gen.iterdir()}
    print(f"built in {time.perf_counter() - t0:.0f} s; on disk (GB): "
          + ", ".join(f"{k} {v:.2f}" for k, v in sizes.items()) + f"; peak RSS {peak_mb():.0f} MB")


def main() -> None:
    from scale_query import query, threshold  # a sibling script: bench/ is on sys.path

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--source", default="/tmp/idx/v3-mpnet", help="a real index built with council-qa ingest")
    b.add_argument("--out", default="/tmp/scale/ix")
    b.add_argument("--paragraphs", type=int, default=1_000_000)
    b.add_argument("--reports", type=int, default=3_000)
    b.add_argument("--questions", type=int, default=100)
    b.add_argument("--seed", type=int, default=0)
    q = sub.add_parser("query")
    q.add_argument("--out", default="/tmp/scale/ix")
    q.add_argument("--vectors", choices=("ivf", "flat"), default="ivf")
    q.add_argument("--nprobe", type=int, nargs="*", default=[32, 48, 64, 96, 128, 192])
    q.add_argument("--questions", type=int, default=100)
    q.add_argument("--recall-questions", type=int, default=100)
    q.add_argument("--modes", nargs="*", default=["hybrid", "dense", "lexical"])
    q.add_argument("--filters", nargs="*", default=list(FILTERS))
    q.add_argument("--every-word", action="store_true",
                   help="also time the text search with every question word (qa.lexical's common-word rule off)")
    sub.add_parser("threshold")
    args = parser.parse_args()
    {"build": build, "query": query, "threshold": threshold}[args.command](args)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
