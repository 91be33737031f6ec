"""The seed report, as PDF and as Markdown, splits into its 42 printed paragraphs."""

from __future__ import annotations

import re

from conftest import SEED_MD, SEED_PDF

from ingest.report import load_report


def _numbered(path):
    return {p.label: p for p in load_report(path).paragraphs if p.numbered}


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_pdf_labels_are_1_to_42_in_order():
    labels = [p.label for p in load_report(SEED_PDF).paragraphs if p.numbered]
    assert labels == [str(n) for n in range(1, 43)]


def test_pdf_para_9_joins_its_page_break_continuation():
    para = _numbered(SEED_PDF)["9"]
    assert "7.68 days per employee" in para.text
    assert "compared to the same position 12 months ago" in para.text
    assert para.page == 3
    assert para.heading == "Organisational Redesign and Human Resource Management"


def test_pdf_para_15_and_no_page_furniture_inside_paragraphs():
    paras = _numbered(SEED_PDF)
    assert "Two executive interim headteachers" in paras["15"].text
    for para in paras.values():
        # page numbers sat alone at the top of each page: none may survive as a lone token
        assert not re.search(r"(^|\n)\d{1,2}(\n|$)", para.text), para.label
        assert "Contact Points" not in para.text and "PAUL ROBINSON" not in para.text


def test_metadata_title_and_date():
    meta = load_report(SEED_PDF).meta
    assert "Annual Report of the Chief Executive" in meta.title
    assert meta.date == "2020-02-13"
    assert meta.council == "Worcestershire County Council"


def test_markdown_gives_the_same_42_paragraphs():
    pdf, md = _numbered(SEED_PDF), _numbered(SEED_MD)
    assert list(md) == [str(n) for n in range(1, 43)]
    for label, para in pdf.items():
        assert _squash(md[label].text) == _squash(para.text), label
