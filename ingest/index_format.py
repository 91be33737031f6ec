"""The on-disk contract of an index directory: names, schema, manifest and build parameters.

The writer (:mod:`ingest.writer`) and the reader (:mod:`qa.store`) both import this module
and nothing else of each other. Layout (format version 3)::

    index/
      manifest.json        format, version, build parameters, current generation, counts, times
      gen-000007/
        council.sqlite     reports, paragraphs, windows, skipped files, FTS5 paragraphs_fts
        windows.faiss      ids are windows.id in the database: IndexIDMap2(IndexFlatIP), or past
                           a size IndexIVFFlat (manifest "vectors", see ingest.vector_index)
      .lock                one writer at a time

The manifest is the commit point: a generation folder it does not name is never read.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import BuildMismatch, CouncilQAError

FORMAT_NAME = "council-qa-index"
FORMAT_VERSION = 3
"""2: reports gained committee, meta_sources (where each field came from, JSON) and doubtful;
paragraphs gained part_of (the label of the printed paragraph a block was cut from).
3: reports gained meeting_date, item (as displayed) and listings (JSON: every committee, meeting
and agenda item a fetched paper is listed under); paragraphs gained scanned (1: its page was a
scan read by OCR, cited "scanned page N"). Later, without a new version (older council-qa reads and
extends such an index): reports gained reader_version (``ingest.report.READER_VERSION``; added by
:func:`upgrade_schema` to an index made before it, whose reports then count as read by version 0)."""
MANIFEST = "manifest.json"
DATABASE = "council.sqlite"
VECTORS = "windows.faiss"
LOCK = ".lock"
FAISS_INDEX = "IndexIDMap2(IndexFlatIP)"
METRIC = "inner_product"

GENERATION = re.compile(r"^gen-(\d{6})(?:\.tmp-\d+)?$")
"""A generation folder, ``gen-000007``, or one being built, ``gen-000007.tmp-<pid>``."""

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
    committee TEXT,
    meeting_date TEXT,
    item TEXT,
    listings TEXT NOT NULL DEFAULT '',
    meta_sources TEXT NOT NULL DEFAULT '{}',
    doubtful TEXT NOT NULL DEFAULT '',
    pages INTEGER NOT NULL,
    paragraphs INTEGER NOT NULL,
    ingested_at TEXT NOT NULL,
    reader_version INTEGER NOT NULL DEFAULT 0
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
    part_of TEXT NOT NULL DEFAULT '',
    scanned INTEGER NOT NULL DEFAULT 0,
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


def has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    """Whether ``table`` of the database has ``column`` (an index made by an older council-qa may not)."""
    return any(row[1] == column for row in conn.execute(f"PRAGMA table_info({table})"))


def upgrade_schema(conn: sqlite3.Connection) -> None:
    """Add to a generation copied from an older index the columns added since, with their defaults."""
    if not has_column(conn, "reports", "reader_version"):
        conn.execute("ALTER TABLE reports ADD COLUMN reader_version INTEGER NOT NULL DEFAULT 0")


REPORT_COLUMNS = ("source", "title", "date", "council", "meeting", "pages", "paragraphs", "path", "sha256",
                  "ingested_at", "committee", "meeting_date", "item", "listings", "doubtful")
"""The ``reports`` columns a reader shows, in the order of ``qa.records.ReportInfo``."""


@dataclass(frozen=True)
class BuildParams:
    """What the vectors of an index depend on: the same values are needed to add to it
    (checked on every ingest) and to query it (the model, checked on every open)."""

    model: str
    dimension: int
    window_words: int
    window_overlap: int
    window_heading: bool = True
    """Whether a window's section heading is prepended to it before it is embedded (every index
    made before 2026-11-27 did; ``ingest.embed.WINDOW_HEADING`` for a new one)."""

    def to_manifest(self) -> dict:
        return {
            "model": self.model,
            "dimension": self.dimension,
            "windowing": {"max_words": self.window_words, "overlap_sentences": self.window_overlap,
                          "heading_prepended": self.window_heading},
        }

    @classmethod
    def from_manifest(cls, manifest: dict) -> BuildParams:
        windowing = manifest.get("windowing") or {}
        return cls(
            model=str(manifest["model"]),
            dimension=int(manifest["dimension"]),
            window_words=int(windowing.get("max_words", 0)),
            window_overlap=int(windowing.get("overlap_sentences", 0)),
            window_heading=bool(windowing.get("heading_prepended", True)),
        )

    def windows(self, text: str, heading: str) -> list[tuple[str, str]]:
        """A paragraph's windows as this index cuts them: (the window's text, what is embedded)."""
        from ingest.embed import make_windows

        cut = make_windows(text, max_words=self.window_words, overlap=self.window_overlap)
        return [(w, self.embedded_text(w, heading)) for w in cut]

    def embedded_text(self, window: str, heading: str) -> str:
        """What is embedded for a window of a paragraph under ``heading``."""
        return f"{heading}: {window}" if heading and self.window_heading else window

    def describe_windowing(self) -> str:
        heading = "heading prepended" if self.window_heading else "no heading"
        return f"{self.window_words}-word sentence windows, {self.window_overlap} sentence(s) of overlap, {heading}"


def current_params(model: str, dimension: int) -> BuildParams:
    """The build parameters of this version of council-qa for a new index of ``model``."""
    from ingest.embed import WINDOW_HEADING, WINDOW_WORDS, window_overlap

    return BuildParams(model, dimension, WINDOW_WORDS, window_overlap(model), WINDOW_HEADING)


def check_model(manifest: dict, model: str, dimension: int, index_dir: Path) -> None:
    """Refuse to query or extend an index with another model's vectors."""
    built = BuildParams.from_manifest(manifest)
    if built.model != model or built.dimension != dimension:
        raise BuildMismatch(index_dir, "model", f"'{built.model}' ({built.dimension}-d)",
                            f"'{model}' ({dimension}-d)")


def read_manifest(index_dir: Path) -> dict | None:
    """The manifest of ``index_dir``; None when no index has been committed there."""
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
            f"(this council-qa reads version {FORMAT_VERSION}); rebuild it into a new folder"
        )
    return manifest


def new_manifest(params: BuildParams, generation: str, counts: dict, created_at: str, now: str,
                 vectors: dict | None = None) -> dict:
    """``vectors``: the kind of vector index (:func:`ingest.vector_index.finalise`); None: exact.
    A manifest without the field (written before IVF existed) means exact search."""
    from ingest.vector_index import faiss_name

    spec = vectors or {"kind": "flat"}
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        **params.to_manifest(),
        "metric": METRIC,
        "faiss_index": faiss_name(spec),
        "vectors": spec,
        "generation": generation,
        "counts": counts,
        "created_at": created_at,
        "updated_at": now,
    }


def write_manifest(index_dir: Path, manifest: dict) -> None:
    """Replace the manifest atomically (write aside, fsync, ``os.replace``, fsync the folder)."""
    path = Path(index_dir) / MANIFEST
    tmp = path.with_name(f"{MANIFEST}.tmp-{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def generation_name(number: int) -> str:
    return f"gen-{number:06d}"


def generation_number(name: str) -> int | None:
    match = GENERATION.match(name)
    return int(match.group(1)) if match else None


def generation_folders(index_dir: Path) -> list[Path]:
    """Every generation folder in ``index_dir``, finished or being built, oldest first."""
    found = [p for p in Path(index_dir).iterdir() if p.is_dir() and generation_number(p.name) is not None]
    return sorted(found, key=lambda p: (generation_number(p.name), p.name))


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    with Path(path).open("rb") as fh:
        os.fsync(fh.fileno())
