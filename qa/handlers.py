"""The app's event handlers: module functions of the service and the inputs, so a unit test
can call them without a browser. :mod:`qa.layout` binds them to the page.

User errors arrive as :class:`CouncilQAError` and are shown in plain words
(:func:`qa.render.browser_message`); anything else is logged with its traceback and the person
sees a short apology.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import gradio as gr

from ingest.errors import CouncilQAError
from qa import draft as drafts
from qa import render
from qa.records import Filters
from qa.service import MAX_QUESTION_CHARS, Library
from qa.wording import shown_date

log = logging.getLogger("council_qa.app")


def unexpected(exc: BaseException) -> str:
    log.error("unexpected error in the app", exc_info=exc)
    return render.UNEXPECTED


def filter_choices(library: Library) -> tuple[Any, ...]:
    """Choices of the report filter, the council filter, the remove dropdown and the correct dropdown."""
    reports = library.reports()
    choices = [render.report_choice(r) for r in reports]
    councils = [("All councils", "")] + [(c, c) for c in library.councils()]
    return (gr.update(choices=choices), gr.update(choices=councils), gr.update(choices=choices, value=None),
            gr.update(choices=choices))


def committee_choices(library: Library) -> Any:
    """Choices of the committee filter: every committee a report is from or listed under."""
    names = set().union(*(r.committees for r in library.reports()))
    return gr.update(choices=[("All committees", "")] + [(c, c) for c in sorted(names)])


def _narrow_choices(library: Library, groups: list, filters: Filters) -> Any:
    """The "narrow to one report" radio: the reports among the sources (and the one narrowed to)."""
    choices = [("All reports", "")] + [
        (f"{cites[0].title} ({shown_date(cites[0].date)})", source) for source, cites in groups
    ]
    if len(filters.reports) == 1 and filters.reports[0] not in {v for _, v in choices}:
        info = library.report(filters.reports[0])
        if info is not None:
            choices.append(render.report_choice(info))
    value = filters.reports[0] if len(filters.reports) == 1 else ""
    return gr.update(choices=choices, value=value, visible=True)


def ask(library: Library, question: str, reports: list[str] | str | None, council: str | None,
        since: str | None, until: str | None, committee: str | None = None) -> tuple[str, str, Any]:
    """Answer HTML, sources HTML and the narrow-to-report radio for a question and filters."""
    question = (question or "").strip()
    hide = gr.update(choices=[], value=None, visible=False)
    if not question:
        return render.notice("Type a question first, or pick one of the examples."), "", hide
    if len(question) > MAX_QUESTION_CHARS:
        return render.notice(f"Please shorten the question to {MAX_QUESTION_CHARS} characters or fewer."), "", hide
    try:
        filters = Filters.parse(reports, council, since, until, committee)
        result = library.ask(question, filters)
        if result is None:
            return render.notice(render.EMPTY_LIBRARY), "", hide
        known = {r.source: r for r in library.reports()}
    except CouncilQAError as exc:
        return render.notice(render.browser_message(exc), error=True), "", hide
    except Exception as exc:  # noqa: BLE001 - the member sees a plain message, the log the trace
        return render.notice(unexpected(exc), error=True), "", hide
    groups = render.group_by_report(result.citations)
    narrow = _narrow_choices(library, groups, filters) if len(groups) > 1 or filters.reports else hide
    return render.render_answer(result), render.render_sources(result, known), narrow


def narrow_to(source: str | None) -> Any:
    """A click on one report in the narrow radio sets the report filter to it."""
    return gr.update(value=[source] if source else [])


def _make_draft(library: Library, question: str) -> drafts.Draft | str:
    """The draft for a formal question, or a message to show instead."""
    question = (question or "").strip()
    if not question:
        return "Paste the formal question above, then press Draft reply."
    try:
        result = library.ask(question)
        if result is None:
            return render.EMPTY_LIBRARY
        known = {r.source: r for r in library.reports()}
    except CouncilQAError as exc:
        return render.browser_message(exc)
    except Exception as exc:  # noqa: BLE001
        return unexpected(exc)
    return drafts.make_draft(question, result, known)


def draft(library: Library, question: str) -> str:
    """The clerk's editable draft reply for a formal question."""
    made = _make_draft(library, question)
    return made if isinstance(made, str) else drafts.render_text(made)


def statement_choices(current: drafts.Draft | None) -> Any:
    """The "statement" picker beside the accept/swap/remove buttons: one choice per statement
    ("1. Annual Report …, para 9"), hidden when the draft has none."""
    statements = current.statements if current is not None else ()
    choices = [(f"{i}. {drafts.cite_line(s.citation)}", i - 1) for i, s in enumerate(statements, start=1)]
    return gr.update(choices=choices, value=0 if choices else None, visible=bool(choices))


def draft_start(library: Library, question: str) -> tuple[str, drafts.Draft | None, Any]:
    """Draft reply text, the :class:`qa.draft.Draft` to keep in a ``gr.State``, and the statement picker."""
    made = _make_draft(library, question)
    if isinstance(made, str):
        return made, None, statement_choices(None)
    return drafts.render_text(made), made, statement_choices(made)


def _edit(current: drafts.Draft | None, index: int | None,
          change: Callable[[drafts.Draft, int], drafts.Draft]) -> tuple[Any, Any, Any]:
    if current is None or index is None or not 0 <= int(index) < len(current.statements):
        return gr.update(), current, statement_choices(current)
    edited = change(current, int(index))
    return drafts.render_text(edited), edited, statement_choices(edited)


def draft_swap(current: drafts.Draft | None, index: int | None) -> tuple[Any, Any, Any]:
    """Swap the chosen statement for its next-best source: new text, new state, picker."""
    return _edit(current, index, drafts.swap)


def draft_remove(current: drafts.Draft | None, index: int | None) -> tuple[Any, Any, Any]:
    """Remove the chosen statement: new text, new state, picker."""
    return _edit(current, index, drafts.remove)


def _author(library: Library, text: str, current: drafts.Draft | None) -> str:
    """The council of the draft's first cited report, else "council-qa"."""
    source = drafts.first_source(text)
    if current is not None:
        council = next((s.citation.council for s in current.statements if s.citation.source == source), None)
        if council:
            return council
    info = library.report(source) if source else None
    return (info.council if info else None) or drafts.DEFAULT_AUTHOR


def draft_files(library: Library, text: str, current: drafts.Draft | None = None) -> tuple[Any, Any]:
    """The .docx and .md downloads of the (edited) draft, named from its question and today's date
    (``reply-reducing-sickness-absence-2026-11-26.docx``)."""
    if not (text or "").strip():
        return gr.update(value=None, interactive=False), gr.update(value=None, interactive=False)
    question = drafts.question_of(text) or (current.question if current is not None else "")
    try:
        author = _author(library, text, current)
    except CouncilQAError as exc:
        log.warning("draft author left as %s: %s", drafts.DEFAULT_AUTHOR, exc)
        author = drafts.DEFAULT_AUTHOR
    folder = Path(tempfile.mkdtemp(dir=library.drafts_dir()))
    today = date.today()
    docx_path = drafts.write_docx(text, folder / drafts.reply_filename(question, today), title=question or None,
                                  author=author)
    md_path = folder / drafts.reply_filename(question, today, ".md")
    md_path.write_text(drafts.to_markdown(text), encoding="utf-8")
    return (gr.update(value=str(docx_path), interactive=True),
            gr.update(value=str(md_path), interactive=True))


def library_view(library: Library) -> tuple[Any, Any]:
    """The Library table and its one-line summary."""
    reports = library.reports()
    summary = (f"{len(reports)} report{'s' if len(reports) != 1 else ''} in the library."
               if reports else render.EMPTY_LIBRARY)
    return gr.update(value=render.library_rows(reports)), gr.update(value=render.esc(summary))


def upload(library: Library, files: Sequence[Any] | None,
           progress: Callable[..., Any] | None = None) -> str:
    """Add uploaded reports; a table with one row per file (added, or rejected and why)."""
    if not files:
        return render.notice("Choose one or more report files first (PDF, Word .docx, Markdown or text).")
    paths = [Path(item if isinstance(item, str) else getattr(item, "name", str(item))) for item in files]

    def report_progress(done: int, total: int, message: str) -> None:
        if progress is not None:
            progress((done, max(total, 1)), desc=message)

    try:
        rows = library.add_uploads(paths, report_progress)
    except CouncilQAError as exc:
        return render.notice(render.browser_message(exc), error=True)
    except Exception as exc:  # noqa: BLE001
        return render.notice(unexpected(exc), error=True)
    return render.results_table(rows)


def remove_ask(library: Library, source: str | None) -> tuple[str, Any]:
    """First press of Remove: ask to confirm (the message and the Confirm/Cancel row, shown)."""
    info = library.report(source) if source else None
    if info is None:
        message = "Choose a report to remove first." if not source else f"{source} is not in the library."
        return render.notice(message), gr.update(visible=False)
    return (render.notice(f"Remove “{info.title}” ({source}) from the library? This cannot be undone: "
                          "to bring it back, add the file again."), gr.update(visible=True))


def remove_cancel() -> tuple[str, Any]:
    return render.notice("Nothing was removed."), gr.update(visible=False)


def remove_confirm(library: Library, source: str | None) -> tuple[str, Any]:
    """Confirm pressed: remove the report; the message, and the Confirm/Cancel row hidden."""
    return remove(library, source), gr.update(visible=False)


def edit_fields(library: Library, source: str | None) -> tuple[Any, Any, Any, Any]:
    """The correction boxes filled with the chosen report's title, date, council and committee."""
    info = library.report(source) if source else None
    if info is None:
        return (gr.update(value=""),) * 4
    return tuple(gr.update(value=v or "") for v in (info.title, info.date, info.council, info.committee))


def edit_save(library: Library, source: str | None, title: str, day: str, council: str, committee: str) -> str:
    """Save a correction of a report's details (its sidecar and its row; nothing re-embedded)."""
    if not source:
        return render.notice("Choose a report to correct first.")
    try:
        info = library.edit(source, title, day, council, committee)
    except CouncilQAError as exc:
        return render.notice(render.browser_message(exc), error=True)
    except Exception as exc:  # noqa: BLE001
        return render.notice(unexpected(exc), error=True)
    if info is None:
        return render.notice(f"{source} is not in the library.")
    return render.notice(f"Saved: {info.title}, {shown_date(info.date)}, {info.council or 'no council'}"
                         + (f", {info.committee}" if info.committee else "") + ". Citations use it now.")


def remove(library: Library, source: str | None) -> str:
    """Remove one report from the library."""
    if not source:
        return render.notice("Choose a report to remove first.")
    info = library.report(source)
    title = info.title if info else source
    try:
        removed = library.remove(source)
    except CouncilQAError as exc:
        return render.notice(render.browser_message(exc), error=True)
    except Exception as exc:  # noqa: BLE001
        return render.notice(unexpected(exc), error=True)
    if not removed:
        return render.notice(f"{source} is not in the library.")
    return render.notice(f"Removed “{title}” ({source}) from the library.")
