"""The app's HTML from records: escaped, grouped by report, series named, errors in plain words."""

from __future__ import annotations

from pathlib import Path

from ingest.errors import BadDate, BuildMismatch
from qa.records import Answer, Citation, ReportInfo
from qa.render import browser_message, render_answer, render_sources, series_of


def _info(source: str, title: str, date: str | None, council: str = "Nottingham City Council") -> ReportInfo:
    return ReportInfo(source, title, date, council, None, 10, 20, f"/corpus/{source}", "x", "2026-01-01")


def _cite(rank: int, source: str, title: str, text: str) -> Citation:
    return Citation(rank, source, title, "2024-05-01", "3.2", "", 4, 0.5, text, text.split(".")[0],
                    "Nottingham City Council", f"{title}, 1 May 2024, para 3.2")


REPORTS = {r.source: r for r in [
    _info("wpl-2024.pdf", "Workplace Parking Levy Annual Report", "2024-05-01"),
    _info("wpl-2025.pdf", "Workplace  parking levy annual report", "2025-05-01"),
    _info("wpl-2023.pdf", "Workplace Parking Levy Annual Report", "2023-05-01"),
    _info("other.pdf", "Workplace Parking Levy Annual Report", "2025-06-01", council="Leicester City Council"),
]}


def test_other_reports_of_a_series_are_named_newest_first():
    assert [r.source for r in series_of(REPORTS["wpl-2024.pdf"], REPORTS)] == ["wpl-2025.pdf", "wpl-2023.pdf"]
    answer = Answer("q", "The levy raised £10m. [1]", False,
                    (_cite(1, "wpl-2024.pdf", "Workplace Parking Levy Annual Report", "The levy raised £10m."),))
    html = render_sources(answer, REPORTS)
    assert "Also discussed in: Workplace  parking levy annual report (1 May 2025), " in html
    assert html.index("1 May 2025") < html.index("1 May 2023")
    assert "Leicester" not in html


def test_report_text_is_escaped_everywhere():
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    answer = Answer(evil, f"{evil} [1]", False, (_cite(1, "a.txt", evil, f"{evil}. More text."),))
    html = render_answer(answer) + render_sources(answer, {})
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_user_errors_are_worded_without_flags_or_paths():
    assert "2020-02-13" in browser_message(BadDate("from", "13/02/2020"))
    message = browser_message(BuildMismatch(Path("/srv/index"), "model", "'a'", "'b'"))
    assert "--" not in message and "/srv" not in message
