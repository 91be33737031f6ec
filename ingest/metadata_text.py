"""The words of report metadata: dates, names of councils and meetings, title case, the first page.

Shared by :mod:`ingest.metadata` (date, council, committee) and :mod:`ingest.metadata_title`.
"""

from __future__ import annotations

import re
from datetime import date

from ingest.records import Document

FIRST_PAGE, PDF_META, FILE_NAME, FOLDER = "first page", "pdf metadata", "file name", "folder"
BODY, SIDECAR = "body text", "sidecar"
_MONTHS = {name: i for i, names in enumerate((
    "january jan ionawr|february feb chwefror|march mar mawrth|april apr ebrill|may mai|june jun mehefin|july jul "
    "gorffennaf|august aug awst|september sep sept medi|october oct hydref|november nov tachwedd|december dec rhagfyr"
).split("|"), start=1) for name in names.split()}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th|af|il|ydd|fed|ed|eg|ain|™)?\s+(?:of\s+)?({_MONTH_RE})"
                             r"\.?,?\s+((?:19|20)\d\d)\b", re.I)
_MONTH_DAY_YEAR = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b", re.I)
_ISO = re.compile(r"(?<!\d)((?:19|20)\d\d)[-_]?(\d\d)[-_]?(\d\d)(?!\d)")
_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})/((?:19|20)\d\d)\b")
_WEEKDAY = re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b", re.I)
_NOT_MEETING_DATE = re.compile(
    r"\b(?:published|printed|updated|issued|submitted|revised|deadline|created|version|produced|as at|until)\b", re.I)
_WORD = r"[A-Z][A-Za-z-]*(?:['’][A-Za-z]+)?"
_COUNCIL = re.compile(
    rf"\b((?:{_WORD} (?:(?:and|&|of|upon|on|under) )?){{1,4}}?(?:County|City|Borough|District|Town|Parish|Community"
    r"|Metropolitan)(?: (?:and )?(?:County|Borough|District))? Council)\b"
    rf"|\b((?:{_WORD} (?:(?:of|and) )?){{1,4}}(?:Mayoral )?Combined Authority)\b|\b(London Borough of [A-Z][a-z]+)\b")
_WELSH_COUNCIL = re.compile(
    r"\bCyngor (Cymuned|Tref|Sir|Dinas) ([A-Za-z'’-]{3,}(?: (?:a|ac|and|&) [A-Za-z'’-]{3,})?)", re.I)
_NOT_A_NAME = set(
    "the a an this that our your each every any budget draft full meeting report minutes agenda dear proposed annual "
    "youth and of recommendation recommendations council tax services members responses new current whole notes note "
    "see leader member cabinet chairman chair mayor chief executive officer submission by to from behalf internal "
    "external non enclosed light up councillors councillor cllr formal ordinary extraordinary special adjourned"
    .split()) | set(_MONTHS)
_GENERIC_NAME = set("council county city borough district community town parish metropolitan combined authority "
                    "mayoral london of and the a on upon".split())
_SMALL_WORDS = {"of", "the", "and", "for", "to", "in", "on", "at", "a", "an", "by", "with", "or", "upon"}
_BODY_WORDS = r"(?:Sub-Committee|Committee|Cabinet|Council|Board|Panel|Forum|Executive|Meeting)"
_MEETING = re.compile(
    r"^(?:meeting of (?:the )?)?((?:full |county |city )?council|cabinet|(?:[A-Z][\w&,' -]{0,60})?committee"
    r"|(?:[A-Z][\w&,' -]{0,40})?(?:board|panel|sub-committee|forum))\b", re.I)
_MEETING_PHRASE = re.compile(
    rf"\b(?i:meeting of|minutes of|report to|determined at|taken at|decisions? of)\s+(?i:the |a |an )?"
    rf"((?:[A-Z][\w&’'/-]*|and|&|of|the|for|on|upon)(?:\s+(?:[A-Z][\w&’'/-]*|and|&|of|the|for|on|upon)){{0,9}}?"
    rf"\s*\b{_BODY_WORDS})\b")
_KEY = re.compile(r"^(subject|title|report title|name of report|report to|to|committee|meeting|decision maker"
                  r"|date|date of meeting|meeting date)\s*:\s*(.*)$", re.I)
_TITLE_KEYS = ("subject", "title", "report title", "name of report")
_KEYLIKE = re.compile(r"^[A-Za-z][\w /()’'&-]{0,35}:(?:\s|$)")


_OCR_SPECK = re.compile(r"^(?:(?!(?:of|the|and|to|in|on|at|an?|by|for)\b)(?=[A-Za-z]*[a-z])[A-Za-z]{1,3}[:.,;]?\s+)+"
                        r"(?=(?:[A-Z]{2,}\b[\s,&'-]*)+$)")


def find_date(text: str) -> str | None:
    """The first full date in ``text`` (day month year, month day year, ISO, compact, d/m/y) as ``YYYY-MM-DD``."""
    found = []
    for rx, order in ((_DAY_MONTH_YEAR, (3, 2, 1)), (_MONTH_DAY_YEAR, (3, 1, 2)), (_ISO, (1, 2, 3)),
                      (_NUMERIC, (3, 2, 1))):
        for m in rx.finditer(text):
            y, mo, d = (m.group(i) for i in order)
            try:
                found.append((m.start(), date(int(y), int(mo) if mo.isdigit() else _MONTHS[mo.lower()], int(d))))
            except ValueError:
                continue
    return min(found)[1].isoformat() if found else None


_NOT_ABBREVIATIONS = frozenset("st mr mrs ms dr ltd cllr rd nr pp vs km kg ft sq cwm".split())
"""Words without a vowel that are not read letter by letter ("St", "Cllr", Welsh "Cwm")."""
_ABBREVIATIONS_WITH_VOWELS = frozenset({"uk", "eu"})


def is_abbreviation(word: str) -> bool:
    """Whether a word of a title in capitals is an abbreviation to keep in capitals ("MTFP", "NHS",
    "SC", "CCTV"): 2 to 5 letters and no vowel (a, e, i, o, u, y), which no English word of that
    length lacks but a few listed ones. A word with a "w" is left alone: Welsh reads it as a vowel
    ("Llwchwr"), so "JHWS" is not caught; nor are abbreviations with a vowel ("ICS", "SEND"), but
    "UK" and "EU"."""
    core = word.strip("()[]{},.;:!?'’\"“”").lower()
    if not core.isalpha() or not 2 <= len(core) <= 5 or "w" in core or core in _NOT_ABBREVIATIONS:
        return False
    return core in _ABBREVIATIONS_WITH_VOWELS or not set(core) & set("aeiouy")


def cased(word: str, first: bool = False) -> str:
    """A word of a title in capitals or of a folder's name, cased for a title: an abbreviation
    in capitals, a small word ("of", "the") small unless first, any other word capitalised."""
    if is_abbreviation(word):
        return word.upper()
    word = word.lower()
    return word if not first and word in _SMALL_WORDS else word[:1].upper() + word[1:]


def title_case(text: str) -> str:
    """``"ANNUAL REPORT OF THE CHIEF EXECUTIVE"`` -> ``"Annual Report of the Chief Executive"``;
    abbreviations stay in capitals (``"REVENUE BUDGET AND MTFP"`` -> ``"Revenue Budget and MTFP"``)."""
    if not text.isupper():
        first, _, rest = text.partition(" ")
        keep = not first.isupper() or len(first) <= 3 or is_abbreviation(first) or not rest
        return text if keep else first.capitalize() + " " + rest
    return " ".join(cased(w, first=not i) for i, w in enumerate(text.split()))


def _tidy_case(line: str) -> str:
    """A line in capitals in title case, so the names in it can be found."""
    letters = [c for c in line if c.isalpha()]
    caps = len(letters) >= 4 and sum(map(str.isupper, letters)) >= 0.8 * len(letters)
    return title_case(line.upper()) if caps else line


def top_lines(document: Document) -> list[str]:
    """The first page's lines (runs of blank lines kept as one ""), with page 2 when page 1 is nearly empty."""
    if not document.pages:
        return []
    pages = document.pages[:2] if sum(1 for ln in document.pages[0].lines if ln.strip()) < 4 else document.pages[:1]
    lines = [_ocr_clean(" ".join(ln.split()), page.scanned) for page in pages for ln in ("", *page.lines)]
    return [ln for i, ln in enumerate(lines) if ln or (i and lines[i - 1])][:120]


def _ocr_clean(line: str, scanned: bool) -> str:
    """A line read by OCR without the specks of a crest or margin read as letters before it
    ("nip MINUTES", "Se: FORMAL MEETING OF CITY COUNCIL"): a short token not in capitals before
    words in capitals. A line of a text page is left as printed."""
    return _OCR_SPECK.sub("", line) if scanned else line


def keys_of(top: list[str]) -> dict[str, str]:
    """``Subject:``/``To:``/``Date:`` values, a value on the next line and a wrapped value joined."""
    lines = re.sub(  # "REPORT" / "TITLE:" printed on two lines
        r"(?m)^([A-Za-z]+(?: [A-Za-z]+)?)\n([A-Za-z]+:)$", r"\1 \2", "\n".join(top)).split("\n")
    out: dict[str, str] = {}
    for i, line in enumerate(lines):
        m = _KEY.match(line)
        if not m:
            continue
        value, j = m.group(2).strip(), i + 1
        while not value and j < len(lines) and j <= i + 2:
            value, j = (lines[j], j + 1) if lines[j] and not _KEYLIKE.match(lines[j]) else ("", j + 1)
        for _ in range(2):
            nxt = lines[j] if j < len(lines) else ""
            if (value and nxt and not _KEYLIKE.match(nxt) and len(nxt.split()) <= 6 and not value.endswith(".")
                    and re.fullmatch(r"[\w(&][\w\s,&'’()/.–-]*", nxt) and not find_date(nxt)):
                value, j = f"{value} {nxt}", j + 1
        key = m.group(1).lower()
        out.setdefault("date" if "date" in key else "title" if key in _TITLE_KEYS else "meeting", value)
    return out


def is_council(text: str) -> bool:
    text = _tidy_case(text)
    return bool(_COUNCIL.fullmatch(text) or _WELSH_COUNCIL.fullmatch(text)
                or re.fullmatch(rf"{_WORD}(?: {_WORD})? Council", text) and text.split()[0].lower() not in
                _NOT_A_NAME | {"county", "city", "borough", "district", "town", "parish", "community"})
