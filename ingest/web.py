"""A polite HTTP client for council web sites: one request at a time per host, with a pause.

Retries 429 and 5xx with backoff (honouring ``Retry-After`` up to a cap), has a timeout and
an identifying user agent, and turns network failures into the typed errors of
:mod:`ingest.errors` (``SiteUnreachable``, ``Forbidden``). Standard library only.
"""

from __future__ import annotations

import email.utils
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ingest.errors import Forbidden, SiteUnreachable

try:  # the installed version, for the user agent
    from importlib.metadata import version as _dist_version

    _VERSION = _dist_version("council-qa")
except Exception:  # noqa: BLE001 - not installed as a distribution (a source checkout)
    _VERSION = "0"

def user_agent(contact: str | None = None) -> str:
    """``council-qa/0.1.0 (+clerk@example.gov.uk)``: who is asking, and how to reach them."""
    return f"council-qa/{_VERSION} (+{contact or 'committee papers for a local question-answering index'})"


USER_AGENT = user_agent()
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BODY = 200 * 1024 * 1024
"""No committee paper or service answer is allowed to be larger than this (200 MB)."""


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass
class Polite:
    """How politely to ask: pause between requests to one host, retries, timeout."""

    delay: float = 1.0
    retries: int = 3
    backoff: float = 2.0
    max_wait: float = 60.0
    timeout: float = 60.0
    user_agent: str = USER_AGENT
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


class HttpClient:
    """GET and POST with a per-host throttle, retries and typed errors."""

    def __init__(self, polite: Polite | None = None) -> None:
        self.polite = polite or Polite()
        self._last: dict[str, float] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.requests = 0

    def get(self, url: str, headers: dict[str, str] | None = None, *, retry_statuses: frozenset[int] = RETRY_STATUSES
            ) -> Response:
        return self.request("GET", url, None, headers or {}, retry_statuses)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Response:
        return self.request("POST", url, body, headers, frozenset({429, 502, 503, 504}))

    def request(self, method: str, url: str, body: bytes | None, headers: dict[str, str],
                retry_statuses: frozenset[int]) -> Response:
        """One request, retried on ``retry_statuses``; a 403 raises ``Forbidden``; other
        statuses are returned for the caller to judge."""
        host = urlsplit(url).netloc
        attempt = 0
        while True:
            with self._host_lock(host):
                self._wait_turn(host)
                try:
                    response = self._send(method, url, body, headers)
                finally:
                    self._last[host] = time.monotonic()
            if response.status == 403:
                raise Forbidden(url)
            if response.status not in retry_statuses or attempt >= self.polite.retries:
                return response
            attempt += 1
            self.polite.sleep(self._retry_wait(response, attempt))

    def _host_lock(self, host: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(host, threading.Lock())

    def _wait_turn(self, host: str) -> None:
        last = self._last.get(host)
        if last is not None:
            gap = self.polite.delay - (time.monotonic() - last)
            if gap > 0:
                self.polite.sleep(gap)

    def _retry_wait(self, response: Response, attempt: int) -> float:
        wait = self.polite.backoff * (2 ** (attempt - 1))
        after = response.header("retry-after").strip()
        if after:
            if after.isdigit():
                wait = float(after)
            else:
                try:
                    wait = max(0.0, email.utils.parsedate_to_datetime(after).timestamp() - time.time())
                except (TypeError, ValueError):
                    pass  # an unreadable Retry-After: keep the backoff
        return min(wait, self.polite.max_wait)

    def _send(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> Response:
        request = urllib.request.Request(url, data=body, method=method,
                                         headers={"User-Agent": self.polite.user_agent, **headers})
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.polite.timeout) as reply:  # noqa: S310 - http(s) only
                return Response(reply.geturl(), reply.status, _headers(reply.headers), _read(reply, url))
        except urllib.error.HTTPError as exc:
            data = exc.read(1 << 20) if exc.fp is not None else b""
            return Response(url, exc.code, _headers(exc.headers), data)
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SiteUnreachable(_site(url), " ".join(str(reason).split()) or type(exc).__name__) from exc


def _read(reply, url: str) -> bytes:  # noqa: ANN001 - http.client.HTTPResponse
    data = reply.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise SiteUnreachable(_site(url), f"the answer from {url} is over {MAX_BODY >> 20} MB")
    return data


def _headers(message) -> dict[str, str]:  # noqa: ANN001 - email.message.Message or None
    return {k.lower(): v for k, v in (message.items() if message is not None else [])}


def _site(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
