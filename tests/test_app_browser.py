"""The app in a real browser: Playwright drives Debian's Chromium against ``qa.server.serve``.

A member asks about sickness absence and reads paragraph 9; a clerk drafts a reply and
downloads it as Word; a report carrying an HTML/script payload is shown as text; the
library accepts a report and rejects a file of the wrong type. Screenshots of each step
go to ``test-artifacts/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, SEED_PDF

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
XSS_SOURCE = "testborough-2021-03-12-library-services.txt"
XSS_REPORT = """Report on Library Services
Test Borough Council
Cabinet, 12 March 2021

1. The library opening hours were extended to 8pm on weekdays from January 2021. The notice on \
the door read <script>window.__xss=1</script> during the test.

2. Library visitor numbers rose by 12 per cent after the new opening hours began. A poster \
showed <img src=x onerror="window.__xss=2"> next to the desk.

3. The mobile library van now visits fourteen villages each fortnight.
"""
SCRIPT_TEXT = "<script>window.__xss=1</script>"
IMG_TEXT = '<img src=x onerror="window.__xss=2">'
UPLOAD_MD = """# Highways Maintenance Update

Test Borough Council, Cabinet, 20 May 2021

1. Pothole repairs were completed within 28 days in 94 per cent of cases during 2020/21.

2. The winter gritting fleet was replaced with twelve new vehicles.
"""
TIMEOUT = 60_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed (apt-get install chromium)")
    base = tmp_path_factory.mktemp("app")
    corpus = base / "corpus"
    corpus.mkdir()
    shutil.copy(SEED_PDF, corpus / SEED_PDF.name)
    (corpus / XSS_SOURCE).write_text(XSS_REPORT, encoding="utf-8")
    (corpus / (XSS_SOURCE + ".meta.json")).write_text(json.dumps(
        {"title": "Report on Library Services", "council": "Test Borough Council", "meeting": "Cabinet"}))
    index = base / "index"
    port = _free_port()
    log = (base / "server.log").open("w")
    code = ("import sys; from pathlib import Path; from qa.server import serve; "
            "serve(Path(sys.argv[1]), corpus_dir=Path(sys.argv[2]), port=int(sys.argv[3]))")
    proc = subprocess.Popen([sys.executable, "-c", code, str(index), str(corpus), str(port)],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 240
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail("the app exited:\n" + (base / "server.log").read_text())
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                pytest.fail("the app did not start:\n" + (base / "server.log").read_text())
            time.sleep(0.5)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page(browser, app_url):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(app_url)
    page.get_by_label("Your question").wait_for()
    yield page
    context.close()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def _ask(page, question: str) -> None:
    box = page.get_by_label("Your question")
    box.fill(question)
    page.locator("#cqa-ask").click()
    page.wait_for_function(
        "q => document.querySelector('#cqa-answer-box #cqa-answer')?.getAttribute('data-question') === q",
        arg=question,
    )
    page.wait_for_timeout(400)  # let the loading overlay fade before a screenshot


def _wait_text(page, selector: str, text: str) -> None:
    page.wait_for_function(
        "([sel, text]) => (document.querySelector(sel)?.innerText || '').includes(text)", arg=[selector, text])


RECORD_ANNOUNCEMENTS = """() => {
    window.__announced = [];
    new MutationObserver(() => document.querySelectorAll('[role=status]').forEach(e => {
        const text = e.textContent.trim();
        if (text && window.__announced.at(-1) !== text) window.__announced.push(text);
    })).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""
"""Keeps every text the page's live regions take: they are read out to a screen reader, then cleared."""


def _no_page_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_member_asks_and_clerk_drafts(page, app_url, tmp_path):
    from docx import Document

    errors = _no_page_errors(page)
    _shot(page, "01-start.png")
    page.evaluate(RECORD_ANNOUNCEMENTS)
    _ask(page, "what happened to sickness absence?")
    answer = page.locator("#cqa-answer-box")
    answer.get_by_text("7.68 days", exact=False).wait_for()
    assert "7.68 days" in answer.inner_text()
    sources = page.locator("#cqa-sources-box")
    para9 = sources.locator("details", has_text="para 9, page 3").first
    para9.wait_for()
    assert "Annual Report of the Chief Executive" in sources.inner_text()
    # what Gradio announces to screen readers (briefly, in a live region) is words, not its
    # untranslated keys: a member trial had heard "common.complete"
    page.wait_for_function("() => window.__announced.some(t => !/^(Loading|In queue)/.test(t))")
    announced = page.evaluate("() => window.__announced")
    assert "Complete" in announced and not any(re.match(r"common\.", t) for t in announced), announced
    _shot(page, "02-answer.png")

    # expand the source: the whole paragraph, the answering sentence marked
    para9.locator("summary").click()
    mark = para9.locator(".cqa-para mark")
    mark.wait_for(state="visible")
    assert "7.68 days" in mark.inner_text()
    assert "compared to the same position 12 months ago" in para9.locator(".cqa-para").inner_text()
    assert "Annual Report of the Chief Executive, 13 Feb 2020, para 9" in para9.inner_text()
    para9.scroll_into_view_if_needed()
    _shot(page, "03-source-expanded.png")

    # the source opens at its page in the evidence viewer, the paragraph highlighted on the page
    # image; the report itself is served raw; only files the index knows are served
    link = para9.get_by_role("link", name="Open at page 3")
    href = link.get_attribute("href")
    assert href.startswith("evidence/" + SEED_PDF.name + "?page=3&para=9&q=")
    response = page.request.get(app_url + href)
    assert response.status == 200 and "para 9" in response.text() and "<img" in response.text()
    raw = page.request.get(app_url + "report/" + SEED_PDF.name)
    assert raw.status == 200 and raw.headers["content-type"] == "application/pdf"
    for bad in ("report/..%2Fmanifest.json", "report/manifest.json", "report/nope.pdf"):
        assert page.request.get(app_url + bad).status == 404
    for folder in ("index", "corpus", "file=corpus"):
        assert "%PDF" not in page.request.get(app_url + folder + "/" + SEED_PDF.name).text()

    # the clerk drafts a reply and downloads it as Word
    page.get_by_role("tab", name="Clerk: draft a reply").click()
    page.get_by_label("Formal question").fill(
        "Will the Cabinet Member tell me what progress has been made on reducing sickness absence?")
    page.locator("#cqa-draft").click()
    draft = page.locator("#cqa-draft-text textarea")
    page.wait_for_function(
        "() => (document.querySelector('#cqa-draft-text textarea')||{}).value?.includes('Sources')")
    text = draft.input_value()
    assert ("The Annual Report of the Chief Executive to Council on 13 February 2020 (paragraph 9) "
            "records that") in text
    assert "1. Annual Report of the Chief Executive, 13 Feb 2020, para 9" in text
    docx_button = page.locator("#cqa-docx")
    page.wait_for_function("() => !document.querySelector('#cqa-docx').disabled")
    _shot(page, "04-clerk-draft.png")
    with page.expect_download() as info:
        docx_button.click()
    saved = tmp_path / "reply.docx"
    info.value.save_as(saved)
    assert info.value.suggested_filename.endswith(".docx")
    doc_text = "\n".join(p.text for p in Document(str(saved)).paragraphs)
    assert "Annual Report of the Chief Executive, 13 Feb 2020, para 9" in doc_text
    assert "(paragraph 9) records that" in doc_text and "7.68 days" in doc_text
    shutil.copy(saved, ARTIFACTS / "draft-reply.docx")
    assert not errors, errors


def test_report_text_is_shown_not_run(page):
    errors = _no_page_errors(page)
    _ask(page, "what happened to library opening hours?")
    sources = page.locator("#cqa-sources-box")
    report = sources.locator("section", has_text="Report on Library Services").first
    report.wait_for()
    for details in report.locator("details").all():
        details.locator("summary").click()
    body = page.locator("body").inner_text()
    assert SCRIPT_TEXT in body
    assert IMG_TEXT in body
    page.wait_for_timeout(500)
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert page.locator("#cqa-sources-box script, #cqa-sources-box img, #cqa-answer-box img").count() == 0
    report.scroll_into_view_if_needed()
    _shot(page, "05-escaped-payload.png")

    # a question the reports do not answer: a plain message and the closest paragraphs
    _ask(page, "what is the price of fish in the market?")
    assert "No paragraph in the indexed reports clearly answers" in page.locator("#cqa-answer-box").inner_text()
    assert "Closest paragraphs" in page.locator("#cqa-sources-box").inner_text()
    _shot(page, "06-no-clear-answer.png")
    _ask(page, "what happened to library opening hours?")

    # narrow to one report with a click: the answer then comes from that report only
    narrow = page.locator("#cqa-narrow")
    if narrow.is_visible():
        narrow.get_by_label("Report on Library Services", exact=False).check()
        page.wait_for_function(
            "() => document.querySelectorAll('#cqa-sources-box section').length === 1")
        assert "Annual Report of the Chief Executive" not in sources.inner_text()
        _shot(page, "07-narrowed.png")
    assert not errors, errors


def test_library_lists_adds_and_rejects(page, tmp_path):
    page.get_by_role("tab", name="Library").click()
    table = page.locator("#cqa-library")
    _wait_text(page, "#cqa-library", "Annual Report of the Chief Executive")
    assert "Report on Library Services" in table.inner_text()
    _shot(page, "08-library.png")
    good = tmp_path / "testborough-2021-05-20-highways.md"
    good.write_text(UPLOAD_MD, encoding="utf-8")
    bad = tmp_path / "notes.html"
    bad.write_text("<p>not a report</p>", encoding="utf-8")
    page.locator("#cqa-upload input[type=file]").set_input_files([str(good), str(bad)])
    # the wrong type is turned away with a plain message naming the file
    _wait_text(page, "body", "Invalid file type: notes.html")
    page.locator("#cqa-add").click()
    result = page.locator("#cqa-upload-result")
    result.get_by_text("Added").first.wait_for()
    assert "testborough-2021-05-20-highways.md" in result.inner_text()
    _wait_text(page, "#cqa-library", "Highways Maintenance Update")
    if "notes.html" in result.inner_text():
        assert "Rejected" in result.inner_text()
    _shot(page, "09-library-upload.png")

    page.get_by_role("tab", name="Ask").click()
    _ask(page, "how quickly were potholes repaired?")
    assert "94 per cent" in page.locator("#cqa-answer-box").inner_text()

    # remove it again
    page.get_by_role("tab", name="Library").click()
    page.get_by_label("Report to remove", exact=True).click()
    page.get_by_role("option", name="Highways Maintenance Update", exact=False).click()
    page.locator("#cqa-remove").click()
    _wait_text(page, "#cqa-remove-result", "This cannot be undone")  # asked first
    page.locator("#cqa-remove-yes").click()
    _wait_text(page, "body", "Removed “Highways Maintenance Update”")
    page.wait_for_function(
        "() => !document.querySelector('#cqa-library').innerText.includes('Highways Maintenance Update')")
    _shot(page, "10-library-removed.png")
