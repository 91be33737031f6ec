"""Read-only access to an index directory written by ``ingest.writer``.

:func:`open_index` is the one way in: it returns the current generation with the index's own
embedding model (loaded on first use), so every caller queries with the vectors' model.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np

from ingest.embed import Embedder
from ingest.errors import CouncilQAError, IndexMissing, NotInIndex
from ingest.index_format import DATABASE, MANIFEST, REPORT_COLUMNS, VECTORS, check_model, read_manifest
from ingest.milvus_format import is_milvus
from ingest.records import Paragraph
from ingest.segment_rules import BARE_LINE_WORDS, looks_bare
from ingest.vector_index import prepare_for_search
from qa.lexical import ParagraphSpan, TextSearch
from qa.records import Filters, ParagraphFlags, ReportInfo

_REPORT_COLUMNS = ", ".join(REPORT_COLUMNS)


class ReaderCommon:
    """What every index reader does the same way, whatever holds the index: the reports it keeps
    in memory (``_reports``, ``_numbered``) and its own model, loaded on first use. Subclasses set
    ``manifest``, ``index_dir``, ``_reports`` and ``_numbered``, implement :meth:`report_vectors` and
    call :meth:`_use_embedder`."""

    manifest: dict
    index_dir: Path | str
    _reports: dict[int, ReportInfo]
    _numbered: dict[int, int]

    def _use_embedder(self, embedder: Embedder | None) -> None:
        self._embedder = embedder
        if embedder is not None:
            self.check_embedder(embedder.name, embedder.dimension)
        self._embedder_lock = threading.Lock()
        self._centroids: dict[int, np.ndarray] = {}

    @property
    def model_name(self) -> str:
        return str(self.manifest["model"])

    @property
    def embedder(self) -> Embedder:
        """The model this index was built with, loaded from local files on first use."""
        if self._embedder is None:
            with self._embedder_lock:
                if self._embedder is None:
                    from ingest.embed import load_query_embedder

                    model = load_query_embedder(self.model_name)
                    self.check_embedder(model.name, model.dimension)
                    self._embedder = model
        return self._embedder

    def check_embedder(self, name: str, dimension: int) -> None:
        check_model(self.manifest, name, dimension, self.index_dir)  # type: ignore[arg-type]

    # -- reports -----------------------------------------------------------------------
    def reports(self) -> list[ReportInfo]:
        return sorted(self._reports.values(), key=lambda r: (r.date or "", r.title), reverse=True)

    def report(self, source: str) -> ReportInfo | None:
        return next((r for r in self._reports.values() if r.source == source), None)

    def councils(self) -> list[str]:
        return sorted({r.council for r in self._reports.values() if r.council})

    def allowed_report_ids(self, filters: Filters) -> set[int] | None:
        """Report ids passing ``filters``; None when nothing is filtered."""
        return allowed_ids(self._reports, filters)

    def numbered_count(self, report_id: int) -> int:
        """How many numbered paragraphs the report has."""
        return self._numbered.get(report_id, 0)

    def report_vectors(self, report_id: int) -> np.ndarray:
        """The stored vectors of every window of the report, one row each."""
        raise NotImplementedError

    def report_centroid(self, report_id: int) -> np.ndarray:
        """The mean of the report's window vectors, what its paragraphs have in common (read once
        per report and kept; zeros for a report without windows)."""
        centroid = self._centroids.get(report_id)
        if centroid is None:
            vectors = self.report_vectors(report_id)
            centroid = vectors.mean(axis=0) if len(vectors) else np.zeros(int(self.manifest["dimension"]), np.float32)
            self._centroids[report_id] = centroid
        return centroid


class IndexReader(ReaderCommon):
    """One generation of an index, opened read-only. Cheap to reopen when it goes stale."""

    def __init__(self, index_dir: Path, manifest: dict, embedder: Embedder | None = None) -> None:
        import faiss

        self.index_dir = index_dir
        self.manifest = manifest
        self.generation = manifest["generation"]
        gen = index_dir / self.generation
        # check_same_thread=False: the app's worker threads share this read-only handle.
        self.db = sqlite3.connect(f"file:{gen / DATABASE}?mode=ro", uri=True, check_same_thread=False)
        self.vectors = faiss.read_index(str(gen / VECTORS))
        prepare_for_search(self.vectors, manifest)
        self._report_windows: dict[int, np.ndarray] = {}
        self._reports: dict[int, ReportInfo] = {}
        for row in self.db.execute(f"SELECT id, {_REPORT_COLUMNS} FROM reports"):
            doubtful = tuple(d for d in (row[-1] or "").split(",") if d)
            self._reports[row[0]] = ReportInfo(*row[1:-1], doubtful=doubtful)
        self._reports = one_spelling_per_council(self._reports)
        spans: dict[int, ParagraphSpan] = {}
        self._numbered: dict[int, int] = {}
        for rid, numbered, first, last, count in self.db.execute(
                "SELECT report_id, sum(numbered), min(id), max(id), count(*) FROM paragraphs GROUP BY report_id"):
            self._numbered[rid] = numbered
            spans[rid] = ParagraphSpan(first, last, count)
        self.text = TextSearch(self.db, spans)
        self._use_embedder(embedder)

    @staticmethod
    def exists(index_dir: str | Path) -> bool:
        return (Path(index_dir) / MANIFEST).exists()

    @classmethod
    def open(cls, index_dir: str | Path, embedder: Embedder | None = None) -> IndexReader:
        index_dir = Path(index_dir)
        manifest = read_manifest(index_dir)
        if manifest is None:
            raise IndexMissing(index_dir)
        return cls(index_dir, manifest, embedder)

    def is_stale(self) -> bool:
        try:
            current = read_manifest(self.index_dir)
        except CouncilQAError:
            return False
        return current is not None and current.get("generation") != self.generation

    def close(self) -> None:
        self.db.close()

    # -- paragraphs --------------------------------------------------------------------
    def paragraphs(self, ids: Iterable[int]) -> dict[int, tuple[Paragraph, ReportInfo, bool]]:
        """Paragraph id -> (paragraph, its report, whether its label repeats in the report)."""
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT p.id, p.report_id, p.label, p.page, p.heading, p.text, p.numbered, p.part_of, p.scanned,"
            f" (SELECT count(*) FROM paragraphs q WHERE q.report_id = p.report_id"
            f"  AND (q.label = p.label OR (p.part_of != '' AND q.part_of = p.part_of)))"
            f" FROM paragraphs p WHERE p.id IN ({marks})",
            ids,
        )
        out = {}
        for pid, rid, label, page, heading, text, numbered, part_of, scanned, same_label in rows:
            report = self._reports[rid]
            paragraph = Paragraph(report.source, label, page, heading, text, bool(numbered), part_of, bool(scanned))
            out[pid] = (paragraph, report, same_label > 1 and not part_of)
        return out

    def paragraph_flags(self, paragraph_ids: Iterable[int]) -> list[ParagraphFlags]:
        """What the ranking needs to know of each paragraph (:class:`ParagraphFlags`)."""
        ids = [int(i) for i in paragraph_ids]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT id, report_id, numbered OR part_of != '', tabular, CASE WHEN words <= ? THEN text END"
            f" FROM paragraphs WHERE id IN ({marks})", [BARE_LINE_WORDS, *ids]
        )
        return [ParagraphFlags(pid, rid, bool(numbered), bool(tabular), short is not None and looks_bare(short))
                for pid, rid, numbered, tabular, short in rows]

    def window_ids_for_reports(self, report_ids: set[int]) -> np.ndarray:
        """The window ids of these reports, each report's read once and kept (at a million
        paragraphs one JOIN over 399 reports took 0.8 s: ``bench/scale.py``)."""
        parts = []
        for rid in sorted(report_ids):
            ids = self._report_windows.get(rid)
            if ids is None:
                rows = self.db.execute(
                    "SELECT w.id FROM windows w JOIN paragraphs p ON p.id = w.paragraph_id WHERE p.report_id = ?",
                    (rid,))
                ids = self._report_windows[rid] = np.fromiter((r[0] for r in rows), dtype=np.int64)
            parts.append(ids)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def window_paragraphs(self, window_ids: Iterable[int]) -> dict[int, int]:
        ids = [int(i) for i in window_ids]
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        return dict(self.db.execute(f"SELECT id, paragraph_id FROM windows WHERE id IN ({marks})", ids))

    def report_vectors(self, report_id: int) -> np.ndarray:
        ids = self.window_ids_for_reports({report_id})
        if not len(ids):
            return np.zeros((0, self.vectors.d), dtype=np.float32)
        return np.stack([self.vectors.reconstruct(int(wid)) for wid in ids])

    def windows_of(self, paragraph_id: int) -> list[tuple[str, np.ndarray]]:
        """A paragraph's windows: (text, stored vector), in reading order."""
        rows = self.db.execute("SELECT id, text FROM windows WHERE paragraph_id = ? ORDER BY seq", (paragraph_id,))
        return [(text, self.vectors.reconstruct(int(wid))) for wid, text in rows]

    def dense(self, query_vector: np.ndarray, n_windows: int, report_ids: set[int] | None
              ) -> tuple[np.ndarray, np.ndarray]:
        """The ``n_windows`` windows nearest ``query_vector`` (FAISS inner product; exact, or IVF
        past :data:`ingest.vector_index.IVF_THRESHOLD`), within ``report_ids`` (None: everywhere):
        (window ids, scores), best first."""
        from ingest.vector_index import search

        allowed = None if report_ids is None else self.window_ids_for_reports(report_ids)
        scores, ids = search(self.vectors, query_vector, n_windows, allowed)
        return ids, scores

    def known_terms(self, terms: Iterable[str], sources: Iterable[str] = ()) -> set[str]:
        """The terms (stemmed as the text search stems them) found in at least one paragraph, of
        the reports ``sources`` when given, else of any report."""
        wanted = {rid for rid, r in self._reports.items() if r.source in set(sources)}
        scope = ""
        if wanted:
            scope = f" AND rowid IN (SELECT id FROM paragraphs WHERE report_id IN ({','.join(map(str, wanted))}))"
        found = set()
        for term in terms:
            phrase = '"' + term.replace('"', " ") + '"'
            try:
                row = self.db.execute(
                    f"SELECT 1 FROM paragraphs_fts WHERE paragraphs_fts MATCH ?{scope} LIMIT 1", (phrase,)).fetchone()
            except sqlite3.OperationalError:
                continue  # a term FTS5 cannot parse is treated as unknown
            if row is not None:
                found.add(term)
        return found

    def lexical(self, match: str, limit: int, report_ids: set[int] | None) -> list[tuple[int, float]]:
        """FTS5 BM25 over paragraph text, heading and report title: (paragraph id, score), best
        first (:class:`qa.lexical.TextSearch`: bounded however large the index)."""
        return self.text.search(match, limit, report_ids)


_NAME_GLUE = frozenset({"and", "of", "the"})


def _council_key(name: str) -> tuple[str, ...]:
    return tuple(w for w in re.findall(r"[a-z0-9]+", name.lower()) if w not in _NAME_GLUE)


def one_spelling_per_council(reports: dict[int, ReportInfo]) -> dict[int, ReportInfo]:
    """The reports with one spelling of each council: names that differ only in "and", "of", "the"
    or "&" are one council, shown by its fullest spelling. A scanned Limerick paper names no council,
    so its folder gave "Limerick City County Council" beside "Limerick City and County Council"
    printed on the other two, and a member saw two councils in citations and in the council filter."""
    keys = {rid: _council_key(r.council) for rid, r in reports.items() if r.council}
    fullest: dict[tuple[str, ...], str] = {}
    for rid, key in keys.items():
        name, known = reports[rid].council, fullest.get(key)
        if known is None or (len(name.split()), name) > (len(known.split()), known):
            fullest[key] = name
    return {rid: replace(r, council=fullest[keys[rid]]) if rid in keys else r for rid, r in reports.items()}


def allowed_ids(reports: dict[int, ReportInfo], filters: Filters) -> set[int] | None:
    """Ids of ``reports`` passing ``filters`` (report, council, committee, dates); None when nothing
    is filtered. Shared by both backends' readers."""
    if not (filters.reports or filters.council or filters.since or filters.until or filters.committee):
        return None
    wanted = set(filters.reports)
    unknown = wanted - {r.source for r in reports.values()}
    if unknown:
        raise NotInIndex(sorted(unknown))
    out = set()
    for rid, r in reports.items():
        if wanted and r.source not in wanted:
            continue
        if filters.council and (r.council or "").lower() != filters.council.lower():
            continue
        if filters.committee and not _in_committee(r, filters.committee):
            continue
        if filters.since and (r.date is None or r.date < filters.since):
            continue
        if filters.until and (r.date is None or r.date > filters.until):
            continue
        out.add(rid)
    return out


def _in_committee(report: ReportInfo, committee: str) -> bool:
    """True when the report's committee, or any committee it is listed under, is ``committee``."""
    wanted = committee.lower()
    return (report.committee or "").lower() == wanted or any(c.lower() == wanted for c in report.committees)


def open_index(index_dir: str | Path, embedder: Embedder | None = None) -> IndexReader:
    """The current generation of ``index_dir`` with its own model (``embedder``, when given, must
    be that model: tests pass a stand-in they built the index with). ``milvus:FILE.db`` or
    ``milvus://HOST:PORT/NAME`` opens a Milvus index (:mod:`qa.milvus_reader`, the same contract; the
    evidence viewer and the app read local indexes only)."""
    if is_milvus(index_dir):
        from qa.milvus_reader import MilvusIndexReader

        return MilvusIndexReader.open(str(index_dir), embedder)  # type: ignore[return-value]
    return IndexReader.open(index_dir, embedder)
