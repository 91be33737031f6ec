"""Words shown to people, defined once: dates, citations, the no-answer text, date input.

The CLI, the app, the clerk drafts and the answers all use these, so "13 Feb 2020, para 9"
reads the same everywhere.
"""

from __future__ import annotations

import re
from datetime import date

from ingest.errors import BadDate

UNDATED = "undated"
NO_ANSWER = (
    "No paragraph in the indexed reports clearly answers this question. "
    "The closest paragraphs are listed below."
)
NOT_LOCATED = "The paragraph could not be located on the page image; its text is shown below."
SCANNED_NOTE = ("This page is a scan: the text below was read from its image by OCR, so check any figure "
                "against the image.")
_UNNUMBERED = re.compile(r"^p(\d+)-\d+$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def _format_date(iso: str | None, month: str) -> str | None:
    if not iso:
        return None
    try:
        day = date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    return f"{day.day} {day.strftime(month)} {day.year}"


def long_date(iso: str | None) -> str | None:
    """``2020-02-13`` -> ``13 February 2020`` (None stays None; an unparsable date passes through)."""
    return _format_date(iso, "%B")


def short_date(iso: str | None) -> str | None:
    """``2020-02-13`` -> ``13 Feb 2020``."""
    return _format_date(iso, "%b")


def shown_date(iso: str | None) -> str:
    """``13 Feb 2020``, or "undated" for a report with no date."""
    return short_date(iso) or UNDATED


def is_unnumbered(label: str) -> bool:
    """True for the label of a block outside numbered paragraphs (``p4-2``)."""
    return bool(_UNNUMBERED.match(label))


def where(label: str, page: int, *, short: bool = True, scanned: bool = False) -> str:
    """``para 9`` (``paragraph 9`` when not ``short``); an unnumbered block ``p4-2`` -> ``page 4``.
    Text read by OCR says so, with its page: ``para 4, scanned page 2``, ``scanned page 2``."""
    match = _UNNUMBERED.match(label)
    if match:
        return f"{'scanned ' if scanned else ''}page {match.group(1) if not page else page}"
    place = f"para {label}" if short else f"paragraph {label}"
    return f"{place}, {scanned_page(page)}" if scanned and page else place


def scanned_page(page: int) -> str:
    """``scanned page 2``: where text read by OCR from a page image is to be checked."""
    return f"scanned page {page}"


def paragraph_ref(label: str) -> str:
    """``9`` -> ``paragraph 9``; an unnumbered block ``p4-2`` -> ``page 4``."""
    return where(label, 0, short=False)


def cite(title: str, iso_date: str | None, label: str, page: int, *, heading: str = "", ambiguous: bool = False,
         listing: tuple[str | None, str | None, str | None] | None = None, scanned: bool = False,
         part: bool = False) -> str:
    """"Annual Report of the Chief Executive, 13 Feb 2020, para 9"; a label that repeats in
    its report carries its heading: "…, para 6 (Possible Outcomes)". A paper with its
    ``listing`` (committee, ISO meeting date, item) names the meeting first:
    "Cabinet, 30 Jan 2025, item 5, Commissioning Plan, para 3.3". Text read by OCR says so:
    "…, para 4, scanned page 2". A later ``part`` of a printed paragraph that runs over pages
    names its page, so the words can be found: "…, para 87, page 5"."""
    place = where(label, page)
    if ambiguous and heading and not is_unnumbered(label):
        place += f" ({heading})"
    if part and page and not scanned and not is_unnumbered(label):
        place += f", page {page}"
    if scanned:
        place = f"{place}, {scanned_page(page)}" if not is_unnumbered(label) else where(label, page, scanned=True)
    if listing and listing[0] and listing[1]:
        return f"{meeting_ref(*listing, sep=', ')}, {title}, {place}"
    return f"{title}, {shown_date(iso_date)}, {place}"


def meeting_ref(committee: str | None, meeting_date: str | None, item: str | None, *, sep: str = " · ") -> str:
    """"Cabinet · 30 Jan 2025 · item 5" (the parts known, joined by ``sep``)."""
    parts = [committee or "", short_date(meeting_date) or "", f"item {item}" if item else ""]
    return sep.join(p for p in parts if p)


def parse_date(value: str | None, field: str) -> str | None:
    """A date typed by a person, as ISO ``YYYY-MM-DD``: ``2020-02-13`` and ``20200213`` are
    understood, anything else raises :class:`BadDate`; empty gives None."""
    text = (value or "").strip()
    if not text:
        return None
    match = _ISO.match(text) or _COMPACT.match(text)
    if not match:
        raise BadDate(field, text)
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3))).isoformat()
    except ValueError:
        raise BadDate(field, text) from None
