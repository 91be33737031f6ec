"""Clerk drafts: a reply to a formal council question, built only from quoted paragraphs.

House style, one statement per cited paragraph::

    The Annual Report of the Chief Executive to Council on 13 February 2020 (paragraph 9)
    records that "Sickness absence ... 7.68 days per employee ...". [1]

followed by a numbered list of sources. The draft is plain text so the clerk can edit it
in the browser; :func:`to_markdown` and :func:`write_docx` turn the (edited) text into the
downloadable files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from qa.records import Answer, Citation, ReportInfo
from qa.wording import long_date, paragraph_ref, short_date, where

__all__ = ["draft_reply", "to_markdown", "write_docx", "long_date", "short_date", "paragraph_ref", "NO_ANSWER"]

QUESTION_HEADING = "Question"
REPLY_HEADING = "Draft reply"
SOURCES_HEADING = "Sources"
HEADINGS = (QUESTION_HEADING, REPLY_HEADING, SOURCES_HEADING)

NO_ANSWER = (
    "No paragraph in the indexed reports clearly answers this question, so no reply has been "
    "drafted from them. The closest paragraphs are listed under Sources for the clerk to check."
)

_MARKER = re.compile(r"\[(\d+)\]")
_NUMBERED_SOURCE = re.compile(r"^(\d+)\.\s+")


def cite_line(citation: Citation) -> str:
    """The short reference: "Annual Report of the Chief Executive, 13 Feb 2020, para 9"."""
    if citation.cite:
        return citation.cite
    parts = [citation.title]
    if citation.date:
        parts.append(short_date(citation.date) or citation.date)
    parts.append(where(citation.paragraph, citation.page))
    return ", ".join(parts)


def _report_phrase(citation: Citation, report: ReportInfo | None) -> str:
    title = " ".join(citation.title.split()) or citation.source
    if not title.lower().startswith("the "):
        title = f"The {title}"
    meeting = report.meeting if report else None
    when = long_date(citation.date)
    if meeting and when:
        return f"{title} to {meeting} on {when}"
    if when:
        return f"{title} of {when}"
    if meeting:
        return f"{title} to {meeting}"
    return title


def _quote(citation: Citation) -> str:
    sentence = citation.highlight.strip() or citation.text.strip()
    sentence = " ".join(sentence.split())
    sentence = sentence.replace('"', "'").replace("\u201c", "'").replace("\u201d", "'")
    return sentence.rstrip(" .;:")


def _cited(answer: Answer) -> list[Citation]:
    """The citations the answer text refers to, in order of first mention (else all)."""
    by_rank = {c.rank: c for c in answer.citations}
    order: list[Citation] = []
    for match in _MARKER.finditer(answer.answer):
        citation = by_rank.get(int(match.group(1)))
        if citation is not None and citation not in order:
            order.append(citation)
    return order or list(answer.citations)


def _source_entry(citation: Citation, report: ReportInfo | None) -> str:
    details = []
    if citation.council:
        details.append(citation.council)
    if citation.page:
        details.append(f"page {citation.page}")
    details.append(f"file {citation.source}")
    return f"{cite_line(citation)} ({'; '.join(details)})"


def draft_reply(
    question: str, answer: Answer, *, reports: Mapping[str, ReportInfo] | None = None
) -> str:
    """A plain-text draft reply in house style: quoted statements, then numbered sources.

    ``reports`` (source file name → :class:`ReportInfo`) adds the meeting a report went to
    ("to Council on 13 February 2020"); without it the date alone is used.
    """
    reports = reports or {}
    question = " ".join(question.split())
    lines = [QUESTION_HEADING, question or answer.question, "", REPLY_HEADING]
    cited = [] if answer.abstained else _cited(answer)
    if not cited:
        lines.append(NO_ANSWER)
        sources = list(answer.citations)
    else:
        sources = cited
        previous: str | None = None
        for number, citation in enumerate(cited, start=1):
            if citation.source == previous:
                subject = "The same report"
            else:
                subject = _report_phrase(citation, reports.get(citation.source))
            previous = citation.source
            ref = paragraph_ref(citation.paragraph)
            lines.append(f'{subject} ({ref}) records that "{_quote(citation)}". [{number}]')
            lines.append("")
        lines.pop()
    lines += ["", SOURCES_HEADING]
    if not sources:
        lines.append("None: the indexed reports hold nothing close to this question.")
    for number, citation in enumerate(sources, start=1):
        lines.append(f"{number}. {_source_entry(citation, reports.get(citation.source))}")
    return "\n".join(lines).strip() + "\n"


def to_markdown(text: str) -> str:
    """The (possibly edited) plain-text draft as Markdown: section headings become ``##``."""
    out: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if stripped in HEADINGS:
            if out and out[-1] != "":
                out.append("")
            out += [f"## {stripped}", ""]
        else:
            out.append(line.rstrip())
    markdown = "\n".join(out)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown).strip()
    return markdown + "\n"


def write_docx(text: str, path: str | Path) -> Path:
    """Write the (possibly edited) plain-text draft as a Word document; returns the path."""
    from docx import Document
    from docx.shared import Pt

    path = Path(path)
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(11)
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        block_lines = [line.rstrip() for line in block.split("\n") if line.strip()]
        while block_lines:
            first = block_lines[0].strip()
            if first in HEADINGS:
                document.add_heading(first, level=2)
                block_lines.pop(0)
                continue
            if _NUMBERED_SOURCE.match(first):
                for line in block_lines:
                    document.add_paragraph(line.strip())
            else:
                document.add_paragraph(" ".join(line.strip() for line in block_lines))
            break
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path
