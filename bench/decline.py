"""Calibrate declining: the evidence of answerable and unanswerable gold questions, and the
share of each that a range of thresholds would decline.

    python bench/decline.py --index DIR [--gold corpus/eval/dev.jsonl]

Tune on dev.jsonl only; run it on holdout.jsonl to report.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="index")
    parser.add_argument("--gold", nargs="+", default=[str(ROOT / "corpus" / "eval" / "dev.jsonl")])
    args = parser.parse_args()

    from qa.answer import answer
    from qa.decline import DEFAULT_DECLINE, Evidence, should_decline
    from qa.gold import load_gold_files
    from qa.store import open_index

    reader = open_index(args.index)
    indexed = {r.source for r in reader.reports()}
    gold = [q for q in load_gold_files(args.gold) if q.abstain or q.sources <= indexed]
    rows = []
    for q in gold:
        result = answer(reader, reader.embedder, q.question)
        rows.append((q, Evidence(**result.evidence)))
    print(f"{len(gold)} questions ({sum(q.abstain for q, _ in rows)} unanswerable), index {args.index}")
    print(f"{'':10s}{'id':14s} dense  sent   known  top   names-missing")
    for q, e in sorted(rows, key=lambda r: r[1].dense):
        kind = "NONE" if q.abstain else ""
        print(f"{kind:10s}{q.id:14s} {e.dense:.3f}  {e.sentence:.3f}  {e.known_terms:.2f}  {e.top_terms:.2f}"
              f"  {e.names_missing}")
    print(f"\n{'min_dense':>9s} {'known':>6s} {'dense_unknown':>13s} {'sentence':>8s} names"
          "  declined: unanswerable  answerable")
    grid = itertools.product((0.25, 0.30, 0.33, 0.36, 0.40, 0.45, 0.5), (0.0, 0.67, 0.9), (0.45, 0.55),
                             (0.0, 0.40, 0.45, 0.50, 0.55), (False, True))
    for md, mk, mdu, ms, names in grid:
        p = dataclasses.replace(DEFAULT_DECLINE, min_dense=md, min_known_terms=mk, min_dense_unknown=mdu,
                                min_sentence=ms, decline_on_missing_name=names)
        none = [should_decline(e, p) for q, e in rows if q.abstain]
        some = [should_decline(e, p) for q, e in rows if not q.abstain]
        print(f"{md:9.2f} {mk:6.2f} {mdu:13.2f} {ms:8.2f} {names!s:5s}  {sum(none):3d}/{len(none):<3d}"
              f" {sum(none) / max(1, len(none)):.2f}     {sum(some):3d}/{len(some):<3d}"
              f" {sum(some) / max(1, len(some)):.3f}")


if __name__ == "__main__":
    main()
