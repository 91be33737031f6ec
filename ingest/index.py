"""The index directory: written here, read by ``qa.store``.

Layout (format version 1)::

    index/
      manifest.json        format, version, model, dimension, generation, counts, times
      gen-000007/
        council.sqlite     reports, paragraphs, windows, skipped files, FTS5 paragraphs_fts
        windows.faiss      IndexIDMap2(IndexFlatIP): ids are windows.id in the database
      .lock                one writer at a time

Every ingest that changes anything writes a complete new generation directory beside
the current one (copying the database, applying the changes in one transaction, adding
and removing vectors), fsyncs it, and then switches ``manifest.json`` to it with
``os.replace``. A crash or kill at any point leaves the manifest pointing at the previous,
complete generation. Unchanged files (same SHA-256) cost one hash and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ingest.embed import WINDOW_OVERLAP_SENTENCES, WINDOW_WORDS, Embedder, make_windows
from ingest.errors import CouncilQAError, UnreadableReport
from ingest.readers import SUPPORTED_SUFFIXES
from ingest.records import Report
from ingest.report import load_report
from ingest.segment import looks_tabular

FORMAT_NAME = "council-qa-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "council.sqlite"
VECTORS = "windows.faiss"
LOCK = ".lock"
EMBED_BATCH = 2048
"""Windows are embedded this many at a time, across reports."""
DUPLICATE_SHARE = 0.8
"""A report whose numbered paragraphs are at least this share of another's is a duplicate."""

Progress = Callable[[int, int, str], None]

SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    title TEXT NOT NULL,
    date TEXT,
    council TEXT,
    meeting TEXT,
    pages INTEGER NOT NULL,
    paragraphs INTEGER NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS paragraphs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    label TEXT NOT NULL,
    page INTEGER NOT NULL,
    heading TEXT NOT NULL,
    text TEXT NOT NULL,
    numbered INTEGER NOT NULL,
    tabular INTEGER NOT NULL,
    words INTEGER NOT NULL,
    text_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS paragraphs_report ON paragraphs(report_id, seq);
CREATE INDEX IF NOT EXISTS paragraphs_hash ON paragraphs(text_hash);
CREATE TABLE IF NOT EXISTS windows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    paragraph_id INTEGER NOT NULL REFERENCES paragraphs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS windows_paragraph ON windows(paragraph_id);
CREATE TABLE IF NOT EXISTS skipped (
    source TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    duplicate_of TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS paragraphs_fts USING fts5(
    text, heading, title, tokenize = 'porter unicode61 remove_diacritics 2'
);
"""


@dataclass(frozen=True)
class FileResult:
    source: str
    path: str
    status: str
    """"added", "updated", "unchanged", "duplicate", "removed" or "failed"."""
    paragraphs: int = 0
    reason: str = ""


@dataclass
class IngestSummary:
    index_dir: Path
    results: list[FileResult] = field(default_factory=list)
    embedded_windows: int = 0
    seconds: float = 0.0
    generation: str | None = None

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def changed(self) -> bool:
        return any(r.status in ("added", "updated", "removed") for r in self.results)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def normalise_for_hash(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, plus supported files found recursively in folders named.

    In folders, hidden files and ``README*`` files (a folder's own documentation, such as
    ``corpus/eval/README.md``) are passed over. PDFs come first so that when a report exists
    as PDF and as Markdown, the PDF (which has pages to open) is the one kept and the other
    is recognised as its duplicate.
    """
    found: dict[Path, None] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if (
                    child.is_file()
                    and child.suffix.lower() in SUPPORTED_SUFFIXES
                    and not any(part.startswith(".") for part in child.relative_to(path).parts)
                    and not child.name.lower().startswith("readme")
                ):
                    found[child.resolve()] = None
        elif path.exists():
            found[path.resolve()] = None
        else:
            raise CouncilQAError(f"{raw}: no such file or folder")
    return sorted(found, key=lambda p: (p.suffix.lower() != ".pdf", p.name.lower(), str(p)))


# ---------------------------------------------------------------------------------------
# manifest and lock


def read_manifest(index_dir: Path) -> dict | None:
    path = Path(index_dir) / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise CouncilQAError(f"{path}: manifest is not valid JSON ({exc})") from exc
    if manifest.get("format") != FORMAT_NAME:
        raise CouncilQAError(f"{index_dir}: not a council-qa index (manifest format {manifest.get('format')!r})")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise CouncilQAError(
            f"{index_dir}: index format version {manifest.get('format_version')} is not supported "
            f"(this council-qa reads version {FORMAT_VERSION}); rebuild it with council-qa ingest into a new folder"
        )
    return manifest


def check_model(manifest: dict, model: str, dimension: int, index_dir: Path) -> None:
    """Refuse to mix vectors of different models in one index."""
    if manifest.get("model") != model or int(manifest.get("dimension", -1)) != dimension:
        raise CouncilQAError(
            f"{index_dir} was built with model '{manifest.get('model')}' (dimension "
            f"{manifest.get('dimension')}), not '{model}' (dimension {dimension}). "
            f"Use --model {manifest.get('model')}, or rebuild: delete {index_dir} "
            "(or pass a new --index folder) and run council-qa ingest again"
        )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class _WriterLock:
    def __init__(self, index_dir: Path) -> None:
        from filelock import FileLock, Timeout

        self._timeout = Timeout
        self.lock = FileLock(str(index_dir / LOCK))
        self.index_dir = index_dir

    def __enter__(self) -> _WriterLock:
        try:
            self.lock.acquire(timeout=0)
        except self._timeout as exc:
            raise CouncilQAError(
                f"index busy: another ingest is writing {self.index_dir}; try again when it finishes"
            ) from exc
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


# ---------------------------------------------------------------------------------------
# ingest


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _empty_faiss(dimension: int):  # noqa: ANN202 - faiss has no type stubs
    import faiss

    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


def _new_database(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.executescript(SCHEMA)
    return conn


def ingest_paths(
    paths: Sequence[str | Path],
    index_dir: str | Path,
    *,
    embedder: Embedder,
    prune: bool = False,
    progress: Progress | None = None,
) -> IngestSummary:
    """Add, update (and with ``prune`` remove) reports in the index at ``index_dir``.

    Files that cannot be read are reported as "failed" with the reason; the rest of the
    batch goes on and whatever the index held for a failed file stays as it was.
    """
    started = time.perf_counter()
    index_dir = Path(index_dir)
    files = expand_paths(paths)
    index_dir.mkdir(parents=True, exist_ok=True)
    summary = IngestSummary(index_dir=index_dir)
    with _WriterLock(index_dir):
        for stale in index_dir.glob("gen-*.tmp-*"):  # left by a killed ingest
            shutil.rmtree(stale, ignore_errors=True)
        manifest = read_manifest(index_dir)
        if manifest is not None:
            check_model(manifest, embedder.name, embedder.dimension, index_dir)
        current = index_dir / manifest["generation"] if manifest else None

        # Phase 1, read only: which files changed?
        known: dict[str, str] = {}
        skipped: dict[str, str] = {}
        if current is not None:
            with sqlite3.connect(f"file:{current / DATABASE}?mode=ro", uri=True) as ro:
                known = dict(ro.execute("SELECT source, sha256 FROM reports"))
                skipped = dict(ro.execute("SELECT source, sha256 FROM skipped"))
        todo: list[tuple[Path, str]] = []
        seen_sources: set[str] = set()
        for path in files:
            source = path.name
            if source in seen_sources:
                summary.results.append(FileResult(source, str(path), "failed", 0,
                                                  "another file with the same name is in this batch"))
                continue
            seen_sources.add(source)
            digest = file_sha256(path)
            if known.get(source) == digest:
                summary.results.append(FileResult(source, str(path), "unchanged"))
            elif skipped.get(source) == digest:
                summary.results.append(FileResult(source, str(path), "duplicate", 0, "unchanged duplicate"))
            else:
                todo.append((path, digest))
            if progress:
                progress(0, len(files), f"hashed {source}")
        removed = sorted(set(known) - seen_sources) if prune else []
        if not todo and not removed:
            summary.seconds = time.perf_counter() - started
            summary.generation = manifest["generation"] if manifest else None
            if manifest is None:
                _write_generation(index_dir, None, summary, embedder.name, embedder.dimension)
            return summary

        _write_generation(index_dir, current, summary, embedder.name, embedder.dimension,
                          embedder=embedder, todo=todo, removed=removed, progress=progress)
        summary.seconds = time.perf_counter() - started
        return summary


def _write_generation(
    index_dir: Path,
    current: Path | None,
    summary: IngestSummary,
    model: str,
    dimension: int,
    *,
    embedder: Embedder | None = None,
    todo: Sequence[tuple[Path, str]] = (),
    removed: Sequence[str] = (),
    progress: Progress | None = None,
) -> None:
    """Build the next generation aside, then switch the manifest to it. ``embedder`` is
    needed only when ``todo`` has files to add."""
    import faiss

    if todo and embedder is None:
        raise ValueError("files to add need an embedder")

    number = int(current.name.split("-")[1]) + 1 if current is not None else 1
    final = index_dir / f"gen-{number:06d}"
    tmp = index_dir / f"gen-{number:06d}.tmp-{os.getpid()}"
    tmp.mkdir()
    try:
        if current is not None:
            src = sqlite3.connect(f"file:{current / DATABASE}?mode=ro", uri=True)
            dst = sqlite3.connect(tmp / DATABASE)
            src.backup(dst)
            src.close()
            dst.close()
            vectors = faiss.read_index(str(current / VECTORS))
        else:
            vectors = _empty_faiss(dimension)
        conn = _new_database(tmp / DATABASE)
        conn.execute("BEGIN")
        for source in removed:
            _delete_report(conn, vectors, source)
            summary.results.append(FileResult(source, "", "removed"))
        total = len(todo)
        pending = _PendingWindows()
        for n, (path, digest) in enumerate(todo, start=1):
            if progress:
                progress(n - 1, total, f"reading {path.name}")
            summary.results.append(_ingest_one(conn, vectors, path, digest, pending))
            if len(pending.ids) >= EMBED_BATCH:
                if progress:
                    progress(n, total, f"embedding {len(pending.ids)} windows")
                summary.embedded_windows += pending.flush(embedder, vectors)
            if progress:
                progress(n, total, f"{path.name}: {summary.results[-1].status}")
        summary.embedded_windows += pending.flush(embedder, vectors)
        conn.execute("COMMIT")
        counts = dict(
            reports=conn.execute("SELECT count(*) FROM reports").fetchone()[0],
            paragraphs=conn.execute("SELECT count(*) FROM paragraphs").fetchone()[0],
            windows=conn.execute("SELECT count(*) FROM windows").fetchone()[0],
            vectors=int(vectors.ntotal),
        )
        conn.close()
        if counts["windows"] != counts["vectors"]:
            raise RuntimeError(f"index inconsistent: {counts['windows']} windows, {counts['vectors']} vectors")
        faiss.write_index(vectors, str(tmp / VECTORS))
        for name in (DATABASE, VECTORS):
            _fsync_file(tmp / name)
        _fsync_dir(tmp)
        os.replace(tmp, final)
        _fsync_dir(index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = read_manifest(index_dir)
    now = _now()
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "model": model,
        "dimension": dimension,
        "metric": "inner_product",
        "faiss_index": "IndexIDMap2(IndexFlatIP)",
        "windowing": {"max_words": WINDOW_WORDS, "overlap_sentences": WINDOW_OVERLAP_SENTENCES},
        "generation": final.name,
        "counts": counts,
        "created_at": (old or {}).get("created_at", now),
        "updated_at": now,
    }
    _write_json_atomic(index_dir / MANIFEST, manifest)
    summary.generation = final.name
    # Keep the previous generation for readers that still have it open; drop older ones.
    for gen in sorted(index_dir.glob("gen-[0-9][0-9][0-9][0-9][0-9][0-9]")):
        if gen.name < f"gen-{number - 1:06d}":
            shutil.rmtree(gen, ignore_errors=True)


def _delete_report(conn: sqlite3.Connection, vectors, source: str) -> None:  # noqa: ANN001
    import faiss

    row = conn.execute("SELECT id FROM reports WHERE source = ?", (source,)).fetchone()
    if row is None:
        return
    report_id = row[0]
    window_ids = [
        r[0]
        for r in conn.execute(
            "SELECT w.id FROM windows w JOIN paragraphs p ON p.id = w.paragraph_id WHERE p.report_id = ?",
            (report_id,),
        )
    ]
    if window_ids:
        vectors.remove_ids(faiss.IDSelectorBatch(np.asarray(window_ids, dtype=np.int64)))
    conn.execute(
        "DELETE FROM paragraphs_fts WHERE rowid IN (SELECT id FROM paragraphs WHERE report_id = ?)", (report_id,)
    )
    conn.execute("DELETE FROM reports WHERE id = ?", (report_id,))


def _find_duplicate(conn: sqlite3.Connection, report: Report) -> str | None:
    hashes = [normalise_for_hash(p.text) for p in report.paragraphs if p.numbered]
    hashes = [h for h in hashes if len(h) >= 40]
    if len(hashes) < 3:
        hashes = [normalise_for_hash(p.text) for p in report.paragraphs]
        hashes = [h for h in hashes if len(h) >= 80]
    if len(hashes) < 3:
        return None
    counts: dict[str, int] = {}
    for digest in {hashlib.sha1(h.encode()).hexdigest() for h in hashes}:
        for (source,) in conn.execute(
            "SELECT DISTINCT r.source FROM paragraphs p JOIN reports r ON r.id = p.report_id WHERE p.text_hash = ?",
            (digest,),
        ):
            if source != report.source:
                counts[source] = counts.get(source, 0) + 1
    if not counts:
        return None
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] >= DUPLICATE_SHARE * len(set(hashes)) else None


class _PendingWindows:
    """Windows written to the database but not yet embedded: embedding them many reports at
    a time lets the model batch windows of similar length together."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.texts: list[str] = []

    def add(self, window_id: int, text: str) -> None:
        self.ids.append(window_id)
        self.texts.append(text)

    def flush(self, embedder: Embedder | None, vectors) -> int:  # noqa: ANN001
        if not self.ids:
            return 0
        embedded = embedder.encode(self.texts)
        vectors.add_with_ids(embedded, np.asarray(self.ids, dtype=np.int64))
        count = len(self.ids)
        self.ids, self.texts = [], []
        return count


def _ingest_one(
    conn: sqlite3.Connection,
    vectors,  # noqa: ANN001
    path: Path,
    digest: str,
    pending: _PendingWindows,
) -> FileResult:
    source = path.name
    try:
        report = load_report(path)
    except UnreadableReport as exc:
        return FileResult(source, str(path), "failed", 0, exc.reason)
    except Exception as exc:  # noqa: BLE001 - a parser bug on one file must not stop the batch
        return FileResult(source, str(path), "failed", 0, f"could not be read ({type(exc).__name__}: {exc})")
    duplicate_of = _find_duplicate(conn, report)
    if duplicate_of is not None:
        conn.execute(
            "INSERT OR REPLACE INTO skipped(source, sha256, duplicate_of) VALUES (?, ?, ?)",
            (source, digest, duplicate_of),
        )
        _delete_report(conn, vectors, source)
        return FileResult(source, str(path), "duplicate", 0, f"same report as {duplicate_of}; not indexed twice")
    existed = conn.execute("SELECT 1 FROM reports WHERE source = ?", (source,)).fetchone() is not None
    _delete_report(conn, vectors, source)
    conn.execute("DELETE FROM skipped WHERE source = ?", (source,))
    meta = report.meta
    report_id = conn.execute(
        "INSERT INTO reports(source, path, sha256, title, date, council, meeting, pages, paragraphs, ingested_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (source, str(path), digest, meta.title, meta.date, meta.council, meta.meeting, report.pages,
         len(report.paragraphs), _now()),
    ).lastrowid
    for seq, para in enumerate(report.paragraphs):
        para_id = conn.execute(
            "INSERT INTO paragraphs(report_id, seq, label, page, heading, text, numbered, tabular, words, text_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (report_id, seq, para.label, para.page, para.heading, para.text, int(para.numbered),
             int(not para.numbered and looks_tabular(para.text)), len(para.text.split()),
             hashlib.sha1(normalise_for_hash(para.text).encode()).hexdigest()),
        ).lastrowid
        conn.execute(
            "INSERT INTO paragraphs_fts(rowid, text, heading, title) VALUES (?, ?, ?, ?)",
            (para_id, para.text, para.heading, meta.title),
        )
        for wseq, window in enumerate(make_windows(para.text)):
            window_id = conn.execute(
                "INSERT INTO windows(paragraph_id, seq, text) VALUES (?, ?, ?)", (para_id, wseq, window)
            ).lastrowid
            pending.add(window_id, window_text_for_embedding(window, para.heading))
    return FileResult(source, str(path), "updated" if existed else "added", len(report.paragraphs))


def window_text_for_embedding(window: str, heading: str) -> str:
    """What is embedded for a window: the section heading gives it context."""
    return f"{heading}: {window}" if heading else window


def remove_report(index_dir: str | Path, source: str) -> bool:
    """Remove one report (by file name) from the index; False when it was not there."""
    index_dir = Path(index_dir)
    with _WriterLock(index_dir):
        manifest = read_manifest(index_dir)
        if manifest is None:
            return False
        current = index_dir / manifest["generation"]
        with sqlite3.connect(f"file:{current / DATABASE}?mode=ro", uri=True) as ro:
            if ro.execute("SELECT 1 FROM reports WHERE source = ?", (source,)).fetchone() is None:
                return False
        summary = IngestSummary(index_dir=index_dir)
        _write_generation(index_dir, current, summary, manifest["model"], int(manifest["dimension"]),
                          removed=[source])
        return True
