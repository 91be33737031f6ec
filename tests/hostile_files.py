"""Generators of hostile input files, shared by tests/test_hostile_inputs.py and bench/hostile.py.

Every file is built on the fly in a given folder: no binary is ever committed. Each generator
returns the path it wrote.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    b"</Types>"
)
ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Target="word/document.xml" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    b"</Relationships>"
)
DOC_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body><w:p><w:r><w:t>1. Bomb"
)
DOC_TAIL = b"</w:t></w:r></w:p></w:body></w:document>"

GOOD_TEXT = (
    "Report of the Director of Finance\n\n"
    "1. The council approved the budget for 2024 after a long debate on social care.\n"
    "2. Members asked for a further report on the cost of home to school transport.\n"
)


def docx_zip_bomb(folder: Path, inflated_mb: int = 1024) -> Path:
    """A .docx whose word/document.xml inflates to ``inflated_mb`` MB (about 1 MB on disk per GB)."""
    path = folder / "bomb.docx"
    chunk = b" " * (1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", ROOT_RELS)
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(DOC_HEAD)
            for _ in range(inflated_mb):
                member.write(chunk)
            member.write(DOC_TAIL)
    return path


def not_a_zip_docx(folder: Path) -> Path:
    path = folder / "memo.docx"
    path.write_bytes(b"This is a plain text memo saved with the wrong extension.\n" * 20)
    return path


def _pdf(objects: list[bytes], root: int = 1, extra_trailer: bytes = b"") -> bytes:
    """A PDF file from numbered object bodies (object i+1 is objects[i]) with a correct xref."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, root, extra_trailer, xref)
    return bytes(out)


def _stream(data: bytes, compress: bool = False) -> bytes:
    if compress:
        data = zlib.compress(data, 9)
        return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
_TEXT = b"BT /F1 12 Tf 72 720 Td (1. The council agreed the budget for the coming year in full.) Tj ET"


def _page(parent: int, contents: int, font: int, extra: bytes = b"") -> bytes:
    return (b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> %s>>" % (parent, contents, font, extra))


def flate_bomb_pdf(folder: Path, inflated_mb: int = 400) -> Path:
    """One page whose content stream is ``inflated_mb`` MB of spaces, flate-compressed."""
    path = folder / "flate-bomb.pdf"
    compressor = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    data = compressor.compress(_TEXT) + b"".join(compressor.compress(chunk) for _ in range(inflated_mb))
    data += compressor.flush()
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               _page(2, 4, 5), stream, _FONT]
    path.write_bytes(_pdf(objects))
    return path


def page_bomb_pdf(folder: Path, pages: int = 100_000) -> Path:
    """A /Pages tree with ``pages`` real page objects sharing one content stream."""
    path = folder / "page-bomb.pdf"
    first = 5
    kids = b" ".join(b"%d 0 R" % (first + i) for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
               _stream(_TEXT), _FONT]
    objects += [_page(2, 3, 4)] * pages
    path.write_bytes(_pdf(objects))
    return path


def hidden_page_bomb_pdf(folder: Path, pages: int = 100_000) -> Path:
    """``pages`` pages one level down, under a root /Pages node that claims one page: only
    walking the tree (slow, unbounded by any cheap check) finds them."""
    path = folder / "hidden-page-bomb.pdf"
    first = 6
    kids = b" ".join(b"%d 0 R" % (first + i) for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Pages /Parent 2 0 R /Kids [%s] /Count 1 >>" % kids, _stream(_TEXT), _FONT]
    objects += [_page(3, 4, 5)] * pages
    path.write_bytes(_pdf(objects))
    return path


def huge_count_pdf(folder: Path) -> Path:
    """A one-page PDF whose /Pages claims a billion pages."""
    path = folder / "huge-count.pdf"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1000000000 >>",
               _page(2, 4, 5), _stream(_TEXT), _FONT]
    path.write_bytes(_pdf(objects))
    return path


def deep_nesting_pdf(folder: Path, depth: int = 100_000) -> Path:
    """A page dictionary holding an array nested ``depth`` levels deep."""
    path = folder / "deep-nesting.pdf"
    nested = b"[" * depth + b"]" * depth
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               _page(2, 4, 5, b"/Deep " + nested + b" "), _stream(_TEXT), _FONT]
    path.write_bytes(_pdf(objects))
    return path


def cyclic_pages_pdf(folder: Path) -> Path:
    """A page tree whose inner /Pages node lists the root as its kid."""
    path = folder / "cyclic-pages.pdf"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
               b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 3 0 R] /Count 1 >>",
               _page(2, 5, 6), _stream(_TEXT), _FONT]
    path.write_bytes(_pdf(objects))
    return path


def encrypted_pdf(folder: Path, source: Path, algorithm: str, user_password: str = "") -> Path:
    """The first two pages of ``source`` encrypted with ``algorithm`` (e.g. "AES-128")."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(str(source)).pages[:2]:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password="x", algorithm=algorithm)
    tag = algorithm.lower() + ("-locked" if user_password else "-open")
    path = folder / f"encrypted-{tag}.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def utf16_text(folder: Path, big_endian: bool) -> Path:
    path = folder / ("utf16-be.txt" if big_endian else "utf16-le.txt")
    codec, bom = ("utf-16-be", b"\xfe\xff") if big_endian else ("utf-16-le", b"\xff\xfe")
    path.write_bytes(bom + GOOD_TEXT.replace("budget", "budget café").encode(codec))
    return path


def nul_text(folder: Path) -> Path:
    path = folder / "nul-bytes.txt"
    path.write_bytes(GOOD_TEXT.encode("utf-8") + b"\x00\x00\x00garbage\x00")
    return path


def png_named_pdf(folder: Path) -> Path:
    """A real 1x1 PNG image saved as .pdf."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))
    path = folder / "photo.pdf"
    path.write_bytes(png)
    return path


def zero_bytes(folder: Path) -> Path:
    path = folder / "zero.pdf"
    path.write_bytes(b"")
    return path


def rtf_file(folder: Path) -> Path:
    path = folder / "minutes.rtf"
    path.write_bytes(b"{\\rtf1\\ansi 1. The council met.\\par}")
    return path


def csv_file(folder: Path) -> Path:
    path = folder / "budget.csv"
    path.write_text("line,amount\nsocial care,100\n", encoding="utf-8")
    return path


ODD_NAMES = ("report with spaces.txt", "rapport-été-ünïcødé-議事録.txt", "-leading-dash.txt",
             "long-" + "x" * 200 + ".txt")


def odd_name(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text(GOOD_TEXT, encoding="utf-8")
    return path


def build_all(folder: Path, seed_pdf: Path, bomb_mb: int = 1024) -> dict[str, Path]:
    """Every hostile file, keyed by a short name."""
    builders: dict[str, Callable[[], Path]] = {
        "docx zip bomb": lambda: docx_zip_bomb(folder, bomb_mb),
        "docx not a zip": lambda: not_a_zip_docx(folder),
        "flate bomb": lambda: flate_bomb_pdf(folder),
        "page bomb 100k": lambda: page_bomb_pdf(folder),
        "hidden page bomb 100k": lambda: hidden_page_bomb_pdf(folder),
        "huge /Count": lambda: huge_count_pdf(folder),
        "deep nesting": lambda: deep_nesting_pdf(folder),
        "cyclic pages": lambda: cyclic_pages_pdf(folder),
        "AES-128 open": lambda: encrypted_pdf(folder, seed_pdf, "AES-128"),
        "AES-256 open": lambda: encrypted_pdf(folder, seed_pdf, "AES-256"),
        "RC4-128 open": lambda: encrypted_pdf(folder, seed_pdf, "RC4-128"),
        "AES-256 locked": lambda: encrypted_pdf(folder, seed_pdf, "AES-256", "secret"),
        "UTF-16 LE": lambda: utf16_text(folder, big_endian=False),
        "UTF-16 BE": lambda: utf16_text(folder, big_endian=True),
        "UTF-8 with NUL": lambda: nul_text(folder),
        "PNG named .pdf": lambda: png_named_pdf(folder),
        "zero bytes": lambda: zero_bytes(folder),
        ".rtf": lambda: rtf_file(folder),
        ".csv": lambda: csv_file(folder),
    }
    files = {key: build() for key, build in builders.items()}
    for name in ODD_NAMES:
        files[f"name {name[:20]}"] = odd_name(folder, name)
    return files
