"""Hybrid retrieval: dense (FAISS over sentence windows) fused with lexical (FTS5 BM25).

The maths is in small pure functions over arrays and lists; the index reader and the
embedder are passed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from ingest.embed import Embedder
from ingest.errors import CouncilQAError
from qa.records import Filters, Hit
from qa.store import IndexReader

MODES = ("hybrid", "dense", "lexical")
RRF_K = 60
LEXICAL_WEIGHT = 0.2
"""Hybrid score = best-window cosine + LEXICAL_WEIGHT x BM25 / (best BM25 for the question).
Tuned on corpus/eval/dev.jsonl over the whole shared corpus with bench/fusion.py: on one
index, MRR@10 was 0.40 for reciprocal rank fusion, 0.53 for RRF with the unnumbered prior
below, and 0.59 for this linear fusion with the prior."""
LEXICAL_WEIGHT_NAMED_REPORTS = 0.1
"""The lexical weight when the search is narrowed to named reports. Across the corpus the
report's own terms ("Liberata", "section 25") help pick the report; inside one report every
paragraph shares them and BM25 adds noise (dev set, report named: hit@5 0.913 at 0.1,
0.884 at 0.2)."""
UNNUMBERED_PENALTY = 0.2
"""Subtracted from an unnumbered block in a report that has numbered paragraphs: there such
blocks are cover sheets, tables and appendix pages, which otherwise match everything."""
UNNUMBERED_REPORT_PENALTY = 0.1
"""Subtracted from a block of a report printed without paragraph numbers (fewer than
NUMBERED_REPORT_MIN): smaller, since such a report has nothing else to cite."""
NUMBERED_REPORT_MIN = 5
TABLE_PENALTY = 0.1
"""Added for a block that reads like a table or chart (ingest.segment.looks_tabular). Dev set,
whole shared corpus: hybrid hit@5 0.743 -> 0.757, MRR@10 0.574 -> 0.584, and "what happened
to sickness absence?" no longer ranks Kent's health-plan table above the seed's para 9."""
CANDIDATES = 200
"""How many paragraphs each retriever hands to the fusion."""

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


def dense_candidates(
    reader: IndexReader, query_vector: np.ndarray, n: int, report_ids: set[int] | None
) -> list[tuple[int, float]]:
    import faiss

    total = reader.vectors.ntotal
    if total == 0:
        return []
    query = np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32)
    windows = min(total, n * 4)
    params = None
    if report_ids is not None:
        allowed = reader.window_ids_for_reports(report_ids)
        if allowed.size == 0:
            return []
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
        windows = min(windows, int(allowed.size))
    scores, ids = reader.vectors.search(query, windows, params=params)
    keep = ids[0] >= 0
    ids, scores = ids[0][keep], scores[0][keep]
    return best_per_paragraph(ids, scores, reader.window_paragraphs(ids))[:n]


def block_penalties(reader: IndexReader, paragraph_ids: Iterable[int]) -> dict[int, float]:
    """The ranking prior for unnumbered blocks (see UNNUMBERED_PENALTY and TABLE_PENALTY)."""
    penalties = {}
    for pid, report_id, numbered, tabular in reader.paragraph_flags(paragraph_ids):
        if not numbered:
            numbered_report = reader.numbered_count(report_id) >= NUMBERED_REPORT_MIN
            penalties[pid] = UNNUMBERED_PENALTY if numbered_report else UNNUMBERED_REPORT_PENALTY
            penalties[pid] += TABLE_PENALTY if tabular else 0.0
    return penalties


def retrieve(
    reader: IndexReader,
    embedder: Embedder | None,
    question: str,
    *,
    k: int = 10,
    mode: str = "hybrid",
    filters: Filters = Filters(),
    query_vector: np.ndarray | None = None,
) -> list[Hit]:
    """The ``k`` best paragraphs for ``question``, best first. ``embedder`` None: the index's own
    model. ``query_vector``: the question already embedded by the caller, so it is not embedded
    twice."""
    if mode not in MODES:
        raise CouncilQAError(f"unknown mode {mode!r} (choose from {', '.join(MODES)})")
    if not question.strip():
        raise CouncilQAError("the question is empty")
    report_ids = reader.allowed_report_ids(filters)
    dense: list[tuple[int, float]] = []
    lexical: list[tuple[int, float]] = []
    if mode in ("hybrid", "dense"):
        if query_vector is None:
            query_vector = (embedder or reader.embedder).encode([question])[0]
        dense = dense_candidates(reader, query_vector, CANDIDATES, report_ids)
    if mode in ("hybrid", "lexical"):
        lexical = reader.lexical(fts_query(question), CANDIDATES, report_ids)
    if mode == "dense":
        scores = dict(dense)
    elif mode == "lexical":
        scores = linear_fusion([], lexical, 1.0)
    else:
        weight = LEXICAL_WEIGHT_NAMED_REPORTS if filters.reports else LEXICAL_WEIGHT
        scores = linear_fusion(dense, lexical, weight)
    ranked = apply_penalties(scores, block_penalties(reader, scores.keys()))
    top = ranked[:k]
    info = reader.paragraphs(pid for pid, _ in top)
    dense_of, lexical_of = dict(dense), dict(lexical)
    hits = []
    for pid, score in top:
        paragraph, report, ambiguous = info[pid]
        hits.append(
            Hit(paragraph, float(score), report, ambiguous, dense_of.get(pid, 0.0), lexical_of.get(pid, 0.0), pid)
        )
    return hits
