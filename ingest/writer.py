"""The only writer of an index directory: one new generation, committed in named steps.

1. :meth:`GenerationWriter.prepare`: recover from any earlier crash (:func:`recover`), then copy
   the current generation's database (SQLite backup API) and vectors into ``gen-N.tmp-<pid>``,
   where N is above every generation number ever seen in the folder, so numbers never collide.
2. add and remove reports (:mod:`ingest.rows`) inside one transaction; embed pending windows.
3. :meth:`GenerationWriter.seal`: commit, choose the vectors' kind (exact, or IVF past a size:
   :func:`ingest.vector_index.finalise`), write them, fsync both, rename the folder to ``gen-N``
   and fsync the index folder.
4. :meth:`GenerationWriter.switch`: replace ``manifest.json`` (write aside, fsync,
   ``os.replace``): the commit point.
5. :meth:`GenerationWriter.tidy`: delete generations older than the previous one.

A crash between any two steps leaves the manifest on the previous, complete generation;
:func:`recover` removes whatever the manifest does not name (bar the previous generation, which
readers may still have open).
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ingest import vector_index
from ingest.embed import Embedder, encode_once
from ingest.errors import IndexBusy, NoSpace
from ingest.index_format import (
    DATABASE,
    LOCK,
    MANIFEST,
    SCHEMA,
    VECTORS,
    BuildParams,
    fsync_dir,
    fsync_file,
    generation_folders,
    generation_name,
    generation_number,
    has_column,
    new_manifest,
    read_manifest,
    upgrade_schema,
    write_manifest,
)
from ingest.vector_index import EditableVectors, empty_flat, finalise, spec_of

EMBED_BATCH = 2048
"""Windows are embedded this many at a time, across reports (the model sorts them by length)."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class WriterLock:
    """One writer at a time per index folder; a second one fails at once with :class:`IndexBusy`."""

    def __init__(self, index_dir: Path) -> None:
        from filelock import FileLock

        self.lock = FileLock(str(Path(index_dir) / LOCK))
        self.index_dir = Path(index_dir)

    def __enter__(self) -> WriterLock:
        from filelock import Timeout

        try:
            self.lock.acquire(timeout=0)
        except Timeout as exc:
            raise IndexBusy(self.index_dir) from exc
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def recover(index_dir: Path, manifest: dict | None, keep_previous: str | None = None) -> None:
    """Remove what a crashed writer left: folders being built, a generation sealed but never
    switched to, manifest temporaries, and generations older than the previous one (the newest
    finished one below the current, or ``keep_previous``). Call with the writer lock held."""
    current = manifest["generation"] if manifest else None
    finished = [p.name for p in generation_folders(index_dir) if "." not in p.name]
    if keep_previous is None and current is not None:
        older = [name for name in finished if name < current]
        keep_previous = older[-1] if older else None
    keep = {current, keep_previous} - {None}
    for folder in generation_folders(index_dir):
        if folder.name not in keep:
            shutil.rmtree(folder)
    for tmp in Path(index_dir).glob(f"{MANIFEST}.tmp-*"):
        tmp.unlink()


class PendingWindows:
    """Windows written to the database but not yet embedded: embedding many reports' windows in
    one call lets the model batch windows of similar length together."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.texts: list[str] = []

    def add(self, window_id: int, text: str) -> None:
        self.ids.append(window_id)
        self.texts.append(text)

    def flush(self, embedder: Embedder, vectors) -> int:  # noqa: ANN001 - a faiss index
        if not self.ids:
            return 0
        embedded = encode_once(embedder, self.texts)
        vectors.add_with_ids(embedded, np.asarray(self.ids, dtype=np.int64))
        count = len(self.ids)
        self.ids, self.texts = [], []
        return count


class GenerationWriter:
    """Builds generation N+1 of ``index_dir`` beside generation N and commits it."""

    def __init__(self, index_dir: Path, params: BuildParams, *, ivf_threshold: int | None = None) -> None:
        """``ivf_threshold``: vectors past which the generation is stored as IVF (None:
        :data:`ingest.vector_index.IVF_THRESHOLD`, read when sealing)."""
        self.index_dir = Path(index_dir)
        self.params = params
        self.ivf_threshold = ivf_threshold
        self.conn: sqlite3.Connection | None = None
        self.vectors: EditableVectors | None = None
        self.vector_spec: dict = {"kind": "flat"}
        self.pending = PendingWindows()
        self.tmp: Path | None = None
        self.final: Path | None = None
        self.counts: dict[str, int] = {}
        self._previous: dict | None = None

    # -- 1. prepare -------------------------------------------------------------------
    def prepare(self) -> None:
        import faiss

        manifest = read_manifest(self.index_dir)
        # Numbered above every folder seen, leftovers included, so a number is never used twice.
        numbers = [generation_number(p.name) or 0 for p in generation_folders(self.index_dir)]
        number = max(numbers, default=0) + 1
        recover(self.index_dir, manifest)
        self._previous = manifest
        self.final = self.index_dir / generation_name(number)
        self.tmp = self.index_dir / f"{self.final.name}.tmp-{os.getpid()}"
        with _disk_errors(self.index_dir):
            self.tmp.mkdir()
            if manifest is not None:
                current = self.index_dir / manifest["generation"]
                src = sqlite3.connect(f"file:{current / DATABASE}?mode=ro", uri=True)
                dst = sqlite3.connect(self.tmp / DATABASE)
                src.backup(dst)
                src.close()
                dst.close()
                self.vectors = EditableVectors(faiss.read_index(str(current / VECTORS)))
                self.vector_spec = spec_of(manifest)
            else:
                self.vectors = EditableVectors(empty_flat(self.params.dimension))
            self.conn = sqlite3.connect(self.tmp / DATABASE, isolation_level=None)
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.executescript(SCHEMA)
            upgrade_schema(self.conn)
            self.conn.execute("BEGIN")

    # -- 2. embed ---------------------------------------------------------------------
    def embed_pending(self, embedder: Embedder, *, force: bool = False) -> int:
        """Embed the pending windows once there are a batch's worth (or all, with ``force``)."""
        if not force and len(self.pending.ids) < EMBED_BATCH:
            return 0
        return self.pending.flush(embedder, self.vectors)

    # -- 3. seal ----------------------------------------------------------------------
    def seal(self) -> dict[str, int]:
        import faiss

        conn = self.conn
        if conn is None or self.tmp is None or self.final is None:
            raise RuntimeError("seal() before prepare()")
        if self.pending.ids:
            raise RuntimeError("seal() with windows not yet embedded")
        threshold = vector_index.IVF_THRESHOLD if self.ivf_threshold is None else self.ivf_threshold
        with _disk_errors(self.index_dir):
            conn.execute("COMMIT")
            self.counts = {
                "reports": conn.execute("SELECT count(*) FROM reports").fetchone()[0],
                "paragraphs": conn.execute("SELECT count(*) FROM paragraphs").fetchone()[0],
                "windows": conn.execute("SELECT count(*) FROM windows").fetchone()[0],
                "vectors": int(self.vectors.ntotal),
            }
            conn.close()
            self.conn = None
            if self.counts["windows"] != self.counts["vectors"]:
                raise RuntimeError(
                    f"index inconsistent: {self.counts['windows']} windows, {self.counts['vectors']} vectors")
            index, self.vector_spec = finalise(self.vectors.index, self.vector_spec, threshold=threshold)
            self.vectors = EditableVectors(index)
            faiss.write_index(index, str(self.tmp / VECTORS))
            for name in (DATABASE, VECTORS):
                fsync_file(self.tmp / name)
            fsync_dir(self.tmp)
            self.tmp.rename(self.final)
            self.tmp = None
            fsync_dir(self.index_dir)
        return self.counts

    # -- 4. switch --------------------------------------------------------------------
    def switch(self) -> str:
        if self.final is None or self.tmp is not None:
            raise RuntimeError("switch() before seal()")
        stamp = now()
        created = (self._previous or {}).get("created_at", stamp)
        with _disk_errors(self.index_dir):
            write_manifest(self.index_dir, new_manifest(self.params, self.final.name, self.counts, created, stamp,
                                                         vectors=self.vector_spec))
        return self.final.name

    # -- 5. tidy ----------------------------------------------------------------------
    def tidy(self) -> None:
        """Keep the new generation and the one before it (readers may have it open)."""
        previous = self._previous["generation"] if self._previous else None
        recover(self.index_dir, read_manifest(self.index_dir), keep_previous=previous)

    def abort(self) -> None:
        """Drop the generation being built; the index stays as it was."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.tmp is not None and self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp = None

    def commit(self) -> str:
        """Seal, switch and tidy: the generation's name."""
        self.seal()
        name = self.switch()
        self.tidy()
        return name


@contextmanager
def _disk_errors(index_dir: Path) -> Iterator[None]:
    """Turn "no space left on device" into :class:`NoSpace` (one line, nothing changed)."""
    try:
        yield
    except (OSError, sqlite3.OperationalError, RuntimeError) as exc:
        full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
        full = full or (isinstance(exc, sqlite3.OperationalError) and "full" in str(exc).lower())
        full = full or (type(exc) is RuntimeError and "No space left" in str(exc))
        if full:
            raise NoSpace(index_dir) from exc
        raise


def first_build(index_dir: Path, params: BuildParams) -> str:
    """Commit an empty first generation (an index with no reports yet)."""
    writer = GenerationWriter(index_dir, params)
    writer.prepare()
    try:
        return writer.commit()
    except BaseException:
        writer.abort()
        raise


def sources_in(index_dir: Path, manifest: dict) -> tuple[dict[str, str], dict[str, str]]:
    """(indexed source -> sha256, duplicate source -> sha256) of the current generation. A report
    read by an older version of the reading rules (``ingest.report.READER_VERSION``) has no sha256
    here (""), so its file counts as changed and is read again."""
    from ingest.report import READER_VERSION

    current = Path(index_dir) / manifest["generation"]
    with sqlite3.connect(f"file:{current / DATABASE}?mode=ro", uri=True) as ro:
        version = "reader_version" if has_column(ro, "reports", "reader_version") else "0"
        known = dict(ro.execute(f"SELECT source, CASE WHEN {version} >= ? THEN sha256 ELSE '' END FROM reports",
                                (READER_VERSION,)))
        skipped = dict(ro.execute("SELECT source, sha256 FROM skipped"))
    return known, skipped

