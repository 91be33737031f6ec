"""Retrieval metrics: hand-computed cases, the sub-paragraph rule, and a ranx cross-check."""

from __future__ import annotations

import math
import random
import warnings

import pytest

from qa.metrics import (
    METRIC_KEYS,
    aggregate,
    credited,
    first_relevant_rank,
    hit_at,
    hit_curve,
    is_relevant,
    mrr_at,
    ndcg_at,
    question_metrics,
    recall_at,
)

S = "report.pdf"
T = "other.pdf"


def c(label: str, source: str = S) -> tuple[str, str]:
    return (source, label)


# ------------------------------------------------------------------ relevance rule


@pytest.mark.parametrize(
    ("retrieved", "gold", "expected"),
    [
        ("298", "298", True),
        ("298", "298(3)", True),
        ("298(3)", "298", True),
        ("298(3)(a)", "298", True),
        ("298(3)", "298(3)", True),
        ("298(3)", "298(4)", False),
        ("298", "2980", False),
        ("29", "298", False),
        ("3", "3.2", False),
        ("3.2", "3.2", True),
        ("3.2", "3.20", False),
        ("9", "p9-1", False),
    ],
)
def test_is_relevant_labels(retrieved: str, gold: str, expected: bool) -> None:
    assert is_relevant(S, retrieved, S, gold) is expected


def test_is_relevant_needs_same_source() -> None:
    assert not is_relevant(T, "9", S, "9")
    assert not is_relevant(T, "298", S, "298(3)")


# ------------------------------------------------------------------ hand-made cases


def test_hand_case_two_gold() -> None:
    # gold {4, 9}; relevant at ranks 2 and 6
    retrieved = [c("1"), c("9"), c("2"), c("3"), c("5"), c("4"), c("7")]
    gold = [c("4"), c("9")]
    m = question_metrics(retrieved, gold)
    assert m["hit@1"] == 0.0
    assert m["hit@5"] == 1.0
    assert m["recall@5"] == 0.5
    assert m["recall@10"] == 1.0
    assert m["mrr@10"] == 0.5
    dcg = 1 / math.log2(3) + 1 / math.log2(7)
    idcg = 1 + 1 / math.log2(3)
    assert m["ndcg@10"] == pytest.approx(dcg / idcg, abs=1e-12)


def test_hand_case_perfect_and_empty() -> None:
    gold = [c("9")]
    assert question_metrics([c("9"), c("1")], gold) == {key: 1.0 for key in METRIC_KEYS}
    assert question_metrics([], gold) == {key: 0.0 for key in METRIC_KEYS}
    assert question_metrics([c("1"), c("9", T)], gold) == {key: 0.0 for key in METRIC_KEYS}


def test_relevant_beyond_cutoffs() -> None:
    retrieved = [c(str(i)) for i in range(100, 111)] + [c("9")]  # gold at rank 12
    m = question_metrics(retrieved, [c("9")])
    assert m == {key: 0.0 for key in METRIC_KEYS}
    retrieved = [c(str(i)) for i in range(100, 109)] + [c("9")]  # gold at rank 10
    m = question_metrics(retrieved, [c("9")])
    assert m["hit@5"] == 0.0 and m["recall@5"] == 0.0
    assert m["recall@10"] == 1.0
    assert m["mrr@10"] == pytest.approx(0.1)
    assert m["ndcg@10"] == pytest.approx(1 / math.log2(11))


def test_ideal_dcg_capped_by_k() -> None:
    # 12 gold paragraphs, all of the top 10 relevant: nDCG@10 = 1, recall@10 = 10/12
    gold = [c(str(i)) for i in range(12)]
    retrieved = gold[:10]
    assert ndcg_at(retrieved, gold, 10) == pytest.approx(1.0)
    assert recall_at(retrieved, gold, 10) == pytest.approx(10 / 12)
    assert recall_at(retrieved, gold, 5) == pytest.approx(5 / 12)


def test_three_gold_hand_ndcg() -> None:
    gold = [c("1"), c("2"), c("3")]
    retrieved = [c("x"), c("1"), c("y"), c("3")]
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at(retrieved, gold, 10) == pytest.approx(dcg / idcg, abs=1e-12)
    assert recall_at(retrieved, gold, 5) == pytest.approx(2 / 3)
    assert mrr_at(retrieved, gold, 10) == 0.5


def test_sub_paragraph_counts_as_hit() -> None:
    gold = [c("298(3)")]
    retrieved = [c("297"), c("298")]
    assert first_relevant_rank(retrieved, gold) == 2
    assert hit_at(retrieved, gold, 1) == 0.0
    assert hit_at(retrieved, gold, 5) == 1.0
    assert recall_at(retrieved, gold, 5) == 1.0
    assert mrr_at(retrieved, gold, 10) == 0.5
    # gold whole minute, retrieved a sub-paragraph
    assert question_metrics([c("298(1)")], [c("298")])["hit@1"] == 1.0


# ------------------------------------------------------------------ duplicates / matching


def test_duplicate_retrieved_is_credited_once() -> None:
    gold = [c("9"), c("4")]
    retrieved = [c("9"), c("9"), c("4")]
    assert credited(retrieved, gold) == [True, False, True]
    assert recall_at(retrieved, gold, 2) == 0.5
    assert recall_at(retrieved, gold, 5) == 1.0
    dcg = 1 + 1 / math.log2(4)
    idcg = 1 + 1 / math.log2(3)
    assert ndcg_at(retrieved, gold, 10) == pytest.approx(dcg / idcg, abs=1e-12)
    assert ndcg_at(retrieved, gold, 10) <= 1.0


def test_duplicate_gold_counts_once() -> None:
    gold = [c("9"), c("9")]
    assert recall_at([c("9")], gold, 5) == 1.0
    assert ndcg_at([c("9")], gold, 10) == 1.0


def test_one_retrieved_satisfies_at_most_one_gold() -> None:
    # the whole minute 298 is relevant to both gold sub-paragraphs but credits only one
    gold = [c("298(1)"), c("298(3)")]
    assert recall_at([c("298")], gold, 5) == 0.5
    assert credited([c("298"), c("298(3)")], gold) == [True, True]
    assert recall_at([c("298"), c("298(3)")], gold, 5) == 1.0
    # order of gold does not matter: the matching re-assigns 298 when 298(3) arrives
    gold = [c("298(3)"), c("298(1)")]
    assert credited([c("298"), c("298(3)")], gold) == [True, True]
    # two copies of a sub-paragraph cannot both be credited
    assert credited([c("298(3)"), c("298(3)")], [c("298")]) == [True, False]


def test_aggregate_is_mean_and_hit_curve() -> None:
    runs = [([c("9")], [c("9")]), ([c("1"), c("9")], [c("9")]), ([c("1")], [c("9")])]
    agg = aggregate(runs)
    assert agg["hit@1"] == pytest.approx(1 / 3)
    assert agg["hit@5"] == pytest.approx(2 / 3)
    assert agg["mrr@10"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert hit_curve([1, 2, None], 3) == pytest.approx([1 / 3, 2 / 3, 2 / 3])
    assert aggregate([]) == {key: 0.0 for key in METRIC_KEYS}


# ------------------------------------------------------------------ ranx cross-check


def _random_cases(seed: int, n: int) -> list[tuple[list[tuple[str, str]], list[tuple[str, str]]]]:
    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        pool = [c(str(i), rng.choice([S, T])) for i in range(30)]
        pool = list(dict.fromkeys(pool))
        gold = rng.sample(pool, rng.randint(1, 4))
        retrieved = rng.sample(pool, rng.randint(0, 15))
        cases.append((retrieved, gold))
    return cases


HAND_CASES = [
    ([c("1"), c("9"), c("2"), c("3"), c("5"), c("4"), c("7")], [c("4"), c("9")]),
    ([c("9")], [c("9")]),
    ([c("1"), c("2")], [c("9")]),
    ([c(str(i)) for i in range(12)], [c(str(i)) for i in range(12)]),
    ([c("x"), c("1"), c("y"), c("3")], [c("1"), c("2"), c("3")]),
    ([c(str(i)) for i in range(100, 109)] + [c("9")], [c("9"), c("9", T)]),
]


@pytest.mark.parametrize("cases", [HAND_CASES, *(_random_cases(seed, 25) for seed in range(4))])
def test_agrees_with_ranx(cases: list) -> None:
    ranx = pytest.importorskip("ranx")
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    for i, (retrieved, gold) in enumerate(cases):
        qid = f"q{i}"
        qrels[qid] = {f"{s}#{label}": 1 for s, label in gold}
        # ranx ranks by score: give strictly decreasing scores in our rank order
        if retrieved:  # ranx cannot hold an empty ranking; make_comparable scores it 0
            run[qid] = {f"{s}#{label}": float(len(retrieved) - r) for r, (s, label) in
                        enumerate(retrieved)}
    names = {"hit@1": "hit_rate@1", "hit@5": "hit_rate@5", "recall@5": "recall@5",
             "recall@10": "recall@10", "mrr@10": "mrr@10", "ndcg@10": "ndcg@10"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = ranx.evaluate(ranx.Qrels(qrels), ranx.Run(run), list(names.values()),
                               make_comparable=True)
    ours = aggregate(cases)
    for key, name in names.items():
        assert abs(ours[key] - float(theirs[name])) < 1e-9, (key, ours[key], theirs[name])
    # and per question
    for i, (retrieved, gold) in enumerate(cases):
        mine = question_metrics(retrieved, gold)
        if not retrieved:
            assert mine == {key: 0.0 for key in METRIC_KEYS}
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            one = ranx.evaluate(ranx.Qrels({"q": qrels[f"q{i}"]}), ranx.Run({"q": run[f"q{i}"]}),
                                list(names.values()))
        for key, name in names.items():
            assert abs(mine[key] - float(one[name])) < 1e-9, (i, key, mine[key], one[name])
