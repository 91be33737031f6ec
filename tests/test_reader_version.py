"""A report read by older reading rules is read again, and unchanged windows keep their vectors.

``ingest.report.READER_VERSION`` is raised whenever the rules that turn a file into paragraphs
change; the index records per report the version that read it (``reports.reader_version``).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SEED_PDF
from fakes import HashingEmbedder

from ingest.index import ingest_paths
from ingest.report import READER_VERSION
from qa.retrieve import retrieve
from qa.store import IndexReader

QUESTIONS = ("sickness absence", "Ofsted inspection", "pension fund")


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, counting the texts it was asked to embed."""

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return super().encode(texts)


def _ranked(ix: Path) -> list[list[tuple[str, str, float]]]:
    reader = IndexReader.open(ix)
    try:
        embedder = HashingEmbedder()
        return [[(h.paragraph.source, h.paragraph.label, round(h.score, 6)) for h in retrieve(reader, embedder, q, k=5)]
                for q in QUESTIONS]
    finally:
        reader.close()


def _versions(ix: Path) -> dict[str, int]:
    reader = IndexReader.open(ix)
    try:
        return dict(reader.db.execute("SELECT source, reader_version FROM reports"))
    finally:
        reader.close()


def _newer_rules(monkeypatch: pytest.MonkeyPatch) -> int:
    newer = READER_VERSION + 1
    monkeypatch.setattr("ingest.report.READER_VERSION", newer)
    monkeypatch.setattr("ingest.rows.READER_VERSION", newer)
    return newer


def test_a_report_read_by_older_rules_is_read_again_and_keeps_every_unchanged_vector(tmp_path, monkeypatch):
    ix = tmp_path / "ix"
    first = ingest_paths([SEED_PDF], ix, embedder=HashingEmbedder())
    assert _versions(ix) == {SEED_PDF.name: READER_VERSION}
    before = _ranked(ix)

    newer = _newer_rules(monkeypatch)
    counting = CountingEmbedder()
    again = ingest_paths([SEED_PDF], ix, embedder=counting)
    (result,) = again.results
    assert result.status == "updated" and "read again" in result.reason
    assert again.embedded_windows == 0 and counting.embedded == []
    assert again.kept_windows == first.embedded_windows > 100
    assert _versions(ix) == {SEED_PDF.name: newer}
    assert _ranked(ix) == before  # the same paragraphs, the same vectors, the same scores

    third = ingest_paths([SEED_PDF], ix, embedder=counting)
    assert [r.status for r in third.results] == ["unchanged"]


def test_a_changed_file_embeds_only_the_windows_whose_text_changed(tmp_path):
    ix, report = tmp_path / "ix", tmp_path / "parks.txt"
    paragraphs = ["The Parks Committee met on 3 March.", "The lido reopens in May after repairs.",
                  "Tennis courts in Victoria Park will be resurfaced."]
    report.write_text("\n".join(f"{i}. {t}" for i, t in enumerate(paragraphs, start=1)), encoding="utf-8")
    ingest_paths([report], ix, embedder=HashingEmbedder())

    paragraphs[1] = "The lido stays closed until 2027 for repairs."
    report.write_text("\n".join(f"{i}. {t}" for i, t in enumerate(paragraphs, start=1)), encoding="utf-8")
    counting = CountingEmbedder()
    summary = ingest_paths([report], ix, embedder=counting)
    assert [(r.status, r.reason) for r in summary.results] == [("updated", "")]  # the file itself changed
    assert summary.kept_windows == 2 and summary.embedded_windows == 1
    assert counting.embedded == ["The lido stays closed until 2027 for repairs."]

    fresh = tmp_path / "fresh"
    ingest_paths([report], fresh, embedder=HashingEmbedder())
    assert _ranked(ix) == _ranked(fresh)  # kept vectors score exactly as newly embedded ones


def test_an_index_made_before_versions_were_recorded_is_upgraded_without_loading_a_model(tmp_path):
    ix = tmp_path / "ix"
    ingest_paths([SEED_PDF], ix, embedder=HashingEmbedder())
    reader = IndexReader.open(ix)
    generation = ix / reader.manifest["generation"] / "council.sqlite"
    reader.close()
    with sqlite3.connect(generation) as db:  # as an index written before reader_version existed
        db.execute("ALTER TABLE reports DROP COLUMN reader_version")
    before = _ranked(ix)  # still readable as it is

    code = ("import sys; from ingest.index import ingest_paths; "
            "s = ingest_paths([sys.argv[2]], sys.argv[1]); r = s.results[0]; "
            "print(r.status, s.embedded_windows, s.kept_windows > 0, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(ix), str(SEED_PDF)], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.split() == ["updated", "0", "True", "False"], out.stderr
    assert _versions(ix) == {SEED_PDF.name: READER_VERSION}
    assert _ranked(ix) == before


def test_a_report_read_again_keeps_its_place_beside_a_report_that_holds_it_whole(tmp_path, monkeypatch):
    decisions = ["The committee approved the Workplace Parking Levy outline business case for consultation.",
                 "The committee agreed a budget of one million pounds for the next stage of the scheme.",
                 "The committee asked officers to report back on exemptions for small employers in March."]
    minutes = [*decisions, "Members heard six public statements about bus services in the east of the city.",
               "The minutes of the previous meeting were agreed as a correct record of proceedings."]
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, paragraphs in (("a-decision-notice.txt", decisions), ("b-minutes.txt", minutes)):
        (docs / name).write_text("\n".join(f"{i}. {t}" for i, t in enumerate(paragraphs, start=1)), encoding="utf-8")
    ix = tmp_path / "ix"
    first = ingest_paths([docs], ix, embedder=HashingEmbedder())
    assert [r.status for r in first.results] == ["added", "added"]  # read in this order, neither repeats the other

    _newer_rules(monkeypatch)
    again = ingest_paths([docs], ix, embedder=HashingEmbedder())
    assert [r.status for r in again.results] == ["updated", "updated"]
    assert sorted(_versions(ix)) == ["a-decision-notice.txt", "b-minutes.txt"]


def test_an_ivf_index_reads_a_report_again_and_keeps_its_vectors(tmp_path, monkeypatch):
    from ingest import vector_index

    monkeypatch.setattr(vector_index, "IVF_THRESHOLD", 100)  # a library past the threshold, in small
    ix = tmp_path / "ix"
    first = ingest_paths([SEED_PDF], ix, embedder=HashingEmbedder())
    reader = IndexReader.open(ix)
    assert reader.manifest["vectors"]["kind"] == "ivf"
    reader.close()
    before = _ranked(ix)

    _newer_rules(monkeypatch)
    counting = CountingEmbedder()
    again = ingest_paths([SEED_PDF], ix, embedder=counting)
    assert [r.status for r in again.results] == ["updated"]
    assert counting.embedded == [] and again.kept_windows == first.embedded_windows
    assert _ranked(ix) == before
