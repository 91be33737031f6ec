"""Scanned reports read by OCR (``ingest.ocr``): numbering repaired, the shared corpus's three
scans indexed, the seed report printed to images and read back, the cache, tesseract missing,
time limits, Welsh pages, and citations that say "scanned page".

Tesseract runs for real (Debian's ``tesseract-ocr``; ``make test`` installs it). Calls are
counted through a wrapper script given as the tesseract executable.
"""

from __future__ import annotations

import difflib
import json
import shutil
import textwrap
from pathlib import Path
from urllib.parse import urlencode

import pypdfium2 as pdfium
import pytest
from conftest import SEED_MD, SEED_PDF
from fakes import HashingEmbedder

from ingest.errors import UnreadableReport
from ingest.index import Status, ingest_paths
from ingest.isolate import load_report_isolated, read_reports
from ingest.ocr import OcrSettings, clean_ocr_line, repair_numbering, welsh_share
from ingest.report import load_report
from qa.answer import answer
from qa.records import Filters
from qa.store import open_index
from qa.wording import SCANNED_NOTE, cite, where

TESSERACT = shutil.which("tesseract")
needs_tesseract = pytest.mark.skipif(TESSERACT is None, reason="tesseract-ocr is not installed (make test installs it)")
SCANNED = ("tintern-community-council/Annual_return_2016-17_.pdf",
           "tintern-community-council/Notice_of_Conclusion_of_audit_2018-19.pdf",
           "greenville-sc-city-council/Council_2023_05_23.pdf")


def image_pdf(src: Path, out: Path, pages: range | None = None, dpi: int = 300) -> Path:
    """``src`` printed to images: a PDF of page images with no text layer."""
    pdf = pdfium.PdfDocument(str(src))
    images = [pdf[i].render(scale=dpi / 72, grayscale=True).to_pil() for i in (pages or range(len(pdf)))]
    images[0].save(out, save_all=True, append_images=images[1:], resolution=dpi)
    return out


def counting_tesseract(folder: Path, sleep_s: float = 0) -> tuple[str, Path]:
    """A tesseract that logs each call (and may dawdle) before running the real one."""
    log = folder / "tesseract-calls.log"
    script = folder / "tesseract"
    script.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\ncase "$*" in *stdin*) sleep {sleep_s};; esac\n'
                      f'exec "{TESSERACT}" "$@"\n')
    script.chmod(0o755)
    return str(script), log


def page_calls(log: Path) -> int:
    return sum("stdin" in line for line in log.read_text().splitlines()) if log.exists() else 0


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, " ".join(a.split()), " ".join(b.split()), autojunk=False).ratio()


# -- (a) repairs and wording, on tiny strings ------------------------------------------------

@pytest.mark.parametrize(("line", "fixed"), [
    ("l. The Council agreed", "1. The Council agreed"),
    ("5,2 The budget", "5.2 The budget"),
    ("1O. Members noted", "10. Members noted"),
    ("3.l Budget monitoring", "3.1 Budget monitoring"),
    ("z., I would like", "2. I would like"),
    ("2,000 homes were built", "2,000 homes were built"),   # a figure, not a label
    ("I. Introduction", "I. Introduction"),                   # a Roman numeral stays
    ("l the rest", "l the rest"),                             # not before a capital
    ("12 Apologies for Absence", "12 Apologies for Absence"),  # already right
    ("S. Main Street", "S. Main Street"),
])
def test_numbering_noise_is_repaired_at_the_start_of_a_line(line, fixed):
    assert repair_numbering(line) == fixed


def test_ocr_lines_get_bullets_and_the_pronoun_back():
    assert clean_ocr_line("¢ Our  2018/19 accounts") == "• Our 2018/19 accounts"
    assert clean_ocr_line("e We managed an overspend") == "• We managed an overspend"
    assert clean_ocr_line("z., | would like to start") == "2. I would like to start"
    assert clean_ocr_line("agenda in 2019/20. |") == "agenda in 2019/20. I"
    assert clean_ocr_line("|Banks (LOBO) | 90.0 | 415 |") == "Banks (LOBO) 90.0 415"  # table rules go


def test_welsh_pages_are_told_from_english():
    welsh = ("Croesawodd y Cadeirydd bawb i'r cyfarfod a diolchodd i'r aelodau am eu presenoldeb. Cytunwyd bod "
             "cofnodion y cyfarfod blaenorol yn gywir. Mae'r cyngor wedi derbyn llythyr gan y Clerc ynglŷn â'r ffordd.")
    english = SEED_MD.read_text(encoding="utf-8")[:3000]
    assert welsh_share(welsh) > 0.25
    assert welsh_share(english) < 0.03


def test_citations_of_scanned_text_say_so():
    assert where("4", 2, scanned=True) == "para 4, scanned page 2"
    assert where("p2-3", 2, scanned=True) == "scanned page 2"
    assert where("4", 2) == "para 4"
    assert cite("Minutes", "2023-05-22", "4", 2, scanned=True) == "Minutes, 22 May 2023, para 4, scanned page 2"


# -- (b)+(d) the shared corpus's scans indexed; a second ingest costs no OCR ------------------

@pytest.fixture(scope="module")
def ocr_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ocr-cache")


@needs_tesseract
@pytest.mark.shared
def test_shared_scanned_pdfs_are_indexed_with_paragraphs_and_cached(shared_councils, ocr_cache, tmp_path, capsys):
    tesseract, log = counting_tesseract(tmp_path)
    settings = OcrSettings(tesseract, str(ocr_cache))
    files = [shared_councils / rel for rel in SCANNED]
    pages: list[tuple[str, int, int]] = []
    summary = ingest_paths(files, tmp_path / "index", embedder=HashingEmbedder(), ocr=settings,
                           on_ocr=lambda name, done, total: pages.append((name, done, total)))
    assert [r.status for r in summary.results] == [Status.ADDED] * 3, [r.reason for r in summary.results]
    assert page_calls(log) >= 13  # 2 + 1 + 10 pages, each read once (Welsh never suspected)
    assert {(name, total) for name, done, total in pages if done == total} == {
        ("Annual_return_2016-17_.pdf", 2), ("Notice_of_Conclusion_of_audit_2018-19.pdf", 1),
        ("Council_2023_05_23.pdf", 10)}
    reader = open_index(tmp_path / "index", embedder=HashingEmbedder())
    rows = reader.db.execute("SELECT r.source, p.label, p.page, p.numbered, p.scanned, p.text FROM paragraphs p"
                             " JOIN reports r ON r.id = p.report_id ORDER BY r.source, p.seq").fetchall()
    with capsys.disabled():
        for source, label, page, _numbered, _scanned, text in rows:
            print(f"\n{source[:28]:28} [{label:>6}] scanned p{page:<2} {' '.join(text.split())[:80]}", end="")
        print()
    assert all(scanned for *_, scanned, _ in rows)
    by_source = {s: [(label, text) for src, label, _p, numbered, _s, text in rows if src == s and numbered]
                 for s in {r[0] for r in rows}}
    assert [label for label, _ in by_source["Council_2023_05_23.pdf"]] == [str(n) for n in range(1, 19)]
    assert "Lillian Flemming" in dict(by_source["Council_2023_05_23.pdf"])["2"]
    assert [label for label, _ in by_source["Annual_return_2016-17_.pdf"]][:14] == [str(n) for n in range(1, 15)]
    notice = " ".join(t for src, *_r, t in rows if src == "Notice_of_Conclusion_of_audit_2018-19.pdf")
    assert "year ended 31 March 2019 was completed on" in notice and "14 September 2019" in notice

    # an answer from a scan cites "scanned page", in text and JSON
    result = answer(reader, reader.embedder, "who gave the invocation?",
                    filters=Filters(reports=("Council_2023_05_23.pdf",)))
    first = result.citations[0]
    assert first.scanned and f"scanned page {first.page}" in first.cite
    assert result.to_json()["citations"][0]["scanned"] is True

    # (d) the same files into a new index: the OCR comes from the cache, tesseract is not run
    before = page_calls(log)
    again = ingest_paths(files, tmp_path / "index2", embedder=HashingEmbedder(), ocr=settings)
    assert [r.status for r in again.results] == [Status.ADDED] * 3
    assert page_calls(log) == before
    assert [r.paragraphs for r in again.results] == [r.paragraphs for r in summary.results]


# -- (c) the seed report printed to images and read back ---------------------------------------

@needs_tesseract
def test_seed_printed_to_images_reads_back_its_numbered_paragraphs(tmp_path, capsys):
    scan = image_pdf(SEED_PDF, tmp_path / SEED_PDF.name)
    settings = OcrSettings(TESSERACT, str(tmp_path / "cache"))
    ocr = load_report_isolated(scan, ocr=settings)  # the bounded reader, as ingest reads it
    text = load_report(SEED_PDF)
    assert all(p.scanned for p in ocr.paragraphs) and not any(p.scanned for p in text.paragraphs)
    read: dict[str, list[str]] = {}
    for p in ocr.paragraphs:
        if p.numbered:
            read.setdefault(p.label, []).append(p.text)
    wanted = [p for p in text.paragraphs if p.numbered]
    scores = {p.label: max([similarity(p.text, t) for t in read.get(p.label, [])] or [0.0]) for p in wanted}
    good = [label for label, score in scores.items() if score >= 0.95]
    with capsys.disabled():
        print(f"\nseed printed to images: {len(read)} labels read, {len(good)}/{len(wanted)} numbered paragraphs "
              f"within 95 % of the text layer; misses: "
              f"{ {label: round(s, 3) for label, s in scores.items() if s < 0.95} }")
    assert len(good) >= 0.9 * len(wanted)
    sickness = "7.68 days per employee over the last 12 months"
    assert any(sickness in t for t in read["9"])
    assert ocr.meta.date == text.meta.date == "2020-02-13"


# -- (e) tesseract missing; time limits ----------------------------------------------------------

@pytest.fixture(scope="module")
def small_scan(tmp_path_factory) -> Path:
    """The seed's first two pages as page images."""
    return image_pdf(SEED_PDF, tmp_path_factory.mktemp("scan") / "seed-scan.pdf", range(2))


def test_without_tesseract_a_scan_is_one_line_and_the_rest_is_ingested(small_scan, tmp_path):
    settings = OcrSettings(tesseract=None, cache_dir=str(tmp_path / "cache"))
    summary = ingest_paths([small_scan, SEED_MD], tmp_path / "index", embedder=HashingEmbedder(), ocr=settings)
    results = {r.source: r for r in summary.results}
    assert results[SEED_MD.name].status == Status.ADDED
    failed = results[small_scan.name]
    assert failed.status == Status.FAILED
    assert failed.reason.startswith("no text layer (a scanned PDF?) and OCR is not available: install tesseract")
    assert "\n" not in failed.reason


def test_cli_without_tesseract_says_so_in_one_line(small_scan, monkeypatch, capsys):
    from qa.cli import main

    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["paragraphs", str(small_scan)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and small_scan.name in err[0] and "install tesseract" in err[0]


@needs_tesseract
def test_ocr_gets_time_per_page_beyond_the_file_limit(small_scan, tmp_path):
    """Reading a file may take 3 s, but its two scanned pages take 2 x 2.5 s: OCR extends the limit."""
    tesseract, log = counting_tesseract(tmp_path, sleep_s=2.5)
    settings = OcrSettings(tesseract, str(tmp_path / "cache"), workers=1)
    [(_, outcome)] = list(read_reports([small_scan], timeout_s=3, ocr=settings))
    assert not isinstance(outcome, UnreadableReport), outcome
    assert page_calls(log) == 2 and outcome.paragraphs[0].scanned


@needs_tesseract
def test_a_page_over_its_ocr_time_fails_its_file_in_one_line(small_scan, tmp_path):
    tesseract, _log = counting_tesseract(tmp_path, sleep_s=30)
    settings = OcrSettings(tesseract, str(tmp_path / "cache"), page_timeout_s=1)
    outcomes = dict(read_reports([small_scan, SEED_MD], ocr=settings))
    assert isinstance(outcomes[small_scan], UnreadableReport)
    assert outcomes[small_scan].reason in ("page 1: OCR took longer than 1 s", "page 2: OCR took longer than 1 s")
    assert not isinstance(outcomes[SEED_MD], UnreadableReport)


def test_too_many_scanned_pages_are_refused_before_any_ocr(small_scan, tmp_path, monkeypatch):
    import ingest.ocr

    monkeypatch.setattr(ingest.ocr, "MAX_OCR_PAGES", 1)
    settings = OcrSettings("/nonexistent/tesseract", str(tmp_path / "cache"))
    with pytest.raises(UnreadableReport, match=r"too many pages without a text layer to read by OCR \(2; at most 1\)"):
        load_report(small_scan, settings)


# -- Welsh, and the evidence viewer ------------------------------------------------------------

WELSH = """1. Croesawodd y Cadeirydd bawb i'r cyfarfod a diolchodd i'r aelodau am eu presenoldeb. Derbyniwyd \
ymddiheuriadau gan y Cynghorydd Jones a'r Cynghorydd Williams.
2. Cytunwyd bod cofnodion y cyfarfod blaenorol yn gywir ac fe'u llofnodwyd gan y Cadeirydd.
3. Adroddodd y Clerc fod y cyngor wedi derbyn llythyr gan Gyngor Sir Fynwy ynglŷn â'r ffordd fawr. Penderfynwyd \
ymateb i'r llythyr cyn diwedd y mis."""
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")


@needs_tesseract
@pytest.mark.skipif(not FONT.exists(), reason="needs the DejaVu fonts to print a Welsh page")
def test_a_welsh_page_is_read_as_welsh(tmp_path):
    from PIL import Image, ImageDraw, ImageFont

    font, page = ImageFont.truetype(str(FONT), 42), Image.new("L", (2480, 3508), 255)
    draw, y = ImageDraw.Draw(page), 250
    for paragraph in WELSH.splitlines():
        for line in textwrap.wrap(paragraph, 70):
            draw.text((200, y), line, font=font, fill=0)
            y += 60
        y += 40
    page.save(tmp_path / "cofnodion.pdf", resolution=300)
    settings = OcrSettings(TESSERACT, str(tmp_path / "cache"))
    report = load_report(tmp_path / "cofnodion.pdf", settings)
    assert [p.label for p in report.paragraphs if p.numbered] == ["1", "2", "3"]
    assert "ynglŷn â'r ffordd fawr" in report.paragraphs[-1].text  # ŷ: English alone reads it as y
    cached = json.loads(next((tmp_path / "cache").iterdir()).read_text(encoding="utf-8"))
    assert cached["pages"]["1"]["lang"] == "cym+eng"


@needs_tesseract
def test_evidence_viewer_shows_the_scanned_page_beside_its_ocr_text(small_scan, tmp_path):
    from fastapi.testclient import TestClient

    from qa.server import make_server

    ingest_paths([small_scan], tmp_path / "index", embedder=HashingEmbedder(),
                 ocr=OcrSettings(TESSERACT, str(tmp_path / "cache")))
    client = TestClient(make_server(tmp_path / "index", corpus_dir=tmp_path / "corpus", embedder=HashingEmbedder()))
    query = urlencode({"page": 1, "para": "1", "q": "The following report reviews the work of the Chief Executive"})
    html = client.get(f"/evidence/{small_scan.name}?{query}").text
    assert "para 1, scanned page 1" in html and SCANNED_NOTE in html
    assert "clarification where required" in html  # the OCR text beside the image
    image = client.get(f"/evidence/{small_scan.name}/page-1.png?{urlencode({'para': '1'})}")
    assert image.status_code == 200 and image.content[:4] == b"\x89PNG"
