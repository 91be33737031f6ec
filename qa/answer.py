"""Extractive, cited answers: nothing is generated, every sentence shown is quoted."""

from __future__ import annotations

import numpy as np

from ingest.embed import Embedder, split_sentences
from qa.draft import short_date
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
NO_ANSWER = (
    "No paragraph in the indexed reports clearly answers this question. "
    "The closest paragraphs are listed below."
)


def format_date(iso: str | None) -> str:
    """``2020-02-13`` -> ``13 Feb 2020``; "undated" when the report has no date."""
    return short_date(iso) or "undated"


def cite(hit: Hit) -> str:
    """"Annual Report of the Chief Executive, 13 Feb 2020, para 9"."""
    p = hit.paragraph
    where = f"para {p.label}" if p.numbered else f"page {p.page}"
    if p.numbered and hit.ambiguous_label and p.heading:
        where += f" ({p.heading})"
    return f"{hit.report.title}, {format_date(hit.report.date)}, {where}"


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


def answer(
    reader: IndexReader,
    embedder: Embedder,
    question: str,
    *,
    k: int = 5,
    filters: Filters = Filters(),
    mode: str = "hybrid",
) -> Answer:
    """The top ``k`` cited paragraphs and an answer of 1 to 3 quoted sentences."""
    qv = embedder.encode([question])[0]
    hits = retrieve(reader, embedder, question, k=k, mode=mode, filters=filters, query_vector=qv)
    if not hits:
        return Answer(question, NO_ANSWER, True, ())
    terms = query_terms(question)
    # Only the top paragraphs' sentences are embedded (the answer is drawn from them); the
    # highlight of any other citation is its sentence sharing most words with the question.
    pool: list[tuple[int, str]] = []  # (hit index, sentence)
    for i, hit in enumerate(hits[:SENTENCE_POOL]):
        for sentence in _candidate_sentences(reader, hit, qv):
            if _answer_like(sentence):
                pool.append((i, sentence))
    sv = embedder.encode([s for _, s in pool]) if pool else np.zeros((0, qv.shape[0]), dtype=np.float32)
    overlaps = np.array([_lexical_overlap(terms, s) for _, s in pool])
    scores = score_sentences(qv, sv, overlaps) if pool else np.zeros(0)

    best_for_hit: dict[int, tuple[float, str]] = {}
    for (i, sentence), score in zip(pool, scores, strict=True):
        if i not in best_for_hit or score > best_for_hit[i][0]:
            best_for_hit[i] = (float(score), sentence)
    highlights = {}
    for i, hit in enumerate(hits):
        if i in best_for_hit:
            highlights[i] = best_for_hit[i][1]
        else:
            sentences = split_sentences(hit.paragraph.text) or [hit.paragraph.text]
            highlights[i] = max(sentences, key=lambda s: _lexical_overlap(terms, s))

    citations = tuple(
        Citation(
            rank=i + 1,
            source=hit.paragraph.source,
            title=hit.report.title,
            date=hit.report.date,
            paragraph=hit.paragraph.label,
            heading=hit.paragraph.heading,
            page=hit.paragraph.page,
            score=round(hit.score, 4),
            text=hit.paragraph.text,
            highlight=highlights[i],
            council=hit.report.council,
            cite=cite(hit),
        )
        for i, hit in enumerate(hits)
    )
    if max(hit.dense for hit in hits) < ABSTAIN_BELOW:
        return Answer(question, NO_ANSWER, True, citations)

    # The first sentence comes from the best paragraph; up to two more from the pool
    # when they score nearly as well, each followed by its citation marker.
    chosen: list[tuple[int, str]] = []
    if 0 in best_for_hit:
        chosen.append((0, best_for_hit[0][1]))
    ranked = sorted(
        ((score, i, s) for (i, s), score in zip(pool, scores, strict=True) if i < SENTENCE_POOL),
        key=lambda t: -t[0],
    )
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
    text = " ".join(f"{sentence} [{i + 1}]" for i, sentence in chosen)
    return Answer(question, text, False, citations)
