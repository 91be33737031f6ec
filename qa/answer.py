"""Extractive, cited answers: nothing is generated, every sentence shown is quoted."""

from __future__ import annotations

import numpy as np

from ingest.embed import Embedder, split_sentences
from qa import wording
from qa.records import Answer, Citation, Filters, Hit
from qa.retrieve import query_terms, retrieve
from qa.store import IndexReader

ABSTAIN_BELOW = 0.33
"""Abstain when no cited paragraph has a window at least this similar to the question.
Calibrated over the shared corpus: the 69 dev questions score 0.34 to 0.80 (5th percentile
0.41), 14 of 15 off-topic questions ("how tall is Mount Everest?") score 0.00 to 0.32."""
MAX_ANSWER_SENTENCES = 3
SENTENCE_POOL = 3
"""Answer sentences are taken from this many top paragraphs."""
MAX_SENTENCES_PER_PARAGRAPH = 40
BEST_WINDOWS = 2
"""Answer sentences are looked for in this many best-matching windows of each paragraph."""
NO_ANSWER = wording.NO_ANSWER


def cite(hit: Hit) -> str:
    """"Annual Report of the Chief Executive, 13 Feb 2020, para 9"."""
    p = hit.paragraph
    label = p.label if p.numbered else f"p{p.page}-0"
    return wording.cite(hit.report.title, hit.report.date, label, p.page, heading=p.heading,
                        ambiguous=hit.ambiguous_label)


def _lexical_overlap(terms: list[str], sentence: str) -> float:
    if not terms:
        return 0.0
    lowered = sentence.lower()
    return sum(1 for t in terms if t in lowered) / len(terms)


def score_sentences(
    question_vector: np.ndarray, sentence_vectors: np.ndarray, overlaps: np.ndarray
) -> np.ndarray:
    """Sentence score: cosine similarity plus a small bonus for the question's own words."""
    return sentence_vectors @ question_vector + 0.15 * overlaps


def _answer_like(sentence: str) -> bool:
    """A sentence that can stand as an answer: five words or more, not a lead-in ending in a
    colon ("Date of next meeting:", "The proposals centre on:")."""
    return len(sentence.split()) >= 5 and not sentence.rstrip().endswith(":")


def _candidate_sentences(reader: IndexReader, hit: Hit, question_vector: np.ndarray) -> list[str]:
    """The sentences of the paragraph's best-matching windows (their stored vectors say which),
    so a 600-word paragraph costs a handful of sentence embeddings, not forty."""
    windows = reader.windows_of(hit.paragraph_id) if hit.paragraph_id else []
    if len(windows) <= BEST_WINDOWS:
        return split_sentences(hit.paragraph.text)[:MAX_SENTENCES_PER_PARAGRAPH]
    ranked = sorted(windows, key=lambda w: -float(w[1] @ question_vector))[:BEST_WINDOWS]
    sentences: dict[str, None] = {}
    for text, _ in ranked:
        for sentence in split_sentences(text):
            sentences.setdefault(sentence, None)
    return list(sentences)


def _sentence_pool(
    reader: IndexReader, embedder: Embedder, hits: list[Hit], qv: np.ndarray, terms: list[str]
) -> tuple[list[tuple[int, str]], np.ndarray]:
    """Answer-like sentences of the top paragraphs, (hit index, sentence), and their scores."""
    pool: list[tuple[int, str]] = []
    for i, hit in enumerate(hits[:SENTENCE_POOL]):
        for sentence in _candidate_sentences(reader, hit, qv):
            if _answer_like(sentence):
                pool.append((i, sentence))
    if not pool:
        return pool, np.zeros(0)
    sv = embedder.encode([s for _, s in pool])
    overlaps = np.array([_lexical_overlap(terms, s) for _, s in pool])
    return pool, score_sentences(qv, sv, overlaps)


def _highlights(hits: list[Hit], best_for_hit: dict[int, tuple[float, str]], terms: list[str]) -> dict[int, str]:
    """Each citation's marked sentence: its best-scoring one, else the one sharing most words."""
    highlights = {}
    for i, hit in enumerate(hits):
        if i in best_for_hit:
            highlights[i] = best_for_hit[i][1]
        else:
            sentences = split_sentences(hit.paragraph.text) or [hit.paragraph.text]
            highlights[i] = max(sentences, key=lambda s: _lexical_overlap(terms, s))
    return highlights


def _citation(rank: int, hit: Hit, highlight: str) -> Citation:
    return Citation(
        rank=rank,
        source=hit.paragraph.source,
        title=hit.report.title,
        date=hit.report.date,
        paragraph=hit.paragraph.label,
        heading=hit.paragraph.heading,
        page=hit.paragraph.page,
        score=round(hit.score, 4),
        text=hit.paragraph.text,
        highlight=highlight,
        council=hit.report.council,
        cite=cite(hit),
    )


def _choose(pool: list[tuple[int, str]], scores: np.ndarray, best_for_hit: dict[int, tuple[float, str]],
            hits: list[Hit]) -> list[tuple[int, str]]:
    """The first sentence comes from the best paragraph; up to two more from the pool when they
    score nearly as well."""
    chosen: list[tuple[int, str]] = []
    if 0 in best_for_hit:
        chosen.append((0, best_for_hit[0][1]))
    ranked = sorted(((score, i, s) for (i, s), score in zip(pool, scores, strict=True)), key=lambda t: -t[0])
    top_score = ranked[0][0] if ranked else 0.0
    for score, i, sentence in ranked:
        if len(chosen) >= MAX_ANSWER_SENTENCES:
            break
        if any(sentence == s for _, s in chosen) or score < 0.85 * top_score:
            continue
        chosen.append((i, sentence))
    if not chosen:  # no full sentence in the best paragraphs (a table, a list of names)
        first = split_sentences(hits[0].paragraph.text) or [hits[0].paragraph.text]
        chosen.append((0, first[0]))
    return chosen


def answer(
    reader: IndexReader,
    embedder: Embedder | None,
    question: str,
    *,
    k: int = 5,
    filters: Filters = Filters(),
    mode: str = "hybrid",
) -> Answer:
    """The top ``k`` cited paragraphs and an answer of 1 to 3 quoted sentences. ``embedder``
    None: the index's own model."""
    embedder = embedder or reader.embedder
    qv = embedder.encode([question])[0]
    hits = retrieve(reader, embedder, question, k=k, mode=mode, filters=filters, query_vector=qv)
    if not hits:
        return Answer(question, NO_ANSWER, True, ())
    terms = query_terms(question)
    pool, scores = _sentence_pool(reader, embedder, hits, qv, terms)
    best_for_hit: dict[int, tuple[float, str]] = {}
    for (i, sentence), score in zip(pool, scores, strict=True):
        if i not in best_for_hit or score > best_for_hit[i][0]:
            best_for_hit[i] = (float(score), sentence)
    highlights = _highlights(hits, best_for_hit, terms)
    citations = tuple(_citation(i + 1, hit, highlights[i]) for i, hit in enumerate(hits))
    if max(hit.dense for hit in hits) < ABSTAIN_BELOW:
        return Answer(question, NO_ANSWER, True, citations)
    chosen = _choose(pool, scores, best_for_hit, hits)
    text = " ".join(f"{sentence} [{i + 1}]" for i, sentence in chosen)
    return Answer(question, text, False, citations)
