"""The library service behind the app: the open index, questions, drafts, uploads, removal.

No UI code here: the Gradio handlers (:mod:`qa.handlers`) call these methods and render what
they return. One open index per process, reopened when an ingest replaces its generation,
queried with the index's own model (kept across reopenings while the model is the same).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ingest.embed import Embedder
from ingest.index import FileResult, IngestSummary, ingest_paths, remove_report
from ingest.listings import sidecar_path
from ingest.records import ReportMeta
from qa.records import Answer, Filters, ReportInfo, UploadRow
from qa.store import IndexReader, open_index

UPLOAD_SUFFIXES = (".pdf", ".md", ".txt", ".docx")
MAX_UPLOAD_MB = 50
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
MAX_QUESTION_CHARS = 500
"""The longest question accepted, in the page and in the API alike."""
TOP_K = 5
UPLOADS = "uploads"
"""Sub-folder of the corpus folder where uploaded reports are kept (so a rebuild keeps them)."""


class CachingEmbedder:
    """Wraps an embedder and remembers the vectors of texts it has seen (bounded, LRU).

    ``qa.answer`` embeds sentences of the retrieved paragraphs for each question; the same
    paragraphs come back for many questions, so after the first few questions mostly the
    question itself needs the model.
    """

    def __init__(self, inner: Embedder, max_items: int = 50_000) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.max_items = max_items
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        out: list[np.ndarray | None] = [None] * len(texts)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for i, text in enumerate(texts):
                vector = self._cache.get(text)
                if vector is None:
                    missing.setdefault(text, []).append(i)
                else:
                    self._cache.move_to_end(text)
                    out[i] = vector
        if missing:
            fresh = self.inner.encode(list(missing))
            with self._lock:
                for (text, rows), vector in zip(missing.items(), fresh, strict=True):
                    vector = np.array(vector, dtype=np.float32)
                    for i in rows:
                        out[i] = vector
                    self._cache[text] = vector
                while len(self._cache) > self.max_items:
                    self._cache.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(np.stack(out), dtype=np.float32)


def safe_name(name: str) -> str:
    """A file name safe to keep in the uploads folder (no folders, no odd characters)."""
    import re

    name = Path(name).name
    name = re.sub(r"[^\w.\-() ]+", "_", name).strip(" .")
    return name or "report"


class Library:
    """The index the app reads, and the folders it writes uploads to."""

    def __init__(self, index_dir: Path, corpus_dir: Path, embedder: Embedder | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.corpus_dir = Path(corpus_dir)
        self._given = embedder
        self._embedder: CachingEmbedder | None = CachingEmbedder(embedder) if embedder is not None else None
        self._reader: IndexReader | None = None
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._drafts: Path | None = None

    def drafts_dir(self) -> Path:
        """A private folder for the reply drafts offered as downloads, made on the first draft and
        removed with the library (or at exit), so serving and testing leave nothing in /tmp."""
        with self._lock:
            if self._drafts is None:
                self._drafts = Path(tempfile.mkdtemp(prefix="council-qa-drafts-"))
                weakref.finalize(self, shutil.rmtree, self._drafts, ignore_errors=True)
            return self._drafts

    @property
    def uploads_dir(self) -> Path:
        return self.corpus_dir / UPLOADS

    def reader(self) -> IndexReader | None:
        """The open index (reopened if a newer ingest replaced it); None when there is none."""
        with self._lock:
            if self._reader is not None and self._reader.is_stale():
                self._reader = None  # the old handle closes when no request uses it any more
            if self._reader is None:
                if not IndexReader.exists(self.index_dir):
                    return None
                self._reader = open_index(self.index_dir, self._model_for(self.index_dir))
            return self._reader

    def _model_for(self, index_dir: Path) -> CachingEmbedder:
        """The index's own model: the one given or already loaded when it is that model."""
        from ingest.embed import load_embedder
        from ingest.index_format import read_manifest

        model = (read_manifest(index_dir) or {}).get("model")
        if self._embedder is None or self._embedder.name != model:
            self._embedder = CachingEmbedder(self._given if self._given is not None else load_embedder(model))
        return self._embedder

    def refresh(self) -> None:
        with self._lock:
            self._reader = None

    def reports(self) -> list[ReportInfo]:
        reader = self.reader()
        return reader.reports() if reader is not None else []

    def report(self, source: str) -> ReportInfo | None:
        reader = self.reader()
        return reader.report(source) if reader is not None else None

    def councils(self) -> list[str]:
        return sorted({r.council for r in self.reports() if r.council})

    def ask(self, question: str, filters: Filters | None = None, k: int = TOP_K) -> Answer | None:
        """The answer, or None when the index is empty."""
        from qa.answer import answer

        reader = self.reader()
        if reader is None or not reader.reports():
            return None
        return answer(reader, reader.embedder, question[:MAX_QUESTION_CHARS], k=k, filters=filters or Filters())

    def ingest(self, paths: Sequence[Path], progress: Callable[[int, int, str], None] | None = None,
               kept_as: dict[Path, Path] | None = None) -> IngestSummary:
        embedder = self._embedder.inner if self._embedder is not None else None
        with self._write_lock:
            summary = ingest_paths(list(paths), self.index_dir, embedder=embedder, progress=progress,
                                   kept_as=kept_as)
        self.refresh()
        return summary

    def add_uploads(self, files: Sequence[Path],
                    progress: Callable[[int, int, str], None] | None = None) -> list[UploadRow]:
        """Check uploaded files, ingest the acceptable ones from a staging folder, and keep each
        in the uploads folder only once it is in the index: a rejected re-upload of a report
        leaves the kept copy (and what "Open report" serves) as it was."""
        rows, accepted = _screen(files)
        if not accepted:
            return rows
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.uploads_dir))
        try:
            staged = {}
            for original, name in accepted:
                target = staging / name
                shutil.copyfile(original, target)
                kept_sidecar = sidecar_path(self.uploads_dir / name)
                if kept_sidecar.is_file():  # a correction made to the kept copy is read with the new one
                    shutil.copyfile(kept_sidecar, sidecar_path(target))
                staged[target.resolve()] = (self.uploads_dir / name).resolve()
            summary = self.ingest(list(staged), progress, kept_as=staged)
            for result in summary.results:
                rows.append(_row_for(result))
                kept = self.uploads_dir / result.source
                if result.status in ("added", "updated"):
                    os.replace(staging / result.source, kept)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return rows

    def remove(self, source: str) -> bool:
        info = self.report(source)
        with self._write_lock:
            removed = remove_report(self.index_dir, source)
        self.refresh()
        if removed and info is not None:
            path = Path(info.path)
            # An uploaded copy goes too (so a rebuild does not bring it back); corpus files stay.
            if path.parent.resolve() == self.uploads_dir.resolve() and path.is_file():
                path.unlink()
                sidecar_path(path).unlink(missing_ok=True)  # its corrections go with it
        return removed

    def edit(self, source: str, title: str | None = None, day: str | None = None, council: str | None = None,
             committee: str | None = None) -> ReportInfo | None:
        """Correct a report's title, date (``2020-02-13`` or ``20200213``), council or committee: written
        to its sidecar and its row, nothing re-embedded (:func:`ingest.edit.edit_report`). Empty
        values leave a field as it is. The report as the library now shows it."""
        with self._write_lock:
            correct_report(self.index_dir, source, title, day, council, committee)
        self.refresh()
        return self.report(source)

    def report_file(self, source: str) -> Path | None:
        """The file of a report the index knows, when it is still there."""
        info = self.report(source)
        if info is None:
            return None
        path = Path(info.path)
        return path if path.is_file() else None


def correct_report(index_dir: Path, source: str, title: str | None = None, day: str | None = None,
                   council: str | None = None, committee: str | None = None) -> ReportMeta:
    """What the Library tab and ``council-qa edit`` both call: check the values typed (a bad date is
    :class:`BadDate`), then write the sidecar and the report's row with no model loaded."""
    from ingest.edit import clean_edit, edit_report
    from qa.wording import parse_date

    return edit_report(index_dir, source, clean_edit(title, parse_date(day, "report"), council, committee))


def _screen(files: Sequence[Path]) -> tuple[list[UploadRow], list[tuple[Path, str]]]:
    """Rows for files refused before reading (type, size, empty), and (file, safe name) for the rest."""
    rows: list[UploadRow] = []
    accepted: list[tuple[Path, str]] = []
    for path in files:
        path = Path(path)
        name = safe_name(path.name)
        if path.suffix.lower() not in UPLOAD_SUFFIXES:
            rows.append(UploadRow(name, False, f"not accepted: only {', '.join(UPLOAD_SUFFIXES)} files can be added"))
            continue
        size = path.stat().st_size if path.exists() else 0
        if size > MAX_UPLOAD_BYTES:
            rows.append(UploadRow(name, False, f"not accepted: larger than {MAX_UPLOAD_MB} MB"))
        elif size == 0:
            rows.append(UploadRow(name, False, "not accepted: the file is empty"))
        elif name in {n for _, n in accepted}:
            rows.append(UploadRow(name, False, "not accepted: another file in this upload has the same name"))
        else:
            accepted.append((path, name))
    return rows, accepted


def _row_for(result: FileResult) -> UploadRow:
    detail = {
        "added": f"added ({result.paragraphs} paragraphs)",
        "updated": f"updated ({result.paragraphs} paragraphs)",
        "unchanged": "already in the library, unchanged",
        "duplicate": "not added: the same report is already in the library"
                     + (f" ({result.reason})" if result.reason else ""),
    }.get(result.status, f"not added: {result.reason or result.status}")
    return UploadRow(result.source, result.status in ("added", "updated", "unchanged"), detail)
