"""Correcting a report's title, date, council and committee (Library tab and ``council-qa edit``),
removing with confirmation, and re-adding a removed report.

A correction goes to the report's ``<file>.meta.json`` sidecar and to its row in a new generation,
with nothing re-embedded and no model loaded; an ingest notices a sidecar changed beside an
unchanged file the same way. The embedder is the hashing one: the model is not the subject.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import faiss
from conftest import ROOT, SEED_PDF
from fakes import HashingEmbedder

from ingest.index import ingest_paths
from ingest.index_format import VECTORS, read_manifest
from qa import handlers
from qa.service import Library
from qa.store import IndexReader

EMB = HashingEmbedder()
TITLE = "Chief Executive's Annual Report to Council"


def _library(tmp_path) -> Library:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED_PDF, corpus / SEED_PDF.name)
    ingest_paths([corpus], tmp_path / "index", embedder=EMB)
    return Library(tmp_path / "index", corpus, embedder=EMB)


def _vectors(index_dir):
    manifest = read_manifest(index_dir)
    return faiss.serialize_index(faiss.read_index(str(index_dir / manifest["generation"] / VECTORS)))


def _cite(library: Library) -> str:
    return library.ask("sickness absence per employee").citations[0].cite


def test_a_correction_in_the_library_changes_citations_and_keeps_the_vectors(tmp_path):
    library = _library(tmp_path)
    source = SEED_PDF.name
    before, vectors = _cite(library), _vectors(library.index_dir)
    assert before.startswith("Annual Report of the Chief Executive, 13 Feb 2020, para")
    boxes = handlers.edit_fields(library, source)
    assert [b["value"] for b in boxes] == ["Annual Report of the Chief Executive", "2020-02-13",
                                          "Worcestershire County Council", "Council"]

    html = handlers.edit_save(library, source, TITLE, "20200214", "", "Full Council")
    assert "Saved" in html and TITLE.replace("'", "&#x27;") in html

    assert _cite(library).startswith(f"{TITLE}, 14 Feb 2020, para")
    info = library.report(source)
    assert (info.title, info.date, info.council, info.committee) == (
        TITLE, "2020-02-14", "Worcestershire County Council", "Full Council")
    assert "title" not in info.doubtful and "date" not in info.doubtful
    sidecar = json.loads((tmp_path / "corpus" / f"{source}.meta.json").read_text(encoding="utf-8"))
    assert sidecar == {"title": TITLE, "date": "2020-02-14", "committee": "Full Council"}
    assert _vectors(library.index_dir).tobytes() == vectors.tobytes()  # nothing re-embedded
    # the title is searched as corrected
    reader = IndexReader.open(library.index_dir)
    hits = reader.db.execute("SELECT count(*) FROM paragraphs_fts WHERE paragraphs_fts MATCH 'title:executive'")
    assert hits.fetchone()[0] > 0
    # a later ingest of the unchanged file keeps the correction and changes nothing
    summary = ingest_paths([tmp_path / "corpus"], library.index_dir, embedder=EMB)
    assert [r.status for r in summary.results] == ["unchanged"] and not summary.changed
    assert library.report(source).title == TITLE


def test_a_bad_date_is_one_line_and_changes_nothing(tmp_path):
    library = _library(tmp_path)
    manifest = (library.index_dir / "manifest.json").read_text()
    html = handlers.edit_save(library, SEED_PDF.name, "New title", "2020-02-30", "", "")
    assert "The report date “2020-02-30” should be a real date written like 2020-02-13." in html
    assert (library.index_dir / "manifest.json").read_text() == manifest
    assert not (tmp_path / "corpus" / f"{SEED_PDF.name}.meta.json").exists()
    out = subprocess.run([sys.executable, "-m", "qa.cli", "edit", SEED_PDF.name, "--date", "13/02/2020",
                          "--index", str(library.index_dir)], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        "council-qa: error: --date '13/02/2020': dates are YYYY-MM-DD (or YYYYMMDD), e.g. 2020-02-13"]
    assert (library.index_dir / "manifest.json").read_text() == manifest


def test_the_cli_corrects_a_report_without_loading_a_model(tmp_path):
    library = _library(tmp_path)
    code = ("import sys; from qa.cli import main; code = main(sys.argv[1:]); "
            "print('torch' in sys.modules, 'sentence_transformers' in sys.modules); sys.exit(code)")
    out = subprocess.run([sys.executable, "-c", code, "edit", SEED_PDF.name, "--council", "Worcs County Council",
                          "--date", "2020-02-12", "--index", str(library.index_dir)], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        f"{SEED_PDF.name}: Annual Report of the Chief Executive | 12 Feb 2020 | Worcs County Council | Council  "
        f"(kept in {SEED_PDF.name}.meta.json beside the report)", "False False"]
    assert _cite(library).startswith("Annual Report of the Chief Executive, 12 Feb 2020, para")
    assert library.report(SEED_PDF.name).council == "Worcs County Council"


def test_an_ingest_applies_a_sidecar_changed_beside_an_unchanged_file(tmp_path):
    library = _library(tmp_path)
    vectors = _vectors(library.index_dir)
    sidecar = tmp_path / "corpus" / f"{SEED_PDF.name}.meta.json"
    sidecar.write_text(json.dumps({"title": "Edited by hand", "meeting": "County Council"}), encoding="utf-8")
    code = ("import sys; from ingest.index import ingest_paths; s = ingest_paths([sys.argv[2]], sys.argv[1]); "
            "print(s.results[0].status, s.embedded_windows, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(library.index_dir), str(tmp_path / "corpus")], cwd=ROOT,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.split() == ["updated", "0", "False"], out.stderr
    info = library.report(SEED_PDF.name)
    assert (info.title, info.meeting) == ("Edited by hand", "County Council")
    assert _vectors(library.index_dir).tobytes() == vectors.tobytes()
    # a field taken out of the sidecar: the file is read again, and the title is the printed one
    sidecar.write_text(json.dumps({"meeting": "County Council"}), encoding="utf-8")
    summary = ingest_paths([tmp_path / "corpus"], library.index_dir, embedder=EMB)
    assert [r.status for r in summary.results] == ["updated"]
    assert library.report(SEED_PDF.name).title == "Annual Report of the Chief Executive"


def test_remove_asks_first_and_a_removed_report_can_be_added_again(tmp_path):
    library = _library(tmp_path)
    source = SEED_PDF.name
    html, row = handlers.remove_ask(library, source)
    assert "Remove “Annual Report of the Chief Executive”" in html and "cannot be undone" in html
    assert row["visible"] is True
    html, row = handlers.remove_cancel()
    assert "Nothing was removed" in html and row["visible"] is False
    assert library.report(source) is not None

    html, row = handlers.remove_confirm(library, source)
    assert "Removed" in html and row["visible"] is False and library.report(source) is None
    assert handlers.remove_ask(library, source)[0].endswith(f"{source} is not in the library.</p>") or \
        "not in the library" in handlers.remove_ask(library, source)[0]

    upload = tmp_path / "upload"
    upload.mkdir()
    shutil.copy(SEED_PDF, upload / source)
    table = handlers.upload(library, [str(upload / source)])
    assert "Added" in table and "added (" in table, table
    assert library.report(source) is not None


def test_a_corrected_upload_keeps_its_correction_when_uploaded_again_and_loses_it_when_removed(tmp_path):
    library = _library(tmp_path)
    upload = tmp_path / "upload"
    upload.mkdir()
    report = upload / "testborough-2021-05-20-highways.txt"
    report.write_text("Highways Maintenance Update\nTest Borough Council\n\n1. Potholes were repaired within "
                      "28 days in 94 per cent of cases during the year.\n\n2. The budget for resurfacing was "
                      "held at its level of the year before.\n", encoding="utf-8")
    assert "added (" in handlers.upload(library, [str(report)])
    assert "Saved" in handlers.edit_save(library, report.name, "Highways Update 2021", "2021-05-20", "", "")
    kept = tmp_path / "corpus" / "uploads" / f"{report.name}.meta.json"
    assert json.loads(kept.read_text(encoding="utf-8"))["title"] == "Highways Update 2021"

    assert "unchanged" in handlers.upload(library, [str(report)])
    assert library.report(report.name).title == "Highways Update 2021"

    handlers.remove_confirm(library, report.name)
    assert library.report(report.name) is None and not kept.exists()
    assert "added (" in handlers.upload(library, [str(report)])
    assert library.report(report.name).title == "Highways Maintenance Update"
