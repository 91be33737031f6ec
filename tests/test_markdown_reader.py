"""Markdown converted from PDF: HTML left in the text and the converter's notes."""

from __future__ import annotations

import pytest
from conftest import SHARED

from ingest.readers import read_document
from ingest.segment import segment

NOTE = "*<small>Scanned page, text may contain errors. See original file for clarity</small>*  "


def _paragraphs(tmp_path, text: str):
    path = tmp_path / "minutes.md"
    path.write_text(text, encoding="utf-8")
    return {p.label: p.text for p in segment(read_document(path))}


def test_a_converter_note_between_pages_is_not_quoted_and_tags_are_left_out(tmp_path):
    paragraphs = _paragraphs(tmp_path, "\n".join([
        NOTE, "", "MINUTES OF THE ANNUAL MEETING", "",
        "3. Apologies were received from Councillor Foley.", "",
        "4. Election of Cathaoirleach: the Director invited nominations for the coming", "year.", "",
        "---", NOTE, "", "2", "",
        "Councillor Scanlan was elected<br>Cathaoirleach <em>for the year</em>.", "",
        "5. The meeting closed at 11.00 a.m.", "",
    ]))
    assert paragraphs["4"] == ("Election of Cathaoirleach: the Director invited nominations for the coming year. "
                               "Councillor Scanlan was elected Cathaoirleach for the year.")
    assert not any("Scanned page" in text or "<" in text for text in paragraphs.values())


def test_a_comparison_sign_is_not_taken_for_a_tag(tmp_path):
    paragraphs = _paragraphs(tmp_path, "1. Arrears fell to < 5% of the debit and a<b held.\n")
    assert paragraphs["1"] == "Arrears fell to < 5% of the debit and a<b held."


def test_no_paragraph_of_the_shared_markdown_holds_html():
    folder = SHARED / "councils" / "limerick-city-county-council"
    files = sorted(folder.glob("*.md")) if folder.is_dir() else []
    if not files:
        pytest.skip("../shared is absent")
    for path in files:
        paragraphs = segment(read_document(path))
        assert not [p.label for p in paragraphs if "<small" in p.text or "Scanned page" in p.text], path.name
