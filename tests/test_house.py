"""The house rules: small files and functions, one-way imports, dates understood once.

The shape checks read the source with ``ast`` (nothing is imported), print the longest files
and functions, and fail when one outgrows the limits a newcomer can read.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

from ingest.errors import BadDate
from qa.records import Filters
from qa.wording import cite, parse_date

MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60
SOURCE_DIRS = ("ingest", "qa", "bench")


def _sources() -> list[Path]:
    files = [ROOT / "app.py"]
    for folder in SOURCE_DIRS:
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def _functions(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(node.end_lineno - node.lineno + 1, f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
            for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def test_no_file_over_400_lines_and_no_function_over_60():
    files = sorted(((len(p.read_text(encoding="utf-8").splitlines()), str(p.relative_to(ROOT)))
                    for p in _sources()), reverse=True)
    functions = sorted((f for p in _sources() for f in _functions(p)), reverse=True)
    print("\nlongest files:", *(f"{n:5d}  {name}" for n, name in files[:8]), sep="\n  ")
    print("longest functions:", *(f"{n:5d}  {name}" for n, name in functions[:8]), sep="\n  ")
    assert [f for f in files if f[0] > MAX_FILE_LINES] == []
    assert [f for f in functions if f[0] > MAX_FUNCTION_LINES] == []


def _imports(path: Path) -> set[str]:
    """Modules of this project imported anywhere in ``path`` (also inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.split(".")[0] in ("ingest", "qa")}


def _closure(module: str) -> set[str]:
    """Every project module reachable by imports from ``module``."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = ROOT / (name.replace(".", "/") + ".py")
        if path.exists():
            todo.extend(_imports(path))
    return seen


@pytest.mark.parametrize("reader_module", ["qa.store", "qa.retrieve", "qa.answer", "qa.render"])
def test_the_reader_never_imports_the_writer(reader_module):
    reached = _closure(reader_module)
    assert not reached & {"ingest.writer", "ingest.index", "ingest.rows"}, sorted(reached)
    if reader_module == "qa.store":
        assert "ingest.index_format" in reached  # both sides share the one contract


def test_ingest_never_imports_qa():
    for path in (ROOT / "ingest").glob("*.py"):
        assert not {m for m in _imports(path) if m.startswith("qa")}, path.name


def test_render_and_service_have_no_gradio_and_the_service_no_html():
    for name in ("qa/render.py", "qa/service.py", "qa/wording.py"):
        source = (ROOT / name).read_text(encoding="utf-8")
        assert "import gradio" not in source, name
    assert "<div" not in (ROOT / "qa/service.py").read_text(encoding="utf-8")


def test_compact_and_iso_dates_are_understood_and_others_refused():
    assert parse_date("20200213", "from") == "2020-02-13"
    assert parse_date(" 2020-02-13 ", "from") == "2020-02-13"
    assert parse_date("", "from") is None
    for bad in ("2020-02-30", "13/02/2020", "2020-2-13", "20201313", "yesterday"):
        with pytest.raises(BadDate):
            parse_date(bad, "to")
    assert Filters.parse([], "", "20200213", None) == Filters(since="2020-02-13")


def test_citation_wording_is_the_same_everywhere():
    assert cite("Annual Report of the Chief Executive", "2020-02-13", "9", 3) == (
        "Annual Report of the Chief Executive, 13 Feb 2020, para 9")
    assert cite("Minutes", None, "p4-2", 4) == "Minutes, undated, page 4"
    assert cite("Report", "2024-01-05", "6", 2, heading="Possible Outcomes", ambiguous=True) == (
        "Report, 5 Jan 2024, para 6 (Possible Outcomes)")
    # the later part of a printed paragraph that runs over pages names the page it is on
    assert cite("Cabinet minutes", "2025-01-30", "87", 5, part=True) == "Cabinet minutes, 30 Jan 2025, para 87, page 5"
