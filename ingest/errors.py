"""Typed errors for problems a user can fix (a bad file, a missing index, a bad option).

Each carries the facts as attributes and a neutral one-line message. The edges word them
for their audience: the CLI names flags (``qa.cli``), the browser uses plain words
(``qa.render.browser_message``). Nothing here mentions a flag or a button.
"""

from __future__ import annotations

from pathlib import Path


class CouncilQAError(Exception):
    """A user-facing error: the CLI prints its message on one line and exits with code 2."""


class UnreadableReport(CouncilQAError):
    """A report file that cannot be read: the message names the file and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class IndexMissing(CouncilQAError):
    """No index has been built in this folder yet."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        super().__init__(f"no index at {index_dir}")


class IndexBusy(CouncilQAError):
    """Another process is writing the index."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        super().__init__(f"index busy: another ingest is writing {index_dir}; try again when it finishes")


class BuildMismatch(CouncilQAError):
    """The index was built with other build parameters (model, dimension or windowing)."""

    def __init__(self, index_dir: Path, what: str, built: object, asked: object) -> None:
        self.index_dir = Path(index_dir)
        self.what = what
        self.built = built
        self.asked = asked
        super().__init__(f"{index_dir} was built with {what} {built}, not {asked}: "
                         "to use that, rebuild it into a new index folder")


class BadDate(CouncilQAError):
    """A date that is not a real calendar date in YYYY-MM-DD form."""

    def __init__(self, field: str, value: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"the {field} date {value!r} is not a date like 2020-02-13 (year-month-day)")


class NotInIndex(CouncilQAError):
    """Report files named in a filter that the index does not hold."""

    def __init__(self, sources: list[str]) -> None:
        self.sources = sorted(sources)
        super().__init__(f"not in the index: {', '.join(self.sources)}")


class NoSpace(CouncilQAError):
    """The disk holding the index is full: the index was left as it was."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        super().__init__(f"no space left on the disk of {index_dir}: nothing changed in the index")


class SiteUnreachable(CouncilQAError):
    """A committee-papers site that cannot be reached (no such host, refused, timed out)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url} cannot be reached ({reason}): nothing was fetched")


class ApiDisabled(CouncilQAError):
    """The site has no working ModernGov web service (mgWebService.asmx), by GET or SOAP."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url} has no working ModernGov web service ({reason})")


class Forbidden(CouncilQAError):
    """The site refuses automated clients (HTTP 403)."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(f"{url} refused the request (HTTP 403: the site blocks automated clients)")


class BadWindow(CouncilQAError):
    """A date window that is not two real dates in order."""

    def __init__(self, start: str, end: str, reason: str) -> None:
        self.start = start
        self.end = end
        self.reason = reason
        super().__init__(f"the window {start} to {end} is not usable: {reason}")
