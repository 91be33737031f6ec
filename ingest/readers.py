"""Readers turn a file into pages of text lines. One function per format, one dispatcher.

Every failure is raised as :class:`UnreadableReport` naming the file and the reason, so a
batch can report it and go on.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from ingest.errors import UnreadableReport
from ingest.records import Document, Page

SUPPORTED_SUFFIXES = (".pdf", ".txt", ".md", ".markdown", ".docx")

# A page with fewer extracted characters than this is treated as having no text layer.
_MIN_CHARS_PER_PAGE = 25


def read_document(path: str | Path) -> Document:
    """Read a report file into pages of lines, or raise :class:`UnreadableReport`."""
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableReport(
            name,
            f"unsupported file type '{suffix or '(none)'}' "
            f"(supported: {', '.join(SUPPORTED_SUFFIXES)})",
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableReport(name, f"cannot open file ({exc.strerror})") from exc
    if size == 0:
        raise UnreadableReport(name, "empty file")
    if suffix == ".pdf":
        return _read_pdf(path)
    if suffix == ".docx":
        return _read_docx(path)
    text = _read_text_file(path)
    if suffix in (".md", ".markdown"):
        return _markdown_document(name, text)
    return _plain_document(name, text)


def _read_text_file(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise UnreadableReport(path.name, "binary data in a text file (corrupt or mislabelled)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if not text.strip():
        raise UnreadableReport(path.name, "empty file (no text)")
    return text


def _plain_document(name: str, text: str) -> Document:
    lines = tuple(line.rstrip() for line in text.splitlines())
    return Document(source=name, pages=(Page(1, lines),))


_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_MD_BOLD_LINE = re.compile(r"^\s*\*\*(.+?)\*\*\s*$")
_MD_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_MD_LETTERED = re.compile(r"^\(?[a-zivx]{1,4}\)\s")


def _strip_inline_markdown(text: str) -> str:
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    text = re.sub(r"\*+", "", text)  # italics and stray emphasis markers
    text = re.sub(r"(?<!\w)__(.+?)__(?!\w)", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    return text.replace("\\", "").rstrip()


def _short_title(text: str) -> bool:
    text = text.strip("*_ ")
    return len(text.split()) <= 12 and not text.endswith((".", ";", ",", "?", "!"))


def _undouble_spacing(raw_lines: list[str]) -> list[str]:
    """Markdown converted from PDF often puts a blank line after every printed line. There a
    blank line ends a paragraph only after a sentence end; other blanks are dropped."""
    text_lines = [i for i, line in enumerate(raw_lines) if line.strip()]
    followed_by_blank = sum(
        1 for i in text_lines if i + 1 < len(raw_lines) and not raw_lines[i + 1].strip()
    )
    if len(text_lines) < 20 or followed_by_blank < 0.8 * len(text_lines):
        return raw_lines
    out: list[str] = []
    for line in raw_lines:
        if not line.strip() and out and out[-1].strip() and not out[-1].rstrip().endswith(
            (".", ":", ";", "!", "?", "**")
        ) and not out[-1].lstrip().startswith("#"):
            continue
        out.append(line)
    return out


def _markdown_document(name: str, text: str) -> Document:
    """Markdown: ``#`` headings and whole-line ``**bold**`` are headings; ``-`` items are bullets."""
    lines: list[str] = []
    headings: set[int] = set()
    for raw in _undouble_spacing(text.splitlines()):
        raw = raw.rstrip()
        if re.fullmatch(r"\s*(-{3,}|\*{3,}|_{3,})\s*", raw):
            lines.append("")
            continue
        heading = _MD_HEADING.match(raw)
        if heading:
            parts = [heading.group(1)]
        else:
            # "**A****B**" is two bold lines glued together.
            parts = re.split(r"(?<=\*\*)(?=\*\*)", raw) if "****" in raw else [raw]
        for part in parts:
            bold = _MD_BOLD_LINE.match(part)
            if bold and not heading and not _short_title(_strip_inline_markdown(part)):
                bold = None  # an emphasised sentence (a councillor's question), not a heading
            if heading or bold:
                content = _strip_inline_markdown(bold.group(1) if bold else part)
                if content.strip():
                    headings.add(len(lines))
                    lines.append(content.strip())
                continue
            bullet = _MD_BULLET.match(part)
            if bullet:
                item = _strip_inline_markdown(bullet.group(2))
                # A lettered item written as a bullet ("- a) ...") keeps its letter only.
                lines.append(item if _MD_LETTERED.match(item) else f"• {item}")
                continue
            lines.append(_strip_inline_markdown(part.strip()))
    if not any(line.strip() for line in lines):
        raise UnreadableReport(name, "empty file (no text)")
    page = Page(1, tuple(lines), frozenset(headings))
    return Document(source=name, pages=(page,), structured=True)


def _read_pdf(path: Path) -> Document:
    import pypdf
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    name = path.name
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
                reader.pages[0].extract_text()
            except Exception as exc:  # noqa: BLE001 - any failure here means "locked"
                raise UnreadableReport(name, "encrypted PDF (a password is needed to read it)") from exc
        pages = []
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text() or ""
            pages.append(Page(number, tuple(_clean_pdf_line(line) for line in text.splitlines())))
        meta = {}
        info = reader.metadata or {}
        for key in ("/Title", "/Subject", "/Author", "/CreationDate"):
            value = info.get(key)
            if value:
                meta[key.lstrip("/").lower()] = str(value)
    except UnreadableReport:
        raise
    except FileNotDecryptedError as exc:
        raise UnreadableReport(name, "encrypted PDF (a password is needed to read it)") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise UnreadableReport(name, f"corrupt or unreadable PDF ({exc})") from exc
    if not pages:
        raise UnreadableReport(name, "PDF has no pages")
    chars = sum(len("".join(p.lines).strip()) for p in pages)
    if chars < _MIN_CHARS_PER_PAGE * len(pages) / 4 or chars < 40:
        raise UnreadableReport(
            name, "no text layer (a scanned PDF?): run OCR on it first, e.g. ocrmypdf"
        )
    return Document(source=name, pages=tuple(pages), file_metadata=meta)


def _clean_pdf_line(line: str) -> str:
    line = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", line)  # control characters from odd fonts
    line = line.replace("\u00a0", " ").replace("\ufb01", "fi").replace("\ufb02", "fl")
    line = re.sub(r"[\uf0b7\uf0a7\uf0d8\u25aa\u25cf\u2022\u27a2\u25e6\uf076\uf0fc]\s*", "• ", line)
    return re.sub(r"[ \t]+", " ", line).strip()


def _read_docx(path: Path) -> Document:
    try:
        import docx
    except ImportError as exc:  # pragma: no cover - python-docx is a dependency
        raise UnreadableReport(path.name, "reading .docx needs python-docx installed") from exc
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many types for bad zips
        raise UnreadableReport(path.name, f"corrupt or unreadable Word file ({exc})") from exc
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
