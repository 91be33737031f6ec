"""The segmenter's boundary tests: read-only questions the walk in ``ingest.segment`` asks
about the open paragraph and the lines around it (is this line a heading, a paragraph
number, a table, the end of a list, the point where an over-long paragraph is cut?).

They live in a mixin so the state machine stays short; none of them changes state.
"""

from __future__ import annotations

import re

from ingest.records import Paragraph
from ingest.segment_rules import (
    _APPENDIX_RE,
    _BULLET_RE,
    _CONTINUES,
    _FIGURE_RE,
    _ITEM_RE,
    _LABEL_RE,
    _SENTENCE_START,
    _SUB_RE,
    _TERMINAL,
    _TRAILING_SECTION_RE,
    MAX_NUMBERED_WORDS,
    _is_item_title,
    _is_numeric_row,
    _is_toc_line,
    _join,
    _Line,
    _looks_like_heading_text,
    looks_tabular,
    parse_label,
    plausible_next,
)


class _Checks:
    """Predicates over the segmenter's state; ``ingest.segment._Segmenter`` sets the fields."""

    structured: bool
    width: int
    out: list[Paragraph]
    prev: tuple[int, ...] | None
    heading_since_prev: bool
    label: str | None
    minute: str | None
    numbered: bool
    page: int
    parts: list[str]
    gap: bool
    tail: bool

    def _words(self) -> int:
        return sum(len(p.split()) for p in self.parts)

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
        if (self.tail or (self.label is not None and self.numbered)) and not self.heading_since_prev:
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

    def _runs_on_from(self, lines: list[_Line], i: int) -> bool:
        """"... since the increase of 31.0 FTE jobs in Quarter" / "1. In the year to ...": a full
        line of running text that has not finished its sentence wraps onto this one."""
        before = lines[i - 1] if i else None
        if not self.width or before is None or before.blank or before.page != lines[i].page:
            return False
        return bool(self.parts and self.parts[-1] == before.text and len(before.text) >= 0.9 * self.width
                    and re.search(r"[A-Za-z]$", before.text) and not _is_numeric_row(before.text))

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

    def _section_title(self, line: _Line, nxt: _Line | None) -> str | None:
        """A section title printed with its number at the end of the line ("Executive Summary
        1", "Council Tax 6") and followed by that section's first paragraph ("1.1 ...", "6.1
        ..."): the title without its number, whatever came before it (a sidebar, a box)."""
        m = _TRAILING_SECTION_RE.match(line.text)
        if not m or nxt is None or self._match(line.text):
            return None
        title, number = m.group("title"), m.group("number")
        if len(title.split()) < 2 or not self._heading_like(title):
            return None
        first = _LABEL_RE.match(nxt.text)
        return title if first and first.group("label").startswith(f"{number}.") else None

    def _block_heading(self, line: _Line, nxt: _Line | None) -> bool:
        """A short title line ("Commentary", "Risk 1 – Spending Pressures", "(WS1.2) Measures
        and Monitoring") between finished text and a full line of running text is a heading;
        it also ends a numbered paragraph."""
        if not self.width or nxt is None or len(line.text.split()) > 10:
            return False
        if self.label is not None and self.numbered and _LABEL_RE.match(line.text):
            return False  # "8 Supported Bus Services": a number out of sequence stays text
        if not self._heading_like(line.text) or len(line.text) > 0.6 * self.width:
            return False
        if self.parts and not self.parts[-1].endswith(_TERMINAL):
            return False
        return (len(nxt.text) >= 0.7 * self.width and _SENTENCE_START.match(nxt.text) is not None
                and not _ITEM_RE.match(nxt.text) and not self._match(nxt.text))

    def _appendix_heading(self, line: _Line) -> bool:
        """"Appendix A: Glossary" / "ANNEX 2" / "Schedule 1" after a finished paragraph."""
        return bool(
            self.label is not None and self.numbered and _APPENDIX_RE.match(line.text) and self._heading_like(line.text)
            and (self.gap or (self.parts and self.parts[-1].endswith(_TERMINAL)))
        )

    def _table_follows(self, line: _Line, nxt: _Line | None) -> bool:
        """A table or figure after a finished paragraph: a row of figures, a caption ("Table 2:
        ...", "Source: ..."), or a header line over a row of figures."""
        if not self.parts or not self.parts[-1].endswith(_TERMINAL) or _ITEM_RE.match(line.text):
            return False
        if _is_numeric_row(line.text) or (_FIGURE_RE.match(line.text) and self._heading_like(line.text)):
            return True
        return nxt is not None and _is_numeric_row(nxt.text) and not line.text.endswith(_TERMINAL)

    def _after_list_item(self, line: _Line) -> bool:
        """"3. G = Good to have engaged" / "4. C = Courtesy to inform", a blank line, then "The
        closer the stakeholders are ...": the text after a list of short numbered items."""
        before = self.out[-1] if self.out else None
        if not (self.gap and self.parts and self.label and before is not None and before.numbered):
            return False
        if self._words() > 40 or len(before.text.split()) > 40 or line.page != self.page:
            return False
        text = _join(self.parts)
        if not text.endswith((".", "!", "?", ";", "”")):
            # "4. C = Courtesy to inform" in a flat list; not "5.6.7 Methodology" or "85.
            # Declarations of Interest", titles followed by their text, nor "... as follows:"
            flat = self.label.isdigit() and before.label.isdigit() and int(self.label) == int(before.label) + 1
            bare = all(self._heading_like(t) and not re.search(r"\(item \d", t, re.I) for t in (text, before.text))
            if not (flat and bare and not _is_item_title(text)):
                return False
        return bool(_SENTENCE_START.match(line.text) and not _ITEM_RE.match(line.text))

    def _too_long(self, line: _Line, lines: list[_Line], i: int) -> bool:
        """A numbered paragraph that would pass MAX_NUMBERED_WORDS with the printed paragraph
        starting here ends before it, where a sentence ends and a printed paragraph or a
        numbered or lettered item starts (never before a bullet); a run-on table ends anywhere."""
        if self.label is None or not self.parts:
            return False
        words = self._words()
        if words >= MAX_NUMBERED_WORDS and looks_tabular(" ".join(self.parts[-12:])):
            return True
        if words + self._printed_paragraph_words(lines, i) <= MAX_NUMBERED_WORDS:
            return False
        last, text = self.parts[-1], line.text
        if not last.endswith(_TERMINAL) or _BULLET_RE.match(text):
            return False  # a bullet stays with the list it belongs to
        numbered_item = bool(_LABEL_RE.match(text) or _SUB_RE.match(text) or re.match(r"\(?[a-z]\)\s", text))
        broken = self.gap or self.structured or (self.width and len(last) < 0.8 * self.width)
        return bool((broken or numbered_item) and (_SENTENCE_START.match(text) or numbered_item))

    def _printed_paragraph_words(self, lines: list[_Line], start: int) -> int:
        """Words from ``start`` to the end of its printed paragraph: a blank line, the next
        numbered line, or a short line ending a sentence; a paragraph ending "as follows:"
        runs on through its list."""
        words, in_list, last = 0, False, ""
        for k in range(start, len(lines)):
            text = lines[k].text
            if lines[k].blank and (in_list or (last and not last.endswith(_TERMINAL))):
                continue  # a list, or a sentence running on over a page break
            if lines[k].blank or (k > start and (lines[k].heading or (_LABEL_RE.match(text) and not in_list))):
                break
            if in_list and not _ITEM_RE.match(text) and self._ends_paragraph(last) and not last.endswith(":"):
                break  # the text after the list
            words += len(text.split())
            in_list, last = in_list or text.endswith(":"), text
            if not in_list and self._ends_paragraph(text):
                break
        return words

    def _ends_paragraph(self, text: str) -> bool:
        """A line that ends a printed paragraph: a sentence end on a short line."""
        return text.endswith(_TERMINAL) and (self.structured or len(text) < 0.8 * self.width)

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
