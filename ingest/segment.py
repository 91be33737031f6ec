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


_SENTENCE_END = re.compile(r"[.?!](?:\s|$)")


def looks_tabular(text: str) -> bool:
    """A block of at least 25 words with fewer than 1.5 sentence ends per 100 words: a table
    or chart extracted as text ("Address levels of sickness absence Focus on ...")."""
    words = len(text.split())
    return words >= 25 and len(_SENTENCE_END.findall(text)) * 100 < 1.5 * words


def segment(document: Document) -> list[Paragraph]:
    """Split a document into paragraphs: numbered ones plus unnumbered blocks."""
    lines = list(_content_lines(document))
    return _Segmenter(document.source, document.structured, _text_width(lines)).run(lines)


def _text_width(lines: list[_Line]) -> int:
    """The length of a full line of running text (a high percentile of line lengths)."""
    lengths = sorted(len(ln.text) for ln in lines if not ln.blank)
    if len(lengths) < 20:
        return 0  # too little text to tell
    return lengths[int(0.85 * (len(lengths) - 1))]


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
        edges = set(nonblank[:3] + nonblank[-3:])
        for i, text in enumerate(texts):
            stripped = text.strip()
            if not stripped:
                yield _Line(page.number, "", blank=True)
                continue
            if i in page.heading_lines:
                yield _Line(page.number, stripped, heading=True)
                continue
            if document.structured and re.fullmatch(r"\d{1,3}", stripped):
                continue  # a page number carried over into a text file
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


def _is_toc_line(text: str) -> bool:
    return bool(_TOC_RE.search(text))


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
    def __init__(self, source: str, structured: bool, width: int = 0) -> None:
        self.source = source
        self.structured = structured
        self.width = width
        self.minute_heading: str | None = None
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
            if line.heading or (not self.structured and self._layout_heading(line, nxt)):
                self._set_heading(line.text)
                i += 1
                continue
            if not self.structured and self._block_heading(line, nxt):
                self._set_heading(line.text)
                i += 1
                continue
            if self.numbered and not self.structured and self._layout_boundary(line, nxt):
                # Text after a finished paragraph that is not a continuation (a signature,
                # "Contact Points", an appendix title): close the paragraph, start a block.
                self._open(None, line.page, line.text, numbered=False)
                i += 1
                continue
            self._text(line)
            i += 1
        self._close()
        return self.out

    def _set_heading(self, text: str) -> None:
        heading = re.sub(r"^\d+(?:\.\d+)*\.?\s*(?=[A-Za-z])", "", text).strip()
        if self._heading_only_block():
            # "External Context" / "Economic background": stacked heading lines, not text.
            heading = f"{_join(self.parts)}: {heading}"
            self.blocks_on_page[self.page] -= 1
            self.label, self.parts = None, []
        self._close()
        self.heading = heading
        self.heading_since_prev = True
        self.minute_heading = None

    def _heading_only_block(self) -> bool:
        return (
            self.label is not None
            and not self.numbered
            and 0 < len(self.parts) <= 2
            and all(self._heading_like(p) for p in self.parts)
            and self._words() <= 12
        )

    def _heading_like(self, text: str) -> bool:
        """A short title-like line: not a wrapped line of running text."""
        if not _looks_like_heading_text(text) or _CONTINUES.search(text) or _is_toc_line(text):
            return False
        return not self.width or len(text) < 0.75 * self.width

    def _match(self, text: str) -> tuple[str, str, tuple[int, ...], str | None] | None:
        """``(label, dot, numbers, rest)`` when ``text`` opens like a numbered paragraph."""
        m = _LABEL_RE.match(text)
        if not m or _is_toc_line(text):
            return None
        label, dot, rest = m.group("label"), m.group("dot"), m.group("rest")
        if label[0] == "0" and len(label.split(".")[0]) > 1:
            return None  # "01 David Redgewell": a list of items, not paragraph numbers
        if "." not in label and not dot:
            # A flat number needs its dot ("9." not "9"), except a minute heading in
            # capitals: "4 AUDITED FINAL ACCOUNTS".
            head = re.sub(r"[^A-Za-z]", "", " ".join((rest or "").split()[:3]))
            if not (len(label) <= 3 and ((len(head) >= 4 and head.isupper()) or _is_item_title(rest))):
                return None
        return label, dot, parse_label(label), rest

    def _confirmed(self, cand: tuple[int, ...], lines: list[_Line], start: int) -> bool:
        """A number that does not follow the previous one (a restart, a new set of minutes)
        is accepted when the next numbered line continues from it."""
        if self.label is not None and self.numbered and not self.heading_since_prev:
            return False  # inside an open paragraph a restart is a list within it
        if self.parts and self.parts[-1].endswith(":"):
            return False  # "... as follows:" introduces a list
        seen = 0
        for line in lines[start:]:
            if line.blank or line.heading:
                continue
            seen += 1
            if seen > 80:
                return False
            found = self._match(line.text)
            if not found or not found[3] or not _SENTENCE_START.match(found[3]):
                continue
            return plausible_next(cand, found[2])
        return False

    def _numbered(self, line: _Line, nxt: _Line | None, lines: list[_Line], i: int) -> int:
        found = self._match(line.text)
        if not found:
            return 0
        label, dot, cand, rest = found
        consumed = 1
        if rest is None:
            # The number alone on its line ("9."), its text on the next line.
            if not dot or nxt is None or nxt.heading or _LABEL_RE.match(nxt.text):
                return 0
            rest = nxt.text
            consumed = next(k for k in range(i + 1, len(lines)) if lines[k] is nxt) - i + 1
        if not _SENTENCE_START.match(rest) and not self._starts_with_figure_ok(cand, rest):
            return 0
        if not dot and len(cand) == 1 and self._next_is_undotted_item(lines, i + consumed):
            return 0  # "10 Dr Philippa A Nason" / "11 Wilma Gough": a numbered list of names
        if self.prev is None and len(cand) == 1 and cand[0] > MAX_JUMP + 1:
            ok = False  # a first number far from 1 ("286." minutes, "2024." a year) needs confirming
        else:
            ok = plausible_next(self.prev, cand)
        ok = ok or (
            self.prev is not None and _is_restart(cand) and self.heading_since_prev
        )
        if not ok and not self._confirmed(cand, lines, i + consumed):
            return 0
        self.prev = cand
        self.heading_since_prev = False
        self.sub = 0
        self.minute_heading = None
        # "2. Background" followed by "2.1 ..." is a section heading, not a paragraph.
        following = next((ln for ln in lines[i + consumed :] if not ln.blank), None)
        if _looks_like_heading_text(rest) and following is not None:
            fm = self._match(following.text)
            if (fm and fm[0].startswith(label + ".") and plausible_next(cand, fm[2])
                    and fm[3] and _SENTENCE_START.match(fm[3])):
                self._close()
                self.heading = rest.strip()
                return consumed
        self.minute = label if len(cand) == 1 else None
        self._open(label, line.page, rest, numbered=True)
        return consumed

    def _next_is_undotted_item(self, lines: list[_Line], start: int) -> bool:
        following = next((ln for ln in lines[start:] if not ln.blank), None)
        if following is None:
            return False
        found = self._match(following.text)
        return bool(found and not found[1] and len(found[2]) == 1)

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
        if self.label == minute:
            # The minute's own line is its title: "291. Capital Programme ... (Item 6)".
            title = _join(self.parts)
            if title and len(title.split()) <= 30 and not title.endswith((".", ":", ";")):
                self.minute_heading = title
        self._open(f"{minute}({number})", line.page, rest, numbered=True)
        if self.minute_heading:
            self.unit_heading = self.minute_heading
        self.minute = minute
        return True

    def _layout_heading(self, line: _Line, nxt: _Line | None) -> bool:
        """In a PDF a heading is a short title-like line standing between paragraphs,
        directly followed by a numbered paragraph (or a minute's sub-paragraph)."""
        if not self._heading_like(line.text) or self._match(line.text):
            return False
        if (self.parts and not self.parts[-1].endswith(_TERMINAL)
                and not self._heading_only_block()):
            return False
        if nxt is None:
            return False
        if self.minute is not None and _SUB_RE.match(nxt.text):
            return True
        m = _LABEL_RE.match(nxt.text)
        return bool(m and (m.group("dot") or "." in m.group("label")))

    def _block_heading(self, line: _Line, nxt: _Line | None) -> bool:
        """Outside numbered paragraphs, a short title line ("Commentary", "Risk 1 – Spending
        Pressures") between finished text and a full line of running text is a heading."""
        if self.label is not None and self.numbered:
            return False
        if not self.width or nxt is None or len(line.text.split()) > 10:
            return False
        if not self._heading_like(line.text) or len(line.text) > 0.6 * self.width:
            return False
        if self.parts and not self.parts[-1].endswith(_TERMINAL):
            return False
        return (len(nxt.text) >= 0.7 * self.width and _SENTENCE_START.match(nxt.text) is not None
                and not _ITEM_RE.match(nxt.text) and not self._match(nxt.text))

    def _layout_boundary(self, line: _Line, nxt: _Line | None) -> bool:
        if not self.parts or not self.parts[-1].endswith(_TERMINAL):
            return False
        if not self._heading_like(line.text) or _LABEL_RE.match(line.text):
            return False
        if self._layout_heading(line, nxt):
            return False
        if nxt is not None and nxt.text[:1].islower():
            return False
        letters = re.sub(r"[^A-Za-z]", "", line.text)
        return (len(letters) >= 3 and letters.isupper()) or nxt is None or self._heading_like(nxt.text)

    def _text(self, line: _Line) -> None:
        if self.label is None:
            self._open(None, line.page, line.text, numbered=False)
            return
        if not self.numbered and self._words() >= MAX_BLOCK_WORDS and self.parts[-1].endswith(_TERMINAL):
            self._open(None, line.page, line.text, numbered=False)
            return
        if not self.numbered and self._words() >= MAX_BLOCK_WORDS + 40:
            self._open(None, line.page, line.text, numbered=False)  # a run-on table: cut anyway
            return
        self.parts.append(line.text)
