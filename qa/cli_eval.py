"""``council-qa eval``: gold questions in, retrieval (and with --answers, answer) figures out.

Kept apart from :mod:`qa.cli` so the command module stays small; flags are parsed there.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ingest.errors import CouncilQAError


def _eval_gold(args: argparse.Namespace, indexed: set[str]) -> list:
    """The gold questions of every file named (with --skip-missing, those whose reports are indexed)."""
    from qa.gold import load_gold_files, restrict_to_sources

    gold = load_gold_files(args.gold)
    if args.skip_missing:
        gold, skipped = restrict_to_sources(gold, indexed)
        if skipped:
            print(f"skipped {len(skipped)} questions whose reports are not in the index")
        if not [q for q in gold if not q.abstain]:
            raise CouncilQAError("none of the gold questions' reports are in the index")
    return gold


def _eval_answers(args: argparse.Namespace, reader, gold: list, named: dict) -> dict:  # noqa: ANN001
    """Answer every question (hybrid) and print how often the quote holds the gold answer."""
    from qa import eval_report
    from qa import evaluate as ev
    from qa.answer import answer
    from qa.records import Filters

    def ask(question: str) -> tuple[str, bool]:
        filters = Filters(reports=named.get(question, ())) if args.with_report else Filters()
        result = answer(reader, reader.embedder, question, k=5, filters=filters)
        return result.answer, result.abstained

    result = ev.evaluate_answers(gold, ask)
    print()
    print(eval_report.format_answers(result, limit=args.show_failures))
    return eval_report.answers_to_json(result)


def cmd_eval(args: argparse.Namespace, index_dir: Path | str) -> int:
    from qa import eval_report
    from qa import evaluate as ev
    from qa.records import Filters
    from qa.retrieve import MODES, retrieve
    from qa.store import open_index

    mins = dict(ev.parse_min(spec) for spec in args.min or ())
    reader = open_index(index_dir)
    indexed = {r.source for r in reader.reports()}
    gold = _eval_gold(args, indexed)
    named = {q.question: tuple(sorted(q.sources & indexed)) for q in gold}

    def search(question: str, mode: str) -> list[tuple[str, str]]:
        filters = Filters(reports=named[question]) if args.with_report else Filters()
        hits = retrieve(reader, reader.embedder, question, k=10, mode=mode, filters=filters)
        return [(h.paragraph.source, h.paragraph.cited_label, h.paragraph.label) for h in hits]

    modes = list(MODES) if args.mode == "all" else [args.mode]
    result = ev.evaluate(gold, search, modes, k=10, indexed_sources=indexed)
    scope = "with each question's report named" if args.with_report else "corpus-wide"
    print(f"{result.n_questions} questions, {scope}, index {reader.index_dir} "
          f"({reader.manifest['counts']['reports']} reports, model {reader.model_name})")
    print(eval_report.format_table(result))
    print(eval_report.format_by_gold_kind(result))
    failures = eval_report.format_failures(result, limit=args.show_failures)
    if failures.strip():
        print()
        print(failures)
    figures = eval_report.to_json(result)
    if args.answers:
        figures["answers"] = _eval_answers(args, reader, gold, named)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, ensure_ascii=False))
        print(f"wrote {args.json}")
    if args.plot:
        print(f"wrote {eval_report.plot(result, args.plot)}")
    problems = ev.check_thresholds(result, mins) if mins else []
    for problem in problems:
        print(f"below threshold: {problem}", file=sys.stderr)
    return 1 if problems else 0
