"""The evaluation runner with a fake, deterministic search (no model, no index)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from ingest.errors import CouncilQAError
from qa.eval_report import format_by_gold_kind, format_failures, format_table, plot, to_json
from qa.evaluate import EvalResult, check_thresholds, evaluate, gold_kind, parse_min
from qa.gold import GoldItem, GoldQuestion, answerable, load_gold, load_gold_files, restrict_to_sources
from qa.metrics import METRIC_KEYS

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "corpus" / "eval" / "dev.jsonl"
HOLDOUT = ROOT / "corpus" / "eval" / "holdout.jsonl"
SEED = "worcestershire-2020-02-13-chief-executive-annual-report.pdf"

GOLD = [
    GoldQuestion("a", "sickness?", (GoldItem("r.pdf", "9"),)),
    GoldQuestion("b", "budget?", (GoldItem("r.pdf", "3.2"), GoldItem("r.pdf", "4"))),
    GoldQuestion("c", "minute?", (GoldItem("m.pdf", "298(3)"),)),
    GoldQuestion("d", "nowhere?", (GoldItem("gone.pdf", "1"),)),
]

RANKINGS = {
    # mode "good": relevant first everywhere it can be
    ("good", "sickness?"): [("r.pdf", "9"), ("r.pdf", "1")],
    ("good", "budget?"): [("r.pdf", "3.2"), ("r.pdf", "4"), ("r.pdf", "1")],
    ("good", "minute?"): [("m.pdf", "298")],
    ("good", "nowhere?"): [("r.pdf", "1")],
    # mode "poor": relevant late or absent
    ("poor", "sickness?"): [("x.pdf", str(i)) for i in range(5)] + [("r.pdf", "9")],
    ("poor", "budget?"): [("r.pdf", "1"), ("r.pdf", "4")],
    ("poor", "minute?"): [("m.pdf", "298(4)")],
    ("poor", "nowhere?"): [],
}

CALLS: list[tuple[str, str]] = []


def fake_search(question: str, mode: str) -> list[tuple[str, str]]:
    CALLS.append((question, mode))
    return list(RANKINGS[(mode, question)])


@pytest.fixture()
def result() -> EvalResult:
    return evaluate(GOLD, fake_search, ["good", "poor"], indexed_sources={"r.pdf", "m.pdf"})


def test_metrics_per_mode(result: EvalResult) -> None:
    good = result.modes["good"].metrics
    assert good["hit@1"] == 0.75
    assert good["hit@5"] == 0.75
    assert good["recall@5"] == 0.75
    assert good["mrr@10"] == 0.75
    assert good["ndcg@10"] == pytest.approx(0.75)
    poor = result.modes["poor"].metrics
    assert poor["hit@1"] == 0.0
    assert poor["hit@5"] == 0.25  # only "budget?" (rank 2)
    assert poor["recall@5"] == pytest.approx(0.5 / 4)
    assert poor["recall@10"] == pytest.approx((1 + 0.5) / 4)
    assert poor["mrr@10"] == pytest.approx((1 / 6 + 1 / 2) / 4)
    ndcg_b = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert poor["ndcg@10"] == pytest.approx((1 / math.log2(7) + ndcg_b) / 4)


def test_per_question_and_failures(result: EvalResult) -> None:
    poor = result.modes["poor"]
    by_id = {q.id: q for q in poor.questions}
    assert by_id["a"].first_rank == 6
    assert by_id["b"].first_rank == 2
    assert by_id["c"].first_rank is None
    assert [q.id for q in poor.failing] == ["a", "c", "d"]
    assert [q.id for q in result.modes["good"].failing] == ["d"]
    assert all(q.latency_ms >= 0 for q in poor.questions)
    assert result.missing_sources == ["gone.pdf"]
    assert result.modes["good"].hit_curve[:3] == [0.75, 0.75, 0.75]
    assert poor.hit_curve[0] == 0.0 and poor.hit_curve[1] == 0.25 and poor.hit_curve[5] == 0.5
    text = format_failures(result)
    assert "[a] sickness?" in text and "first relevant at rank 6" in text
    assert "got  1:    x.pdf para 0" in text
    assert "gone.pdf" in text


def test_table_and_json(result: EvalResult) -> None:
    table = format_table(result)
    lines = table.splitlines()
    assert lines[0].split() == ["mode", "n", *METRIC_KEYS, "p50", "ms"]
    assert lines[2].split()[:3] == ["good", "4", "0.750"]
    assert lines[3].startswith("poor")
    data = to_json(result)
    json.dumps(data)  # serialisable
    assert list(data["modes"]["good"]["metrics"]) == list(METRIC_KEYS)
    assert data["missing_sources"] == ["gone.pdf"]
    per_q = data["modes"]["poor"]["per_question"]
    assert per_q[0]["first_relevant_rank"] == 6
    assert per_q[0]["retrieved"][5] == {"rank": 6, "source": "r.pdf", "paragraph": "9"}
    assert data["modes"]["poor"]["failing"] == ["a", "c", "d"]
    assert "p50" in data["modes"]["good"]["latency_ms"]
    assert data["modes"]["good"]["hit_curve"]["1"] == 0.75


def test_figures_apart_for_printed_numbers_and_unnumbered_blocks() -> None:
    gold = [GoldQuestion("a", "sickness?", (GoldItem("r.pdf", "9"),)),
            GoldQuestion("b", "rates?", (GoldItem("m.md", "p1-50"), GoldItem("m.md", "p1-22"))),
            GoldQuestion("c", "adjourned?", (GoldItem("m.md", "p1-13"),))]
    ranked = {"sickness?": [("r.pdf", "9")], "rates?": [("m.md", "p1-2"), ("m.md", "p1-22")],
              "adjourned?": [("m.md", "p1-267")]}
    result = evaluate(gold, lambda q, mode: ranked[q], ["hybrid"], warmup=False)
    kinds = result.modes["hybrid"].by_gold_kind()
    assert kinds["numbered"] == {"n": 1.0, **result.modes["hybrid"].questions[0].metrics}
    assert kinds["block"]["n"] == 2 and kinds["block"]["hit@5"] == 0.5 and kinds["block"]["mrr@10"] == 0.25
    assert to_json(result)["modes"]["hybrid"]["by_gold_kind"] == kinds
    assert format_by_gold_kind(result) == ("hybrid  by gold paragraph: printed numbers (n=1) hit@5 1.000 mrr@10 1.000; "
                                           "unnumbered blocks (n=2) hit@5 0.500 mrr@10 0.250")
    assert gold_kind((("r.pdf", "288(3)"),)) == "numbered" and gold_kind((("r.pdf", "p12-3"),)) == "block"


def test_thresholds(result: EvalResult) -> None:
    assert check_thresholds(result, {"hit@5": 0.7}, "good") == []
    failures = check_thresholds(result, {"hit@5": 0.7, "mrr@10": 0.2}, "poor")
    assert len(failures) == 2 and failures[0].startswith("poor: hit@5 0.250")
    assert len(check_thresholds(result, {"hit@1": 0.5})) == 1  # all modes: poor fails
    with pytest.raises(CouncilQAError):
        check_thresholds(result, {"hits@5": 0.5}, "good")
    with pytest.raises(CouncilQAError):
        check_thresholds(result, {"hit@5": 0.5}, "hybrid")
    assert parse_min("hit@5=0.7") == ("hit@5", 0.7)
    for bad in ("hit@5", "foo=1", "hit@5=x"):
        with pytest.raises(CouncilQAError):
            parse_min(bad)


def test_warmup_and_truncation() -> None:
    CALLS.clear()
    long = [("r.pdf", str(i)) for i in range(20, 40)] + [("r.pdf", "9")]
    res = evaluate(GOLD[:1], lambda q, m: long, ["x"], k=20, warmup=True)
    assert len(res.modes["x"].questions[0].retrieved) == 20
    assert res.modes["x"].questions[0].first_rank is None
    assert len(res.modes["x"].hit_curve) == 20
    evaluate(GOLD, fake_search, ["good"], warmup=True)
    assert len(CALLS) == len(GOLD) + 1
    with pytest.raises(CouncilQAError):
        evaluate(GOLD, fake_search, ["good"], k=5)


def test_plot(result: EvalResult, tmp_path: Path) -> None:
    out = plot(result, tmp_path / "sub" / "eval.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_restrict_to_sources() -> None:
    kept, skipped = restrict_to_sources(GOLD, {"r.pdf", "m.pdf"})
    assert [q.id for q in kept] == ["a", "b", "c"]
    assert [q.id for q in skipped] == ["d"]


# ------------------------------------------------------------------ gold file loading


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_gold_ok(tmp_path: Path) -> None:
    path = _write(tmp_path, [
        "# comment",
        json.dumps({"id": "q1", "question": "what?", "relevant": [{"source": "a.pdf",
                                                                   "paragraph": "9"}]}),
        "",
        json.dumps({"id": 2, "question": "why?", "answer": "because",
                    "relevant": [{"source": "a.pdf", "paragraph": 3},
                                 {"source": "b.pdf", "paragraph": "298(3)"}]}),
    ])
    gold = load_gold(path)
    assert [q.id for q in gold] == ["q1", "2"]
    assert gold[1].citations == [("a.pdf", "3"), ("b.pdf", "298(3)")]
    assert gold[1].answer == "because" and gold[1].line == 4


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"question": "q", "relevant": [{"source": "a", "paragraph": "1"}]}', '"id"'),
        ('{"id": "x", "relevant": [{"source": "a", "paragraph": "1"}]}', '"question"'),
        ('{"id": "x", "question": "q", "relevant": []}', '"relevant"'),
        ('{"id": "x", "question": "q", "relevant": [{"paragraph": "1"}]}', '"source"'),
        ('{"id": "x", "question": "q", "relevant": [{"source": "a"}]}', '"paragraph"'),
        ('{"id": "x", "question": "q", "relevant": [{"source": "a", "paragraph": "1"}], '
         '"answer": 3}', '"answer"'),
    ],
)
def test_load_gold_errors_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    ok = json.dumps({"id": "ok", "question": "q", "relevant": [{"source": "a", "paragraph": "1"}]})
    path = _write(tmp_path, [ok, line])
    with pytest.raises(CouncilQAError) as err:
        load_gold(path)
    assert f"{path}:2:" in str(err.value)
    assert message in str(err.value)


def test_load_gold_duplicate_id_and_missing_file(tmp_path: Path) -> None:
    ok = json.dumps({"id": "ok", "question": "q", "relevant": [{"source": "a", "paragraph": "1"}]})
    with pytest.raises(CouncilQAError, match=r":2: duplicate id"):
        load_gold(_write(tmp_path, [ok, ok]))
    with pytest.raises(CouncilQAError, match="not found"):
        load_gold(tmp_path / "nope.jsonl")
    with pytest.raises(CouncilQAError, match="no questions"):
        load_gold(_write(tmp_path, ["", "# only a comment"]))


# ------------------------------------------------------------------ the dev gold set


def test_dev_gold_set_is_well_formed() -> None:
    everything = load_gold_files([DEV, HOLDOUT])
    assert len(everything) >= 150
    assert sum(q.abstain for q in everything) >= 15
    assert len({s for q in everything for s in q.sources} - {SEED}) >= 20
    assert not {s for q in load_gold(HOLDOUT) for s in q.sources} - {SEED} <= {s for q in load_gold(DEV)
                                                                               for s in q.sources}
    for q in everything:
        assert q.abstain == (not q.relevant), q.id
    gold = answerable(load_gold(DEV))
    assert len(gold) >= 60
    seed = [q for q in gold if SEED in q.sources]
    assert len(seed) >= 20
    others = {s for q in gold for s in q.sources} - {SEED}
    assert len(others) >= 10
    for q in gold:
        assert 1 <= len(q.relevant) <= 3, q.id
        assert q.answer, q.id
        assert not any(s.endswith(".md") and s.startswith("worcestershire") for s in q.sources)


def test_dev_gold_sources_exist_in_shared_corpus(shared_councils: Path) -> None:
    manifest = json.loads((shared_councils / "manifest.json").read_text(encoding="utf-8"))
    names = {entry["name"] for entry in manifest}
    for q in load_gold_files([DEV, HOLDOUT]):
        for source in q.sources - {SEED}:
            assert source in names, (q.id, source)


def _norm_text(text: str) -> str:
    for a, b in (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"')):
        text = text.replace(a, b)
    return " ".join(text.split())


def _document_text(path: Path) -> str:
    from ingest.readers import read_document

    document = read_document(path)
    return _norm_text("\n".join(line for page in document.pages for line in page.lines))


def test_dev_seed_labels_and_quotes() -> None:
    from ingest.report import load_report

    report = load_report(ROOT / "corpus" / SEED)
    labels = {p.label for p in report.paragraphs}
    text = {p.label: _norm_text(p.text) for p in report.paragraphs}
    for q in load_gold(DEV):
        if SEED not in q.sources:
            continue
        for item in q.relevant:
            assert item.paragraph in labels, (q.id, item.paragraph)
        assert q.answer is not None
        assert _norm_text(q.answer) in text[q.relevant[0].paragraph], q.id


def test_dev_shared_quotes_are_in_their_documents(shared_councils: Path) -> None:
    manifest = json.loads((shared_councils / "manifest.json").read_text(encoding="utf-8"))
    files = {entry["name"]: shared_councils.parent / entry["file"] for entry in manifest}
    texts: dict[str, str] = {}
    for q in answerable(load_gold_files([DEV, HOLDOUT])):
        source = q.relevant[0].source
        if source == SEED:
            continue
        if source not in texts:
            texts[source] = _document_text(files[source])
        assert q.answer is not None
        assert _norm_text(q.answer) in texts[source], (q.id, q.answer)
