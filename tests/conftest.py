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
