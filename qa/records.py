"""Records that ``qa`` hands to its callers (the CLI, the app, the evaluation)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

from ingest.records import Paragraph
from qa.wording import parse_date


@dataclass(frozen=True)
class Filters:
    """Narrow a search: to named report files, a council, or a date range (ISO dates)."""

    reports: tuple[str, ...] = ()
    council: str | None = None
    since: str | None = None
    until: str | None = None
    committee: str | None = None

    @classmethod
    def parse(cls, reports: Iterable[str] | str | None = (), council: str | None = None,
              since: str | None = None, until: str | None = None, committee: str | None = None) -> Filters:
        """Filters from what a person typed (CLI flags or the app's boxes): dates are checked
        and made ISO (:func:`qa.wording.parse_date`), empty values mean "no filter"."""
        if isinstance(reports, str):
            reports = [reports]
        return cls(
            reports=tuple(r for r in (reports or ()) if r),
            council=(council or "").strip() or None,
            since=parse_date(since, "from"),
            until=parse_date(until, "to"),
            committee=(committee or "").strip() or None,
        )


@dataclass(frozen=True)
class ReportInfo:
    """One report in the index, as the library page and citations show it."""

    source: str
    title: str
    date: str | None
    council: str | None
    meeting: str | None
    pages: int
    paragraphs: int
    path: str
    sha256: str
    ingested_at: str
    committee: str | None = None
    meeting_date: str | None = None
    """ISO date of the meeting that considered the paper (papers fetched from a committee system)."""
    item: str | None = None
    """The agenda item as displayed (``5``), when known."""
    listings: str = ""
    """Every committee, meeting and item the paper is listed under (JSON list), when known."""
    doubtful: tuple[str, ...] = ()
    """Metadata fields that are missing or rest on weak evidence (a sidecar can correct them)."""

    @property
    def listed(self) -> list[dict]:
        """``listings`` read: one dict (committee, meeting_date, item, ...) per place listed."""
        try:
            data = json.loads(self.listings) if self.listings else []
        except ValueError:
            return []
        return [x for x in data if isinstance(x, dict)] if isinstance(data, list) else []

    @property
    def committees(self) -> set[str]:
        """The committee it is from (when a committee system says) and every one it is listed under."""
        own = {self.committee} if self.committee and self.meeting_date else set()
        return own | {str(x["committee"]) for x in self.listed if x.get("committee")}


class ParagraphFlags(NamedTuple):
    """What the ranking needs to know of one paragraph beside its scores (the readers'
    ``paragraph_flags``)."""

    paragraph_id: int
    report_id: int
    numbered: bool
    """Printed with a number, or a part of a numbered paragraph."""
    tabular: bool
    """An unnumbered block that reads like a table (``ingest.segment_rules.looks_tabular``)."""
    bare: bool
    """A title, heading or label line with no sentence (``ingest.segment_rules.looks_bare``)."""


@dataclass(frozen=True)
class Hit:
    """A retrieved paragraph with its fused score and the report it belongs to."""

    paragraph: Paragraph
    score: float
    report: ReportInfo
    ambiguous_label: bool = False
    """True when the label appears more than once in its report (cite it with its heading)."""
    dense: float = 0.0
    """Best window cosine similarity to the question (0 when dense search did not find it)."""
    lexical: float = 0.0
    """BM25 score (0 when the text search did not find it)."""
    paragraph_id: int = 0
    """The paragraph's row id in this index generation (to look up its windows)."""


@dataclass(frozen=True)
class Citation:
    rank: int
    source: str
    title: str
    date: str | None
    paragraph: str
    heading: str
    page: int
    score: float
    text: str
    highlight: str
    council: str | None = None
    cite: str = ""
    """Ready-to-paste reference: "Annual Report of the Chief Executive, 13 Feb 2020, para 9"."""
    committee: str | None = None
    meeting_date: str | None = None
    """ISO date of the meeting that considered the paper, when its committee system says."""
    item: str | None = None
    """The agenda item as displayed, when known."""
    scanned: bool = False
    """True when the paragraph was read by OCR from a page image (cited "scanned page 2")."""

    def to_json(self) -> dict:
        keys = ("rank", "source", "title", "date", "paragraph", "heading", "page", "score",
                "text", "highlight", "committee", "meeting_date", "item", "scanned")
        data = asdict(self)
        return {key: data[key] for key in keys}


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: tuple[Citation, ...] = field(default_factory=tuple)
    evidence: dict = field(default_factory=dict, compare=False)
    """Why it answered or declined (``qa.decline.Evidence`` as a dict); not part of the JSON."""

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
        }


@dataclass(frozen=True)
class UploadRow:
    """What became of one uploaded file: shown as a row of the Library's results table."""

    name: str
    ok: bool
    detail: str
