"""The evidence viewer: the cited page with the cited paragraph and answering sentence marked.

``GET /evidence/{source}?page=N&para=LABEL&q=SENTENCE``: an HTML page (no scripts, strict CSP) showing
a PDF's page as an image from ``GET /evidence/{source}/page-N.png`` (PDFium; paragraph in light yellow,
sentence stronger and underlined in orange), or a Markdown (its HTML tags left out, as indexed) or text report
as escaped HTML with the paragraph marked. Only reports the index knows, by the file it records."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from ingest.errors import UnreadableReport
from ingest.markdown import without_html
from ingest.records import Paragraph
from qa.records import ReportInfo
from qa.render import esc
from qa.wording import NOT_LOCATED, SCANNED_NOTE, paragraph_ref
from qa.wording import cite as cite_line

if TYPE_CHECKING:
    from qa.service import Library

DPI = 110
MAX_SIDE = 2200                 # longest side of a page image in pixels: a poster is drawn smaller
MAX_Q = 2000
MAX_DOCUMENT = 2_000_000        # characters of a Markdown/text report shown at most
PARA_FILL = (255, 236, 139)     # light yellow, multiplied onto the page: black text stays black
SENTENCE_FILL = (255, 200, 120)
SENTENCE_LINE = (194, 65, 12)   # orange underline (#c2410c)
PROBES = (12, 8, 5, 3)          # leading words searched for, fewer when more are not found
CONTINUATION = 300
HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
_PDFIUM = threading.Lock()      # PDFium is not thread-safe; the app serves from a thread pool
_CSS_FILE = Path(__file__).parent / "static" / "app.css"
_CSS_MARKER = "/* Evidence viewer"


def key_of(text: str) -> str:
    """Text reduced to lower-case letters and digits: whitespace, hyphens, bullets and quotes
    differ between a PDF's text layer and the index; ligatures are unfolded (NFKC)."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).lower() if c.isalnum())


def keyed(chars: list[str]) -> tuple[str, list[int]]:
    """The key of a sequence of characters and, for each key character, its character index."""
    keys = [key_of(ch) for ch in chars]
    return "".join(keys), [i for i, k in enumerate(keys) for _ in k]


def locate(hay: str, text: str, start: int = 0) -> tuple[int, int, bool] | None:
    """Where ``text`` lies in ``hay`` (a key): (begin, end, whole); ``whole`` False: it runs on past
    the page. Its start is sought by shorter and shorter prefixes, else as a continuation (a later
    part within the first :data:`CONTINUATION` characters); a mismatch resyncs within 120."""
    words = text.split()
    begin = -1
    for n in PROBES:
        probe = key_of(" ".join(words[:n]))
        if len(probe) >= 8 or n >= len(words):
            begin = hay.find(probe, start) if probe else -1
            if begin >= 0:
                break
    need = key_of(text)
    j = 0
    if begin < 0:  # a page that starts inside the paragraph: its first lines hold a later part
        for j in range(24, max(len(need) - 24, 0), 24):
            begin = hay.find(need[j:j + 24], start, start + CONTINUATION)
            if begin >= 0:
                while begin > start and j > 0 and hay[begin - 1] == need[j - 1]:
                    begin, j = begin - 1, j - 1
                break
    if begin < 0:
        return None
    i = begin
    while j < len(need) and i < len(hay):
        if hay[i] == need[j]:
            i, j = i + 1, j + 1
            continue
        chunk = need[j:j + 16]
        ahead = hay.find(chunk, i, i + 120) if len(chunk) == 16 else -1
        if ahead < 0:
            break
        i = ahead
    return begin, i, j >= len(need) - 2


Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class PageMarks:
    """What was found on one page: PDF-space line boxes of the paragraph and of the sentence."""

    paragraph: list[Box]
    sentence: list[Box]
    runs_on: bool  # the paragraph continues past this page


def _line_boxes(textpage: object, indices: range) -> list[Box]:
    """Character boxes (left, bottom, right, top) merged into one box per line."""
    import pypdfium2.raw as raw

    lines: list[list[float]] = []
    for i in indices:
        if chr(raw.FPDFText_GetUnicode(textpage.raw, i)).isspace():
            continue
        left, bottom, right, top = textpage.get_charbox(i, loose=True)
        if right <= left or top <= bottom:
            continue
        mid = (bottom + top) / 2
        last = lines[-1] if lines else None
        if last is not None and last[1] <= mid <= last[3] and left >= last[0] - 2:
            last[1], last[2], last[3] = min(last[1], bottom), max(last[2], right), max(last[3], top)
        else:
            lines.append([left, bottom, right, top])
    return [(a, b, c, d) for a, b, c, d in lines]


def find_marks(page: object, paragraph: str, sentence: str) -> PageMarks:
    """Line boxes of ``paragraph`` (from its beginning, or its continuation when the page starts
    inside it) and of ``sentence`` on a PDFium page."""
    import pypdfium2.raw as raw

    textpage = page.get_textpage()
    try:
        hay, where = keyed([chr(raw.FPDFText_GetUnicode(textpage.raw, i)) for i in range(textpage.count_chars())])
        para = locate(hay, paragraph) if paragraph.strip() else None
        sent = (locate(hay, sentence, para[0] if para else 0) or locate(hay, sentence)) if sentence.strip() else None

        def boxes(span: tuple[int, int, bool] | None) -> list[Box]:
            return _line_boxes(textpage, range(where[span[0]], where[span[1] - 1] + 1)) if span else []

        return PageMarks(boxes(para), boxes(sent), bool(para and not para[2]))
    finally:
        textpage.close()


def _to_pixels(page: object, box: Box, size: tuple[int, int], pad: float) -> tuple[int, int, int, int]:
    """A PDF-space box in device pixels of a page rendered at ``size`` (respects rotation)."""
    import ctypes

    import pypdfium2.raw as raw

    corners = []
    for x, y in ((box[0] - pad, box[1] - pad), (box[2] + pad, box[3] + pad)):
        dx, dy = ctypes.c_int(), ctypes.c_int()
        raw.FPDF_PageToDevice(page.raw, 0, 0, size[0], size[1], 0, x, y, ctypes.byref(dx), ctypes.byref(dy))
        corners.append((dx.value, dy.value))
    (x0, y0), (x1, y1) = corners
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


@contextmanager
def _opened(path: Path) -> Iterator[Any]:
    """The PDF at ``path`` opened with PDFium, one request at a time."""
    import pypdfium2 as pdfium

    with _PDFIUM:
        try:
            pdf = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as exc:
            raise UnreadableReport(path.name, f"PDFium cannot open it ({exc})") from exc
        try:
            yield pdf
        finally:
            pdf.close()


def survey(path: Path, page_no: int, paragraph: str, sentence: str) -> list[PageMarks] | None:
    """:func:`find_marks` on page ``page_no`` (1-based) and on up to two more pages while the
    paragraph runs on; None when the PDF has no such page."""
    with _opened(path) as pdf:
        if not 1 <= page_no <= len(pdf):
            return None
        found = [find_marks(pdf[page_no - 1], paragraph, sentence)]
        while found[-1].runs_on and found[-1].paragraph and page_no + len(found) <= min(len(pdf), page_no + 2):
            found.append(find_marks(pdf[page_no + len(found) - 1], paragraph, sentence))
        return found


def render_page(path: Path, page_no: int, paragraph: str, sentence: str) -> bytes | None:
    """Page ``page_no`` (1-based) of the PDF at ``path`` as PNG bytes, at :data:`DPI` (the longest
    side at most :data:`MAX_SIDE`), with the paragraph and sentence marked; None: no such page."""
    from PIL import Image, ImageChops, ImageDraw

    with _opened(path) as pdf:
        if not 1 <= page_no <= len(pdf):
            return None
        page = pdf[page_no - 1]
        image = page.render(scale=min(DPI / 72, MAX_SIDE / max(*page.get_size(), 1.0))).to_pil().convert("RGB")
        marks = find_marks(page, paragraph, sentence)
        para_px = [_to_pixels(page, b, image.size, 1.5) for b in marks.paragraph]
        sent_px = [_to_pixels(page, b, image.size, 1.5) for b in marks.sentence]
    tint = Image.new("RGB", image.size, (255, 255, 255))
    draw = ImageDraw.Draw(tint)
    for box, fill in [(b, PARA_FILL) for b in para_px] + [(b, SENTENCE_FILL) for b in sent_px]:
        draw.rectangle(box, fill=fill)
    image = ImageChops.multiply(image, tint)
    draw = ImageDraw.Draw(image)
    for x0, _y0, x1, y1 in sent_px:
        draw.rectangle((x0, y1, x1, y1 + 2), fill=SENTENCE_LINE)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _blocks(text: str) -> list[tuple[str, str]]:
    """(tag, text) blocks of a Markdown/text document: ``h2``/``h3`` for headings (``#``, ``##``;
    ``###`` and a line all in bold: ``h3``) and ``p``; a blank line, a heading or a numbered
    paragraph's start ("9. ") begins a block."""
    blocks = []
    for block in re.split(r"\n[ \t]*\n|\n(?=[ \t]*(?:\d+(?:\.\d+)*[.)]|#{1,6})\s)", text):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if not lines or all(set(line) <= set("-*_ ") for line in lines):
            continue
        heading = re.fullmatch(r"(#{1,6})\s+(.*)|\*\*([^*]+)\*\*", lines[0])
        if heading and len(lines) == 1:
            level = len(heading.group(1) or "###")
            blocks.append(("h2" if level <= 2 else "h3", (heading.group(2) or heading.group(3)).replace("**", "")))
        else:
            items = (re.sub(r"^[-*+]\s+", "• ", line).replace("**", "").replace("`", "") for line in lines)
            blocks.append(("p", "\n".join(items)))
    return blocks


def document_html(text: str, paragraph: str, sentence: str) -> str:
    """The document as escaped HTML, the blocks of ``paragraph`` marked (the first one with the
    ``cqa-cited`` anchor) and ``sentence`` in ``<mark>`` where it lies within one block."""
    blocks = _blocks(text)
    probe, whole = key_of(" ".join(paragraph.split()[:PROBES[0]]))[:40], key_of(paragraph)
    starts = [key_of(re.sub(r"^\d+(?:\.\d+)*[.)]\s", "", body)) if tag == "p" else "" for tag, body in blocks]
    hits = [bool(probe) and (probe in k or len(k) >= 20 and whole.startswith(k)) for k in starts]
    first = hits.index(True) if True in hits else -1
    last = first
    while 0 <= first and last + 1 < len(blocks) and blocks[last + 1][0] == "p" and key_of(blocks[last + 1][1]) in whole:
        last += 1
    out = []
    for i, (tag, body) in enumerate(blocks):
        if first <= i <= last and first >= 0:
            anchor = ' id="cqa-cited"' if i == first else ""
            out.append(f'<p class="cqa-ev-cited"{anchor}>{_lines_html(body, sentence)}</p>')
        else:
            out.append(f"<{tag}>{_lines_html(body, '')}</{tag}>")
    return "\n".join(out)


def mark_sentence(text: str, sentence: str) -> str:
    """Escaped ``text`` with ``sentence`` in ``<mark>`` (whitespace-insensitive)."""
    squashed = " ".join(text.split())
    wanted = " ".join(sentence.split())
    at = squashed.find(wanted) if wanted else -1
    if at < 0:
        return esc(squashed)
    end = at + len(wanted)
    return f"{esc(squashed[:at])}<mark>{esc(squashed[at:end])}</mark>{esc(squashed[end:])}"


def _lines_html(text: str, sentence: str) -> str:
    """Escaped ``text``, a line (bullet) per ``<br>``, ``sentence`` marked (the lines run together
    when the sentence crosses them)."""
    lines = [line for line in text.splitlines() if line.strip()]
    wanted = " ".join(sentence.split())
    if wanted and not any(wanted in " ".join(line.split()) for line in lines):
        return mark_sentence(text, sentence)
    return "<br>".join(mark_sentence(line, sentence) for line in lines)


@lru_cache(maxsize=1)
def _style() -> tuple[str, str]:
    """The viewer's part of the app's stylesheet, and a CSP that allows just that one style."""
    css = _CSS_FILE.read_text(encoding="utf-8")
    css = css[css.find(_CSS_MARKER):] if _CSS_MARKER in css else css
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return css, (f"default-src 'none'; img-src 'self'; style-src 'sha256-{digest}'; base-uri 'none'; "
                 "form-action 'none'; frame-ancestors 'self'")


def page_html(*, title: str, heading: str, cite: str, source: str, text: str,
              sentence: str, body: str, note: str = "") -> str:
    """The whole evidence page around ``body`` (the page images or the marked document)."""
    css = _style()[0]
    raw = "../report/" + quote(source, safe="")
    note_html = f'<p class="cqa-ev-note">{esc(note)}</p>' if note else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(heading)} — {esc(title)}</title><style>{css}</style></head>"
        '<body class="cqa-ev"><main class="cqa-ev-main">'
        f"<h1>{esc(title)}</h1>"
        f'<p class="cqa-ev-cite">Cite as: {esc(cite)} · '
        f'<a href="{esc(raw)}">Open the report file</a></p>'
        f"{note_html}{body}"
        f'<section class="cqa-ev-text" aria-labelledby="cqa-ev-para"><h2 id="cqa-ev-para">'
        f"{esc(heading)}</h2><p>{_lines_html(text, sentence)}</p></section>"
        "</main></body></html>"
    )


def cited_paragraph(library: Library, source: str, label: str, page: int, sentence: str) -> Paragraph | None:
    """The paragraph ``label`` of ``source`` in the index (a block of it on ``page`` first, the
    one holding ``sentence`` first among those)."""
    reader = library.reader()
    if reader is None or not label:
        return None
    rows = reader.db.execute(
        "SELECT p.label, p.page, p.heading, p.text, p.scanned FROM paragraphs p JOIN reports r ON r.id = p.report_id"
        " WHERE r.source = ? AND (p.label = ? OR p.part_of = ?) ORDER BY p.seq", (source, label, label),
    ).fetchall()
    wanted = key_of(sentence)
    rows.sort(key=lambda r: (r[1] != page, not (wanted and wanted in key_of(r[3]))))
    return Paragraph(source, label, *rows[0][1:4], scanned=bool(rows[0][4])) if rows else None


def _not_found(detail: str) -> Exception:
    from fastapi import HTTPException

    return HTTPException(status_code=404, detail=detail)


@contextmanager
def _unreadable_as_404() -> Iterator[None]:
    try:
        yield
    except UnreadableReport as exc:
        raise _not_found(str(exc)) from exc


def _pdf_body(path: Path, source: str, page: int, cited: Paragraph | None, sentence: str,
              label: str) -> tuple[str, str]:
    """The page images (the cited page, and the next while the paragraph runs on) and a note."""
    found = survey(path, page, cited.text if cited else "", sentence)
    if found is None:
        raise _not_found("No such page in this report.")
    figures, name, query = [], quote(source, safe=""), urlencode({"para": label, "q": sentence})
    for shown, marks in enumerate(found, start=page):
        what = [f"{paragraph_ref(label)} highlighted in yellow"] if marks.paragraph else []
        what += ["the answering sentence shaded orange and underlined"] if marks.sentence else []
        alt = f"Page {shown} of the report" + (", with " + " and ".join(what) if what else ", nothing highlighted")
        src = esc(f"{name}/page-{shown}.png?{query}")
        figures.append(f'<figure class="cqa-ev-page"><img src="{src}"'
                       f' alt="{esc(alt)}"><figcaption>Page {shown}</figcaption></figure>')
    missed = not (found[0].paragraph or found[0].sentence)
    return "".join(figures), (NOT_LOCATED if missed else "")


def evidence_routes(library: Library) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``GET /evidence/{source}`` (the page) and ``GET /evidence/{source}/page-{n}.png``."""
    from fastapi.responses import HTMLResponse, Response

    def known(source: str) -> tuple[ReportInfo, Path]:
        info = library.report(source)
        path = library.report_file(source) if info is not None else None
        if info is None or path is None:
            raise _not_found("No such report in the library.")
        return info, path

    def evidence_page(source: str, page: int = 0, para: str = "", q: str = "") -> Any:
        info, path = known(source)
        para, q = para.strip()[:40], q[:MAX_Q]
        cited = cited_paragraph(library, source, para, page, q)
        page, text = page or (cited.page if cited else 1), cited.text if cited else ""
        body, note = "", "" if cited else "This paragraph is not in the report as indexed."
        if path.suffix.lower() == ".pdf":
            with _unreadable_as_404():
                body, missed = _pdf_body(path, source, page, cited, q, para)
            note = note or (SCANNED_NOTE if cited and cited.scanned else missed)
        elif path.suffix.lower() in (".md", ".markdown", ".txt"):
            tidy = str if path.suffix.lower() == ".txt" else without_html  # as the index reads each kind
            document = tidy(path.read_text(encoding="utf-8", errors="replace")[:MAX_DOCUMENT])
            body = f'<article class="cqa-ev-doc">{document_html(document, text, q)}</article>'
        named = paragraph_ref(para) if cited else "the cited text"
        heading = named[0].upper() + named[1:] + (f" — {cited.heading}" if cited and cited.heading else "")
        cite = cite_line(info.title, info.date, para, page, scanned=cited.scanned) if cited else info.title
        html = page_html(title=info.title, heading=heading, source=source, text=text, sentence=q, body=body,
                         cite=cite, note=note)
        return HTMLResponse(html, headers={**HEADERS, "Content-Security-Policy": _style()[1]})

    def evidence_image(source: str, page: int, para: str = "", q: str = "") -> Any:
        _info, path = known(source)
        cited = cited_paragraph(library, source, para.strip()[:40], page, q[:MAX_Q])
        png = None
        if path.suffix.lower() == ".pdf":
            with _unreadable_as_404():
                png = render_page(path, page, cited.text if cited else "", q[:MAX_Q])
        if png is None:
            raise _not_found("No such page in this report.")
        return Response(png, media_type="image/png", headers=HEADERS)

    return evidence_page, evidence_image
