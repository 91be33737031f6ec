"""The command line's part in reading scanned reports: ``--ocr-lang`` and a progress bar per page."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.ocr import OcrSettings

LANGS = ("auto", "eng", "cym", "cym+eng")


def add_ocr_lang(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ocr-lang", choices=LANGS, default="auto",
                        help="language of scanned pages read by OCR: auto (English; pages whose words read as "
                        "Welsh are read as Welsh), eng, cym (Welsh) or cym+eng (bilingual)")


def ocr_settings(args: argparse.Namespace) -> OcrSettings:
    """Tesseract from PATH, the user cache, and the language asked for."""
    from ingest.ocr import OcrSettings

    return OcrSettings.default(getattr(args, "ocr_lang", None))


def page_bar(interactive: bool) -> Callable[[str, int, int], None] | None:
    """``on_ocr(file, done, pages)``: a tqdm bar per scanned file while OCR reads its pages (on a
    terminal only; a log gets the file's result line, not a line per page)."""
    if not interactive:
        return None
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def on_ocr(name: str, done: int, total: int) -> None:
        bar = bars.get(name)
        if bar is None:
            bar = bars[name] = tqdm(total=total, unit="page", desc=f"OCR {name[:40]}", file=sys.stderr,
                                    leave=False, position=1)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return on_ocr
