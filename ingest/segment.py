"""Split a report's pages into its numbered paragraphs.

Plain regular expressions and a plausibility check on the numbering, no framework:

* a paragraph starts at a line beginning with a number (``9.``, ``3.2``, ``5.1.4``) whose
  value plausibly follows the previous one (so "2020. The aim" wrapped mid-sentence, or a
  row of figures in a table, is not a paragraph);
* minute sub-paragraphs ``(1)`` / ``1)`` become ``288(1)``; bullets and lettered items stay
  inside their parent paragraph;
* running headers and footers (lines repeated on many pages), page numbers and "Page 3 of
  12" are removed before splitting, so page-break continuations join up;
* a numbered paragraph ends, and the text after it becomes blocks, at a title line over
  running text, an "Appendix"/"Annex" title, a table or figure, "This page is intentionally
  left blank", the end of a list of short items, or a printed paragraph break once it would
  pass MAX_NUMBERED_WORDS, so that a citation can be checked on the page;
* contents entries (a page titled "Contents", or a run of numbered titles printed again
  later) are not paragraphs, and footnotes ("7 Atkins: ...") are blocks of their own;
* text outside numbered paragraphs becomes unnumbered blocks labelled ``p<page>-<n>``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from ingest.records import Document, Paragraph
from ingest.segment_checks import _Checks
from ingest.segment_layout import _content_lines, _contents_lines, _footnote_lines, _text_width
from ingest.segment_rules import (
    _BREAK_RE,
    _LABEL_RE,
    _NOTE_START,
    _SENTENCE_START,
    _SUB_RE,
    _TERMINAL,
    MAX_BLOCK_WORDS,
    MAX_JUMP,
    MAX_NUMBERED_WORDS,
    _is_restart,
    _join,
    _Line,
    _looks_like_heading_text,
    looks_like_figures,
    looks_tabular,
    own_title,
    parse_label,
    plausible_next,
)

__all__ = [
    "MAX_BLOCK_WORDS",
    "MAX_JUMP",
    "MAX_NUMBERED_WORDS",
    "looks_tabular",
    "parse_label",
    "plausible_next",
    "segment",
]


def segment(document: Document) -> list[Paragraph]:
    """Split a document into paragraphs: numbered ones plus unnumbered blocks."""
    lines = list(_content_lines(document))
    return _Segmenter(document.source, document.structured, _text_width(lines)).run(lines)


class _Segmenter(_Checks):
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
        self.gap = False  # a blank line since the last line of text
        self.pending: list[Paragraph] = []  # footnotes, emitted after the open unit
        self.toc: set[int] = set()
        self.notes: set[int] = set()
        self.notes_page = 0  # the page of the last footnote
        self.tail = False  # in the unnumbered rest of an over-long numbered paragraph
        self.tail_of: str | None = None
        """The label of the over-long paragraph that was cut: the parts after the cut are still
        that printed paragraph, so they carry its label (cited "para 87", page 5)."""

    # -- emitting --------------------------------------------------------------------
    def _close(self) -> None:
        text = _join(self.parts)
        if self.label is not None and text:
            part_of = self.tail_of if not self.numbered and self.tail and self.tail_of else ""
            self.out.append(Paragraph(self.source, self.label, self.page, self.unit_heading, text, self.numbered,
                                      part_of))
        self.label, self.parts = None, []
        self.out.extend(self.pending)
        self.pending = []

    def _open(self, label: str | None, page: int, first: str, numbered: bool) -> None:
        self._close()
        if label is None:
            self.blocks_on_page[page] += 1
            label = f"p{page}-{self.blocks_on_page[page]}"
        self.label, self.page, self.numbered = label, page, numbered
        self.tail = self.tail and not numbered
        self.parts = [first] if first else []
        self.unit_heading = self.heading

    # -- the walk ----------------------------------------------------------------------
    def run(self, lines: list[_Line]) -> list[Paragraph]:
        if not self.structured:
            self.toc, self.notes = _contents_lines(lines), _footnote_lines(lines)
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.blank:
                self.gap = True
                if self.label is not None and not self.numbered:
                    self._close()
                i += 1
                continue
            nxt = next((ln for ln in lines[i + 1 :] if not ln.blank), None)
            i += self._step(line, nxt, lines, i)
            self.gap = False
        self._close()
        return self.out

    def _step(self, line: _Line, nxt: _Line | None, lines: list[_Line], i: int) -> int:
        """Take one line (two when a number stands alone on its line); return how many."""
        if i in self.notes:
            self._note(line)
            return 1
        if _BREAK_RE.match(line.text):
            self._close()  # "This page is intentionally left blank": nothing runs across it
            return 1
        if i in self.toc:
            if self.numbered:
                self._open(None, line.page, line.text, numbered=False)
            else:
                self._text(line)
            return 1
        consumed = self._numbered(line, nxt, lines, i)
        if consumed:
            return consumed
        if self._sub_paragraph(line):
            return 1
        title = None if self.structured else self._section_title(line, nxt)
        if title:
            self._set_heading(title, stacked=False)
            return 1
        if line.heading or (not self.structured and (
                self._layout_heading(line, nxt) or self._block_heading(line, nxt)
                or self._appendix_heading(line))):
            self._set_heading(line.text)
            return 1
        if self.numbered and self._ends_numbered(line, nxt, lines, i):
            # Text after a finished paragraph that is not a continuation (a signature,
            # "Contact Points", a table, the rest of a long section): close it, start a block.
            self._open(None, line.page, line.text, numbered=False)
            return 1
        self._text(line)
        return 1

    def _note(self, line: _Line) -> None:
        """A footnote becomes its own block without closing the paragraph it interrupts."""
        if self.notes_page == line.page and not _NOTE_START.match(line.text):
            where = self.pending if self.pending else self.out  # the note this line continues
            where[-1] = replace(where[-1], text=_join([where[-1].text, line.text]))
        else:
            self.notes_page = line.page
            self.blocks_on_page[line.page] += 1
            label = f"p{line.page}-{self.blocks_on_page[line.page]}"
            self.pending.append(Paragraph(self.source, label, line.page, self.heading, line.text, False))
        if self.label is None:
            self.out.extend(self.pending)
            self.pending = []

    def _set_heading(self, text: str, stacked: bool = True) -> None:
        heading = re.sub(r"^\d+(?:\.\d+)*\.?\s*(?=[A-Za-z])", "", text).strip()
        if stacked and self._heading_only_block():
            # "External Context" / "Economic background": stacked heading lines, not text.
            heading = f"{_join(self.parts)}: {heading}"
            if self.label == f"p{self.page}-{self.blocks_on_page[self.page]}":
                self.blocks_on_page[self.page] -= 1
            self.label, self.parts = None, []
        self._close()
        self.tail_of = None  # a new section: what follows is no longer the cut paragraph
        self.heading = heading
        self.heading_since_prev = True
        self.minute_heading = None

    def _numbered(self, line: _Line, nxt: _Line | None, lines: list[_Line], i: int) -> int:
        found = self._match(line.text)
        if not found:
            return 0
        label, dot, cand, rest = found
        consumed = 1
        alone = rest is None
        if rest is None:
            # The number alone on its line ("9."), its text on the next line.
            if not dot or nxt is None or nxt.heading or _LABEL_RE.match(nxt.text):
                return 0
            rest = nxt.text
            consumed = next(k for k in range(i + 1, len(lines)) if lines[k] is nxt) - i + 1
        if not _SENTENCE_START.match(rest) and not self._starts_with_figure_ok(cand, rest):
            return 0
        if not _looks_like_heading_text(rest) and self._runs_on_from(lines, i):
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
        title = own_title(rest, following.text if following else None) if alone else None
        if title:
            self.unit_heading = title  # "1." / "Adoption of Minutes" / "Circulated, ...": the item's own title
        return consumed

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

    def _ends_numbered(self, line: _Line, nxt: _Line | None, lines: list[_Line], i: int) -> bool:
        if not self.structured and (self._layout_boundary(line, nxt) or self._table_follows(line, nxt)
                                    or self._after_list_item(line)):
            return True
        # the rest of an over-long paragraph: a restart in it is a list, not new numbering
        self.tail = self._too_long(line, lines, i)
        # A run-on table cut where it passed the limit is a table, not the rest of the printed
        # paragraph: its blocks are cited by page (Kent's budget amendments: a table row "41"
        # had carried pages 38-47 of amendment forms as "para 41").
        run_on_table = self.tail and looks_like_figures(" ".join(self.parts[-12:]))
        self.tail_of = self.label if self.tail and not run_on_table else None
        return self.tail

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
