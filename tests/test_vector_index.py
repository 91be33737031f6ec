"""The vector index: exact below a size, IVF past it (a lowered threshold here), on the seed report.

The embedder is the deterministic hashing one: the model is not the subject.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import faiss
import numpy as np
import pytest
from conftest import ROOT, SEED_MD
from fakes import HashingEmbedder

from ingest import vector_index
from ingest.index import ingest_paths, remove_report
from ingest.vector_index import (
    EditableVectors,
    build_flat,
    build_ivf,
    finalise,
    prepare_for_search,
    search,
    spec_of,
)
from qa.retrieve import retrieve
from qa.store import IndexReader

EMB = HashingEmbedder(dimension=128)
QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "corpus" / "eval" / "dev.jsonl").read_text().splitlines()
             if line.strip()]


def _txt(path: Path, paragraphs: list[str]) -> Path:
    path.write_text("\n".join(f"{i}. {text}" for i, text in enumerate(paragraphs, start=1)), encoding="utf-8")
    return path


def _windows(index_dir: Path) -> list[tuple[int, str, str]]:
    manifest = json.loads((index_dir / "manifest.json").read_text())
    db = sqlite3.connect(index_dir / manifest["generation"] / "council.sqlite")
    try:
        return list(db.execute(
            "SELECT w.id, w.text, p.heading FROM windows w JOIN paragraphs p ON p.id = w.paragraph_id"))
    finally:
        db.close()


def test_small_index_stays_exact_and_an_old_manifest_still_opens(tmp_path):
    ix = tmp_path / "ix"
    ingest_paths([SEED_MD], ix, embedder=EMB)
    manifest = json.loads((ix / "manifest.json").read_text())
    assert manifest["vectors"] == {"kind": "flat"}
    assert manifest["faiss_index"] == "IndexIDMap2(IndexFlatIP)"
    before = [h.paragraph.label for h in retrieve(IndexReader.open(ix), EMB, "sickness absence", k=5)]
    # An index written before the field existed: no "vectors" means exact search, read and extended.
    del manifest["vectors"]
    (ix / "manifest.json").write_text(json.dumps(manifest))
    assert spec_of(manifest) == {"kind": "flat"}
    reader = IndexReader.open(ix)
    prepare_for_search(reader.vectors, reader.manifest)
    assert [h.paragraph.label for h in retrieve(reader, EMB, "sickness absence", k=5)] == before
    ingest_paths([_txt(tmp_path / "extra.txt", ["The pension fund grew by four per cent this year."] * 3)], ix,
                 embedder=EMB)
    assert json.loads((ix / "manifest.json").read_text())["vectors"] == {"kind": "flat"}


def test_past_the_threshold_the_generation_is_ivf_and_still_edits(tmp_path, monkeypatch):
    monkeypatch.setattr(vector_index, "IVF_THRESHOLD", 100)
    ix = tmp_path / "ix"
    ingest_paths([SEED_MD], ix, embedder=EMB)
    manifest = json.loads((ix / "manifest.json").read_text())
    spec = manifest["vectors"]
    windows = _windows(ix)
    assert spec["kind"] == "ivf" and spec["trained_on"] == len(windows) > 100
    assert manifest["faiss_index"].startswith("IndexIVFFlat")
    reader = IndexReader.open(ix)
    assert isinstance(reader.vectors, faiss.IndexIVFFlat)
    prepare_for_search(reader.vectors, reader.manifest)
    assert reader.vectors.nprobe == spec["nprobe"] == min(vector_index.NPROBE, spec["nlist"])
    # reconstruct by window id returns the vector embedded for that window (heading: window).
    wid, text, heading = windows[len(windows) // 2]
    expected = EMB.encode([f"{heading}: {text}" if heading else text])[0]
    assert np.allclose(reader.vectors.reconstruct(wid), expected, atol=1e-6)
    hits = retrieve(reader, EMB, "sickness absence", k=5)
    assert hits and any("sickness" in h.paragraph.text.lower() for h in hits)
    reader.close()
    # Adding and removing reports keep working on the IVF generation (no retraining: it grew little).
    extra = _txt(tmp_path / "extra.txt", ["The pension fund grew by four per cent this year."] * 3)
    ingest_paths([extra], ix, embedder=EMB)
    grown = json.loads((ix / "manifest.json").read_text())
    assert grown["vectors"]["trained_on"] == spec["trained_on"]
    assert grown["counts"]["vectors"] > manifest["counts"]["vectors"]
    assert remove_report(ix, SEED_MD.name)
    left = json.loads((ix / "manifest.json").read_text())
    assert left["counts"]["vectors"] == left["counts"]["windows"] == len(_windows(ix)) < 100
    assert left["vectors"] == {"kind": "flat"}  # shrunk below half the threshold: exact again


def _synthetic(n: int, dimension: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """``n`` vectors shaped as bench/scale.py builds them: the hashed bag of words of one seed
    paragraph, plus half of another's, plus noise (many near-copies of each paragraph)."""
    paragraphs = [p for p in SEED_MD.read_text(encoding="utf-8").split("\n") if len(p.split()) > 8]
    base = HashingEmbedder(dimension=dimension).encode(paragraphs)
    rng = np.random.default_rng(0)
    mixed = base[rng.integers(0, len(base), n)] + 0.5 * base[rng.integers(0, len(base), n)]
    mixed += rng.normal(0, 0.7 / np.sqrt(dimension), mixed.shape).astype(np.float32)
    mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
    return np.arange(n, dtype=np.int64) * 2 + 7, np.ascontiguousarray(mixed, dtype=np.float32)


@pytest.mark.slow
def test_ivf_recall_against_exact_at_the_chosen_nprobe():
    ids, vectors = _synthetic(30_000)
    queries = HashingEmbedder(dimension=256).encode(QUESTIONS)
    flat = build_flat(ids, vectors)
    ivf, spec = build_ivf(ids, vectors, nprobe=vector_index.NPROBE)
    ivf.nprobe = spec["nprobe"]
    assert spec["nlist"] > spec["nprobe"]  # the search does not visit every list
    recalls = []
    for q in queries:
        _, exact = search(flat, q, 10)
        _, approx = search(ivf, q, 10)
        recalls.append(len(set(exact) & set(approx)) / 10)
    assert np.mean(recalls) >= 0.99
    # Filtered: one "report" of 300 windows, and a filter over most of the index, both exact.
    for allowed in (ids[1000:1300], ids[: len(ids) * 3 // 4]):
        for q in queries[:10]:
            exact_scores, exact_ids = search(flat, q, 20, allowed)
            scores, found = search(ivf, q, 20, allowed)
            assert set(found) <= set(allowed)
            assert len(set(found) & set(exact_ids)) >= 19
            assert np.allclose(scores[:5], exact_scores[:5], atol=1e-5)


def test_finalise_switches_retrains_and_removes():
    ids, vectors = _synthetic(3_000, dimension=64)
    flat = build_flat(ids[:1_000], vectors[:1_000])
    same, spec = finalise(flat, None, threshold=2_000)
    assert same is flat and spec == {"kind": "flat"}
    ivf, spec = finalise(build_flat(ids[:2_000], vectors[:2_000]), None, threshold=2_000)
    assert spec["kind"] == "ivf" and spec["trained_on"] == 2_000 and ivf.ntotal == 2_000
    editable = EditableVectors(ivf)
    editable.add_with_ids(vectors[2_000:], ids[2_000:])
    editable.remove_ids(faiss.IDSelectorBatch(ids[:10]))
    assert editable.ntotal == 2_990
    with pytest.raises(RuntimeError):
        ivf.reconstruct(int(ids[0]))
    assert np.allclose(ivf.reconstruct(int(ids[2_500])), vectors[2_500])
    kept, kept_spec = finalise(ivf, spec, threshold=2_000)
    assert kept is ivf and kept_spec == spec  # grown 1.5x: same centroids
    retrained, new_spec = finalise(ivf, {**spec, "trained_on": 500}, threshold=2_000)
    assert retrained is not ivf and new_spec["trained_on"] == 2_990
