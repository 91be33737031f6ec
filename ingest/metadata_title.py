"""The title a member can quote: a cover sheet's "Subject:", the first credible line of page 1
(after a council letterhead, never an address, a contact line, a date or a running header), the PDF
title (first when page 1 prints it), then the file name and the folder.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from ingest.metadata_text import (
    _KEYLIKE,
    _MEETING,
    _MONTH_RE,
    _SMALL_WORDS,
    FILE_NAME,
    FIRST_PAGE,
    FOLDER,
    PDF_META,
    find_date,
    is_council,
    title_case,
)
from ingest.records import Document

_BODY_START = re.compile(
    rf"^(?:\d+(?:\.\d+)*\.?\s+(?!(?:{_MONTH_RE})\b)[A-Za-z(]|dear\b|present\b|members present|membership\b"
    r"|in attendance|apologies|presennol|summary\b|purpose of|recommendations?\b|contents$|table of contents"
    r"|executive summary|introduction$)", re.I)
_NOT_A_TITLE = re.compile(
    r"^(?:template\b|original file|direct dial|tel\b|telephone|phone|e-?mail|fax|our ref|your ref|ask for|<|\*"
    r"|contact|website|www\.|https?:|classification|version\b|v\d|draft$|official\b|page\b|electoral division|ward"
    r"|key decision|decision no|unrestricted|exempt|not for publication|public\b$|by\b|from\b|to\b"
    r"|report (?:of|by|to)\b|agenda item|item \d|question(?:s)? (?:\d|by|to)|\(|[☐☒•▪\-–])", re.I)
_JUNK_TITLE = re.compile(
    r"^(?:the )?(?:report|contents|table of contents|section page|summary|introduction|services|document|answer"
    r"|untitled|final|template|\w+ template|by:?|(?:appendix|annex)(?: [a-z0-9.]{1,4})?|committee report"
    r"|(?:section|part|page|item|question) \d+(?:\.\d+)*|cover(?:ing)? (?:report|sheet))$", re.I)
_DOC_TYPE = re.compile(r"^(?:printed )?(?:minutes|agenda(?: frontsheet)?|decision notice|decision recording form"
                       r"|record of decisions?|forward plan|notice of meeting|summons)$", re.I)
_ADDRESS = re.compile(r"\b(?:hall|house|chamber|room|road|street|lane|centre|building|ystafell)\b", re.I)
_HONORIFIC = r"\b(?:Mr|Mrs|Ms|Miss|Dr|Cllr|Councillor)\b"
_FURNITURE = re.compile(
    rf"@|\?$|\d{{5,}}|\d{{3,}} \d{{3,}}|\s\d{{1,3}}$|\bAct \d{{4}}\b|\bP a g e\b|{_HONORIFIC}.*{_HONORIFIC}"
    rf"|^(?:page\s*)?\d+(?:\s*of\s*\d+)?$|^(?:\d{{1,2}}\s+)?(?:{_MONTH_RE})\s+\d{{4}}$", re.I)
# "Workplace Parking Levy: An evidence-based review" is a title, "Ask for: X" a key
_SUBTITLED = re.compile(r"^(?:(?:[A-Z][a-z]\S*\s+){2,}[A-Z][a-z]\S*|(?i:appendix|annex|part|section|schedule) [\w.]+):"
                        r"\s+\S+\s+\S")
_FRAGMENT = re.compile(r"\b(?:the|of|for|to|and|a|an|that|with|by|in|on|at|is|are|was)$", re.I)
"""A line cut mid-sentence ("NOTICE is hereby given that the audit for the"): never a title."""
_GENERIC_MINUTES = re.compile(r"^(minutes of (?:(?:the )?proceedings at )?(?:a |the )?)meeting of\b", re.I)
_MEETING_KIND = re.compile(r"\b([A-Za-z]{4,}) meeting\b", re.I)
_NORM = re.compile(r"[\d\s|.]+")  # a line's shape, for spotting running headers
_CONNECTOR = re.compile(r"(?:[,&:–-]|\b(?:and|of|for|to|the|in|on|at|a|an|with|by))$", re.I)


def _running_headers(document: Document) -> set[str]:
    """Lines at the top of several of the first pages: running headers, never the title itself."""
    tops = [[ln for ln in page.lines if ln.strip()][:4] for page in document.pages[:6]]
    seen = Counter(k for lines in tops for k in {_NORM.sub(" ", ln.lower()).strip() for ln in lines} if k)
    return {k for k, n in seen.items() if n >= 2} if len(document.pages) > 1 else set()


def _rejected(line: str) -> bool:
    words = line.split()
    return (len(line) < 6 or not (line[:1].isupper() or line[:1].isdigit()) or bool(_NOT_A_TITLE.match(line))
            or bool(_FURNITURE.search(line)) or len(re.findall(r"(?<![\w-])\d[\d,.-]*\b", line)) >= 3
            or (bool(_KEYLIKE.match(line)) and not _SUBTITLED.match(line))
            or (find_date(line) is not None and not line.lower().startswith("minutes of"))
            or (bool(_ADDRESS.search(line)) and ("," in line or line.endswith("."))) or line.count(",") >= 2
            or (line.endswith(".") and (len(words) <= 5 or len(words) > 8))
            or line.count(")") > line.count("("))  # the tail of a bracket opened on the line before


def _join(top: list[str], i: int) -> str:
    """A title line with the lines it wraps onto."""
    title, j = top[i], i + 1
    while j < len(top) and top[j] and len(title.split()) <= 16:
        nxt = top[j]
        if _KEYLIKE.match(nxt) or find_date(nxt) or is_council(nxt):
            break
        block = len(nxt.split()) <= 4 and nxt[:1].isupper() and (j + 1 >= len(top) or not top[j + 1])
        if not (_CONNECTOR.search(title) or re.match(r"^(?:&|and\b|of\b|for\b|in\b|the\b|[a-z])", nxt)
                or block or (top[j - 1].isupper() and nxt.isupper() and len(nxt.split()) <= 12)):
            break
        title, j = f"{title} {nxt}", j + 1
    return title


def _clean_title(title: str) -> str:
    title = re.sub(r"^(?:v\d+(?:\.\d+)*\s+)|\s+P a g e\b.*$", "", " ".join(title.split()), flags=re.I)
    title = re.sub(rf"^(?:\d{{1,2}}\s+)?(?:{_MONTH_RE})\s+\d{{4}}\s+", "", title, flags=re.I)
    if title.lower().startswith("minutes of"):
        title = re.split(r"\s+(?:held|on)\b|,|\s\d|\s+of the above\b", title, maxsplit=1, flags=re.I)[0]
    return title_case(title.strip(" ,;:–-"))


def _title_lines(top: list[str], headers: set[str]) -> tuple[str | None, str | None]:
    """(title line, running-header title line) atop page 1; lines after a council letterhead win over an address."""
    found: list[tuple[int, str]] = []
    header_title, letterhead, skip = None, -1, False
    for i, raw in enumerate(top[:70]):
        if not raw:
            skip = False
            continue
        if _BODY_START.match(raw) or (len(raw.split()) > 20 and _NORM.sub(" ", raw.lower()).strip() not in headers):
            break
        if is_council(raw) or is_council(_join(top, i)):
            letterhead = i if letterhead < 0 else letterhead
            continue
        if skip or re.match(r"^(?:by|from)\b", raw, re.I):
            skip = skip or bool(re.match(r"^(?:by|from)\b", raw, re.I))
            continue
        text = _clean_title(_join(top, i))
        if (_rejected(raw) or _MEETING.fullmatch(raw) or len(text.split()) > 16 or _JUNK_TITLE.match(text)
                or _FRAGMENT.search(text)):
            skip = raw.endswith(",") or bool(_CONNECTOR.search(raw) and len(raw.split()) > 6)
            continue
        if _NORM.sub(" ", raw.lower()).strip() in headers:
            header_title = header_title or text
            continue
        found.append((i, text))
    after = [t for i, t in found if i > letterhead >= 0]
    return (after or [t for _, t in found] or [None])[0], header_title


def _file_title(stem: str) -> str | None:
    text = re.sub(r"^(?:src-[a-z]+-\d+_)+|^\d{2}-\d{5}_?", "", stem, flags=re.I)
    text = re.sub(r"[_]+|(?<=[a-z])-(?=[a-z])", " ", text, flags=re.I)
    text = re.sub(rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?[ -])?(?:{_MONTH_RE})[ -]\d{{4}}\b.*$"
                  r"|\b(?:19|20)\d\d-?\d\d-?\d\d\b.*$|\bfinal\b|\bcy\b|\s-\s*$", " ", text, flags=re.I)
    text = " ".join(text.split()).strip(" -")
    return text[:1].upper() + text[1:] if len(re.findall(r"[A-Za-z]{3,}", text)) >= 2 else None


def find_title(document: Document, top: list[str], keys: dict[str, str], committee: str | None,
           folder: str | None) -> tuple[str, str, bool]:
    """(title, source, doubtful), taking the first credible candidate in falling order of trust."""
    line, header = _title_lines(top, _running_headers(document))
    pdf = re.sub(r"^\s*\(public pack\)\s*", "", document.file_metadata.get("title") or "", flags=re.I)
    pdf = re.split(r",?\s*\d{1,2}/\d{1,2}/\d{4}", pdf)[0].strip(" ,\t\n")
    if re.search(r"^(?:microsoft word|untitled|document\d*|slide \d)|\btemplate\b|\.(?:docx?|pdf|pages)$", pdf, re.I):
        pdf = ""
    confirmed = all(w in " ".join(top).lower() for w in re.findall(r"\w+", pdf.lower()))  # the first page prints it
    stem = Path(document.source).stem
    candidates = [(keys.get("title"), FIRST_PAGE), (line, FIRST_PAGE), (pdf if confirmed else None, PDF_META),
                  (header, FIRST_PAGE), (pdf, PDF_META), (_file_title(stem), FILE_NAME), (folder, FOLDER)]
    kind = None
    for value, source in candidates:
        value = _clean_title(value or "")
        if len(value) < 4 or _JUNK_TITLE.match(value):
            continue
        if _DOC_TYPE.match(value):
            if committee:
                return f"{value} – {committee}", source, source in (FILE_NAME, FOLDER)
            kind = kind or (value, source)
            continue
        return _kind_of_meeting(value, _file_title(stem)), source, source in (FILE_NAME, FOLDER)
    return (kind[0], kind[1], True) if kind else (re.sub(r"[_-]+", " ", stem).strip() or stem, FILE_NAME, True)


def _kind_of_meeting(title: str, named: str | None) -> str:
    """A generic "Minutes of (Proceedings at) Meeting of X" names the kind of meeting when the file
    name does ("Minutes - Budget Meeting ..." -> "Minutes of Proceedings at Budget Meeting of X")."""
    generic = _GENERIC_MINUTES.match(title)
    kind = _MEETING_KIND.search(named or "")
    if not (generic and kind) or kind.group(1).lower() in _SMALL_WORDS:
        return title
    return f"{generic.group(1)}{kind.group(1).capitalize()} Meeting of{title[generic.end():]}"
