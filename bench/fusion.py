"""Ranking sweep: how each ranking choice scores on gold questions over a real index.

    python bench/fusion.py --index /tmp/shared-index [--gold corpus/eval/dev.jsonl ...] [--named]

Candidates (dense and lexical) are gathered once per question; each variant is then a pure
re-ranking of them (``qa.retrieve.rank`` with other ``RankingParams``), scored with
``qa.metrics``. This is how the constants in ``qa.retrieve.RankingParams`` are chosen: on an
index of the whole shared corpus, tuning on ``dev.jsonl`` only (``holdout.jsonl`` is reported,
never tuned on).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def variants(named: bool) -> dict[str, object]:
    from qa.retrieve import DEFAULT_PARAMS

    out = {"current": DEFAULT_PARAMS}
    replace = dataclasses.replace
    for w in (0.1, 0.2, 0.25, 0.3):
        key = "lexical_weight_named" if named else "lexical_weight"
        out[f"lexical {w}"] = replace(DEFAULT_PARAMS, **{key: w})
    if not named:
        for w in (0.0, 0.1, 0.2, 0.3, 0.5):
            for m in (1, 2, 3, 5):
                out[f"report w={w} m={m}"] = replace(DEFAULT_PARAMS, report_weight=w, report_top_m=m)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="index")
    parser.add_argument("--gold", nargs="+", default=[str(ROOT / "corpus" / "eval" / "dev.jsonl")])
    parser.add_argument("--named", action="store_true", help="narrow each question to its reports")
    args = parser.parse_args()

    from qa import retrieve as rt
    from qa.evaluate import as_gold_citation
    from qa.gold import answerable, load_gold_files
    from qa.metrics import mean_metrics, question_metrics
    from qa.records import Filters
    from qa.store import open_index

    reader = open_index(args.index)
    indexed = {r.source for r in reader.reports()}
    gold = [q for q in answerable(load_gold_files(args.gold)) if q.sources <= indexed]
    vectors = reader.embedder.encode([g.question for g in gold])
    scopes = [reader.allowed_report_ids(Filters(reports=tuple(g.sources))) if args.named else None for g in gold]

    def gather_all(params: object) -> list:
        return [rt.gather(reader, g.question, qv, "hybrid", scope, params, named=args.named)
                for g, qv, scope in zip(gold, vectors, scopes, strict=True)]

    def show(name: str, gathered: list, params: object) -> None:
        per = []
        for g, c in zip(gold, gathered, strict=True):
            ranked = rt.rank(c, named=args.named, params=params)[:10]
            per.append(question_metrics([as_gold_citation(labels[p], g.citations) for p, _ in ranked], g.citations))
        m = mean_metrics(per)
        print(f"{name:24s} {m['hit@1']:.3f}  {m['hit@5']:.3f}  {m['mrr@10']:.3f}  {m['ndcg@10']:.3f}")

    gathered = gather_all(rt.DEFAULT_PARAMS)
    labels = {pid: (p.source, p.cited_label, p.label) for pid, (p, _, _) in reader.paragraphs(
        {pid for c in gathered for pid in c.flags}).items()}
    print(f"{len(gold)} questions, index {args.index} ({len(indexed)} reports, {reader.model_name}), "
          f"{'report named' if args.named else 'corpus-wide'}")
    print(f"{'variant':24s} hit@1  hit@5  mrr@10 ndcg@10")
    for name, params in variants(args.named).items():
        show(name, gathered, params)
    if args.named:  # the discount changes the dense candidates themselves: gathered again
        for w in (0.0, 0.2, 0.6):
            params = dataclasses.replace(rt.DEFAULT_PARAMS, named_centroid_weight=w)
            again = gather_all(params)
            labels.update({pid: (p.source, p.cited_label, p.label) for pid, (p, _, _) in reader.paragraphs(
                {pid for c in again for pid in c.flags} - labels.keys()).items()})
            show(f"centroid weight {w}", again, params)

if __name__ == "__main__":
    main()
