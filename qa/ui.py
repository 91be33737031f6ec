"""The browser app: members ask, clerks draft replies, anyone looks after the library.

Three tabs on one Gradio Blocks page:

* **Ask**: a question, the answer quoted with numbered markers, the sources grouped by
  report (expand one to read the whole paragraph with the answering sentence marked,
  open the report at that page), filters by report, council and date.
* **Clerk**: a formal question becomes an editable draft reply in house style
  (:mod:`qa.draft`), downloadable as ``.docx`` and ``.md``.
* **Library**: the reports in the index, upload new ones, remove one.

Safety: every piece of report text goes through :func:`html.escape` before it is put into
HTML; only files the index knows are served (``/report/{source}``), never the index or
corpus folders; uploads are limited by type and size; the queue is bounded.

Imported only by the serve paths (``council-qa serve``, ``python app.py``).
"""

from __future__ import annotations

import html
import logging
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gradio as gr

from ingest.errors import CouncilQAError
from qa.draft import draft_reply, long_date, short_date, to_markdown, write_docx
from qa.records import Answer, Citation, Filters, ReportInfo

log = logging.getLogger("council_qa.ui")

UPLOAD_SUFFIXES = (".pdf", ".md", ".txt", ".docx")
MAX_UPLOAD_MB = 50
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
QUEUE_MAX_SIZE = 64
"""Requests waiting beyond this are turned away with Gradio's "currently busy" message."""
CONCURRENCY = 2
"""Questions answered at once (the embedder shares the machine's cores)."""
TOP_K = 5
UPLOADS = "uploads"
"""Sub-folder of the corpus folder where uploaded reports are kept (so a rebuild keeps them)."""

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
EMPTY_LIBRARY = (
    "The library is empty, so there is nothing to answer from yet. "
    "Add reports on the Library tab."
)
BUSY_HINT = "If the page says it is busy, many people are asking at once: wait a moment and try again."

CSS = """
.gradio-container { max-width: 1180px !important; margin: 0 auto !important; }
.cqa-intro { font-size: 1rem; color: var(--body-text-color); margin: 0 0 .25rem 0; }
.cqa-cited { list-style: none; padding: 0; margin: .5rem 0 0 0; font-size: .92rem;
  color: var(--body-text-color-subdued); }
.cqa-cited a { text-decoration: none; font-weight: 600; margin-right: .3em; }
.cqa-answer { font-size: 1.08rem; line-height: 1.6; padding: .9rem 1.1rem; border-radius: 8px;
  background: var(--background-fill-secondary); border-left: 4px solid #1f5f8b; }
.cqa-answer .cqa-label { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em;
  color: var(--body-text-color-subdued); margin-bottom: .3rem; }
.cqa-notice { font-size: 1.02rem; line-height: 1.55; padding: .8rem 1.1rem; border-radius: 8px;
  background: #fff7e0; border-left: 4px solid #c98a00; color: #3d2f00; }
.cqa-error { background: #fdecec; border-left-color: #b42318; color: #4a1010; }
.cqa-marker { font-size: .8em; vertical-align: super; text-decoration: none; font-weight: 600;
  margin-left: 1px; }
.cqa-sources h3 { font-size: 1.05rem; margin: 1.1rem 0 .4rem 0; }
.cqa-report { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: .7rem .9rem; margin: .6rem 0; background: var(--background-fill-primary); }
.cqa-report-title { font-weight: 600; font-size: 1.02rem; }
.cqa-meta { font-size: .9rem; color: var(--body-text-color-subdued); margin: .1rem 0 .4rem 0; }
.cqa-report details { border-top: 1px solid var(--border-color-primary); padding: .45rem 0; }
.cqa-report summary { cursor: pointer; line-height: 1.45; }
.cqa-num { display: inline-block; min-width: 1.9em; font-weight: 600; color: #1f5f8b; }
.cqa-where { font-weight: 600; }
.cqa-snippet { display: block; margin: .2rem 0 0 1.9em; color: var(--body-text-color); font-size: .95rem; }
.cqa-para { margin: .5rem 0 .3rem 1.9em; line-height: 1.6; white-space: pre-wrap; }
.cqa-para mark { background: #ffe58a; color: inherit; padding: 0 .1em; }
.cqa-cite { margin: .2rem 0 0 1.9em; font-size: .88rem; color: var(--body-text-color-subdued); }
.cqa-results table { border-collapse: collapse; width: 100%; font-size: .95rem; }
.cqa-results td, .cqa-results th { border: none !important;
  border-bottom: 1px solid var(--border-color-primary) !important;
  text-align: left; padding: .35rem .5rem; vertical-align: top; }
#cqa-library, #cqa-library * { font-family: var(--font) !important; }
.cqa-ok { color: #146c2e; font-weight: 600; }
.cqa-bad { color: #b42318; font-weight: 600; }
"""

_MARKER = re.compile(r"\[(\d+)\]")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def esc(text: object) -> str:
    """Report text (or anything derived from it) made safe to put into HTML."""
    return html.escape("" if text is None else str(text), quote=True)


class CachingEmbedder:
    """Wraps an embedder and remembers the vectors of texts it has seen (bounded, LRU).

    ``qa.answer`` embeds the sentences of every retrieved paragraph for each question; the
    same paragraphs come back for many questions, so after the first few questions only
    the question itself needs the model. Vectors are unit length either way.
    """

    def __init__(self, inner: Any, max_items: int = 50_000) -> None:
        from collections import OrderedDict

        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.max_items = max_items
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> Any:
        import numpy as np

        texts = list(texts)
        out: list[Any] = [None] * len(texts)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for i, text in enumerate(texts):
                vector = self._cache.get(text)
                if vector is None:
                    missing.setdefault(text, []).append(i)
                else:
                    self._cache.move_to_end(text)
                    out[i] = vector
        if missing:
            fresh = self.inner.encode(list(missing))
            with self._lock:
                for (text, rows), vector in zip(missing.items(), fresh, strict=True):
                    vector = np.array(vector, dtype=np.float32)
                    for i in rows:
                        out[i] = vector
                    self._cache[text] = vector
                while len(self._cache) > self.max_items:
                    self._cache.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(np.stack(out), dtype=np.float32)


# ---------------------------------------------------------------------------------------
# The library: one embedder and one open index per process, reopened when it goes stale.


class Library:
    """The index the app reads, the embedder it asks with, and the folders it writes to."""

    def __init__(self, index_dir: Path, corpus_dir: Path, embedder: Any = None) -> None:
        self.index_dir = Path(index_dir)
        self.corpus_dir = Path(corpus_dir)
        self._embedder = CachingEmbedder(embedder) if embedder is not None else None
        self._reader: Any = None
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self.tmp = Path(tempfile.mkdtemp(prefix="council-qa-drafts-"))

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    from ingest.embed import load_embedder

                    self._embedder = CachingEmbedder(load_embedder())
        return self._embedder

    def reader(self) -> Any:
        """The open index, reopened if a newer ingest replaced it; None when there is none."""
        from qa.store import IndexReader

        with self._lock:
            if self._reader is not None and self._reader.is_stale():
                self._reader = None  # the old handle closes when no request uses it any more
            if self._reader is None:
                if not IndexReader.exists(self.index_dir):
                    return None
                self._reader = IndexReader.open(self.index_dir)
            return self._reader

    def refresh(self) -> None:
        with self._lock:
            self._reader = None

    def reports(self) -> list[ReportInfo]:
        reader = self.reader()
        return reader.reports() if reader is not None else []

    def report(self, source: str) -> ReportInfo | None:
        reader = self.reader()
        return reader.report(source) if reader is not None else None

    def councils(self) -> list[str]:
        return sorted({r.council for r in self.reports() if r.council})

    def ask(self, question: str, filters: Filters | None = None, k: int = TOP_K) -> Answer | None:
        """The answer, or None when the index is empty."""
        from qa.answer import answer

        reader = self.reader()
        if reader is None or not reader.reports():
            return None
        return answer(reader, self.embedder, question, k=k, filters=filters or Filters())

    @property
    def uploads_dir(self) -> Path:
        return self.corpus_dir / UPLOADS

    def ingest(self, paths: Sequence[Path], progress: Callable[[int, int, str], None] | None = None) -> Any:
        from ingest.index import ingest_paths

        with self._write_lock:
            summary = ingest_paths(list(paths), self.index_dir, embedder=self.embedder.inner,
                                   progress=progress)
        self.refresh()
        return summary

    def remove(self, source: str) -> bool:
        from ingest.index import remove_report

        info = self.report(source)
        with self._write_lock:
            removed = remove_report(self.index_dir, source)
        self.refresh()
        if removed and info is not None:
            path = Path(info.path)
            # An uploaded copy goes too (so a rebuild does not bring it back); corpus files stay.
            if path.parent.resolve() == self.uploads_dir.resolve() and path.is_file():
                path.unlink()
        return removed


# ---------------------------------------------------------------------------------------
# HTML rendering (every report-derived string passes through esc()).


def report_href(source: str, page: int | None = None) -> str:
    href = "report/" + quote(source, safe="")
    if page and source.lower().endswith(".pdf"):
        href += f"#page={int(page)}"
    return href


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
    if re.match(r"^p\d+-\d+$", c.paragraph):
        return f"page {c.page}"
    return f"para {c.paragraph}, page {c.page}" if c.page else f"para {c.paragraph}"


def _snippet(c: Citation, limit: int = 220) -> str:
    words = " ".join((c.highlight or c.text).split())
    if len(words) > limit:
        words = words[:limit].rsplit(" ", 1)[0] + " …"
    return words


def render_answer(answer: Answer) -> str:
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
    return (f'<div class="cqa-answer" id="cqa-answer"{asked}><div class="cqa-label">Answer</div>'
            f"<div>{body}</div>{cited_html}</div>")


def group_by_report(citations: Sequence[Citation]) -> list[tuple[str, list[Citation]]]:
    groups: dict[str, list[Citation]] = {}
    for c in sorted(citations, key=lambda c: c.rank):
        groups.setdefault(c.source, []).append(c)
    return list(groups.items())


def render_sources(answer: Answer, reports: dict[str, ReportInfo] | None = None) -> str:
    if not answer.citations:
        return ""
    reports = reports or {}
    heading = "Closest paragraphs, by report" if answer.abstained else "Sources, by report"
    parts = [f'<div class="cqa-sources"><h3>{heading}</h3>']
    for source, cites in group_by_report(answer.citations):
        first = cites[0]
        info = reports.get(source)
        meta = [long_date(first.date) or "undated"]
        if first.council:
            meta.append(first.council)
        if info is not None and info.meeting:
            meta.append(info.meeting)
        n = len(cites)
        meta.append(f"{n} paragraph{'s' if n != 1 else ''} here")
        parts.append(
            f'<section class="cqa-report" data-source="{esc(source)}">'
            f'<div class="cqa-report-title">{esc(first.title)}</div>'
            f'<div class="cqa-meta">{" · ".join(esc(m) for m in meta)} · '
            f'<a href="{esc(report_href(source))}" target="_blank" rel="noopener">Open report</a></div>'
        )
        for c in cites:
            heading_html = f" — {esc(c.heading)}" if c.heading else ""
            page_link = ""
            if c.page:
                label = f"Open at page {c.page}" if source.lower().endswith(".pdf") else "Open report"
                page_link = (f' · <a href="{esc(report_href(source, c.page))}" target="_blank" '
                             f'rel="noopener">{label}</a>')
            parts.append(
                f'<details id="cqa-src-{c.rank}" class="cqa-source">'
                f'<summary><span class="cqa-num">[{c.rank}]</span>'
                f'<span class="cqa-where">{esc(_where(c))}</span>{heading_html}'
                f'<span class="cqa-snippet">“{esc(_snippet(c))}”</span></summary>'
                f'<div class="cqa-para">{_marked_paragraph(c.text, c.highlight)}</div>'
                f'<div class="cqa-cite">Cite as: {esc(c.cite or c.title)}{page_link}</div>'
                "</details>"
            )
        parts.append("</section>")
    parts.append("</div>")
    return "".join(parts)


def notice(message: str, *, error: bool = False) -> str:
    cls = "cqa-notice cqa-error" if error else "cqa-notice"
    return f'<div class="{cls}" id="cqa-answer">{esc(message)}</div>'


def _report_choice(r: ReportInfo) -> tuple[str, str]:
    when = short_date(r.date) or "undated"
    return (f"{r.title} ({when})", r.source)


def library_rows(reports: Sequence[ReportInfo]) -> list[list[Any]]:
    return [[r.title, long_date(r.date) or "undated", r.council or "—", r.paragraphs, r.source]
            for r in reports]


LIBRARY_HEADERS = ["Title", "Date", "Council", "Paragraphs", "File"]


# ---------------------------------------------------------------------------------------
# The app


def _parse_date(text: str | None, what: str) -> str | None:
    text = (text or "").strip()
    if not text:
        return None
    if not _ISO.match(text):
        raise CouncilQAError(f"The {what} date should look like 2020-02-13 (year-month-day).")
    try:
        date.fromisoformat(text)
    except ValueError as exc:
        raise CouncilQAError(f"The {what} date {text} is not a real date.") from exc
    return text


def _filters(reports: Sequence[str] | str | None, council: str | None, since: str | None,
             until: str | None) -> Filters:
    if isinstance(reports, str):
        reports = [reports] if reports else []
    return Filters(
        reports=tuple(r for r in (reports or []) if r),
        council=council or None,
        since=_parse_date(since, "From"),
        until=_parse_date(until, "To"),
    )


def _unexpected(exc: BaseException) -> str:
    log.exception("unexpected error in the app")
    print(f"council-qa app: unexpected error: {exc!r}", file=sys.stderr)
    return ("Something went wrong on our side. Please try again; "
            "if it keeps happening, tell the clerk's office.")


def build_app(index_dir: Path, *, corpus_dir: Path, embedder: Any = None) -> gr.Blocks:
    """The Gradio Blocks app over the index at ``index_dir`` (uploads go under ``corpus_dir``)."""
    return _build(Library(index_dir, corpus_dir, embedder))


def _build(library: Library) -> gr.Blocks:
    def filter_updates() -> tuple[Any, Any, Any]:
        reports = library.reports()
        choices = [_report_choice(r) for r in reports]
        councils = [("All councils", "")] + [(c, c) for c in library.councils()]
        return (
            gr.update(choices=choices),
            gr.update(choices=councils),
            gr.update(choices=choices, value=None),
        )

    def do_ask(question: str, reports: list[str] | None, council: str | None, since: str,
               until: str) -> tuple[str, str, Any]:
        question = (question or "").strip()
        hide = gr.update(choices=[], value=None, visible=False)
        if not question:
            return notice("Type a question first, or pick one of the examples."), "", hide
        try:
            filters = _filters(reports, council, since, until)
            result = library.ask(question, filters)
            if result is None:
                return notice(EMPTY_LIBRARY), "", hide
            known = {r.source: r for r in library.reports()}
        except CouncilQAError as exc:
            return notice(str(exc), error=True), "", hide
        except Exception as exc:  # noqa: BLE001 - the member sees a plain message, the log the trace
            return notice(_unexpected(exc), error=True), "", hide
        groups = group_by_report(result.citations)
        narrow = hide
        if len(groups) > 1 or filters.reports:
            choices = [("All reports", "")] + [
                (f"{cites[0].title} ({short_date(cites[0].date) or 'undated'})", source)
                for source, cites in groups
            ]
            if filters.reports and len(filters.reports) == 1 and filters.reports[0] not in dict(
                    (v, k) for k, v in choices):
                info = known.get(filters.reports[0])
                if info is not None:
                    choices.append(_report_choice(info))
            value = filters.reports[0] if len(filters.reports) == 1 else ""
            narrow = gr.update(choices=choices, value=value, visible=True)
        return render_answer(result), render_sources(result, known), narrow

    def narrow_to(source: str | None) -> Any:
        return gr.update(value=[source] if source else [])

    def do_draft(question: str) -> str:
        question = (question or "").strip()
        if not question:
            return "Paste the formal question above, then press Draft reply."
        try:
            result = library.ask(question)
            if result is None:
                return EMPTY_LIBRARY
            known = {r.source: r for r in library.reports()}
        except CouncilQAError as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001
            return _unexpected(exc)
        return draft_reply(question, result, reports=known)

    def make_files(text: str) -> tuple[Any, Any]:
        if not (text or "").strip():
            return gr.update(value=None, interactive=False), gr.update(value=None, interactive=False)
        folder = Path(tempfile.mkdtemp(dir=library.tmp))
        docx_path = write_docx(text, folder / "draft-reply.docx")
        md_path = folder / "draft-reply.md"
        md_path.write_text(to_markdown(text), encoding="utf-8")
        return (gr.update(value=str(docx_path), interactive=True),
                gr.update(value=str(md_path), interactive=True))

    def library_view() -> tuple[Any, Any]:
        reports = library.reports()
        summary = (f"{len(reports)} report{'s' if len(reports) != 1 else ''} in the library."
                   if reports else EMPTY_LIBRARY)
        return gr.update(value=library_rows(reports)), gr.update(value=esc(summary))

    def do_upload(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        if not files:
            return notice("Choose one or more report files first (PDF, Word .docx, Markdown or text).")
        rows: list[tuple[str, bool, str]] = []
        accepted: list[Path] = []
        library.uploads_dir.mkdir(parents=True, exist_ok=True)
        for item in files:
            path = Path(item if isinstance(item, str) else getattr(item, "name", str(item)))
            name = _safe_name(path.name)
            suffix = path.suffix.lower()
            if suffix not in UPLOAD_SUFFIXES:
                kinds = ", ".join(UPLOAD_SUFFIXES)
                rows.append((name, False, f"not accepted: only {kinds} files can be added"))
                continue
            size = path.stat().st_size if path.exists() else 0
            if size > MAX_UPLOAD_BYTES:
                rows.append((name, False, f"not accepted: larger than {MAX_UPLOAD_MB} MB"))
                continue
            if size == 0:
                rows.append((name, False, "not accepted: the file is empty"))
                continue
            target = library.uploads_dir / name
            shutil.copyfile(path, target)
            accepted.append(target)
        if accepted:
            def report_progress(done: int, total: int, message: str) -> None:
                progress((done, max(total, 1)), desc=message)

            try:
                summary = library.ingest(accepted, report_progress)
            except CouncilQAError as exc:
                rows.append(("(all files)", False, str(exc)))
            except Exception as exc:  # noqa: BLE001
                rows.append(("(all files)", False, _unexpected(exc)))
            else:
                for r in summary.results:
                    ok = r.status in ("added", "updated", "unchanged")
                    detail = {
                        "added": f"added ({r.paragraphs} paragraphs)",
                        "updated": f"updated ({r.paragraphs} paragraphs)",
                        "unchanged": "already in the library, unchanged",
                        "duplicate": "not added: the same report is already in the library"
                                     + (f" ({r.reason})" if r.reason else ""),
                    }.get(r.status, f"not added: {r.reason or r.status}")
                    rows.append((r.source, ok, detail))
                    if r.status in ("failed", "duplicate"):
                        bad = library.uploads_dir / r.source
                        if bad.is_file() and library.report(r.source) is None:
                            bad.unlink()
        return _results_table(rows)

    def do_remove(source: str | None) -> str:
        if not source:
            return notice("Choose a report to remove first.")
        info = library.report(source)
        title = info.title if info else source
        try:
            removed = library.remove(source)
        except CouncilQAError as exc:
            return notice(str(exc), error=True)
        except Exception as exc:  # noqa: BLE001
            return notice(_unexpected(exc), error=True)
        if not removed:
            return notice(f"{source} is not in the library.")
        return notice(f"Removed “{title}” ({source}) from the library.")

    with gr.Blocks(title="Council reports: ask, cite, draft", delete_cache=(3600, 7200)) as demo:
        gr.Markdown("## Council reports: ask a question, get the paragraph that answers it")
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                gr.HTML(
                    '<p class="cqa-intro">Answers are quoted word for word from the reports and '
                    "cited by their numbered paragraph. Click a source to read the whole paragraph."
                    "</p>"
                )
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        question = gr.Textbox(
                            label="Your question", placeholder="e.g. what happened to sickness absence?",
                            lines=1, max_length=500, elem_id="cqa-question", autofocus=True,
                        )
                        with gr.Row():
                            ask_btn = gr.Button("Ask", variant="primary", elem_id="cqa-ask", scale=0,
                                                min_width=120)
                            clear_btn = gr.Button("Clear", scale=0, min_width=100)
                        gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[question],
                                    label="Example questions")
                        answer_html = gr.HTML(elem_id="cqa-answer-box")
                        narrow = gr.Radio(label="Narrow to one report (click a report to ask again "
                                                "within it)", choices=[], visible=False,
                                          elem_id="cqa-narrow")
                        sources_html = gr.HTML(elem_id="cqa-sources-box")
                    with gr.Column(scale=1, min_width=260):
                        gr.Markdown("**Filters** (optional)")
                        report_filter = gr.Dropdown(label="Reports", choices=[], multiselect=True,
                                                    elem_id="cqa-report-filter")
                        council_filter = gr.Dropdown(label="Council", choices=[("All councils", "")],
                                                     value="")
                        since = gr.Textbox(label="From date", placeholder="2019-01-01", max_length=10)
                        until = gr.Textbox(label="To date", placeholder="2020-12-31", max_length=10)
                        gr.Markdown(BUSY_HINT, elem_classes=["cqa-intro"])

            with gr.Tab("Clerk: draft a reply", id="clerk"):
                gr.HTML(
                    '<p class="cqa-intro">Paste a formal question. The draft is built only from '
                    "sentences quoted from the reports, each cited by paragraph, then a numbered list "
                    "of sources. Edit it here, copy it, or download it.</p>"
                )
                clerk_question = gr.Textbox(label="Formal question", lines=3, max_length=2000,
                                            elem_id="cqa-clerk-question",
                                            placeholder=CLERK_EXAMPLES[0])
                gr.Examples(examples=[[q] for q in CLERK_EXAMPLES], inputs=[clerk_question],
                            label="Example questions")
                draft_btn = gr.Button("Draft reply", variant="primary", elem_id="cqa-draft")
                draft = gr.Textbox(label="Draft reply (editable)", lines=16, max_lines=40,
                                   interactive=True, buttons=["copy"], elem_id="cqa-draft-text")
                with gr.Row():
                    docx_btn = gr.DownloadButton("Download Word (.docx)", interactive=False,
                                                 elem_id="cqa-docx")
                    md_btn = gr.DownloadButton("Download Markdown (.md)", interactive=False,
                                               elem_id="cqa-md")

            with gr.Tab("Library", id="library"):
                library_summary = gr.HTML()
                table = gr.Dataframe(headers=LIBRARY_HEADERS, interactive=False, wrap=True,
                                     elem_id="cqa-library", column_widths=["38%", "14%", "20%", "10%", "18%"])
                with gr.Row(equal_height=False):
                    with gr.Column():
                        gr.Markdown(f"**Add reports**: PDF, Word (.docx), Markdown or text files, "
                                    f"up to {MAX_UPLOAD_MB} MB each.")
                        upload = gr.File(label="Report files", file_count="multiple",
                                         file_types=list(UPLOAD_SUFFIXES), elem_id="cqa-upload")
                        upload_btn = gr.Button("Add to library", variant="primary", elem_id="cqa-add")
                        upload_result = gr.HTML(elem_id="cqa-upload-result")
                    with gr.Column():
                        gr.Markdown("**Remove a report** from the library")
                        remove_choice = gr.Dropdown(label="Report", choices=[], elem_id="cqa-remove-choice")
                        remove_btn = gr.Button("Remove from library", variant="stop", elem_id="cqa-remove")
                        remove_result = gr.HTML()

        ask_inputs = [question, report_filter, council_filter, since, until]
        ask_outputs = [answer_html, sources_html, narrow]
        ask_btn.click(do_ask, ask_inputs, ask_outputs, api_name="ask", concurrency_id="ask")
        question.submit(do_ask, ask_inputs, ask_outputs, api_visibility="private", concurrency_id="ask")
        clear_btn.click(lambda: ("", "", "", gr.update(choices=[], value=None, visible=False)),
                        None, [question, answer_html, sources_html, narrow], api_visibility="private",
                        queue=False)
        narrow.input(narrow_to, narrow, report_filter, api_visibility="private", queue=False).then(
            do_ask, ask_inputs, ask_outputs, api_visibility="private", concurrency_id="ask")

        draft_btn.click(do_draft, clerk_question, draft, api_name="draft", concurrency_id="ask")
        draft.change(make_files, draft, [docx_btn, md_btn], trigger_mode="always_last",
                     api_visibility="private", show_progress="hidden")

        upload_btn.click(do_upload, upload, upload_result, api_visibility="private",
                         concurrency_limit=1, concurrency_id="library").then(
            library_view, None, [table, library_summary], api_visibility="private").then(
            filter_updates, None, [report_filter, council_filter, remove_choice], api_visibility="private")
        remove_btn.click(do_remove, remove_choice, remove_result, api_visibility="private",
                         concurrency_limit=1, concurrency_id="library").then(
            library_view, None, [table, library_summary], api_visibility="private").then(
            filter_updates, None, [report_filter, council_filter, remove_choice], api_visibility="private")

        demo.load(library_view, None, [table, library_summary], api_visibility="private", queue=False)
        demo.load(filter_updates, None, [report_filter, council_filter, remove_choice],
                  api_visibility="private", queue=False)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_MAX_SIZE)
    demo.council_library = library  # type: ignore[attr-defined]  # for the /report route
    return demo


def _safe_name(name: str) -> str:
    name = Path(name).name
    name = re.sub(r"[^\w.\-() ]+", "_", name).strip(" .")
    return name or "report"


def _results_table(rows: Sequence[tuple[str, bool, str]]) -> str:
    body = "".join(
        f"<tr><td>{esc(name)}</td><td class=\"{'cqa-ok' if ok else 'cqa-bad'}\">"
        f"{'Added' if ok else 'Rejected'}</td><td>{esc(detail)}</td></tr>"
        for name, ok, detail in rows
    )
    return ('<div class="cqa-results"><table><thead><tr><th>File</th><th>Result</th><th>Detail</th>'
            f"</tr></thead><tbody>{body}</tbody></table></div>")


# ---------------------------------------------------------------------------------------
# Serving


def _report_route(library: Library) -> Callable[[str], Any]:
    from fastapi import HTTPException
    from fastapi.responses import FileResponse

    media = {".pdf": "application/pdf", ".txt": "text/plain; charset=utf-8",
             ".md": "text/plain; charset=utf-8", ".markdown": "text/plain; charset=utf-8",
             ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}

    def open_report(source: str) -> Any:
        """Serve one report file the index knows, looked up by its file name."""
        info = library.report(source)
        if info is None:
            raise HTTPException(status_code=404, detail="No such report in the library.")
        path = Path(info.path)
        suffix = path.suffix.lower()
        if not path.is_file() or suffix not in media:
            raise HTTPException(status_code=404, detail="The report file is no longer available.")
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
        if suffix != ".pdf":
            headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        disposition = "attachment" if suffix == ".docx" else "inline"
        return FileResponse(path, media_type=media[suffix], filename=info.source,
                            content_disposition_type=disposition, headers=headers)

    return open_report


def make_server(index_dir: Path, *, corpus_dir: Path, embedder: Any = None) -> Any:
    """The FastAPI app: the report route first, then the Gradio app mounted at ``/``."""
    from fastapi import FastAPI

    demo = build_app(index_dir, corpus_dir=corpus_dir, embedder=embedder)
    server = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    server.get("/report/{source}", include_in_schema=False)(_report_route(demo.council_library))
    return gr.mount_gradio_app(
        server, demo, path="/", footer_links=[], show_error=False,
        max_file_size=f"{MAX_UPLOAD_MB}mb", theme=gr.themes.Default(), css=CSS,
    )


def ensure_index(index_dir: Path, corpus_dir: Path, embedder: Any) -> None:
    """Ingest ``corpus_dir`` when the index is missing or empty."""
    from ingest.index import ingest_paths
    from qa.store import IndexReader

    if IndexReader.exists(index_dir):
        if IndexReader.open(index_dir).reports():
            return
    if not corpus_dir.is_dir():
        print(f"council-qa: the index at {index_dir} is empty and there is no {corpus_dir} to ingest; "
              "add reports on the Library tab", file=sys.stderr)
        return
    print(f"council-qa: the index at {index_dir} is empty; ingesting {corpus_dir} first …", file=sys.stderr)
    started = time.perf_counter()

    def progress(done: int, total: int, message: str) -> None:
        print(f"  [{done}/{total}] {message}", file=sys.stderr)

    summary = ingest_paths([corpus_dir], index_dir, embedder=embedder, progress=progress)
    for r in summary.results:
        extra = f" ({r.reason})" if r.reason else ""
        print(f"  {r.status:9} {r.source}{extra}", file=sys.stderr)
    print(f"council-qa: ingested in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def serve(index_dir: Path, *, corpus_dir: Path, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Start the app on ``host:port`` (127.0.0.1 unless told otherwise); blocks until stopped."""
    import uvicorn

    from ingest.embed import load_embedder

    index_dir, corpus_dir = Path(index_dir), Path(corpus_dir)
    embedder = load_embedder()
    ensure_index(index_dir, corpus_dir, embedder)
    app = make_server(index_dir, corpus_dir=corpus_dir, embedder=embedder)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"council-qa: serving {index_dir} on http://{shown}:{port}  (Ctrl+C to stop)", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="warning")
