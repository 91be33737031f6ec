"""The page: three tabs on one Gradio Blocks, wired to the handlers in :mod:`qa.handlers`.

* **Ask**: a question, the answer quoted with numbered markers, the sources grouped by report,
  filters by report, council and date.
* **Clerk**: a formal question becomes an editable draft reply, downloadable as .docx and .md.
* **Library**: the reports in the index; upload new ones; remove one.

Only layout and wiring live here; the styles are in ``static/app.css``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from qa import handlers, render
from qa.service import MAX_QUESTION_CHARS, MAX_UPLOAD_MB, UPLOAD_SUFFIXES, Library

QUEUE_MAX_SIZE = 64
"""Requests waiting beyond this are turned away with Gradio's "currently busy" message."""
CONCURRENCY = 2
"""Questions answered at once (the embedder shares the machine's cores)."""

EXAMPLES = [
    "what happened to sickness absence?",
    "How is the council managing its budget pressures?",
    "What did Ofsted say about children's services?",
    "What progress has been made on digital technology?",
]
CLERK_EXAMPLES = [
    "Will the Cabinet Member tell me what progress has been made on reducing sickness absence?",
    "Will the Leader tell me what the Council has done to strengthen its financial management?",
]
BUSY_HINT = "If the page says it is busy, many people are asking at once: wait a moment and try again."


@dataclass
class _Ask:
    question: Any
    ask_btn: Any
    clear_btn: Any
    answer: Any
    narrow: Any
    sources: Any
    filters: Any
    reports: Any
    council: Any
    since: Any
    until: Any
    committee: Any = None


def _filters() -> tuple[Any, Any, Any, Any, Any, Any]:
    """The filters, collapsed, right under the question: before the results in reading and tab order."""
    with gr.Accordion("Filters: report, council, dates (optional)", open=False, elem_id="cqa-filters") as box:
        with gr.Row(equal_height=False):
            reports = gr.Dropdown(label="Reports", choices=[], multiselect=True, elem_id="cqa-report-filter",
                                  min_width=240)
            council = gr.Dropdown(label="Council", choices=[("All councils", "")], value="",
                                  elem_id="cqa-council-filter", min_width=180)
            since = gr.Textbox(label="From date (YYYY-MM-DD)", placeholder="2019-01-01", max_length=10,
                               elem_id="cqa-since", min_width=150)
            until = gr.Textbox(label="To date (YYYY-MM-DD)", placeholder="2020-12-31", max_length=10,
                               elem_id="cqa-until", min_width=150)
            committee = gr.Dropdown(label="Committee", choices=[("All committees", "")], value="",
                                    elem_id="cqa-committee-filter", min_width=180)
    return box, reports, council, since, until, committee


def _ask_tab() -> _Ask:
    gr.HTML('<p class="cqa-intro">Answers are quoted word for word from the reports and cited by their '
            "numbered paragraph. Click a source to read the whole paragraph.</p>")
    question = gr.Textbox(label="Your question", placeholder="e.g. what happened to sickness absence?",
                          lines=1, max_length=MAX_QUESTION_CHARS, elem_id="cqa-question", autofocus=True)
    with gr.Row():
        ask_btn = gr.Button("Ask", variant="primary", elem_id="cqa-ask", scale=0, min_width=120)
        clear_btn = gr.Button("Clear", scale=0, min_width=100, elem_id="cqa-clear")
    filters, reports, council, since, until, committee = _filters()
    gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[question], label="Example questions")
    answer = gr.HTML(elem_id="cqa-answer-box")
    narrow = gr.Radio(label="Narrow to one report (click a report to ask again within it)",
                      choices=[], visible=False, elem_id="cqa-narrow")
    sources = gr.HTML(elem_id="cqa-sources-box")
    gr.HTML(f'<p class="cqa-hint">{render.esc(BUSY_HINT)}</p>')
    return _Ask(question, ask_btn, clear_btn, answer, narrow, sources, filters, reports, council, since, until,
                committee)


@dataclass
class _Clerk:
    question: Any
    button: Any
    draft: Any
    state: Any
    statement: Any
    swap: Any
    remove: Any
    docx: Any
    md: Any


def _clerk_tab() -> _Clerk:
    gr.HTML('<p class="cqa-intro">Paste a formal question. The draft is built only from sentences quoted '
            "from the reports, each cited by paragraph, then a numbered list of sources. Swap a statement for "
            "the next-best source or remove it, then edit the text, copy it, or download it.</p>")
    question = gr.Textbox(label="Formal question", lines=3, max_length=2000, elem_id="cqa-clerk-question",
                          placeholder=CLERK_EXAMPLES[0])
    gr.Examples(examples=[[q] for q in CLERK_EXAMPLES], inputs=[question], label="Example questions")
    button = gr.Button("Draft reply", variant="primary", elem_id="cqa-draft")
    state = gr.State(None)
    with gr.Row(equal_height=True):
        statement = gr.Dropdown(label="Statement", choices=[], visible=False, elem_id="cqa-statement", scale=3)
        swap = gr.Button("Swap for the next source", elem_id="cqa-swap", scale=1)
        remove = gr.Button("Remove statement", elem_id="cqa-remove-statement", scale=1)
    draft = gr.Textbox(label="Draft reply (editable: swap or remove statements before editing the text)",
                       lines=16, max_lines=40, interactive=True, buttons=["copy"], elem_id="cqa-draft-text")
    with gr.Row():
        docx = gr.DownloadButton("Download Word (.docx)", interactive=False, elem_id="cqa-docx")
        md = gr.DownloadButton("Download Markdown (.md)", interactive=False, elem_id="cqa-md")
    return _Clerk(question, button, draft, state, statement, swap, remove, docx, md)


def _wire_clerk(library: Library, c: _Clerk) -> None:
    outputs = [c.draft, c.state, c.statement]
    c.button.click(lambda q: handlers.draft_start(library, q), c.question, outputs, api_visibility="private",
                   concurrency_id="ask")
    c.question.submit(lambda q: handlers.draft(library, q), c.question, c.draft, api_name="draft",
                      concurrency_id="ask")  # the API's "draft" returns the text alone
    c.swap.click(handlers.draft_swap, [c.state, c.statement], outputs, api_visibility="private", queue=False)
    c.remove.click(handlers.draft_remove, [c.state, c.statement], outputs, api_visibility="private", queue=False)
    c.draft.change(lambda text, d: handlers.draft_files(library, text, d), [c.draft, c.state], [c.docx, c.md],
                   trigger_mode="always_last", api_visibility="private", show_progress="hidden")


def _library_tab() -> dict[str, Any]:
    summary = gr.HTML()
    table = gr.HTML(elem_id="cqa-library")
    with gr.Row(equal_height=False):
        with gr.Column():
            gr.HTML(f'<h2 class="cqa-h2">Add reports</h2><p class="cqa-intro">PDF, Word (.docx), Markdown or '
                    f"text files, up to {MAX_UPLOAD_MB} MB each.</p>")
            upload = gr.File(label="Report files", file_count="multiple", file_types=list(UPLOAD_SUFFIXES),
                             elem_id="cqa-upload")
            upload_btn = gr.Button("Add to library", variant="primary", elem_id="cqa-add")
            upload_result = gr.HTML(elem_id="cqa-upload-result")
        with gr.Column():
            gr.HTML('<h2 class="cqa-h2">Remove a report from the library</h2>')
            remove_choice = gr.Dropdown(label="Report to remove", choices=[], elem_id="cqa-remove-choice")
            remove_btn = gr.Button("Remove from library", variant="stop", elem_id="cqa-remove")
            remove_result = gr.HTML(elem_id="cqa-remove-result")
            with gr.Row(visible=False, elem_id="cqa-remove-confirm") as confirm_row:
                confirm_btn = gr.Button("Yes, remove it", variant="stop", elem_id="cqa-remove-yes")
                cancel_btn = gr.Button("Cancel", elem_id="cqa-remove-cancel")
    return dict(summary=summary, table=table, upload=upload, upload_btn=upload_btn, upload_result=upload_result,
                remove_choice=remove_choice, remove_btn=remove_btn, remove_result=remove_result,
                confirm_row=confirm_row, confirm_btn=confirm_btn, cancel_btn=cancel_btn, **_correct_section())


def _correct_section() -> dict[str, Any]:
    """Correct a report's title, date, council or committee (kept in its sidecar; nothing re-embedded)."""
    gr.HTML('<h2 class="cqa-h2">Correct a report’s details</h2><p class="cqa-intro">What a report is cited as. '
            "The correction is kept beside the report file and used at once; nothing is read again.</p>")
    choice = gr.Dropdown(label="Report to correct", choices=[], elem_id="cqa-edit-choice")
    with gr.Row(equal_height=False):
        title = gr.Textbox(label="Title", max_length=300, elem_id="cqa-edit-title", min_width=240, scale=2)
        day = gr.Textbox(label="Meeting date (YYYY-MM-DD)", max_length=10, elem_id="cqa-edit-date", min_width=150)
        council = gr.Textbox(label="Council", max_length=300, elem_id="cqa-edit-council", min_width=180)
        committee = gr.Textbox(label="Committee", max_length=300, elem_id="cqa-edit-committee", min_width=180)
    save = gr.Button("Save correction", variant="primary", elem_id="cqa-edit-save")
    result = gr.HTML(elem_id="cqa-edit-result")
    return dict(edit_choice=choice, edit_boxes=[title, day, council, committee], edit_save=save,
                edit_result=result)


def _wire_ask(library: Library, a: _Ask) -> None:
    def ask(question: str, reports: Any, council: str | None, since: str, until: str,
            committee: str | None = "") -> tuple[str, str, Any]:
        return handlers.ask(library, question, reports, council, since, until, committee)

    inputs = [a.question, a.reports, a.council, a.since, a.until, a.committee]
    outputs = [a.answer, a.sources, a.narrow]
    a.ask_btn.click(ask, inputs, outputs, api_name="ask", concurrency_id="ask")
    a.question.submit(ask, inputs, outputs, api_visibility="private", concurrency_id="ask")
    a.clear_btn.click(lambda: ("", "", "", gr.update(choices=[], value=None, visible=False)), None,
                      [a.question, a.answer, a.sources, a.narrow], api_visibility="private", queue=False)
    narrowed = a.narrow.input(handlers.narrow_to, a.narrow, a.reports, api_visibility="private", queue=False)
    narrowed.then(lambda: gr.Accordion(open=True), None, a.filters, api_visibility="private", queue=False)
    narrowed.then(ask, inputs, outputs, api_visibility="private", concurrency_id="ask")


def _wire_library(library: Library, lib: dict[str, Any], refresh_targets: list[Any]) -> None:
    def upload(files: list[Any] | None, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008 - Gradio's way
        return handlers.upload(library, files, progress)

    def view() -> tuple[Any, Any]:
        return library_view(library)

    def choices() -> tuple[Any, Any, Any]:
        return handlers.filter_choices(library)

    def save(source: str | None, title: str, day: str, council: str, committee: str) -> str:
        return handlers.edit_save(library, source, title, day, council, committee)

    confirm = [lib["remove_result"], lib["confirm_row"]]
    lib["remove_btn"].click(lambda s: handlers.remove_ask(library, s), lib["remove_choice"], confirm,
                            api_visibility="private", queue=False)
    lib["cancel_btn"].click(handlers.remove_cancel, None, confirm, api_visibility="private", queue=False)
    lib["edit_choice"].input(lambda s: handlers.edit_fields(library, s), lib["edit_choice"], lib["edit_boxes"],
                             api_visibility="private", queue=False)
    for button, fn, source, result in (
            (lib["upload_btn"], upload, [lib["upload"]], lib["upload_result"]),
            (lib["confirm_btn"], lambda s: handlers.remove_confirm(library, s), [lib["remove_choice"]], confirm),
            (lib["edit_save"], save, [lib["edit_choice"], *lib["edit_boxes"]], lib["edit_result"])):
        button.click(fn, source, result, api_visibility="private", concurrency_limit=1,
                     concurrency_id="library").then(
            view, None, [lib["table"], lib["summary"]], api_visibility="private").then(
            choices, None, refresh_targets, api_visibility="private")


def library_view(library: Library) -> tuple[Any, Any]:
    """The Library table as accessible HTML (a real table, stacked on a phone) and its summary."""
    table, summary = handlers.library_view(library)
    rows = table.get("value") if isinstance(table, dict) else table
    return gr.update(value=render.library_table(rows or [])), summary


def build_app(library: Library) -> gr.Blocks:
    """The Gradio Blocks app over ``library``."""
    with gr.Blocks(title="Council reports: ask, cite, draft", delete_cache=(3600, 7200)) as demo:
        gr.HTML('<h1 class="cqa-title">Council reports: ask a question, get the paragraph that answers it</h1>')
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                a = _ask_tab()
            with gr.Tab("Clerk: draft a reply", id="clerk"):
                clerk = _clerk_tab()
            with gr.Tab("Library", id="library"):
                lib = _library_tab()
        _wire_ask(library, a)
        _wire_clerk(library, clerk)
        refresh_targets = [a.reports, a.council, lib["remove_choice"], lib["edit_choice"]]
        _wire_library(library, lib, refresh_targets)
        demo.load(lambda: library_view(library), None, [lib["table"], lib["summary"]],
                  api_visibility="private", queue=False)
        demo.load(lambda: handlers.committee_choices(library), None, a.committee, api_visibility="private",
                  queue=False)
        demo.load(lambda: handlers.filter_choices(library), None, refresh_targets, api_visibility="private",
                  queue=False)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_MAX_SIZE)
    return demo
