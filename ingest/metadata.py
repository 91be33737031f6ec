"""Report metadata a member can quote: title, meeting date, council, meeting and committee, with their sources.

Each field comes from the first credible source of: the first page (cover sheets, "Subject:"/"To:" blocks, "Minutes
of a meeting of X held on ..."), the PDF metadata, the file name, the folder (``kent-county-council``), rejecting junk.
A council merely mentioned counts for less than one the cover names; a sidecar ``<file>.meta.json`` overrides all.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

from ingest.errors import UnreadableReport
from ingest.records import Document, ReportMeta

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
    "external non enclosed light up councillors councillor cllr".split()) | set(_MONTHS)
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
_NORM = re.compile(r"[\d\s|.]+")  # a line's shape, for spotting running headers
_CONNECTOR = re.compile(r"(?:[,&:–-]|\b(?:and|of|for|to|the|in|on|at|a|an|with|by))$", re.I)


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


def title_case(text: str) -> str:
    """``"ANNUAL REPORT OF THE CHIEF EXECUTIVE"`` -> ``"Annual Report of the Chief Executive"``."""
    if not text.isupper():
        first, _, rest = text.partition(" ")
        return first.capitalize() + " " + rest if first.isupper() and len(first) > 3 and rest else text
    words = text.lower().split()
    return " ".join(w if i and w in _SMALL_WORDS else w[:1].upper() + w[1:] for i, w in enumerate(words))


def _tidy_case(line: str) -> str:
    """A line in capitals in title case, so the names in it can be found."""
    letters = [c for c in line if c.isalpha()]
    caps = len(letters) >= 4 and sum(map(str.isupper, letters)) >= 0.8 * len(letters)
    return title_case(line.upper()) if caps else line


def _top(document: Document) -> list[str]:
    """The first page's lines (runs of blank lines kept as one ""), with page 2 when page 1 is nearly empty."""
    if not document.pages:
        return []
    pages = document.pages[:2] if sum(1 for ln in document.pages[0].lines if ln.strip()) < 4 else document.pages[:1]
    lines = [" ".join(ln.split()) for page in pages for ln in ("", *page.lines)]
    return [ln for i, ln in enumerate(lines) if ln or (i and lines[i - 1])][:120]


def _running_headers(document: Document) -> set[str]:
    """Lines at the top of several of the first pages: running headers, never the title itself."""
    tops = [[ln for ln in page.lines if ln.strip()][:4] for page in document.pages[:6]]
    seen = Counter(k for lines in tops for k in {_NORM.sub(" ", ln.lower()).strip() for ln in lines} if k)
    return {k for k, n in seen.items() if n >= 2} if len(document.pages) > 1 else set()


def _keys(top: list[str]) -> dict[str, str]:
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


def _body_name(text: str) -> str | None:
    """The committee or meeting a phrase names, cut before any date, time, place or weekday."""
    text = re.split(r"\s+(?:held|will|on|at \d)\b|[,.;(–]|\s-\s|\s\d|\s(?:mon|tues|wednes|thurs|fri|satur|sun)day",
                    _tidy_case(text.strip()), maxsplit=1, flags=re.I)[0].strip()
    text = re.sub(r"^(?:the|a|an)\s+", "", re.sub(r"\s+of the above\s+\w+$", "", text), flags=re.I)
    ok = text[:1].isupper() and len(text.split()) <= 10 and " at " not in f" {text} "
    return text if ok and re.search(rf"\b{_BODY_WORDS}$", text, re.I) else None


def _committee(top: list[str], keys: dict[str, str]) -> tuple[str | None, str | None]:
    """(meeting, committee): the meeting as printed and the body holding it."""
    names = [_body_name(keys["meeting"])] if "meeting" in keys else []
    head = " ".join(_tidy_case(ln) for ln in top[:60] if ln and not re.match(r"^\d+\.?\s", ln))
    names += [_body_name(m.group(1)) for m in _MEETING_PHRASE.finditer(head)]
    names += [_body_name(t) for t in [t for t in top if t][:8] if _MEETING.fullmatch(t.strip(" .")) and len(t) < 80]
    names = [n for n in names if n and len(n.split()) >= (1 if n.lower() != "meeting" else 2)]
    committee = next((n for n in names if not n.lower().endswith("meeting")), None)
    return (names[0] if names else None), committee


def _date(document: Document, top: list[str], keys: dict[str, str], stem: str) -> tuple[str | None, str, bool]:
    """(date, source, doubtful): the meeting date page 1 prints, else the PDF title, else the file name."""
    ranked: list[tuple[int, int, str]] = []
    for i, line in enumerate(ln for ln in top if ln):
        found = find_date(line)
        if not found or _NOT_MEETING_DATE.search(line):
            continue
        rest = re.sub(r"\W+", " ", _DAY_MONTH_YEAR.sub(" ", line)).split()
        rank = (0 if _WEEKDAY.search(line) or _MEETING.match(line) or re.match(r"^to:?\s", line, re.I)
                else 1 if re.search(r"\b(?:meeting|held)\s+on\b", line, re.I) and not re.match(r"^\d", line)
                else 2 if len(rest) <= 3 else 3 if len(line.split()) <= 12 else 9)
        ranked.append((rank, i, found))
    keyed = ((0, find_date(keys.get("meeting", ""))), (1, find_date(keys.get("date", ""))))
    ranked += [(r, -1, d) for r, d in keyed if d]
    best = min((r for r in ranked if r[0] < 9), default=(9, 0, None))
    if best[0] <= 2:
        return best[2], FIRST_PAGE, False
    named = [find_date(document.file_metadata.get(k) or "") for k in ("title", "subject")]
    if any(named):
        return next(d for d in named if d), PDF_META, True
    named = [find_date(stem) or find_date(re.sub(r"(?<=[A-Za-z0-9])-(?=[A-Za-z])|(?<=[A-Za-z])-(?=\d)|_", " ", stem))]
    return (named[0], FILE_NAME, True) if named[0] else (best[2], FIRST_PAGE, True)


def _rejected(line: str) -> bool:
    words = line.split()
    return (len(line) < 6 or not (line[:1].isupper() or line[:1].isdigit()) or bool(_NOT_A_TITLE.match(line))
            or bool(_FURNITURE.search(line)) or len(re.findall(r"(?<![\w-])\d[\d,.-]*\b", line)) >= 3
            or (bool(_KEYLIKE.match(line)) and not _SUBTITLED.match(line))
            or (find_date(line) is not None and not line.lower().startswith("minutes of"))
            or (bool(_ADDRESS.search(line)) and ("," in line or line.endswith("."))) or line.count(",") >= 2
            or (line.endswith(".") and (len(words) <= 5 or len(words) > 8)))


def _is_council(text: str) -> bool:
    text = _tidy_case(text)
    return bool(_COUNCIL.fullmatch(text) or _WELSH_COUNCIL.fullmatch(text)
                or re.fullmatch(rf"{_WORD}(?: {_WORD})? Council", text) and text.split()[0].lower() not in
                _NOT_A_NAME | {"county", "city", "borough", "district", "town", "parish", "community"})


def _join(top: list[str], i: int) -> str:
    """A title line with the lines it wraps onto."""
    title, j = top[i], i + 1
    while j < len(top) and top[j] and len(title.split()) <= 16:
        nxt = top[j]
        if _KEYLIKE.match(nxt) or find_date(nxt) or _is_council(nxt):
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
        if _is_council(raw) or _is_council(_join(top, i)):
            letterhead = i if letterhead < 0 else letterhead
            continue
        if skip or re.match(r"^(?:by|from)\b", raw, re.I):
            skip = skip or bool(re.match(r"^(?:by|from)\b", raw, re.I))
            continue
        text = _clean_title(_join(top, i))
        if _rejected(raw) or _MEETING.fullmatch(raw) or len(text.split()) > 16 or _JUNK_TITLE.match(text):
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


def _title(document: Document, top: list[str], keys: dict[str, str], committee: str | None,
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
        return value, source, source in (FILE_NAME, FOLDER)
    return (kind[0], kind[1], True) if kind else (re.sub(r"[_-]+", " ", stem).strip() or stem, FILE_NAME, True)


def _canonical(name: str) -> str | None:
    """A council name without leading sentence words ("Budget County Council" -> None)."""
    welsh = _WELSH_COUNCIL.fullmatch(name)
    if welsh:
        place = re.sub(r"\s+(?:a|ac|&)\s+", " and ", title_case(welsh.group(2).upper()))
        kind = {"cymuned": "Community", "tref": "Town", "sir": "County", "dinas": "City"}[welsh.group(1).lower()]
        return f"{place} {kind} Council"
    words = name.split()
    while words and (words[0].lower() in _NOT_A_NAME or words[1:2] == words[:1] or re.search(r"['’]s$", words[0])):
        words = words[1:]
    if len(words) < 2 or words[0] in ("County", "City", "Borough", "District", "Combined", "Mayoral"):
        return None
    return " ".join(words)


def _mentions(lines: list[str]) -> list[str]:
    out = []
    lines = [_tidy_case(ln.strip()) for ln in lines if ln.strip()]
    for i, line in enumerate(lines):
        text = line + (" " + lines[i + 1] if i + 1 < len(lines) else "")
        out += [next(g for g in m.groups() if g) for m in _COUNCIL.finditer(text) if m.start() < len(line)]
        out += [m.group(0) for m in _WELSH_COUNCIL.finditer(line)]
        if i < 12 and _is_council(line) and not _COUNCIL.fullmatch(line) and not _WELSH_COUNCIL.fullmatch(line):
            out.append(line)
    return [c for c in map(_canonical, out) if c]


def _distinct(name: str) -> set[str]:
    return set(re.findall(r"[a-z]+", name.lower())) - _GENERIC_NAME


def _folder_council(path: Path | None) -> str | None:
    """``kent-county-council`` -> "Kent County Council" when a folder is named after a council."""
    words = path.parent.name.lower().split("-") if path is not None else []
    if len(words) < 2 or words[-1] not in ("council", "authority") or not _distinct(" ".join(words)):
        return None
    return " ".join(w if i and w in _SMALL_WORDS else w.capitalize() for i, w in enumerate(words))


def _council(document: Document, top: list[str], folder: str | None) -> tuple[str | None, str, bool]:
    """(council, source, doubtful): the cover's council, weighed against mere mentions and the folder's council."""
    phrases = [m.group(1) for m in _MEETING_PHRASE.finditer(" ".join(_tidy_case(t) for t in top))]
    strong = {c for text in phrases if _is_council(text) for c in _mentions([text])}
    strong |= {c for ln in [t for t in top if t][:12] for c in _mentions([ln]) if _is_council(ln)}
    first = Counter(_mentions(top))
    scores: Counter[str] = Counter({name: 4 for name in strong})
    scores.update({name: min(n, 3) for name, n in first.items()})
    body = Counter(_mentions([ln for p in document.pages[1:30] for ln in p.lines]))
    scores.update({name: min(0.25 * n, 2) for name, n in body.items()})
    author = document.file_metadata.get("author", "")
    if author and _is_council(author):
        scores[author] += 2
    same = [k for k in scores if folder and _distinct(k) == _distinct(folder)]
    scores.update({k: 3 for k in same} if same or not folder else {folder: 2.5})
    for k in [k for k in scores if any(o.endswith(" of " + k) and scores[o] >= scores[k] for o in scores)]:
        scores.pop(k)  # "England Combined Authority" is the tail of "West of England ..."
    if not scores:
        return None, FIRST_PAGE, True
    best = max(scores, key=lambda k: (scores[k], k in first, len(k)))
    if best in first or best in strong:
        return best, FIRST_PAGE, False
    if folder and _distinct(best) == _distinct(folder):
        return best, FOLDER, False
    return best, (PDF_META if best == author else BODY), True


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
    return {k: str(v) for k, v in data.items() if k in ("title", "date", "council", "meeting", "committee") and v}


def extract_metadata(document: Document, path: str | Path | None = None) -> ReportMeta:
    """Title, date, council, meeting and committee of a report (a sidecar ``<file>.meta.json`` wins)."""
    path = Path(path) if path is not None else None
    top = _top(document)
    keys = _keys(top)
    meeting, committee = _committee(top, keys)
    folder = _folder_council(path)
    council, council_src, council_weak = _council(document, top, folder)
    title, title_src, title_weak = _title(document, top, keys, committee, council or folder)
    day, date_src, date_weak = _date(document, top, keys, Path(path.name if path else document.source).stem)
    fields = {"title": title, "date": day, "council": council, "meeting": meeting, "committee": committee}
    sources = dict(title=title_src, date=date_src, council=council_src, meeting=FIRST_PAGE, committee=FIRST_PAGE)
    doubtful = {name for name, weak in (("title", title_weak), ("date", date_weak or not day),
                                        ("council", council_weak or not council)) if weak}
    for key, value in (_sidecar(path) if path is not None else {}).items():
        fields[key], sources[key] = value, SIDECAR
        doubtful.discard(key)
    provenance = tuple((k, sources[k]) for k in fields if fields[k])
    return ReportMeta(**fields, provenance=provenance, doubtful=tuple(sorted(doubtful)))
