"""Readers turn a file into pages of text lines. One function per format, one dispatcher.

Every failure is raised as :class:`UnreadableReport` naming the file and a one-line reason
(never a server path or a traceback), so a batch can report it and go on. Hostile files are
bounded here where it is cheap (a .docx is measured before it is inflated, a PDF's page count
before its pages are walked); ``ingest.isolate`` bounds the rest (time and memory).
"""

from __future__ import annotations

import codecs
import logging
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import UnreadableReport
from ingest.markdown import markdown_document
from ingest.records import Document, Page

if TYPE_CHECKING:
    from pypdf import PdfReader

    from ingest.ocr import Events, OcrSettings

SUPPORTED_SUFFIXES = (".pdf", ".txt", ".md", ".markdown", ".docx")

# A page with fewer extracted characters than this is treated as having no text layer.
_MIN_CHARS_PER_PAGE = 25
MAX_PDF_PAGES = 5_000
MAX_DOCX_INFLATED = 200 * 1024 * 1024  # total uncompressed size of a .docx package
_MAX_MEMBER_RATIO = 100  # deflate of real XML stays far below this; zeros reach ~1000
_MAX_TEXT_BYTES = 100 * 1024 * 1024
_PASSWORD = "encrypted and password-protected: a password is needed to open it"
_CONVERT_HINT = {".rtf": "save it as .docx or .pdf", ".doc": "save it as .docx",
                 ".csv": "a spreadsheet has no numbered paragraphs to cite",
                 ".xlsx": "a spreadsheet has no numbered paragraphs to cite",
                 ".odt": "save it as .docx or .pdf", ".htm": "save it as .pdf", ".html": "save it as .pdf"}
_MAGIC = ((b"%PDF-", "a PDF file"), (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
          (b"GIF8", "a GIF image"), (b"PK\x03\x04", "a zip archive"), (b"{\\rtf", "an RTF document"),
          (b"\xd0\xcf\x11\xe0", "an old Office file (.doc/.xls)"))


def short_message(exc: BaseException, limit: int = 120) -> str:
    """An exception's message on one line, at most ``limit`` characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _looks_like(path: Path) -> str | None:
    """What the first bytes say the file is (a PDF header may follow up to 1 KB of junk)."""
    with path.open("rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" in head:
        return "a PDF file"
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)


def read_document(path: str | Path, ocr: OcrSettings | None = None, events: Events | None = None) -> Document:
    """Read a report file into pages of lines, or raise :class:`UnreadableReport`. PDF pages
    without a text layer are read by OCR (``ocr``: default :meth:`OcrSettings.default`;
    ``events`` hears of its progress, see :mod:`ingest.ocr`)."""
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        hint = f": {_CONVERT_HINT[suffix]}" if suffix in _CONVERT_HINT else ""
        raise UnreadableReport(
            name,
            f"unsupported file type '{suffix or '(none)'}' "
            f"(supported: {', '.join(SUPPORTED_SUFFIXES)}){hint}",
        )
    try:
        size = path.stat().st_size
        kind = _looks_like(path) if size else None
    except OSError as exc:
        raise UnreadableReport(name, f"cannot open file ({exc.strerror})") from exc
    if size == 0:
        raise UnreadableReport(name, "empty file")
    if suffix == ".pdf":
        return _read_pdf(path, kind, ocr, events)
    if suffix == ".docx":
        return _read_docx(path, kind)
    text = _read_text_file(path, size)
    if suffix in (".md", ".markdown"):
        return markdown_document(name, text)
    return _plain_document(name, text)


def _read_text_file(path: Path, size: int) -> str:
    name = path.name
    if size > _MAX_TEXT_BYTES:
        raise UnreadableReport(name, f"too large for a text file ({size // 2**20} MB; at most 100 MB)")
    text = decode_text(name, path.read_bytes())
    if not text.strip():
        raise UnreadableReport(name, "empty file (no text)")
    return text


def decode_text(name: str, data: bytes) -> str:
    """Text by its byte-order mark (UTF-8, UTF-16 LE/BE), else UTF-8, else Windows-1252 if it
    reads as text; binary data raises :class:`UnreadableReport`."""
    boms = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
    for bom, codec in boms:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(codec)
            except UnicodeDecodeError as exc:
                raise UnreadableReport(name, f"not valid {codec.upper()} text (bad bytes at {exc.start})") from exc
            if "\x00" in text:
                raise UnreadableReport(name, "contains NUL characters: not plain text (corrupt or mislabelled)")
            return text
    if b"\x00" in data:
        raise UnreadableReport(name, "contains NUL bytes: binary data, not plain text "
                                     "(or UTF-16 text without a byte-order mark)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _decode_cp1252(name, data)


def _decode_cp1252(name: str, data: bytes) -> str:
    """Windows-1252 (the usual encoding of older council text files), if the result is text."""
    refusal = "binary data, not text in a known encoding (save it as UTF-8 text)"
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise UnreadableReport(name, refusal) from exc
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\t\n\r\f")
    if controls > len(text) / 100:
        raise UnreadableReport(name, refusal)
    return text


def _plain_document(name: str, text: str) -> Document:
    lines = tuple(line.rstrip() for line in text.splitlines())
    return Document(source=name, pages=(Page(1, lines),))


def _read_pdf(path: Path, kind: str | None, ocr: OcrSettings | None, events: Events | None) -> Document:
    """Text of every page, pages without a text layer read by OCR. Every pypdf failure (its
    limits on decompression and nesting included) becomes a one-line reason; MemoryError is
    left for the caller to bound."""
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError

    name = path.name
    if kind != "a PDF file":
        raise UnreadableReport(name, f"corrupt or not a PDF ({f'it looks like {kind}' if kind else 'no %PDF header'})")
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = pypdf.PdfReader(str(path))
        _decrypt(reader, name)
        _check_page_count(reader, name)
        pages = [Page(number, tuple(_clean_pdf_line(line) for line in (page.extract_text() or "").splitlines()))
                 for number, page in enumerate(reader.pages, start=1)]
        meta = _pdf_metadata(reader)
    except (UnreadableReport, MemoryError):
        raise
    except FileNotDecryptedError as exc:
        raise UnreadableReport(name, _PASSWORD) from exc
    except DependencyError as exc:
        raise UnreadableReport(name, f"needs a missing package to read it ({short_message(exc)})") from exc
    except LimitReachedError as exc:
        raise UnreadableReport(name, f"too large or too complex to read safely ({short_message(exc)})") from exc
    except RecursionError as exc:
        raise UnreadableReport(name, "corrupt or hostile PDF (objects nested too deeply)") from exc
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types for broken files
        raise UnreadableReport(name, f"corrupt or unreadable PDF ({short_message(exc)})") from exc
    if not pages:
        raise UnreadableReport(name, "PDF has no pages")
    pages = _with_ocr(path, pages, ocr, events)
    chars = sum(len("".join(p.lines).strip()) for p in pages)
    if chars < _MIN_CHARS_PER_PAGE * len(pages) / 4 or chars < 40:
        raise UnreadableReport(name, "no text layer, and OCR found no text on its pages")
    return Document(source=name, pages=tuple(pages), file_metadata=meta)


def _with_ocr(path: Path, pages: list[Page], ocr: OcrSettings | None, events: Events | None) -> list[Page]:
    """Pages with (almost) no text layer replaced by what OCR reads on them. Without tesseract,
    a PDF that has text elsewhere is read without those pages (logged); one that has none is
    refused in one line saying what to install."""
    from ingest.ocr import NO_TESSERACT, OcrSettings, recognise

    bare = [p.number for p in pages if len("".join(p.lines).strip()) < _MIN_CHARS_PER_PAGE]
    if not bare:
        return pages
    ocr = ocr or OcrSettings.default()
    if ocr.tesseract is None:
        chars = sum(len("".join(p.lines).strip()) for p in pages)
        if chars < _MIN_CHARS_PER_PAGE * len(pages) / 4 or chars < 40:
            raise UnreadableReport(path.name, NO_TESSERACT)
        logging.getLogger(__name__).warning("%s: %d page(s) without text not read (tesseract is not installed)",
                                            path.name, len(bare))
        return pages
    found = recognise(path, bare, ocr, events)
    return [Page(p.number, found[p.number][0], scanned=True) if found.get(p.number, ((),))[0] else p
            for p in pages]


def _decrypt(reader: PdfReader, name: str) -> None:
    """Open an encrypted PDF with the empty user password (most "protected" council PDFs only
    restrict printing or copying); a PDF that needs a real password is refused."""
    from pypdf import PasswordType

    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise UnreadableReport(name, _PASSWORD)


def _check_page_count(reader: PdfReader, name: str) -> None:
    """Refuse a page tree too big to walk before walking it: the declared /Count and the
    top-level /Kids are read without visiting any page."""
    pages = reader.root_object["/Pages"].get_object()
    declared = pages.get("/Count", 0)
    kids = pages.get("/Kids", [])
    count = max(declared if isinstance(declared, int) else 0, len(kids) if isinstance(kids, list) else 0)
    if count <= MAX_PDF_PAGES:
        count = len(reader.pages)
    if count > MAX_PDF_PAGES:
        raise UnreadableReport(name, f"too many pages ({count:,}; at most {MAX_PDF_PAGES:,})")


def _pdf_metadata(reader: PdfReader) -> dict[str, str]:
    meta = {}
    info = reader.metadata or {}
    for key in ("/Title", "/Subject", "/Author", "/CreationDate"):
        value = info.get(key)
        if value:
            meta[key.lstrip("/").lower()] = str(value)
    return meta


def _clean_pdf_line(line: str) -> str:
    line = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", line)  # control characters from odd fonts
    line = line.replace("\u00a0", " ").replace("\ufb01", "fi").replace("\ufb02", "fl")
    line = re.sub(r"[\uf0b7\uf0a7\uf0d8\u25aa\u25cf\u2022\u27a2\u25e6\uf076\uf0fc]\s*", "• ", line)
    return re.sub(r"[ \t]+", " ", line).strip()


def _check_docx_package(path: Path, kind: str | None) -> None:
    """Measure a .docx before python-docx inflates it: the zip's directory gives each part's
    size, and zipfile never inflates a part beyond the size its directory declares."""
    name = path.name
    if kind != "a zip archive":
        raise UnreadableReport(name, "corrupt or not a Word .docx file "
                                     f"({f'it looks like {kind}' if kind else 'not a zip package'})")
    try:
        with zipfile.ZipFile(path) as package:
            members = package.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        reason = f"corrupt Word .docx file (a broken zip package: {short_message(exc, 60)})"
        raise UnreadableReport(name, reason) from exc
    names = {member.filename for member in members}
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        raise UnreadableReport(name, "not a Word .docx file (no word/document.xml in the package)")
    total = sum(member.file_size for member in members)
    if total > MAX_DOCX_INFLATED:
        raise UnreadableReport(name, f"too large when decompressed ({total / 2**20:,.0f} MB; "
                                     f"at most {MAX_DOCX_INFLATED // 2**20} MB)")
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 10 * 2**20 and ratio > _MAX_MEMBER_RATIO:
            raise UnreadableReport(name, f"too large when decompressed (a part inflates {ratio:,.0f} times: "
                                         "a zip bomb?)")


def _read_docx(path: Path, kind: str | None) -> Document:
    try:
        import docx
    except ImportError as exc:  # pragma: no cover - python-docx is a dependency
        raise UnreadableReport(path.name, "reading .docx needs python-docx installed") from exc
    _check_docx_package(path, kind)
    try:
        document = docx.Document(str(path))
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - python-docx raises many types for bad packages
        message = short_message(exc).replace(str(path), path.name)
        raise UnreadableReport(path.name, f"corrupt or unreadable Word file ({message})") from exc
    lines: list[str] = []
    headings: set[int] = set()
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name or "").lower() if para.style is not None else ""
        if style.startswith("heading") or style == "title":
            headings.add(len(lines))
        elif "list bullet" in style:
            text = f"• {text}"
        lines.append(text)
    if not lines:
        raise UnreadableReport(path.name, "empty file (no text)")
    return Document(source=path.name, pages=(Page(1, tuple(lines), frozenset(headings)),), structured=True)
