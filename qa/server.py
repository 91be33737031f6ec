"""Serving the app: FastAPI with the report route first, the Gradio page mounted at ``/``.

Safety: binds to 127.0.0.1 unless told otherwise; serves only report files the index knows
(``/report/{source}``, and the evidence viewer ``/evidence/{source}`` of
:mod:`qa.evidence`), never the index or corpus folders; no API description (``/openapi.json``,
docs) unless asked for; a bounded queue.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from ingest.embed import Embedder
from qa.evidence import evidence_routes
from qa.layout import build_app
from qa.service import MAX_UPLOAD_MB, Library

CSS_FILE = Path(__file__).parent / "static" / "app.css"
MEDIA = {".pdf": "application/pdf", ".txt": "text/plain; charset=utf-8", ".md": "text/plain; charset=utf-8",
         ".markdown": "text/plain; charset=utf-8",
         ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def report_route(library: Library) -> Callable[[str], Any]:
    """``GET /report/{source}``: one report file the index knows, looked up by its file name."""
    from fastapi import HTTPException
    from fastapi.responses import FileResponse

    def open_report(source: str) -> Any:
        if library.report(source) is None:
            raise HTTPException(status_code=404, detail="No such report in the library.")
        path = library.report_file(source)
        if path is None or path.suffix.lower() not in MEDIA:
            raise HTTPException(status_code=404, detail="The report file is no longer available.")
        suffix = path.suffix.lower()
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
        if suffix != ".pdf":
            headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        disposition = "attachment" if suffix == ".docx" else "inline"
        return FileResponse(path, media_type=MEDIA[suffix], filename=source,
                            content_disposition_type=disposition, headers=headers)

    return open_report


async def _no_api_description(request: Any, call_next: Callable[[Any], Any]) -> Any:
    """Gradio serves an OpenAPI description of the app's endpoints; it is not served unless asked."""
    from fastapi.responses import PlainTextResponse

    if request.url.path.endswith("/openapi.json"):
        return PlainTextResponse("Not found", status_code=404)
    return await call_next(request)


STATUS_WORDS = {"common.complete": "Complete", "common.error": "Error"}
"""Gradio announces a finished or failed request to screen readers by these keys, which its English
words lack (a member trial heard "common.complete")."""


def make_server(index_dir: Path, *, corpus_dir: Path, embedder: Embedder | None = None,
                api_docs: bool = False) -> Any:
    """The FastAPI app over the index at ``index_dir``. ``embedder`` None: the index's own model."""
    from fastapi import FastAPI

    library = Library(index_dir, corpus_dir, embedder)
    demo = build_app(library)
    server = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    server.get("/report/{source}", include_in_schema=False)(report_route(library))
    evidence_page, evidence_image = evidence_routes(library)
    server.get("/evidence/{source}/page-{page}.png", include_in_schema=False)(evidence_image)
    server.get("/evidence/{source}", include_in_schema=False)(evidence_page)
    if not api_docs:
        server.middleware("http")(_no_api_description)
    app = gr.mount_gradio_app(
        server, demo, path="/", footer_links=[], show_error=False,
        max_file_size=f"{MAX_UPLOAD_MB}mb", theme=gr.themes.Default(), css=CSS_FILE.read_text(encoding="utf-8"),
        i18n=gr.I18n(en=STATUS_WORDS),
    )
    app.council_library = library  # for tests that drive the service behind a running app
    return app


def ensure_index(index_dir: Path, corpus_dir: Path, model: str | None = None) -> None:
    """Ingest ``corpus_dir`` when the index is missing or empty (with ``model`` for a new index)."""
    from ingest.index import ingest_paths
    from qa.store import IndexReader

    if IndexReader.exists(index_dir) and IndexReader.open(index_dir).reports():
        return
    if not corpus_dir.is_dir():
        print(f"council-qa: the index at {index_dir} is empty and there is no {corpus_dir} to ingest; "
              "add reports on the Library tab", file=sys.stderr)
        return
    print(f"council-qa: the index at {index_dir} is empty; ingesting {corpus_dir} first …", file=sys.stderr)
    started = time.perf_counter()

    def progress(done: int, total: int, message: str) -> None:
        print(f"  [{done}/{total}] {message}", file=sys.stderr, flush=True)

    summary = ingest_paths([corpus_dir], index_dir, model=model, progress=progress)
    for r in summary.failed:
        print(f"  failed    {r.source} ({r.reason})", file=sys.stderr)
    print(f"council-qa: ingested in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def serve(index_dir: Path, *, corpus_dir: Path, host: str = "127.0.0.1", port: int = 7860,
          model: str | None = None) -> None:
    """Start the app on ``host:port`` (127.0.0.1 unless told otherwise); blocks until stopped."""
    import uvicorn

    index_dir, corpus_dir = Path(index_dir), Path(corpus_dir)
    ensure_index(index_dir, corpus_dir, model)
    app = make_server(index_dir, corpus_dir=corpus_dir)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"council-qa: serving {index_dir} on http://{shown}:{port}  (Ctrl+C to stop)", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="warning")
