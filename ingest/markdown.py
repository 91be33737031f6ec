"""Markdown reports: headings, bullets and emphasis read as text; HTML left out of the words; a
converter's page breaks kept as pages (Markdown converted from a council's PDF)."""

from __future__ import annotations

import re

from ingest.errors import UnreadableReport
from ingest.records import Document, Page

_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_MD_BOLD_LINE = re.compile(r"^\s*\*\*(.+?)\*\*\s*$")
_MD_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_MD_LETTERED = re.compile(r"^\(?[a-zivx]{1,4}\)\s")


_HTML_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>", re.S)
_HTML_NOTE_LINE = re.compile(r"^[\s*_]*<small>.*</small>[\s*_]*$", re.I)
"""A line that is wholly fine print: a converter's note ("Scanned page, text may contain errors.
See original file for clarity", printed on every page), not the report's text."""


def without_html(text: str) -> str:
    """``text`` without HTML tags and comments (``<br>`` read as a space): the words a Markdown
    report's paragraph is indexed by."""
    return _HTML_TAG.sub(lambda m: " " if m.group(0).lower().startswith("<br") else "", text)


def _strip_inline_markdown(text: str) -> str:
    text = without_html(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    text = re.sub(r"\*+", "", text)  # italics and stray emphasis markers
    text = re.sub(r"(?<!\w)__(.+?)__(?!\w)", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    return text.replace("\\", "").rstrip()


def _short_title(text: str) -> bool:
    text = text.strip("*_ ")
    return len(text.split()) <= 12 and not text.endswith((".", ";", ",", "?", "!"))


def _undouble_spacing(raw_lines: list[str]) -> list[str]:
    """Markdown converted from PDF often puts a blank line after every printed line. There a
    blank line ends a paragraph only after a sentence end; other blanks are dropped."""
    text_lines = [i for i, line in enumerate(raw_lines) if line.strip()]
    followed_by_blank = sum(
        1 for i in text_lines if i + 1 < len(raw_lines) and not raw_lines[i + 1].strip()
    )
    if len(text_lines) < 20 or followed_by_blank < 0.8 * len(text_lines):
        return raw_lines
    out: list[str] = []
    for line in raw_lines:
        if not line.strip() and out and out[-1].strip() and not out[-1].rstrip().endswith(
            (".", ":", ";", "!", "?", "**")
        ) and not out[-1].lstrip().startswith("#"):
            continue
        out.append(line)
    return out


_MD_BREAK = re.compile(r"\s*(-{3,}|\*{3,}|_{3,})\s*")
_PRINTED_PAGE = re.compile(r"\d{1,4}")


def _first_text_after(lines: list[str], start: int) -> str:
    for line in lines[start + 1:]:
        if _MD_BREAK.fullmatch(line):
            return ""
        if line.strip():
            return line.strip()
    return ""


def page_of_lines(lines: list[str]) -> list[int]:
    """The page of each line of Markdown converted from PDF. Converters mark each page break by a
    thematic break ("---") followed by the printed page number or their note on the page ("Scanned
    page, ..."); when at least half of two or more breaks read so, each break starts the next page,
    numbered as printed where a number follows it (never going back), else one on. Text before the
    first break that is at most one line (the converter's "[Original file](...)" link) belongs to
    page 1. Otherwise every line is on page 1: a thematic break alone is a section rule."""
    breaks = [i for i, line in enumerate(lines) if _MD_BREAK.fullmatch(line)]
    marks = [_first_text_after(lines, i) for i in breaks]
    page_like = sum(1 for m in marks if _PRINTED_PAGE.fullmatch(m) or _HTML_NOTE_LINE.match(m))
    if len(breaks) < 2 or 2 * page_like < len(breaks):
        return [1] * len(lines)
    page = 0 if sum(1 for line in lines[:breaks[0]] if line.strip()) <= 1 else 1
    mark_at = dict(zip(breaks, marks, strict=True))
    pages = []
    for i in range(len(lines)):
        if i in mark_at:
            page = max(int(mark_at[i]) if _PRINTED_PAGE.fullmatch(mark_at[i]) else 0, page + 1)
        pages.append(max(1, page))
    return pages


def markdown_document(name: str, text: str) -> Document:
    """Markdown: ``#`` headings and whole-line ``**bold**`` are headings; ``-`` items are bullets;
    a converter's page breaks start pages (:func:`page_of_lines`)."""
    raw_lines = [raw.rstrip() for raw in _undouble_spacing(text.splitlines())]
    pages: dict[int, tuple[list[str], set[int]]] = {}
    for raw, number in zip(raw_lines, page_of_lines(raw_lines), strict=True):
        lines, headings = pages.setdefault(number, ([], set()))
        _markdown_line(raw, lines, headings)
    if not any(line.strip() for lines, _ in pages.values() for line in lines):
        raise UnreadableReport(name, "empty file (no text)")
    return Document(source=name, pages=tuple(
        Page(number, tuple(lines), frozenset(headings)) for number, (lines, headings) in sorted(pages.items())
    ), structured=True)


def _markdown_line(raw: str, lines: list[str], headings: set[int]) -> None:
    """Append one Markdown line to a page's ``lines`` (noting headings by index)."""
    if _MD_BREAK.fullmatch(raw) or _HTML_NOTE_LINE.match(raw):
        lines.append("")
        return
    heading = _MD_HEADING.match(raw)
    if heading:
        parts = [heading.group(1)]
    else:
        # "**A****B**" is two bold lines glued together.
        parts = re.split(r"(?<=\*\*)(?=\*\*)", raw) if "****" in raw else [raw]
    for part in parts:
        bold = _MD_BOLD_LINE.match(part)
        if bold and not heading and not _short_title(_strip_inline_markdown(part)):
            bold = None  # an emphasised sentence (a councillor's question), not a heading
        if heading or bold:
            content = _strip_inline_markdown(bold.group(1) if bold else part)
            if content.strip():
                headings.add(len(lines))
                lines.append(content.strip())
            continue
        bullet = _MD_BULLET.match(part)
        if bullet:
            item = _strip_inline_markdown(bullet.group(2))
            # A lettered item written as a bullet ("- a) ...") keeps its letter only.
            lines.append(item if _MD_LETTERED.match(item) else f"• {item}")
            continue
        lines.append(_strip_inline_markdown(part.strip()))
