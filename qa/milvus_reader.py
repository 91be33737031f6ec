"""Read-only access to a Milvus index written by :mod:`ingest.milvus_sink`: the same contract as
:class:`qa.store.IndexReader`, so retrieval, answers, eval and the CLI run on either backend.

Dense search is exact inner product over the windows' unit vectors (a FLAT index, as the local
``IndexFlatIP``), narrowed by a Milvus expression on ``report_id`` when filters apply; the lexical side
is Milvus's BM25 function over the paragraphs' analysed text (:func:`ingest.milvus_format.analyse`,
the local index's own tokenizer), so the same terms match. Report filters (report, council, committee,
dates) are resolved on the reports, which are loaded once, as the local reader does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from ingest.embed import Embedder
from ingest.errors import IndexMissing
from ingest.milvus_format import (
    REPORT_INTS,
    REPORT_TEXT,
    MilvusSpec,
    analyse,
    connect,
    id_list,
    parse_spec,
    query_all,
    read_meta,
)
from ingest.records import Paragraph
from ingest.segment_rules import BARE_LINE_WORDS, looks_bare
from qa.lexical import COLUMN_WEIGHTS
from qa.milvus_bm25 import fts5_bm25, fts5_idf
from qa.records import ParagraphFlags, ReportInfo
from qa.store import ReaderCommon, one_spelling_per_council

MAX_LIMIT = 16384
"""Milvus's largest ``limit`` for one search."""
LEXICAL_LOOKAHEAD = 2
"""Milvus BM25 candidates fetched per lexical candidate wanted, re-scored as FTS5 scores them: the
two BM25s differ in IDF and column weights, so FTS5's top list sits within a longer Milvus one."""
_REPORT_FIELDS = ["id", *REPORT_TEXT, *REPORT_INTS]
_PARAGRAPH_FIELDS = ["id", "report_id", "label", "page", "heading", "text", "numbered", "part_of", "scanned",
                     "same_label"]


def _report_info(row: dict) -> ReportInfo:
    """A ``reports`` row as the local reader builds it (empty strings stored for None)."""
    def opt(name: str) -> str | None:
        return row[name] or None

    return ReportInfo(row["source"], row["title"], opt("date"), opt("council"), opt("meeting"), row["pages"],
                      row["paragraphs"], row["path"], row["sha256"], row["ingested_at"], opt("committee"),
                      opt("meeting_date"), opt("item"), row["listings"],
                      doubtful=tuple(d for d in row["doubtful"].split(",") if d))


class MilvusIndexReader(ReaderCommon):
    """A Milvus index, opened for reading, with its own embedding model (loaded on first use)."""

    def __init__(self, spec: MilvusSpec, client, manifest: dict, embedder: Embedder | None = None) -> None:  # noqa: ANN001
        self.spec, self.client, self.manifest = spec, client, manifest
        self.index_dir = spec.label
        self.generation = manifest["generation"]
        rows = list(query_all(client, spec.collection("reports"), 'duplicate_of == ""', _REPORT_FIELDS))
        self._reports = one_spelling_per_council({int(r["id"]): _report_info(r) for r in rows})
        self._numbered = {int(r["id"]): int(r["numbered"]) for r in rows}
        self._use_embedder(embedder)
        self._df: dict[str, int] = {}

    @classmethod
    def open(cls, spec_text: str, embedder: Embedder | None = None) -> MilvusIndexReader:
        spec = parse_spec(spec_text)
        client = connect(spec)
        manifest = read_meta(client, spec)
        if manifest is None:
            client.close()
            raise IndexMissing(spec.label)  # type: ignore[arg-type]
        return cls(spec, client, manifest, embedder)

    def is_stale(self) -> bool:
        current = read_meta(self.client, self.spec)
        return current is not None and current.get("generation") != self.generation

    def close(self) -> None:
        self.client.close()

    def _scope(self, report_ids: set[int] | None) -> str:
        """A Milvus expression keeping rows of ``report_ids`` (None: no expression; the hits are then
        kept to indexed reports by :meth:`_indexed`)."""
        return "" if report_ids is None else f"report_id in {id_list(sorted(report_ids))}"

    def _indexed(self, hits: list[dict]) -> list[dict]:
        """Hits of reports this reader knows: not of a report committed after it opened, nor rows a
        commit cut short left without their ``reports`` row."""
        return [h for h in hits if int(h["entity"]["report_id"]) in self._reports]

    # -- paragraphs --------------------------------------------------------------------
    def _query(self, kind: str, filter: str, fields: list[str]) -> list[dict]:  # noqa: A002
        return list(query_all(self.client, self.spec.collection(kind), filter, fields))

    def paragraphs(self, ids: Iterable[int]) -> dict[int, tuple[Paragraph, ReportInfo, bool]]:
        ids = list(ids)
        if not ids:
            return {}
        out = {}
        for r in self._query("paragraphs", f"id in {id_list(ids)}", _PARAGRAPH_FIELDS):
            report = self._reports.get(int(r["report_id"]))
            if report is None:
                continue
            paragraph = Paragraph(report.source, r["label"], r["page"], r["heading"], r["text"], bool(r["numbered"]),
                                  r["part_of"], bool(r["scanned"]))
            out[int(r["id"])] = (paragraph, report, r["same_label"] > 1 and not r["part_of"])
        return out

    def paragraph_flags(self, paragraph_ids: Iterable[int]) -> list[ParagraphFlags]:
        ids = [int(i) for i in paragraph_ids]
        if not ids:
            return []
        rows = self._query("paragraphs", f"id in {id_list(ids)}",
                           ["id", "report_id", "numbered", "part_of", "tabular", "words"])
        short = [int(r["id"]) for r in rows if r["words"] <= BARE_LINE_WORDS]
        bare = {int(r["id"]) for r in self._query("paragraphs", f"id in {id_list(short)}", ["id", "text"])
                if looks_bare(r["text"])} if short else set()
        return [ParagraphFlags(int(r["id"]), int(r["report_id"]), bool(r["numbered"] or r["part_of"]),
                               bool(r["tabular"]), int(r["id"]) in bare) for r in rows]

    def window_ids_for_reports(self, report_ids: set[int]) -> np.ndarray:
        rows = self._query("windows", self._scope(report_ids), ["id"])
        return np.fromiter((r["id"] for r in rows), dtype=np.int64)

    def window_paragraphs(self, window_ids: Iterable[int]) -> dict[int, int]:
        ids = [int(i) for i in window_ids]
        if not ids:
            return {}
        return {int(r["id"]): int(r["paragraph_id"])
                for r in self._query("windows", f"id in {id_list(ids)}", ["id", "paragraph_id"])}

    def report_vectors(self, report_id: int) -> np.ndarray:
        rows = self._query("windows", self._scope({report_id}), ["vector"])
        if not rows:
            return np.zeros((0, int(self.manifest["dimension"])), dtype=np.float32)
        return np.asarray([r["vector"] for r in rows], dtype=np.float32)

    def windows_of(self, paragraph_id: int) -> list[tuple[str, np.ndarray]]:
        rows = self._query("windows", f"paragraph_id == {int(paragraph_id)}", ["seq", "text", "vector"])
        return [(r["text"], np.asarray(r["vector"], dtype=np.float32)) for r in sorted(rows, key=lambda r: r["seq"])]

    def dense(self, query_vector: np.ndarray, n_windows: int, report_ids: set[int] | None
              ) -> tuple[np.ndarray, np.ndarray]:
        """The ``n_windows`` windows nearest ``query_vector`` (inner product), within ``report_ids``:
        (window ids, scores), best first."""
        if (report_ids is not None and not report_ids) or not self._reports:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        hits = self.client.search(self.spec.collection("windows"), data=[np.asarray(query_vector).tolist()],
                                  anns_field="vector", limit=min(MAX_LIMIT, n_windows), filter=self._scope(report_ids),
                                  search_params={"metric_type": "IP"}, output_fields=["report_id"])[0]
        hits = self._indexed(hits)
        return (np.fromiter((h["id"] for h in hits), dtype=np.int64),
                np.fromiter((h["distance"] for h in hits), dtype=np.float32))

    def known_terms(self, terms: Iterable[str], sources: Iterable[str] = ()) -> set[str]:
        """The terms (stemmed as the text search stems them) found in at least one paragraph, of the
        reports ``sources`` when given, else of any report."""
        wanted = {rid for rid, r in self._reports.items() if r.source in set(sources)}
        scope = f" and {self._scope(wanted)}" if wanted else ""
        found = set()
        for term in terms:
            stems = analyse([term])[0].split()
            if not stems:
                continue
            match = " and ".join(f"text_match(lex, '{stem}')" for stem in stems)
            rows = self.client.query(self.spec.collection("paragraphs"), filter=match + scope, output_fields=["id"],
                                     limit=1)
            if rows:
                found.add(term)
        return found

    def _rows_with(self, phrase: list[str]) -> int:
        """Paragraphs holding every term of ``phrase`` (exact for one term; for a phrase of several, such
        as "covid 19", rows with the terms apart count too: Milvus Lite has no ``phrase_match``)."""
        key = " ".join(phrase)
        if key not in self._df:
            match = " and ".join(f"text_match(lex, '{term}')" for term in phrase)
            rows = self.client.query(self.spec.collection("paragraphs"), filter=match, output_fields=["count(*)"])
            self._df[key] = int(rows[0]["count(*)"])
        return self._df[key]

    def lexical(self, match: str, limit: int, report_ids: set[int] | None) -> list[tuple[int, float]]:
        """BM25 over paragraph text, heading and report title: (paragraph id, score), best first.
        ``match`` is the FTS5 expression :func:`qa.retrieve.fts_query` builds (quoted phrases joined by
        OR). Milvus's BM25 function finds the candidates; each is scored as FTS5 scores it
        (:mod:`qa.milvus_bm25`), with the index-wide statistics FTS5 uses."""
        phrases = [p.split() for p in analyse(re.findall(r'"([^"]*)"', match))]
        phrases = [p for p in phrases if p]
        if not phrases or (report_ids is not None and not report_ids) or not self._reports:
            return []
        hits = self.client.search(self.spec.collection("paragraphs"), data=[" ".join(sum(phrases, []))],
                                  anns_field="sparse", limit=min(MAX_LIMIT, limit * LEXICAL_LOOKAHEAD),
                                  filter=self._scope(report_ids), search_params={"metric_type": "BM25"},
                                  output_fields=["report_id", "lex", "lex_text_len", "lex_heading_len"])[0]
        rows = int(self.manifest["counts"]["paragraphs"])
        idf = [fts5_idf(rows, self._rows_with(p)) for p in phrases]
        avgdl = float(self.manifest.get("lex_tokens", 0)) / max(rows, 1)
        scored = []
        for hit in self._indexed(hits):
            terms, a = hit["entity"]["lex"].split(), hit["entity"]["lex_text_len"]
            b = a + hit["entity"]["lex_heading_len"]
            score = fts5_bm25((terms[:a], terms[a:b], terms[b:]), phrases, idf, avgdl, COLUMN_WEIGHTS)
            if score > 0:
                scored.append((int(hit["id"]), score))
        return sorted(scored, key=lambda kv: (-kv[1], kv[0]))[:limit]
