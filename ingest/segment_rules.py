"""The segmenter's line rules: the regular expressions that recognise a line (a paragraph
number, a contents entry, a bullet, page furniture, a footnote), the tunable limits, the
plausibility check on paragraph numbering, and small tests on one line of text.

Nothing here keeps state; ``ingest.segment`` re-exports the public names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_LABEL_RE = re.compile(
    r"^(?P<label>\d{1,4}(?:\.\d{1,3}){0,3})(?P<dot>\.?)(?:\s+(?P<rest>\S.*))?$"
)
# A contents line: "3. Annual estimates ........ 6" (dot leaders, then a page number).
_TOC_RE = re.compile(r"(?:\.{4,}|…|(?:\. ){3,}|_{4,})[.…\s]*\d{1,4}$")
# Words a wrapped line of running text can end on, but a heading does not.
_CONTINUES = re.compile(
    r"\b(?:the|of|and|to|in|with|for|a|an|by|on|or|that|which|from|as|at|is|are|be|was|were|this"
    r"|its|their|our|has|have|not|but|we|any|all|into|under|than)$|[,&–—-]$",
    re.I,
)
_SUB_RE = re.compile(r"^(?:\((?P<a>\d{1,2})\)|(?P<b>\d{1,2})\))\s+(?P<rest>\S.*)$")
_ITEM_RE = re.compile(r"^(?:•|-\s|–\s|\(?[a-z]{1,2}\)|\(?[ivx]{1,5}\)|[a-z]\.\s)")
_BULLET_RE = re.compile(r"^(?:•|-\s|–\s)")
_SENTENCE_START = re.compile(r"^[\"'“‘(\[A-Z\u00c0-\u00de]")
_PAGE_NUMBER_RE = re.compile(
    r"^(?:page\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?|\d{1,4}|-\s*\d{1,4}\s*-|\d{1,4}\s*(?:of|/)\s*\d{1,4})$",
    re.IGNORECASE,
)
_FURNITURE_RE = re.compile(r"^(?:official(?:\s*[-–:]\s*sensitive)?|not protectively marked)$", re.I)
# A section title with its number printed at the end of the line: "Executive Summary   1".
_TRAILING_SECTION_RE = re.compile(r"^(?P<title>\S.*?\S)\s+(?P<number>\d{1,2})$")
_TERMINAL = (".", ":", ";", "!", "?", "”", '"')
# Page furniture that also ends the paragraph before it: an agenda pack's stamps.
_BREAK_RE = re.compile(
    r"^(?:this page (?:is |has been )?(?:intentionally |deliberately )?(?:left )?blank\.?|agenda item \d{1,3})$", re.I
)
_CONTENTS_TITLE = re.compile(r"^(?:table of )?contents(?: page)?$|^index$", re.I)
_APPENDIX_RE = re.compile(r"^(?:appendix|annex|schedule)\b(?:\s+[A-Z0-9]{1,4}\b)?", re.I)
_FIGURE_RE = re.compile(r"^(?:table|figure|fig\.|chart|graph|map|source)\s*\d*\s*[:.–-]?\s", re.I)
_NUMBER_TOKEN = re.compile(r"^[-–(£$€]*\d[\d,.]*%?[)kmbn]*$|^£0+s$", re.I)

MAX_BLOCK_WORDS = 150
"""Unnumbered text is cut into blocks of about this many words, at sentence ends."""

MAX_JUMP = 3
"""How far a number may jump ahead (a slip) and still be read as the next paragraph."""

MAX_NUMBERED_WORDS = 600
"""A numbered paragraph that would grow past this many words ends at a printed paragraph
break (the rest of a long section becomes unnumbered blocks); one printed paragraph, with
its list, is never cut."""


@dataclass(frozen=True)
class _Line:
    page: int
    text: str
    heading: bool = False  # known heading (from markup)
    blank: bool = False


_SENTENCE_END = re.compile(r"[.?!](?:\s|$)")


def looks_tabular(text: str) -> bool:
    """A block of at least 25 words with fewer than 1.5 sentence ends per 100 words: a table
    or chart extracted as text ("Address levels of sickness absence Focus on ...")."""
    words = len(text.split())
    return words >= 25 and len(_SENTENCE_END.findall(text)) * 100 < 1.5 * words


BARE_LINE_WORDS = 20
"""The longest block :func:`looks_bare` can call a bare line (dev set, mpnet: 15 words and 20
gave the same report-named hit@5, 30 less; ``qa.retrieve.RankingParams.bare_line_penalty``)."""


def looks_bare(text: str) -> bool:
    """A short line with no sentence end (at most ``BARE_LINE_WORDS`` words, not ending in
    ``. ; : ? !``): a title, heading or label ("TITLE: Workplace Parking Levy Update", "H.1 HUMAN
    RESOURCES COMMITTEE") that names a subject but says nothing about it."""
    stripped = text.rstrip()
    return len(stripped.split()) <= BARE_LINE_WORDS and not stripped.endswith((".", ";", ":", "?", "!"))


def looks_like_figures(text: str) -> bool:
    """A table of figures: :func:`looks_tabular`, with at least one word in twelve a number
    ("TOTAL REMOVAL OF PRIOR YEAR CONTRIBUTIONS -10,640 -14,200 -14,200 42 Drawdowns ...")."""
    words = text.split()
    return looks_tabular(text) and sum(any(c.isdigit() for c in w) for w in words) * 12 >= len(words)


def parse_label(label: str) -> tuple[int, ...]:
    """``"3.2"`` -> ``(3, 2)``."""
    return tuple(int(part) for part in label.split("."))


def plausible_next(prev: tuple[int, ...] | None, cand: tuple[int, ...]) -> bool:
    """Could ``cand`` be the paragraph number printed after ``prev``?

    Walk to the first component where the two differ: there the candidate must step
    forward by 1..MAX_JUMP (or, going one level deeper, start at 0 or 1), and every
    component after it must be 0 or 1 (the start of a new sub-list).
    """
    if prev is None:
        return len(cand) == 1 or all(c <= 1 for c in cand[1:])
    j = 0
    while j < len(prev) and j < len(cand) and prev[j] == cand[j]:
        j += 1
    if j == len(cand):
        return False  # same label, or a shallower repeat of a prefix
    if j < len(prev):
        step_ok = 1 <= cand[j] - prev[j] <= MAX_JUMP
    else:
        step_ok = cand[j] in (0, 1)
    return step_ok and all(c in (0, 1) for c in cand[j + 1 :])


def _is_restart(cand: tuple[int, ...]) -> bool:
    return cand[0] == 1 and all(c in (0, 1) for c in cand[1:])


_TITLE_SMALL_WORDS = frozenset("a an and as at by for from in of on or the to with".split())


def _is_item_title(text: str | None) -> bool:
    """A minute item's title in Title Case: "Apologies for Absence and Substitutions"
    (as in "2    Apologies for Absence and Substitutions", printed without a dot)."""
    if not text or not _looks_like_heading_text(text):
        return False
    words = [w for w in re.findall(r"[A-Za-z][\w'’-]*", text) if w.lower() not in _TITLE_SMALL_WORDS]
    return bool(words) and len(words) <= 10 and all(w[0].isupper() for w in words)


def _looks_like_heading_text(text: str) -> bool:
    words = text.split()
    return (
        0 < len(words) <= 12
        and len(text) <= 90
        and not text.endswith((".", ",", ";", ":"))
        and bool(_SENTENCE_START.match(text) or text[0].isdigit())
        and not _ITEM_RE.match(text)
    )


_RUNS_ON_WORDS = frozenset("a an and as at by for from in into of on or the to with".split())


def own_title(line: str, following: str | None) -> str | None:
    """The title on the line after a number printed alone ("1." / "Adoption of Minutes" /
    "Circulated, copies of ..."): a short heading-like line, not ending in a word that runs on,
    with a new sentence or item starting on the next line. None when it reads as the first line
    of the paragraph's text."""
    words = line.split()
    if len(words) > 8 or not _looks_like_heading_text(line) or words[-1].lower() in _RUNS_ON_WORDS:
        return None
    if following is None or not _SENTENCE_START.match(following) or _LABEL_RE.match(following):
        return None
    return line.strip()


def _is_toc_line(text: str) -> bool:
    return bool(_TOC_RE.search(text))


def _is_numeric_row(text: str) -> bool:
    """A row of a table of figures: at least three tokens, half of them numbers."""
    tokens = text.split()
    numbers = sum(1 for token in tokens if _NUMBER_TOKEN.match(token))
    return len(tokens) >= 3 and 2 * numbers >= len(tokens)


# A footnote's first line: "7 Atkins: ..." (its number printed as a superscript earlier).
_NOTE_START = re.compile(r"^(\d{1,2})(?:\s+[A-Za-z“\"‘']|[A-Z])")


def _join(parts: Iterable[str]) -> str:
    out = ""
    for part in parts:
        if not out:
            out = part
        elif _ITEM_RE.match(part):
            out += "\n" + part
        elif out.endswith("-") and part[:1].islower():
            out += part
        else:
            out += " " + part
    return out.strip()
