"""Correct a report's title, date, council or committee without re-embedding it.

A correction is written to the report's ``<file>.meta.json`` sidecar (merged with what is there,
written aside and moved in with ``os.replace``), which :mod:`ingest.metadata` reads on every
later read of the file, and applied at once to the report's row (and the title column of its
text search) in a new generation. Nothing is embedded: the windows carry no metadata, so no
model is loaded. An ingest notices a sidecar changed beside an unchanged file the same way
(:func:`sidecar_meta`) and updates only that row.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

from ingest.errors import BadDate, CouncilQAError, NotInIndex, UnreadableReport
from ingest.index_format import DATABASE, BuildParams, read_manifest
from ingest.listings import sidecar_path, with_listing
from ingest.metadata import SIDECAR, SIDECAR_FIELDS, read_sidecar
from ingest.records import ReportMeta
from ingest.writer import GenerationWriter, WriterLock

EDITABLE = ("title", "date", "council", "committee")
"""The fields an administrator corrects (the sidecar also takes ``meeting``)."""
MAX_FIELD_CHARS = 300
REREAD = "reread"
""":func:`sidecar_meta` when a field the sidecar set is no longer in it: the file must be read again."""
_META_COLUMNS = ("title", "date", "council", "meeting", "committee", "meeting_date", "item", "listings",
                 "meta_sources", "doubtful")


def stored_meta(conn: sqlite3.Connection) -> dict[str, tuple[ReportMeta, str]]:
    """Every report's metadata as the index holds it, with its file's path, by source."""
    out = {}
    for row in conn.execute(f"SELECT source, path, {', '.join(_META_COLUMNS)} FROM reports"):
        source, path, title, day, council, meeting, committee, meeting_date, item, listings, sources, doubtful = row
        try:
            provenance = tuple(json.loads(sources or "{}").items())
        except ValueError:
            provenance = ()
        out[source] = (ReportMeta(title, day, council, meeting, committee, provenance=provenance,
                                  doubtful=tuple(d for d in (doubtful or "").split(",") if d),
                                  meeting_date=meeting_date, item=item, listings=listings or ""), path)
    return out


def stored_meta_in(index_dir: Path, manifest: dict) -> dict[str, tuple[ReportMeta, str]]:
    """:func:`stored_meta` of the current generation (read-only)."""
    current = Path(index_dir) / manifest["generation"]
    with sqlite3.connect(f"file:{current / DATABASE}?mode=ro", uri=True) as ro:
        return stored_meta(ro)


def sidecar_meta(meta: ReportMeta, path: Path) -> ReportMeta | str | None:
    """The metadata ``meta`` becomes with the sidecar beside ``path`` now; None when that changes
    nothing; :data:`REREAD` when a field the sidecar set has been taken out of it (only reading
    the file again can say what the field is without it)."""
    try:
        side = read_sidecar(path)
    except UnreadableReport:
        return REREAD  # reading the file names the broken sidecar as its reason
    sources = dict(meta.provenance)
    if any(src == SIDECAR and key not in side for key, src in sources.items()):
        return REREAD
    fields = {k: getattr(meta, k) for k in SIDECAR_FIELDS}
    fields.update(side)
    sources.update({k: SIDECAR for k in side})
    provenance = tuple((k, sources[k]) for k in SIDECAR_FIELDS if fields[k] and k in sources)
    doubtful = tuple(d for d in meta.doubtful if d not in side)
    fresh = with_listing(replace(meta, **fields, provenance=provenance, doubtful=doubtful), path)
    return None if fresh == meta else fresh


def update_meta(conn: sqlite3.Connection, source: str, meta: ReportMeta) -> None:
    """Rewrite one report's metadata in a generation being built (its paragraphs and vectors stay)."""
    values = (meta.title, meta.date, meta.council, meta.meeting, meta.committee, meta.meeting_date, meta.item,
              meta.listings, json.dumps(dict(meta.provenance)), ",".join(meta.doubtful))
    assignments = ", ".join(f"{c} = ?" for c in _META_COLUMNS)
    conn.execute(f"UPDATE reports SET {assignments} WHERE source = ?", (*values, source))
    conn.execute("UPDATE paragraphs_fts SET title = ? WHERE rowid IN (SELECT p.id FROM paragraphs p JOIN reports r"
                 " ON r.id = p.report_id WHERE r.source = ?)", (meta.title, source))


def clean_edit(title: str | None = None, day: str | None = None, council: str | None = None,
               committee: str | None = None) -> dict[str, str]:
    """The fields given (empty ones left as they are), on one line each; ``day`` must be ISO."""
    fields = {k: " ".join((v or "").split()) for k, v in
              (("title", title), ("date", day), ("council", council), ("committee", committee))}
    fields = {k: v for k, v in fields.items() if v}
    if not fields:
        raise CouncilQAError("nothing to change: give a title, date, council or committee")
    for key, value in fields.items():
        if len(value) > MAX_FIELD_CHARS:
            raise CouncilQAError(f"the {key} is longer than {MAX_FIELD_CHARS} characters")
    if "date" in fields:
        try:
            fields["date"] = date.fromisoformat(fields["date"]).isoformat()
        except ValueError:
            raise BadDate("report", fields["date"]) from None
    return fields


def write_sidecar(path: Path, fields: dict[str, str]) -> Path:
    """Merge ``fields`` into the sidecar of the report at ``path``, atomically; the sidecar's path."""
    target = sidecar_path(Path(path))
    data: dict = {}
    if target.exists():
        try:
            data = json.loads(target.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CouncilQAError(f"{target.name}: sidecar metadata is not valid JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise CouncilQAError(f"{target.name}: sidecar metadata must be a JSON object")
    data.update(fields)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def edit_report(index_dir: str | Path, source: str, fields: dict[str, str]) -> ReportMeta:
    """Correct report ``source`` (fields checked by :func:`clean_edit`): write its sidecar, then its
    row in a new generation, with no model loaded. The sidecar is written first, so a failure
    after it is made good by the next ingest. The report's new metadata."""
    index_dir = Path(index_dir)
    with WriterLock(index_dir):
        manifest = read_manifest(index_dir)
        held = stored_meta_in(index_dir, manifest) if manifest is not None else {}
        if source not in held:
            raise NotInIndex([source])
        meta, path = held[source]
        if not Path(path).is_file():
            raise CouncilQAError(f"{source}: its file is no longer at {Path(path).parent.name}/, so the "
                                 "correction cannot be kept beside it")
        write_sidecar(Path(path), fields)
        fresh = sidecar_meta(meta, Path(path))
        if not isinstance(fresh, ReportMeta):  # the same values; or a field taken out of the sidecar by
            return meta  # hand since the last ingest (REREAD): the next ingest reads the file again
        writer = GenerationWriter(index_dir, BuildParams.from_manifest(manifest))
        writer.prepare()
        try:
            update_meta(writer.conn, source, fresh)
            writer.commit()
        except BaseException:
            writer.abort()
            raise
        return fresh
