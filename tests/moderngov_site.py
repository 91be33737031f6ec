"""A stand-in ModernGov site on 127.0.0.1 serving the recorded answers in tests/fixtures/moderngov/.

It records every request (method, operation, parameters) so tests can check what was sent,
and can be told to switch GET off (ASP.NET answers 500, so the client must speak SOAP), to
refuse automated clients (403), or to answer the first request 429.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "moderngov"
UK_DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Site:
    """What the stand-in serves and what it saw."""

    documents: dict[str, tuple[str, bytes]]
    """path and query (``/mgConvert2PDF.aspx?ID=5001``) -> (content type, bytes)."""
    get_disabled: bool = False
    forbidden: bool = False
    throttle_first: int = 0
    broken: set[str] = field(default_factory=set)
    """Operations this install does not have (500 by GET and by SOAP)."""
    calls: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    hits: Counter = field(default_factory=Counter)
    port: int = 0
    agents: set = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def operations(self, name: str) -> list[dict[str, str]]:
        return [params for _, op, params in self.calls if op == name]

    def document_hits(self) -> int:
        return sum(n for path, n in self.hits.items() if "mgWebService" not in path)


def answer(op: str, params: dict[str, str]) -> tuple[int, bytes]:
    """The recorded answer to one service operation."""
    if op == "GetCommittees":
        return 200, (FIXTURES / "GetCommittees.xml").read_bytes()
    if op in ("GetAllMeetingsByDate", "GetMeetings"):
        dates = (params.get("sFromDate", ""), params.get("sToDate", ""))
        if not all(UK_DATE.match(d) for d in dates):  # ISO or missing: the range is ignored
            return 200, (FIXTURES / "GetAllMeetingsByDate-iso-dump.xml").read_bytes()
        data = (FIXTURES / "GetAllMeetingsByDate.xml").read_text(encoding="utf-8")
        committee = params.get("lCommitteeId", "")
        if committee == "0":
            return 200, b"<getallmeetingsbydate><meetingscount> 0</meetingscount><meetings/></getallmeetingsbydate>"
        if op == "GetMeetings" or committee != "-1":
            blocks = re.findall(r"<meeting>.*?</meeting>", data, re.S)
            kept = [b for b in blocks if f"<committeeid>{committee}</committeeid>" in b]
            data = re.sub(r"<meetings>.*</meetings>", "<meetings>" + "".join(kept) + "</meetings>", data, flags=re.S)
        return 200, data.encode()
    if op == "GetMeeting":
        path = FIXTURES / f"GetMeeting-{params.get('lMeetingId', '')}.xml"
        if path.exists():
            return 200, path.read_bytes()
    return 500, b"<html><body>Server Error</body></html>"


def soap_wrap(op: str, payload: bytes) -> bytes:
    body = re.sub(rb"^<\?xml[^>]*\?>\s*", b"", payload)
    return (b'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"'
            b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soap:Body>'
            + f'<{op}Response xmlns="http://moderngov.co.uk/namespaces"><{op}Result>'.encode() + body
            + f"</{op}Result></{op}Response>".encode() + b"</soap:Body></soap:Envelope>")


def soap_request(body: bytes) -> tuple[str, dict[str, str]]:
    text = body.decode("utf-8")
    match = re.search(r"<soap:Body>\s*<(\w+)[^>]*>(.*)</\1>\s*</soap:Body>", text, re.S)
    if not match:
        return "", {}
    return match.group(1), dict(re.findall(r"<(\w+)>([^<]*)</\1>", match.group(2)))


def make_handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            return None

        def _send(self, status: int, body: bytes, ctype: str = "text/xml; charset=utf-8",
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _gate(self) -> bool:
            site.hits[self.path] += 1
            site.agents.add(self.headers.get("User-Agent", ""))
            if site.forbidden:
                self._send(403, b"<html>Access denied</html>", "text/html")
                return False
            if site.throttle_first > 0:
                site.throttle_first -= 1
                self._send(429, b"slow down", "text/plain", {"Retry-After": "0"})
                return False
            return True

        def do_GET(self) -> None:  # noqa: N802
            if not self._gate():
                return
            parts = urlsplit(self.path)
            if "/mgWebService.asmx/" in parts.path:
                op = parts.path.rsplit("/", 1)[-1]
                params = dict(parse_qsl(parts.query))
                site.calls.append(("GET", op, params))
                if site.get_disabled:
                    self._send(500, b"Request format is unrecognized for URL unexpectedly ending in '/" + op.encode()
                               + b"'.", "text/plain")
                    return
                self._send(*(answer(op, params) if op not in site.broken else (500, b"Server Error")))
                return
            key = unquote(parts.path) + (f"?{parts.query}" if parts.query else "")
            if key in site.documents:
                ctype, data = site.documents[key]
                etag = f'"{zlib.crc32(data):x}"'
                if self.headers.get("If-None-Match") == etag:
                    self._send(304, b"", ctype, {"ETag": etag})
                else:
                    self._send(200, data, ctype, {"ETag": etag})
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:  # noqa: N802
            if not self._gate():
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            op, params = soap_request(body)
            action = (self.headers.get("SOAPAction") or "").strip('"')
            site.calls.append(("POST", op, params))
            if not op or action != f"http://moderngov.co.uk/namespaces/{op}":
                self._send(500, b"<soap:Fault/>")
                return
            status, payload = answer(op, params) if op not in site.broken else (500, b"Server Error")
            self._send(status, soap_wrap(op, payload) if status == 200 else payload)

    return Handler


def serve(site: Site) -> ThreadingHTTPServer:
    """Start the stand-in on a free port of 127.0.0.1 in a daemon thread (call ``shutdown()`` after)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(site))
    site.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
