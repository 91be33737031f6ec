"""Bad input gives UnreadableReport naming the file and the reason, and the CLI a one-line
error with exit code 2, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SEED_PDF

from ingest.errors import UnreadableReport
from ingest.ocr import OcrSettings
from ingest.report import load_report
from qa.cli import main

SCANNED = [
    "tintern-community-council/Annual_return_2016-17_.pdf",
    "tintern-community-council/Notice_of_Conclusion_of_audit_2018-19.pdf",
    "greenville-sc-city-council/Council_2023_05_23.pdf",
]


@pytest.fixture()
def encrypted_pdf(tmp_path: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(str(SEED_PDF)).pages[:2]:
        writer.add_page(page)
    writer.encrypt("secret-password")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"this is not a pdf at all \x00\x01\x02" * 50)
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(SEED_PDF.read_bytes()[:3000])
    sheet = tmp_path / "budget.xlsx"
    sheet.write_bytes(b"PK\x03\x04 not really a spreadsheet")
    blank_md = tmp_path / "blank.md"
    blank_md.write_text("   \n\n", encoding="utf-8")
    return {
        "empty": (empty, "empty"),
        "garbage": (garbage, "corrupt"),
        "truncated": (truncated, "corrupt"),
        "xlsx": (sheet, "unsupported file type '.xlsx'"),
        "blank_md": (blank_md, "empty"),
    }


@pytest.mark.parametrize("kind", ["empty", "garbage", "truncated", "xlsx", "blank_md"])
def test_bad_files_raise_unreadable_report(tmp_path, kind):
    path, reason = _bad_files(tmp_path)[kind]
    with pytest.raises(UnreadableReport) as info:
        load_report(path)
    message = str(info.value)
    assert path.name in message
    assert reason in message.lower() or reason in message


def test_encrypted_pdf(encrypted_pdf):
    with pytest.raises(UnreadableReport) as info:
        load_report(encrypted_pdf)
    assert "locked.pdf" in str(info.value)
    assert "encrypted" in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(UnreadableReport) as info:
        load_report(tmp_path / "nowhere.pdf")
    assert "nowhere.pdf" in str(info.value)


@pytest.mark.parametrize("name", SCANNED)
def test_scanned_shared_pdfs_have_no_text_layer(shared_councils, name):
    # Without tesseract a scan is refused in one line naming what to install (tests/test_ocr.py reads them).
    with pytest.raises(UnreadableReport) as info:
        load_report(shared_councils / name, OcrSettings(tesseract=None, cache_dir=None))
    assert Path(name).name in str(info.value)
    assert "no text layer" in str(info.value) and "install tesseract" in str(info.value)


def test_cli_prints_one_line_and_exits_2(tmp_path, encrypted_pdf, capsys):
    files = [encrypted_pdf] + [path for path, _ in _bad_files(tmp_path).values()]
    for path in files:
        code = main(["paragraphs", str(path)])
        captured = capsys.readouterr()
        assert code == 2, path
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1, captured.err
        assert lines[0].startswith("council-qa: error: ") and path.name in lines[0]
        assert "Traceback" not in captured.err and captured.out == ""


def test_cli_good_file_still_works(capsys):
    assert main(["paragraphs", str(SEED_PDF), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [p["label"] for p in data["paragraphs"] if not p["label"].startswith("p")][:3] == ["1", "2", "3"]


def test_cli_subprocess_no_traceback(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "garbage.pdf"
    bad.write_bytes(b"%PDF-1.4 garbage")
    proc = subprocess.run(
        [sys.executable, "-m", "qa.cli", "paragraphs", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "garbage.pdf" in proc.stderr
    assert "Traceback" not in proc.stderr
