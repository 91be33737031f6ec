"""Ingest into a Milvus index: the same pipeline as the local index (hash, plan, read, dedupe, cut
windows, embed), another sink.

A batch is held in memory and written at :meth:`MilvusBatch.commit` in one pass: rows of replaced and
removed reports are deleted (their ``reports`` row first, so readers stop citing them), then the new
paragraphs and windows are inserted, then their ``reports`` rows, then the manifest row with the next
generation number (the commit point readers watch). Milvus has no transactions: a crash mid-commit
can leave paragraphs without a report row, which readers never cite and the next ingest of the file
replaces. Content hashes and build parameters live in Milvus itself, so re-runs are incremental from
any machine with no local state.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.embed import encode_once
from ingest.index import (
    FileResult,
    IngestSummary,
    Progress,
    Status,
    _apply,
    _LazyEmbedder,
    _plan,
    expand_paths,
    model_for,
    reads_and_embedder,
)
from ingest.index_format import BuildParams, check_model, current_params
from ingest.milvus_format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    KINDS,
    PLACEHOLDER,
    REPORT_TEXT,
    analyse,
    connect,
    id_list,
    parse_spec,
    query_all,
    read_meta,
    schemas,
)
from ingest.records import Report
from ingest.rows import DUPLICATE_SHARE, normalise_for_hash, text_hash
from ingest.segment import looks_tabular
from ingest.writer import EMBED_BATCH, now

if TYPE_CHECKING:
    from ingest.embed import Embedder
    from ingest.isolate import OcrProgress
    from ingest.ocr import OcrSettings

INSERT_BATCH = 512
"""Rows per insert call: well under Milvus's 64 MB message limit with 768-d vectors (3 kB a row)."""


def _same_label_counts(report: Report) -> list[int]:
    """Per paragraph, how many of the report's paragraphs share its label or the printed paragraph it
    was cut from (what the local reader counts with SQL at query time)."""
    labels = Counter(p.label for p in report.paragraphs)
    parts = Counter(p.part_of for p in report.paragraphs if p.part_of)
    both = Counter((p.label, p.part_of) for p in report.paragraphs if p.part_of)
    return [labels[p.label] + (parts[p.part_of] - both[(p.label, p.part_of)] if p.part_of else 0)
            for p in report.paragraphs]


def _duplicate_digests(report: Report) -> set[str]:
    """The paragraph hashes :func:`ingest.rows.find_duplicate` compares (same rules, same share)."""
    hashes = [normalise_for_hash(p.text) for p in report.paragraphs if p.numbered]
    hashes = [h for h in hashes if len(h) >= 40]
    if len(hashes) < 3:
        hashes = [h for h in (normalise_for_hash(p.text) for p in report.paragraphs) if len(h) >= 80]
    if len(hashes) < 3:
        return set()
    return {hashlib.sha1(h.encode()).hexdigest() for h in hashes}


class MilvusBatch:
    """Applies a batch of reports and removals to a Milvus index in one commit."""

    def __init__(self, spec_text: str, client, manifest: dict | None, summary: IngestSummary) -> None:  # noqa: ANN001
        self.spec, self.client, self.manifest, self.summary = parse_spec(spec_text), client, manifest, summary
        self.embedder: _LazyEmbedder | None = None
        self.rows: dict[str, dict] = {}
        """source -> its stored reports row (id, sha256, duplicate_of)."""
        if manifest is not None:
            fields = ["id", "source", "sha256", "duplicate_of"]
            self.rows = {r["source"]: r for r in query_all(client, self.spec.collection("reports"), "id >= 0", fields)}
        self.stored = {int(r["id"]): s for s, r in self.rows.items() if not r["duplicate_of"]}
        """Report id -> source of the reports in Milvus before this batch, less those it drops."""
        self.next_ids = dict((manifest or {}).get("next_ids", {"report": 1, "paragraph": 1, "window": 1}))
        self.deleted: set[int] = set()
        self.reports: list[dict] = []
        self.paragraphs: list[dict] = []
        self.windows: list[dict] = []
        self.texts: list[str] = []
        self.embedded = 0
        self.hashes: dict[str, set[str]] = {}
        """Paragraph text hash -> sources added in this batch."""
        self.params: BuildParams | None = None
        self.lex_tokens = int((manifest or {}).get("lex_tokens", 0))
        """Analysed terms over all paragraphs (FTS5's average row length is this over the rows)."""

    def sources(self) -> tuple[dict[str, str], dict[str, str]]:
        """(indexed source -> sha256, duplicate source -> sha256), as ``ingest.writer.sources_in``."""
        known = {s: r["sha256"] for s, r in self.rows.items() if not r["duplicate_of"]}
        return known, {s: r["sha256"] for s, r in self.rows.items() if r["duplicate_of"]}

    def _next(self, kind: str) -> int:
        value = int(self.next_ids[kind])
        self.next_ids[kind] = value + 1
        return value

    def open(self) -> BuildParams:
        """The build parameters: the index's own, or this version's for a new index (its model loaded)."""
        if self.params is None:
            if self.manifest is not None:
                self.params = BuildParams.from_manifest(self.manifest)  # an index keeps its own windowing
            else:
                model = self.embedder.get()
                self.params = current_params(model.name, model.dimension)
        return self.params

    def model(self) -> Embedder:
        model = self.embedder.get()
        if self.manifest is not None:
            check_model(self.manifest, model.name, model.dimension, Path(self.spec.label))
        return model

    def _drop(self, source: str) -> bool:
        row = self.rows.pop(source, None)
        if row is None:
            return False
        self.deleted.add(int(row["id"]))
        self.stored.pop(int(row["id"]), None)
        return not row["duplicate_of"]

    def remove(self, source: str) -> None:
        self.open()
        self._drop(source)
        for other, row in list(self.rows.items()):  # forget_duplicates_of: they are added on their next ingest
            if row["duplicate_of"] == source:
                self._drop(other)
        self.summary.record(FileResult(source, "", Status.REMOVED))

    def _duplicate_of(self, report: Report) -> str | None:
        """The report, indexed or added earlier in this batch, holding at least DUPLICATE_SHARE of this
        one's paragraphs (:func:`ingest.rows.find_duplicate`'s rule)."""
        digests = _duplicate_digests(report)
        if not digests:
            return None
        found = {(d, s) for d in digests for s in self.hashes.get(d, ())}
        stored = {rid: s for rid, s in self.stored.items() if s != report.source}
        if stored:
            rows = query_all(self.client, self.spec.collection("paragraphs"),
                             f"text_hash in {json.dumps(sorted(digests))} and report_id in {id_list(list(stored))}",
                             ["text_hash", "report_id"])
            found |= {(r["text_hash"], stored[int(r["report_id"])]) for r in rows}
        counts = Counter(source for _, source in found if source != report.source)
        if not counts:
            return None
        best, count = counts.most_common(1)[0]
        return best if count >= DUPLICATE_SHARE * len(digests) else None

    def add(self, path: Path, digest: str, report: Report) -> FileResult:
        self.open()
        duplicate_of = self._duplicate_of(report)
        existed = self._drop(report.source)
        row = {"id": self._next("report"), "source": report.source, "path": str(path), "sha256": digest,
               "duplicate_of": duplicate_of or "", "_v": PLACEHOLDER, "ingested_at": now()}
        if duplicate_of is not None:
            self.reports.append(_report_row(row, None))
            self.rows[report.source] = row
            return FileResult(report.source, str(path), Status.DUPLICATE, 0,
                              f"same report as {duplicate_of}; not indexed twice")
        self.reports.append(_report_row(row, report))
        self.rows[report.source] = row
        self._add_paragraphs(row["id"], report)
        if len(self.texts) - self.embedded >= EMBED_BATCH:
            self._embed()
        return FileResult(report.source, str(path), Status.UPDATED if existed else Status.ADDED,
                          len(report.paragraphs))

    def _add_paragraphs(self, report_id: int, report: Report) -> None:
        params = self.open()
        texts = analyse([p.text for p in report.paragraphs])
        headings = analyse([p.heading for p in report.paragraphs])
        title = analyse([report.meta.title])[0]
        for seq, (para, same, text, heading) in enumerate(zip(report.paragraphs, _same_label_counts(report), texts,
                                                               headings, strict=True)):
            terms = (text.split(), heading.split(), title.split())
            self.lex_tokens += sum(len(t) for t in terms)
            pid = self._next("paragraph")
            self.hashes.setdefault(text_hash(para.text), set()).add(report.source)
            self.paragraphs.append({
                "id": pid, "report_id": report_id, "seq": seq, "label": para.label, "page": para.page,
                "heading": para.heading, "text": para.text, "numbered": int(para.numbered),
                "part_of": para.part_of, "scanned": int(para.scanned),
                "tabular": int(not para.numbered and looks_tabular(para.text)), "words": len(para.text.split()),
                "text_hash": text_hash(para.text), "same_label": same, "lex": " ".join(sum(terms, [])),
                "lex_len": sum(len(t) for t in terms), "lex_text_len": len(terms[0]), "lex_heading_len": len(terms[1])})
            for wseq, (window, embedded) in enumerate(params.windows(para.text, para.heading)):
                self.windows.append({"id": self._next("window"), "paragraph_id": pid, "report_id": report_id,
                                     "seq": wseq, "text": window})
                self.texts.append(embedded)

    def _embed(self) -> None:
        """Embed every window still without a vector (many reports' windows in one call)."""
        start = self.embedded
        if start == len(self.windows):
            return
        vectors = encode_once(self.model(), self.texts[start:])
        for window, vector in zip(self.windows[start:], vectors, strict=True):
            window["vector"] = vector.tolist()
        self.embedded = len(self.windows)
        self.summary.embedded_windows += len(vectors)

    def commit(self) -> None:
        """Write the batch (see the module's docstring); nothing when nothing changed."""
        if self.params is None:
            if self.manifest is not None:
                return
            self.open()  # a new index where every file failed: an empty index, as the local one
        self._embed()
        self._create()
        name = self.spec.collection
        if self.deleted:
            dead = id_list(sorted(self.deleted))
            self.lex_tokens -= sum(int(r["lex_len"]) for r in query_all(
                self.client, name("paragraphs"), f"report_id in {dead}", ["lex_len"]))
            self.client.delete(name("reports"), filter=f"id in {dead}")
            for kind in ("paragraphs", "windows"):
                self.client.delete(name(kind), filter=f"report_id in {dead}")
        for kind, rows in (("paragraphs", self.paragraphs), ("windows", self.windows), ("reports", self.reports)):
            for start in range(0, len(rows), INSERT_BATCH):
                self.client.insert(name(kind), rows[start:start + INSERT_BATCH])
        self._write_manifest()
        self.summary.generation = str(self._generation)

    def _create(self) -> None:
        """Create the collections of a new index."""
        for kind, (schema, index_params) in schemas(self.params.dimension).items():
            if not self.client.has_collection(self.spec.collection(kind)):
                self.client.create_collection(self.spec.collection(kind), schema=schema, index_params=index_params,
                                              consistency_level="Strong")

    def _count(self, kind: str, filter: str = "") -> int:  # noqa: A002
        rows = self.client.query(self.spec.collection(kind), filter=filter, output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def _write_manifest(self) -> None:
        stamp = now()
        self._generation = int((self.manifest or {}).get("generation", 0)) + 1
        counts = {"reports": self._count("reports", 'duplicate_of == ""'), "paragraphs": self._count("paragraphs"),
                  "windows": self._count("windows")}
        counts["vectors"] = counts["windows"]
        manifest = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **self.params.to_manifest(),
                    "metric": "inner_product", "generation": self._generation, "counts": counts,
                    "created_at": (self.manifest or {}).get("created_at", stamp), "updated_at": stamp,
                    "next_ids": self.next_ids, "lex_tokens": self.lex_tokens,
                    "collections": [self.spec.collection(k) for k in KINDS]}
        self.client.upsert(self.spec.collection("meta"),
                           [{"id": 0, "manifest": json.dumps(manifest), "_v": PLACEHOLDER}])

    def abort(self) -> None:
        """Nothing was written before :meth:`commit`: drop what was held."""
        self.reports, self.paragraphs, self.windows, self.texts = [], [], [], []


def _report_row(row: dict, report: Report | None) -> dict:
    """The ``reports`` row of ``report`` (None: a duplicate, only recorded)."""
    out = {**row, **{c: row.get(c, "") for c in REPORT_TEXT}, "pages": 0, "paragraphs": 0, "numbered": 0}
    if report is not None:
        meta = report.meta
        out.update(title=meta.title, date=meta.date or "", council=meta.council or "", meeting=meta.meeting or "",
                   committee=meta.committee or "", meeting_date=meta.meeting_date or "", item=meta.item or "",
                   listings=meta.listings, meta_sources=json.dumps(dict(meta.provenance)),
                   doubtful=",".join(meta.doubtful), pages=report.pages, paragraphs=len(report.paragraphs),
                   numbered=sum(p.numbered for p in report.paragraphs))
    return out


def ingest_milvus(paths: Sequence[str | Path], spec_text: str, *, embedder: Embedder | None = None,
                  model: str | None = None, prune: bool = False, progress: Progress | None = None,
                  on_result: Callable[[FileResult], None] | None = None, ocr: OcrSettings | None = None,
                  on_ocr: OcrProgress | None = None, workers: str | None = None,
                  ray_cpus: int | None = None) -> IngestSummary:
    """:func:`ingest.index.ingest_paths` into the Milvus index ``spec_text`` (``milvus:FILE.db`` or
    ``milvus://HOST:PORT/COLLECTION``); the same arguments, the same results."""
    started = time.perf_counter()
    files = expand_paths(paths)
    summary = IngestSummary(index_dir=spec_text, on_result=on_result)
    client = connect(parse_spec(spec_text))
    try:
        manifest = read_meta(client, parse_spec(spec_text))
        model = model_for(manifest, embedder, model, Path(spec_text))
        batch = MilvusBatch(spec_text, client, manifest, summary)
        known, skipped = batch.sources()
        todo = _plan(files, known, skipped, summary)
        removed = sorted(set(known) - {p.name for p in files}) if prune else []
        reads, batch.embedder = reads_and_embedder(todo, embedder, model, ocr, on_ocr, workers, ray_cpus)
        try:
            _apply(batch, todo, removed, summary, progress, {}, reads)
            batch.commit()
        except BaseException:
            batch.abort()
            raise
    finally:
        client.close()
    summary.seconds = time.perf_counter() - started
    return summary
