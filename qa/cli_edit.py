"""``council-qa edit SOURCE --title --date --council --committee``: correct what a report is cited as.

The same call as the app's Library tab (:func:`qa.service.correct_report`): the correction is
written to the report's ``<file>.meta.json`` sidecar and applied to the index at once, with
nothing re-embedded and no model loaded.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def cmd_edit(args: argparse.Namespace, index_dir: Path) -> int:
    from qa.service import correct_report
    from qa.wording import shown_date

    meta = correct_report(index_dir, args.source, args.title, args.date, args.council, args.committee)
    print(f"{args.source}: {meta.title} | {shown_date(meta.date)} | {meta.council or '-'} | "
          f"{meta.committee or '-'}  (kept in {args.source}.meta.json beside the report)")
    return 0


def add_edit(sub: argparse._SubParsersAction, index_help: str, run: Callable[[argparse.Namespace], int]) -> None:
    """council-qa edit SOURCE"""
    p = sub.add_parser("edit", help="correct a report's title, date, council or committee",
                       description="Correct what a report is cited as. The correction is kept in a "
                       "<file>.meta.json sidecar beside the report (so a rebuild keeps it) and applied to the "
                       "index at once; nothing is re-embedded. Options left out stay as they are.")
    p.add_argument("source", metavar="SOURCE", help="the report's file name as ingested (see council-qa status)")
    p.add_argument("--title", help="the title as printed on the report")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the meeting date (or YYYYMMDD)")
    p.add_argument("--council", help='e.g. "Worcestershire County Council"')
    p.add_argument("--committee", help='e.g. "Cabinet"')
    p.add_argument("--index", help=index_help)
    p.set_defaults(func=run)
