"""The retrieval regression gate CI runs, and the eval figures recomputed independently.

The gate runs `council-qa eval` on the bundled corpus with --min thresholds a little below
today's figures (hybrid on the seed: hit@1 0.889, hit@5 0.963, mrr@10 0.921), so a
retrieval regression fails the build. The cross-check recomputes every metric with ranx
from `council-qa ask -f --json` output on the same questions and index.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import CORPUS, ROOT

GOLD = CORPUS / "eval" / "dev.jsonl"
GATE = ["hit@1=0.80", "hit@5=0.92", "mrr@10=0.85", "ndcg@10=0.88"]


@pytest.fixture(scope="module")
def corpus_index(seed_index):
    return seed_index


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True, cwd=ROOT)


def test_regression_gate_on_the_bundled_corpus(corpus_index, tmp_path):
    out = tmp_path / "eval.json"
    args = ["eval", str(GOLD), "--index", str(corpus_index), "--skip-missing", "--json", str(out)]
    for spec in GATE:
        args += ["--min", spec]
    result = _cli(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(out.read_text())
    assert figures["questions"] >= 25
    assert set(figures["modes"]["hybrid"]["metrics"]) == {
        "hit@1", "hit@5", "recall@5", "recall@10", "mrr@10", "ndcg@10"}


def test_gate_fails_when_a_threshold_is_not_met(corpus_index):
    result = _cli("eval", str(GOLD), "--index", str(corpus_index), "--skip-missing", "--min", "hit@1=0.999")
    assert result.returncode == 1
    assert "below threshold" in result.stderr


def test_eval_figures_agree_with_ranx_on_ask_output(corpus_index, tmp_path):
    from ranx import Qrels, Run, evaluate

    gold = [json.loads(line) for line in GOLD.read_text().splitlines() if line.strip()]
    gold = [g for g in gold if g["relevant"] and all(r["source"].startswith("worcestershire") for r in g["relevant"])]
    questions = tmp_path / "questions.txt"
    questions.write_text("\n".join(g["question"] for g in gold) + "\n")
    asked = _cli("ask", "-f", str(questions), "--json", "-k", "10", "--index", str(corpus_index))
    assert asked.returncode == 0, asked.stderr
    answers = [json.loads(line) for line in asked.stdout.splitlines()]
    assert [a["question"] for a in answers] == [g["question"] for g in gold]

    qrels = Qrels({g["id"]: {f'{r["source"]}#{r["paragraph"]}': 1 for r in g["relevant"]} for g in gold})
    run = Run({
        g["id"]: {f'{c["source"]}#{c["paragraph"]}': 100.0 - c["rank"] for c in a["citations"]}
        for g, a in zip(gold, answers, strict=True)
    })
    ranx_figures = evaluate(qrels, run, ["hit_rate@1", "hit_rate@5", "recall@5", "recall@10", "mrr@10", "ndcg@10"])

    out = tmp_path / "eval.json"
    gold_file = tmp_path / "seed-gold.jsonl"
    gold_file.write_text("\n".join(json.dumps(g) for g in gold) + "\n")
    assert _cli("eval", str(gold_file), "--index", str(corpus_index), "--json", str(out)).returncode == 0
    ours = json.loads(out.read_text())["modes"]["hybrid"]["metrics"]
    names = {"hit@1": "hit_rate@1", "hit@5": "hit_rate@5", "recall@5": "recall@5", "recall@10": "recall@10",
             "mrr@10": "mrr@10", "ndcg@10": "ndcg@10"}
    for key, ranx_key in names.items():
        assert ours[key] == pytest.approx(ranx_figures[ranx_key], abs=1e-9), key
