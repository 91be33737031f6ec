"""Read one report file end to end: text, paragraphs and metadata."""

from __future__ import annotations

from pathlib import Path

from ingest.errors import UnreadableReport
from ingest.metadata import extract_metadata
from ingest.readers import read_document
from ingest.records import Report
from ingest.segment import segment


def load_report(path: str | Path) -> Report:
    """Read, segment and describe one report; raises ``UnreadableReport`` for bad files."""
    path = Path(path)
    document = read_document(path)
    paragraphs = tuple(segment(document))
    if not paragraphs:
        raise UnreadableReport(path.name, "no text found in the file")
    meta = extract_metadata(document, path)
    return Report(source=path.name, meta=meta, pages=len(document.pages), paragraphs=paragraphs)


def report_to_json(report: Report) -> dict:
    """The ``council-qa paragraphs --json`` object."""
    return {
        "source": report.source,
        "title": report.meta.title,
        "date": report.meta.date,
        "council": report.meta.council,
        "meeting": report.meta.meeting,
        "paragraphs": [
            {"label": p.label, "page": p.page, "heading": p.heading, "text": p.text}
            for p in report.paragraphs
        ],
    }
