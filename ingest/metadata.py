"""Report metadata: title, ISO date, council and meeting.

Taken, in rising order of trust, from the file name, the PDF metadata, the first page,
and a sidecar ``<file>.meta.json`` that overrides everything it names.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from ingest.errors import UnreadableReport
from ingest.records import Document, ReportMeta

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("january", "jan", "ionawr"),
            ("february", "feb", "chwefror"),
            ("march", "mar", "mawrth"),
            ("april", "apr", "ebrill"),
            ("may", "mai"),
            ("june", "jun", "mehefin"),
            ("july", "jul", "gorffennaf"),
            ("august", "aug", "awst"),
            ("september", "sep", "sept", "medi"),
            ("october", "oct", "hydref"),
            ("november", "nov", "tachwedd"),
            ("december", "dec", "rhagfyr"),
        ],
        start=1,
    )
    for m in names
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY_MONTH_YEAR = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\.?,?\s+((?:19|20)\d\d)\b", re.I
)
_MONTH_DAY_YEAR = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b", re.I)
_ISO = re.compile(r"\b((?:19|20)\d\d)[-_](\d\d)[-_](\d\d)\b")
_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})/((?:19|20)\d\d)\b")
_COUNCIL = re.compile(
    r"\b((?:[A-Z][A-Za-z'&.-]+\s){1,4}?(?:County|City|Borough|District|Town|Parish|Community|Metropolitan)"
    r"(?:\s(?:and\s)?(?:County|Borough|District))?\sCouncil)\b"
    r"|\b((?:[A-Z][A-Za-z'&.-]+\s){1,4}Combined Authority)\b"
    r"|\b(London Borough of [A-Z][a-z]+)\b"
)
_MEETING = re.compile(
    r"^(?:meeting of (?:the )?)?((?:full |county |city )?council|cabinet|(?:[A-Z][\w&,' -]{0,60})?committee"
    r"|(?:[A-Z][\w&,' -]{0,40})?(?:board|panel|sub-committee|forum))\b",
    re.I,
)
_SMALL_WORDS = {"of", "the", "and", "for", "to", "in", "on", "at", "a", "an", "by", "with", "or"}


def _valid(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def find_date(text: str) -> str | None:
    """The first full date in ``text`` as ISO ``YYYY-MM-DD``, or None."""
    found: list[tuple[int, str]] = []
    for m in _DAY_MONTH_YEAR.finditer(text):
        iso = _valid(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
        if iso:
            found.append((m.start(), iso))
    for m in _MONTH_DAY_YEAR.finditer(text):
        iso = _valid(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))
        if iso:
            found.append((m.start(), iso))
    for m in _ISO.finditer(text):
        iso = _valid(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if iso:
            found.append((m.start(), iso))
    for m in _NUMERIC.finditer(text):
        iso = _valid(int(m.group(3)), int(m.group(2)), int(m.group(1)))  # UK order: d/m/y
        if iso:
            found.append((m.start(), iso))
    return min(found)[1] if found else None


def title_case(text: str) -> str:
    """``"ANNUAL REPORT OF THE CHIEF EXECUTIVE"`` -> ``"Annual Report of the Chief Executive"``."""
    if not text.isupper():
        return text
    words = text.lower().split()
    out = []
    for i, word in enumerate(words):
        out.append(word if i and word in _SMALL_WORDS else word[:1].upper() + word[1:])
    return " ".join(out)


def _first_lines(document: Document, limit: int = 40) -> list[str]:
    lines: list[str] = []
    for page in document.pages[:2]:
        lines.extend(ln.strip() for ln in page.lines if ln.strip())
        if len(lines) >= limit:
            break
    return lines[:limit]


def _useful_pdf_title(title: str | None) -> str | None:
    if not title:
        return None
    title = title.strip()
    if re.match(r"^(microsoft word|untitled|document\d*|slide \d+)\b", title, re.I):
        return None
    if re.search(r"\.(docx?|pdf|rtf)$", title, re.I) or len(title) < 6:
        return None
    return title


def _title_from_lines(lines: list[str]) -> str | None:
    """The first substantial line that reads like a title: a run of capitalised lines near the
    top that is not the council name, a date, or a meeting name."""
    for i, line in enumerate(lines[:20]):
        if find_date(line) or re.fullmatch(rf"(\d{{1,2}}\s+)?({_MONTH_RE})\s+\d{{4}}", line, re.I):
            continue
        bare = re.sub(r"^\d+(\.\d+)*\.?\s+", "", line)
        if len(bare) < 8 or _PAGE_LIKE.match(bare):
            continue
        if re.match(r"^(agenda item|item \d|report (of|by|to)|from:|to:|date:|subject:|by:)", bare, re.I):
            m = re.match(r"^subject:\s*(.+)$", bare, re.I)
            if m and len(m.group(1)) > 6:
                return m.group(1).strip()
            continue
        if _COUNCIL.fullmatch(bare) or _MEETING.fullmatch(bare):
            continue
        if bare.endswith(".") and len(bare.split()) > 12:
            break  # body text reached
        title = bare
        # a title wrapped onto a second capitalised line
        if i + 1 < len(lines):
            nxt = lines[i + 1]
            if (bare.isupper() and nxt.isupper() and len(nxt.split()) <= 8 and not find_date(nxt)
                    and not re.match(r"^\d", nxt) and not _MEETING.fullmatch(nxt)):
                title = f"{bare} {nxt}"
        return title_case(title.strip())
    return None


_PAGE_LIKE = re.compile(r"^(page\s*)?\d+(\s*of\s*\d+)?$", re.I)


def _sidecar(path: Path) -> dict[str, str]:
    sidecar = path.with_name(path.name + ".meta.json")
    if not sidecar.exists():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnreadableReport(sidecar.name, f"sidecar metadata is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise UnreadableReport(sidecar.name, "sidecar metadata must be a JSON object")
    return {k: str(v) for k, v in data.items() if k in ("title", "date", "council", "meeting") and v}


def extract_metadata(document: Document, path: str | Path | None = None) -> ReportMeta:
    """Title, date, council and meeting of a report (sidecar ``<file>.meta.json`` wins)."""
    lines = _first_lines(document)
    head = "\n".join(lines)
    pdf_title = _useful_pdf_title(document.file_metadata.get("title"))
    if pdf_title and pdf_title.lower() in head.lower():
        title = title_case(pdf_title)  # the file's own title, confirmed by its first page
    else:
        title = _title_from_lines(lines) or pdf_title
    stem = Path(document.source).stem
    title = title or re.sub(r"[_-]+", " ", stem).strip()
    report_date = find_date(head) or find_date(stem.replace("_", " "))
    council_match = _COUNCIL.search(head) or _COUNCIL.search(
        " ".join(ln for p in document.pages[:3] for ln in p.lines)
    )
    council = next((g for g in council_match.groups() if g), None) if council_match else None
    meeting = None
    for line in lines[:12]:
        m = _MEETING.match(line)
        if m and len(line) <= 80 and not line.endswith("."):
            meeting = title_case(line.strip())
            break
    meta = {"title": title, "date": report_date, "council": council, "meeting": meeting}
    if path is not None:
        meta.update(_sidecar(Path(path)))
    return ReportMeta(**meta)
