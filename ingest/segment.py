"""Split a report's pages into its numbered paragraphs.

Plain regular expressions and a plausibility check on the numbering, no framework:

* a paragraph starts at a line beginning with a number (``9.``, ``3.2``, ``5.1.4``) whose
  value plausibly follows the previous one (so "2020. The aim" wrapped mid-sentence, or a
  row of figures in a table, is not a paragraph);
* minute sub-paragraphs ``(1)`` / ``1)`` become ``288(1)``; bullets and lettered items stay
  inside their parent paragraph;
* running headers and footers (lines repeated on many pages), page numbers and "Page 3 of
  12" are removed before splitting, so page-break continuations join up;
* text outside numbered paragraphs becomes unnumbered blocks labelled ``p<page>-<n>``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ingest.records import Document, Paragraph

_LABEL_RE = re.compile(
    r"^(?P<label>\d{1,3}(?:\.\d{1,3}){0,3})(?P<dot>\.?)(?:\s+(?P<rest>\S.*))?$"
)
_SUB_RE = re.compile(r"^(?:\((?P<a>\d{1,2})\)|(?P<b>\d{1,2})\))\s+(?P<rest>\S.*)$")
_ITEM_RE = re.compile(r"^(?:•|-\s|–\s|\(?[a-z]{1,2}\)|\(?[ivx]{1,5}\)|[a-z]\.\s)")
_SENTENCE_START = re.compile(r"^[\"'“‘(\[A-Z\u00c0-\u00de]")
_PAGE_NUMBER_RE = re.compile(
    r"^(?:page\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?|\d{1,4}|-\s*\d{1,4}\s*-|\d{1,4}\s*(?:of|/)\s*\d{1,4})$",
    re.IGNORECASE,
)
_FURNITURE_RE = re.compile(r"^(?:official(?:\s*[-–:]\s*sensitive)?|not protectively marked)$", re.I)
_TERMINAL = (".", ":", ";", "!", "?", "”", '"')

MAX_BLOCK_WORDS = 150
"""Unnumbered text is cut into blocks of about this many words, at sentence ends."""

MAX_JUMP = 3
"""How far a number may jump ahead (a slip) and still be read as the next paragraph."""


@dataclass(frozen=True)
class _Line:
    page: int
    text: str
    heading: bool = False  # known heading (from markup)
    blank: bool = False


def segment(document: Document) -> list[Paragraph]:
    """Split a document into paragraphs: numbered ones plus unnumbered blocks."""
    lines = list(_content_lines(document))
    return _Segmenter(document.source, document.structured).run(lines)


# ---------------------------------------------------------------------------------------
# Running headers, footers and page numbers


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower()).strip()


def _content_lines(document: Document) -> Iterator[_Line]:
    pages = document.pages
    repeated: set[str] = set()
    if len(pages) >= 3:
        counts: Counter[str] = Counter()
        for page in pages:
            edge = [ln for ln in page.lines if ln.strip()]
            edge = edge[:3] + edge[-3:]
            counts.update({_furniture_key(ln) for ln in edge})
        threshold = max(3, int(0.4 * len(pages)))
        repeated = {key for key, n in counts.items() if n >= threshold and len(key) > 1}
    for page in pages:
        texts = list(page.lines)
        nonblank = [i for i, t in enumerate(texts) if t.strip()]
        edges = set(nonblank[:2] + nonblank[-2:])
        for i, text in enumerate(texts):
            stripped = text.strip()
            if not stripped:
                yield _Line(page.number, "", blank=True)
                continue
            if i in page.heading_lines:
                yield _Line(page.number, stripped, heading=True)
                continue
            if not document.structured:
                if i in edges and (_PAGE_NUMBER_RE.match(stripped) or _furniture_key(stripped) in repeated):
                    continue
                if _FURNITURE_RE.match(stripped):
                    continue
            yield _Line(page.number, stripped)


# ---------------------------------------------------------------------------------------
# Numbering


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


def _looks_like_heading_text(text: str) -> bool:
    words = text.split()
    return (
        0 < len(words) <= 12
        and len(text) <= 90
        and not text.endswith((".", ",", ";", ":"))
        and bool(_SENTENCE_START.match(text) or text[0].isdigit())
        and not _ITEM_RE.match(text)
    )


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


class _Segmenter:
    def __init__(self, source: str, structured: bool) -> None:
        self.source = source
        self.structured = structured
        self.out: list[Paragraph] = []
        self.heading = ""
        self.prev: tuple[int, ...] | None = None
        self.heading_since_prev = False
        # the open unit
        self.label: str | None = None
        self.numbered = False
        self.page = 0
        self.parts: list[str] = []
        self.unit_heading = ""
        self.sub = 0  # last minute sub-paragraph number under the current label
        self.minute: str | None = None
        self.blocks_on_page: Counter[int] = Counter()

    # -- emitting --------------------------------------------------------------------
    def _close(self) -> None:
        text = _join(self.parts)
        if self.label is not None and text:
            self.out.append(
                Paragraph(self.source, self.label, self.page, self.unit_heading, text, self.numbered)
            )
        self.label, self.parts = None, []

    def _open(self, label: str | None, page: int, first: str, numbered: bool) -> None:
        self._close()
        if label is None:
            self.blocks_on_page[page] += 1
            label = f"p{page}-{self.blocks_on_page[page]}"
        self.label, self.page, self.numbered = label, page, numbered
        self.parts = [first] if first else []
        self.unit_heading = self.heading

    def _words(self) -> int:
        return sum(len(p.split()) for p in self.parts)

    # -- the walk ----------------------------------------------------------------------
    def run(self, lines: list[_Line]) -> list[Paragraph]:
        n = len(lines)
        i = 0
        while i < n:
            line = lines[i]
            if line.blank:
                if self.label is not None and not self.numbered:
                    self._close()
                i += 1
                continue
            nxt = next((ln for ln in lines[i + 1 :] if not ln.blank), None)
            consumed = self._numbered(line, nxt, lines, i)
            if consumed:
                i += consumed
                continue
            if self._sub_paragraph(line):
                i += 1
                continue
            if self.numbered and not self.structured and self._layout_boundary(line, nxt):
                # Text after a finished paragraph that is not a continuation (a signature,
                # "Contact Points", an appendix title): close the paragraph, start a block.
                self._open(None, line.page, line.text, numbered=False)
                i += 1
                continue
            if line.heading or (not self.structured and self._layout_heading(line, nxt)):
                self._close()
                self.heading = re.sub(r"^\d+(?:\.\d+)*\.?\s+", "", line.text).strip()
                self.heading_since_prev = True
                i += 1
                continue
            self._text(line)
            i += 1
        self._close()
        return self.out

    def _numbered(self, line: _Line, nxt: _Line | None, lines: list[_Line], i: int) -> int:
        m = _LABEL_RE.match(line.text)
        if not m:
            return 0
        label, dot, rest = m.group("label"), m.group("dot"), m.group("rest")
        if "." not in label and not dot:
            return 0  # a flat number needs its dot: "9." not "9"
        consumed = 1
        if rest is None:
            # The number alone on its line ("9."), its text on the next line.
            if not dot or nxt is None or nxt.heading or _LABEL_RE.match(nxt.text):
                return 0
            rest = nxt.text
            consumed = 2
        cand = parse_label(label)
        if not _SENTENCE_START.match(rest) and not self._starts_with_figure_ok(cand, rest):
            return 0
        ok = plausible_next(self.prev, cand) or (
            self.prev is not None and _is_restart(cand) and self.heading_since_prev
        )
        if not ok:
            return 0
        self.prev = cand
        self.heading_since_prev = False
        self.sub = 0
        # "2. Background" followed by "2.1 ..." is a section heading, not a paragraph.
        following = nxt if consumed == 1 else None
        if following is None and consumed == 2:
            following = next((ln for ln in lines[i + 2 :] if not ln.blank), None)
        if _looks_like_heading_text(rest) and following is not None:
            fm = _LABEL_RE.match(following.text)
            if fm and fm.group("label").startswith(label + "."):
                self._close()
                self.heading = rest.strip()
                return consumed
        self.minute = label if len(cand) == 1 else None
        self._open(label, line.page, rest, numbered=True)
        return consumed

    def _starts_with_figure_ok(self, cand: tuple[int, ...], rest: str) -> bool:
        """"10. 2019 was a positive year": a text starting with a figure is accepted only
        for the very next number and when words follow (a table row is mostly figures)."""
        if self.prev is None or not rest[:1].isdigit():
            return False
        expected = self.prev[:-1] + (self.prev[-1] + 1,)
        words = rest.split()
        wordy = sum(1 for w in words if re.search(r"[A-Za-z]{2,}", w))
        return cand == expected and len(words) >= 4 and wordy >= 0.6 * len(words)

    def _sub_paragraph(self, line: _Line) -> bool:
        if self.minute is None:
            return False
        m = _SUB_RE.match(line.text)
        if not m:
            return False
        number = int(m.group("a") or m.group("b"))
        if number != self.sub + 1:
            return False
        rest = m.group("rest")
        if not _SENTENCE_START.match(rest):
            return False
        self.sub = number
        minute = self.minute
        parent_heading = _join(self.parts) if self.label == minute else None
        self._open(f"{minute}({number})", line.page, rest, numbered=True)
        if parent_heading and _looks_like_heading_text(parent_heading):
            self.unit_heading = parent_heading
        self.minute = minute
        return True

    def _layout_heading(self, line: _Line, nxt: _Line | None) -> bool:
        """In a PDF a heading is a short title-like line standing between paragraphs,
        directly followed by a numbered paragraph."""
        if not _looks_like_heading_text(line.text) or _LABEL_RE.match(line.text):
            return False
        if self.parts and not self.parts[-1].endswith(_TERMINAL):
            return False
        if nxt is None:
            return False
        m = _LABEL_RE.match(nxt.text)
        return bool(m and (m.group("dot") or "." in m.group("label")))

    def _layout_boundary(self, line: _Line, nxt: _Line | None) -> bool:
        if not self.parts or not self.parts[-1].endswith(_TERMINAL):
            return False
        if not _looks_like_heading_text(line.text) or _LABEL_RE.match(line.text):
            return False
        if self._layout_heading(line, nxt):
            return False
        if nxt is not None and nxt.text[:1].islower():
            return False
        letters = re.sub(r"[^A-Za-z]", "", line.text)
        return (len(letters) >= 3 and letters.isupper()) or nxt is None or _looks_like_heading_text(nxt.text)

    def _text(self, line: _Line) -> None:
        if self.label is None:
            self._open(None, line.page, line.text, numbered=False)
            return
        if not self.numbered and self._words() >= MAX_BLOCK_WORDS and self.parts[-1].endswith(_TERMINAL):
            self._open(None, line.page, line.text, numbered=False)
            return
        self.parts.append(line.text)
