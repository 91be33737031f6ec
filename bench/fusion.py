"""Fusion sweep: how each ranking choice scores on the dev gold set over a real index.

    python bench/fusion.py --index /tmp/shared-index [--gold corpus/eval/dev.jsonl]

Dense and lexical candidates are computed once per question; each variant is then a pure
re-ranking of them (qa.retrieve's functions), scored with qa.metrics. This is how
LEXICAL_WEIGHT and the unnumbered-block penalties in qa/retrieve.py were chosen: run it on
an index of the whole shared corpus, not the seed alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="index")
    parser.add_argument("--gold", default=str(ROOT / "corpus" / "eval" / "dev.jsonl"))
    args = parser.parse_args()

    from ingest.embed import load_embedder
    from qa import retrieve as rt
    from qa.evaluate import load_gold
    from qa.metrics import mean_metrics, question_metrics
    from qa.store import IndexReader

    reader = IndexReader.open(args.index)
    model = load_embedder(reader.model_name)
    gold = load_gold(args.gold)
    vectors = model.encode([g.question for g in gold])
    candidates = []
    for g, qv in zip(gold, vectors, strict=True):
        dense = rt.dense_candidates(reader, qv, rt.CANDIDATES, None)
        lexical = reader.lexical(rt.fts_query(g.question), rt.CANDIDATES, None)
        ids = {p for p, _ in dense} | {p for p, _ in lexical}
        candidates.append((dense, lexical, rt.block_penalties(reader, ids)))
    labels = {pid: (p.source, p.label) for pid, (p, _, _) in
              reader.paragraphs({pid for d, lx, _ in candidates for pid, _ in d + lx}).items()}

    def score(rank_fn) -> dict[str, float]:  # noqa: ANN001
        per = []
        for g, (dense, lexical, penalties) in zip(gold, candidates, strict=True):
            ranked = rank_fn(dense, lexical, penalties)[:10]
            per.append(question_metrics([labels[p] for p in ranked], g.citations))
        return mean_metrics(per)

    def no_prior(_: dict) -> dict:
        return {}

    variants = {
        "dense": lambda d, lx, pen: [p for p, _ in d],
        "lexical": lambda d, lx, pen: [p for p, _ in lx],
        "dense + prior": lambda d, lx, pen: [p for p, _ in rt.apply_penalties(dict(d), pen)],
        "rrf k=60": lambda d, lx, pen: [p for p, _ in rt.reciprocal_rank_fusion(
            [[p for p, _ in d], [p for p, _ in lx]], [1.0, 1.0])],
        "rrf k=60 + prior": lambda d, lx, pen: [p for p, _ in rt.apply_penalties(dict(rt.reciprocal_rank_fusion(
            [[p for p, _ in d], [p for p, _ in lx]], [1.0, 1.0])), {k: v / 10 for k, v in pen.items()})],
    }
    for weight in (0.1, 0.2, 0.3):
        variants[f"linear w={weight}"] = (
            lambda d, lx, pen, w=weight: [p for p, _ in rt.apply_penalties(rt.linear_fusion(d, lx, w), no_prior(pen))])
        variants[f"linear w={weight} + prior"] = (
            lambda d, lx, pen, w=weight: [p for p, _ in rt.apply_penalties(rt.linear_fusion(d, lx, w), pen)])
    print(f"{len(gold)} questions, index {args.index} ({reader.manifest['counts']['reports']} reports)")
    print(f"{'variant':28s} hit@1  hit@5  mrr@10 ndcg@10")
    for name, fn in variants.items():
        m = score(fn)
        print(f"{name:28s} {m['hit@1']:.3f}  {m['hit@5']:.3f}  {m['mrr@10']:.3f}  {m['ndcg@10']:.3f}")


if __name__ == "__main__":
    main()
