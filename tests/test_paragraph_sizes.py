"""Paragraph sizes across the shared corpus (../shared/corpus/councils; skipped when absent).

A citation ("para 7") is only useful if a person can find and read that paragraph on the
page, so no paragraph may swallow the rest of a document (before this test, Bristol's
feasibility study had a "para 7" of 15,110 words and Leicester's review a "4.4" of 8,421
words starting on its contents page). The numbered counts per document are compared with
the counts measured before the segmenter learnt to cut, so real labels are not lost.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import UnreadableReport
from ingest.readers import SUPPORTED_SUFFIXES
from ingest.report import load_report

MAX_WORDS = 1000
"""No paragraph, numbered or not, may be longer than this."""

ALLOWED_OVER_MAX: dict[tuple[str, str], str] = {}
"""(file, label) -> why a paragraph over MAX_WORDS is really printed that long. None today."""

NUMBERED_LIMIT = 650
"""About MAX_NUMBERED_WORDS (600) in the segmenter plus the line that crosses it."""

PRINTED_LONG = {
    ("Financial_Regulations_2017.pdf", "11.1"):
        "checked on pages 10-11: regulation 11.1 'Procedures as to contracts are laid down as "
        "follows:' is one regulation with items a. to i. and sub-items i. to vi. (about 660 words)",
}
"""(file, label) -> the reason a numbered paragraph over NUMBERED_LIMIT is kept whole."""

# Numbered paragraphs per document measured before the cuts were added (ingest/segment.py
# as of the start of this change, same readers).
FLOOR = {
    "src-bcc-0004_decision-notice-transport-connectivity-policy-committee-2024-09-12.pdf": 11,
    "src-bcc-0006_appendix-a-feasibility-study-report-wpl-scheme-bristol-final-draft.pdf": 25,
    "src-bcc-0007_appendix-b-eqia-workplace-parking-levy-obc-final-2024-08-20.pdf": 13,
    "src-bcc-0008_committee-report-workplace-parking-levy-update-2025-05-15.pdf": 16,
    "src-bcc-0016_transport-connectivity-policy-committee-forward-plan-2026-01-21.pdf": 6,
    "src-bcc-0022_src-bcc-0022-printed-minutes-transport-and-connectivity-policy-committee-"
    "12-september-2024.pdf": 20,
    "src-bcc-0029_part-3-2-terms-of-reference-of-committees-november-2025.pdf": 240,
    "24-00108_-_Finance_Monitoring_Report_-_Q3_-_November_2024-25.pdf": 18,
    "24-00108_-_Revenue_and_Capital_Budget_Monitoring_Report_November_2024-25.pdf": 15,
    "APPENDIX_A_-_Planning_Inspectors_Report_on_the_Examination_of_the_KMWLP_2024-39.pdf": 146,
    "Agenda_frontsheet_30th-Jan-2025_10.00_Cabinet.pdf": 9,
    "Appendix_M_-_Treasury_Management_Strategy_2025-26.pdf": 98,
    "Budget_Amendments_13th-Feb-2025_09.30_County_Council.pdf": 25,
    "Council_Report_Mid_Year_24-25.pdf": 53,
    "February_2025_Kent_County_Council_Budget_Report.pdf": 127,
    "KMWLP_-_County_Council_Report.pdf": 42,
    "Printed_minutes_13th-Feb-2025_09.30_County_Council.pdf": 40,
    "Printed_minutes_30th-Jan-2025_10.00_Cabinet.pdf": 9,
    "QPR_Q3_Cabinet_appendix_1.pdf": 1,
    "src-uk-0003_leicester-wpl-evidence-based-review-2021-05-19.pdf": 40,
    "Minutes_-_Budget_Meeting_Limerick_City_and_County_Council_-_29th_November_2024.md": 12,
    "Minutes_-_Ordinary_Meeting_of_Limerick_City_and_County_Council_-_31st_March_2025.md": 30,
    "Minutes_of_Meeting_-_Municipal_District_of_Newcastle_West_-_11th_June_2014.md": 3,
    "2-18_cy.pdf": 13,
    "test_minutes.pdf": 14,
    "src-nott-0001_nottingham-wpl-annual-report-2023-2024.pdf": 6,
    "20190520.pdf": 26,
    "Financial_Regulations_2017.pdf": 97,
    "src-weca-0022_joint-meeting-2026-03-27-public-questions-mayor-responses.pdf": 10,
    "src-weca-0024_joint-meeting-2026-03-27-transport-report.pdf": 100,
    "src-weca-0027_joint-meeting-2026-06-05-mca-mayoral-budget-outturn.pdf": 88,
}

# Where the count fell, every label lost was a false one (checked against the printed pages).
DROPS = {
    "QPR_Q3_Cabinet_appendix_1.pdf": (
        0, "'1.' was '... 31.0 FTE jobs in Quarter / 1. In the year to ...', a wrapped line"),
    "Budget_Amendments_13th-Feb-2025_09.30_County_Council.pdf": (
        22, "1.1-8 kept; the rest are 'Row Ref' numbers of the Appendix F tables (11 before, 10 now)"),
    "src-uk-0003_leicester-wpl-evidence-based-review-2021-05-19.pdf": (
        30, "27 entries of the contents page (no page numbers) repeated the section numbers"),
    "test_minutes.pdf": (6, "the agenda on page 2 ('5. Internal audit progress report 23') is a contents list"),
    "src-nott-0001_nottingham-wpl-annual-report-2023-2024.pdf": (4, "'2. Overview' etc. on the Contents page"),
}


def _documents(councils: Path) -> list[Path]:
    return sorted(p for p in councils.rglob("*") if p.suffix.lower() in SUPPORTED_SUFFIXES)


@pytest.fixture(scope="module")
def reports(shared_councils: Path) -> dict:
    out = {}
    for path in _documents(shared_councils):
        try:
            out[path.name] = load_report(path)
        except UnreadableReport:
            continue  # the scanned PDFs; test_shared_corpus_segmentation checks which
    return out


def _numbered(report) -> list:
    return [p for p in report.paragraphs if p.numbered]


@pytest.mark.shared
def test_no_paragraph_is_too_long_to_check(reports, capsys):
    sizes = sorted(((len(p.text.split()), name, p) for name, r in reports.items() for p in r.paragraphs),
                   key=lambda row: -row[0])
    with capsys.disabled():
        print(f"\n{'words':>5}  {'label':8} {'file':58} first words")
        for words, name, para in sizes[:15]:
            print(f"{words:5d}  {para.label:8} {name[:58]:58} {' '.join(para.text.split()[:8])}")
    too_long = [(name, p.label, n) for n, name, p in sizes
                if n > MAX_WORDS and (name, p.label) not in ALLOWED_OVER_MAX]
    assert not too_long
    long_numbered = {(name, p.label): n for n, name, p in sizes if p.numbered and n > NUMBERED_LIMIT}
    assert set(long_numbered) <= set(PRINTED_LONG), sorted(set(long_numbered) - set(PRINTED_LONG))
    for key in PRINTED_LONG:  # the allow-list names paragraphs that exist and are long
        assert key in long_numbered, key
    assert len(reports) >= 36


@pytest.mark.shared
def test_numbered_paragraphs_do_not_collapse(reports):
    assert set(FLOOR) <= set(reports)
    for name, report in reports.items():
        floor = DROPS.get(name, (FLOOR.get(name, 0), ""))[0]
        assert len(_numbered(report)) >= floor, (name, len(_numbered(report)), floor)


@pytest.mark.shared
def test_contents_pages_are_not_paragraphs(reports):
    leicester = [p.label for p in _numbered(reports[
        "src-uk-0003_leicester-wpl-evidence-based-review-2021-05-19.pdf"])]
    # every section printed in the body once, none from the contents page (page 2)
    assert leicester == [
        "1.1", "1.1.1", "1.2", "2.1", "2.1.1", "2.1.2", "2.1.3", "2.1.4", "2.1.5", "2.1.6", "2.2", "2.3",
        "2.3.1", "2.3.2", "2.3.3", "3", "3.1", "3.2.1", "3.2.2", "3.2.3", "3.2.4", "3.2.5", "3.2.6", "3.2.7",
        "3.3", "3.4", "4.1", "4.2", "4.3", "4.4"]
    toc = next(p for p in reports["src-uk-0003_leicester-wpl-evidence-based-review-2021-05-19.pdf"].paragraphs
               if p.page == 2 and "4.4 Recommendations" in p.text)
    assert not toc.numbered  # kept, searchable, as an unnumbered block
    assert [p.label for p in _numbered(reports["test_minutes.pdf"])] == ["1", "2", "3", "4", "5", "6"]
    nott = _numbered(reports["src-nott-0001_nottingham-wpl-annual-report-2023-2024.pdf"])
    assert [p.label for p in nott] == ["1", "2", "3", "4"] and all(p.page == 16 for p in nott)


@pytest.mark.shared
def test_bristol_feasibility_study_sections_are_found_and_bounded(reports):
    report = reports["src-bcc-0006_appendix-a-feasibility-study-report-wpl-scheme-bristol-final-draft.pdf"]
    labels = [p.label for p in _numbered(report)]
    expected = ["5.1.1", "5.1.2", "5.1.3", "5.1.4", "5.1.5", "5.1.6", "5.2", "5.3", "5.3.1"]
    assert [label for label in labels if label in expected] == expected
    assert "7" not in labels  # the footnote "7 Atkins: Bristol Workplace Parking Levy ..." on page 12
    first = next(p for p in report.paragraphs if p.label == "5.1.1")
    assert first.page == 12 and first.text.endswith("which will inform the OBC:")
    note = next(p for p in report.paragraphs if p.text.startswith("7 Atkins"))
    assert not note.numbered and note.page == 12
    block = next(p for p in report.paragraphs if p.text.startswith("Following reviews of the"))
    assert not block.numbered and block.heading == "(WS1.1) Supporting Studies/Information"
