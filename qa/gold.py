"""Gold questions: the JSON Lines format, read and checked line by line.

Format (one question per line; blank lines and lines starting with ``#`` are skipped)::

    {"id": "seed-01", "question": "what happened to sickness absence?",
     "relevant": [{"source": "report.pdf", "paragraph": "9"}],
     "answer": "7.68 days per employee"}

A question nothing in the reports answers has ``"relevant": []`` and ``"abstain": true``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import CouncilQAError
from qa.metrics import Citation


@dataclass(frozen=True)
class GoldItem:
    source: str
    paragraph: str


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    relevant: tuple[GoldItem, ...]
    answer: str | None = None
    line: int = 0
    """Line number in the gold file (0 when built in code)."""
    abstain: bool = False
    """True for a question nothing in the reports answers: the right reply is to decline."""

    @property
    def citations(self) -> list[Citation]:
        return [(item.source, item.paragraph) for item in self.relevant]

    @property
    def sources(self) -> set[str]:
        return {item.source for item in self.relevant}


def _bad(path: Path | str, line: int, why: str) -> CouncilQAError:
    return CouncilQAError(f"{path}:{line}: {why}")


def _parse_gold_line(obj: object, path: Path | str, line: int) -> GoldQuestion:
    if not isinstance(obj, dict):
        raise _bad(path, line, "expected a JSON object")
    qid = obj.get("id")
    if not isinstance(qid, (str, int)) or isinstance(qid, bool) or str(qid).strip() == "":
        raise _bad(path, line, 'missing or empty "id"')
    question = obj.get("question")
    if not isinstance(question, str) or not question.strip():
        raise _bad(path, line, 'missing or empty "question"')
    relevant = obj.get("relevant")
    abstain = obj.get("abstain", False)
    if not isinstance(abstain, bool):
        raise _bad(path, line, '"abstain" must be true or false')
    if abstain and relevant:
        raise _bad(path, line, 'a question with "abstain": true has no "relevant" paragraphs')
    if not isinstance(relevant, list) or (not relevant and not abstain):
        raise _bad(path, line, '"relevant" must be a non-empty list of {"source", "paragraph"} '
                               '(or empty, with "abstain": true)')
    items: list[GoldItem] = []
    for i, rel in enumerate(relevant, start=1):
        if not isinstance(rel, dict):
            raise _bad(path, line, f'"relevant" item {i} is not an object')
        source, para = rel.get("source"), rel.get("paragraph")
        if not isinstance(source, str) or not source.strip():
            raise _bad(path, line, f'"relevant" item {i} has no "source" file name')
        if isinstance(para, bool) or not isinstance(para, (str, int)) or not str(para).strip():
            raise _bad(path, line, f'"relevant" item {i} has no "paragraph" label')
        items.append(GoldItem(source.strip(), str(para).strip()))
    answer = obj.get("answer")
    if answer is not None and not isinstance(answer, str):
        raise _bad(path, line, '"answer" must be a string when present')
    return GoldQuestion(str(qid).strip(), question.strip(), tuple(items), answer, line, abstain)


def load_gold(path: str | Path) -> list[GoldQuestion]:
    """Read a gold JSON Lines file; a bad line raises :class:`CouncilQAError` naming file:line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CouncilQAError(f"{path}: gold file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CouncilQAError(f"{path}: cannot read gold file ({exc})") from None
    gold: list[GoldQuestion] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            obj = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise _bad(path, number, f"not valid JSON ({exc.msg})") from None
        question = _parse_gold_line(obj, path, number)
        if question.id in seen:
            raise _bad(path, number, f'duplicate id "{question.id}" (first on line {seen[question.id]})')
        seen[question.id] = number
        gold.append(question)
    if not gold:
        raise CouncilQAError(f"{path}: no questions in gold file")
    return gold


def gold_sources(gold: Iterable[GoldQuestion]) -> set[str]:
    """Every source file named in the gold questions."""
    return {item.source for q in gold for item in q.relevant}


def restrict_to_sources(
    gold: Sequence[GoldQuestion], available: set[str]
) -> tuple[list[GoldQuestion], list[GoldQuestion]]:
    """Split gold into (questions whose sources are all available, the others).

    For running the shared-corpus questions only when ``../shared`` is indexed.
    """
    kept = [q for q in gold if q.sources <= available]
    skipped = [q for q in gold if not q.sources <= available]
    return kept, skipped


def answerable(gold: Sequence[GoldQuestion]) -> list[GoldQuestion]:
    """The questions that have gold paragraphs (retrieval metrics are over these)."""
    return [q for q in gold if not q.abstain]


def load_gold_files(paths: Sequence[str | Path]) -> list[GoldQuestion]:
    """Several gold files read as one set (ids must be unique across them)."""
    gold: list[GoldQuestion] = []
    seen: set[str] = set()
    for path in paths:
        for question in load_gold(path):
            if question.id in seen:
                raise CouncilQAError(f"{path}: id {question.id!r} is also in an earlier gold file")
            seen.add(question.id)
            gold.append(question)
    return gold
