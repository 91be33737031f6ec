"""Hostile files stay bounded: each is refused with a one-line reason (or read, when it is
harmless), the rest of the batch is still read, and no reader process outlives the batch.

Every hostile file is generated in a temporary folder by tests/hostile_files.py.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from conftest import SEED_PDF
from hostile_files import GOOD_TEXT, ODD_NAMES, build_all, flate_bomb_pdf, hidden_page_bomb_pdf

from ingest.errors import UnreadableReport
from ingest.index import read_in_order
from ingest.isolate import in_background, load_report_isolated, read_reports
from ingest.readers import decode_text
from ingest.report import load_report, try_load_report

OK = None
EXPECTED = {
    "docx zip bomb": "too large when decompressed",
    "docx not a zip": "not a Word .docx file",
    "flate bomb": "too large or too complex to read safely",
    "page bomb 100k": "too many pages (100,000",
    "huge /Count": "too many pages",
    "deep nesting": "corrupt or unreadable PDF",
    "cyclic pages": "cyclic page references",
    "AES-128 open": OK,
    "AES-256 open": OK,
    "RC4-128 open": OK,
    "AES-256 locked": "a password is needed to open it",
    "UTF-16 LE": OK,
    "UTF-16 BE": OK,
    "UTF-8 with NUL": "contains NUL bytes",
    "PNG named .pdf": "it looks like a PNG image",
    "zero bytes": "empty file",
    ".rtf": "unsupported file type '.rtf'",
    ".csv": "unsupported file type '.csv'",
    **{f"name {name[:20]}": OK for name in ODD_NAMES},
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.fixture(scope="module")
def batch(folder):
    """Every hostile file and the good seed report, read in one batch by two workers."""
    files = build_all(folder, SEED_PDF)
    files.pop("hidden page bomb 100k")  # bounded only by the time limit: see test_timeout_*
    files["good"] = SEED_PDF
    started = time.monotonic()
    results = dict(read_reports(list(files.values()), workers=2))
    return files, results, time.monotonic() - started


def _assert_clean_reason(exc: UnreadableReport, path: Path, folder: Path) -> None:
    assert exc.path == path.name
    assert "\n" not in str(exc) and "\r" not in str(exc)
    assert str(folder) not in exc.reason and "/tmp" not in exc.reason
    assert "Traceback" not in exc.reason and len(exc.reason) <= 300


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_hostile_file_outcome(batch, folder, key):
    files, results, _ = batch
    outcome = results[files[key]]
    if EXPECTED[key] is OK:
        assert not isinstance(outcome, UnreadableReport), outcome
        assert outcome.source == files[key].name and outcome.paragraphs
    else:
        assert isinstance(outcome, UnreadableReport), key
        _assert_clean_reason(outcome, files[key], folder)
        assert EXPECTED[key] in outcome.reason


def test_good_file_in_the_hostile_batch_is_read_and_batch_is_quick(batch):
    files, results, seconds = batch
    assert list(results) == list(files.values())  # every file answered, in input order
    good = results[SEED_PDF]
    assert [p.label for p in good.paragraphs] == [p.label for p in load_report(SEED_PDF).paragraphs]
    assert seconds < 30


def test_encrypted_without_user_password_reads_like_the_plain_pages(batch):
    files, results, _ = batch
    seed_first_pages = [p.text for p in load_report(SEED_PDF).paragraphs if p.page == 1]
    for key in ("AES-128 open", "AES-256 open", "RC4-128 open"):
        texts = [p.text for p in results[files[key]].paragraphs]
        assert texts[: len(seed_first_pages)] == seed_first_pages, key


def test_utf16_text_reads_numbered_paragraphs(batch):
    files, results, _ = batch
    for key in ("UTF-16 LE", "UTF-16 BE"):
        paragraphs = [p for p in results[files[key]].paragraphs if p.numbered]
        assert [p.label for p in paragraphs] == ["1", "2"]
        assert "budget café" in paragraphs[0].text


def _children_of_forkserver() -> list[int]:
    from multiprocessing import forkserver

    server = forkserver._forkserver._forkserver_pid
    if server is None:
        return []
    children = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(server):
            children.append(int(status.parent.name))
    return children


def _wait_gone(pids: list[int]) -> list[int]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in pids):
        time.sleep(0.05)
    return [pid for pid in pids if Path(f"/proc/{pid}").exists()]


def test_timeout_kills_the_child_and_the_batch_goes_on(tmp_path):
    slow = hidden_page_bomb_pdf(tmp_path)  # walking its page tree takes ~20 s
    good = tmp_path / "good.txt"
    good.write_text(GOOD_TEXT, encoding="utf-8")
    started = time.monotonic()
    results = dict(read_reports([slow, good], timeout_s=1))
    assert time.monotonic() - started < 10
    assert isinstance(results[slow], UnreadableReport)
    assert results[slow].reason == "took longer than 1 s to read"
    assert [p.label for p in results[good].paragraphs if p.numbered] == ["1", "2"]
    assert multiprocessing.active_children() == []
    assert _wait_gone(_children_of_forkserver()) == []


def test_closing_the_batch_early_stops_a_busy_child(tmp_path):
    slow = hidden_page_bomb_pdf(tmp_path)
    good = tmp_path / "good.txt"
    good.write_text(GOOD_TEXT, encoding="utf-8")
    results = read_reports([good, slow], timeout_s=60)
    path, outcome = next(results)
    assert path == good and outcome.paragraphs
    busy = [child.pid for child in multiprocessing.active_children()]
    assert len(busy) == 1  # already reading the next file ahead of the caller
    results.close()
    assert _wait_gone(busy) == []
    assert multiprocessing.active_children() == []


def test_memory_limit_is_reported_and_the_worker_restarted(tmp_path):
    bomb = flate_bomb_pdf(tmp_path)
    good = tmp_path / "good.txt"
    good.write_text(GOOD_TEXT, encoding="utf-8")
    results = dict(read_reports([bomb, good], memory_mb=200))
    assert isinstance(results[bomb], UnreadableReport)
    assert results[bomb].reason == "needs more than 200 MB of memory to read"
    assert results[good].paragraphs


def test_a_killed_child_is_reported_and_replaced(tmp_path):
    slow = hidden_page_bomb_pdf(tmp_path)
    good = tmp_path / "good.txt"
    good.write_text(GOOD_TEXT, encoding="utf-8")

    def kill_reader() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not multiprocessing.active_children():
            time.sleep(0.05)
        time.sleep(0.3)
        for child in multiprocessing.active_children():
            os.kill(child.pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_reader)
    killer.start()
    results = dict(read_reports([slow, good], timeout_s=30))
    killer.join()
    assert results[slow].reason == "could not be read (the reader process stopped: signal SIGKILL)"
    assert results[good].paragraphs


def test_load_report_isolated(tmp_path):
    assert load_report_isolated(SEED_PDF).paragraphs
    bad = tmp_path / "photo.pdf"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(UnreadableReport, match=r"^photo\.pdf: corrupt or not a PDF \(it looks like a PNG image\)$"):
        load_report_isolated(bad)


def test_unexpected_exception_becomes_one_line_reason(tmp_path, monkeypatch):
    import ingest.report

    path = tmp_path / "notes.txt"
    path.write_text(GOOD_TEXT, encoding="utf-8")

    def broken(_path, *_ocr):
        raise ValueError(f"parser bug\nwhile reading {path}")

    monkeypatch.setattr(ingest.report, "read_document", broken)
    outcome = try_load_report(path)
    assert isinstance(outcome, UnreadableReport)
    assert outcome.reason == "could not be read (ValueError: parser bug while reading notes.txt)"


def test_text_decoding_fallbacks():
    assert decode_text("a.txt", "Café costs £5 – agreed".encode("cp1252")) == "Café costs £5 – agreed"
    assert decode_text("a.txt", b"\xef\xbb\xbf1. Caf\xc3\xa9") == "1. Café"
    with pytest.raises(UnreadableReport, match="binary data"):
        decode_text("a.txt", bytes(range(1, 32)) * 40 + b"\x81")
    with pytest.raises(UnreadableReport, match="binary data"):
        decode_text("a.txt", bytes(range(1, 9)) * 100 + b"\xe9")


@pytest.mark.shared
@pytest.mark.slow
def test_shared_corpus_reads_the_same_isolated(shared_councils):
    paths = sorted(shared_councils.rglob("*.pdf"))
    isolated = {path: outcome for path, outcome in read_reports(paths, workers=2)}
    for path in paths:
        direct = try_load_report(path)
        outcome = isolated[path]
        if isinstance(direct, UnreadableReport):
            assert isinstance(outcome, UnreadableReport) and outcome.reason == direct.reason, path.name
        else:
            assert [p.text for p in outcome.paragraphs] == [p.text for p in direct.paragraphs], path.name


def test_in_background_keeps_the_order_and_raises_at_the_failing_place():
    def numbers():
        yield from range(5)
        raise ValueError("the sixth item is broken")

    seen = []
    with pytest.raises(ValueError, match="sixth"):
        for n in in_background(numbers(), ahead=2):
            seen.append(n)
    assert seen == [0, 1, 2, 3, 4]


def test_closing_in_background_early_closes_its_source():
    closed = threading.Event()

    def endless():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    items = in_background(endless(), ahead=3)
    assert [next(items) for _ in range(4)] == [0, 1, 2, 3]
    items.close()
    assert closed.wait(5)


def test_closing_the_ingest_reader_early_stops_a_child_busy_reading_ahead(tmp_path):
    slow = hidden_page_bomb_pdf(tmp_path)  # walking its page tree takes ~20 s
    good = tmp_path / "good.txt"
    good.write_text(GOOD_TEXT, encoding="utf-8")
    results = read_in_order([good, slow])
    path, outcome = next(results)
    assert path == good and outcome.paragraphs
    deadline = time.monotonic() + 5
    while not multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    busy = [child.pid for child in multiprocessing.active_children()]
    assert len(busy) == 1  # the background thread has handed it the next file
    started = time.monotonic()
    results.close()
    assert time.monotonic() - started < 3  # not the 20 s the file would take
    assert _wait_gone(busy) == []
    assert multiprocessing.active_children() == []
