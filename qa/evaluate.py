"""Retrieval evaluation: gold questions in, metrics per search mode out.

The runner knows nothing about the index: it is given ``search(question, mode)``, which returns
ranked ``(source, paragraph label)`` pairs, and scores what comes back with :mod:`qa.metrics`.

Gold file format (JSON Lines, one question per line; blank lines and lines starting with ``#``
are skipped)::

    {"id": "seed-01", "question": "what happened to sickness absence?",
     "relevant": [{"source": "report.pdf", "paragraph": "9"}],
     "answer": "7.68 days per employee"}
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import CouncilQAError
from qa.metrics import METRIC_KEYS, Citation, first_relevant_rank, hit_curve, mean_metrics, question_metrics

SearchFn = Callable[[str, str], Sequence[tuple[str, str]]]
"""``search(question, mode)`` -> ranked ``(source, label)`` pairs, best first."""

FAIL_K = 5
"""A question fails when nothing relevant is in its top ``FAIL_K``."""


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

    @property
    def citations(self) -> list[Citation]:
        return [(item.source, item.paragraph) for item in self.relevant]

    @property
    def sources(self) -> set[str]:
        return {item.source for item in self.relevant}


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


@dataclass(frozen=True)
class EvalResult:
    k: int
    modes: dict[str, ModeResult]
    n_questions: int
    missing_sources: list[str] = field(default_factory=list)
    """Gold sources not among the indexed sources (empty when those were not given)."""


# ---------------------------------------------------------------- gold file


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
    if not isinstance(relevant, list) or not relevant:
        raise _bad(path, line, '"relevant" must be a non-empty list of {"source", "paragraph"}')
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
    return GoldQuestion(str(qid).strip(), question.strip(), tuple(items), answer, line)


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


# ---------------------------------------------------------------- running


def _percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


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
    results: dict[str, ModeResult] = {}
    for mode in modes:
        if warmup and gold:
            search(gold[0].question, mode)
        per_question: list[QuestionResult] = []
        for q in gold:
            start = time.perf_counter()
            hits = search(q.question, mode)
            elapsed = (time.perf_counter() - start) * 1000.0
            retrieved = tuple((str(s), str(label)) for s, label in list(hits)[:k])
            gold_cites = q.citations
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


# ---------------------------------------------------------------- output


def format_table(result: EvalResult) -> str:
    """One row per mode: the metrics and latency p50, as a plain-text table."""
    headers = ["mode", "n", *METRIC_KEYS, "p50 ms"]
    rows = []
    for mode, res in result.modes.items():
        rows.append([mode, str(len(res.questions)),
                     *(f"{res.metrics[key]:.3f}" for key in METRIC_KEYS),
                     f"{res.latency_p50_ms:.1f}"])
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest])

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def _cite(c: Citation) -> str:
    return f"{c[0]} para {c[1]}"


def format_failures(result: EvalResult, limit: int | None = None, shown: int = 5) -> str:
    """Each failing question (no relevant citation in the top 5) per mode, with what came back
    instead, then the gold sources missing from the index. Empty string when there is nothing."""
    out: list[str] = []
    for mode, res in result.modes.items():
        failing = res.failing
        if not failing:
            continue
        out.append(f"{mode}: {len(failing)} of {len(res.questions)} questions with no relevant "
                   f"paragraph in the top {FAIL_K}")
        for q in failing[:limit] if limit is not None else failing:
            where = f"first relevant at rank {q.first_rank}" if q.first_rank else \
                f"nothing relevant in the top {result.k}"
            out.append(f"  [{q.id}] {q.question}  ({where})")
            out.append(f"    wanted:    {'; '.join(_cite(c) for c in q.relevant)}")
            for rank, c in enumerate(q.retrieved[:shown], start=1):
                out.append(f"    got {rank:>2}:    {_cite(c)}")
        if limit is not None and len(failing) > limit:
            out.append(f"  ... and {len(failing) - limit} more")
    if result.missing_sources:
        out.append("gold sources missing from the index:")
        out.extend(f"  {s}" for s in result.missing_sources)
    return "\n".join(out)


def to_json(result: EvalResult) -> dict:
    """Every figure and per-question result, JSON-ready; metric keys as in ``METRIC_KEYS``."""
    return {
        "k": result.k,
        "questions": result.n_questions,
        "missing_sources": list(result.missing_sources),
        "modes": {
            mode: {
                "metrics": {key: res.metrics[key] for key in METRIC_KEYS},
                "latency_ms": {"p50": res.latency_p50_ms, "p95": res.latency_p95_ms},
                "hit_curve": {str(i): v for i, v in enumerate(res.hit_curve, start=1)},
                "failing": [q.id for q in res.failing],
                "per_question": [
                    {
                        "id": q.id,
                        "question": q.question,
                        "relevant": [{"source": s, "paragraph": p} for s, p in q.relevant],
                        "first_relevant_rank": q.first_rank,
                        "retrieved": [{"rank": i, "source": s, "paragraph": p}
                                      for i, (s, p) in enumerate(q.retrieved, start=1)],
                        "metrics": {key: q.metrics[key] for key in METRIC_KEYS},
                        "latency_ms": q.latency_ms,
                    }
                    for q in res.questions
                ],
            }
            for mode, res in result.modes.items()
        },
    }


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


def plot(result: EvalResult, path: str | Path) -> Path:
    """Write a PNG: metrics by mode (grouped bars) and hit@k curves for k = 1..k."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    modes = list(result.modes)
    fig, (bars, curves) = plt.subplots(1, 2, figsize=(13, 4.8))
    width = 0.8 / max(1, len(modes))
    for i, mode in enumerate(modes):
        res = result.modes[mode]
        xs = [j + (i - (len(modes) - 1) / 2) * width for j in range(len(METRIC_KEYS))]
        drawn = bars.bar(xs, [res.metrics[key] for key in METRIC_KEYS], width, label=mode)
        bars.bar_label(drawn, fmt="%.2f", fontsize=7, padding=1)
        ks = list(range(1, len(res.hit_curve) + 1))
        curves.plot(ks, res.hit_curve, marker="o", label=f"{mode} (p50 {res.latency_p50_ms:.0f} ms)")
    bars.set_xticks(range(len(METRIC_KEYS)), list(METRIC_KEYS))
    bars.set_ylim(0, 1.08)
    bars.set_title(f"Retrieval metrics by mode ({result.n_questions} questions)")
    bars.legend(fontsize=8)
    curves.set_xlabel("k")
    curves.set_ylabel("hit@k")
    curves.set_ylim(0, 1.02)
    curves.set_xticks(range(1, result.k + 1))
    curves.grid(alpha=0.3)
    curves.set_title("hit@k")
    curves.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
