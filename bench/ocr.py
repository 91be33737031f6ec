"""OCR cost: seconds per page and peak memory, for the shared corpus's scanned PDFs and the seed
report printed to page images (no text layer).

    python bench/ocr.py [--workers N ...] [--dpi 300]

Pages are read as ingest reads them (``ingest.ocr.recognise``: PDFium page images, one
``tesseract`` per page, pages in parallel), but in this process with no cache, so that
``getrusage`` sees the renderer (this process) and every tesseract (its children). A second
read of each file shows what the cache costs instead.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.ocr import OcrSettings, recognise  # noqa: E402

SEED = ROOT / "corpus" / "worcestershire-2020-02-13-chief-executive-annual-report.pdf"
COUNCILS = ROOT.parent / "shared" / "corpus" / "councils"
SCANNED = ("tintern-community-council/Annual_return_2016-17_.pdf",
           "tintern-community-council/Notice_of_Conclusion_of_audit_2018-19.pdf",
           "greenville-sc-city-council/Council_2023_05_23.pdf")


def seed_as_images(folder: Path, dpi: int) -> Path:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(SEED))
    images = [pdf[i].render(scale=dpi / 72, grayscale=True).to_pil() for i in range(len(pdf))]
    out = folder / "seed-printed-to-images.pdf"
    images[0].save(out, save_all=True, append_images=images[1:], resolution=dpi)
    return out


def pages_of(path: Path) -> list[int]:
    import pypdfium2 as pdfium

    return list(range(1, len(pdfium.PdfDocument(str(path))) + 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    parser.add_argument("--dpi", type=int, default=300)
    args = parser.parse_args()
    tesseract = shutil.which("tesseract")
    if tesseract is None:
        sys.exit("tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-cym (make test does)")
    with tempfile.TemporaryDirectory() as tmp:
        files = [COUNCILS / rel for rel in SCANNED if (COUNCILS / rel).exists()] + [seed_as_images(Path(tmp), args.dpi)]
        print(f"{'file':44} {'pages':>5} {'workers':>7} {'OCR s':>7} {'s/page':>7} {'cached s':>8}")
        total_pages = total_s = 0.0
        for workers in args.workers:
            for path in files:
                numbers = pages_of(path)
                settings = OcrSettings(tesseract, str(Path(tmp) / f"cache-{workers}"), dpi=args.dpi, workers=workers)
                started = time.perf_counter()
                recognise(path, numbers, settings)
                seconds = time.perf_counter() - started
                started = time.perf_counter()
                recognise(path, numbers, settings)  # from the cache
                cached = time.perf_counter() - started
                print(f"{path.name[:44]:44} {len(numbers):5d} {workers:7d} {seconds:7.1f} "
                      f"{seconds / len(numbers):7.2f} {cached:8.3f}")
                if workers == args.workers[-1]:
                    total_pages, total_s = total_pages + len(numbers), total_s + seconds
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"\nall files, {args.workers[-1]} workers: {total_s / total_pages:.2f} s per page ({int(total_pages)} pages)")
    print(f"peak RSS: this process (PDFium page images) {me:.0f} MB; largest tesseract "
          f"{children.ru_maxrss / 1024:.0f} MB; tesseract CPU {children.ru_utime + children.ru_stime:.1f} s in all")


if __name__ == "__main__":
    main()
