"""``council-qa ingest`` into a pipe or a log prints a line per file as each one finishes, not at
the end: the first file's line is read while the ingest is still going."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT, SEED_PDF
from fakes import HashingEmbedder

from ingest.index import ingest_paths


def test_ingest_into_a_pipe_prints_each_file_as_it_finishes(tmp_path):
    ix = tmp_path / "index"
    ingest_paths([SEED_PDF], ix, embedder=HashingEmbedder())
    bad = []
    for n in range(4):  # each is read (and refused) in the bounded reader, one after another
        path = tmp_path / f"broken-{n}.pdf"
        path.write_bytes(b"%PDF-1.7\n" + os.urandom(200_000))
        bad.append(str(path))
    proc = subprocess.Popen([sys.executable, "-m", "qa.cli", "ingest", str(SEED_PDF), *bad, "--index", str(ix)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        still_running = proc.poll() is None
        rest = proc.stdout.read().splitlines()
        proc.wait(timeout=300)
    finally:
        proc.kill()
    assert first.split()[:2] == ["unchanged", SEED_PDF.name]
    assert still_running, "the first file's line came only when the ingest had finished"
    assert [line.split()[:2] for line in rest[:4]] == [["failed", f"broken-{n}.pdf"] for n in range(4)]
    assert rest[4].startswith("1 unchanged, 4 failed;") and len(rest) == 5
    assert proc.returncode == 1 and "\r" not in first + "".join(rest)  # no progress bar in a pipe
