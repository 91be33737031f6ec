"""The FAISS index of window vectors: exact below a size, IVF above it, chosen when a generation is sealed.

A generation's vectors are one of two kinds, recorded in the manifest under ``"vectors"``:

* ``{"kind": "flat"}``: ``IndexIDMap2(IndexFlatIP)``, exact search (an absent field means this,
  so every index written before IVF existed opens as it did);
* ``{"kind": "ivf", "nlist": L, "nprobe": P, "trained_on": N}``: ``IndexIVFFlat`` (inner
  product) with a hash-table direct map, so ``reconstruct`` by window id keeps working; its
  coarse centroids were trained on the N vectors the generation had when it was trained.

The writer edits either kind through :class:`EditableVectors` and calls :func:`finalise` before
writing; the reader calls :func:`prepare_for_search` after ``faiss.read_index`` and searches
with :func:`search`, which also handles a filter (a set of allowed window ids).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

IVF_THRESHOLD = 150_000
"""Vectors above which a generation is stored as IVF. Exact search (IndexFlatIP, 768 dimensions,
800 neighbours, one query, 2 cores, ``bench/scale.py threshold``) took p95 26 ms at 100k vectors
(load ~1), and on the shared machine (load 2-9) 140 ms at 200k, 392 ms at 1M and 3.5 s at the
2.5M windows of 1M paragraphs: it is memory-bound (~3 KB per vector), so ~50 ms of the 150 ms
whole-retrieve budget is passed near 150k-200k vectors at best. The shared corpus (12k windows)
stays exact; 384-dimension models could double it."""
FLAT_BELOW = IVF_THRESHOLD // 2
"""An IVF generation shrunk below this (reports removed) goes back to exact search; the gap
stops a generation near the threshold flipping kind on every ingest."""
RETRAIN_GROWTH = 4.0
"""An IVF generation is retrained (new centroids) once it holds this many times the vectors it
was trained on: lists grow with the data, and nlist ~ sqrt(n) wants to double by then."""
NPROBE = 128
"""Lists probed per query. Synthetic 1M-paragraph index (2.5M windows, 768-d: real mpnet window
vectors recombined plus noise, IVF1586; 20 dev questions, 800 neighbours, load ~8,
``bench/scale.py query``): recall@10 against exact search 0.940 at nprobe 32, 0.945 at 48, 0.955
at 64, 0.960 at 96, 1.000 at 128 (window search p95 24 / 36 / 47 / 69 / 87 ms). The synthetic
set is pessimistic: ~200 noisy near-copies of each real window tie for the top 10. Re-measured
at load ~1 over 100 questions, lists scanned by both cores: 0.951 / 0.968 / 0.973 / 0.991 at 32 /
64 / 96 / 128 (p95 9 / 16 / 15 / 18 ms), 0.998 at 192 (25 ms)."""
PARALLEL_LISTS = 1
"""FAISS ``parallel_mode`` 1: one question's probed lists are shared out among the cores (mode 0,
FAISS's default, gives each core whole questions, so a single question used one core). At a
million paragraphs (2.5M windows, IVF1583, nprobe 128, load ~1, ``bench/scale.py query``) hybrid
retrieve went from p50 62 / p95 147 ms to p50 46 / p95 127 ms; the same lists are scanned, so the
same windows are found."""
TRAIN_PER_LIST = 40
"""Training sample per list: FAISS warns below 39 points per centroid."""
FILTER_NPROBE_MAX_SCALE = 64
"""A filtered IVF search probes nprobe x (index size / allowed windows) lists, at most this many
times nprobe (or every list): a filter keeps only the allowed windows of each list, so a narrow
one needs more lists to find as many. Probing every list with one report's 808 windows allowed
took 4 ms on a 202k-vector IVF449 index (load 9), as fast as the unfiltered search."""


def nlist_for(count: int) -> int:
    """Number of IVF lists for ``count`` vectors: sqrt(n) (FAISS guidance is 1-16 x sqrt(n);
    training costs grow with nlist squared: 1 x sqrt(n) = 1,586 lists for 2.5M 768-d vectors
    trained in 217 s and filled in 560 s more on 2 cores at load ~9, ``bench/scale.py build``)."""
    return max(1, int(round(math.sqrt(count))))


def spec_of(manifest: dict | None) -> dict:
    """The vectors' kind and settings recorded in a manifest; absent (older indexes): flat."""
    spec = (manifest or {}).get("vectors") or {}
    return dict(spec) if spec.get("kind") == "ivf" else {"kind": "flat"}


def faiss_name(spec: dict) -> str:
    """The manifest's ``faiss_index`` description of a spec."""
    if spec.get("kind") == "ivf":
        return f"IndexIVFFlat(IP, nlist={spec['nlist']}, direct map hashtable)"
    return "IndexIDMap2(IndexFlatIP)"


def empty_flat(dimension: int):  # noqa: ANN201 - faiss has no type stubs
    import faiss

    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


def is_ivf(index) -> bool:  # noqa: ANN001 - a faiss index
    import faiss

    return isinstance(index, faiss.IndexIVF)


def iter_vectors(index, chunk: int = 200_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:  # noqa: ANN001
    """(ids, vectors) of a flat (IDMap2) or IVF index, a chunk (flat) or a list (IVF) at a time,
    so an index can be rebuilt without a second full copy in memory."""
    import faiss

    if not is_ivf(index):
        ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        for start in range(0, int(index.ntotal), chunk):
            stop = min(int(index.ntotal), start + chunk)
            yield ids[start:stop], index.index.reconstruct_n(start, stop - start)
        return
    from faiss.contrib.inspect_tools import get_invlist

    for lst in range(index.nlist):
        ids, codes = get_invlist(index.invlists, lst)
        if len(ids):
            yield ids.astype(np.int64), codes.view(np.float32).reshape(len(ids), index.d)


def all_vectors(index) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001 - a faiss index
    """(ids, vectors) of every vector in a flat (IDMap2) or IVF index."""
    parts = list(iter_vectors(index))
    if not parts:
        return np.zeros(0, np.int64), np.zeros((0, index.d), np.float32)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def rebuild_ivf(index, *, nprobe: int = NPROBE, seed: int = 0):  # noqa: ANN001, ANN201
    """(a new IndexIVFFlat with the vectors of ``index``, its spec): trained on an even sample,
    filled a chunk or a list at a time (peak memory: both indexes, not a third copy)."""
    count = int(index.ntotal)
    step = max(1, count // (TRAIN_PER_LIST * nlist_for(count)))
    sample = np.concatenate([vectors[::step] for _, vectors in iter_vectors(index)])
    ivf = train_ivf(sample, count, seed)
    del sample
    for ids, vectors in iter_vectors(index):
        ivf.add_with_ids(np.ascontiguousarray(vectors), ids)
    return ivf, ivf_spec(ivf, count, nprobe)


def train_ivf(sample: np.ndarray, count: int, seed: int = 0):  # noqa: ANN201 - faiss index
    """An empty, trained IndexIVFFlat for ``count`` vectors, centroids from ``sample``."""
    import faiss

    dimension = sample.shape[1]
    nlist = nlist_for(count)
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.seed = seed
    rng = np.random.default_rng(seed)
    take = min(len(sample), TRAIN_PER_LIST * nlist)
    picks = np.sort(rng.choice(len(sample), take, replace=False)) if take < len(sample) else slice(None)
    ivf.train(np.ascontiguousarray(sample[picks], dtype=np.float32))
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
    return ivf


def ivf_spec(ivf, trained_on: int, nprobe: int = NPROBE) -> dict:  # noqa: ANN001 - faiss index
    return {"kind": "ivf", "nlist": int(ivf.nlist), "nprobe": int(min(nprobe, ivf.nlist)),
            "trained_on": int(trained_on)}


def build_ivf(ids: np.ndarray, vectors: np.ndarray, *, nprobe: int = NPROBE, seed: int = 0):  # noqa: ANN201
    """(IndexIVFFlat holding ``vectors`` under ``ids``, its manifest spec)."""
    ivf = train_ivf(vectors, len(vectors), seed)
    for start in range(0, len(ids), 200_000):
        ivf.add_with_ids(vectors[start:start + 200_000], ids[start:start + 200_000])
    return ivf, ivf_spec(ivf, len(ids), nprobe)


def build_flat(ids: np.ndarray, vectors: np.ndarray):  # noqa: ANN201 - faiss index
    flat = empty_flat(vectors.shape[1])
    if len(ids):
        flat.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
    return flat


def finalise(index, previous: dict | None, *, threshold: int = IVF_THRESHOLD,  # noqa: ANN001, ANN201
             nprobe: int = NPROBE):
    """(the index to write, its manifest spec) for a generation about to be sealed: exact below
    ``threshold`` vectors, IVF above it; an IVF index is retrained past RETRAIN_GROWTH x its
    training size and goes back to exact below ``threshold // 2``. ``previous``: the spec of the
    generation it was copied from (:func:`spec_of`)."""
    count = int(index.ntotal)
    if not is_ivf(index):
        if count < threshold:
            return index, {"kind": "flat"}
        return rebuild_ivf(index, nprobe=nprobe)
    if count < threshold // 2:
        return build_flat(*all_vectors(index)), {"kind": "flat"}
    trained_on = int((previous or {}).get("trained_on") or count)
    if count > RETRAIN_GROWTH * trained_on:
        return rebuild_ivf(index, nprobe=nprobe)
    return index, ivf_spec(index, trained_on, int((previous or {}).get("nprobe") or nprobe))


class EditableVectors:
    """The writer's vectors of either kind: adds and removes by window id (an IVF index with a
    hash-table direct map accepts only an IDSelectorArray for removal, so a removal by any other
    selector drops the map, removes by scanning the lists, then rebuilds the map)."""

    def __init__(self, index) -> None:  # noqa: ANN001 - a faiss index
        self.index = index

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def d(self) -> int:
        return int(self.index.d)

    def add_with_ids(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def remove_ids(self, selector) -> int:  # noqa: ANN001 - a faiss IDSelector
        import faiss

        if not is_ivf(self.index) or isinstance(selector, faiss.IDSelectorArray):
            return int(self.index.remove_ids(selector))
        self.index.set_direct_map_type(faiss.DirectMap.NoMap)
        try:
            return int(self.index.remove_ids(selector))
        finally:
            self.index.set_direct_map_type(faiss.DirectMap.Hashtable)

    def reconstruct(self, window_id: int) -> np.ndarray:
        return self.index.reconstruct(int(window_id))


def prepare_for_search(index, manifest: dict | None) -> None:  # noqa: ANN001 - a faiss index
    """Set what the manifest says searching needs (IVF: nprobe, and the lists of one question
    scanned by every core, :data:`PARALLEL_LISTS`); nothing for exact search."""
    spec = spec_of(manifest)
    if spec["kind"] == "ivf" and is_ivf(index):
        index.nprobe = int(spec.get("nprobe") or NPROBE)
        index.parallel_mode = PARALLEL_LISTS


def selector(allowed: np.ndarray):  # noqa: ANN201 - a faiss IDSelector
    """A bitmap selector of window ids (faster to build and test than IDSelectorBatch: 77 vs 97
    ms for 30k of 202k windows, IVF, every list probed). Keep the returned pair alive while
    searching: the selector points into the bitmap."""
    import faiss

    bits = np.zeros(int(allowed.max()) + 1, dtype=bool)
    bits[allowed] = True
    bitmap = np.packbits(bits, bitorder="little")
    return faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap)), bitmap


def search(index, query: np.ndarray, k: int, allowed: np.ndarray | None = None,  # noqa: ANN001
           ) -> tuple[np.ndarray, np.ndarray]:
    """(scores, window ids) of the ``k`` nearest windows to one query, best first, within
    ``allowed`` window ids when given; missing results (-1) are dropped."""
    import faiss

    query = np.ascontiguousarray(np.asarray(query, dtype=np.float32).reshape(1, -1))
    if index.ntotal == 0 or k <= 0 or (allowed is not None and allowed.size == 0):
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    params, keep_alive = None, None
    if allowed is not None:
        k = min(k, int(allowed.size))
        sel, keep_alive = selector(np.asarray(allowed, dtype=np.int64))
        if is_ivf(index):
            scale = min(FILTER_NPROBE_MAX_SCALE, max(1, int(index.ntotal // allowed.size)))
            params = faiss.SearchParametersIVF(sel=sel, nprobe=min(index.nlist, index.nprobe * scale))
        else:
            params = faiss.SearchParameters(sel=sel)
    scores, ids = index.search(query, min(k, int(index.ntotal)), params=params)
    del keep_alive
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]
