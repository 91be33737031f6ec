"""Report metadata: title, meeting date, council and committee, each with its source."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from conftest import ROOT, SEED_PDF

from ingest.metadata import extract_metadata
from ingest.readers import read_document
from ingest.records import Document, Page, ReportMeta


def _doc(*pages: list[str], source: str = "report.pdf", **file_metadata: str) -> Document:
    return Document(source=source, pages=tuple(Page(i, tuple(lines)) for i, lines in enumerate(pages, 1)),
                    file_metadata=dict(file_metadata))


def test_cover_sheet_from_to_subject_block():
    meta = extract_metadata(_doc([
        "From: Jane Smith, Director of Place", "To: Cabinet, 4 March 2024",
        "Subject: Parks and Open Spaces Strategy 2024-2029", "Classification: Unrestricted", "",
        "Summary: This report sets out the strategy that was published on 1 February 2024.",
    ], Title="THE REPORT"))
    assert meta.title == "Parks and Open Spaces Strategy 2024-2029"
    assert (meta.date, meta.committee) == ("2024-03-04", "Cabinet")
    assert meta.source("title") == "first page" and meta.source("date") == "first page"
    assert meta.doubtful == ("council",)  # nothing names the council


def test_cover_sheet_with_keys_and_values_on_separate_lines():
    meta = extract_metadata(_doc([
        "REPORT TO: SOMERSET COUNTY COUNCIL AUDIT", "COMMITTEE", "", "DATE:", "", "5 JUNE 2026", "",
        "REPORT", "TITLE:", "", "ANNUAL INTERNAL AUDIT PLAN", "2026/27", "RESPONSIBLE", "OFFICER:", "",
        "CHIEF FINANCE OFFICER", "Purpose of Report",
    ]))
    assert meta.title == "Annual Internal Audit Plan 2026/27"
    assert meta.date == "2026-06-05"
    assert meta.committee == "Somerset County Council Audit Committee"
    assert meta.council == "Somerset County Council" and meta.source("council") == "first page"


def test_minutes_of_the_meeting_held_on():
    meta = extract_metadata(_doc([
        "Minutes of the meeting of the Planning Committee held on 12 September 2024",
        "Present: Councillors Brown (Chair), Green and White", "1. Apologies",
        "The minutes of the meeting held on 8 August 2024 were agreed.",
    ]))
    assert meta.date == "2024-09-12"
    assert meta.committee == meta.meeting == "Planning Committee"
    assert meta.title == "Minutes of the meeting of the Planning Committee"


def test_generic_title_takes_the_committee_and_published_date_is_not_the_meeting_date(tmp_path):
    folder = tmp_path / "bristol-city-council"
    folder.mkdir()
    meta = extract_metadata(_doc(
        ["Forward plan", "This update published 20 January 2026", "", "THIS DOCUMENT GIVES NOTICE OF",
         "KEY DECISIONS TO BE TAKEN AT", "TRANSPORT POLICY COMMITTEE"],
        ["- 2 -", "The Forward Plan gives notice of key decisions."],
        source="transport-policy-committee-forward-plan-2026-01-21.pdf"),
        folder / "transport-policy-committee-forward-plan-2026-01-21.pdf")
    assert meta.title == "Forward plan – Transport Policy Committee"
    assert meta.date == "2026-01-21" and meta.source("date") == "file name" and "date" in meta.doubtful
    assert meta.council == "Bristol City Council" and meta.source("council") == "folder"


@pytest.mark.parametrize(("folder", "council"), [
    ("kent-county-council", "Kent County Council"),
    ("manordeilo-salem-community-council", "Manordeilo Salem Community Council"),
    ("west-of-england-combined-authority", "West of England Combined Authority"),
    ("greenville-sc-city-council", "Greenville SC City Council"),
    ("bcp-council", "BCP Council"),
])
def test_folder_name_gives_the_council(tmp_path, folder, council):
    (tmp_path / folder).mkdir()
    meta = extract_metadata(_doc(["Treasury Management Strategy", "1. Introduction"]), tmp_path / folder / "a.pdf")
    assert meta.council == council and meta.source("council") == "folder"


@pytest.mark.parametrize(("printed", "title"), [
    ("REVENUE BUDGET 2025-26 AND MTFP (2025-28)", "Revenue Budget 2025-26 and MTFP (2025-28)"),
    ("CCTV IN ST ALBANS TOWN CENTRE", "CCTV in St Albans Town Centre"),
    ("NHS HEALTH CHECKS IN THE UK", "NHS Health Checks in the UK"),
    ("PAY POLICY FOR HR AND CLLR ALLOWANCES", "Pay Policy for HR and Cllr Allowances"),
    ("CWM TAF MORGANNWG REGIONAL PARTNERSHIP", "Cwm Taf Morgannwg Regional Partnership"),
    ("WHY WE DID IT", "Why We Did It"),
])
def test_a_title_in_capitals_keeps_its_abbreviations(printed, title):
    meta = extract_metadata(_doc([printed, "", "1. Purpose of the report", "1.1 This report sets out the plan."]))
    assert meta.title == title


def test_a_council_mentioned_in_the_text_loses_to_the_folder(tmp_path):
    pages = (["OFFICIAL", "Committee Report", "DATE: 15 May 2025", "TITLE: Workplace Parking Levy Update",
              "1. Bristol is considering a levy."],
             ["2. Nottingham City Council runs the only levy. Nottingham City Council raised £100m."])
    alone = extract_metadata(_doc(*pages))
    assert alone.council == "Nottingham City Council" and alone.source("council") == "body text"
    assert "council" in alone.doubtful
    (tmp_path / "bristol-city-council").mkdir()
    filed = extract_metadata(_doc(*pages), tmp_path / "bristol-city-council" / "levy.pdf")
    assert filed.council == "Bristol City Council" and "council" not in filed.doubtful


def test_welsh_council_name_is_given_in_english():
    meta = extract_metadata(_doc(["1", "CYNGOR CYMUNED MANORDEILO a SALEM", "CYFARFOD 14eg CHWEFROR 2018",
                                  "Cynhaliwyd cyfarfod o Gyngor Cymuned Manordeilo a Salem am 7.30pm yn yr Ystafell",
                                  "Ddarllen, Cwmifor."], source="2-18_cy.pdf"))
    assert meta.council == "Manordeilo and Salem Community Council"
    assert meta.date == "2018-02-14"
    assert meta.title != "Ddarllen, Cwmifor."


@pytest.mark.parametrize("junk", ["Question 1", "Section Page", "(General Counsel)", "Room, Cwmifor.",
                                  "County Hall, Maidstone", "The Report"])
def test_junk_title_is_rejected_for_the_file_name(junk):
    meta = extract_metadata(_doc([junk, "Thursday 13 March 2025", "Question by Paul Smith to Jo Brown,",
                                  "Cabinet Member for Education and Skills", "",
                                  "Would the Cabinet Member please tell us how many children are taught at home?"],
                                 source="Questions_put_and_answers_given_-_March_2025.pdf", title="THE REPORT"))
    assert meta.title == "Questions put and answers given"
    assert meta.source("title") == "file name" and "title" in meta.doubtful
    assert meta.date == "2025-03-13"


def test_running_header_is_not_the_title_but_the_wrapped_title_is():
    header = "Kent Minerals & Waste Local Plan, Inspector's Report February 2025"
    meta = extract_metadata(_doc(
        [header, "", "Report to Kent County Council", "by J Burston BSc MA", "Inspector appointed by the Secretary",
         "06 February 2025", "", "Report on the Examination of the Kent Minerals", "& Waste Local Plan 2024 - 2039"],
        [header, "Contents"], [header, "Non-Technical Summary"]))
    assert meta.title == "Report on the Examination of the Kent Minerals & Waste Local Plan 2024 - 2039"
    assert meta.council == "Kent County Council"


@pytest.mark.parametrize(("stem", "day"), [
    ("decision-notice-2024-09-12", "2024-09-12"), ("20190520", "2019-05-20"),
    ("Printed_minutes_13th-Feb-2025_09.30_County_Council", "2025-02-13"), ("Council_2023_05_23", "2023-05-23"),
])
def test_file_name_dates(stem, day):
    meta = extract_metadata(_doc(["Some Report Title Here", "1. Body."], source=f"{stem}.pdf"))
    assert meta.date == day and meta.source("date") == "file name"


def test_pdf_metadata_title_confirmed_by_the_first_page():
    meta = extract_metadata(_doc(["Page 1 of 54", "", "Finance Monitoring Report", "As at November 2024-25",
                                  "To Cabinet – 30 January 2025"], ["Page 2 of 54"], Title="FinancE MONITORING REPORT"))
    assert meta.title == "Finance Monitoring Report" and meta.date == "2025-01-30"


def test_sidecar_wins_and_is_recorded(tmp_path):
    path = tmp_path / "kent-county-council" / "report.txt"
    path.parent.mkdir()
    path.write_text("x")
    path.with_name("report.txt.meta.json").write_text(json.dumps({"title": "Budget 2025", "committee": "Cabinet",
                                                                   "date": "2025-02-13", "colour": "red"}))
    meta = extract_metadata(_doc(["The Report", "Tel: 0300 123 4567"]), path)
    assert (meta.title, meta.date, meta.committee) == ("Budget 2025", "2025-02-13", "Cabinet")
    assert meta.source("title") == meta.source("committee") == "sidecar" and meta.source("council") == "folder"
    assert meta.doubtful == ()


def test_ocr_specks_before_a_scanned_heading_are_dropped():
    page = Page(1, ("RNILLE, 3", "nip MINUTES", "Se: FORMAL MEETING OF CITY COUNCIL", "te »",
                    "Od NZ City Hall, 206 S. Main Street, Council Chambers", "Monday, May 22, 2023 - 5:30 p.m.",
                    "1. CALL TO ORDER"), scanned=True)
    meta = extract_metadata(Document("Council_2023_05_23.pdf", (page,)),
                            Path("/corpus/greenville-city-council/Council_2023_05_23.pdf"))
    assert (meta.title, meta.date, meta.council) == ("Minutes – City Council", "2023-05-22", "Greenville City Council")
    assert meta.committee == "City Council"  # "Formal Meeting of City Council" is never the council's name
    # the same lines in a text layer are left as printed
    text = extract_metadata(Document("x.pdf", (Page(1, page.lines),)))
    assert text.title != "Minutes – City Council"


def test_generic_minutes_title_takes_the_kind_of_meeting_from_the_file_name():
    lines = ["MINUTES OF PROCEEDINGS AT MEETING OF LIMERICK CITY AND COUNTY",
             "COUNCIL HELD IN THE COUNCIL CHAMBER, DOORADOYLE, AND ONLINE, ON", "MONDAY, 31ST MARCH, 2025, AT 3PM.",
             "", "PRESENT IN THE CHAIR: Councillor D. McSweeney."]
    named = extract_metadata(_doc(lines, source="Minutes_-_Ordinary_Meeting_of_Limerick_City_and_County_Council.md"))
    assert named.title == "Minutes of Proceedings at Ordinary Meeting of Limerick City and County Council"
    assert named.date == "2025-03-31"
    plain = extract_metadata(_doc(lines, source="minutes-2025-03-31.md"))
    assert plain.title == "Minutes of Proceedings at Meeting of Limerick City and County Council"


def test_a_line_cut_mid_sentence_or_a_bracket_tail_is_not_the_title():
    page = Page(1, ("(PUBLIC AUDIT (WALES) ACT 2004", "ACCOUNTS AND AUDIT (WALES) REGULATIONS 2014) .",
                    "Tintern Community Council", "NOTICE is hereby given that the audit for the",
                    "year ended 31 March 2019 was completed on", "14 September 2019"), scanned=True)
    meta = extract_metadata(Document("Notice_of_Conclusion_of_audit_2018-19.pdf", (page,)))
    assert (meta.title, meta.source("title"), meta.doubtful) == (
        "Notice of Conclusion of audit 2018-19", "file name", ("title",))
    assert (meta.council, meta.date) == ("Tintern Community Council", "2019-09-14")


def test_old_constructor_still_works():
    meta = ReportMeta("A title", None, None, None)
    assert meta.committee is None and meta.provenance == () and meta.doubtful == ()


def test_seed_report_title_date_and_sources():
    meta = extract_metadata(read_document(SEED_PDF), SEED_PDF)
    assert meta.title == "Annual Report of the Chief Executive" and meta.date == "2020-02-13"
    assert meta.council == "Worcestershire County Council"
    assert dict(meta.provenance)["title"] == dict(meta.provenance)["date"] == "first page"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_metadata", Path(ROOT) / "bench" / "metadata.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.shared
def test_shared_corpus_metadata_matches_the_manifest(shared_councils):
    bench = _bench()
    rows, skipped = bench.evaluate(shared_councils)
    for row in rows:
        misses = [f for f in bench.FIELDS if row[f] == "✗"]
        if misses:
            print(row["file"], misses, row["meta"].title, row["meta"].date, row["meta"].council, "| manifest:",
                  row["entry"]["title"], row["entry"]["date"], row["entry"]["council"])
    share = bench.shares(rows)
    print(share, skipped)
    assert len(rows) >= 39 and not skipped  # the scanned PDFs are read by OCR
    assert share["council"] >= 0.9
    # where the document prints the manifest's date, it is found; appendices dated only by
    # the meeting they were filed under cannot be (see bench/metadata.py)
    assert share["date (printed)"] >= 0.9 and share["date"] >= 0.7
    # many manifest titles are descriptions or file names rather than what the document prints
    assert share["title (printed)"] >= 0.9 and share["title"] >= 0.7


def test_a_council_spelt_two_ways_is_shown_one_way():
    """A scanned Limerick paper names no council, so its folder gives "Limerick City County Council";
    the other Limerick papers print "Limerick City and County Council". Citations and the council
    filter show one council, by its fullest spelling; other councils keep their names."""
    from qa.records import Filters, ReportInfo
    from qa.store import allowed_ids, one_spelling_per_council

    def report(source: str, council: str | None) -> ReportInfo:
        return ReportInfo(source, "Minutes", "2025-03-31", council, None, 1, 1, source, "0" * 64, "")

    reports = one_spelling_per_council({
        1: report("a.md", "Limerick City County Council"), 2: report("b.md", "Limerick City and County Council"),
        3: report("c.pdf", "Manordeilo & Salem Community Council"), 4: report("d.pdf", None),
        5: report("e.pdf", "West of England Combined Authority")})
    assert [r.council for r in reports.values()] == [
        "Limerick City and County Council", "Limerick City and County Council",
        "Manordeilo & Salem Community Council", None, "West of England Combined Authority"]
    assert allowed_ids(reports, Filters(council="Limerick City and County Council")) == {1, 2}
