"""Extractive, cited answers: nothing is generated, every sentence shown is quoted."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

import numpy as np

from ingest.embed import Embedder, load_query_embedder, split_sentences
from ingest.models import second_judge_of
from qa import wording
from qa.decline import decline_params, evidence, should_decline
from qa.records import Answer, Citation, Filters, Hit
from qa.retrieve import query_terms, retrieve
from qa.sentences import (
    Wants,
    asks_for_contact,
    dangles,
    lead_in,
    lexical_overlap,
    missing,
    quotable,
    score_sentences,
    wants,
    without_trailing_label,
)
from qa.store import IndexReader

MAX_ANSWER_SENTENCES = 3
NEAR_BEST = 0.85
"""Further sentences are quoted when they score at least this share of the best one."""
SENTENCE_POOL = 5
"""Answer sentences are taken from this many top paragraphs (dev set, MiniLM, whole shared corpus:
the answer held the gold quote for 0.379 of questions from the best report's top 3 paragraphs,
0.411 from the top 3 of any report, 0.432 from the top 5)."""
MAX_SENTENCES_PER_PARAGRAPH = 40
BEST_WINDOWS = 4
"""Answer sentences are looked for in this many best-matching windows of each paragraph. With 2, 8
dev questions had the gold quote in a cited paragraph but outside its 2 best windows; with the two
judges (mpnet index, dev set): 0.489 at 2, 0.511 at 4 (holdout, reported only: 0.587 both), for
about 0.2 s more per answer (40 dev questions back to back: p50 0.75 -> 0.98 s)."""
NO_ANSWER = wording.NO_ANSWER
JUDGES_NOTE = """With an index built with a key of ``ingest.models.SECOND_JUDGE`` (mpnet), a second
bundled model (MiniLM) also judges the candidate sentences: a sentence is then chosen by the mean of
the two models' cosines (plus the question's words and the kind of fact). Dev set, whole shared
corpus, mpnet index, the answer holds the gold quote: 0.454 by mpnet alone, 0.489 by MiniLM alone,
0.468 / 0.489 / 0.496 with MiniLM's share at 0.2 / 0.5 / 0.6; reported only, the holdout: 0.587
alone, 0.543 by MiniLM alone, 0.587 at 0.2-0.6. The even mean is used. Declining still reads the
index model's own score, as calibrated."""

_judges: dict[str, Embedder] = {}
_judges_lock = threading.Lock()


def second_judge(embedder: Embedder, index_model: str) -> Embedder | None:
    """The model that judges sentences beside ``embedder`` (:data:`JUDGES_NOTE`), loaded once from
    its local package; None for other models, and when ``embedder`` is not the index's own model
    (a test's stand-in)."""
    name = second_judge_of(index_model)
    if name is None or embedder.name != index_model:
        return None
    with _judges_lock:
        if name not in _judges:
            _judges[name] = load_query_embedder(name)
        return _judges[name]


def cite(hit: Hit) -> str:
    """"Annual Report of the Chief Executive, 13 Feb 2020, para 9"."""
    p = hit.paragraph
    label = p.cited_label if (p.numbered or p.part_of) else f"p{p.page}-0"
    r = hit.report
    return wording.cite(r.title, r.date, label, p.page, heading=p.heading, ambiguous=hit.ambiguous_label,
                        listing=(r.committee, r.meeting_date, r.item) if r.meeting_date else None,
                        scanned=p.scanned, part=bool(p.part_of))


@dataclass(frozen=True)
class Candidate:
    """A sentence that may be quoted: which hit and where in its paragraph it stands."""

    hit: int
    position: int
    sentence: str
    score: float = 0.0
    """What the sentence is chosen by (both judges' mean cosine, the question's words, the fact kind)."""
    typed: bool = False
    own: float = 0.0
    """The same by the index's own model alone: what declining is calibrated on."""


def _candidate_sentences(reader: IndexReader, hit: Hit, question_vector: np.ndarray) -> list[tuple[int, str]]:
    """(position, sentence) of the paragraph's best-matching windows (their stored vectors say
    which), so a 600-word paragraph costs a handful of sentence embeddings, not forty."""
    sentences = split_sentences(hit.paragraph.text)[:MAX_SENTENCES_PER_PARAGRAPH]
    windows = reader.windows_of(hit.paragraph_id) if hit.paragraph_id else []
    if len(windows) <= BEST_WINDOWS:
        return list(enumerate(sentences))
    ranked = sorted(windows, key=lambda w: -float(w[1] @ question_vector))[:BEST_WINDOWS]
    wanted = {s for text, _ in ranked for s in split_sentences(text)}
    return [(i, s) for i, s in enumerate(sentences) if s in wanted]


def _sentence_pool(reader: IndexReader, embedder: Embedder, hits: list[Hit], qv: np.ndarray,
                   terms: list[str], kinds: frozenset[Wants], contact_ok: bool = False,
                   judge: tuple[Embedder, str] | None = None) -> list[Candidate]:
    """Quotable sentences of the best paragraphs (not of blocks that read like a table), scored
    (see :mod:`qa.sentences`); ``judge``: a second model and the question, whose cosines are
    averaged with the index model's."""
    top = hits[:SENTENCE_POOL]
    tables = {f.paragraph_id for f in reader.paragraph_flags(h.paragraph_id for h in top) if f.tabular}
    names_ok = Wants.PERSON in kinds
    pool = [Candidate(i, pos, without_trailing_label(s)) for i, hit in enumerate(top)
            if hit.paragraph_id not in tables for pos, s in _candidate_sentences(reader, hit, qv)
            if quotable(s, contact_ok=contact_ok, names_ok=names_ok)]
    if not pool:
        return pool
    sentences = [c.sentence for c in pool]
    cosines = embedder.encode(sentences) @ qv
    overlaps = np.array([lexical_overlap(terms, s) for s in sentences])
    typed = np.array([bool(kinds) and not missing(s, kinds) for s in sentences], dtype=float)
    own = score_sentences(cosines, overlaps, typed)
    if judge is not None:
        vectors = judge[0].encode([judge[1], *sentences])
        cosines = (cosines + vectors[1:] @ vectors[0]) / 2
    scores = score_sentences(cosines, overlaps, typed)
    return [Candidate(c.hit, c.position, c.sentence, float(score), bool(t), float(o))
            for c, score, t, o in zip(pool, scores, typed, own, strict=True)]


def _highlights(hits: list[Hit], pool: list[Candidate], terms: list[str]) -> dict[int, str]:
    """Each citation's marked sentence: its best-scoring one, else the one sharing most words."""
    best: dict[int, Candidate] = {}
    for c in pool:
        if c.hit not in best or c.score > best[c.hit].score:
            best[c.hit] = c
    highlights = {}
    for i, hit in enumerate(hits):
        if i in best:
            highlights[i] = best[i].sentence
        else:
            sentences = split_sentences(hit.paragraph.text) or [hit.paragraph.text]
            highlights[i] = max(sentences, key=lambda s: lexical_overlap(terms, s))
    return highlights


def _citation(rank: int, hit: Hit, highlight: str) -> Citation:
    return Citation(
        rank=rank,
        source=hit.paragraph.source,
        title=hit.report.title,
        date=hit.report.date,
        paragraph=hit.paragraph.cited_label,
        heading=hit.paragraph.heading,
        page=hit.paragraph.page,
        score=round(hit.score, 4),
        text=hit.paragraph.text,
        highlight=highlight,
        council=hit.report.council,
        cite=cite(hit),
        committee=hit.report.committee,
        meeting_date=hit.report.meeting_date,
        item=hit.report.item,
        scanned=hit.paragraph.scanned,
    )


def _with_next(c: Candidate, hits: list[Hit], kinds: frozenset[Wants],
               contact_ok: bool = False) -> list[tuple[int, str]]:
    """The sentence, and the one after it when that one holds a fact asked for that this lacks
    ("launched on 1 October." "More than 700 staff were transferred …"), when this one is a
    lead-in ending in a colon ("There are two Planning Committees:"), or, for an open
    question ("what happened at North Bromsgrove High School?"), always: the sentence that names
    the topic is often followed by the one that says what came of it ("In May 2019 Ofsted
    inspected …" "The school has improved to Requires Improvement to be Good.")."""
    quoted = [(c.hit, c.sentence)]
    lacking = missing(c.sentence, kinds)
    introduces = lead_in(c.sentence)  # "There are two Planning Committees:" runs on into them
    if kinds and not lacking and not introduces:
        return quoted
    sentences = split_sentences(hits[c.hit].paragraph.text)
    if c.position + 1 < len(sentences):
        following = without_trailing_label(sentences[c.position + 1])
        adds = introduces or not kinds or missing(following, lacking) != lacking
        if quotable(following, contact_ok=contact_ok) and adds:
            quoted.append((c.hit, following))
    return quoted


def _choose(pool: list[Candidate], hits: list[Hit], kinds: frozenset[Wants],
            contact_ok: bool = False) -> list[tuple[int, str]]:
    """The best sentence (with the next when the answer runs on), then up to two more that score
    nearly as well. Nothing is quoted that would dangle (:func:`qa.sentences.dangles`): a lead-in is
    no candidate unless it gives a count ("four key strategic priorities:", :func:`qa.sentences.prose_like`;
    not "... in the 6 months to 30 September is as follows:", whose table cannot be quoted), and a
    further sentence that runs on to what follows it is not added ("c) ... the Ofsted reinspection;
    and")."""
    if not pool:  # no prose in the best paragraphs (a table, a list of names)
        first = split_sentences(hits[0].paragraph.text) or [hits[0].paragraph.text]
        return [(0, first[0])]
    ranked = sorted(pool, key=lambda c: -c.score)
    best, chosen = ranked[0], _with_next(ranked[0], hits, kinds, contact_ok)
    for c in ranked:
        if len(chosen) >= MAX_ANSWER_SENTENCES or c.score < NEAR_BEST * best.score:
            break
        if not dangles(c.sentence) and all(c.sentence != s for _, s in chosen):
            chosen.append((c.hit, c.sentence))
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
    """The top ``k`` cited paragraphs and an answer of 1 to 3 quoted sentences, or a declined
    answer with the closest paragraphs. ``embedder`` None: the index's own model."""
    embedder = embedder or reader.embedder
    qv = embedder.encode([question])[0]
    hits = retrieve(reader, embedder, question, k=k, mode=mode, filters=filters, query_vector=qv)
    if not hits:
        return Answer(question, NO_ANSWER, True, ())
    terms = query_terms(question)
    kinds = wants(question)
    contact_ok = asks_for_contact(question)
    judge = second_judge(embedder, reader.model_name)
    pool = _sentence_pool(reader, embedder, hits, qv, terms, kinds, contact_ok,
                          (judge, question) if judge is not None else None)
    highlights = _highlights(hits, pool, terms)
    citations = tuple(_citation(i + 1, hit, highlights[i]) for i, hit in enumerate(hits))
    why = evidence(reader, question, hits, pool, terms)
    if should_decline(why, decline_params(reader.model_name)):
        return Answer(question, NO_ANSWER, True, citations, asdict(why))
    chosen = _choose(pool, hits, kinds, contact_ok)
    text = " ".join(f"{sentence} [{i + 1}]" for i, sentence in chosen)
    return Answer(question, text, False, citations, asdict(why))
