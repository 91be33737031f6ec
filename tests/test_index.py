"""The index: incremental, duplicate-aware, safe against bad files, kills and concurrent writers.

The embedder here is the deterministic hashing one: the model is not the subject.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SEED_MD, SEED_PDF
from fakes import HashingEmbedder

from ingest.errors import CouncilQAError
from ingest.index import ingest_paths, remove_report
from qa.retrieve import retrieve
from qa.store import IndexReader

EMB = HashingEmbedder()


def _txt(path: Path, paragraphs: list[str]) -> Path:
    path.write_text("\n".join(f"{i}. {text}" for i, text in enumerate(paragraphs, start=1)), encoding="utf-8")
    return path


def _snapshot(index_dir: Path, questions=("sickness absence", "Ofsted inspection", "pension fund")):
    reader = IndexReader.open(index_dir)
    try:
        return [
            [(h.paragraph.source, h.paragraph.label, round(h.score, 6)) for h in retrieve(reader, EMB, q, k=5)]
            for q in questions
        ]
    finally:
        reader.close()


def test_seed_pdf_and_markdown_are_one_report(tmp_path):
    summary = ingest_paths([SEED_PDF, SEED_MD], tmp_path / "ix", embedder=EMB)
    status = {r.source: r.status for r in summary.results}
    assert status[SEED_PDF.name] == "added"
    assert status[SEED_MD.name] == "duplicate"
    reader = IndexReader.open(tmp_path / "ix")
    assert [r.source for r in reader.reports()] == [SEED_PDF.name]
    assert reader.manifest["counts"]["windows"] == reader.manifest["counts"]["vectors"] > 0


def test_reingest_unchanged_does_no_work(tmp_path):
    ix = tmp_path / "ix"
    first = ingest_paths([SEED_PDF, SEED_MD], ix, embedder=EMB)
    manifest = json.loads((ix / "manifest.json").read_text())
    second = ingest_paths([SEED_PDF, SEED_MD], ix, embedder=EMB)
    assert first.embedded_windows > 0
    assert second.embedded_windows == 0 and not second.changed
    assert {r.status for r in second.results} == {"unchanged", "duplicate"}
    assert json.loads((ix / "manifest.json").read_text()) == manifest  # nothing rewritten


def test_changed_file_replaces_only_its_paragraphs_and_prune_drops_missing(tmp_path):
    ix = tmp_path / "ix"
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED_PDF, docs)
    report = _txt(docs / "parks.txt", ["Parks Committee notes.", "The lido reopens in May after repairs."])
    ingest_paths([docs], ix, embedder=EMB)
    reader = IndexReader.open(ix)
    seed_rows = reader.db.execute(
        "SELECT p.id, p.label, p.text FROM paragraphs p JOIN reports r ON r.id = p.report_id WHERE r.source = ?",
        (SEED_PDF.name,),
    ).fetchall()
    reader.close()

    _txt(report, ["Parks Committee notes.", "The lido stays closed until 2027 for repairs.", "Tennis courts."])
    summary = ingest_paths([docs], ix, embedder=EMB)
    assert {r.source: r.status for r in summary.results}["parks.txt"] == "updated"
    reader = IndexReader.open(ix)
    texts = [t for (t,) in reader.db.execute(
        "SELECT text FROM paragraphs p JOIN reports r ON r.id = p.report_id WHERE r.source = 'parks.txt'")]
    assert texts == ["Parks Committee notes.", "The lido stays closed until 2027 for repairs.", "Tennis courts."]
    assert reader.db.execute(
        "SELECT p.id, p.label, p.text FROM paragraphs p JOIN reports r ON r.id = p.report_id WHERE r.source = ?",
        (SEED_PDF.name,),
    ).fetchall() == seed_rows  # ids and citations of the other report untouched
    reader.close()

    report.unlink()
    summary = ingest_paths([docs], ix, embedder=EMB, prune=True)
    assert ("parks.txt", "removed") in {(r.source, r.status) for r in summary.results}
    reader = IndexReader.open(ix)
    assert [r.source for r in reader.reports()] == [SEED_PDF.name]
    assert reader.manifest["counts"]["windows"] == reader.vectors.ntotal


def test_bad_files_are_reported_and_the_rest_ingested(tmp_path):
    import pypdf

    ix = tmp_path / "ix"
    ingest_paths([SEED_PDF], ix, embedder=EMB)
    seed_rows = "SELECT id, label, text FROM paragraphs ORDER BY id"
    before = IndexReader.open(ix).db.execute(seed_rows).fetchall()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage")
    writer = pypdf.PdfWriter(clone_from=str(SEED_PDF))
    writer.encrypt(user_password="secret", owner_password="owner")
    with (bad / "locked.pdf").open("wb") as fh:
        writer.write(fh)
    (bad / "good.txt").write_text("1. The library opening hours are extended to 8pm on Thursdays.\n")
    summary = ingest_paths([bad, bad / "locked.pdf"], ix, embedder=EMB)
    by_source = {r.source: r for r in summary.results}
    assert by_source["good.txt"].status == "added"
    assert "empty" in by_source["empty.txt"].reason
    assert "corrupt" in by_source["corrupt.pdf"].reason
    assert "encrypted" in by_source["locked.pdf"].reason
    assert {by_source[s].status for s in ("empty.txt", "corrupt.pdf", "locked.pdf")} == {"failed"}
    # unsupported types are never picked up from folders, but named directly they fail clearly
    (bad / "figures.xlsx").write_bytes(b"PK\x03\x04")
    result = ingest_paths([bad / "figures.xlsx"], ix, embedder=EMB).results[0]
    assert result.status == "failed" and "unsupported file type" in result.reason
    reader = IndexReader.open(ix)
    assert sorted(r.source for r in reader.reports()) == sorted([SEED_PDF.name, "good.txt"])
    assert reader.db.execute(seed_rows).fetchall()[: len(before)] == before  # the seed is intact


def test_an_index_keeps_the_windowing_it_was_built_with(tmp_path):
    ix = tmp_path / "ix"
    ingest_paths([SEED_MD], ix, embedder=EMB)
    manifest = json.loads((ix / "manifest.json").read_text())
    assert manifest["windowing"] == {"max_words": 50, "overlap_sentences": 1, "heading_prepended": True}
    manifest["windowing"] = {"max_words": 40, "overlap_sentences": 2}  # another version's windowing
    (ix / "manifest.json").write_text(json.dumps(manifest))
    later = tmp_path / "later.md"
    later.write_text("# Later Report\n\n1. " + " ".join(f"Sentence {i} has six words here." for i in range(12)) + "\n")
    ingest_paths([SEED_MD, later], ix, embedder=EMB)
    manifest = json.loads((ix / "manifest.json").read_text())
    assert manifest["windowing"] == {"max_words": 40, "overlap_sentences": 2, "heading_prepended": True}
    reader = IndexReader.open(ix, EMB)
    try:
        windows = [t for (t,) in reader.db.execute(
            "SELECT w.text FROM windows w JOIN paragraphs p ON p.id = w.paragraph_id JOIN reports r"
            " ON r.id = p.report_id WHERE r.source = 'later.md' ORDER BY w.seq")]
    finally:
        reader.close()
    assert len(windows) > 1 and all(len(w.split()) <= 40 for w in windows)
    assert windows[1].split(". ")[:2] == windows[0].rstrip(".").split(". ")[-2:]  # two sentences of overlap


def test_a_fast_model_index_embeds_every_sentence_once(tmp_path):
    from ingest.embed import FAST_MODEL, split_sentences

    ix = tmp_path / "ix"
    ingest_paths([SEED_MD], ix, embedder=HashingEmbedder(dimension=384, name=FAST_MODEL))
    manifest = json.loads((ix / "manifest.json").read_text())
    assert manifest["windowing"] == {"max_words": 50, "overlap_sentences": 0, "heading_prepended": True}
    reader = IndexReader.open(ix, HashingEmbedder(dimension=384, name=FAST_MODEL))
    try:
        rows = reader.db.execute("SELECT p.id, p.text, w.text FROM windows w JOIN paragraphs p"
                                 " ON p.id = w.paragraph_id ORDER BY p.id, w.seq").fetchall()
    finally:
        reader.close()
    by_paragraph: dict[int, tuple[str, list[str]]] = {}
    for pid, text, window in rows:
        by_paragraph.setdefault(pid, (text, []))[1].append(window)
    assert any(len(windows) > 3 for _, windows in by_paragraph.values())
    for text, windows in by_paragraph.values():  # the windows, joined, are the paragraph's sentences
        assert " ".join(windows).split() == " ".join(split_sentences(text)).split()


def test_index_built_with_another_model_is_refused(tmp_path):
    ix = tmp_path / "ix"
    ingest_paths([SEED_PDF], ix, embedder=EMB)
    with pytest.raises(CouncilQAError, match="rebuild"):
        ingest_paths([SEED_MD], ix, embedder=HashingEmbedder(dimension=128, name="other-model"))
    reader = IndexReader.open(ix)
    with pytest.raises(CouncilQAError, match="hashing-test-embedder"):
        reader.check_embedder("other-model", 128)


def test_second_writer_gets_index_busy(tmp_path):
    from filelock import FileLock

    ix = tmp_path / "ix"
    ingest_paths([SEED_PDF], ix, embedder=EMB)
    with FileLock(str(ix / ".lock")):
        with pytest.raises(CouncilQAError, match="index busy"):
            ingest_paths([SEED_MD], ix, embedder=EMB)
    reader = IndexReader.open(ix)  # readers are never blocked
    assert reader.reports()


def test_remove_report(tmp_path):
    ix = tmp_path / "ix"
    ingest_paths([SEED_PDF, _txt(tmp_path / "a.txt", ["Alpha paragraph text here."])], ix, embedder=EMB)
    assert remove_report(ix, "a.txt") is True
    assert remove_report(ix, "a.txt") is False
    assert [r.source for r in IndexReader.open(ix).reports()] == [SEED_PDF.name]


_KILL_SCRIPT = """
import sys, time
from fakes import HashingEmbedder
from ingest.index import ingest_paths

class Slow(HashingEmbedder):
    def encode(self, texts):
        print("embedding", flush=True)
        time.sleep(3)
        return super().encode(texts)

ingest_paths(sys.argv[2:], sys.argv[1], embedder=Slow())
"""


def test_sigkill_half_way_leaves_previous_index_answering_exactly_as_before(tmp_path):
    ix = tmp_path / "ix"
    ingest_paths([SEED_PDF], ix, embedder=EMB)
    before = _snapshot(ix)
    manifest_before = (ix / "manifest.json").read_text()
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(8):
        _txt(docs / f"report{n}.txt", [f"Report {n} says the sickness absence rate fell to {n}.5 days."] * 3)
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILL_SCRIPT, str(ix), str(docs)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"},
    )
    # half-way: the reports are read and written aside, their windows are being embedded
    assert proc.stdout.readline().startswith("embedding")
    assert list(ix.glob("gen-*.tmp-*")), "the new generation should be in progress"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert (ix / "manifest.json").read_text() == manifest_before
    assert _snapshot(ix) == before
    # the next ingest cleans up after the killed one and completes
    summary = ingest_paths([SEED_PDF, docs], ix, embedder=EMB)
    assert sum(r.status == "added" for r in summary.results) == 8
    assert not list(ix.glob("gen-*.tmp-*"))


def test_garbage_pdfs_fail_one_by_one(tmp_path):
    import random

    rng = random.Random(7)
    docs = tmp_path / "docs"
    docs.mkdir()
    seed_bytes = SEED_PDF.read_bytes()
    for n in range(6):  # random bytes, and the real PDF cut or corrupted at random places
        data = bytearray(seed_bytes[: rng.randrange(100, len(seed_bytes))]) if n % 2 else bytearray(rng.randbytes(5000))
        for _ in range(20):
            data[rng.randrange(len(data))] = rng.randrange(256)
        (docs / f"broken{n}.pdf").write_bytes(bytes(data))
    (docs / "good.txt").write_text("1. The library opening hours are extended to 8pm on Thursdays.\n")
    summary = ingest_paths([docs], tmp_path / "ix", embedder=EMB)
    statuses = {r.source: r.status for r in summary.results}
    assert statuses["good.txt"] == "added"
    for r in summary.results:
        assert r.status in ("added", "failed")
        assert r.status == "added" or r.reason


_CRASH_SCRIPT = """
import os, signal, sys
from fakes import HashingEmbedder
from ingest import writer
from ingest.index import ingest_paths

step = sys.argv[1]
original = getattr(writer.GenerationWriter, step)

def crash_after(self, *args, **kwargs):
    result = original(self, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
    return result

setattr(writer.GenerationWriter, step, crash_after)
ingest_paths(sys.argv[3:], sys.argv[2], embedder=HashingEmbedder())
"""


@pytest.mark.parametrize("step", ["prepare", "embed_pending", "seal", "switch", "tidy"])
def test_a_writer_killed_after_each_commit_step_never_wedges_the_index(tmp_path, step):
    ix = tmp_path / "ix"
    ingest_paths([SEED_PDF], ix, embedder=EMB)
    before = _snapshot(ix)
    extra = _txt(tmp_path / "pool.txt", ["The swimming pool reopens in May.", "Sickness absence fell to 3 days."])
    proc = subprocess.run(
        [sys.executable, "-c", _CRASH_SCRIPT, step, str(ix), str(SEED_PDF), str(extra)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"}, capture_output=True, text=True,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    after_crash = _snapshot(ix)
    manifest = json.loads((ix / "manifest.json").read_text())
    if step in ("switch", "tidy"):
        assert after_crash != before  # the commit point was passed: the new report is in
    else:
        assert after_crash == before and manifest["generation"] == "gen-000001"
    # the next ingests recover whatever was left and complete; generation numbers never collide
    summary = ingest_paths([SEED_PDF, extra], ix, embedder=EMB)
    assert not summary.failed
    extra.write_text("1. The swimming pool stays closed.\n2. Sickness absence fell to 2 days.\n")
    assert ingest_paths([SEED_PDF, extra], ix, embedder=EMB).changed
    reader = IndexReader.open(ix)
    assert sorted(r.source for r in reader.reports()) == sorted([SEED_PDF.name, "pool.txt"])
    folders = sorted(p.name for p in ix.iterdir() if p.name.startswith("gen-"))
    assert folders[-1] == reader.generation and len(folders) <= 2 and not any("tmp" in f for f in folders)


def test_a_leftover_generation_from_a_crash_at_the_commit_point_is_cleaned(tmp_path):
    ix = tmp_path / "ix"
    ingest_paths([SEED_PDF], ix, embedder=EMB)
    shutil.copytree(ix / "gen-000001", ix / "gen-000002")  # sealed, but the manifest never switched
    (ix / "gen-000003.tmp-99999").mkdir()  # half built
    extra = _txt(tmp_path / "pool.txt", ["The swimming pool reopens in May."])
    summary = ingest_paths([SEED_PDF, extra], ix, embedder=EMB)
    assert summary.generation == "gen-000004" and not summary.failed
    assert sorted(p.name for p in ix.iterdir() if p.name.startswith("gen-")) == ["gen-000001", "gen-000004"]


def test_a_batch_where_every_file_fails_writes_no_generation(tmp_path):
    ix = tmp_path / "ix"
    ingest_paths([SEED_PDF], ix, embedder=EMB)
    manifest = (ix / "manifest.json").read_text()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "corrupt.pdf").write_bytes(b"%PDF-1.4 garbage")
    summary = ingest_paths([bad], ix, embedder=EMB)
    assert len(summary.failed) == 2 and not summary.changed
    assert (ix / "manifest.json").read_text() == manifest
    assert sorted(p.name for p in ix.iterdir() if p.name.startswith("gen-")) == ["gen-000001"]


def test_an_unchanged_reingest_loads_no_model(tmp_path):
    ix = tmp_path / "ix"
    ingest_paths([SEED_PDF], ix, embedder=EMB)
    code = ("import sys; from ingest.index import ingest_paths; "
            "s = ingest_paths([sys.argv[2]], sys.argv[1]); "
            "print(s.results[0].status, 'torch' in sys.modules, 'sentence_transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(ix), str(SEED_PDF)], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.split() == ["unchanged", "False", "False"], out.stderr


def test_a_full_disk_is_one_line_and_the_index_is_left_as_it_was(tmp_path, monkeypatch):
    import errno

    import faiss

    from ingest.errors import NoSpace

    ix = tmp_path / "ix"
    ingest_paths([SEED_PDF], ix, embedder=EMB)
    before, manifest = _snapshot(ix), (ix / "manifest.json").read_text()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(faiss, "write_index", full)
    with pytest.raises(NoSpace, match="no space left .* nothing changed") as caught:
        ingest_paths([SEED_PDF, _txt(tmp_path / "pool.txt", ["The pool reopens in May."])], ix, embedder=EMB)
    assert "\n" not in str(caught.value)
    assert (ix / "manifest.json").read_text() == manifest and _snapshot(ix) == before
    assert not list(ix.glob("gen-*.tmp-*"))


def test_words_in_more_paragraphs_than_the_cap_are_left_out_of_the_text_search(tmp_path, monkeypatch):
    import qa.lexical

    ix = tmp_path / "ix"
    ingest_paths([SEED_MD], ix, embedder=EMB)
    reader = IndexReader.open(ix, EMB)
    try:
        both = reader.lexical('"council" OR "sickness"', 10, None)
        rare = reader.lexical('"sickness"', 10, None)
        assert [pid for pid, _ in both] != [pid for pid, _ in rare]  # under the cap: both words count
        paragraphs = reader.manifest["counts"]["paragraphs"]
        with_council = reader.text.paragraphs_with('"council"')
        assert 3 < with_council < paragraphs and reader.text.paragraphs_with('"sickness"') <= 3
        monkeypatch.setattr(qa.lexical, "COMMON_TERM_PARAGRAPHS", 3)
        reader.text._term_counts.clear()
        assert reader.lexical('"council" OR "sickness"', 10, None) == rare
        # when every word is common there is no text search: the dense search answers alone
        assert reader.text.without_common_terms('"council" OR "the"') == ""
        assert reader.lexical('"council" OR "the"', 10, None) == []
        # a named report is searched by its run of paragraph ids with every word, common or not
        report = next(iter(reader.text.spans))
        named = reader.lexical('"council" OR "sickness"', 10, {report})
        assert [pid for pid, _ in named] == [pid for pid, _ in both]
    finally:
        reader.close()


def test_a_filter_searched_by_runs_of_paragraph_ids_scores_as_the_join_does(tmp_path):
    from qa.lexical import ParagraphSpan, id_runs

    spans = {1: ParagraphSpan(1, 10, 10), 2: ParagraphSpan(11, 12, 2), 3: ParagraphSpan(20, 25, 6)}
    assert id_runs({1, 2, 3}, spans) == [(1, 12), (20, 25)]
    assert id_runs({3}, spans) == [(20, 25)]
    assert id_runs({1, 4}, {**spans, 4: ParagraphSpan(30, 40, 5)}) is None  # ids not consecutive: a join
    other = tmp_path / "sickness-review.md"
    other.write_text("# Sickness Absence Review\n\n1. Sickness absence in the council fell again this year.\n\n"
                     "2. The council budget for occupational health rose by 3%.\n")
    ix = tmp_path / "ix"
    ingest_paths([SEED_MD, other], ix, embedder=EMB)
    reader = IndexReader.open(ix, EMB)
    try:
        match = '"sickness" OR "absence" OR "council" OR "budget"'
        first, second = sorted(reader.text.spans)
        for report_ids in ({first}, {second}, {first, second}):
            assert id_runs(report_ids, reader.text.spans) is not None
            by_runs = reader.text.search(match, 20, report_ids)
            by_join = reader.text._query(match, 20, None, report_ids)
            assert by_runs and [p for p, _ in by_runs] == [p for p, _ in by_join]
            assert [round(s, 9) for _, s in by_runs] == [round(s, 9) for _, s in by_join]
    finally:
        reader.close()


def test_a_named_report_is_searched_less_its_common_subject_and_its_hits_keep_their_cosines(tmp_path):
    from qa.records import Filters
    from qa.retrieve import DEFAULT_PARAMS, best_cosine

    ix = tmp_path / "ix"
    ingest_paths([SEED_MD], ix, embedder=EMB)
    reader = IndexReader.open(ix, EMB)
    try:
        (rid, report), = reader._reports.items()
        vectors = reader.report_vectors(rid)
        assert len(vectors) == reader.manifest["counts"]["windows"]
        assert reader.report_centroid(rid) == pytest.approx(vectors.mean(axis=0))
        hits = retrieve(reader, EMB, "sickness absence days", k=5, filters=Filters(reports=(report.source,)))
        assert DEFAULT_PARAMS.named_centroid_weight > 0 and hits
        question = EMB.encode(["sickness absence days"])[0]
        for hit in hits:  # the decline rules read these: true cosines, not the discounted scores
            windows = reader.windows_of(hit.paragraph_id)
            assert hit.dense == pytest.approx(max(float(v @ question) for _, v in windows))
            assert hit.dense == pytest.approx(best_cosine(reader, hit.paragraph_id, question))
        assert hits[0].paragraph.label == "9"
    finally:
        reader.close()


def test_a_text_repeated_among_the_pending_windows_is_embedded_once_and_every_window_gets_its_vector():
    import numpy as np

    from ingest.vector_index import empty_flat
    from ingest.writer import PendingWindows

    class Counting(HashingEmbedder):
        def __init__(self) -> None:
            self.embedded: list[str] = []

        def encode(self, texts):
            self.embedded.extend(texts)
            return super().encode(texts)

    texts = ["Sickness absence fell.", "Page 2 of 9", "The pool reopens.", "Page 2 of 9"]
    pending, vectors, model = PendingWindows(), empty_flat(EMB.dimension), Counting()
    for wid, text in enumerate(texts, start=10):
        pending.add(wid, text)
    assert pending.flush(model, vectors) == 4 and vectors.ntotal == 4
    assert sorted(model.embedded) == sorted(set(texts))
    expected = EMB.encode(texts)
    for row, wid in enumerate(range(10, 14)):
        assert np.allclose(vectors.reconstruct(wid), expected[row])
