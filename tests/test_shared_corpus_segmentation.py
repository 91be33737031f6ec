"""Segmentation across the real shared corpus (../shared/corpus/councils; skipped when absent).

One test prints a per-document table of numbered paragraphs and flags labels that go
backwards or jump; the spot checks compare labels, pages and text fragments with what is
printed on the page (checked by eye against ``pdftotext -layout`` and page images).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ingest.errors import UnreadableReport
from ingest.metadata import find_date
from ingest.readers import SUPPORTED_SUFFIXES
from ingest.report import load_report
from ingest.segment import MAX_BLOCK_WORDS, parse_label, plausible_next

SCANNED = {"Annual_return_2016-17_.pdf", "Notice_of_Conclusion_of_audit_2018-19.pdf", "Council_2023_05_23.pdf"}

_cache: dict[str, object] = {}


def _report(councils: Path, rel: str):
    if rel not in _cache:
        _cache[rel] = load_report(councils / rel)
    return _cache[rel]


def _first(report, label: str):
    """The first paragraph printed with ``label`` (a report may restart its numbering);
    ``"5#2"`` is the second one."""
    label, _, nth = label.partition("#")
    found = [p for p in report.paragraphs if p.numbered and p.label == label]
    return found[int(nth or 1) - 1]


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _documents(councils: Path) -> list[Path]:
    return sorted(p for p in councils.rglob("*") if p.suffix.lower() in SUPPORTED_SUFFIXES)


def _flags(paras) -> tuple[list[str], int]:
    """Labels that go backwards or jump; a restart at 1 under a new heading is counted apart
    (the heading disambiguates the citation)."""
    out, restarts = [], 0
    prev, prev_heading = None, None
    for para in paras:
        if "(" in para.label:
            continue  # minute sub-paragraphs are checked by the segmenter itself
        cand = parse_label(para.label)
        if prev is not None and not plausible_next(prev, cand):
            if cand[-1] in (0, 1) and para.heading != prev_heading:
                restarts += 1
            else:
                out.append(f"{'.'.join(map(str, prev))}->{para.label}")
        prev, prev_heading = cand, para.heading
    return out, restarts


@pytest.mark.shared
def test_every_document_reads_and_numbering_table(shared_councils, capsys):
    rows = []
    for path in _documents(shared_councils):
        if path.name in SCANNED:
            continue
        try:
            report = _report(shared_councils, str(path.relative_to(shared_councils)))
        except UnreadableReport as exc:  # pragma: no cover - the failure message says which
            pytest.fail(f"{path.name} should be readable: {exc}")
        labels = [p.label for p in report.paragraphs if p.numbered]
        blocks = [p for p in report.paragraphs if not p.numbered]
        flags, restarts = _flags([p for p in report.paragraphs if p.numbered])
        rows.append((path.name[:50], report.pages, len(labels), len(blocks), restarts, len(flags),
                     " ".join(flags[:4])))
        for para in report.paragraphs:
            assert para.text.strip(), (path.name, para.label)
            assert para.page >= 1
        for block in blocks:
            assert re.fullmatch(r"p\d+-\d+", block.label), (path.name, block.label)
            assert len(block.text.split()) <= MAX_BLOCK_WORDS + 60, (path.name, block.label)
        if labels and len(labels) >= 5:
            # most numbers follow their predecessor; the flags are restarts, slips and misses
            assert len(flags) <= max(2, len(labels) // 4), (path.name, flags)
    with capsys.disabled():
        print(f"\n{'document':50} {'pages':>5} {'paras':>5} {'blocks':>6} {'rest.':>5} {'flags':>5}  examples")
        for row in rows:
            print(f"{row[0]:50} {row[1]:5d} {row[2]:5d} {row[3]:6d} {row[4]:5d} {row[5]:5d}  {row[6]}")
    assert len(rows) == len(_documents(shared_councils)) - len(SCANNED)


# (document, label, page, heading fragment or None, fragments that must be in the text)
SPOT_CHECKS = [
    # Kent decimal committee report
    ("kent-county-council/KMWLP_-_County_Council_Report.pdf", "1.4", 3, "Introduction and Background",
     ["The process of updating the Plan needs to follow", "e.g. Natural England."]),
    ("kent-county-council/KMWLP_-_County_Council_Report.pdf", "4.1", 7, "Adoption",
     ["Section 23 (3) of the Planning and Compulsory Purchase Act 2004"]),
    ("kent-county-council/KMWLP_-_County_Council_Report.pdf", "10.3", 10, "Conclusion",
     ["must receive a report from the Planning Inspectorate", "it can now adopt the Plan."]),
    # Kent treasury mid-year report (decimal)
    ("kent-county-council/Council_Report_Mid_Year_24-25.pdf", "2.3", 2, None,
     ["mild slowdown in GDP growth"]),
    ("kent-county-council/Council_Report_Mid_Year_24-25.pdf", "6.1", 6, None,
     ["CIPFA published a revised Treasury Management in the Public Services Code of Practice"]),
    # Bristol flat-numbered committee report
    ("bristol-city-council/src-bcc-0008_committee-report-workplace-parking-levy-update-2025-05-15.pdf", "5", 2,
     None, ["The only UK local authority to have implemented a WPL so far is Nottingham City Council",
            "£570 for the financial year 2025/26"]),
    ("bristol-city-council/src-bcc-0008_committee-report-workplace-parking-levy-update-2025-05-15.pdf", "12", 3,
     None, ["Surveys and data collection", "a) Up to date, robust quantitative and qualitative data"]),
    # Kent minutes with sub-paragraphs
    ("kent-county-council/Printed_minutes_13th-Feb-2025_09.30_County_Council.pdf", "287(2)", 1,
     "Declarations of Disclosable Pecuniary Interests", ["Ms Meade declared an interest that she was a carer."]),
    ("kent-county-council/Printed_minutes_13th-Feb-2025_09.30_County_Council.pdf", "290(4)", 3, None,
     ["RESOLVED that pursuant to section 25 of the Local Government Act"]),
    ("kent-county-council/Printed_minutes_13th-Feb-2025_09.30_County_Council.pdf", "291", 3, None,
     ["Capital Programme 2025-35 and Revenue Budget 2025-26"]),
    # Planning Inspector's flat-numbered report
    ("kent-county-council/APPENDIX_A_-_Planning_Inspectors_Report_on_the_Examination_of_the_KMWLP_2024-39.pdf",
     "50", 13, None, ["Using the 6-year sales’ average the Plan requirement"]),
    ("kent-county-council/APPENDIX_A_-_Planning_Inspectors_Report_on_the_Examination_of_the_KMWLP_2024-39.pdf",
     "143", 31, "Overall Conclusion", ["I conclude that the Duty to Cooperate has been met"]),
    # Treasury Management Strategy (flat numbers, many tables)
    ("kent-county-council/Appendix_M_-_Treasury_Management_Strategy_2025-26.pdf", "1", 1, None,
     ["Treasury management is the management of the Council’s cash flows, borrowing and investments"]),
    ("kent-county-council/Appendix_M_-_Treasury_Management_Strategy_2025-26.pdf", "22", 4, "Local Context",
     ["summarises the Council’s balance sheet"]),
    ("kent-county-council/Appendix_M_-_Treasury_Management_Strategy_2025-26.pdf", "60", 10, None,
     ["strategic pooled funds portfolio are managed by third-party investment managers"]),
    # Welsh community council minutes, in English (two sets of running minute numbers)
    ("tintern-community-council/20190520.pdf", "806", 1, None, ["Confirmation of minutes of 2018 AGM"]),
    ("tintern-community-council/20190520.pdf", "2697", 3, None, ["Accounts for payment", "Valley Calligraphy"]),
    ("tintern-community-council/20190520.pdf", "2708", 5, None, ["Date of next meeting: June 24th"]),
    # ... and in Welsh
    ("manordeilo-salem-community-council/2-18_cy.pdf", "2", 1, None,
     ["CADARNHAU COFNODION Y CYFARFOD DIWETHAF", "eiliwyd gan y Cyng. O. Williams"]),
    ("manordeilo-salem-community-council/2-18_cy.pdf", "6", 2, None, ["ADOLYGIAD O’R GYLLIDEB", "£10,080.58"]),
    ("manordeilo-salem-community-council/2-18_cy.pdf", "8", 2, None, ["LLWYBRAU TROED", "Dim i’w drafod."]),
    # Tintern financial regulations (contents page, then 1.1 ... 16.1)
    ("tintern-community-council/Financial_Regulations_2017.pdf", "1.4", 3, "GENERAL",
     ["demonstrate how the council meets these responsibilities"]),
    ("tintern-community-council/Financial_Regulations_2017.pdf", "6.2", 7, "PAYMENTS",
     ["Following authorisation under Financial Regulation 5 above"]),
    ("tintern-community-council/Financial_Regulations_2017.pdf", "16.1", 13, "CHARITIES",
     ["sole managing trustee of a charitable body"]),
    # Merton minutes (numbers without a dot, titles in capitals); the agenda on page 2
    # ("5. Internal audit progress report 23") is a contents list, not paragraphs
    ("merton-council/test_minutes.pdf", "5", 4, None, ["ANNUAL GOVERNANCE REPORT 2008/09", "(ISA 260)"]),
    ("merton-council/test_minutes.pdf", "6", 4, None, ["ANNUAL GOVERNANCE REPORT 2008/09 – PENSION FUND"]),
    # Limerick minutes in Markdown (number on its own line, title on the next, which heads the item;
    # the converter's "---" and printed page number start each page)
    ("limerick-city-county-council/Minutes_-_Ordinary_Meeting_of_Limerick_City_and_County_Council_-_31st_March_2025.md",
     "1", 2, "Adoption of Minutes", ["Adoption of Minutes",
                                     "(a) Ordinary Meeting of the Council held on 27th January, 2025."]),
    ("limerick-city-county-council/Minutes_-_Ordinary_Meeting_of_Limerick_City_and_County_Council_-_31st_March_2025.md",
     "2", 3, "Declaration of Interest", ["Declaration of Interest", "No such interests were declared."]),
]


@pytest.mark.shared
@pytest.mark.parametrize("rel,label,page,heading,fragments", SPOT_CHECKS,
                         ids=[f"{Path(c[0]).stem[:30]}-{c[1]}" for c in SPOT_CHECKS])
def test_spot_check_against_printed_page(shared_councils, rel, label, page, heading, fragments):
    para = _first(_report(shared_councils, rel), label)
    text = _squash(para.text)
    for fragment in fragments:
        assert fragment in text, (label, fragment, text[:300])
    assert para.page == page
    if heading:
        assert heading in para.heading


@pytest.mark.shared
def test_spot_checked_label_sequences(shared_councils):
    def labels(rel):
        return [p.label for p in _report(shared_councils, rel).paragraphs if p.numbered]

    kmwlp = labels("kent-county-council/KMWLP_-_County_Council_Report.pdf")
    assert kmwlp[:13] == [f"1.{n}" for n in range(1, 14)]
    bristol = labels("bristol-city-council/src-bcc-0008_committee-report-workplace-parking-levy-update-2025-05-15.pdf")
    assert bristol == [str(n) for n in range(1, 17)]
    tms = labels("kent-county-council/Appendix_M_-_Treasury_Management_Strategy_2025-26.pdf")
    assert tms == [str(n) for n in range(1, 99)]
    inspector = labels(
        "kent-county-council/APPENDIX_A_-_Planning_Inspectors_Report_on_the_Examination_of_the_KMWLP_2024-39.pdf")
    assert inspector[:143] == [str(n) for n in range(1, 144)]
    minutes = labels("kent-county-council/Printed_minutes_13th-Feb-2025_09.30_County_Council.pdf")
    assert minutes[:6] == ["286", "287", "287(1)", "287(2)", "287(3)", "288"]
    assert minutes[-1] == "291(27)"
    tintern = labels("tintern-community-council/20190520.pdf")
    assert tintern[:9] == [str(n) for n in range(805, 814)] and tintern[-1] == "2708"
    welsh = labels("manordeilo-salem-community-council/2-18_cy.pdf")
    assert welsh == [str(n) for n in range(1, 14)]
    regs = labels("tintern-community-council/Financial_Regulations_2017.pdf")
    assert regs[0] == "1.1" and regs[-1] == "16.1" and "1" not in regs  # the contents page is not numbered
    # a report with no numbering at all is kept as small unnumbered blocks
    s25 = _report(shared_councils, "kent-county-council/section_25_statement_-_FINAL.pdf")
    assert not [p for p in s25.paragraphs if p.numbered]
    block = next(p for p in s25.paragraphs if "The 2003 Local Government Act places" in p.text)
    assert block.page == 2 and block.label.startswith("p2-")


def _manifest(councils: Path) -> dict[str, dict]:
    return {Path(e["file"]).name: e for e in json.loads((councils / "manifest.json").read_text())}


@pytest.mark.shared
def test_dates_match_the_manifest_where_the_first_page_prints_them(shared_councils):
    checked = 0
    for path in _documents(shared_councils):
        entry = _manifest(shared_councils).get(path.name)
        if path.name in SCANNED or not entry or not re.fullmatch(r"\d{4}-\d\d-\d\d", entry["date"]):
            continue
        report = _report(shared_councils, str(path.relative_to(shared_councils)))
        if report.meta.date is None:
            continue
        first_page = [p.text for p in report.paragraphs if p.page == 1]
        if entry["date"] in {find_date(t) for t in first_page}:
            assert report.meta.date == entry["date"], path.name
            checked += 1
    assert checked >= 10


@pytest.mark.shared
def test_metadata_titles_and_councils_are_clean(shared_councils):
    bad_title = re.compile(r"^(template|direct dial|original file|dear)\b", re.I)
    for path in _documents(shared_councils):
        if path.name in SCANNED:
            continue
        meta = _report(shared_councils, str(path.relative_to(shared_councils))).meta
        assert meta.title and not bad_title.match(meta.title), (path.name, meta.title)
        assert "\n" not in meta.title and (meta.council is None or "\n" not in meta.council)
        if meta.council:
            assert meta.council.split()[0].lower() not in ("budget", "march", "the"), (path.name, meta.council)
    kmwlp = _report(shared_councils, "kent-county-council/KMWLP_-_County_Council_Report.pdf").meta
    assert kmwlp.title == "Adoption of the Kent Minerals and Waste Local Plan 2024-2039"
    bristol = _report(
        shared_councils,
        "bristol-city-council/src-bcc-0008_committee-report-workplace-parking-levy-update-2025-05-15.pdf").meta
    assert bristol.title == "Workplace Parking Levy Update" and bristol.date == "2025-05-15"
    weca = _report(shared_councils,
                   "west-of-england-combined-authority/src-weca-0024_joint-meeting-2026-03-27-transport-report.pdf")
    assert weca.meta.council == "West of England Combined Authority"
    nott = _report(shared_councils, "nottingham-city-council/src-nott-0001_nottingham-wpl-annual-report-2023-2024.pdf")
    assert nott.meta.council == "Nottingham City Council"
