"""Benchmark: extracted title, date and council against ../shared/corpus/councils/manifest.json.

Not a test, and the only code that reads the manifest (it is a measurement tool; the
ingest never does). Run ``python bench/metadata.py [--out TABLE.md]``: reads every shared
document, skips (and names) those that raise UnreadableReport, prints a markdown table
(file, found title/date/council, the manifest's, a mark per field) and a summary line.

What counts as right:

- **date**: exact ``YYYY-MM-DD``. Where the manifest only knows a month or a year
  (``2025-11``, ``2017``, ``2023-24``) a found date inside that period is right, a date
  outside it wrong, and no date is not scored (``–``: the manifest has no exact date to
  compare). The summary also gives the share over the documents that print the
  manifest's date somewhere (text, PDF metadata or file name): a date the document never
  prints (an appendix dated by the meeting it was filed under) cannot be read from it.
- **council**: names compared after normalising: lower case, "&" read as "and",
  parenthetical suffixes such as "(Carmarthenshire, Wales)" dropped, "/" alternatives
  and a parenthetical alternative name ("London Borough of Merton (Merton Council)")
  each tried. Right when one name's words all appear in the other's and the two share a
  word that is not generic (council, county, city, borough, authority, ...).
- **title**: words compared after lower-casing, dropping the manifest's parenthetical
  notes ("(committee report)"), punctuation and small words (of, the, and, ...), and
  reading "2025/26" as "2025-26". Right when the Jaccard overlap is at least 0.6, or
  when at least 80 % of the shorter title's words appear in the longer ("one contains
  the other", allowing one abbreviation such as WPL). The summary also gives the share
  over the documents whose first two pages (or PDF title) print at least 80 % of the
  manifest title's words: many manifest titles are descriptions ("Budget Amendments pack
  (multi-document ModernGov supplement)") or file names, not what the document prints.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.errors import UnreadableReport  # noqa: E402
from ingest.metadata import extract_metadata, find_date  # noqa: E402
from ingest.readers import read_document  # noqa: E402

COUNCILS = ROOT.parent / "shared" / "corpus" / "councils"
FIELDS = ("title", "date", "council")
_SMALL = {"of", "the", "and", "for", "to", "in", "on", "at", "a", "an", "by", "with", "or", "&", "-", "–"}
_GENERIC = {"council", "county", "city", "borough", "district", "community", "town", "parish", "authority",
            "combined", "mayoral", "metropolitan", "london", "of", "and", "the", "a"}


def _words(text: str) -> set[str]:
    text = re.sub(r"(\d{4})/(\d{2,4})\b", r"\1-\2", text.lower().replace("’", "'"))
    return {w.strip("'.,:;") for w in re.findall(r"[\w'.-]+", text)} - _SMALL - {""}


def title_right(found: str | None, wanted: str) -> bool:
    """Jaccard >= 0.6, or 80 % of the shorter title's words inside the longer."""
    a, b = _words(found or ""), _words(re.sub(r"\([^)]*\)", " ", wanted))
    if not a or not b:
        return False
    short, long_ = sorted((a, b), key=len)
    return len(a & b) / len(a | b) >= 0.6 or len(short & long_) >= 0.8 * len(short)


def _council_names(name: str) -> list[set[str]]:
    names = [name] + re.findall(r"\(([^)]*)\)", name)
    out = []
    for n in names:
        n = re.sub(r"\([^)]*\)", " ", n).replace("&", " and ")
        for part in n.split("/"):
            words = set(re.findall(r"[a-z']+", part.lower())) - {"the"}
            if words:
                out.append(words)
    # "Tintern / Wye Valley Community Council": the first part shares the suffix
    if "/" in name:
        out.append(set(re.findall(r"[a-z']+", re.sub(r"\([^)]*\)", " ", name).lower())) - {"the"})
    return out


def council_right(found: str | None, wanted: str) -> bool:
    if not found:
        return False
    for a in _council_names(found):
        for b in _council_names(wanted):
            if (a <= b or b <= a) and (a & b) - _GENERIC:
                return True
    return False


def date_mark(found: str | None, wanted: str) -> str:
    """"✓", "✗" or "–" (not scored: no found date against a partial manifest date)."""
    if re.fullmatch(r"\d{4}-\d\d-\d\d", wanted):
        return "✓" if found == wanted else "✗"
    if not found:
        return "–"
    m = re.fullmatch(r"(\d{4})(?:-(\d\d))?", wanted)
    if not m:
        return "✗"
    if m.group(2) and int(m.group(2)) <= 12:  # a month: 2025-11
        return "✓" if found.startswith(wanted) else "✗"
    years = {m.group(1)} | ({m.group(1)[:2] + m.group(2)} if m.group(2) else set())  # 2017, 2023-24
    return "✓" if found[:4] in years else "✗"


def _printed(document, path: Path, wanted: str) -> bool:
    """Whether the manifest's exact date is printed anywhere the extractor may look."""
    if not re.fullmatch(r"\d{4}-\d\d-\d\d", wanted):
        return True
    texts = ["\n".join(p.lines) for p in document.pages] + list(document.file_metadata.values()) + [path.stem]
    for text in texts:
        for line in text.replace("_", " ").splitlines():
            if wanted in line or find_date(line) == wanted:
                return True
    return False


def _title_printed(document, wanted: str) -> bool:
    """Whether the first two pages (or the PDF's title) print at least 80 % of the manifest title's words."""
    want = _words(re.sub(r"\([^)]*\)", " ", wanted))
    have = _words(" ".join(ln for p in document.pages[:2] for ln in p.lines) + " " +
                  document.file_metadata.get("title", ""))
    return len(want & have) >= 0.8 * len(want)


def evaluate(councils: Path = COUNCILS) -> tuple[list[dict], list[str]]:
    """One row per readable manifest document, plus the names of unreadable ones."""
    rows, skipped = [], []
    for entry in json.loads((councils / "manifest.json").read_text(encoding="utf-8")):
        path = councils / Path(entry["file"]).relative_to("councils")
        try:
            document = read_document(path)
        except UnreadableReport as exc:
            skipped.append(str(exc))
            continue
        meta = extract_metadata(document, path)
        rows.append({
            "file": f"{path.parent.name}/{path.name}", "meta": meta, "entry": entry,
            "title": "✓" if title_right(meta.title, entry["title"]) else "✗",
            "date": date_mark(meta.date, entry["date"]),
            "council": "✓" if council_right(meta.council, entry["council"]) else "✗",
            "printed": _printed(document, path, entry["date"]),
            "title printed": _title_printed(document, entry["title"]),
        })
    return rows, skipped


def shares(rows: list[dict]) -> dict[str, float]:
    out = {}
    for f in FIELDS:
        scored = [r[f] for r in rows if r[f] != "–"]
        out[f] = sum(m == "✓" for m in scored) / len(scored) if scored else 0.0
    printed = [r["date"] for r in rows if r["date"] != "–" and r["printed"]]
    out["date (printed)"] = sum(m == "✓" for m in printed) / len(printed) if printed else 0.0
    printed = [r["title"] for r in rows if r["title printed"]]
    out["title (printed)"] = sum(m == "✓" for m in printed) / len(printed) if printed else 0.0
    return out


def _cell(text: str | None, width: int = 70) -> str:
    text = (text or "—").replace("|", "/")
    return text if len(text) <= width else text[: width - 1] + "…"


def table(rows: list[dict], skipped: list[str]) -> str:
    lines = ["| file | found title | found date | found council | manifest title | manifest date |"
             " manifest council | T | D | C |", "|" + "---|" * 10]
    for r in rows:
        m, e = r["meta"], r["entry"]
        lines.append(" | ".join([
            "", _cell(r["file"], 60), _cell(m.title), _cell(m.date), _cell(m.council), _cell(e["title"]),
            e["date"], _cell(e["council"]), r["title"] + ("" if r["title printed"] else " (not printed)"),
            r["date"] + ("" if r["printed"] else " (not printed)"), r["council"], ""]).strip())
    s = shares(rows)
    lines.append("")
    lines.append(f"**{len(rows)} readable documents**: " + ", ".join(f"{k} {v:.0%}" for k, v in s.items()))
    lines.extend(f"- skipped: {name}" for name in skipped)
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the markdown table here")
    args = parser.parse_args(argv)
    if not (COUNCILS / "manifest.json").exists():
        print(f"no manifest at {COUNCILS}")
        return 1
    rows, skipped = evaluate()
    text = table(rows, skipped)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
