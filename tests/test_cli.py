"""The council-qa command as a user runs it: exit codes, one-line errors, summaries."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT, SEED_MD, SEED_PDF

from ingest.embed import DEFAULT_MODEL


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True, cwd=ROOT)


def test_ingest_reports_each_file_and_exits_1_when_some_failed(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    ix = tmp_path / "index"
    result = _cli("ingest", str(SEED_PDF), str(SEED_MD), str(empty), "--index", str(ix))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.split()[:2] == ["added", SEED_PDF.name] for line in lines)
    assert any(line.split()[:2] == ["duplicate", SEED_MD.name] for line in lines)
    assert any(line.split()[:2] == ["failed", "empty.txt"] and "empty file" in line for line in lines)
    assert "Traceback" not in result.stderr

    again = _cli("ingest", str(SEED_PDF), str(SEED_MD), "--index", str(ix))
    assert again.returncode == 0
    assert "0 windows embedded" in again.stdout

    status = json.loads(_cli("status", "--index", str(ix), "--json").stdout)
    assert status["model"] == DEFAULT_MODEL and status["counts"]["reports"] == 1
    assert status["reports"][0]["title"] == "Annual Report of the Chief Executive"


def test_user_errors_are_one_line_with_exit_code_2(tmp_path):
    for args in (
        ["ask", "anything", "--index", str(tmp_path / "missing")],
        ["ingest", str(tmp_path / "no-such-folder"), "--index", str(tmp_path / "ix")],
        ["paragraphs", str(tmp_path / "figures.xlsx")],
    ):
        result = _cli(*args)
        assert result.returncode == 2, args
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("council-qa: error: ")
    assert not (tmp_path / "ix").exists()  # nothing is created for a failed command
