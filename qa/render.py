"""HTML for the app, from one place: every piece of report text goes through :func:`esc`.

Pure functions from records to strings; nothing here touches Gradio, the index or a file.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode

from ingest.errors import (
    BadDate,
    BuildMismatch,
    CouncilQAError,
    IndexBusy,
    IndexMissing,
    NoSpace,
    NotInIndex,
    UnreadableReport,
)
from qa.records import Answer, Citation, ReportInfo, UploadRow
from qa.wording import long_date, meeting_ref, shown_date, where

_MARKER = re.compile(r"\[(\d+)\]")
EMPTY_LIBRARY = (
    "The library is empty, so there is nothing to answer from yet. "
    "Add reports on the Library tab."
)
LIBRARY_HEADERS = ["Title", "Date", "Council", "Paragraphs", "File"]
UNEXPECTED = ("Something went wrong on our side. Please try again; "
              "if it keeps happening, tell the clerk's office.")


def esc(text: object) -> str:
    """Report text (or anything derived from it) made safe to put into HTML."""
    return html.escape("" if text is None else str(text), quote=True)


def report_href(source: str, page: int | None = None) -> str:
    href = "report/" + quote(source, safe="")
    if page and source.lower().endswith(".pdf"):
        href += f"#page={int(page)}"
    return href


def evidence_href(c: Citation) -> str:
    """The evidence viewer (:mod:`qa.evidence`) at the citation: its page with the paragraph and
    the answering sentence marked (for a Markdown/text report, scrolled to the paragraph)."""
    query = urlencode({"page": int(c.page or 1), "para": c.paragraph, "q": " ".join((c.highlight or "").split())})
    anchor = "" if c.source.lower().endswith(".pdf") else "#cqa-cited"
    return f"evidence/{quote(c.source, safe='')}?{query}{anchor}"


def _marked_paragraph(text: str, highlight: str) -> str:
    text = text.strip()
    highlight = highlight.strip()
    if highlight:
        at = text.find(highlight)
        if at < 0:  # tolerate differences in whitespace
            squashed = " ".join(text.split())
            at2 = squashed.find(" ".join(highlight.split()))
            if at2 >= 0:
                text, highlight, at = squashed, " ".join(highlight.split()), at2
        if at >= 0:
            end = at + len(highlight)
            return f"{esc(text[:at])}<mark>{esc(text[at:end])}</mark>{esc(text[end:])}"
    return esc(text)


def _where(c: Citation) -> str:
    place = where(c.paragraph, c.page, scanned=c.scanned)  # "para 4, scanned page 2": read by OCR
    return f"{place}, page {c.page}" if c.page and place.startswith("para") and not c.scanned else place


def _snippet(c: Citation, limit: int = 220) -> str:
    words = " ".join((c.highlight or c.text).split())
    if len(words) > limit:
        words = words[:limit].rsplit(" ", 1)[0] + " …"
    return words


def render_answer(answer: Answer) -> str:
    """The answer box: quoted sentences with [n] links to their sources, or the no-answer notice."""
    asked = f' data-question="{esc(answer.question)}"'
    if answer.abstained:
        return (
            f'<div class="cqa-notice" id="cqa-answer"{asked}><b>No clear answer.</b> '
            "No paragraph in the indexed reports clearly answers this question. "
            + ("The closest paragraphs are listed below: they may still help, but check them."
               if answer.citations else "Nothing in the reports comes close.")
            + "</div>"
        )
    ranks = {c.rank for c in answer.citations}

    def marker(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in ranks:
            return match.group(0)
        return f'<a class="cqa-marker" href="#cqa-src-{n}" title="Source {n}">[{n}]</a>'

    body = _MARKER.sub(marker, esc(answer.answer))
    used = sorted({int(m.group(1)) for m in _MARKER.finditer(answer.answer)} & ranks)
    by_rank = {c.rank: c for c in answer.citations}
    cited = "".join(
        f'<li><a href="#cqa-src-{n}">[{n}]</a> {esc(by_rank[n].cite or by_rank[n].title)}</li>' for n in used
    )
    cited_html = f'<ul class="cqa-cited">{cited}</ul>' if cited else ""
    return (f'<div class="cqa-answer" id="cqa-answer"{asked}><h2 class="cqa-label">Answer</h2>'
            f"<div>{body}</div>{cited_html}</div>")


def group_by_report(citations: Sequence[Citation]) -> list[tuple[str, list[Citation]]]:
    groups: dict[str, list[Citation]] = {}
    for c in sorted(citations, key=lambda c: c.rank):
        groups.setdefault(c.source, []).append(c)
    return list(groups.items())


def series_of(info: ReportInfo, reports: dict[str, ReportInfo]) -> list[ReportInfo]:
    """Other reports of the same series (same council, same title), newest first."""
    key = (" ".join(info.title.lower().split()), (info.council or "").lower())
    same = [r for r in reports.values() if r.source != info.source
            and (" ".join(r.title.lower().split()), (r.council or "").lower()) == key]
    return sorted(same, key=lambda r: r.date or "", reverse=True)


def _source_details(c: Citation, source: str) -> str:
    heading_html = f" — {esc(c.heading)}" if c.heading else ""
    page_link = ""
    if c.page:
        label = f"Open at page {c.page}" if source.lower().endswith(".pdf") else "Show in report"
        page_link = (f' · <a href="{esc(evidence_href(c))}" target="_blank" '
                     f'rel="noopener">{label}</a>')
    return (
        f'<details id="cqa-src-{c.rank}" class="cqa-source">'
        f'<summary><span class="cqa-num">[{c.rank}]</span>'
        f'<span class="cqa-where">{esc(_where(c))}</span>{heading_html}'
        f'<span class="cqa-snippet">“{esc(_snippet(c))}”</span></summary>'
        f'<div class="cqa-para">{_marked_paragraph(c.text, c.highlight)}</div>'
        f'<div class="cqa-cite">Cite as: {esc(c.cite or c.title)}{page_link}</div>'
        "</details>"
    )


def _report_section(source: str, cites: list[Citation], reports: dict[str, ReportInfo]) -> str:
    first = cites[0]
    info = reports.get(source)
    listed = info is not None and bool(info.meeting_date and info.committee)  # "Cabinet · 30 Jan 2025 · item 5"
    meta = [meeting_ref(info.committee, info.meeting_date, info.item) if listed else long_date(first.date) or "undated"]
    if first.council:
        meta.append(first.council)
    if info is not None and not listed and (info.committee or info.meeting):
        meta.append(info.committee or info.meeting or "")
    n = len(cites)
    meta.append(f"{n} paragraph{'s' if n != 1 else ''} here")
    also = ""
    others = series_of(info, reports) if info is not None else []
    if others:
        named = ", ".join(f"{esc(r.title)} ({esc(shown_date(r.date))})" for r in others)
        also = f'<div class="cqa-meta">Also discussed in: {named}</div>'
    return (
        f'<section class="cqa-report" data-source="{esc(source)}">'
        f'<h3 class="cqa-report-title">{esc(first.title)}</h3>'
        f'<div class="cqa-meta">{" · ".join(esc(m) for m in meta)} · '
        f'<a href="{esc(report_href(source))}" target="_blank" rel="noopener">Open report</a></div>{also}'
        + "".join(_source_details(c, source) for c in cites)
        + "</section>"
    )


def render_sources(answer: Answer, reports: dict[str, ReportInfo] | None = None) -> str:
    """The sources grouped by report, best report first, each paragraph expandable with its
    answering sentence marked; other reports of the same series are named."""
    if not answer.citations:
        return ""
    reports = reports or {}
    heading = "Closest paragraphs, by report" if answer.abstained else "Sources, by report"
    sections = "".join(_report_section(source, cites, reports) for source, cites in group_by_report(answer.citations))
    return f'<div class="cqa-sources"><h2 class="cqa-h2">{heading}</h2>{sections}</div>'



def notice(message: str, *, error: bool = False) -> str:
    cls = "cqa-notice cqa-error" if error else "cqa-notice"
    return f'<div class="{cls}" id="cqa-answer">{esc(message)}</div>'


def report_choice(r: ReportInfo) -> tuple[str, str]:
    """(label, value) of a report in a dropdown: "Title (13 Feb 2020)"."""
    return (f"{r.title} ({shown_date(r.date)})", r.source)


def library_rows(reports: Sequence[ReportInfo]) -> list[list[Any]]:
    """The Library table's rows."""
    return [[r.title, long_date(r.date) or "undated", r.council or "—", r.paragraphs, r.source]
            for r in reports]


def library_table(rows: Sequence[Sequence[Any]]) -> str:
    """The Library as an HTML table (rows from :func:`library_rows`); each cell carries its column
    name so that a narrow screen can show every report as a stacked card."""
    if not rows:
        return ""
    head = "".join(f'<th role="columnheader" scope="col">{esc(h)}</th>' for h in LIBRARY_HEADERS)
    body = "".join(
        '<tr role="row">'
        + "".join(f'<td role="cell" data-label="{esc(h)}">{esc(v)}</td>'
                  for h, v in zip(LIBRARY_HEADERS, row, strict=True))
        + "</tr>" for row in rows
    )
    return (f'<div class="cqa-table-wrap"><table class="cqa-library-table" role="table">'
            '<caption>Reports in the library</caption>'
            f'<thead role="rowgroup"><tr role="row">{head}</tr></thead><tbody role="rowgroup">{body}</tbody>'
            "</table></div>")


def results_table(rows: Sequence[UploadRow]) -> str:
    """One row per uploaded file: added or rejected, and why."""
    body = "".join(
        f"<tr><td>{esc(r.name)}</td><td class=\"{'cqa-ok' if r.ok else 'cqa-bad'}\">"
        f"{'Added' if r.ok else 'Rejected'}</td><td>{esc(r.detail)}</td></tr>"
        for r in rows
    )
    return ('<div class="cqa-results"><table><thead><tr><th>File</th><th>Result</th><th>Detail</th>'
            f"</tr></thead><tbody>{body}</tbody></table></div>")


def browser_message(exc: CouncilQAError) -> str:
    """A user error in plain words for the browser (no flags, no server paths)."""
    if isinstance(exc, BadDate):
        return f"The {exc.field} date “{exc.value}” should be a real date written like 2020-02-13."
    if isinstance(exc, IndexMissing):
        return EMPTY_LIBRARY
    if isinstance(exc, BuildMismatch):
        return ("This library was built with a different language model than the one available here, "
                "so it cannot be searched. Ask the administrator to rebuild it.")
    if isinstance(exc, IndexBusy):
        return "The library is being updated by someone else. Please try again in a minute."
    if isinstance(exc, NotInIndex):
        return "Some of the chosen reports are no longer in the library: " + ", ".join(exc.sources) + "."
    if isinstance(exc, NoSpace):
        return "The server's disk is full, so nothing was added. Tell the administrator."
    if isinstance(exc, UnreadableReport):
        return f"{exc.path}: {exc.reason}"
    return str(exc)
