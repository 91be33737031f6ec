"""Retrieval evaluation: gold questions in, metrics per search mode out.

The runner knows nothing about the index: it is given ``search(question, mode)``, which returns
ranked ``(source, paragraph label)`` pairs, and scores what comes back with :mod:`qa.metrics`.
Gold files are read by :mod:`qa.gold`; tables, JSON and plots are in :mod:`qa.eval_report`.
"""

from __future__ import annotations

import math
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ingest.errors import CouncilQAError
from ingest.records import is_block_label
from qa.gold import GoldQuestion, gold_sources
from qa.metrics import METRIC_KEYS, Citation, first_relevant_rank, hit_curve, mean_metrics, question_metrics

SearchFn = Callable[[str, str], Sequence[tuple[str, ...]]]
"""``search(question, mode)`` -> ranked ``(source, label)`` pairs, best first, or ``(source,
cited label, block label)`` triples for paragraphs that are parts of a longer printed one."""

FAIL_K = 5
"""A question fails when nothing relevant is in its top ``FAIL_K``."""


@dataclass(frozen=True)
class QuestionResult:
    id: str
    question: str
    relevant: tuple[Citation, ...]
    retrieved: tuple[Citation, ...]
    """The top ``k`` citations returned, in rank order."""
    first_rank: int | None
    """1-based rank of the first relevant citation within the top ``k``; None when none."""
    metrics: dict[str, float]
    latency_ms: float

    @property
    def failed(self) -> bool:
        return self.first_rank is None or self.first_rank > FAIL_K


@dataclass(frozen=True)
class ModeResult:
    mode: str
    metrics: dict[str, float]
    latency_p50_ms: float
    latency_p95_ms: float
    hit_curve: list[float]
    """hit@k for k = 1..k (index 0 is hit@1)."""
    questions: list[QuestionResult]

    @property
    def failing(self) -> list[QuestionResult]:
        return [q for q in self.questions if q.failed]

    def by_gold_kind(self) -> dict[str, dict[str, float]]:
        """The metrics apart for questions answered by printed paragraph numbers ("numbered")
        and those whose gold names an unnumbered block ("block"), each with its count ``n``."""
        out = {}
        for kind in GOLD_KINDS:
            chosen = [q.metrics for q in self.questions if gold_kind(q.relevant) == kind]
            if chosen:
                out[kind] = {"n": float(len(chosen)), **mean_metrics(chosen)}
        return out


@dataclass(frozen=True)
class EvalResult:
    k: int
    modes: dict[str, ModeResult]
    n_questions: int
    missing_sources: list[str] = field(default_factory=list)
    """Gold sources not among the indexed sources (empty when those were not given)."""


GOLD_KINDS = ("numbered", "block")


def gold_kind(relevant: Sequence[Citation]) -> str:
    """"numbered" when every gold paragraph is cited by its printed number (``9``, ``3.2``): what
    a member quotes and a clerk checks; "block" when one is an unnumbered block (``p4-2``) of a
    report that prints few numbers, which only this index's labels can name."""
    return "block" if any(is_block_label(label) for _, label in relevant) else "numbered"


def _percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def as_gold_citation(hit: Sequence[str], gold: Sequence[Citation]) -> Citation:
    """A hit as ``(source, label)``: the printed paragraph's label it is cited by, or, when the
    gold names the very block (``p4-4``) of a paragraph cut into parts, that block's label."""
    source, cited = str(hit[0]), str(hit[1])
    if len(hit) > 2 and (source, str(hit[2])) in set(gold):
        return source, str(hit[2])
    return source, cited


def evaluate(
    gold: Sequence[GoldQuestion],
    search: SearchFn,
    modes: Sequence[str],
    k: int = 10,
    indexed_sources: set[str] | None = None,
    warmup: bool = True,
) -> EvalResult:
    """Ask every gold question in every mode and score the top ``k`` citations.

    ``k`` must be at least 10 (the deepest reported cutoff). Latency is wall time of each
    ``search`` call (``time.perf_counter``); with ``warmup`` one untimed call per mode is
    made first so model loading is not counted. ``indexed_sources``, when given, names the
    sources in the index, and gold sources outside it are reported in ``missing_sources``
    (their questions are still scored, and fail).
    """
    if k < 10:
        raise CouncilQAError(f"k must be at least 10 (got {k}): metrics go down to @10")
    if not modes:
        raise CouncilQAError("no search modes to evaluate")
    gold = [q for q in gold if not q.abstain]  # retrieval is scored on answerable questions
    results: dict[str, ModeResult] = {}
    for mode in modes:
        if warmup and gold:
            search(gold[0].question, mode)
        per_question: list[QuestionResult] = []
        for q in gold:
            start = time.perf_counter()
            hits = search(q.question, mode)
            elapsed = (time.perf_counter() - start) * 1000.0
            gold_cites = q.citations
            retrieved = tuple(as_gold_citation(hit, gold_cites) for hit in list(hits)[:k])
            per_question.append(QuestionResult(
                id=q.id,
                question=q.question,
                relevant=tuple(gold_cites),
                retrieved=retrieved,
                first_rank=first_relevant_rank(retrieved, gold_cites),
                metrics=question_metrics(retrieved, gold_cites),
                latency_ms=elapsed,
            ))
        latencies = [r.latency_ms for r in per_question]
        results[mode] = ModeResult(
            mode=mode,
            metrics=mean_metrics([r.metrics for r in per_question]),
            latency_p50_ms=statistics.median(latencies) if latencies else 0.0,
            latency_p95_ms=_percentile(latencies, 95),
            hit_curve=hit_curve([r.first_rank for r in per_question], k),
            questions=per_question,
        )
    missing = sorted(gold_sources(gold) - indexed_sources) if indexed_sources is not None else []
    return EvalResult(k=k, modes=results, n_questions=len(gold), missing_sources=missing)


def parse_min(spec: str) -> tuple[str, float]:
    """Parse a ``--min METRIC=VALUE`` argument, e.g. ``hit@5=0.7``."""
    name, sep, value = spec.partition("=")
    name = name.strip()
    if not sep or name not in METRIC_KEYS:
        raise CouncilQAError(
            f"--min {spec!r}: expected METRIC=VALUE with METRIC one of {', '.join(METRIC_KEYS)}")
    try:
        number = float(value)
    except ValueError:
        raise CouncilQAError(f"--min {spec!r}: {value!r} is not a number") from None
    return name, number


def check_thresholds(
    result: EvalResult, mins: dict[str, float], mode: str | None = None
) -> list[str]:
    """Messages for every metric below its minimum (empty list: all pass).

    ``mode`` names the mode to check; None checks every evaluated mode.
    """
    for name in mins:
        if name not in METRIC_KEYS:
            raise CouncilQAError(f"unknown metric {name!r}: use one of {', '.join(METRIC_KEYS)}")
    if mode is not None and mode not in result.modes:
        raise CouncilQAError(f"mode {mode!r} was not evaluated (have: {', '.join(result.modes)})")
    checked = [mode] if mode is not None else list(result.modes)
    failures = []
    for m in checked:
        metrics = result.modes[m].metrics
        for name, minimum in mins.items():
            if metrics[name] < minimum:
                failures.append(f"{m}: {name} {metrics[name]:.3f} is below the minimum {minimum:g}")
    return failures


# ---------------------------------------------------------------- answers

AnswerFn = Callable[[str], tuple[str, bool]]
"""``answer(question)`` -> (the quoted answer text, whether it declined)."""
_MARKERS = re.compile(r"\[\d+\]")


def normalise_quote(text: str) -> str:
    """Text compared for "the answer holds the gold quote": citation markers dropped, case, quote
    marks, dashes and white space folded."""
    text = _MARKERS.sub(" ", text).lower()
    text = text.translate(str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                                         "\u2013": "-", "\u2014": "-", "\u00a0": " "}))
    return " ".join(text.split())


@dataclass(frozen=True)
class AnswerResult:
    """How the quoted answers did: over answerable questions with a gold quote, the share whose
    answer holds it; over every question, how well declining matched the gold."""

    holds_answer: float
    with_quote: int
    declined_answerable: float
    """Share of answerable questions declined (should be small)."""
    abstain_precision: float
    abstain_recall: float
    unanswerable: int
    per_question: list[dict]


def evaluate_answers(gold: Sequence[GoldQuestion], answer: AnswerFn) -> AnswerResult:
    """Ask every question once and score the answer text and the decision to decline."""
    rows = []
    for q in gold:
        text, declined = answer(q.question)
        holds = bool(q.answer) and not declined and normalise_quote(q.answer) in normalise_quote(text)
        rows.append({"id": q.id, "question": q.question, "abstain_gold": q.abstain, "declined": declined,
                     "holds_answer": holds if q.answer else None, "answer": text, "gold_answer": q.answer})
    quoted = [r for r in rows if r["holds_answer"] is not None]
    answerable = [r for r in rows if not r["abstain_gold"]]
    declined = [r for r in rows if r["declined"]]
    should = [r for r in rows if r["abstain_gold"]]
    right = sum(r["abstain_gold"] for r in declined)
    return AnswerResult(
        holds_answer=sum(r["holds_answer"] for r in quoted) / len(quoted) if quoted else 0.0,
        with_quote=len(quoted),
        declined_answerable=sum(r["declined"] for r in answerable) / len(answerable) if answerable else 0.0,
        abstain_precision=right / len(declined) if declined else 1.0,
        abstain_recall=right / len(should) if should else 1.0,
        unanswerable=len(should),
        per_question=rows,
    )
