"""What an ingest reports: each file's outcome and the batch's summary (plain records)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Status(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    REMOVED = "removed"
    FAILED = "failed"


@dataclass(frozen=True)
class FileResult:
    source: str
    path: str
    status: Status
    paragraphs: int = 0
    reason: str = ""


@dataclass
class IngestSummary:
    index_dir: Path | str
    """The index folder, or a Milvus index's spec (``milvus:FILE.db``, ``milvus://HOST:PORT/NAME``)."""
    results: list[FileResult] = field(default_factory=list)
    embedded_windows: int = 0
    kept_windows: int = 0
    """Windows of re-read reports whose text did not change: their vectors were kept, not embedded."""
    seconds: float = 0.0
    generation: str | None = None
    on_result: Callable[[FileResult], None] | None = None
    """Called with each file's result as soon as it is known (the CLI prints a line)."""

    def record(self, result: FileResult) -> None:
        self.results.append(result)
        if self.on_result is not None:
            self.on_result(result)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == Status.FAILED]

    @property
    def changed(self) -> bool:
        return any(r.status in (Status.ADDED, Status.UPDATED, Status.REMOVED) for r in self.results)
