"""The evidence viewer (``qa.evidence``): the cited page as an image with the paragraph and the
answering sentence highlighted, the page around it, and what it refuses.

The PNG and a page to look at go to ``test-artifacts/evidence-*``.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import quote, urlencode

import pypdfium2 as pdfium
import pytest
from conftest import ROOT, SEED_MD, SEED_PDF
from fakes import HashingEmbedder
from fastapi.testclient import TestClient
from PIL import Image

from ingest.index import ingest_paths
from qa.evidence import DPI, PARA_FILL, SENTENCE_FILL, SENTENCE_LINE
from qa.records import Answer, Citation
from qa.render import render_sources
from qa.server import make_server

ARTIFACTS = ROOT / "test-artifacts"
FIRST = ("Within the field of organisational redesign and human resources work has been progressing "
         "throughout the year on improving performance, productivity and total reward.")
SICKNESS = ("These have led to a continued improvement in attendance levels having moved from a projected "
            "c10 days average sickness per employee to 7.68 days per employee over the last 12 months.")


def _client(tmp: Path, report: Path) -> TestClient:
    ix = tmp / "index"
    ingest_paths([report], ix, embedder=HashingEmbedder())
    return TestClient(make_server(ix, corpus_dir=tmp / "corpus", embedder=HashingEmbedder()))


@pytest.fixture(scope="module")
def pdf_client(tmp_path_factory) -> TestClient:
    return _client(tmp_path_factory.mktemp("evidence-pdf"), SEED_PDF)


def _png(client: TestClient, page: int, q: str) -> Image.Image:
    response = client.get(f"/evidence/{SEED_PDF.name}/page-{page}.png?" + urlencode({"para": "9", "q": q}))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"evidence-page{page}.png").write_bytes(response.content)
    return image.convert("RGB")


def _pixel_box(page: int, phrase: str) -> tuple[int, int, int, int]:
    """Where ``phrase`` is printed on ``page`` of the seed PDF, in pixels at the viewer's DPI
    (found independently of the viewer, with PDFium's own text search)."""
    pdf = pdfium.PdfDocument(str(SEED_PDF))
    try:
        textpage = pdf[page - 1].get_textpage()
        found = textpage.search(phrase).get_next()
        assert found is not None, phrase
        boxes = [textpage.get_charbox(i) for i in range(found[0], found[0] + found[1])]
        height = pdf[page - 1].get_height()
    finally:
        pdf.close()
    scale = DPI / 72
    return (int(min(b[0] for b in boxes) * scale), int((height - max(b[3] for b in boxes)) * scale),
            int(max(b[2] for b in boxes) * scale), int((height - min(b[1] for b in boxes)) * scale))


def _count(image: Image.Image, box: tuple[int, int, int, int], colour: tuple[int, int, int]) -> int:
    return sum(1 for pixel in image.crop(box).get_flattened_data() if pixel == colour)


def test_page_image_highlights_paragraph_9_and_nothing_above(pdf_client):
    image = _png(pdf_client, 3, FIRST)
    assert 850 <= image.width <= 1000 and 1200 <= image.height <= 1400  # A4 at 110 dpi
    para9 = _pixel_box(3, "Within the field of organisational redesign")
    para8 = _pixel_box(3, "The first part of the process has been completed")
    # the first sentence of paragraph 9 is the answer: shaded strongly, underlined in orange
    assert _count(image, para9, SENTENCE_FILL) > 1000
    left, top, right, bottom = para9
    assert _count(image, (left, bottom, right, bottom + 12), SENTENCE_LINE) > 100
    # the rest of paragraph 9 on this page is light yellow; paragraph 8 just above is untouched
    rest = _pixel_box(3, "The following points illustrate the work completed to date")
    assert _count(image, rest, PARA_FILL) > 500
    assert _count(image, para8, PARA_FILL) == _count(image, para8, SENTENCE_FILL) == 0


def test_sentence_on_the_next_page_is_marked_there(pdf_client):
    image = _png(pdf_client, 4, SICKNESS)
    sentence = _pixel_box(4, "c10 days average sickness per employee to 7.68 days")
    assert _count(image, sentence, SENTENCE_FILL) > 1000
    assert _count(image, _pixel_box(4, "We have moved to 100% compliance"), PARA_FILL) > 500


def test_evidence_page_shows_page_images_paragraph_and_citation(pdf_client):
    query = urlencode({"page": 3, "para": "9", "q": SICKNESS})
    response = pdf_client.get(f"/evidence/{SEED_PDF.name}?{query}")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script" not in csp and "unsafe" not in csp
    html = response.text
    assert "<h1>Annual Report of the Chief Executive</h1>" in html
    assert "Cite as: Annual Report of the Chief Executive, 13 Feb 2020, para 9" in html
    assert f'href="../report/{quote(SEED_PDF.name)}"' in html
    alts = re.findall(r'<img src="([^"]+)" alt="([^"]+)"', html)
    # paragraph 9 starts on page 3 and runs on to page 5; the sentence is on page 4
    assert [a for _src, a in alts] == [
        "Page 3 of the report, with paragraph 9 highlighted in yellow",
        "Page 4 of the report, with paragraph 9 highlighted in yellow and the answering sentence "
        "shaded orange and underlined",
        "Page 5 of the report, with paragraph 9 highlighted in yellow"]
    ARTIFACTS.mkdir(exist_ok=True)
    for n, (src, _alt) in enumerate(alts, start=3):
        image = pdf_client.get(f"/evidence/{src.replace('&amp;', '&')}")
        assert image.status_code == 200 and image.content[:4] == b"\x89PNG"
        (ARTIFACTS / f"evidence-page{n}.png").write_bytes(image.content)
    assert f"<mark>{SICKNESS}</mark>" in html
    assert "compared to the same position 12 months ago" in html
    for n, (src, _alt) in enumerate(alts, start=3):  # a copy that opens from disk, images beside it
        html = html.replace(src, f"evidence-page{n}.png")
    (ARTIFACTS / "evidence-page.html").write_text(html, encoding="utf-8")


def test_request_text_is_escaped(pdf_client):
    query = urlencode({"page": 3, "para": "9", "q": '<script>alert(1)</script>"><img src=x onerror=alert(2)>'})
    html = pdf_client.get(f"/evidence/{SEED_PDF.name}?{query}").text
    assert "<script" not in html and "<img src=x" not in html
    assert "%3Cscript%3Ealert%281%29%3C%2Fscript%3E%22%3E%3Cimg" in html  # only inside the image addresses
    assert html.count("<img ") == 3


@pytest.mark.parametrize("path", [
    "/evidence/nope.pdf?page=1&para=9",
    "/evidence/..%2Fmanifest.json?page=1",
    f"/evidence/{SEED_PDF.name}?page=99&para=9",
    f"/evidence/{SEED_PDF.name}?page=-1&para=9",
    f"/evidence/{SEED_PDF.name}/page-0.png?para=9",
    f"/evidence/{SEED_PDF.name}/page-12.png?para=9",
    "/evidence/nope.pdf/page-1.png",
])
def test_unknown_report_or_page_is_404(pdf_client, path):
    assert pdf_client.get(path).status_code == 404


def test_markdown_report_is_escaped_html_with_the_paragraph_marked(tmp_path):
    client = _client(tmp_path, SEED_MD)
    query = urlencode({"page": 1, "para": "9", "q": SICKNESS})
    response = client.get(f"/evidence/{SEED_MD.name}?{query}")
    assert response.status_code == 200
    html = response.text
    cited = re.findall(r'<p class="cqa-ev-cited"( id="cqa-cited")?>(.*?)</p>', html)
    assert cited[0][0] and cited[0][1].startswith("9. Within the field of organisational redesign")
    assert any(f"<mark>{SICKNESS}</mark>" in body for _anchor, body in cited)
    assert "<h2>Children&#x27;s Services</h2>" in html  # "## **Children's Services**"
    assert not any("10. 2019 was a positive year" in body for _anchor, body in cited)
    assert client.get(f"/evidence/{SEED_MD.name}/page-1.png").status_code == 404


def test_markdown_raw_html_never_passes_through(tmp_path):
    report = tmp_path / "hostile-2021-03-04-report.md"
    report.write_text("# Report of the Clerk\n\n1. The <script>alert(1)</script> budget was <b>agreed</b>.\n\n"
                      "2. <img src=x onerror=alert(2)> Parking charges rise by 5%.\n", encoding="utf-8")
    client = _client(tmp_path, report)
    html = client.get(f"/evidence/{report.name}?" + urlencode({"para": "1", "q": "Parking charges rise by 5%."})).text
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;img" not in html and "&lt;script" not in html  # tags are left out, as the index leaves them
    assert '<p class="cqa-ev-cited" id="cqa-cited">1. The alert(1) budget was agreed.</p>' in html


def test_source_link_opens_the_viewer_and_the_report_link_the_file():
    citation = Citation(rank=1, source=SEED_PDF.name, title="Annual Report of the Chief Executive",
                        date="2020-02-13", paragraph="9", heading="", page=3, score=1.0,
                        text=FIRST + " " + SICKNESS, highlight=SICKNESS + ' <"&>',
                        cite="Annual Report of the Chief Executive, 13 Feb 2020, para 9")
    html = render_sources(Answer(question="q", answer=SICKNESS + " [1]", abstained=False, citations=(citation,)))
    viewer = re.search(r'<a href="([^"]+)"[^>]*>Open at page 3</a>', html).group(1)
    assert viewer.startswith(f"evidence/{quote(SEED_PDF.name)}?page=3&amp;para=9&amp;q=These+have+led")
    assert "%3C%22%26%3E" in viewer  # the sentence is URL-quoted, then HTML-escaped
    assert re.search(rf'<a href="report/{re.escape(quote(SEED_PDF.name))}"[^>]*>Open report</a>', html)
