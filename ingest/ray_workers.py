"""Distributed ingest on Ray: each file is read, segmented and its windows embedded by a Ray task.

A task reads its file through the same bounded reader as a local ingest (:mod:`ingest.isolate`: a
child process limited in time and memory, OCR inside), cuts the windows exactly as the sinks do
(:meth:`ingest.index_format.BuildParams.windows`) and embeds them
with the model loaded once per Ray worker process. The driver gets the report and its vectors back
in file order and commits them once through the normal sink (local or Milvus), which asks
:class:`PrecomputedEmbedder` for the vectors instead of embedding again.

A task that raises (a worker killed, a node lost, an error) is retried ``RETRIES`` times by Ray; one
that still fails is reported as a failed file with its reason and the rest go on. A file that cannot
be read is no failure of the task: it comes back as its one-line reason, as in a local ingest.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ingest.errors import CouncilQAError, UnreadableReport
from ingest.records import Report

if TYPE_CHECKING:
    from ingest.embed import Embedder
    from ingest.ocr import OcrSettings

RETRIES = 2
"""Ray re-runs a failed task this many times before its file is reported as failed."""
IN_FLIGHT_PER_WORKER = 2
"""Tasks submitted ahead per worker: enough to keep each busy while the driver commits, few enough
that finished vectors do not pile up in the object store."""
OBJECT_STORE_MB = 256
"""A local cluster's object store: a 1,000-window report's vectors are 3 MB at 768-d."""

_MODELS: dict[str, Embedder] = {}
"""The model of each Ray worker process, loaded by its first task."""


def parse_workers(spec: str) -> str | None:
    """``ray`` (a local Ray started here: None) or ``ray:ADDRESS`` (a cluster, e.g. ``ray:10.0.0.5:6379``
    or ``ray:auto``)."""
    if spec == "ray":
        return None
    if spec.startswith("ray:") and len(spec) > 4:
        return spec[4:]
    raise CouncilQAError(f"--workers {spec!r}: give ray (a local Ray) or ray:ADDRESS (a Ray cluster)")


def _model(name: str, threads: int) -> Embedder:
    model = _MODELS.get(name)
    if model is None:
        import torch

        from ingest.embed import load_embedder

        torch.set_num_threads(threads)  # one CPU per task: workers do not fight over cores
        model = _MODELS[name] = load_embedder(name)
    return model


def embed_file(path: str, model: str, ocr: OcrSettings | None, threads: int = 1) -> dict:
    """The Ray task: one file read (bounded), its windows cut and embedded. Returns ``{"report",
    "texts", "vectors", "dimension"}``, or ``{"reason"}`` for a file that cannot be read."""
    from ingest.embed import encode_once
    from ingest.index_format import current_params
    from ingest.isolate import read_reports

    reads = read_reports([Path(path)], ocr=ocr)
    try:
        _, outcome = next(reads)
    finally:
        reads.close()
    if isinstance(outcome, UnreadableReport):
        return {"reason": outcome.reason}
    windowing = current_params(model, 0)  # a new index's windows; an older index's own are embedded by the driver
    texts = [embedded for p in outcome.paragraphs for _, embedded in windowing.windows(p.text, p.heading)]
    embedder = _model(model, threads)
    return {"report": outcome, "texts": texts, "vectors": encode_once(embedder, texts), "dimension": embedder.dimension}


class PrecomputedEmbedder:
    """The vectors the Ray tasks made, by window text; a text they did not embed (none, normally) is
    embedded here with the model itself, loaded only then."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.vectors: dict[str, np.ndarray] = {}
        self._dimension: int | None = None
        self._model: Embedder | None = None

    def add(self, texts: Sequence[str], vectors: np.ndarray, dimension: int) -> None:
        self._dimension = dimension
        self.vectors.update(zip(texts, np.asarray(vectors, dtype=np.float32), strict=True))

    def _local(self) -> Embedder:
        if self._model is None:
            from ingest.embed import load_embedder

            self._model = load_embedder(self.name)
        return self._model

    @property
    def dimension(self) -> int:
        return self._dimension if self._dimension is not None else self._local().dimension

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self._local().encode(missing), strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(np.stack([self.vectors[t] for t in texts]), dtype=np.float32)


def _ray():  # noqa: ANN202 - the ray module
    try:
        import ray
    except ImportError as exc:
        raise CouncilQAError("--workers ray needs Ray: pip install ray") from exc
    return ray


def _start_ray(address: str | None, cpus: int | None) -> bool:
    """Connect to ``address``, or start a local Ray of ``cpus`` CPUs; True when started here."""
    ray = _ray()

    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report over the network
    kwargs: dict = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.CRITICAL,
                    "configure_logging": True}
    if address is None:
        kwargs.update(num_cpus=cpus or os.cpu_count() or 1, object_store_memory=OBJECT_STORE_MB * 2**20)
    try:
        ray.init(address=address, **kwargs)
    except Exception as exc:  # noqa: BLE001 - Ray raises bare Exception on a start-up timeout: worded, not swallowed
        raise CouncilQAError(f"Ray at {address or 'this machine'} cannot be started or reached "
                             f"({' '.join(str(exc).split())[:200]}); try again, or ingest without --workers") from exc
    return True


def read_and_embed(paths: Sequence[Path], workers: str, embedder: Embedder | None, model: str | None,
                   ocr: OcrSettings | None, cpus: int | None = None
                   ) -> tuple[Iterator[tuple[Path, Report | UnreadableReport]], PrecomputedEmbedder]:
    """Each file's report or reason, in order, read and embedded on Ray; and the embedder holding
    their vectors for the sink. Ray starts only when the iterator is first read (nothing to read:
    no Ray)."""
    from ingest.embed import DEFAULT_MODEL

    address = parse_workers(workers)
    if embedder is not None:
        raise CouncilQAError("--workers ray loads the model by name in each Ray worker: give a model name")
    precomputed = PrecomputedEmbedder(model or DEFAULT_MODEL)
    return _results(list(paths), address, precomputed, ocr, cpus), precomputed


def _results(paths: list[Path], address: str | None, into: PrecomputedEmbedder, ocr: OcrSettings | None,
             cpus: int | None) -> Iterator[tuple[Path, Report | UnreadableReport]]:
    if not paths:
        return
    ray = _ray()
    started = _start_ray(address, cpus)
    try:
        task = ray.remote(num_cpus=1, max_retries=RETRIES, retry_exceptions=True)(embed_file)
        width = max(1, int(ray.cluster_resources().get("CPU", 1))) * IN_FLIGHT_PER_WORKER
        pending = [task.remote(str(p), into.name, ocr) for p in paths[:width]]
        for n, path in enumerate(paths):
            if n + width < len(paths):
                pending.append(task.remote(str(paths[n + width]), into.name, ocr))
            yield path, _outcome(path, pending[n], into)
            pending[n] = None  # the driver holds no finished vectors twice
    finally:
        if started:
            ray.shutdown()


def _outcome(path: Path, ref: object, into: PrecomputedEmbedder) -> Report | UnreadableReport:
    import ray
    from ray.exceptions import RayError

    try:
        result = ray.get(ref)
    except RayError as exc:
        cause = " ".join(str(getattr(exc, "cause", None) or exc).split())
        return UnreadableReport(path.name, f"failed on Ray after {RETRIES + 1} tries ({cause[:200]})")
    if "reason" in result:
        return UnreadableReport(path.name, result["reason"])
    into.add(result["texts"], result["vectors"], result["dimension"])
    return result["report"]
