"""Rows of one report in a generation being built: add, delete, recognise a duplicate.

Called by :mod:`ingest.index` inside the writer's transaction; the vectors are the writer's
FAISS index, changed in step with the ``windows`` rows (ids are ``windows.id``).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Mapping

import numpy as np

from ingest.index_format import BuildParams
from ingest.records import Report
from ingest.report import READER_VERSION
from ingest.segment import looks_tabular
from ingest.writer import PendingWindows, now

DUPLICATE_SHARE = 0.8
"""A report whose numbered paragraphs are at least this share of another's is a duplicate."""


def normalise_for_hash(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def text_hash(text: str) -> str:
    return hashlib.sha1(normalise_for_hash(text).encode()).hexdigest()


def delete_report(conn: sqlite3.Connection, vectors, source: str) -> bool:  # noqa: ANN001 - faiss index
    """Remove a report's rows and vectors; False when it was not there."""
    import faiss

    row = conn.execute("SELECT id FROM reports WHERE source = ?", (source,)).fetchone()
    if row is None:
        return False
    report_id = row[0]
    window_ids = [r[0] for r in conn.execute(
        "SELECT w.id FROM windows w JOIN paragraphs p ON p.id = w.paragraph_id WHERE p.report_id = ?",
        (report_id,))]
    if window_ids:
        vectors.remove_ids(faiss.IDSelectorBatch(np.asarray(window_ids, dtype=np.int64)))
    conn.execute(
        "DELETE FROM paragraphs_fts WHERE rowid IN (SELECT id FROM paragraphs WHERE report_id = ?)", (report_id,))
    conn.execute("DELETE FROM reports WHERE id = ?", (report_id,))
    return True


def find_duplicate(conn: sqlite3.Connection, report: Report) -> str | None:
    """The indexed report that holds at least DUPLICATE_SHARE of this one's paragraphs."""
    hashes = [normalise_for_hash(p.text) for p in report.paragraphs if p.numbered]
    hashes = [h for h in hashes if len(h) >= 40]
    if len(hashes) < 3:
        hashes = [h for h in (normalise_for_hash(p.text) for p in report.paragraphs) if len(h) >= 80]
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


def record_duplicate(conn: sqlite3.Connection, vectors, source: str, digest: str, of: str) -> None:  # noqa: ANN001
    conn.execute("INSERT OR REPLACE INTO skipped(source, sha256, duplicate_of) VALUES (?, ?, ?)",
                 (source, digest, of))
    delete_report(conn, vectors, source)


def forget_duplicates_of(conn: sqlite3.Connection, source: str) -> None:
    """A removed report no longer makes others duplicates: their next ingest adds them."""
    conn.execute("DELETE FROM skipped WHERE duplicate_of = ? OR source = ?", (source, source))


def stored_vectors(conn: sqlite3.Connection, vectors, source: str,  # noqa: ANN001 - faiss index
                   params: BuildParams) -> dict[str, np.ndarray]:
    """The indexed report's vectors by the text they embed (window and heading, as ``params``
    embed them): read before the report is replaced, so that windows the new reading leaves as
    they were keep their vectors instead of being embedded again."""
    rows = conn.execute(
        "SELECT w.id, w.text, p.heading FROM windows w JOIN paragraphs p ON p.id = w.paragraph_id"
        " JOIN reports r ON r.id = p.report_id WHERE r.source = ?", (source,)).fetchall()
    return {params.embedded_text(text, heading): vectors.reconstruct(wid) for wid, text, heading in rows}


def insert_report(
    conn: sqlite3.Connection, report: Report, path: str, digest: str, pending: PendingWindows, params: BuildParams,
    known: Mapping[str, np.ndarray] | None = None, vectors=None,  # noqa: ANN001 - faiss index
) -> int:
    """The report's row, its paragraphs (text search included) and its windows, cut as the index's
    build parameters say: pending embedding, or added to ``vectors`` at once when ``known`` has a
    vector for the very text the window embeds (:func:`stored_vectors`). Returns how many windows
    kept a vector so."""
    meta = report.meta
    report_id = conn.execute(
        "INSERT INTO reports(source, path, sha256, title, date, council, meeting, committee, meeting_date, item,"
        " listings, meta_sources, doubtful, pages, paragraphs, ingested_at, reader_version)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (report.source, path, digest, meta.title, meta.date, meta.council, meta.meeting, meta.committee,
         meta.meeting_date, meta.item, meta.listings,
         json.dumps(dict(meta.provenance)), ",".join(meta.doubtful), report.pages, len(report.paragraphs), now(),
         READER_VERSION),
    ).lastrowid
    kept: list[tuple[int, np.ndarray]] = []
    for seq, para in enumerate(report.paragraphs):
        para_id = conn.execute(
            "INSERT INTO paragraphs(report_id, seq, label, page, heading, text, numbered, part_of, scanned, tabular,"
            " words, text_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (report_id, seq, para.label, para.page, para.heading, para.text, int(para.numbered), para.part_of,
             int(para.scanned), int(not para.numbered and looks_tabular(para.text)), len(para.text.split()),
             text_hash(para.text)),
        ).lastrowid
        conn.execute("INSERT INTO paragraphs_fts(rowid, text, heading, title) VALUES (?, ?, ?, ?)",
                     (para_id, para.text, para.heading, meta.title))
        for wseq, (window, embedded) in enumerate(params.windows(para.text, para.heading)):
            window_id = conn.execute(
                "INSERT INTO windows(paragraph_id, seq, text) VALUES (?, ?, ?)", (para_id, wseq, window)
            ).lastrowid
            if known and embedded in known:
                kept.append((window_id, known[embedded]))
            else:
                pending.add(window_id, embedded)
    if kept:
        vectors.add_with_ids(np.stack([v for _, v in kept]), np.asarray([i for i, _ in kept], dtype=np.int64))
    return len(kept)
