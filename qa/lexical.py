"""The text half of retrieval: SQLite FTS5 BM25 over paragraph text, heading and report title,
kept within a bounded cost however large the index grows.

FTS5 scores every paragraph that holds any word of the question, so its cost grows with how
common the words are. Two rules bound it, and neither changes anything in an index of up to
:data:`COMMON_TERM_PARAGRAPHS` paragraphs (the shared corpus has 5,066):

* **a few reports** (a report named, or a handful): one query per run of consecutive paragraph
  ids, constrained by ``rowid BETWEEN``, which FTS5 answers by seeking in each word's list
  instead of reading it all. Every word of the question counts and the scores are the same as
  the unconstrained query's (BM25's statistics are the whole index's), so only the cost changes;
* **everywhere else**: words found in more than COMMON_TERM_PARAGRAPHS paragraphs are left out
  of the query, and when every word is that common there is no text search (the dense search
  answers alone).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from ingest.errors import CouncilQAError

COLUMN_WEIGHTS = (1.0, 0.6, 0.3)
"""BM25 weights of a paragraph's text, its heading and its report's title (both backends)."""

COMMON_TERM_PARAGRAPHS = 20_000
"""Question words found in more than this many paragraphs are left out of an index-wide text
search. At a million paragraphs (``bench/scale.py``, load ~1) searching every word took p50 310
ms / p95 634 ms per question, nearly all in FTS5; leaving out these words, p50 62 / p95 147 ms,
and the slowest questions were those whose every word was common, for which the rarest word
alone still cost up to 480 ms (before such questions skipped the text search)."""

RANGE_QUERIES_MAX = 16
"""A filter whose reports' paragraphs form at most this many runs of consecutive ids is searched
run by run with every word (one report is one run: the writer stores a report's paragraphs
together). At a million paragraphs, one report and six common words: 30 ms by ``rowid BETWEEN``
against 350 ms through a join on the reports' paragraphs."""


@dataclass(frozen=True)
class ParagraphSpan:
    """A report's paragraph ids: ``first`` to ``last``, ``count`` of them (consecutive when
    ``last - first + 1 == count``)."""

    first: int
    last: int
    count: int

    @property
    def consecutive(self) -> bool:
        return self.last - self.first + 1 == self.count


def id_runs(report_ids: set[int], spans: Mapping[int, ParagraphSpan]) -> list[tuple[int, int]] | None:
    """The paragraph ids of ``report_ids`` as merged (first, last) runs, or None when a report's
    ids are not consecutive (then only a join finds them exactly)."""
    chosen = [spans[r] for r in report_ids if r in spans]
    if any(not s.consecutive for s in chosen):
        return None
    runs: list[tuple[int, int]] = []
    for span in sorted(chosen, key=lambda s: s.first):
        if runs and span.first == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], span.last)
        else:
            runs.append((span.first, span.last))
    return runs


class TextSearch:
    """FTS5 search of one read-only index database (``db``), its reports' paragraph ``spans``
    known."""

    def __init__(self, db: sqlite3.Connection, spans: Mapping[int, ParagraphSpan]) -> None:
        self.db = db
        self.spans = spans
        self.paragraphs = sum(span.count for span in spans.values())
        self._term_counts: dict[str, int] = {}

    def search(self, match: str, limit: int, report_ids: set[int] | None) -> list[tuple[int, float]]:
        """(paragraph id, BM25 score), best first, for an FTS5 ``match`` ("a" OR "b" ...)."""
        if not match or (report_ids is not None and not report_ids):
            return []
        runs = None if report_ids is None else id_runs(report_ids, self.spans)
        if runs is not None and len(runs) <= RANGE_QUERIES_MAX:
            hits = [hit for first, last in runs for hit in self._query(match, limit, (first, last), None)]
            return sorted(hits, key=lambda h: -h[1])[:limit]
        match = self.without_common_terms(match)
        return self._query(match, limit, None, report_ids) if match else []

    def without_common_terms(self, match: str) -> str:
        """``match`` without the words found in more than COMMON_TERM_PARAGRAPHS paragraphs (""
        when every word is; nothing is left out of an index smaller than that)."""
        if self.paragraphs <= COMMON_TERM_PARAGRAPHS:
            return match
        return " OR ".join(t for t in match.split(" OR ") if t and self.paragraphs_with(t) <= COMMON_TERM_PARAGRAPHS)

    def paragraphs_with(self, term: str) -> int:
        """How many paragraphs hold ``term`` (counted up to one past the cap, then cached)."""
        if term not in self._term_counts:
            try:
                self._term_counts[term] = self.db.execute(
                    "SELECT count(*) FROM (SELECT rowid FROM paragraphs_fts WHERE paragraphs_fts MATCH ? LIMIT ?)",
                    (term, COMMON_TERM_PARAGRAPHS + 1)).fetchone()[0]
            except sqlite3.OperationalError:
                self._term_counts[term] = 0
        return self._term_counts[term]

    def _query(self, match: str, limit: int, run: tuple[int, int] | None,
               report_ids: set[int] | None) -> list[tuple[int, float]]:
        weights = ", ".join(map(str, COLUMN_WEIGHTS))
        sql = f"SELECT f.rowid, -bm25(paragraphs_fts, {weights}) AS s FROM paragraphs_fts f"
        params: list = []
        if report_ids is not None:
            sql += f" JOIN paragraphs p ON p.id = f.rowid AND p.report_id IN ({','.join('?' * len(report_ids))})"
            params += sorted(report_ids)
        sql += " WHERE paragraphs_fts MATCH ?"
        params.append(match)
        if run is not None:
            sql += " AND f.rowid BETWEEN ? AND ?"
            params += list(run)
        sql += " ORDER BY s DESC LIMIT ?"
        params.append(limit)
        try:
            return [(int(r[0]), float(r[1])) for r in self.db.execute(sql, params)]
        except sqlite3.OperationalError as exc:
            raise CouncilQAError(f"text search failed for {match!r} ({exc})") from exc
