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
    rf"\b(\d{{1,2}})(?:st|nd|rd|th|af|il|ydd|fed|ed|eg|ain)?\s+(?:of\s+)?({_MONTH_RE})\.?,?\s+((?:19|20)\d\d)\b",
    re.I,
)
_MONTH_DAY_YEAR = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b", re.I)
_ISO = re.compile(r"\b((?:19|20)\d\d)[-_](\d\d)[-_](\d\d)\b")
_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})/((?:19|20)\d\d)\b")
_NAME = r"[A-Z][A-Za-z'’&-]+"
_COUNCIL = re.compile(
    rf"\b((?:{_NAME} (?:(?:and|&|of|upon|on|under) )?){{1,4}}?"
    r"(?:County|City|Borough|District|Town|Parish|Community|Metropolitan)"
    r"(?: (?:and )?(?:County|Borough|District))? Council)\b"
    rf"|\b((?:{_NAME} (?:(?:of|and) )?){{1,4}}(?:Mayoral )?Combined Authority)\b"
    r"|\b(London Borough of [A-Z][a-z]+)\b"
)
_WELSH_COUNCIL = re.compile(
    r"\b(Cyngor (?:Cymuned|Tref|Sir|Dinas) [A-Za-z'’-]{3,}(?: (?:a|ac|and|&) [A-Za-z'’-]{3,})?)", re.I
)
# Words a council's name does not start with ("Budget County Council", "March County Council").
_NOT_A_NAME = {
    "the", "a", "an", "this", "that", "our", "your", "each", "every", "any", "budget", "draft", "full",
    "meeting", "report", "minutes", "agenda", "dear", "proposed", "annual", "youth", "and", "of",
    "recommendation", "recommendations", "council", "tax", "services", "members", "responses", "mayor’s",
    "mayor's", "new", "current", "whole", "notes", "note", "see", "leader", "member", "cabinet",
    "chairman", "chair", "mayor", "chief", "executive", "officer",
} | set(_MONTHS)
# Lines near the top that are document furniture, never a title.
_NOT_A_TITLE = re.compile(
    r"^(?:template\b|original file|direct dial|tel\b|telephone|phone|e-?mail|fax|our ref|your ref|ask for"
    r"|dear\b|<|\*|contact|website|www\.|https?:|classification|version\b|v\d|draft\b|official\b|page\b|appendix \w+$"
    r"|electoral division|ward|key decision|decision no|unrestricted|exempt|not for publication|public\b$)",
    re.I,
)
_KEY_TITLE = re.compile(r"^(?:subject|title|report title|report|re)\s*:\s*(?P<v>\S.{5,})$", re.I)
_KEY_MEETING = re.compile(r"^(?:committee|meeting|decision maker|to)\s*:\s*(?P<v>\S.{2,})$", re.I)
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
    """A ``Subject:``/``Title:`` line, else the first substantial line that reads like a title:
    a run of capitalised lines near the top that is not the council name, a date, a meeting
    name, an address or other page furniture."""
    for line in lines[:30]:
        m = _KEY_TITLE.match(line)
        if m:
            return title_case(m.group("v").strip())
    after_key = False
    for i, line in enumerate(lines[:20]):
        if re.match(r"^[A-Za-z][A-Za-z /()]{1,30}:", line):
            after_key = True  # "From: X" may wrap onto a second line: skip both
            continue
        if after_key and not line.isupper() and len(line.split()) <= 14 and "," in line:
            continue
        after_key = False
        if line[:1].islower() or line.endswith(",") or len(line.split()) > 16:
            continue
        if _NOT_A_TITLE.match(line) or "@" in line or re.search(r"\d{5,}|\d{3,} \d{3,}", line):
            continue
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
        if _COUNCIL.fullmatch(bare) or _MEETING.fullmatch(bare) or _WELSH_COUNCIL.fullmatch(bare):
            continue
        if bare.isupper() and _COUNCIL.fullmatch(title_case(bare)):
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


_WEEKDAY = re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b", re.I)
_PAGE_LIKE = re.compile(r"^(page\s*)?\d+(\s*of\s*\d+)?$", re.I)


def _council(document: Document, lines: list[str]) -> str | None:
    """The council the first page names most often (else the rest of the document), ignoring
    false names such as "Budget County Council" that a wrapped sentence produces."""
    scores: dict[str, float] = {}

    def score(name: str) -> None:
        words = name.split()
        while words and (words[0].lower() in _NOT_A_NAME or words[1:2] == words[:1]):
            words = words[1:]
        if len(words) < 2 or words[0] in ("County", "City", "Borough", "District", "Combined", "Mayoral"):
            return
        key = " ".join(words)
        scores[key] = scores.get(key, 0.0) + 1

    def add(block: list[str]) -> None:
        block = [_tidy_case(ln.strip()) for ln in block if ln.strip()]
        for i, line in enumerate(block):
            # the line plus the next one, for a name wrapped over two lines
            text = line + (" " + block[i + 1] if i + 1 < len(block) else "")
            for m in _COUNCIL.finditer(text):
                if m.start() < len(line):
                    score(next(g for g in m.groups() if g))
        if not scores:
            for line in block:
                for m in _WELSH_COUNCIL.finditer(line):
                    scores[m.group(1)] = scores.get(m.group(1), 0.0) + 1

    add(lines)  # the first page names its own council; elsewhere others are mentioned
    if not scores:
        add([ln for page in document.pages[:30] for ln in page.lines])
    if not scores:
        return None
    for k in [k for k in scores if any(o.endswith(" of " + k) for o in scores)]:
        scores.pop(k)  # "England Combined Authority" is the tail of "West of England ..."
    # a name inside a longer match ("Consultation Report Kent County Council") gains its votes
    return max(scores, key=lambda k: (scores[k] + sum(v for o, v in scores.items() if o != k and k in o), len(k)))


def _tidy_case(line: str) -> str:
    """A line in capitals ("TINTERN COMMUNITY COUNCIL", "CYNGOR CYMUNED MANORDEILO a SALEM")
    in title case, so names in it can be found."""
    letters = [c for c in line if c.isalpha()]
    if len(letters) < 4 or sum(c.isupper() for c in letters) < 0.8 * len(letters):
        return line
    return title_case(line.upper()) if not line.isupper() else title_case(line)


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
    council = _council(document, lines)
    meeting = None
    for line in lines[:30]:
        m = _KEY_MEETING.match(line)
        if m:
            value = re.sub(rf"\s*[-–,]?\s*\d{{1,2}}(?:st|nd|rd|th)?\s+({_MONTH_RE})\b.*$", "", m.group("v"), flags=re.I)
            if _MEETING.match(value) and len(value) <= 80:
                meeting = value.strip()
                break
    for line in ([] if meeting else lines[:12]):
        m = _MEETING.match(line)
        if m and len(line) <= 80 and not line.endswith("."):
            meeting = title_case(line.strip())
            break
    meeting_date = next(
        (find_date(ln) for ln in lines[:30] if _MEETING.match(ln) and _WEEKDAY.search(ln) and find_date(ln)),
        None,
    )
    report_date = meeting_date or report_date  # a covering letter is dated after the meeting it serves
    meta = {"title": title, "date": report_date, "council": council, "meeting": meeting}
    if path is not None:
        meta.update(_sidecar(Path(path)))
    return ReportMeta(**meta)
