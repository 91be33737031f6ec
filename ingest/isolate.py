"""Parse untrusted report files in bounded child processes.

A hostile file (a zip bomb, a PDF that inflates or nests without end) can only cost a child
process: each child has an address-space limit (``RLIMIT_AS``) and each file a wall-clock
limit. A child over either is killed and replaced, its file is reported with a one-line
reason, and the batch goes on. Children are started from the ``forkserver`` (never a plain
fork of a parent that may hold torch threads); one long-lived child per worker reads file
after file and is restarted only after a failure. Results come back through a pipe as the
frozen ``Report`` records (in memory only; nothing is written to disk).

While the caller works on one report (embedding it), the children already read the next
(:func:`in_background` keeps them at it).

A scanned PDF is read by OCR (:mod:`ingest.ocr`) in the same child: it says so before it starts
("ocr", "start", 0, pages), which extends its file's time limit by ``PAGE_BUDGET_S`` per page
(bounded still), and reports each page read (the CLI's progress bar). Each child leads its own
process group, so a child killed for time or memory takes its ``tesseract`` processes with it.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import resource
import signal
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TypeVar

from ingest.errors import UnreadableReport
from ingest.ocr import PAGE_BUDGET_S, PAGE_TIMEOUT_S, OcrSettings
from ingest.records import Report

_EXIT_MEMORY = 86
_PRELOAD = ["ingest.report", "pypdf", "docx"]

Outcome = Report | UnreadableReport
OcrProgress = Callable[[str, int, int], None]
"""``on_ocr(file name, pages done, pages)`` while a scanned file is read by OCR."""
_START_LOCK = threading.Lock()


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start children without re-running the parent's ``__main__`` in them.

    multiprocessing re-imports the parent's main script in every spawned or forkserver child
    (for ``python app.py`` that would load gradio into each reader). The child's target lives
    in this module, so it needs nothing from ``__main__``: while a child is started, the
    parent's main module is swapped for an empty one (a few milliseconds, under a lock).
    """
    with _START_LOCK:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main


def _child_main(conn: Connection, memory_mb: int, timeout_s: float) -> None:
    """The child: limit its own memory, then read paths from the pipe until it closes."""
    limit = memory_mb * 2**20
    os.setpgid(0, 0)  # a group of its own: killing it kills its tesseract processes too
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        _serve(conn, timeout_s)
    except MemoryError:  # outside a file's reading (the limit is below what the child needs)
        os._exit(_EXIT_MEMORY)


def _serve(conn: Connection, timeout_s: float) -> None:
    from ingest.report import try_load_report

    def _cpu_backstop(extra_s: float = 0) -> None:
        # CPU-time backstop, so a child left behind by a parent killed mid-file still stops.
        used = resource.getrusage(resource.RUSAGE_SELF)
        cpu_limit = int(used.ru_utime + used.ru_stime + 2 * timeout_s + 5 + extra_s)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_limit, resource.RLIM_INFINITY))

    def events(kind: str, done: int, total: int) -> None:
        if kind == "start":
            _cpu_backstop(total * PAGE_BUDGET_S)
        conn.send(("ocr", kind, done, total))

    while True:
        try:
            path, ocr = conn.recv()
        except EOFError:  # the parent is gone or done: nothing more to read
            return
        _cpu_backstop()
        try:
            outcome = try_load_report(path, ocr, events)
            message: tuple = ("ok", outcome) if isinstance(outcome, Report) else ("error", outcome.reason)
        except MemoryError:
            message = ("memory",)
        try:
            conn.send(message)
        except OSError:  # the parent is gone: nobody to answer
            return
        if message[0] == "memory":
            return  # a fresh child replaces this one: its heap may be fragmented


@dataclass
class _Task:
    index: int
    path: Path
    deadline: float
    limit_s: float


class _Worker:
    """One child process and its end of the pipe."""

    def __init__(self, ctx: multiprocessing.context.BaseContext, memory_mb: int, timeout_s: float) -> None:
        self.conn, child_conn = ctx.Pipe()
        self.process = ctx.Process(target=_child_main, args=(child_conn, memory_mb, timeout_s),
                                   name="council-qa-reader", daemon=True)
        with _main_module_hidden():
            self.process.start()
        child_conn.close()
        self.task: _Task | None = None

    def stop(self, kill: bool) -> None:
        """Close the pipe (an idle child then exits by itself) or kill it and its process group
        (its tesseract processes); always reap."""
        self.conn.close()
        if kill and self.process.is_alive():  # is_alive() first collects an exit already made
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):  # not yet its own group: the child alone
                self.process.kill()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)


class _Pool:
    """Children that read files by index; results are collected in any order."""

    def __init__(self, workers: int, timeout_s: float, memory_mb: int, ocr: OcrSettings,
                 on_ocr: OcrProgress | None) -> None:
        self.ctx = multiprocessing.get_context("forkserver")
        self.ctx.set_forkserver_preload(_PRELOAD)
        self.timeout_s, self.memory_mb = timeout_s, memory_mb
        self.ocr, self.on_ocr = ocr, on_ocr
        self.workers: list[_Worker | None] = [None] * workers

    def idle_slot(self) -> int | None:
        return next((slot for slot, worker in enumerate(self.workers) if worker is None or worker.task is None),
                    None)

    def dispatch(self, slot: int, index: int, path: Path) -> None:
        worker = self.workers[slot]
        if worker is not None:
            try:
                worker.conn.send((path, self.ocr))
            except OSError:  # an idle child that died between files (killed from outside)
                self._replace(slot, kill=True)
                worker = None
        if worker is None:
            worker = self.workers[slot] = _Worker(self.ctx, self.memory_mb, self.timeout_s)
            worker.conn.send((path, self.ocr))
        worker.task = _Task(index, path, time.monotonic() + self.timeout_s, self.timeout_s)

    def collect(self, at_most_s: float | None = None) -> dict[int, Outcome]:
        """Wait until at least one busy child finishes, fails or runs out of time (or ``at_most_s``
        seconds have passed: then possibly nothing)."""
        busy = [worker for worker in self.workers if worker is not None and worker.task is not None]
        if not busy:
            return {}
        timeout = max(0.0, min(worker.task.deadline for worker in busy) - time.monotonic())
        timeout = timeout if at_most_s is None else min(timeout, at_most_s)
        ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout))
        results: dict[int, Outcome] = {}
        for slot, worker in enumerate(self.workers):
            if worker is None or worker.task is None:
                continue
            task = worker.task
            if worker.conn in ready or worker.process.sentinel in ready:
                outcome = self._receive(slot, worker, task)
                if outcome is not None:
                    results[task.index] = outcome
                    continue
            if time.monotonic() >= task.deadline:
                self._replace(slot, kill=True)
                results[task.index] = UnreadableReport(task.path.name,
                                                       f"took longer than {task.limit_s:g} s to read")
        return results

    def _ocr_event(self, task: _Task, kind: str, done: int, total: int) -> None:
        """A scanned file: more time (bounded, per page) once OCR starts; progress per page."""
        if kind == "start":
            extra = total * PAGE_BUDGET_S + PAGE_TIMEOUT_S
            task.deadline, task.limit_s = time.monotonic() + extra, task.limit_s + extra
        if self.on_ocr is not None:
            self.on_ocr(task.path.name, done, total)

    def _receive(self, slot: int, worker: _Worker, task: _Task) -> Outcome | None:
        """The child's answer; None while it is still at work (it only said how OCR goes)."""
        message = None
        while worker.conn.poll(0):  # a child that died without a word leaves nothing to read
            try:
                message = worker.conn.recv()
            except (EOFError, OSError):
                message = None
                break
            if message[0] != "ocr":
                break
            self._ocr_event(task, *message[1:])
            message = None
        if message is None and worker.process.is_alive():
            return None
        if message is not None and message[0] == "ok":
            worker.task = None
            return message[1]
        if message is not None and message[0] == "error":
            worker.task = None
            return UnreadableReport(task.path.name, message[1])
        self._replace(slot, kill=message is None)
        return UnreadableReport(task.path.name, self._death_reason(worker.process.exitcode, message))

    def _death_reason(self, exitcode: int | None, message: tuple | None) -> str:
        if message is not None or exitcode == _EXIT_MEMORY:
            return f"needs more than {self.memory_mb} MB of memory to read"
        if exitcode == -signal.SIGXCPU:
            return f"took longer than {self.timeout_s:g} s to read"
        how = f"signal {signal.Signals(-exitcode).name}" if exitcode and exitcode < 0 else f"exit code {exitcode}"
        return f"could not be read (the reader process stopped: {how})"

    def _replace(self, slot: int, kill: bool) -> None:
        """Stop a failed child; the next dispatch to this slot starts a fresh one."""
        worker = self.workers[slot]
        if worker is not None:
            worker.stop(kill=kill)
        self.workers[slot] = None

    def close(self) -> None:
        for slot, worker in enumerate(self.workers):
            if worker is not None:
                self._replace(slot, kill=worker.task is not None)


READ_AHEAD = 16
"""Files read ahead of the caller (beyond the one it waits for). The caller embeds about 2,048
windows at a time, a dozen reports' worth. Ahead of a caller that pulls only between batches this
gained nothing measurable (a child is handed a file only when a report is asked for); pulled by
:func:`in_background`, the ingest's wait for the reader went from 18 % of its time to under 1 %
(py-spy). 16 reports' text is little memory."""


def read_reports(paths: Sequence[Path], *, timeout_s: float = 60, memory_mb: int = 1024, workers: int = 1,
                 ocr: OcrSettings | None = None, on_ocr: OcrProgress | None = None,
                 stop: threading.Event | None = None) -> Iterator[tuple[Path, Report | UnreadableReport]]:
    """Each file's report, or the reason it cannot be read, in input order.

    Files are read in ``workers`` child processes, each limited to ``memory_mb`` MB of address
    space and ``timeout_s`` seconds per file (plus ``PAGE_BUDGET_S`` per scanned page read by
    OCR with ``ocr``, default :meth:`OcrSettings.default`; ``on_ocr`` hears of each page); up to
    :data:`READ_AHEAD` files (at least two per worker) are read ahead while the caller handles the
    current one. Closing the iterator early stops the children, and so does setting ``stop`` (seen
    within :data:`STOP_POLL_S`, even while a child is still reading: for :func:`in_background`).
    """
    if workers < 1 or timeout_s <= 0 or memory_mb < 1:
        raise ValueError("workers, timeout_s and memory_mb must be positive")
    paths = [Path(path) for path in paths]
    if not paths:
        return
    pool = _Pool(workers, timeout_s, memory_mb, ocr or OcrSettings.default(), on_ocr)
    done: dict[int, Outcome] = {}
    next_in = 0
    ahead = max(READ_AHEAD, 2 * workers)
    try:
        for next_out, path in enumerate(paths):
            while True:
                # Keep every child busy, but hold at most ``ahead`` results ahead of the caller.
                while next_in < min(len(paths), next_out + 1 + ahead):
                    slot = pool.idle_slot()
                    if slot is None:
                        break
                    pool.dispatch(slot, next_in, paths[next_in])
                    next_in += 1
                if next_out in done:
                    break
                if stop is not None and stop.is_set():
                    return
                done.update(pool.collect(STOP_POLL_S if stop is not None else None))
            yield path, done.pop(next_out)
    finally:
        pool.close()


_T = TypeVar("_T")
STOP_POLL_S = 0.2
"""How often :func:`read_reports` looks at its ``stop`` while a child reads."""
STOP_WAIT_S = 5.0
"""How long closing :func:`in_background` waits for its thread to stop."""


def in_background(items: Iterator[_T], ahead: int = READ_AHEAD, stop: threading.Event | None = None) -> Iterator[_T]:
    """``items`` pulled on a thread of its own, up to ``ahead`` ahead of the caller, in order.

    :func:`read_reports` hands a child its next file only when asked for a report; pulled from
    here, the child keeps reading while the caller embeds. The whole shared corpus (MiniLM, 2
    cores) went from 99.6 to 90.8 s with the embedding split over two threads, and from 103-111 to
    99 s without (README, "Against LlamaIndex"). An exception of ``items`` is raised here, at its
    place in the order. Closing this iterator early sets ``stop`` (give :func:`read_reports` the
    same event, so that a thread waiting on a child's file sees it) and the thread closes ``items``."""
    slots: queue.Queue = queue.Queue(maxsize=max(1, ahead))
    stop = stop if stop is not None else threading.Event()
    end = object()

    def put(value: tuple) -> bool:
        while not stop.is_set():
            try:
                slots.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def pull() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((end, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, raised there
            put((end, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=pull, name="council-qa-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = slots.get()
            if item is end:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=STOP_WAIT_S)


def load_report_isolated(path: str | Path, *, timeout_s: float = 60, memory_mb: int = 1024,
                         ocr: OcrSettings | None = None, on_ocr: OcrProgress | None = None) -> Report:
    """One report read in a bounded child process; raises ``UnreadableReport`` for bad files."""
    results = read_reports([Path(path)], timeout_s=timeout_s, memory_mb=memory_mb, ocr=ocr, on_ocr=on_ocr)
    try:
        _, outcome = next(results)
    finally:
        results.close()
    if isinstance(outcome, UnreadableReport):
        raise outcome
    return outcome
