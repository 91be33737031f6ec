"""Retrieval metrics as pure functions over ranked lists of ``(source, label)`` citations.

No model and no index: the evaluation runner (:mod:`qa.evaluate`) feeds these with what a
search returned and the gold paragraphs of each question.

Relevance. A retrieved citation is relevant to a gold paragraph when the sources are equal
and the labels are equal, or one label is a parenthesised sub-paragraph of the other
(``298`` and ``298(3)``, ``298`` and ``298(3)(a)``; but not ``298(3)`` and ``298(4)``, and not
``3`` and ``3.2``).

Matching. Each gold paragraph is credited at most once and each retrieved citation credits at
most one gold paragraph, so a duplicated citation, or a whole minute retrieved next to one of
its sub-paragraphs, is not counted twice. Retrieved citations are taken in rank order and a
citation counts when it can be added to the matching (augmenting paths, so a greedy early
choice never blocks a later citation). With binary gains that matching gives every top-k
prefix the largest possible number of credited citations, so recall@k is the share of gold
paragraphs credited within the top k, and nDCG@k gives gain 1 at the ranks of credited
citations. When labels match only exactly and nothing repeats, the figures are the textbook
ones (tests cross-check them against ``ranx``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

Citation = tuple[str, str]
"""``(source file name, paragraph label as printed)``."""

METRIC_KEYS: tuple[str, ...] = ("hit@1", "hit@5", "recall@5", "recall@10", "mrr@10", "ndcg@10")
"""The reported metrics, in the order they are printed; also the keys of ``--json`` output."""


def _norm(label: str) -> str:
    return "".join(str(label).split())


def is_sub_label(label: str, parent: str) -> bool:
    """True when ``label`` is a parenthesised sub-paragraph of ``parent`` (``298(3)`` of ``298``)."""
    label, parent = _norm(label), _norm(parent)
    return bool(parent) and len(label) > len(parent) and label.startswith(parent) \
        and label[len(parent)] == "("


def is_relevant(
    retrieved_source: str, retrieved_label: str, gold_source: str, gold_label: str
) -> bool:
    """Whether a retrieved citation answers for a gold paragraph (see the module docstring)."""
    if retrieved_source != gold_source:
        return False
    a, b = _norm(retrieved_label), _norm(gold_label)
    return a == b or is_sub_label(a, b) or is_sub_label(b, a)


def _unique(items: Iterable[Citation]) -> list[Citation]:
    seen: set[Citation] = set()
    out: list[Citation] = []
    for source, label in items:
        key = (source, _norm(label))
        if key not in seen:
            seen.add(key)
            out.append((source, label))
    return out


def credited(retrieved: Sequence[Citation], gold: Sequence[Citation]) -> list[bool]:
    """For each retrieved citation in rank order, whether it credits a gold paragraph.

    Gold paragraphs listed twice count once. See the module docstring for the matching.
    """
    gold = _unique(gold)
    owner: list[int | None] = [None] * len(gold)  # gold index -> retrieved index credited
    edges = [
        [g for g, (gs, gl) in enumerate(gold) if is_relevant(rs, rl, gs, gl)]
        for rs, rl in retrieved
    ]

    def augment(r: int, seen: set[int]) -> bool:
        for g in edges[r]:
            if g in seen:
                continue
            seen.add(g)
            if owner[g] is None or augment(owner[g], seen):  # type: ignore[arg-type]
                owner[g] = r
                return True
        return False

    return [bool(edges[r]) and augment(r, set()) for r in range(len(retrieved))]


def first_relevant_rank(retrieved: Sequence[Citation], gold: Sequence[Citation]) -> int | None:
    """1-based rank of the first retrieved citation relevant to any gold paragraph, or None."""
    for rank, (rs, rl) in enumerate(retrieved, start=1):
        if any(is_relevant(rs, rl, gs, gl) for gs, gl in gold):
            return rank
    return None


def hit_at(retrieved: Sequence[Citation], gold: Sequence[Citation], k: int) -> float:
    """1.0 when a relevant citation is in the top ``k``, else 0.0."""
    rank = first_relevant_rank(retrieved[:k], gold)
    return 1.0 if rank is not None else 0.0


def recall_at(retrieved: Sequence[Citation], gold: Sequence[Citation], k: int) -> float:
    """Share of the (distinct) gold paragraphs credited within the top ``k``."""
    n_gold = len(_unique(gold))
    if n_gold == 0:
        return 0.0
    return sum(credited(retrieved[:k], gold)) / n_gold


def mrr_at(retrieved: Sequence[Citation], gold: Sequence[Citation], k: int) -> float:
    """Reciprocal rank of the first relevant citation within the top ``k``, else 0.0."""
    rank = first_relevant_rank(retrieved[:k], gold)
    return 1.0 / rank if rank is not None else 0.0


def ndcg_at(retrieved: Sequence[Citation], gold: Sequence[Citation], k: int) -> float:
    """nDCG@k with binary gains and a log2(rank + 1) discount.

    Gain 1 at the ranks of credited citations; the ideal DCG has min(distinct gold, k) gains.
    """
    n_gold = len(_unique(gold))
    if n_gold == 0 or k <= 0:
        return 0.0
    flags = credited(retrieved[:k], gold)
    dcg = sum(1.0 / math.log2(rank + 1) for rank, hit in enumerate(flags, start=1) if hit)
    idcg = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(n_gold, k) + 1))
    return dcg / idcg


def question_metrics(retrieved: Sequence[Citation], gold: Sequence[Citation]) -> dict[str, float]:
    """All of :data:`METRIC_KEYS` for one question."""
    retrieved = list(retrieved)
    gold = list(gold)
    return {
        "hit@1": hit_at(retrieved, gold, 1),
        "hit@5": hit_at(retrieved, gold, 5),
        "recall@5": recall_at(retrieved, gold, 5),
        "recall@10": recall_at(retrieved, gold, 10),
        "mrr@10": mrr_at(retrieved, gold, 10),
        "ndcg@10": ndcg_at(retrieved, gold, 10),
    }


def hit_curve(ranks: Sequence[int | None], max_k: int = 10) -> list[float]:
    """Share of questions with a relevant citation in the top k, for k = 1..max_k.

    ``ranks`` are first-relevant ranks (None for none); empty input gives zeros.
    """
    n = len(ranks)
    if n == 0:
        return [0.0] * max_k
    return [sum(1 for r in ranks if r is not None and r <= k) / n for k in range(1, max_k + 1)]


def mean_metrics(per_question: Sequence[dict[str, float]]) -> dict[str, float]:
    """Mean of each of :data:`METRIC_KEYS` over questions (zeros for no questions)."""
    n = len(per_question)
    if n == 0:
        return {key: 0.0 for key in METRIC_KEYS}
    return {key: sum(m[key] for m in per_question) / n for key in METRIC_KEYS}


def aggregate(
    runs: Sequence[tuple[Sequence[Citation], Sequence[Citation]]],
) -> dict[str, float]:
    """Mean metrics over ``(retrieved, gold)`` pairs, one pair per question."""
    return mean_metrics([question_metrics(retrieved, gold) for retrieved, gold in runs])
