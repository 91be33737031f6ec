"""Shared fixtures: the bundled seed report, the shared corpus (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SEED_PDF = CORPUS / "worcestershire-2020-02-13-chief-executive-annual-report.pdf"
SEED_MD = CORPUS / "worcestershire-2020-02-13-chief-executive-annual-report.md"
SHARED = ROOT.parent / "shared" / "corpus"
COUNCILS = SHARED / "councils"


@pytest.fixture(scope="session")
def shared_councils() -> Path:
    if not (COUNCILS / "manifest.json").exists():
        pytest.skip("../shared/corpus/councils is not present")
    return COUNCILS


@pytest.fixture(scope="session")
def default_model():
    """The real default model, loaded once per test run."""
    from ingest.embed import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, default_model) -> Path:
    """The bundled corpus indexed with the default model, built once per test run."""
    from ingest.index import ingest_paths

    ix = tmp_path_factory.mktemp("seed") / "index"
    ingest_paths([CORPUS], ix, embedder=default_model)
    return ix
