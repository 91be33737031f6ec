"""Word and plain-text reports are read like PDFs: numbered paragraphs, headings, bullets."""

from __future__ import annotations

import docx

from ingest.report import load_report


def test_docx_report_with_headings_numbers_and_bullets(tmp_path):
    document = docx.Document()
    document.add_heading("Report of the Director of Finance", level=1)
    document.add_paragraph("Cabinet, 4 March 2024")
    document.add_heading("Background", level=2)
    document.add_paragraph("1. The council set a balanced budget for 2024/25.")
    document.add_paragraph("2. The following savings were agreed:")
    document.add_paragraph("Closing two depots", style="List Bullet")
    document.add_paragraph("Sharing a back office with the district councils", style="List Bullet")
    document.add_heading("Reserves", level=2)
    document.add_paragraph("3. General reserves stand at £12.4m, within the agreed range.")
    path = tmp_path / "finance.docx"
    document.save(path)

    report = load_report(path)
    paras = {p.label: p for p in report.paragraphs if p.numbered}
    assert list(paras) == ["1", "2", "3"]
    assert paras["2"].text == "The following savings were agreed:\n• Closing two depots\n" \
                              "• Sharing a back office with the district councils"
    assert paras["3"].heading == "Reserves"
    assert report.meta.date == "2024-03-04"


def test_text_report_decimal_numbering(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text(
        "Parks Committee\n12 June 2023\n\n1. Introduction\n1.1 The lido reopened in May.\n"
        "1.2 Visitor numbers rose by 12%\ncompared with last year.\n2. Finance\n2.1 Income was £40,000.\n"
    )
    report = load_report(path)
    paras = {p.label: p for p in report.paragraphs if p.numbered}
    assert list(paras) == ["1.1", "1.2", "2.1"]
    assert paras["1.2"].text == "Visitor numbers rose by 12% compared with last year."
    assert paras["2.1"].heading == "Finance"
    assert report.meta.date == "2023-06-12"
