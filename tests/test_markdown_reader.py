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


def _pages(tmp_path, lines: list[str]) -> dict[str, int]:
    path = tmp_path / "minutes.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {p.label: p.page for p in segment(read_document(path))}


def test_a_converters_page_breaks_give_the_printed_pages(tmp_path):
    pages = _pages(tmp_path, [
        "[Original file](https://example.org/minutes.pdf)", "", "---",
        "MINUTES OF THE MEETING", "", "Apologies were received from Councillor Foley.", "", "---",
        "2", "", "The Director reported on the housing programme.", "", "---",
        "3", "", "4. The meeting closed at 11.00 a.m.", "",
    ])
    assert pages["p2-1"] == 2 and pages["4"] == 3
    assert {label: page for label, page in pages.items() if page == 1} == {"p1-1": 1, "p1-2": 1, "p1-3": 1}


def test_a_section_rule_is_not_a_page_break(tmp_path):
    pages = _pages(tmp_path, [
        "# Minutes", "", "The meeting opened.", "", "---", "", "The meeting heard a deputation.", "", "---", "",
        "The meeting closed.", "",
    ])
    assert set(pages.values()) == {1}


def test_the_shared_markdown_minutes_cite_their_printed_pages():
    path = SHARED / "councils" / "limerick-city-county-council" / (
        "Minutes_-_Ordinary_Meeting_of_Limerick_City_and_County_Council_-_31st_March_2025.md")
    if not path.is_file():
        pytest.skip("../shared is absent")
    paragraphs = segment(read_document(path))
    disposal = next(p for p in paragraphs if p.label == "3")  # printed under page number 3
    assert disposal.page == 3 and disposal.text.startswith("Disposal of Land")
    assert max(p.page for p in paragraphs) == 31
    assert len({p.label for p in paragraphs}) == len(paragraphs)
