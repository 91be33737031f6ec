"""Ingest: which files changed, read them, and commit the changes as one new generation.

Unchanged files (same SHA-256) cost one hash: the model is loaded only when some report
has windows to embed, and no generation is written when nothing changed. Files that cannot
be read are reported with their reason; the rest of the batch goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.edit import REREAD, sidecar_meta, stored_meta_in, update_meta
from ingest.embed import Embedder, SentenceTransformerEmbedder, export_for_queries
from ingest.errors import BuildMismatch, CouncilQAError, UnreadableReport
from ingest.hashing import file_sha256
from ingest.index_format import BuildParams, check_model, current_params, read_manifest
from ingest.readers import SUPPORTED_SUFFIXES
from ingest.records import Report, ReportMeta
from ingest.results import FileResult, IngestSummary, Status
from ingest.rows import (
    delete_report,
    find_duplicate,
    forget_duplicates_of,
    insert_report,
    record_duplicate,
    stored_vectors,
)
from ingest.writer import GenerationWriter, WriterLock, first_build, sources_in

if TYPE_CHECKING:
    from ingest.isolate import OcrProgress
    from ingest.ocr import OcrSettings

__all__ = ["FileResult", "IngestSummary", "Status", "expand_paths", "ingest_paths", "remove_report"]

Progress = Callable[[int, int, str], None]
"""``progress(done, total, message)``."""
EmbedderFactory = Callable[[], Embedder]


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


class _LazyEmbedder:
    """The embedder, loaded the first time something needs embedding."""

    def __init__(self, embedder: Embedder | None, model: str | None) -> None:
        self._embedder = embedder
        self.model = embedder.name if embedder is not None else model

    def get(self) -> Embedder:
        if self._embedder is None:
            from ingest.embed import load_embedder

            self._embedder = load_embedder(self.model)
        return self._embedder

    @property
    def loaded(self) -> bool:
        return self._embedder is not None


def _plan(files: Sequence[Path], known: dict[str, str], skipped: dict[str, str],
          summary: IngestSummary, relabel: dict[str, tuple[Path, ReportMeta]] | None = None,
          stored: dict[str, tuple[ReportMeta, str]] | None = None) -> list[tuple[Path, str]]:
    """Hash every file: the ones to read, in order; unchanged ones are recorded as such, or put in
    ``relabel`` (with their new metadata) when their sidecar changed (:mod:`ingest.edit`)."""
    todo: list[tuple[Path, str]] = []
    seen: set[str] = set()
    for path in files:
        source = path.name
        if source in seen:
            summary.record(FileResult(source, str(path), Status.FAILED, 0,
                                              "another file with the same name is in this batch"))
            continue
        seen.add(source)
        digest = file_sha256(path)
        fresh = sidecar_meta(stored[source][0], path) if known.get(source) == digest and stored else None
        if fresh == REREAD:
            todo.append((path, digest))
        elif isinstance(fresh, ReportMeta) and relabel is not None:
            relabel[source] = (path, fresh)
        elif known.get(source) == digest:
            summary.record(FileResult(source, str(path), Status.UNCHANGED))
        elif skipped.get(source) == digest:
            summary.record(FileResult(source, str(path), Status.DUPLICATE, 0, "unchanged duplicate"))
        else:
            todo.append((path, digest))
    return todo


def read_in_order(paths: Sequence[Path], ocr: OcrSettings | None = None,
                  on_ocr: OcrProgress | None = None) -> Iterator[tuple[Path, Report | UnreadableReport]]:
    """Each file's report, or the reason it cannot be read, in order. Files are parsed in a
    bounded child process (time and memory: :mod:`ingest.isolate`; scanned pages by OCR with
    ``ocr``, progress to ``on_ocr``, which is called from the reading thread), read ahead on a
    thread of their own while the caller embeds (:func:`ingest.isolate.in_background`)."""
    if not paths:
        return
    import threading

    from ingest.isolate import in_background, read_reports

    stop = threading.Event()
    yield from in_background(read_reports(paths, ocr=ocr, on_ocr=on_ocr, stop=stop), stop=stop)


Reads = Iterator[tuple[Path, Report | UnreadableReport]]


def reads_and_embedder(todo: Sequence[tuple[Path, str]], embedder: Embedder | None, model: str | None,
                       ocr: OcrSettings | None, on_ocr: OcrProgress | None, workers: str | None = None,
                       ray_cpus: int | None = None) -> tuple[Reads, _LazyEmbedder]:
    """The files' reports in order, and the embedder a sink embeds their windows with. With
    ``workers`` ``ray[:ADDRESS]`` files are read and their windows embedded by Ray tasks, and the
    embedder hands the sink the vectors they made (:mod:`ingest.ray_workers`)."""
    paths = [p for p, _ in todo]
    if workers is None:
        return read_in_order(paths, ocr, on_ocr), _LazyEmbedder(embedder, model)
    from ingest.ray_workers import read_and_embed

    reads, precomputed = read_and_embed(paths, workers, embedder, model, ocr, ray_cpus)
    return reads, _LazyEmbedder(precomputed, None)


class _Batch:
    """Applies a batch of reports and removals to a generation opened on first need."""

    def __init__(self, index_dir: Path, embedder: _LazyEmbedder, manifest: dict | None,
                 summary: IngestSummary) -> None:
        self.index_dir, self.embedder, self.manifest, self.summary = index_dir, embedder, manifest, summary
        self.writer: GenerationWriter | None = None

    def open(self) -> GenerationWriter:
        """The generation being built; the model is loaded here only for a new index."""
        if self.writer is None:
            if self.manifest is not None:
                params = BuildParams.from_manifest(self.manifest)  # an index keeps its own windowing
            else:
                model = self.embedder.get()
                params = current_params(model.name, model.dimension)
            self.writer = GenerationWriter(self.index_dir, params)
            self.writer.prepare()
        return self.writer

    def model(self) -> Embedder:
        """The embedder, loaded on first use and checked against the index's model."""
        model = self.embedder.get()
        if self.manifest is not None:
            check_model(self.manifest, model.name, model.dimension, self.index_dir)
        return model

    def remove(self, source: str) -> None:
        writer = self.open()
        delete_report(writer.conn, writer.vectors, source)
        forget_duplicates_of(writer.conn, source)
        self.summary.record(FileResult(source, "", Status.REMOVED))

    def relabel(self, path: Path, source: str, meta: ReportMeta) -> None:
        """New metadata from a changed sidecar, for a file whose bytes did not change: no embedding."""
        update_meta(self.open().conn, source, meta)
        self.summary.record(FileResult(source, str(path), Status.UPDATED, 0, "metadata from its sidecar"))

    def add(self, path: Path, digest: str, report: Report) -> FileResult:
        """Index the report (replacing what the index held for its file), or record it as a duplicate
        of another. A file read again only because the reading rules changed keeps its place: it is
        not checked for being a duplicate again (a decision notice that its meeting's minutes hold
        whole was indexed beside them, and stays)."""
        writer = self.open()
        conn, vectors = writer.conn, writer.vectors
        before = conn.execute("SELECT sha256 FROM reports WHERE source = ?", (report.source,)).fetchone()
        reread = before is not None and before[0] == digest
        duplicate_of = None if reread else find_duplicate(conn, report)
        if duplicate_of is not None:
            record_duplicate(conn, vectors, report.source, digest, duplicate_of)
            return FileResult(report.source, str(path), Status.DUPLICATE, 0,
                              f"same report as {duplicate_of}; not indexed twice")
        known = stored_vectors(conn, vectors, report.source, writer.params) if before else {}
        delete_report(conn, vectors, report.source)
        conn.execute("DELETE FROM skipped WHERE source = ?", (report.source,))
        self.summary.kept_windows += insert_report(conn, report, str(path), digest, writer.pending, writer.params,
                                                   known, vectors)
        if writer.pending.ids:  # windows that all kept their vectors need no model
            self.summary.embedded_windows += writer.embed_pending(self.model())
        if before is None:
            return FileResult(report.source, str(path), Status.ADDED, len(report.paragraphs))
        why = "read again: indexed by an older council-qa" if reread else ""
        return FileResult(report.source, str(path), Status.UPDATED, len(report.paragraphs), why)

    def commit(self) -> None:
        if self.writer is None:
            return
        try:
            if self.writer.pending.ids:  # a metadata-only batch loads no model
                self.summary.embedded_windows += self.writer.embed_pending(self.model(), force=True)
            self.summary.generation = self.writer.commit()
        except BaseException:
            self.writer.abort()
            raise
        _export_query_encoder(self.embedder)

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.abort()


def model_for(manifest: dict | None, embedder: Embedder | None, model: str | None, where: Path) -> str | None:
    """The model to embed with: the index's own (``manifest``; an ``embedder`` or ``model`` given must
    be it), else ``model`` (None: the default) for a new index."""
    if manifest is None:
        return model
    if embedder is not None:
        check_model(manifest, embedder.name, embedder.dimension, where)
    elif model is not None and model != manifest["model"]:
        raise BuildMismatch(where, "model", f"'{manifest['model']}'", f"'{model}'")
    return model or manifest["model"]


def ingest_paths(
    paths: Sequence[str | Path],
    index_dir: str | Path,
    *,
    embedder: Embedder | None = None,
    model: str | None = None,
    prune: bool = False,
    progress: Progress | None = None,
    kept_as: dict[Path, Path] | None = None,
    on_result: Callable[[FileResult], None] | None = None,
    ocr: OcrSettings | None = None,
    on_ocr: OcrProgress | None = None,
    workers: str | None = None, ray_cpus: int | None = None,
) -> IngestSummary:
    """Add, update (and with ``prune`` remove) reports in the index at ``index_dir``.

    Give a loaded ``embedder``, or a ``model`` name to load when there is something to embed
    (None: the index's own model, else the default). Files that cannot be read are reported
    as failed with the reason; the rest of the batch goes on and whatever the index held for
    a failed file stays as it was. ``kept_as`` maps a file read from a staging place to the
    path it will be kept at (recorded in the index instead), for uploads moved in afterwards.
    Scanned PDF pages are read by OCR with ``ocr`` (default: :meth:`OcrSettings.default`),
    cached by content hash; ``on_ocr(file, pages done, pages)`` follows it. ``milvus:FILE.db`` or
    ``milvus://HOST:PORT/NAME`` is a Milvus index (:mod:`ingest.milvus_sink`); ``workers``
    ``ray[:ADDRESS]`` reads and embeds on Ray (``ray_cpus``: a local Ray's size).
    """
    if isinstance(index_dir, str) and index_dir.startswith("milvus:"):
        from ingest.milvus_sink import ingest_milvus
        return ingest_milvus(paths, index_dir, embedder=embedder, model=model, prune=prune, progress=progress,
                             on_result=on_result, ocr=ocr, on_ocr=on_ocr, workers=workers, ray_cpus=ray_cpus)
    started = time.perf_counter()
    index_dir = Path(index_dir)
    files = expand_paths(paths)
    index_dir.mkdir(parents=True, exist_ok=True)
    summary = IngestSummary(index_dir=index_dir, on_result=on_result)
    with WriterLock(index_dir):
        manifest = read_manifest(index_dir)
        model = model_for(manifest, embedder, model, index_dir)
        known, skipped = sources_in(index_dir, manifest) if manifest else ({}, {})
        stored = stored_meta_in(index_dir, manifest) if manifest else {}
        relabel: dict[str, tuple[Path, ReportMeta]] = {}
        todo = _plan(files, known, skipped, summary, relabel, stored)
        removed = sorted(set(known) - {p.name for p in files}) if prune else []
        reads, lazy = reads_and_embedder(todo, embedder, model, ocr, on_ocr, workers, ray_cpus)
        batch = _Batch(index_dir, lazy, manifest, summary)
        try:
            for source, (path, meta) in relabel.items():
                batch.relabel(path, source, meta)
            _apply(batch, todo, removed, summary, progress, kept_as or {}, reads)
            batch.commit()
        except BaseException:
            batch.abort()
            raise
        if manifest is None and batch.writer is None:
            model_ = lazy.get()
            summary.generation = first_build(index_dir, current_params(model_.name, model_.dimension))
        elif batch.writer is None and manifest is not None:
            summary.generation = manifest["generation"]
    summary.seconds = time.perf_counter() - started
    return summary


def _export_query_encoder(lazy: _LazyEmbedder) -> None:
    """With the torch model loaded for this ingest anyway, make its ONNX export for questions now
    (once per model), so the first question asked, in the app or the CLI, does not pay for it."""
    if lazy.loaded:
        model = lazy.get()
        if isinstance(model, SentenceTransformerEmbedder):
            export_for_queries(model)
            _export_second_judge(model.name)


def _export_second_judge(name: str) -> None:
    """The ONNX export of the model that judges answer sentences beside ``name``'s
    (``ingest.models.SECOND_JUDGE``), made once per machine: ~30 s here instead of on the first
    question."""
    from ingest.embed import load_embedder
    from ingest.models import second_judge_of
    from ingest.onnx_encoder import find_export

    judge = second_judge_of(name)
    if judge is not None and find_export(judge) is None:
        export_for_queries(load_embedder(judge))


def _apply(batch: _Batch, todo: Sequence[tuple[Path, str]], removed: Sequence[str], summary: IngestSummary,
           progress: Progress | None, kept_as: dict[Path, Path], reads: Reads) -> None:
    """Removals, then each file's report (``reads``, in ``todo``'s order) added to ``batch``, the local
    :class:`_Batch` or a Milvus one (:class:`ingest.milvus_sink.MilvusBatch`)."""
    for source in removed:
        batch.remove(source)
    digests = dict(todo)
    total = len(todo)
    for n, (path, outcome) in enumerate(reads, start=1):
        if isinstance(outcome, UnreadableReport):
            result = FileResult(path.name, str(path), Status.FAILED, 0, outcome.reason)
        else:
            result = batch.add(kept_as.get(path, path), digests[path], outcome)
        summary.record(result)
        if progress:
            progress(n, total, f"{path.name}: {result.status}")


def remove_report(index_dir: str | Path, source: str) -> bool:
    """Remove one report (by file name) from the index; False when it was not there."""
    index_dir = Path(index_dir)
    if not (index_dir / "manifest.json").exists():
        return False
    with WriterLock(index_dir):
        manifest = read_manifest(index_dir)
        if manifest is None or source not in sources_in(index_dir, manifest)[0]:
            return False
        params = BuildParams.from_manifest(manifest)
        writer = GenerationWriter(index_dir, params)
        writer.prepare()
        try:
            delete_report(writer.conn, writer.vectors, source)
            forget_duplicates_of(writer.conn, source)
            writer.commit()
        except BaseException:
            writer.abort()
            raise
        return True
