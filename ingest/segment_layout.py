"""The segmenter's pre-passes over a whole document, before the line-by-line walk: the
running width of a line of text, removal of page furniture (running headers and footers,
page numbers, protective markings), contents-page detection and footnote detection.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from ingest.records import Document
from ingest.segment_rules import (
    _CONTENTS_TITLE,
    _FURNITURE_RE,
    _LABEL_RE,
    _NOTE_START,
    _PAGE_NUMBER_RE,
    _is_toc_line,
    _Line,
    _looks_like_heading_text,
)


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
# Contents pages and footnotes


def _contents_lines(lines: list[_Line]) -> set[int]:
    """Indices of contents entries, which are not paragraphs: numbered lines on a page titled
    "Contents" or "Index", and runs of at least five numbered title lines with no text between
    them, most of whose labels are printed again later ("4.4 Recommendations" on page 2)."""
    first_on_page: dict[int, str] = {}
    entries: list[tuple[int, str]] = []
    toc: set[int] = set()
    for i, line in enumerate(lines):
        if line.blank:
            continue
        first_on_page.setdefault(line.page, line.text)
        m = _LABEL_RE.match(line.text)
        if not m or line.heading:
            continue
        if _CONTENTS_TITLE.match(first_on_page[line.page]):
            toc.add(i)
        rest = m.group("rest")
        if rest and (_is_toc_line(line.text) or _looks_like_heading_text(rest)):
            entries.append((i, m.group("label")))
    later: dict[str, int] = {}  # label -> index of its last numbered line
    for i, line in enumerate(lines):
        m = None if line.blank else _LABEL_RE.match(line.text)
        if m:
            later[m.group("label")] = i
    run: list[tuple[int, str]] = []
    for entry in [*entries, (len(lines), "")]:
        if run and not _same_contents_run(lines, run[-1][0], entry[0]):
            repeated = [i for i, label in run if later.get(label, -1) > i]
            intro = next((ln.text for ln in reversed(lines[: run[0][0]]) if not ln.blank), "")
            if len(run) >= 5 and len(repeated) >= 0.6 * len(run) and not intro.endswith(":"):
                # a list introduced by "as follows:" is not contents; the entries after the
                # last one printed again may be the text's own first headings
                toc.update(i for i, _ in run if i <= repeated[-1])
            run = []
        run.append(entry)
    return toc


def _same_contents_run(lines: list[_Line], a: int, b: int) -> bool:
    """Nothing but blank lines, page numbers and at most two wrapped title lines between two
    entries."""
    between = [ln.text for ln in lines[a + 1 : b] if not ln.blank and not ln.text.isdigit()]
    wrapped = all(len(text.split()) <= 12 and not text.endswith((".", ";", ":")) for text in between)
    return b < len(lines) and len(between) <= 2 and wrapped



def _footnote_lines(lines: list[_Line]) -> set[int]:
    """Indices of footnotes: from a line near the foot of a page that starts with a number
    printed as a superscript earlier on the page ("... may need updating.7" and at the foot
    "7 Atkins: Bristol Workplace Parking Levy Scoping Study") to the end of that page."""
    pages: dict[int, list[int]] = {}
    for i, line in enumerate(lines):
        if not line.blank and not line.heading:
            pages.setdefault(line.page, []).append(i)
    notes: set[int] = set()
    for idx in pages.values():
        for pos in range(max(1, len(idx) - 8), len(idx)):
            m = _NOTE_START.match(lines[idx[pos]].text)
            if not m:
                continue
            body = " ".join(lines[k].text for k in idx[:pos])
            if re.search(rf"(?<!\d)[a-z)\].,;:’”'\"]{m.group(1)}(?![\d]|[.,]\d)", body):
                notes.update(idx[pos:])
                break
    return notes
