"""WCAG 2.2 AA in a real browser: axe-core (bundled in the ``axe-playwright-python`` wheel, never
fetched at run time) runs in Debian's Chromium on each view of the app, and the keyboard and
phone-width behaviour that axe cannot judge is checked directly.

Views: the Ask tab with an answered question (desktop and 390x844 phone), the Clerk tab with a
draft made, the Library tab, and the evidence viewer at a PDF citation and at a Markdown citation
(desktop and phone). Any "serious" or "critical" violation fails; every violation found
is printed with its nodes. Screenshots go to ``test-artifacts/a11y-*.png``.
"""

from __future__ import annotations

import json

import pytest
from test_app_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, TIMEOUT, _ask, app_url  # noqa: F401 - fixture

pytestmark = pytest.mark.browser

RUN_ONLY = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
QUESTION = "what happened to sickness absence?"
CLERK_QUESTION = "Will the Cabinet Member tell me what progress has been made on reducing sickness absence?"
FILTER_IDS = ["cqa-report-filter", "cqa-council-filter", "cqa-since", "cqa-until"]


def _axe_script() -> str:
    axe = pytest.importorskip("axe_playwright_python.base")
    return axe.AXE_FILE_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def chromium():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _open(chromium, app_url: str, viewport: dict):  # noqa: F811 - app_url is the imported fixture
    ARTIFACTS.mkdir(exist_ok=True)
    context = chromium.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(app_url)
    page.get_by_label("Your question").wait_for()
    return context, page


def _axe(page, view: str) -> list[dict]:
    """Run axe-core on the whole page; print every violation; return the serious and critical ones."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=_axe_script())
    result = page.evaluate("opts => axe.run(document, opts)", {"runOnly": {"type": "tag", "values": RUN_ONLY}})
    counts: dict[str, int] = {}
    for v in result["violations"]:
        counts[v["impact"]] = counts.get(v["impact"], 0) + 1
        print(f"[{view}] {v['impact']}: {v['id']} ({v['help']}), {len(v['nodes'])} node(s)")
        for node in v["nodes"]:
            print(f"    {node['target']} {node['html'][:160]}")
            print(f"      {node['failureSummary'][:300]}".replace("\n", " "))
    print(f"[{view}] violations by impact: {json.dumps(counts)}; {len(result['passes'])} rules passed")
    assert result["passes"], "axe-core ran no rule"
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def _shot(page, name: str) -> None:
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def _expand_first_source(page) -> None:
    first = page.locator("#cqa-sources-box details").first
    first.locator("summary").click()
    first.locator(".cqa-para").wait_for(state="visible")


def _focus_style(page) -> dict:
    return page.evaluate("""() => {
        const el = document.activeElement, s = getComputedStyle(el);
        return {id: el.id, tag: el.tagName, text: (el.innerText || '').trim(),
                outline: s.outlineStyle + ' ' + s.outlineWidth, boxShadow: s.boxShadow};
    }""")


def _visible_focus(style: dict) -> bool:
    outline = not style["outline"].startswith("none") and not style["outline"].endswith(" 0px")
    return outline or style["boxShadow"] not in ("none", "")


def test_ask_tab_desktop(chromium, app_url):  # noqa: F811
    context, page = _open(chromium, app_url, DESKTOP)
    try:
        _ask(page, QUESTION)
        assert "7.68 days" in page.locator("#cqa-answer-box").inner_text()
        _expand_first_source(page)
        _shot(page, "a11y-ask-desktop.png")
        blocking = _axe(page, "ask desktop")
        assert not blocking, [v["id"] for v in blocking]
        assert page.locator("h1").count() == 1
        assert "Council reports" in page.locator("h1").inner_text()
        assert page.locator("main, [role=main]").count() >= 1
    finally:
        context.close()


def _tab_until(page, js_test: str, limit: int = 40) -> dict:
    """Press Tab until the focused element passes ``js_test`` (a JS function of the element)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => ({js_test})(document.activeElement)"):
            return _focus_style(page)
    pytest.fail(f"{limit} presses of Tab never reached the element wanted ({js_test})")


def test_keyboard_reaches_ask_with_visible_focus(chromium, app_url):  # noqa: F811
    context, page = _open(chromium, app_url, DESKTOP)
    try:
        box = page.locator("#cqa-question textarea")
        box.fill(QUESTION)
        box.focus()
        style = _tab_until(page, "e => e.tagName === 'BUTTON' && e.innerText.trim() === 'Ask'", limit=5)
        assert style["id"] == "cqa-ask", style
        assert _visible_focus(style), style
        page.keyboard.press("Enter")
        page.locator("#cqa-sources-box details").first.wait_for()
        summary = _tab_until(page, "e => e.tagName === 'SUMMARY'")
        assert _visible_focus(summary), summary

        # a question two reports answer: the "narrow to one report" radios appear, and show focus
        _ask(page, "what happened to library opening hours?")
        radios = page.locator("#cqa-narrow input[type=radio]")
        radios.first.wait_for()
        assert radios.count() >= 3, "the narrow radios should offer All reports and both reports"
        page.locator("#cqa-question textarea").focus()
        radio = _tab_until(page, "e => e.type === 'radio'")
        assert _visible_focus(radio), radio
        _shot(page, "a11y-ask-narrow-focus.png")
        blocking = _axe(page, "ask with narrow radios")
        assert not blocking, [v["id"] for v in blocking]
    finally:
        context.close()


def _before_first_source(page, selectors: list[str]) -> dict:
    return page.evaluate("""sels => {
        const first = document.querySelector('#cqa-sources-box summary');
        return Object.fromEntries(sels.map(sel => {
            const el = document.querySelector(sel);
            return [sel, el ? Boolean(el.compareDocumentPosition(first) & Node.DOCUMENT_POSITION_FOLLOWING) : null];
        }));
    }""", selectors)


def test_ask_tab_phone(chromium, app_url):  # noqa: F811
    context, page = _open(chromium, app_url, PHONE)
    try:
        _ask(page, QUESTION)
        page.locator("#cqa-sources-box details").first.wait_for()
        _shot(page, "a11y-ask-phone.png")
        blocking = _axe(page, "ask phone")
        assert not blocking, [v["id"] for v in blocking]
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], f"the page scrolls sideways on a phone: {wide}px"
        assert page.evaluate("() => [...document.querySelectorAll('[tabindex]')]"
                             ".filter(e => e.tabIndex > 0).length") == 0
        # in tab order: from the question, the filters come before any source
        page.locator("#cqa-question textarea").focus()
        reached = _tab_until(page, "e => Boolean(e.closest('#cqa-filters, #cqa-sources-box'))")
        assert reached["text"].startswith("Filters"), reached
        page.keyboard.press("Enter")  # open the filters from the keyboard
        page.locator("#cqa-council-filter").wait_for()
        order = _before_first_source(page, ["#cqa-filters"] + [f"#{i}" for i in FILTER_IDS])
        assert all(order.values()), order
        filters_top = page.locator("#cqa-filters").bounding_box()["y"]
        assert filters_top < page.locator("#cqa-sources-box").bounding_box()["y"]
        assert filters_top < 844, f"the filters start {filters_top:.0f}px down the phone page"
        _shot(page, "a11y-ask-phone-filters.png")
        blocking = _axe(page, "ask phone, filters open")
        assert not blocking, [v["id"] for v in blocking]
        # a long question is shown whole on a phone, not cut off mid-line: the box grows
        box = page.locator("#cqa-question textarea")
        box.fill("what was the bank balance of Manordeilo and Salem Community Council at the end of January 2018?")
        page.wait_for_timeout(300)
        size = box.evaluate("e => [e.scrollHeight, e.clientHeight, e.rows, getComputedStyle(e).overflowY]")
        assert size[0] <= size[1] + 8, f"a long question is cut off on a phone: {size}"  # 8px: padding rounding
    finally:
        context.close()


def test_clerk_tab(chromium, app_url):  # noqa: F811
    context, page = _open(chromium, app_url, DESKTOP)
    try:
        page.get_by_role("tab", name="Clerk: draft a reply").click()
        page.get_by_label("Formal question").fill(CLERK_QUESTION)
        page.locator("#cqa-draft").click()
        page.wait_for_function(
            "() => (document.querySelector('#cqa-draft-text textarea')||{}).value?.includes('Sources')")
        page.wait_for_function("() => !document.querySelector('#cqa-docx').disabled")
        _shot(page, "a11y-clerk-desktop.png")
        blocking = _axe(page, "clerk desktop")
        assert not blocking, [v["id"] for v in blocking]
    finally:
        context.close()


def _pick(page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=False).click()


def _correct_and_cancel_a_removal(page) -> None:
    """In the browser: a correction is saved and shown in the table; Remove asks first, Cancel keeps it."""
    _pick(page, "Report to correct", "Report on Library Services")
    page.wait_for_function("() => document.querySelector('#cqa-edit-title textarea, #cqa-edit-title input')"
                           "?.value === 'Report on Library Services'")
    page.locator("#cqa-edit-committee").get_by_role("textbox").fill("Cabinet Committee")
    page.locator("#cqa-edit-save").click()
    page.wait_for_function("() => (document.querySelector('#cqa-edit-result')?.innerText || '').includes('Saved')")
    _pick(page, "Report to remove", "Report on Library Services")
    page.locator("#cqa-remove").click()
    page.locator("#cqa-remove-yes").wait_for(state="visible")
    assert "This cannot be undone" in page.locator("#cqa-remove-result").inner_text()
    blocking = _axe(page, "library, removal to confirm")
    assert not blocking, [v["id"] for v in blocking]
    page.locator("#cqa-remove-cancel").click()
    page.locator("#cqa-remove-yes").wait_for(state="hidden")
    assert "Report on Library Services" in page.locator("#cqa-library").inner_text()


@pytest.mark.parametrize("viewport,name", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_library_tab(chromium, app_url, viewport, name):  # noqa: F811
    context, page = _open(chromium, app_url, viewport)
    try:
        page.get_by_role("tab", name="Library").click()
        page.wait_for_function(
            "() => (document.querySelector('#cqa-library')?.innerText || '').includes('Annual Report')")
        if name == "desktop":
            _correct_and_cancel_a_removal(page)
        _shot(page, f"a11y-library-{name}.png")
        blocking = _axe(page, f"library {name}")
        assert not blocking, [v["id"] for v in blocking]
        if name == "phone":
            wide = page.evaluate("() => document.documentElement.scrollWidth")
            assert wide <= PHONE["width"], f"the page scrolls sideways on a phone: {wide}px"
            title = page.locator("#cqa-library", has_text="Annual Report of the Chief Executive")
            cell = title.get_by_text("Annual Report of the Chief Executive", exact=False).first.bounding_box()
            assert cell["width"] >= 150, f"the title column is {cell['width']:.0f}px wide on a phone"
    finally:
        context.close()


EVIDENCE_MD = "testshire-2024-06-05-parks-report.md"
EVIDENCE_MD_TEXT = """# Report on Parks and Open Spaces

**Testshire County Council, Cabinet, 5 June 2024**

## Background

1. The council looks after 140 parks and open spaces across the county.

2. Visitor numbers rose by 18 per cent in 2023, the busiest year recorded. More volunteers joined the
   friends groups than in any year before.

## Recommendations

3. Cabinet is asked to note the report.
"""
SICKNESS = ("These have led to a continued improvement in attendance levels having moved from a projected "
            "c10 days average sickness per employee to 7.68 days per employee over the last 12 months.")


@pytest.fixture(scope="module")
def evidence_url(tmp_path_factory):
    """The app over the seed PDF and a Markdown report (hashing embedder: the model is not the
    subject), served by uvicorn in a thread of this process."""
    import shutil
    import threading
    import time

    import uvicorn
    from conftest import SEED_PDF
    from fakes import HashingEmbedder
    from test_app_browser import _free_port

    from ingest.index import ingest_paths
    from qa.server import make_server

    base = tmp_path_factory.mktemp("evidence-a11y")
    corpus = base / "corpus"
    corpus.mkdir()
    shutil.copy(SEED_PDF, corpus / SEED_PDF.name)
    (corpus / EVIDENCE_MD).write_text(EVIDENCE_MD_TEXT, encoding="utf-8")
    ingest_paths([corpus], base / "index", embedder=HashingEmbedder())
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(make_server(base / "index", corpus_dir=corpus, embedder=HashingEmbedder()),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started and time.time() < deadline:
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


def _evidence_path(source: str, page: int, para: str, q: str) -> str:
    from urllib.parse import quote, urlencode

    return f"evidence/{quote(source)}?" + urlencode({"page": page, "para": para, "q": q})


@pytest.mark.parametrize("kind", ["pdf", "markdown"])
@pytest.mark.parametrize("viewport,name", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_evidence_viewer(chromium, evidence_url, kind, viewport, name):
    from conftest import SEED_PDF

    path = (_evidence_path(SEED_PDF.name, 3, "9", SICKNESS) if kind == "pdf" else
            _evidence_path(EVIDENCE_MD, 1, "2", "Visitor numbers rose by 18 per cent in 2023, the busiest year "
                           "recorded."))
    context = chromium.new_context(viewport=viewport, bypass_csp=True)  # the viewer's CSP forbids axe's script
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    try:
        response = page.goto(evidence_url + path)
        assert response.status == 200
        page.locator("h1").wait_for()
        if kind == "pdf":
            page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
        else:
            assert "18 per cent" in page.locator("#cqa-cited").inner_text()
        _shot(page, f"a11y-evidence-{kind}-{name}.png")
        blocking = _axe(page, f"evidence {kind} {name}")
        assert not blocking, [v["id"] for v in blocking]
        assert page.locator("h1").count() == 1
        assert page.locator("main, [role=main]").count() == 1
        if name == "phone":
            wide = page.evaluate("() => document.documentElement.scrollWidth")
            assert wide <= PHONE["width"], f"the evidence viewer scrolls sideways on a phone: {wide}px"
    finally:
        context.close()
