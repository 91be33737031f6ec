"""Read one report file end to end: text, paragraphs and metadata."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import UnreadableReport
from ingest.listings import with_listing
from ingest.metadata import extract_metadata
from ingest.readers import read_document, short_message
from ingest.records import Report
from ingest.segment import segment

if TYPE_CHECKING:
    from ingest.ocr import Events, OcrSettings

_MAX_REASON = 300

READER_VERSION = 5
"""The version of the rules that turn a file into a report's rows: reading, segmenting and the
metadata read from the text. Raise it with any change that gives an unchanged file different
paragraphs, labels or title. The local index records it per report (``reports.reader_version``;
an index made before it was recorded: 0), and the next ingest reads a report made by an older
version again, though its file did not change; windows whose text did not change keep their
vectors (:func:`ingest.rows.stored_vectors`), so only what the new rules changed is embedded.
Versions: 1, the first recorded; 2, abbreviations kept in capitals in titles and councils read
from capitals or a folder's name ("Revenue Budget and MTFP", "Greenville SC City Council");
3, HTML tags left out of Markdown text, and a line of fine print (a converter's note) dropped; 4,
no sentence ends at an abbreviation's full stop ("Mr. Davis", ``ingest.embed.split_sentences``), so
a window is no longer cut there; 5, Markdown keeps a converter's page breaks as pages
(``ingest.markdown.page_of_lines``), an item's title printed under its number is its heading, and
no sentence ends at an initial after a title ("Councillor E. O'Donovan")."""


def load_report(path: str | Path, ocr: OcrSettings | None = None, events: Events | None = None) -> Report:
    """Read, segment and describe one report; raises ``UnreadableReport`` for bad files.
    Scanned PDF pages are read by OCR (``ocr``, ``events``: see :mod:`ingest.ocr`)."""
    path = Path(path)
    document = read_document(path, ocr, events)
    scanned = {page.number for page in document.pages if page.scanned}
    paragraphs = tuple(replace(p, scanned=True) if p.page in scanned else p for p in segment(document))
    if not paragraphs:
        raise UnreadableReport(path.name, "no text found in the file")
    meta = with_listing(extract_metadata(document, path), path)
    return Report(source=path.name, meta=meta, pages=len(document.pages), paragraphs=paragraphs)


def clean_reason(reason: str, path: Path) -> str:
    """A reason on one line, without the folder the file sits in, at most 300 characters."""
    for where in (str(path), str(path.parent), str(path.resolve().parent)):
        if where not in ("", "."):
            reason = reason.replace(where + "/", "").replace(where, path.name)
    reason = " ".join(reason.split())
    return reason if len(reason) <= _MAX_REASON else reason[: _MAX_REASON - 1] + "…"


def try_load_report(path: str | Path, ocr: OcrSettings | None = None,
                    events: Events | None = None) -> Report | UnreadableReport:
    """:func:`load_report`, with every failure but MemoryError returned as ``UnreadableReport``
    carrying a one-line reason: a parser bug on one file must not stop a batch."""
    path = Path(path)
    try:
        return load_report(path, ocr, events)
    except UnreadableReport as exc:
        return UnreadableReport(path.name, clean_reason(exc.reason, path))
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - reported per file, never silently dropped
        reason = f"could not be read ({type(exc).__name__}: {short_message(exc)})"
        return UnreadableReport(path.name, clean_reason(reason, path))


def report_to_json(report: Report) -> dict:
    """The ``council-qa paragraphs --json`` object."""
    return {
        "source": report.source,
        "title": report.meta.title,
        "date": report.meta.date,
        "council": report.meta.council,
        "meeting": report.meta.meeting,
        "committee": report.meta.committee,
        "meeting_date": report.meta.meeting_date,
        "item": report.meta.item,
        "doubtful": list(report.meta.doubtful),
        "provenance": dict(report.meta.provenance),
        "paragraphs": [
            {"label": p.label, "page": p.page, "heading": p.heading, "text": p.text,
             **({"part_of": p.part_of} if p.part_of else {}), **({"scanned": True} if p.scanned else {})}
            for p in report.paragraphs
        ],
    }
