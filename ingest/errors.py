"""The one exception type for problems a user can fix (bad file, bad index, bad option)."""

from __future__ import annotations


class CouncilQAError(Exception):
    """A user-facing error: the CLI prints its message on one line and exits with code 2."""


class UnreadableReport(CouncilQAError):
    """A report file that cannot be read: the message names the file and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")
