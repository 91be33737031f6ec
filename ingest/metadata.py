"""Report metadata a member can quote: title, meeting date, council, meeting and committee, with their sources.

Each field comes from the first credible source of: the first page (cover sheets, "Subject:"/"To:" blocks, "Minutes
of a meeting of X held on ..."), the PDF metadata, the file name, the folder (``kent-county-council``), rejecting junk.
A council merely mentioned counts for less than one the cover names; a sidecar ``<file>.meta.json`` overrides all
(written by :mod:`ingest.edit` for a correction). The title rules are in :mod:`ingest.metadata_title`, the shared
words (dates, council and meeting names, the first page's lines) in :mod:`ingest.metadata_text`.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from ingest.listings import read_sidecar_json
from ingest.metadata_text import (
    _BODY_WORDS,
    _COUNCIL,
    _DAY_MONTH_YEAR,
    _GENERIC_NAME,
    _MEETING,
    _MEETING_PHRASE,
    _NOT_A_NAME,
    _NOT_MEETING_DATE,
    _WEEKDAY,
    _WELSH_COUNCIL,
    BODY,
    FILE_NAME,
    FIRST_PAGE,
    FOLDER,
    PDF_META,
    SIDECAR,
    _tidy_case,
    cased,
    find_date,
    is_council,
    keys_of,
    title_case,
    top_lines,
)
from ingest.metadata_title import find_title
from ingest.records import Document, ReportMeta

__all__ = ["SIDECAR", "SIDECAR_FIELDS", "extract_metadata", "find_date", "read_sidecar", "title_case"]
SIDECAR_FIELDS = ("title", "date", "council", "meeting", "committee")
"""The quoted fields a sidecar ``<file>.meta.json`` sets (it may hold others: listings, source URL)."""


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
        if i < 12 and is_council(line) and not _COUNCIL.fullmatch(line) and not _WELSH_COUNCIL.fullmatch(line):
            out.append(line)
    return [c for c in map(_canonical, out) if c]


def _distinct(name: str) -> set[str]:
    return set(re.findall(r"[a-z]+", name.lower())) - _GENERIC_NAME


def _folder_council(path: Path | None) -> str | None:
    """``kent-county-council`` -> "Kent County Council" when a folder is named after a council."""
    words = path.parent.name.lower().split("-") if path is not None else []
    if len(words) < 2 or words[-1] not in ("council", "authority") or not _distinct(" ".join(words)):
        return None
    return " ".join(cased(w, first=not i) for i, w in enumerate(words))


def _council(document: Document, top: list[str], folder: str | None) -> tuple[str | None, str, bool]:
    """(council, source, doubtful): the cover's council, weighed against mere mentions and the folder's council."""
    phrases = [m.group(1) for m in _MEETING_PHRASE.finditer(" ".join(_tidy_case(t) for t in top))]
    strong = {c for text in phrases if is_council(text) for c in _mentions([text])}
    strong |= {c for ln in [t for t in top if t][:12] for c in _mentions([ln]) if is_council(ln)}
    first = Counter(_mentions(top))
    scores: Counter[str] = Counter({name: 4 for name in strong})
    scores.update({name: min(n, 3) for name, n in first.items()})
    body = Counter(_mentions([ln for p in document.pages[1:30] for ln in p.lines]))
    scores.update({name: min(0.25 * n, 2) for name, n in body.items()})
    author = document.file_metadata.get("author", "")
    if author and is_council(author):
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


def read_sidecar(path: Path) -> dict[str, str]:
    """The quoted fields a sidecar ``<file>.meta.json`` beside ``path`` sets (none when there is none)."""
    data = read_sidecar_json(path)
    return {k: str(v) for k, v in data.items() if k in SIDECAR_FIELDS and v}


def extract_metadata(document: Document, path: str | Path | None = None) -> ReportMeta:
    """Title, date, council, meeting and committee of a report (a sidecar ``<file>.meta.json`` wins)."""
    path = Path(path) if path is not None else None
    top = top_lines(document)
    keys = keys_of(top)
    meeting, committee = _committee(top, keys)
    folder = _folder_council(path)
    council, council_src, council_weak = _council(document, top, folder)
    title, title_src, title_weak = find_title(document, top, keys, committee, council or folder)
    day, date_src, date_weak = _date(document, top, keys, Path(path.name if path else document.source).stem)
    fields = {"title": title, "date": day, "council": council, "meeting": meeting, "committee": committee}
    sources = dict(title=title_src, date=date_src, council=council_src, meeting=FIRST_PAGE, committee=FIRST_PAGE)
    doubtful = {name for name, weak in (("title", title_weak), ("date", date_weak or not day),
                                        ("council", council_weak or not council)) if weak}
    for key, value in (read_sidecar(path) if path is not None else {}).items():
        fields[key], sources[key] = value, SIDECAR
        doubtful.discard(key)
    provenance = tuple((k, sources[k]) for k in fields if fields[k])
    return ReportMeta(**fields, provenance=provenance, doubtful=tuple(sorted(doubtful)))
