"""The ``council-qa`` command: a thin shell over ``ingest`` and ``qa``.

Flags and environment variables are read here and nowhere else; user errors arrive as
:class:`CouncilQAError` and leave as one line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ingest.errors import CouncilQAError

EPILOG = """\
examples:
  council-qa paragraphs corpus/report.pdf          how a report is split into paragraphs
  council-qa ingest corpus/                        build or update ./index
  council-qa ask "what happened to sickness absence?"
  council-qa ask -f questions.txt --json           one JSON answer per line
  council-qa eval corpus/eval/dev.jsonl --mode all
  council-qa serve                                 the browser app on http://127.0.0.1:7860

environment:
  COUNCIL_QA_INDEX   index directory (default ./index)
  COUNCIL_QA_MODEL   sentence-transformers model name or path for new indexes
"""


def _index_dir(args: argparse.Namespace) -> Path:
    return Path(args.index or os.environ.get("COUNCIL_QA_INDEX") or "index")


def cmd_paragraphs(args: argparse.Namespace) -> int:
    from ingest.report import load_report, report_to_json

    report = load_report(args.file)
    if args.json:
        print(json.dumps(report_to_json(report), ensure_ascii=False, indent=1))
        return 0
    meta = report.meta
    print(f"{meta.title} | {meta.date or 'no date'} | {meta.council or '-'} | {meta.meeting or '-'}")
    numbered = sum(p.numbered for p in report.paragraphs)
    print(f"{report.source}: {report.pages} pages, {numbered} numbered paragraphs, "
          f"{len(report.paragraphs) - numbered} unnumbered blocks")
    for p in report.paragraphs:
        text = " ".join(p.text.split())
        print(f"[{p.label:>8}] p{p.page:<3} {text[:100]}{'…' if len(text) > 100 else ''}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="council-qa",
        description="Ask questions of council reports and get answers cited by paragraph.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("paragraphs", help="show how one report is split into numbered paragraphs")
    p.add_argument("file", help="a .pdf, .md, .txt or .docx report")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_paragraphs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CouncilQAError as exc:
        print(f"council-qa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("council-qa: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
