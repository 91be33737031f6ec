"""The ModernGov web service (``<site>/mgWebService.asmx``): committees, meetings, agenda papers.

How the service behaves, as public scrapers found it and as handled here:

* dates go as ``dd/mm/yyyy`` both ways; an ISO date is silently ignored and the service
  returns a capped dump of everything, so ISO is never sent and the meetings returned are
  filtered to the window here as well;
* ``lCommitteeId=-1`` means every committee (``0`` means none);
* counts may carry leading spaces, booleans are the strings ``True``/``False``, and some
  installs encode entities twice (``&amp;amp;``);
* HTTP GET (``mgWebService.asmx/<Operation>?...``) is tried first; where GET is switched off
  the same operation is sent as SOAP 1.1 (``SOAPAction: http://moderngov.co.uk/namespaces/<Operation>``);
  a result wrapped in a SOAP envelope, or returned as escaped XML text, is unwrapped.

XML is parsed with the standard library after refusing any document type declaration, so no
entity expansion or external entity can happen.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote, urlencode, urljoin, urlsplit

from ingest.errors import ApiDisabled
from ingest.web import HttpClient, Response

NAMESPACE = "http://moderngov.co.uk/namespaces"
SERVICE = "mgWebService.asmx"
ALL_COMMITTEES = -1
"""``lCommitteeId`` for every committee; 0 is not "all" (it returns nothing)."""
_GET_RETRY = frozenset({429, 502, 503, 504})
GET_DISABLED = frozenset({404, 405, 500, 501})
"""Answers to a GET that mean "try SOAP" (ASP.NET answers 500 when the HTTP GET protocol is off)."""


def uk_date(day: date) -> str:
    """The only date form the service honours: ``dd/mm/yyyy``."""
    return day.strftime("%d/%m/%Y")


def parse_date(text: str | None) -> str | None:
    """A date as the service prints it (``30/01/2025``, ``30/01/2025 10:00:00``, or ISO) -> ISO."""
    value = (text or "").strip()
    match = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})", value)
    try:
        if match:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1))).isoformat()
        match = re.match(r"^(\d{4})-(\d{2})-(\d{2})", value)
        if match:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3))).isoformat()
    except ValueError:
        return None
    return None


def clean(text: str | None) -> str:
    """Text of an element: entities decoded (twice-encoded ones too), spaces collapsed."""
    value = text or ""
    for _ in range(3):
        if not re.search(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);", value):
            break
        value = html.unescape(value)
    return " ".join(value.split())


def site_base(url: str) -> str:
    """``https://democracy.x.gov.uk/`` or ``…/mgWebService.asmx`` -> ``https://democracy.x.gov.uk``."""
    base = url.strip().rstrip("/")
    if base.lower().endswith("/" + SERVICE.lower()):
        base = base[: -len(SERVICE) - 1]
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ApiDisabled(url, "not an http(s) address of a ModernGov site")
    return base


# -- records ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Committee:
    id: str
    title: str
    expired: bool = False
    deleted: bool = False


@dataclass(frozen=True)
class MeetingStub:
    id: str
    date: str | None
    committee_id: str
    committee_title: str
    status: str = ""

    @property
    def cancelled(self) -> bool:
        return "cancel" in self.status.lower()


@dataclass(frozen=True)
class LinkedDoc:
    attachment_id: str
    title: str
    url: str
    restricted: bool
    is_url: bool
    publication_date: str | None


@dataclass(frozen=True)
class AgendaItem:
    number: str
    title: str
    restricted: bool
    docs: tuple[LinkedDoc, ...]


@dataclass(frozen=True)
class Meeting:
    id: str
    date: str | None
    status: str
    committee_id: str
    committee_title: str
    items: tuple[AgendaItem, ...]
    docs: tuple[LinkedDoc, ...] = ()
    """Papers linked to the meeting itself rather than to an agenda item."""

    @property
    def cancelled(self) -> bool:
        return "cancel" in self.status.lower()


# -- XML -------------------------------------------------------------------------------
def parse_xml(data: bytes, what: str) -> ET.Element:
    """Parse a service answer; a DTD or entity declaration is refused, never expanded."""
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise ApiDisabled(what, "the answer declares a document type or entities, which are refused")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ApiDisabled(what, f"the answer is not XML ({exc})") from exc
    return unwrap(root, what)


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def unwrap(root: ET.Element, what: str) -> ET.Element:
    """The payload of a SOAP envelope (``<XResult>``), or of a result holding escaped XML text."""
    if local(root.tag) == "envelope":
        result = next((e for e in root.iter() if local(e.tag).endswith("result")), None)
        if result is None:
            fault = next((e for e in root.iter() if local(e.tag) == "faultstring"), None)
            raise ApiDisabled(what, f"SOAP fault: {clean(fault.text) if fault is not None else 'no result'}")
        root = result
    if len(root) == 0 and (root.text or "").lstrip().startswith("<"):
        return parse_xml(root.text.strip().encode("utf-8"), what)
    return root


def _text(node: ET.Element, name: str) -> str:
    for child in node:
        if local(child.tag) == name:
            return clean(child.text)
    return ""


def _flag(node: ET.Element, name: str) -> bool:
    return _text(node, name).lower() == "true"


def _all(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if local(e.tag) == name]


def parse_committees(root: ET.Element) -> list[Committee]:
    out = []
    for node in _all(root, "committee"):
        cid = _text(node, "committeeid")
        if cid:
            title = _text(node, "committeetitle") or _text(node, "committeename") or f"committee {cid}"
            out.append(Committee(cid, title, _flag(node, "committeeexpired"), _flag(node, "committeedeleted")))
    return out


def parse_meetings(root: ET.Element, committee: Committee | None = None) -> list[MeetingStub]:
    """Meetings of a ``GetMeetings``/``GetAllMeetingsByDate`` answer (committee from the listing or ``committee``)."""
    out = []
    for node in _all(root, "meeting"):
        mid = _text(node, "meetingid")
        if not mid:
            continue
        cid = _text(node, "committeeid") or (committee.id if committee else "")
        title = _text(node, "committeetitle") or _text(node, "committeename") or (committee.title if committee else "")
        out.append(MeetingStub(mid, parse_date(_text(node, "meetingdate")), cid, title, _text(node, "meetingstatus")))
    return out


def _docs(container: ET.Element) -> tuple[LinkedDoc, ...]:
    docs = []
    for node in container.iter():
        if local(node.tag) not in ("linkeddoc", "linkeddocument"):
            continue
        docs.append(LinkedDoc(
            attachment_id=_text(node, "attachmentid"), title=_text(node, "title"), url=_text(node, "url"),
            restricted=_flag(node, "isrestricted"), is_url=_flag(node, "isurl"),
            publication_date=parse_date(_text(node, "publicationdate")),
        ))
    return tuple(docs)


def _item(node: ET.Element) -> AgendaItem:
    number = (_text(node, "fulldisplaynumberformat") or _text(node, "agendaitemnumber")).rstrip(".").strip()
    docs = ()
    for child in node:
        if local(child.tag) == "linkeddocuments":
            docs += _docs(child)
    return AgendaItem(number, _text(node, "agendaitemtitle"), _flag(node, "isrestricted"), docs)


def parse_meeting(root: ET.Element, stub: MeetingStub) -> Meeting:
    """A ``GetMeeting`` answer: its agenda items and the papers linked to each."""
    node = root if local(root.tag) == "meeting" else next(iter(_all(root, "meeting")), root)
    items = tuple(_item(e) for e in _all(node, "agendaitem"))
    own = tuple(d for child in node if local(child.tag) == "linkeddocuments" for d in _docs(child))
    return Meeting(
        id=_text(node, "meetingid") or stub.id,
        date=parse_date(_text(node, "meetingdate")) or stub.date,
        status=_text(node, "meetingstatus") or stub.status,
        committee_id=_text(node, "committeeid") or stub.committee_id,
        committee_title=_text(node, "committeetitle") or stub.committee_title,
        items=items, docs=own,
    )


# -- the service -----------------------------------------------------------------------
class ModernGov:
    """One ModernGov site's web service: GET first, SOAP 1.1 when GET is switched off."""

    def __init__(self, base_url: str, http: HttpClient) -> None:
        self.base = site_base(base_url)
        self.service = f"{self.base}/{SERVICE}"
        self.http = http
        self.use_soap = False

    def call(self, operation: str, **params: object) -> ET.Element:
        what = f"{self.service}/{operation}"
        if not self.use_soap:
            query = urlencode({k: str(v) for k, v in params.items()})
            response = self.http.get(f"{what}?{query}" if query else what, retry_statuses=_GET_RETRY)
            if response.status == 200 and _looks_xml(response):
                return parse_xml(response.body, what)
            if response.status not in GET_DISABLED and response.status != 200:
                raise ApiDisabled(what, f"HTTP {response.status}")
        response = self.http.post(self.service, _envelope(operation, params), {
            "Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NAMESPACE}/{operation}"'})
        if response.status != 200 or not response.body.lstrip().startswith(b"<"):
            raise ApiDisabled(self.service, f"GET and SOAP both refused {operation} (HTTP {response.status})")
        root = parse_xml(response.body, what)
        self.use_soap = True  # GET is off here: SOAP from now on
        return root

    def committees(self) -> list[Committee]:
        return parse_committees(self.call("GetCommittees", lDays=0))

    def meetings(self, committee: Committee | None, start: date, end: date) -> list[MeetingStub]:
        """Meetings between ``start`` and ``end`` (sent as dd/mm/yyyy) of one committee, or of all."""
        dates = {"sFromDate": uk_date(start), "sToDate": uk_date(end)}
        dates |= {"sStartDate": dates["sFromDate"], "sEndDate": dates["sToDate"]}
        # sFromDate/sToDate are the names the service reads; the same dd/mm/yyyy dates also go as
        # sStartDate/sEndDate, which it ignores, for wrappers and stand-ins that use those names.
        if committee is None:
            return parse_meetings(self.call("GetAllMeetingsByDate", lCommitteeId=ALL_COMMITTEES, **dates))
        return parse_meetings(self.call("GetMeetings", lCommitteeId=committee.id, **dates), committee)

    def meeting(self, stub: MeetingStub) -> Meeting:
        return parse_meeting(self.call("GetMeeting", lMeetingId=stub.id), stub)

    def document_url(self, url: str) -> str:
        """A linked paper's address: relative ones are the site's, unsafe characters quoted."""
        return quote(urljoin(self.base + "/", url.strip()), safe=":/?&=%#+,;@!$'()*[]~")


def _looks_xml(response: Response) -> bool:
    return response.body.lstrip()[:1] == b"<" and b"<html" not in response.body[:512].lower()


def _envelope(operation: str, params: dict[str, object]) -> bytes:
    body = "".join(f"<{k}>{html.escape(str(v))}</{k}>" for k, v in params.items())
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<soap:Body><{operation} xmlns="{NAMESPACE}">{body}</{operation}></soap:Body></soap:Envelope>'
    ).encode()

