"""``council-qa fetch moderngov BASE_URL --from --to``: a council's committee papers, fetched once each.

Kept apart from :mod:`qa.cli` so the command module stays small; the work is
:func:`ingest.fetch.fetch_moderngov`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from ingest.errors import CouncilQAError


def cmd_fetch(args: argparse.Namespace, index_dir: Path, model: str | None) -> int:
    from ingest.fetch import counted, fetch_moderngov
    from ingest.web import Polite, user_agent

    def say(line: str) -> None:
        print(line, flush=True)

    def on_result(r) -> None:  # noqa: ANN001 - ingest.index.FileResult
        detail = f"{r.paragraphs} paragraphs" if r.status in ("added", "updated") else r.reason
        say(f"{r.status:>9}  {r.source}" + (f"  ({detail})" if detail else ""))

    if args.delay < 0 or args.timeout <= 0:
        raise CouncilQAError("--delay must be 0 or more and --timeout more than 0 seconds")
    result = fetch_moderngov(
        args.base_url, args.start, args.end, committees=args.committee or (), dest=args.dest,
        include_expired=args.include_expired, council=args.council,
        index_dir=None if args.no_ingest else index_dir, model=model,
        polite=Polite(delay=args.delay, timeout=args.timeout, user_agent=user_agent(args.contact)), log=say,
        on_result=on_result,
    )
    skipped = ", ".join(counted(n, why) for why, n in sorted(result.skipped.items()))
    say(f"{result.site}, {result.window[0]} to {result.window[1]}: {counted(result.meetings, 'meeting')}, "
        f"{counted(result.papers, 'paper')}; downloaded {len(result.downloaded)}, already fetched {result.already}"
        + (f"; skipped {skipped}" if skipped else "") + f" -> {result.dest}")
    for line in result.failed:
        print(f"council-qa: failed: {line}", file=sys.stderr)
    failed_ingest = bool(result.ingest is not None and result.ingest.failed)
    return 1 if result.failed or failed_ingest else 0


def add_fetch(sub: argparse._SubParsersAction, index_help: str,
              run: Callable[[argparse.Namespace], int]) -> None:
    """council-qa fetch moderngov BASE_URL --from YYYY-MM-DD --to YYYY-MM-DD"""
    p = sub.add_parser("fetch", help="fetch a council's committee papers for a date window and ingest them")
    kinds = p.add_subparsers(dest="system", required=True, metavar="SYSTEM")
    m = kinds.add_parser(
        "moderngov", help="a ModernGov site (<site>/mgWebService.asmx)",
        description="Fetch the public papers of every meeting in the window (restricted papers, bare links, "
        "cancelled meetings and meetings outside the window are skipped), each once, with a <file>.meta.json "
        "naming its committee, meeting and agenda item, then ingest them. A second run downloads only what is new.")
    m.add_argument("base_url", metavar="BASE_URL", help="the site, e.g. https://democracy.example.gov.uk")
    m.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD", help="first meeting date")
    m.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD", help="last meeting date")
    m.add_argument("--committee", action="extend", nargs="+", metavar="ID",
                   help="only these committee ids (default: every current committee)")
    m.add_argument("--include-expired", action="store_true", help="also expired and deleted committees")
    m.add_argument("--dest", help="where papers are kept (default corpus/moderngov/<host>/)")
    m.add_argument("--council", help="the council's name, recorded with each paper")
    m.add_argument("--index", help=index_help)
    m.add_argument("--model", help="model for a NEW index (default: $COUNCIL_QA_MODEL or all-mpnet-base-v2)")
    m.add_argument("--no-ingest", action="store_true", help="only fetch; do not ingest")
    m.add_argument("--delay", type=float, default=1.0, help="seconds between requests to the site (default 1)")
    m.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for an answer (default 60)")
    m.add_argument("--contact", help="an e-mail or web address put in the user agent, for the site's administrators")
    m.set_defaults(func=run)
