"""Asking questions of the bundled corpus with the real default model (all-mpnet-base-v2)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT

from ingest.index import ingest_paths
from qa.answer import answer
from qa.records import Filters
from qa.retrieve import retrieve
from qa.store import IndexReader


@pytest.fixture(scope="module")
def model(default_model):
    return default_model


def test_sickness_absence_cites_para_9_with_the_figure(seed_index, model):
    reader = IndexReader.open(seed_index)
    result = answer(reader, model, "what happened to sickness absence?")
    assert not result.abstained
    first = result.citations[0]
    assert (first.source, first.paragraph) == (
        "worcestershire-2020-02-13-chief-executive-annual-report.pdf", "9")
    assert first.cite == "Annual Report of the Chief Executive, 13 Feb 2020, para 9"
    assert "7.68 days per employee" in result.answer
    assert "[1]" in result.answer
    assert first.highlight in first.text
    # the Markdown copy of the same report is never cited beside the PDF
    assert all(c.source.endswith(".pdf") for c in result.citations)


def test_unrelated_question_abstains(seed_index, model):
    reader = IndexReader.open(seed_index)
    result = answer(reader, model, "what is the airspeed velocity of an unladen swallow?")
    assert result.abstained
    assert "No paragraph" in result.answer
    assert result.citations  # the closest paragraphs are still shown, as such


def test_fact_at_the_end_of_a_1000_word_paragraph_is_found_by_dense_search(tmp_path, model):
    filler = (
        "The committee considered the budget monitoring position for the quarter and noted the "
        "variances reported by each directorate together with the mitigating actions proposed. "
    )
    words = []
    while len(words) < 1000:
        words.extend(filler.split())
    long_para = " ".join(words[:1000]) + (
        " Finally, the council confirmed that the new swimming pool in Riverside Park will open to "
        "residents in September."
    )
    other = [
        "The council agreed its treasury management strategy for the coming year.",
        "Members noted the update on highways maintenance and pothole repairs.",
    ]
    doc = tmp_path / "long.txt"
    doc.write_text("\n".join(f"{i}. {t}" for i, t in enumerate([other[0], long_para, other[1]], start=1)))
    ix = tmp_path / "ix"
    ingest_paths([doc], ix, embedder=model)
    hits = retrieve(IndexReader.open(ix), model, "when will the swimming pool open?", k=1, mode="dense")
    assert hits[0].paragraph.label == "2"
    assert len(hits[0].paragraph.text.split()) > 1000


def test_report_filter_and_unknown_report(seed_index, model):
    from ingest.errors import CouncilQAError

    reader = IndexReader.open(seed_index)
    source = "worcestershire-2020-02-13-chief-executive-annual-report.pdf"
    hits = retrieve(reader, model, "Ofsted", k=3, filters=Filters(reports=(source,)))
    assert hits and all(h.paragraph.source == source for h in hits)
    assert retrieve(reader, model, "Ofsted", k=3, filters=Filters(since="2021-01-01")) == []
    with pytest.raises(CouncilQAError, match="not in the index"):
        retrieve(reader, model, "Ofsted", filters=Filters(reports=("nope.pdf",)))


def test_cli_ask_file_json_one_object_per_line(seed_index, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text("what happened to sickness absence?\nhow is the pension fund doing?\n")
    out = subprocess.run(
        [sys.executable, "-m", "qa.cli", "ask", "-f", str(questions), "--json", "--index", str(seed_index)],
        capture_output=True, text=True, cwd=ROOT, check=True,
    ).stdout.strip().splitlines()
    assert len(out) == 2
    first = json.loads(out[0])
    assert set(first) == {"question", "answer", "abstained", "citations"}
    assert set(first["citations"][0]) == {
        "rank", "source", "title", "date", "paragraph", "heading", "page", "score", "text", "highlight",
        "committee", "meeting_date", "item", "scanned"}
    assert first["citations"][0]["paragraph"] == "9"
    assert json.loads(out[1])["citations"][0]["paragraph"] == "5"  # "Pension Fund ... 92% funded"
