"""Where a paper was considered: committee, meeting date and agenda item ("Cabinet, 30 Jan 2025, item 5").

A paper fetched from a council's committee system (:mod:`ingest.fetch`) gets a
``<file>.meta.json`` sidecar naming every place it is listed. :mod:`ingest.metadata` takes the
quoted fields (title, date, council, meeting, committee) from it; :func:`with_listing` adds
the meeting date, the agenda item and all the listings to the report's metadata.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ingest.errors import UnreadableReport
from ingest.records import ReportMeta

SIDECAR_SUFFIX = ".meta.json"


@dataclass(frozen=True)
class Listing:
    """One place a paper is listed: a committee's meeting, under an agenda item (or the meeting itself)."""

    committee_id: str
    committee: str
    meeting_id: str
    meeting_date: str | None
    item: str
    item_title: str
    attachment_id: str
    attachment_title: str
    url: str
    publication_date: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.meeting_id, self.item)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Listing:
        names = cls.__dataclass_fields__
        return cls(**{k: (str(v) if v is not None else None) for k, v in data.items() if k in names})


def sort_key(listing: Listing) -> tuple:
    return (listing.meeting_date or "9999", listing.meeting_id, listing.item.zfill(6))


def merge(old: list[Listing], new: list[Listing]) -> list[Listing]:
    """Every listing of both, once each (by meeting and item), earliest meeting first."""
    seen: dict[tuple[str, str], Listing] = {}
    for listing in [*old, *new]:
        seen.setdefault(listing.key, listing)
    return sorted(seen.values(), key=sort_key)


def paper_title(listing: Listing) -> str:
    """The title a citation shows: the paper's own, with its item's when the paper's is generic."""
    title = listing.attachment_title or listing.item_title or f"attachment {listing.attachment_id}"
    generic = len(title.split()) <= 2 or title.lower().startswith(("appendix", "annex", "report", "enc", "item"))
    if generic and listing.item_title and listing.item_title.lower() not in title.lower():
        return f"{listing.item_title}: {title}"
    return title


def sidecar_data(listings: list[Listing], site: str, council: str | None) -> dict:
    """The sidecar of a fetched paper: the first listing's provenance, and all listings."""
    first = sorted(listings, key=sort_key)[0]
    data = {
        "title": paper_title(first),
        "date": first.meeting_date,
        "council": council,
        "meeting": first.committee,
        "committee": first.committee,
        "committee_id": first.committee_id,
        "meeting_id": first.meeting_id,
        "meeting_date": first.meeting_date,
        "item": first.item,
        "item_title": first.item_title,
        "attachment_id": first.attachment_id,
        "attachment_title": first.attachment_title,
        "source_url": first.url,
        "publication_date": first.publication_date,
        "site": site,
        "listings": [x.to_json() for x in sorted(listings, key=sort_key)],
    }
    return {k: v for k, v in data.items() if v not in (None, "")}


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def read_sidecar_json(path: Path) -> dict:
    """The JSON object of the sidecar ``<file>.meta.json`` beside ``path`` (empty when there is
    none); a sidecar that is not a JSON object is an :class:`UnreadableReport` naming it."""
    sidecar = sidecar_path(Path(path))
    if not sidecar.exists():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnreadableReport(sidecar.name, f"sidecar metadata is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise UnreadableReport(sidecar.name, "sidecar metadata must be a JSON object")
    return data


def with_listing(meta: ReportMeta, path: Path) -> ReportMeta:
    """``meta`` with the meeting date, agenda item and listings its sidecar records (if any)."""
    data = read_sidecar_json(path)
    if not data:
        return meta
    raw = data.get("listings") if isinstance(data.get("listings"), list) else []
    listings = tuple(Listing.from_json(x) for x in raw if isinstance(x, dict))
    meeting_date = str(data["meeting_date"]) if data.get("meeting_date") else None
    item = str(data["item"]) if data.get("item") else None
    if not (meeting_date or item or listings):
        return meta
    return replace(meta, meeting_date=meeting_date, item=item,
                   listings=json.dumps([x.to_json() for x in listings], ensure_ascii=False) if listings else "")
