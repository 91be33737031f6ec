"""Hybrid retrieval: dense (FAISS over sentence windows) fused with lexical (FTS5 BM25).

The maths is in small pure functions over arrays and lists; the index reader and the
embedder are passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ingest.embed import Embedder
from ingest.errors import CouncilQAError
from ingest.records import Paragraph
from qa.records import Filters, Hit, ParagraphFlags
from qa.store import IndexReader

MODES = ("hybrid", "dense", "lexical")
RRF_K = 60


@dataclass(frozen=True)
class RankingParams:
    """Every ranking constant, each with the measurement that chose it (dev gold set over the
    whole shared corpus, ``python bench/fusion.py --index DIR``; docs/evaluation-history.md, "How we got there")."""

    lexical_weight: float = 0.3
    """Hybrid score = best-window cosine + lexical_weight x BM25 / (best BM25 for the question).
    On one index MRR@10 was 0.40 for reciprocal rank fusion, 0.53 for RRF with the unnumbered
    prior below, and 0.59 for this linear fusion with the prior. Re-tuned with the round-3 dev
    set (141 answerable questions, all-mpnet-base-v2, whole shared corpus): 0.3 with the
    penalties below gives hit@5 0.745, MRR@10 0.580 (0.716 / 0.557 at 0.2 with the old ones)."""
    lexical_weight_named: float = 0.25
    """The lexical weight when the search is narrowed to named reports: inside one report every
    paragraph shares its terms, so BM25 counts for less than corpus-wide (round-3 dev set, mpnet,
    report named: hit@5 / MRR@10 0.823 / 0.725 at 0.1, 0.865 / 0.742 at 0.2, 0.872 / 0.737 at 0.3;
    with the first dev set and the old penalties 0.1 had been best). Re-tuned with
    named_centroid_weight below (dev, mpnet, 0.4): 0.879 / 0.793 at 0.2, 0.894 / 0.786 at 0.25,
    0.901 / 0.776 at 0.3."""
    named_centroid_weight: float = 0.4
    """With reports named, the dense search uses the question minus this share of the mean of the
    named reports' window vectors (:func:`discounted`): what every paragraph of the report shares
    (its subject: "Workplace Parking Levy") says nothing about which paragraph answers, so the
    report's introduction and title block stop outranking the paragraph with the fact asked for.
    Dev set, mpnet, report named, hit@5 / MRR@10: 0.887 / 0.766 without; 0.3-0.5 with the lexical
    weight at 0.25 all give 0.894 / 0.783-0.787 (0.4: 0.894 / 0.786). Reported only, the holdout:
    0.870 / 0.690 -> 0.891 / 0.711. The same corpus-wide, each window less its own report's mean:
    dev MRR@10 0.611-0.627 against 0.615 and holdout hit@5 down to 0.717, so not there."""
    unnumbered_penalty: float = 0.1
    """Subtracted from an unnumbered block in a report that has numbered paragraphs: there such
    blocks are often cover sheets, tables and appendix pages, which otherwise match everything,
    but also the prose of forms and question-and-answer papers that number only a few sections
    (dev, mpnet: MRR@10 0.569 at 0.2, 0.580 at 0.1, 0.573 at 0.05)."""
    unnumbered_report_penalty: float = 0.05
    """Subtracted from a block of a report printed without paragraph numbers (fewer than
    numbered_report_min): smaller, since such a report has nothing else to cite (dev, mpnet:
    MRR@10 0.580 at 0.05, 0.569 at 0.1)."""
    numbered_report_min: int = 5
    table_penalty: float = 0.2
    """Added for a block that reads like a table or chart: hit@5 0.743 -> 0.757, MRR@10 0.574 -> 0.584
    (first dev set, 0 -> 0.1). With the lexical weight at 0.3 a strategy table saying "Address levels
    of sickness absence" outranked the paragraph that answers "what happened to sickness absence?";
    0.2 puts it back below (round-3 dev, mpnet: hit@1 0.475 -> 0.482, MRR@10 0.580 -> 0.582, hit@5
    0.745 -> 0.738; holdout unchanged)."""
    bare_line_penalty: float = 0.1
    """Subtracted from a bare line, numbered or not: a title, heading or label with no sentence
    (``ingest.segment_rules.looks_bare``: "TITLE: Workplace Parking Levy Update", "H.1 HUMAN
    RESOURCES COMMITTEE"). It names the question's subject, so it matched well, but it answers
    nothing and holds no sentence to quote. Dev set, mpnet, report named hit@5 / MRR@10 0.901 /
    0.788 -> 0.915 / 0.789 (0.05 to 0.3 all the same; lines of up to 15 words: 0.915 / 0.788, up
    to 30: 0.901 / 0.783), corpus-wide MRR@10 0.622 -> 0.627; reported only, the holdout's report
    named 0.891 / 0.711 -> 0.935 / 0.714, corpus-wide 0.783 / 0.604 -> 0.783 / 0.605. MiniLM, same
    constants: dev named 0.872 / 0.742 -> 0.879 / 0.746, holdout unchanged."""
    report_weight: float = 0.0
    """Weight of the report's evidence (mean of its best report_top_m candidate scores, relative
    to the best report's): paragraphs of the report that answers the question as a whole rise
    above a stray match in another report. Still 0: on the round-3 dev set no weight from 0.05
    to 0.3 (top 1 to 5) lifted MRR@10 by more than 0.001, and 0.2 or more lowered it."""
    report_top_m: int = 3
    report_places: int = 3
    """Corpus-wide, the first this many places keep the report the fused ranking gives them but
    take that report's paragraphs in the order the report-named search gives (with its discount,
    :func:`refill_report_places`): the report is picked first, then its paragraph. Dev set, mpnet,
    hybrid hit@5 / MRR@10: 0.759 / 0.615 at 0, 0.759 / 0.615 at 1, 0.766 / 0.622 at 3, 0.752 /
    0.619 at 5, 0.752 / 0.621 at 10; reported only, the holdout 0.783 / 0.588 -> 0.783 / 0.604 at
    3. Three more searches within one report each: 13 -> 25 ms p50 beside the question's embedding."""
    candidates: int = 200
    """How many paragraphs each retriever hands to the fusion."""


DEFAULT_PARAMS = RankingParams()

STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be been before being below
    between both but by can could did do does doing done down during each few for from further
    had has have having he her here hers him his how i if in into is it its itself just me
    more most my no nor not now of off on once only or other our ours out over own please
    same she should so some such tell than that the their theirs them then there these they
    this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours has happened happen happening going council
    member members cabinet give given much many any whether say said been""".split()
)


def query_terms(question: str) -> list[str]:
    """Content words of a question, in order, without duplicates."""
    seen: dict[str, None] = {}
    for token in re.findall(r"[\w£%'’-]+", question.lower()):
        token = re.sub(r"['’]s$", "", token).strip("'’-")
        if token in STOPWORDS or len(token) < 2:
            continue
        if token.isdigit() and len(token) > 4:
            continue
        seen.setdefault(token, None)
    return list(seen)


def fts_query(question: str) -> str:
    """An FTS5 MATCH expression: any of the question's content words (BM25 ranks them)."""
    terms = [re.sub(r"[^\w]+", " ", t).strip() for t in query_terms(question)]
    return " OR ".join(f'"{t}"' for t in terms if t)


def best_per_paragraph(
    window_ids: Sequence[int], scores: Sequence[float], window_to_paragraph: Mapping[int, int]
) -> list[tuple[int, float]]:
    """A paragraph scores by its best window: (paragraph id, score), best first."""
    best: dict[int, float] = {}
    for wid, score in zip(window_ids, scores, strict=True):
        pid = window_to_paragraph.get(int(wid))
        if pid is not None and score > best.get(pid, -np.inf):
            best[pid] = float(score)
    return sorted(best.items(), key=lambda kv: -kv[1])


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], weights: Sequence[float], k: int = RRF_K
) -> list[tuple[int, float]]:
    """Weighted RRF: sum over rankings of weight / (k + rank), rank counted from 1."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


def linear_fusion(
    dense: Sequence[tuple[int, float]], lexical: Sequence[tuple[int, float]], lexical_weight: float
) -> dict[int, float]:
    """Cosine plus weighted, max-normalised BM25. A paragraph found only by the text search
    gets the lowest dense score among the candidates (it was not in the dense top list)."""
    dense_of = dict(dense)
    floor = min(dense_of.values()) if dense_of else 0.0
    top = max((score for _, score in lexical), default=0.0)
    lexical_of = {pid: score / top for pid, score in lexical} if top > 0 else {}
    return {
        pid: dense_of.get(pid, floor) + lexical_weight * lexical_of.get(pid, 0.0)
        for pid in dense_of.keys() | lexical_of.keys()
    }


def apply_penalties(scores: Mapping[int, float], penalties: Mapping[int, float]) -> list[tuple[int, float]]:
    """Subtract each paragraph's penalty and rank, best first (ties by id, for stable output)."""
    return sorted(
        ((pid, score - penalties.get(pid, 0.0)) for pid, score in scores.items()), key=lambda kv: (-kv[1], kv[0])
    )


def discounted(query_vector: np.ndarray, centroids: Sequence[np.ndarray], weight: float) -> np.ndarray:
    """The question's vector less ``weight`` x the mean of ``centroids`` (the named reports' mean
    window vectors): a window then scores by what it says about the question beyond what is
    typical of its report."""
    if weight == 0 or not len(centroids):
        return query_vector
    return (query_vector - weight * np.mean(np.asarray(centroids), axis=0)).astype(np.float32)


def dense_candidates(
    reader: IndexReader, query_vector: np.ndarray, n: int, report_ids: set[int] | None
) -> list[tuple[int, float]]:
    """The ``n`` best paragraphs by their best window; the reader (FAISS or Milvus) searches the
    ``4 n`` nearest windows."""
    ids, scores = reader.dense(query_vector, n * 4, report_ids)
    return best_per_paragraph(ids, scores, reader.window_paragraphs(ids))[:n]


@dataclass(frozen=True)
class Candidates:
    """What the two retrievers found for one question, with what the ranking needs to know of
    each paragraph; ranking them (:func:`rank`) is then pure arithmetic."""

    dense: list[tuple[int, float]]
    lexical: list[tuple[int, float]]
    flags: dict[int, ParagraphFlags]
    numbered_count: dict[int, int]
    """Report id -> how many numbered paragraphs it has."""


def block_penalties(c: Candidates, params: RankingParams = DEFAULT_PARAMS) -> dict[int, float]:
    """The ranking prior for unnumbered blocks and bare lines (see RankingParams.unnumbered_penalty,
    table_penalty, bare_line_penalty)."""
    penalties = {}
    for pid, flags in c.flags.items():
        penalty = params.bare_line_penalty if flags.bare else 0.0
        if not flags.numbered:
            numbered_report = c.numbered_count.get(flags.report_id, 0) >= params.numbered_report_min
            penalty += params.unnumbered_penalty if numbered_report else params.unnumbered_report_penalty
            penalty += params.table_penalty if flags.tabular else 0.0
        if penalty:
            penalties[pid] = penalty
    return penalties


def report_evidence(scores: Mapping[int, float], report_of: Mapping[int, int], top_m: int,
                    weight: float) -> dict[int, float]:
    """A penalty per paragraph from its report's evidence: weight x (best report's evidence -
    this report's), where a report's evidence is the mean of its best ``top_m`` scores (missing
    ones count as the lowest score among the candidates). Zero for paragraphs of the best report."""
    if weight == 0 or not scores:
        return {}
    floor = min(scores.values())
    per_report: dict[int, list[float]] = {}
    for pid, score in scores.items():
        per_report.setdefault(report_of[pid], []).append(score)
    evidence = {}
    for rid, values in per_report.items():
        best = sorted(values, reverse=True)[:top_m]
        evidence[rid] = (sum(best) + floor * (top_m - len(best))) / top_m
    top = max(evidence.values())
    return {pid: weight * (top - evidence[report_of[pid]]) for pid in scores}


def gather(reader: IndexReader, question: str, query_vector: np.ndarray | None, mode: str,
           report_ids: set[int] | None, params: RankingParams = DEFAULT_PARAMS, *, named: bool = False) -> Candidates:
    """Dense and lexical candidates for the question, within ``report_ids`` (None: everywhere).
    ``named``: ``report_ids`` are reports the question was narrowed to; the dense search then
    discounts what they have in common (``RankingParams.named_centroid_weight``), so the dense
    scores are not cosines."""
    dense: list[tuple[int, float]] = []
    lexical: list[tuple[int, float]] = []
    if mode in ("hybrid", "dense") and query_vector is not None:
        if named and report_ids:
            centroids = [reader.report_centroid(rid) for rid in sorted(report_ids)]
            query_vector = discounted(query_vector, centroids, params.named_centroid_weight)
        dense = dense_candidates(reader, query_vector, params.candidates, report_ids)
    if mode in ("hybrid", "lexical"):
        lexical = reader.lexical(fts_query(question), params.candidates, report_ids)
    ids = {pid for pid, _ in dense} | {pid for pid, _ in lexical}
    flags = {f.paragraph_id: f for f in reader.paragraph_flags(ids)}
    counts = {f.report_id: reader.numbered_count(f.report_id) for f in flags.values()}
    return Candidates(dense, lexical, flags, counts)


def rank(c: Candidates, mode: str = "hybrid", *, named: bool = False,
         params: RankingParams = DEFAULT_PARAMS) -> list[tuple[int, float]]:
    """Fuse, apply the block prior and the report evidence: (paragraph id, score), best first."""
    if mode == "dense":
        scores = dict(c.dense)
    elif mode == "lexical":
        scores = linear_fusion([], c.lexical, 1.0)
    else:
        weight = params.lexical_weight_named if named else params.lexical_weight
        scores = linear_fusion(c.dense, c.lexical, weight)
    penalised = dict(apply_penalties(scores, block_penalties(c, params)))
    report_of = {pid: flags.report_id for pid, flags in c.flags.items()}
    evidence = report_evidence(penalised, report_of, params.report_top_m, 0.0 if named else params.report_weight)
    return apply_penalties(penalised, evidence)


def best_cosine(reader: IndexReader, paragraph_id: int, query_vector: np.ndarray) -> float:
    """The paragraph's best window's cosine similarity to the question (0 without windows)."""
    return max((float(vector @ query_vector) for _, vector in reader.windows_of(paragraph_id)), default=0.0)


def refill_report_places(ranked: Sequence[tuple[int, float]], report_of: Mapping[int, int],
                         named_order: Callable[[int], Sequence[int]], places: int) -> list[tuple[int, float]]:
    """The first ``places`` places of ``ranked`` keep their report, each taking that report's next
    paragraph in ``named_order(report id)`` (its report-named ranking) not yet placed; the rest of
    ``ranked`` follows without the paragraphs already placed. Each place keeps the score it had, so
    scores still fall down the list."""
    placed: list[int] = []
    for pid, _ in ranked[:places]:
        pick = next((p for p in named_order(report_of[pid]) if p not in placed), pid)
        if pick not in placed:
            placed.append(pick)
    order = placed + [pid for pid, _ in ranked if pid not in placed]
    scores = [score for _, score in ranked]
    if len(order) > len(scores):
        scores += [scores[-1]] * (len(order) - len(scores))
    return list(zip(order, scores, strict=True))


PARTS_LOOKAHEAD = 3
"""Ranked candidates looked at per hit wanted, so that k hits remain once the parts of one long
printed paragraph are folded into its best part."""


def one_per_printed_paragraph(ranked: Sequence[tuple[int, float]],
                              paragraphs: Mapping[int, Paragraph]) -> list[tuple[int, float]]:
    """Keep the best-scoring piece of a printed paragraph that was cut into parts (its numbered
    head, or a block whose ``part_of`` names it): a member sees "para 2.1" once, and the other
    places go to other paragraphs. Two numbered paragraphs that merely share a label (minutes
    restarting their numbers) both stay. Round-3 dev set, mpnet, report named: 18 of 141
    questions had a label twice in their top 5."""
    seen: set[tuple[str, str]] = set()
    seen_parts: set[tuple[str, str]] = set()
    out = []
    for pid, score in ranked:
        p = paragraphs.get(pid)
        if p is not None and p.part_of:
            key = (p.source, p.part_of)
            if key in seen:
                continue
            seen.add(key)
            seen_parts.add(key)
        elif p is not None and p.numbered:
            key = (p.source, p.label)
            if key in seen_parts:
                continue
            seen.add(key)
        out.append((pid, score))
    return out


def retrieve(
    reader: IndexReader,
    embedder: Embedder | None,
    question: str,
    *,
    k: int = 10,
    mode: str = "hybrid",
    filters: Filters = Filters(),
    query_vector: np.ndarray | None = None,
    params: RankingParams = DEFAULT_PARAMS,
) -> list[Hit]:
    """The ``k`` best paragraphs for ``question``, best first. ``embedder`` None: the index's own
    model. ``query_vector``: the question already embedded by the caller, so it is not embedded
    twice."""
    if mode not in MODES:
        raise CouncilQAError(f"unknown mode {mode!r} (choose from {', '.join(MODES)})")
    if not question.strip():
        raise CouncilQAError("the question is empty")
    report_ids = reader.allowed_report_ids(filters)
    if mode != "lexical" and query_vector is None:
        query_vector = (embedder or reader.embedder).encode([question])[0]
    named = bool(filters.reports)
    c = gather(reader, question, query_vector, mode, report_ids, params, named=named)
    ranked = rank(c, mode, named=named, params=params)[: k * PARTS_LOOKAHEAD]
    if not named and mode == "hybrid" and params.report_places and query_vector is not None:
        orders: dict[int, list[int]] = {}  # the top places often share a report: searched once

        def named_order(rid: int) -> list[int]:
            if rid not in orders:
                within = gather(reader, question, query_vector, mode, {rid}, params, named=True)
                orders[rid] = [pid for pid, _ in rank(within, mode, named=True, params=params)[:params.report_places]]
            return orders[rid]

        report_of = {pid: flags.report_id for pid, flags in c.flags.items()}
        ranked = refill_report_places(ranked, report_of, named_order, params.report_places)
    info = reader.paragraphs(pid for pid, _ in ranked)
    top = one_per_printed_paragraph(ranked, {pid: paragraph for pid, (paragraph, _, _) in info.items()})[:k]
    dense_of, lexical_of = dict(c.dense), dict(c.lexical)
    if named and query_vector is not None and params.named_centroid_weight:
        dense_of = {pid: best_cosine(reader, pid, query_vector) for pid, _ in top}  # the scores were discounted
    elif query_vector is not None and params.report_places:  # a place refilled from a report's own search
        dense_of |= {pid: best_cosine(reader, pid, query_vector) for pid, _ in top if pid not in dense_of}
    hits = []
    for pid, score in top:
        paragraph, report, ambiguous = info[pid]
        hits.append(
            Hit(paragraph, float(score), report, ambiguous, dense_of.get(pid, 0.0), lexical_of.get(pid, 0.0), pid)
        )
    return hits
