"""Fetch a council's committee papers for a date window from ModernGov, once each, with provenance.

``GetCommittees`` -> the meetings in the window (``GetAllMeetingsByDate`` for every committee,
or ``GetMeetings`` per committee) -> ``GetMeeting`` for each -> every public paper that is a
file (not restricted, not a bare link) is downloaded by plain GET of its url, once, into
``DEST`` with a ``<file>.meta.json`` sidecar (:mod:`ingest.listings`), then ingested.

Incremental: ``DEST/.fetched.json`` (the ledger) records each attachment id with its file,
SHA-256 and validators; a paper already fetched is not asked for again, and a paper whose
bytes are those of another (listed under two items or meetings) is stored and indexed once
with both listings. Files, sidecars and the ledger are written aside and moved into place
(``os.replace``), so an error leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from ingest.errors import ApiDisabled, BadWindow
from ingest.listings import Listing, merge, sidecar_data, sidecar_path
from ingest.moderngov import Committee, Meeting, MeetingStub, ModernGov
from ingest.readers import SUPPORTED_SUFFIXES
from ingest.web import HttpClient, Polite, Response

LEDGER = ".fetched.json"
Log = Callable[[str], None]


def parse_window(start: str, end: str) -> tuple[date, date]:
    """``--from`` and ``--to`` as dates (YYYY-MM-DD), in order; else ``BadWindow``."""
    days = []
    for value in (start, end):
        try:
            days.append(date.fromisoformat((value or "").strip()))
        except ValueError:
            raise BadWindow(start, end, f"{value!r} is not a date like 2025-01-30 (year-month-day)") from None
    if days[0] > days[1]:
        raise BadWindow(start, end, "the start is after the end")
    return days[0], days[1]


def counted(n: int, thing: str) -> str:
    """``1 restricted paper``, ``2 restricted papers``, ``2 meetings outside the window``."""
    if n == 1:
        return f"1 {thing}"
    return f"{n} " + re.sub(r"\b(meeting|paper|duplicate)\b", r"\1s", thing, count=1)


def default_dest(base_url: str) -> Path:
    return Path("corpus") / "moderngov" / (urlsplit(base_url.strip()).hostname or "site")


@dataclass
class Paper:
    """One paper to fetch and every place it is listed."""

    key: str
    url: str
    listings: list[Listing] = field(default_factory=list)


@dataclass
class FetchResult:
    site: str
    dest: Path
    window: tuple[str, str]
    meetings: int = 0
    papers: int = 0
    downloaded: list[str] = field(default_factory=list)
    already: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    ingest: object | None = None

    def skip(self, why: str, n: int = 1) -> None:
        """Count a thing left out, named in the singular ("restricted paper")."""
        self.skipped[why] = self.skipped.get(why, 0) + n


# -- the ledger ------------------------------------------------------------------------
class Ledger:
    """``DEST/.fetched.json``: attachment id -> file, sha256, validators, listings."""

    def __init__(self, dest: Path) -> None:
        self.path = dest / LEDGER
        self.docs: dict[str, dict] = {}
        if self.path.exists():
            try:
                self.docs = json.loads(self.path.read_text(encoding="utf-8")).get("documents", {})
            except (OSError, ValueError, AttributeError):
                self.docs = {}  # a damaged ledger only costs a download of each paper again

    def entry(self, key: str) -> dict | None:
        entry = self.docs.get(key)
        while entry is not None and entry.get("same_as"):
            entry = self.docs.get(entry["same_as"])
        return entry

    def by_sha(self, digest: str) -> str | None:
        return next((k for k, v in self.docs.items() if v.get("sha256") == digest and v.get("file")), None)

    def files(self, dest: Path) -> list[Path]:
        return [dest / v["file"] for v in self.docs.values() if v.get("file") and (dest / v["file"]).exists()]

    def save(self, site: str) -> None:
        write_atomic(self.path, json.dumps({"site": site, "documents": self.docs}, indent=1).encode())


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# -- the walk --------------------------------------------------------------------------
def choose_committees(all_: list[Committee], wanted: Sequence[str], include_expired: bool) -> list[Committee]:
    by_id = {c.id: c for c in all_}
    if wanted:
        return [by_id.get(str(w)) or Committee(str(w), f"committee {w}") for w in wanted]
    return [c for c in all_ if include_expired or not (c.expired or c.deleted)]


def _listing(mg: ModernGov, chosen: list[Committee] | None, explicit: bool,
             window: tuple[date, date]) -> list[MeetingStub]:
    """The service's meetings for the window: every committee's at once, else committee by committee."""
    if not explicit:
        try:
            stubs = mg.meetings(None, *window)
        except ApiDisabled:
            if chosen is None:
                raise
        else:
            if all(s.committee_id for s in stubs):
                return stubs
            if chosen is None:
                raise ApiDisabled(mg.service, "GetCommittees failed and the meetings listing names no committees")
    return [s for c in chosen or () for s in mg.meetings(c, *window)]


def list_meetings(mg: ModernGov, chosen: list[Committee] | None, explicit: bool, window: tuple[date, date],
                  result: FetchResult, excluded: frozenset[str] = frozenset()) -> list[MeetingStub]:
    """The meetings inside the window, each once, not cancelled: of the committees ``chosen`` when
    ``explicit``, else of every committee but the ``excluded`` (expired or deleted) ones."""
    stubs = _listing(mg, chosen, explicit, window)
    titles = {c.id: c.title for c in chosen or ()}
    lo, hi = window[0].isoformat(), window[1].isoformat()
    out: dict[str, MeetingStub] = {}
    for s in stubs:
        if (explicit and s.committee_id not in titles) or s.committee_id in excluded or s.id in out:
            continue
        if s.date is None or not lo <= s.date <= hi:
            result.skip("meeting outside the window")
        elif s.cancelled:
            result.skip("cancelled meeting")
        else:
            title = s.committee_title or titles.get(s.committee_id) or f"committee {s.committee_id}"
            out[s.id] = MeetingStub(s.id, s.date, s.committee_id, title, s.status)
    return sorted(out.values(), key=lambda s: (s.date or "", s.id))


def collect_papers(mg: ModernGov, meeting: Meeting, papers: dict[str, Paper], result: FetchResult) -> None:
    """Add the public file papers of one meeting to ``papers`` (keyed by attachment id, else url)."""
    places = [(item.number, item.title, item.restricted, item.docs) for item in meeting.items]
    places.append(("", "", False, meeting.docs))
    for number, title, restricted, docs in places:
        for doc in docs:
            if restricted or doc.restricted:
                result.skip("restricted paper")
                continue
            if doc.is_url or not doc.url:
                result.skip("link-only paper")
                continue
            url = mg.document_url(doc.url)
            if urlsplit(url).scheme not in ("http", "https"):
                result.skip("link-only paper")
                continue
            key = doc.attachment_id or "u" + hashlib.sha1(url.encode()).hexdigest()[:12]
            listing = Listing(meeting.committee_id, meeting.committee_title, meeting.id, meeting.date, number, title,
                              key, doc.title, url, doc.publication_date)
            paper = papers.setdefault(key, Paper(key, url))
            paper.listings = merge(paper.listings, [listing])


def walk(mg: ModernGov, window: tuple[date, date], committees: Sequence[str], include_expired: bool,
         result: FetchResult, log: Log) -> dict[str, Paper]:
    try:
        known = mg.committees()
    except ApiDisabled:
        if committees:
            raise
        known = None  # no committee register: take the committees the meetings listing names
    chosen = choose_committees(known, committees, include_expired) if known is not None else None
    excluded = frozenset(c.id for c in known or () if (c.expired or c.deleted) and not include_expired)
    stubs = list_meetings(mg, chosen, bool(committees), window, result, excluded)
    result.meetings = len(stubs)
    papers: dict[str, Paper] = {}
    for stub in stubs:
        meeting = mg.meeting(stub)
        if meeting.cancelled:
            result.skip("cancelled meeting")
            continue
        before = len(papers)
        collect_papers(mg, meeting, papers, result)
        log(f"{meeting.committee_title}, {meeting.date}: {counted(len(papers) - before, 'new paper')}")
    result.papers = len(papers)
    return papers


# -- downloads -------------------------------------------------------------------------
def suffix_of(response: Response, data: bytes, url: str) -> str | None:
    """The file type of a downloaded paper, from its bytes, then its headers and url."""
    ctype = response.header("content-type").lower()
    named = re.search(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)', response.header("content-disposition"), re.I)
    names = [named.group(1) if named else "", urlsplit(url).path]
    suffixes = [Path(n).suffix.lower() for n in names if Path(n).suffix]
    if data.startswith(b"%PDF"):
        return ".pdf"
    if data.startswith(b"PK") and ("wordprocessingml" in ctype or ".docx" in suffixes):
        return ".docx"
    if "text/markdown" in ctype:
        return ".md"
    if "text/plain" in ctype:
        return ".txt"
    return next((s for s in suffixes if s in SUPPORTED_SUFFIXES and s not in (".pdf", ".docx")), None)


def file_name(key: str, title: str, suffix: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].rstrip("-") or "paper"
    return f"{re.sub(r'[^A-Za-z0-9]+', '', key)[:20]}-{slug}{suffix}"


class Fetcher:
    """Downloads the papers of a walk once each, with their sidecars, keeping the ledger."""

    def __init__(self, mg: ModernGov, dest: Path, council: str | None, result: FetchResult, log: Log) -> None:
        self.mg, self.dest, self.council, self.result, self.log = mg, dest, council, result, log
        self.ledger = Ledger(dest)
        self.relisted: list[str] = []
        """Files given a new listing: their index rows are replaced on the next ingest."""

    def run(self, papers: dict[str, Paper]) -> None:
        for paper in sorted(papers.values(), key=lambda p: p.listings[0].meeting_date or ""):
            entry = self.ledger.entry(paper.key)
            if entry is not None and (not entry.get("file") or (self.dest / entry["file"]).exists()):
                if entry.get("file") and _published(paper) > (entry.get("publication_date") or "9999"):
                    self._refresh(paper, entry)  # republished since: ask again, with its validators
                else:
                    self._known(paper, entry)
                continue
            self._download(paper)

    def _refresh(self, paper: Paper, entry: dict) -> None:
        """A stored paper listed with a later publication date: fetched again only if it changed."""
        asked = {"If-None-Match": entry.get("etag") or "", "If-Modified-Since": entry.get("last_modified") or ""}
        response = self.mg.http.get(entry.get("url") or paper.url, {k: v for k, v in asked.items() if v})
        digest = hashlib.sha256(response.body).hexdigest() if response.status == 200 and response.body else None
        if response.status not in (200, 304) or (response.status == 200 and digest is None):
            self.result.failed.append(f"{paper.url}: HTTP {response.status}")
            return
        entry["publication_date"] = _published(paper)
        if digest is not None and digest != entry.get("sha256"):
            write_atomic(self.dest / entry["file"], response.body)
            entry.update(sha256=digest, etag=response.header("etag"), last_modified=response.header("last-modified"))
            self.result.downloaded.append(entry["file"])
            self.log(f"downloaded {entry['file']} (republished)")
            self._merge(paper, entry)
        else:
            self._known(paper, entry)
        self.ledger.save(self.mg.base)

    def _known(self, paper: Paper, entry: dict) -> None:
        self.result.already += 1
        self._merge(paper, entry)

    def _merge(self, paper: Paper, entry: dict) -> None:
        """Add the paper's listings to a stored paper's (its sidecar and ledger entry)."""
        old = [Listing.from_json(x) for x in entry.get("listings", [])]
        listings = merge(old, paper.listings)
        if entry.get("file") and _published(paper) > (entry.get("publication_date") or ""):
            entry["publication_date"] = _published(paper)  # the same bytes, listed again later
            self.ledger.save(self.mg.base)
        if listings != old and entry.get("file"):
            entry["listings"] = [x.to_json() for x in listings]
            self._write_sidecar(self.dest / entry["file"], listings)
            self.relisted.append(entry["file"])
            self.ledger.save(self.mg.base)

    def _download(self, paper: Paper) -> None:
        response = self.mg.http.get(paper.url)
        if response.status != 200 or not response.body:
            self.result.failed.append(f"{paper.url}: HTTP {response.status}")
            self.log(f"failed {paper.url}: HTTP {response.status}")
            return
        digest = hashlib.sha256(response.body).hexdigest()
        same = self.ledger.by_sha(digest)
        if same is not None:  # the same bytes under another attachment id: stored once
            self.ledger.docs[paper.key] = {"same_as": same, "url": paper.url}
            self.result.skip("duplicate of a paper already stored")
            self._merge(paper, self.ledger.docs[same])
            self.ledger.save(self.mg.base)
            return
        entry = {"url": paper.url, "sha256": digest, "etag": response.header("etag"),
                 "last_modified": response.header("last-modified"), "publication_date": _published(paper),
                 "listings": [x.to_json() for x in paper.listings]}
        suffix = suffix_of(response, response.body, paper.url)
        if suffix is None:
            entry["file"] = None
            self.result.skip("paper of an unsupported file type")
        else:
            entry["file"] = file_name(paper.key, paper.listings[0].attachment_title, suffix)
            path = self.dest / entry["file"]
            self._write_sidecar(path, paper.listings)
            write_atomic(path, response.body)
            self.result.downloaded.append(entry["file"])
            self.log(f"downloaded {entry['file']}")
        self.ledger.docs[paper.key] = entry
        self.ledger.save(self.mg.base)

    def _write_sidecar(self, path: Path, listings: list[Listing]) -> None:
        data = sidecar_data(listings, self.mg.base, self.council)
        write_atomic(sidecar_path(path), json.dumps(data, indent=1, ensure_ascii=False).encode())


def _published(paper: Paper) -> str:
    """The latest publication date any listing of the paper gives ("" when none does)."""
    return max((x.publication_date or "" for x in paper.listings), default="")


def fetch_moderngov(
    base_url: str, start: str, end: str, *, committees: Sequence[str] = (), dest: str | Path | None = None,
    include_expired: bool = False, council: str | None = None, index_dir: str | Path | None = None,
    embedder: object | None = None, model: str | None = None, polite: Polite | None = None,
    log: Log = lambda line: None, on_result: Callable | None = None,
) -> FetchResult:
    """Fetch the public papers of ``start``..``end`` (ISO) from a ModernGov site into ``dest``,
    then (with ``index_dir``) ingest every paper fetched so far from it."""
    window = parse_window(start, end)
    mg = ModernGov(base_url, HttpClient(polite))
    dest = Path(dest) if dest else default_dest(mg.base)
    result = FetchResult(mg.base, dest, (window[0].isoformat(), window[1].isoformat()))
    papers = walk(mg, window, committees, include_expired, result, log)
    dest.mkdir(parents=True, exist_ok=True)
    fetcher = Fetcher(mg, dest, council, result, log)
    fetcher.run(papers)
    result.files = fetcher.ledger.files(dest)
    if index_dir is not None and result.files:
        from ingest.index import ingest_paths, remove_report

        for name in dict.fromkeys(fetcher.relisted):  # unchanged bytes, new listing: read again
            remove_report(index_dir, name)
        result.ingest = ingest_paths(result.files, index_dir, embedder=embedder, model=model,  # type: ignore[arg-type]
                                     on_result=on_result)
    return result
