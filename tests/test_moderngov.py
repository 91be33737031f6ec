"""ModernGov fetch: recorded answers in the service's real shapes, served from 127.0.0.1.

The stand-in site (tests/moderngov_site.py) serves tests/fixtures/moderngov/: three committees
(one expired), five meetings around a window (one cancelled, one after it, one of the expired
committee), and meetings whose agenda items link a public PDF (the seed report) listed under two
items, a restricted paper, a restricted item, a bare link, and a Word paper listed again, under
another attachment id, at another committee's meeting.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from fakes import HashingEmbedder
from moderngov_site import DOCX, FIXTURES, Site, serve, soap_wrap

from ingest.errors import BadWindow, Forbidden, SiteUnreachable
from ingest.fetch import fetch_moderngov, list_meetings, parse_window
from ingest.moderngov import ModernGov, parse_committees, parse_meeting, parse_meetings, parse_xml
from ingest.web import Polite

SEED = Path(__file__).resolve().parent.parent / "corpus" / "worcestershire-2020-02-13-chief-executive-annual-report.pdf"
WINDOW = ("2025-01-01", "2025-02-28")
UK = re.compile(r"^\d{2}/\d{2}/\d{4}$")


def budget_docx() -> bytes:
    from docx import Document

    doc = Document()
    doc.add_heading("Budget Monitoring Report Quarter 3", 1)
    for line in (
        "1. This report sets out the forecast revenue outturn for 2024/25 at the end of quarter 3.",
        "2. Background",
        "2.1 The council set a net revenue budget of £412.5m for 2024/25 in February 2024.",
        "3. Forecast",
        "3.1 The overall forecast is an overspend of £3.4m, or 0.8% of the net budget.",
        "3.2 Children's services forecast a balanced position after the use of reserves.",
        "3.3 The forecast overspend on adult social care placements is £2.1m, driven by a rise in "
        "residential care prices and more people needing care at home.",
        "3.4 Directorates are asked to hold vacancies and defer discretionary spending.",
    ):
        doc.add_paragraph(line)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def documents() -> dict[str, tuple[str, bytes]]:
    pdf, docx = SEED.read_bytes(), budget_docx()
    return {
        "/mgConvert2PDF.aspx?ID=5001": ("application/pdf", pdf),
        "/mgConvert2PDF.aspx?ID=5002": ("application/pdf", pdf),  # restricted: must never be asked for
        "/mgConvert2PDF.aspx?ID=5005": ("application/pdf", pdf),  # under a restricted item
        "/mgConvert2PDF.aspx?ID=5007": ("application/pdf", pdf),  # an expired committee's
        "/documents/s5003/Budget Monitoring Report Quarter 3.docx": (DOCX, docx),
        "/mgConvert2PDF.aspx?ID=5006": (DOCX, docx),  # the same paper under another attachment id
    }


@pytest.fixture()
def site(documents):
    site = Site(documents=documents)
    server = serve(site)
    yield site
    server.shutdown()
    server.server_close()


QUIET = Polite(delay=0, backoff=0, timeout=10, sleep=lambda s: None)


def fetch(site: Site, tmp_path: Path, **kw):
    kw.setdefault("polite", QUIET)
    return fetch_moderngov(site.url, *WINDOW, dest=tmp_path / "papers", index_dir=tmp_path / "index",
                           embedder=HashingEmbedder(), council="Example County Council", **kw)


def sidecar(tmp_path: Path, attachment: str) -> dict:
    (path,) = (tmp_path / "papers").glob(f"{attachment}-*.meta.json")
    return json.loads(path.read_text(encoding="utf-8"))


# -- parsing the real shapes -----------------------------------------------------------
def test_parses_committees_meetings_and_items() -> None:
    committees = parse_committees(parse_xml((FIXTURES / "GetCommittees.xml").read_bytes(), "x"))
    assert [(c.id, c.title, c.expired) for c in committees] == [
        ("130", "Cabinet", False), ("140", "Planning & Regulation Committee", False),
        ("99", "Old Scrutiny Panel", True)]
    stubs = parse_meetings(parse_xml((FIXTURES / "GetAllMeetingsByDate.xml").read_bytes(), "x"))
    assert [(s.id, s.date, s.cancelled) for s in stubs][:2] == [("1001", "2025-01-30", False),
                                                              ("1002", "2025-02-05", True)]
    meeting = parse_meeting(parse_xml((FIXTURES / "GetMeeting-1001.xml").read_bytes(), "x"), stubs[0])
    assert [i.number for i in meeting.items] == ["1", "5", "6", "7", "8(a)"]
    assert meeting.items[2].title == "Budget Monitoring 2024/25 & Forecast"
    docs = {d.attachment_id: d for i in meeting.items for d in i.docs}
    assert docs["5002"].restricted and docs["5004"].is_url and not docs["5001"].restricted
    assert docs["5001"].publication_date == "2025-01-22" and meeting.items[3].restricted


def test_soap_envelopes_and_escaped_results_are_unwrapped() -> None:
    plain = (FIXTURES / "GetMeeting-1001.xml").read_bytes()
    stub = parse_meetings(parse_xml((FIXTURES / "GetAllMeetingsByDate.xml").read_bytes(), "x"))[0]
    wrapped = parse_meeting(parse_xml(soap_wrap("GetMeeting", plain), "x"), stub)
    body = plain.split(b"?>", 1)[1]
    escaped = soap_wrap("GetMeeting", body.replace(b"&", b"&amp;").replace(b"<", b"&lt;"))
    assert wrapped == parse_meeting(parse_xml(plain, "x"), stub) == parse_meeting(parse_xml(escaped, "x"), stub)


def test_entity_declarations_are_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxx">]><committees>&x;</committees>'
    with pytest.raises(Exception, match="refused"):
        parse_xml(bomb, "GetCommittees")


def test_the_capped_dump_is_filtered_to_the_window() -> None:
    """Were the service ever to answer with its capped dump, nothing outside the window is kept."""
    class Dumping:
        def meetings(self, committee, start, end):  # noqa: ANN001, ANN202
            return parse_meetings(parse_xml((FIXTURES / "GetAllMeetingsByDate-iso-dump.xml").read_bytes(), "x"))

    from ingest.fetch import FetchResult
    from ingest.moderngov import Committee

    result = FetchResult("x", Path("x"), WINDOW)
    kept = list_meetings(Dumping(), [Committee("130", "Cabinet")], False, parse_window(*WINDOW), result)
    assert kept == [] and result.skipped["meeting outside the window"] == 60


# -- fetching --------------------------------------------------------------------------
def test_fetch_window_once_with_provenance_then_nothing_again(site: Site, tmp_path: Path) -> None:
    result = fetch(site, tmp_path)
    assert sorted(result.downloaded) == ["5001-annual-report-of-the-chief-executive.pdf",
                                         "5003-budget-monitoring-report-quarter-3.docx"]
    fetched = {p for p in site.hits if "mgWebService" not in p}
    assert fetched == {"/mgConvert2PDF.aspx?ID=5001", "/mgConvert2PDF.aspx?ID=5006",
                       "/documents/s5003/Budget%20Monitoring%20Report%20Quarter%203.docx"}
    assert all(n == 1 for p, n in site.hits.items() if p in fetched)
    asked = {p["lMeetingId"] for p in site.operations("GetMeeting")}
    assert asked == {"1001", "1005"}  # not the cancelled, the out-of-window or the expired committee's
    dated = site.operations("GetAllMeetingsByDate") + site.operations("GetMeetings")
    assert dated and all(UK.match(p["sFromDate"]) and UK.match(p["sToDate"]) for p in dated)
    assert {(p["sFromDate"], p["sToDate"], p["lCommitteeId"]) for p in dated} == {("01/01/2025", "28/02/2025", "-1")}
    assert not any(re.search(r"\d{4}-\d{2}-\d{2}", v) for _, _, ps in site.calls for v in ps.values())
    assert result.skipped == {"cancelled meeting": 1, "meeting outside the window": 1, "restricted paper": 2,
                              "link-only paper": 1, "duplicate of a paper already stored": 1}

    annual = sidecar(tmp_path, "5001")
    assert (annual["committee"], annual["meeting_date"], annual["item"]) == ("Cabinet", "2025-01-30", "5")
    assert annual["council"] == "Example County Council" and annual["source_url"].endswith("ID=5001")
    assert [(x["meeting_id"], x["item"]) for x in annual["listings"]] == [("1001", "5"), ("1001", "8(a)")]
    budget = sidecar(tmp_path, "5003")
    assert [(x["committee"], x["meeting_date"], x["item"]) for x in budget["listings"]] == [
        ("Cabinet", "2025-01-30", "6"), ("Planning & Regulation Committee", "2025-02-12", "3")]
    assert sorted(p.name for p in (tmp_path / "papers").iterdir() if not p.name.endswith(".json")) == sorted(
        result.downloaded)
    assert [r.status for r in result.ingest.results] == ["added", "added"]

    before = site.document_hits()
    again = fetch(site, tmp_path)
    assert again.downloaded == [] and site.document_hits() == before and again.already == 3
    assert {r.status for r in again.ingest.results} == {"unchanged"}


def test_fetched_papers_are_cited_by_committee_meeting_and_item(site: Site, tmp_path: Path) -> None:
    from qa.answer import answer
    from qa.records import Filters
    from qa.store import open_index

    fetch(site, tmp_path)
    reader = open_index(tmp_path / "index", HashingEmbedder())
    result = answer(reader, reader.embedder, "what is the forecast overspend on adult social care placements?")
    top = result.citations[0].to_json()
    assert (top["committee"], top["meeting_date"], top["item"], top["paragraph"]) == (
        "Cabinet", "2025-01-30", "6", "3.3")
    assert result.citations[0].cite == "Cabinet, 30 Jan 2025, item 6, Budget Monitoring Report Quarter 3, para 3.3"
    planning = Filters.parse(committee="planning & regulation committee")
    assert {r.source[:4] for r in reader.reports() if r.source in _allowed(reader, planning)} == {"5003"}
    cabinet = answer(reader, reader.embedder, "sickness absence days per employee",
                     filters=Filters(committee="Cabinet"))
    assert cabinet.citations and all(c.committee == "Cabinet" for c in cabinet.citations)


def _allowed(reader, filters) -> set[str]:  # noqa: ANN001
    ids = reader.allowed_report_ids(filters)
    return {r.source for rid, r in reader._reports.items() if rid in ids}


def test_soap_when_get_is_switched_off(site: Site, tmp_path: Path) -> None:
    site.get_disabled = True
    result = fetch(site, tmp_path)
    assert len(result.downloaded) == 2
    assert [m for m, _, _ in site.calls].count("GET") == 1  # GET tried once, then SOAP throughout
    posted = [(op, ps) for m, op, ps in site.calls if m == "POST"]
    assert [op for op, _ in posted][:2] == ["GetCommittees", "GetAllMeetingsByDate"]
    assert all(UK.match(ps["sFromDate"]) for op, ps in posted if op == "GetAllMeetingsByDate")


def test_429_is_retried_after_the_wait_asked_for(site: Site, tmp_path: Path) -> None:
    waits: list[float] = []
    site.throttle_first = 2
    result = fetch(site, tmp_path, polite=Polite(delay=0, backoff=1, timeout=10, sleep=waits.append))
    assert len(result.downloaded) == 2 and waits[:2] == [0.0, 0.0]


def test_403_is_one_line_and_nothing_is_written(site: Site, tmp_path: Path, capsys) -> None:
    from qa.cli import main

    site.forbidden = True
    with pytest.raises(Forbidden):
        fetch(site, tmp_path)
    assert not (tmp_path / "papers").exists() and not (tmp_path / "index").exists()
    code = main(["fetch", "moderngov", site.url, "--from", WINDOW[0], "--to", WINDOW[1], "--dest",
                 str(tmp_path / "papers"), "--index", str(tmp_path / "index"), "--delay", "0"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "HTTP 403" in err
    assert not (tmp_path / "papers").exists()


def test_unreachable_site_and_bad_window_are_one_line(tmp_path: Path, capsys) -> None:
    import socket

    from qa.cli import main

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SiteUnreachable):
        fetch_moderngov(f"http://127.0.0.1:{port}", *WINDOW, dest=tmp_path / "p", polite=QUIET)
    for argv, words in (([f"http://127.0.0.1:{port}", "--from", WINDOW[0], "--to", WINDOW[1]], "cannot be reached"),
                        (["http://127.0.0.1:1", "--from", "2025-03-01", "--to", "2025-01-01"], "start is after"),
                        (["http://127.0.0.1:1", "--from", "01/01/2025", "--to", "2025-01-31"], "YYYY-MM-DD")):
        code = main(["fetch", "moderngov", *argv, "--dest", str(tmp_path / "p"), "--delay", "0", "--no-ingest"])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1 and words in err, err
    assert not (tmp_path / "p").exists()
    with pytest.raises(BadWindow):
        parse_window("2025-02-30", "2025-03-01")


def test_a_site_without_the_service_is_one_line(site: Site, tmp_path: Path, capsys) -> None:
    from qa.cli import main

    site.broken = {"GetCommittees", "GetAllMeetingsByDate", "GetMeetings", "GetMeeting"}
    code = main(["fetch", "moderngov", site.url, "--from", WINDOW[0], "--to", WINDOW[1], "--dest",
                 str(tmp_path / "papers"), "--delay", "0", "--no-ingest"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "no working ModernGov web service" in err
    assert [m for m, _, _ in site.calls] == ["GET", "POST", "GET", "POST"]  # each operation: GET, then SOAP
    assert not (tmp_path / "papers").exists()


def test_cli_fetch_then_ask_json(site: Site, tmp_path: Path, capsys, monkeypatch) -> None:
    import ingest.embed
    from qa.cli import main

    monkeypatch.setattr(ingest.embed, "load_embedder", lambda *a, **k: HashingEmbedder())
    base = ["--dest", str(tmp_path / "papers"), "--index", str(tmp_path / "index"), "--delay", "0"]
    assert main(["fetch", "moderngov", site.url + "/mgWebService.asmx", "--from", WINDOW[0], "--to", WINDOW[1],
                 *base]) == 0
    out = capsys.readouterr().out
    assert "downloaded 2, already fetched 0" in out
    assert "2 restricted papers" in out and "1 cancelled meeting," in out and "1 link-only paper," in out
    assert main(["ask", "forecast overspend on adult social care placements", "--committee", "Cabinet", "--json",
                 "--index", str(tmp_path / "index")]) == 0
    top = json.loads(capsys.readouterr().out)["citations"][0]
    assert (top["committee"], top["meeting_date"], top["item"]) == ("Cabinet", "2025-01-30", "6")
    assert main(["fetch", "moderngov", site.url, "--from", WINDOW[0], "--to", WINDOW[1], *base]) == 0
    assert "downloaded 0, already fetched 3" in capsys.readouterr().out
    assert {a.split(" ")[0].split("/")[0] for a in site.agents} == {"council-qa"}


def test_one_committee_is_asked_for_by_id(site: Site, tmp_path: Path) -> None:
    result = fetch(site, tmp_path, committees=["140"])
    assert result.downloaded == ["5006-budget-monitoring-report-quarter-3.docx"]
    assert {p["lCommitteeId"] for p in site.operations("GetMeetings")} == {"140"}
    assert not site.operations("GetAllMeetingsByDate")


def test_expired_committees_only_when_asked(site: Site, tmp_path: Path) -> None:
    result = fetch(site, tmp_path, include_expired=True)
    assert "5007-scrutiny-review-report.pdf" not in result.downloaded  # same bytes as 5001: stored once
    assert {p["lMeetingId"] for p in site.operations("GetMeeting")} == {"1001", "1004", "1005"}
    assert [x["committee"] for x in sidecar(tmp_path, "5001")["listings"]] == ["Cabinet", "Cabinet",
                                                                              "Old Scrutiny Panel"]


def test_a_client_reads_the_service_address_or_the_site(site: Site) -> None:
    assert ModernGov(site.url + "/mgWebService.asmx/", None).base == ModernGov(site.url + "/", None).base == site.url


def test_the_app_and_the_clerk_name_the_meeting(site: Site, tmp_path: Path) -> None:
    from qa import handlers
    from qa.draft import report_phrase
    from qa.service import Library

    fetch(site, tmp_path)
    library = Library(tmp_path / "index", tmp_path / "papers", HashingEmbedder())
    choices = handlers.committee_choices(library)["choices"]
    assert choices == [("All committees", ""), ("Cabinet", "Cabinet"),
                       ("Planning & Regulation Committee", "Planning & Regulation Committee")]
    question = "what is the forecast overspend on adult social care placements?"
    _, sources, _ = handlers.ask(library, question, None, "", "", "", "Cabinet")
    assert "Cabinet · 30 Jan 2025 · item 6" in sources
    assert "Cabinet, 30 Jan 2025, item 6, Budget Monitoring Report Quarter 3, para 3.3" in sources
    result = library.ask(question)
    top = result.citations[0]
    assert report_phrase(top, library.report(top.source)) == (
        "The Budget Monitoring Report Quarter 3 to Cabinet on 30 January 2025, item 6")
    _, none, _ = handlers.ask(library, "sickness absence", None, "", "", "", "Planning & Regulation Committee")
    assert "Annual Report of the Chief Executive" not in none


def test_an_install_without_all_meetings_is_asked_per_committee(site: Site, tmp_path: Path) -> None:
    site.broken = {"GetAllMeetingsByDate"}
    result = fetch(site, tmp_path)
    assert len(result.downloaded) == 2
    assert {p["lCommitteeId"] for p in site.operations("GetMeetings")} == {"130", "140"}  # not the expired 99
    assert [m for m, op, _ in site.calls if op == "GetMeeting"] == ["GET", "GET"]  # GET still used


def test_an_install_without_a_committee_register_uses_the_listing(site: Site, tmp_path: Path) -> None:
    site.broken = {"GetCommittees"}
    result = fetch(site, tmp_path)
    assert len(result.downloaded) == 2
    assert sidecar(tmp_path, "5003")["listings"][1]["committee"] == "Planning & Regulation Committee"


def test_a_republished_paper_is_fetched_again_only_when_it_changed(site: Site, tmp_path: Path, monkeypatch) -> None:
    import shutil

    import moderngov_site

    fetch(site, tmp_path)
    copy = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, copy)
    monkeypatch.setattr(moderngov_site, "FIXTURES", copy)
    page = copy / "GetMeeting-1001.xml"
    original = page.read_text(encoding="utf-8")
    page.write_text(original.replace("22/01/2025", "29/01/2025"), encoding="utf-8")
    hits = site.document_hits()
    same = fetch(site, tmp_path)  # listed as republished, the same bytes: asked with validators, 304
    assert same.downloaded == [] and site.document_hits() == hits + 1  # 5003 was listed later already
    site.documents = {**site.documents, "/mgConvert2PDF.aspx?ID=5001": ("application/pdf", SEED.read_bytes()
                                                                        + b"\n% republished\n")}
    page.write_text(original.replace("22/01/2025", "30/01/2025"), encoding="utf-8")
    changed = fetch(site, tmp_path)
    assert changed.downloaded == ["5001-annual-report-of-the-chief-executive.pdf"]
    assert {r.source[:4]: r.status for r in changed.ingest.results} == {"5001": "updated", "5003": "unchanged"}


def test_a_paper_listed_again_later_gains_the_listing_in_the_index(site: Site, tmp_path: Path) -> None:
    from qa.records import Filters
    from qa.store import open_index

    fetch_moderngov(site.url, "2025-01-01", "2025-01-31", dest=tmp_path / "papers", index_dir=tmp_path / "index",
                    embedder=HashingEmbedder(), polite=QUIET)
    planning = Filters(committee="Planning & Regulation Committee")
    assert open_index(tmp_path / "index", HashingEmbedder()).allowed_report_ids(planning) == set()
    again = fetch(site, tmp_path)  # February: the same Word paper at the Planning committee
    assert again.downloaded == [] and {r.source[:4]: r.status for r in again.ingest.results} == {
        "5001": "unchanged", "5003": "added"}
    reader = open_index(tmp_path / "index", HashingEmbedder())
    assert _allowed(reader, planning) == {"5003-budget-monitoring-report-quarter-3.docx"}
