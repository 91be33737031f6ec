"""Small immutable records passed between ingest, the index and qa."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

BLOCK_LABEL = re.compile(r"p\d+-\d+")
"""The label of a block printed without a number (``p4-2``: page 4, second block)."""


def is_block_label(label: str) -> bool:
    """Whether ``label`` names an unnumbered block rather than a printed paragraph number."""
    return bool(BLOCK_LABEL.fullmatch(label))


@dataclass(frozen=True)
class Paragraph:
    """One citable unit of a report.

    ``label`` is the number exactly as printed without its trailing dot (``9``, ``3.2``,
    ``288(3)``). Text outside numbered paragraphs becomes an unnumbered block whose label
    says where it sits (``p4-2``: page 4, second block) and ``numbered`` is False.
    """

    source: str
    label: str
    page: int
    heading: str
    text: str
    numbered: bool = True
    part_of: str = ""
    """For a block cut off an over-long numbered paragraph: that paragraph's label. The block is
    still part of the printed paragraph, so it is cited by that label ("para 87", on its page)."""
    scanned: bool = False
    """True when the paragraph's page was a scan read by OCR (cited as "scanned page 2")."""

    @property
    def cited_label(self) -> str:
        """The label a citation shows: the printed paragraph's (``part_of``, else ``label``)."""
        return self.part_of or self.label


@dataclass(frozen=True)
class Page:
    """Extracted text of one page (a text file is a single page 1)."""

    number: int
    lines: tuple[str, ...]
    heading_lines: frozenset[int] = field(default_factory=frozenset)
    """Indexes into ``lines`` that the reader knows are headings (Markdown ``#``/bold)."""
    scanned: bool = False
    """True when the page had no text layer and its lines were read by OCR (``ingest.ocr``)."""


@dataclass(frozen=True)
class Document:
    """What a reader returns: the pages plus whatever metadata the file carries."""

    source: str
    pages: tuple[Page, ...]
    file_metadata: dict[str, str] = field(default_factory=dict)
    structured: bool = False
    """True when headings and list items come from markup (Markdown) rather than layout."""


@dataclass(frozen=True)
class ReportMeta:
    """What a member quotes: title, meeting date (ISO), council, meeting and committee.

    ``provenance`` says where each field came from (``("title", "first page")``; the
    others are ``"pdf metadata"``, ``"file name"``, ``"folder"``, ``"body text"`` and
    ``"sidecar"``); ``doubtful`` names the fields that are missing or rest on weak evidence.
    """

    title: str
    date: str | None
    council: str | None
    meeting: str | None
    committee: str | None = None
    provenance: tuple[tuple[str, str], ...] = ()
    doubtful: tuple[str, ...] = ()
    meeting_date: str | None = None
    """ISO date of the meeting that considered the paper, when its committee system says (``ingest.listings``)."""
    item: str | None = None
    """The agenda item as displayed (``5``, ``7a``), when known."""
    listings: str = ""
    """Every committee, meeting and item the paper is listed under (JSON list), when known."""

    def source(self, name: str) -> str | None:
        """Where field ``name`` came from, or None when it was not found."""
        return dict(self.provenance).get(name)


@dataclass(frozen=True)
class Report:
    """A segmented report: metadata plus its paragraphs in reading order."""

    source: str
    meta: ReportMeta
    pages: int
    paragraphs: tuple[Paragraph, ...]
