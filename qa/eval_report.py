"""Evaluation output: the plain-text table, the failing questions, JSON and a plot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from qa.evaluate import FAIL_K, AnswerResult, EvalResult
from qa.metrics import METRIC_KEYS, Citation


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


def format_by_gold_kind(result: EvalResult) -> str:
    """Per mode, hit@5 and MRR@10 apart for gold paragraphs with printed numbers and for
    unnumbered blocks: where the misses are."""
    names = {"numbered": "printed numbers", "block": "unnumbered blocks"}
    lines = []
    for mode, res in result.modes.items():
        parts = [f"{names[kind]} (n={int(m['n'])}) hit@5 {m['hit@5']:.3f} mrr@10 {m['mrr@10']:.3f}"
                 for kind, m in res.by_gold_kind().items()]
        lines.append(f"{mode:7s} by gold paragraph: " + "; ".join(parts))
    return "\n".join(lines)


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
                "by_gold_kind": res.by_gold_kind(),
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


def format_answers(result: AnswerResult, limit: int = 10) -> str:
    """The answer figures, then questions whose answer misses the gold quote or declined wrongly."""
    out = [
        f"answer holds the gold quote: {result.holds_answer:.3f} of {result.with_quote} answerable questions",
        f"declined: {result.abstain_recall:.3f} of the {result.unanswerable} questions nothing answers "
        f"(recall), precision {result.abstain_precision:.3f}; "
        f"{result.declined_answerable:.3f} of answerable questions declined",
    ]
    misses = [r for r in result.per_question if r["holds_answer"] is False or
              (r["declined"] != r["abstain_gold"])]
    for r in misses[:limit]:
        why = "declined" if r["declined"] else ("answered, nothing answers" if r["abstain_gold"] else "missed")
        out.append(f"  [{r['id']}] {why}: {r['question']}")
        if r["gold_answer"] and not r["declined"]:
            out.append(f"    wanted: {r['gold_answer']}")
            out.append(f"    got:    {' '.join(r['answer'].split())[:200]}")
    if len(misses) > limit:
        out.append(f"  ... and {len(misses) - limit} more")
    return "\n".join(out)


def answers_to_json(result: AnswerResult) -> dict:
    return {
        "holds_answer": result.holds_answer,
        "with_quote": result.with_quote,
        "declined_answerable": result.declined_answerable,
        "abstain_precision": result.abstain_precision,
        "abstain_recall": result.abstain_recall,
        "unanswerable": result.unanswerable,
        "per_question": result.per_question,
    }
