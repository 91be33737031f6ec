"""Read scanned pages with Tesseract OCR: page images from PDFium, text from ``tesseract``.

Only pages without a text layer come here (``ingest.readers`` decides which). Each page is
rendered in grey at 300 dpi (:func:`render_page`; a blank page is never sent to Tesseract),
and up to ``os.cpu_count()`` pages are recognised at once, each by its own ``tesseract``
process with a time limit. ``auto`` language: English first; a page whose words read as Welsh
(:func:`welsh_share`) is read again as Welsh. Printed paragraph numbers misread by OCR
(``l.`` for ``1.``, ``5,2`` for ``5.2``, ``1O`` for ``10``) are repaired at the start of a line
(:func:`repair_numbering`), so the segmenter finds them as in a text PDF.

Tesseract runs as a command (``subprocess`` with a time limit), not through a Python binding: a
page image goes in on stdin as PGM, text comes out on stdout, and a stuck page can be killed.

The result is cached by the file's SHA-256 (and the OCR settings) in ``<cache>/ocr/``
(``$COUNCIL_QA_CACHE``, else ``~/.cache/council-qa``): OCR depends only on the file's bytes,
so a re-ingest, an ingest into a new index and ``council-qa paragraphs`` all reuse it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import UnreadableReport
from ingest.hashing import file_sha256

DPI = 300
MAX_PIXELS = 40_000_000
"""A page image larger than this (a poster, or a hostile page size) is drawn at a lower dpi."""
PAGE_TIMEOUT_S = 90.0
"""One page's tesseract run is stopped after this (a dense A4 page takes 2-5 s on one core)."""
PAGE_BUDGET_S = 30.0
"""Time added to a file's reading budget per scanned page (``ingest.isolate``)."""
MAX_OCR_PAGES = 1_000
"""A PDF with more pages than this without a text layer is refused rather than read by OCR."""
BLANK_INK = 0.0005
"""A page image with less than this share of dark pixels is blank: it is not sent to OCR."""
WELSH_SHARE = 0.08
"""A page whose words are at least this share of Welsh function words is read as Welsh."""
WELSH_LANG = "cym+eng"
"""Tesseract languages for a Welsh page: Welsh first, English for the English words in it."""
CACHE_VERSION = 2
"""The cache holds tesseract's own lines (repairs are applied on use, so they can improve without OCR)."""

Events = Callable[[str, int, int], None]
"""``events("start", 0, pages)`` before OCR starts, ``events("page", done, pages)`` after each."""

log = logging.getLogger(__name__)

NO_TESSERACT = ("no text layer (a scanned PDF?) and OCR is not available: install tesseract "
                "(apt-get install tesseract-ocr tesseract-ocr-cym; make serve and make test do)")


@dataclass(frozen=True)
class OcrSettings:
    """How scanned pages are read. Picklable: the parent builds it and sends it to the bounded
    reader child with each file."""

    tesseract: str | None
    """The tesseract executable, or None when it is not installed."""
    cache_dir: str | None
    """Where OCR results are cached (None: not cached)."""
    lang: str = "auto"
    """``auto`` (English, Welsh pages detected) or tesseract languages (``eng``, ``cym``, ``cym+eng``)."""
    dpi: int = DPI
    psm: int = 6
    """Tesseract's page segmentation mode: 6, the page as one block of text. The automatic layout
    mode (3) drops paragraph numbers printed in a left margin: on the seed printed to images it
    found 1 of 42 numbered paragraphs, mode 6 found 41."""
    page_timeout_s: float = PAGE_TIMEOUT_S
    workers: int = 0
    """Pages recognised at once (0: one per core)."""

    @classmethod
    def default(cls, lang: str | None = None) -> OcrSettings:
        """Tesseract from ``PATH`` and the user cache (``$COUNCIL_QA_CACHE/ocr``)."""
        from ingest.models import cache_root

        return cls(tesseract=shutil.which("tesseract"), cache_dir=str(cache_root() / "ocr"), lang=lang or "auto")

    def parallel(self) -> int:
        return self.workers or os.cpu_count() or 1


# ---------------------------------------------------------------------------------------
# Text repairs


_NOISY_LABEL = re.compile(
    r"^(?P<tok>[0-9OoIlzZ|]{1,4}(?:[.,][0-9OoIlzZ|]{1,3}){0,3})(?P<end>[.,]{0,2})(?P<after>\s+\S.*)$"
)
_DIGITS = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1", "z": "2", "Z": "2"})
_BULLET = re.compile(r"^(?:[•●◦▪«©®»¢°]|e(?=\s+[A-Z]))\s+")
_PRONOUN = re.compile(r"(?<![^\s(\"'“‘])\|(?=\s+[a-z])|(?<=[.!?:;] )\|$")
_RULE = re.compile(r"\s*[|¦]\s*")


def repair_numbering(line: str) -> str:
    """A paragraph number at the start of an OCR'd line, with OCR's usual misreadings
    repaired: ``l. The`` -> ``1. The``, ``5,2 The`` -> ``5.2 The``, ``1O. The`` -> ``10. The``,
    ``z., I would`` -> ``2. I would``. Only before a capital (a sentence or a title); anything
    else is returned unchanged."""
    m = _NOISY_LABEL.match(line)
    if not m:
        return line
    body, end, after = m.group("tok"), m.group("end"), m.group("after")
    first = after.lstrip()[:1]
    if not first.isupper() and first not in "\"'“‘(":
        return line
    if not any(c.isdigit() for c in body) and (body not in ("l", "|", "z") or not end):
        return line  # "I. ..." (a Roman numeral or a pronoun), "Oo"
    if "," in body and any(len(p) > 2 for p in re.split(r"[.,]", body)[1:]):
        return line  # "2,000 homes": a figure, not a number with a misread dot
    return body.translate(_DIGITS).replace(",", ".") + ("." if end else "") + after


def clean_ocr_line(line: str) -> str:
    """One line of Tesseract's output: spaces squeezed, bullets as ``•``, the pronoun misread
    as ``|`` put back (``| would`` -> ``I would``), table rules dropped, numbering repaired."""
    line = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", line).replace("\u00a0", " ")
    line = re.sub(r"[ \t]+", " ", line).strip()
    line = _PRONOUN.sub("I", _BULLET.sub("• ", line))
    line = _RULE.sub(" ", repair_numbering(line)).strip()  # "|." is "1.", other rules are a table's
    return repair_numbering(line)


_WELSH_WORDS = frozenset(
    "y yr yn ac o ar gan mae wedi bod ei eu ein gyda hyn fod ond neu hefyd cyngor sydd oedd bydd fydd cyfer drwy"
    " rhwng ym yng dros yw nid hwn hon hynny blwyddyn cymuned gymuned cynghorydd cynghorwyr ydy ni cael gael"
    " eich chi wrth pob i'r o'r a'r mae'r ddim".split()
)
_WORD = re.compile(r"[a-zâêîôûŵŷáéíóúàèìòùäëïöüẁẃẅỳý']+", re.I)


def welsh_share(text: str) -> float:
    """The share of a text's words that are common Welsh words (an English page: under 0.03;
    a Welsh page: 0.25 or more; a bilingual page in between)."""
    words = [w.lower().strip("'") for w in _WORD.findall(text)]
    words = [w for w in words if len(w) > 1 or w == "y"]
    if len(words) < 20:
        return 0.0
    return sum(w in _WELSH_WORDS for w in words) / len(words)


# ---------------------------------------------------------------------------------------
# Page images and tesseract


def render_page(pdf: object, number: int, dpi: int = DPI) -> tuple[bytes, int] | None:
    """Page ``number`` of an open ``pypdfium2.PdfDocument`` as a greyscale PGM image and the dpi
    it was drawn at; None for a blank page."""
    import numpy as np

    page = pdf[number - 1]  # type: ignore[index]
    try:
        width, height = page.get_size()
        if width <= 0 or height <= 0:
            return None
        scale = min(dpi / 72, math.sqrt(MAX_PIXELS / (width * height)))
        bitmap = page.render(scale=scale, grayscale=True)
        pixels = np.frombuffer(bitmap.buffer, dtype=np.uint8).reshape(bitmap.height, bitmap.stride)
        pixels = pixels[:, : bitmap.width]
        if float((pixels < 128).mean()) < BLANK_INK:
            return None
        header = b"P5\n%d %d\n255\n" % (bitmap.width, bitmap.height)
        return header + pixels.tobytes(), round(scale * 72)
    finally:
        page.close()


def _tesseract_env() -> dict[str, str]:
    # One thread per tesseract: pages already run in parallel, and OpenMP threads would fight them.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OMP_THREAD_LIMIT": "1", "LC_ALL": "C"}


def installed_languages(tesseract: str, name: str) -> set[str]:
    """The languages tesseract can read (``tesseract --list-langs``)."""
    try:
        out = subprocess.run([tesseract, "--list-langs"], capture_output=True, timeout=30, env=_tesseract_env(),
                             check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UnreadableReport(name, f"{NO_TESSERACT} ({type(exc).__name__})") from exc
    return {line.strip() for line in out.stdout.decode(errors="replace").splitlines()[1:] if line.strip()}


def run_tesseract(settings: OcrSettings, image: bytes, dpi: int, lang: str, where: tuple[str, int]) -> str:
    """The text tesseract reads from one page image; a failure or a timeout names the file and
    page (``where``)."""
    name, page = where
    command = [str(settings.tesseract), "stdin", "stdout", "-l", lang, "--dpi", str(dpi), "--psm", str(settings.psm)]
    try:
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=_tesseract_env())
    except OSError as exc:
        raise UnreadableReport(name, f"{NO_TESSERACT} ({exc.strerror})") from exc
    with proc:
        try:
            out, err = proc.communicate(image, timeout=settings.page_timeout_s)
        except subprocess.TimeoutExpired as exc:
            proc.kill()  # and do not wait for its output: pipes held by anything it started must not block
            proc.wait()
            raise UnreadableReport(name, f"page {page}: OCR took longer than {settings.page_timeout_s:g} s") from exc
    if proc.returncode != 0:
        detail = " ".join(err.decode(errors="replace").split())[-160:]
        raise UnreadableReport(name, f"page {page}: tesseract failed (exit {proc.returncode}: {detail})")
    return out.decode("utf-8", errors="replace")


def _read_page(settings: OcrSettings, image: bytes, dpi: int, languages: set[str], where: tuple[str, int]) -> dict:
    """``{"lang", "lines"}`` of one page: ``auto`` reads English, then Welsh when the words say so."""
    if settings.lang != "auto":
        lang = settings.lang
        text = run_tesseract(settings, image, dpi, lang, where)
    else:
        lang, text = "eng", run_tesseract(settings, image, dpi, "eng", where)
        if "cym" in languages and welsh_share(text) >= WELSH_SHARE:
            lang, text = WELSH_LANG, run_tesseract(settings, image, dpi, WELSH_LANG, where)
    return {"lang": lang, "lines": text.replace("\f", "").splitlines()}  # cleaned when used: see recognise()


# ---------------------------------------------------------------------------------------
# The cache


def cache_path(settings: OcrSettings, digest: str) -> Path | None:
    """The cache file of a file's OCR under these settings (None: no cache)."""
    if not settings.cache_dir:
        return None
    lang = re.sub(r"[^a-z+]", "", settings.lang.lower())
    return Path(settings.cache_dir) / f"{digest}-{settings.dpi}dpi-psm{settings.psm}-{lang}-v{CACHE_VERSION}.json"


def _load_cache(path: Path | None, numbers: Sequence[int]) -> dict[int, dict] | None:
    if path is None or not path.exists():
        return None
    try:
        pages = {int(k): v for k, v in json.loads(path.read_text(encoding="utf-8"))["pages"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("OCR cache %s is unreadable (%s): reading the pages again", path.name, exc)
        return None
    return pages if all(n in pages for n in numbers) else None


def _store_cache(path: Path | None, pages: dict[int, dict]) -> None:
    """Write aside, then ``os.replace``: a reader never sees half a file."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps({"version": CACHE_VERSION, "pages": pages}, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:  # the text was read; only the saving of work is lost
        log.warning("OCR cache not written (%s): the next ingest of this file reads it again", exc)


# ---------------------------------------------------------------------------------------
# A file's scanned pages


def recognise(path: Path, numbers: Sequence[int], settings: OcrSettings,
              events: Events | None = None) -> dict[int, tuple[tuple[str, ...], str]]:
    """``{page: (lines, language)}`` for pages ``numbers`` of the PDF at ``path``: from the cache
    when this file was read before with these settings, else rendered and read by tesseract,
    pages in parallel. A blank page gives no lines. Raises ``UnreadableReport`` naming the page
    that failed (tesseract missing, a timeout, tesseract's own error)."""
    path = Path(path)
    if settings.tesseract is None:
        raise UnreadableReport(path.name, NO_TESSERACT)
    if len(numbers) > MAX_OCR_PAGES:
        raise UnreadableReport(path.name, f"too many pages without a text layer to read by OCR ({len(numbers):,}; "
                                          f"at most {MAX_OCR_PAGES:,})")
    where = cache_path(settings, file_sha256(path))
    pages = _load_cache(where, numbers)
    if pages is None:
        languages = installed_languages(settings.tesseract, path.name)
        wanted = set(settings.lang.split("+")) if settings.lang != "auto" else {"eng"}
        if not wanted <= languages:
            missing = ", ".join(sorted(wanted - languages))
            raise UnreadableReport(path.name, f"tesseract has no '{missing}' language data: apt-get install "
                                              + " ".join(f"tesseract-ocr-{m}" for m in sorted(wanted - languages)))
        pages = _recognise_all(path, numbers, settings, languages, events)
        _store_cache(where, pages)
    return {n: (tuple(clean_ocr_line(line) for line in pages[n]["lines"]), str(pages[n]["lang"])) for n in numbers}


def _recognise_all(path: Path, numbers: Sequence[int], settings: OcrSettings, languages: set[str],
                   events: Events | None) -> dict[int, dict]:
    """Render pages one by one (PDFium is not thread-safe) while up to ``parallel()``
    tesseract processes read the ones already drawn."""
    import pypdfium2 as pdfium

    workers = settings.parallel()
    done: dict[int, dict] = {}
    pending: dict[Future, int] = {}

    def settle(number: int | None = None, result: dict | None = None) -> None:
        if number is not None and result is not None:
            done[number] = result
        else:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                done[pending.pop(future)] = future.result()
        if events:
            events("page", len(done), len(numbers))

    if events:
        events("start", 0, len(numbers))
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise UnreadableReport(path.name, f"corrupt PDF: its pages cannot be drawn for OCR ({exc})") from exc
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocr")
    try:
        for number in numbers:
            image = render_page(pdf, number, settings.dpi)
            if image is None:
                settle(number, {"lang": "", "lines": []})
                continue
            where = (path.name, number)
            pending[pool.submit(_read_page, settings, image[0], image[1], languages, where)] = number
            while len(pending) >= 2 * workers:
                settle()
        while pending:
            settle()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        pdf.close()
    return done
