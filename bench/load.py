"""Load test: simulated members asking questions through the app's API at the same time.

Not a test. ``python bench/load.py`` starts the app on a free port over a temporary index
built from ``corpus/`` (or pass ``--url http://127.0.0.1:7860/`` to use a running app), then
runs ``--members`` (20) concurrent members for ``--seconds`` (60). Each member has its own
Gradio client and asks a question through the ``/ask`` endpoint the page itself uses,
waits ``--think`` seconds (random between 0 and twice that; 0 means back to back), and
asks again. Prints the request and error counts and the p50/p95/max response times.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

QUESTIONS = [
    "what happened to sickness absence?",
    "How is the council managing its budget pressures?",
    "What did Ofsted say about children's services?",
    "What progress has been made on digital technology?",
    "How many people saw the One Worcestershire campaign?",
    "What happened at North Bromsgrove High School?",
    "Is the acute hospital system under pressure?",
    "What is the council doing about special educational needs?",
    "how much was saved on agency spend?",
    "what is the price of fish in the market?",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(index: Path, corpus: Path) -> tuple[subprocess.Popen, str, Path]:
    port = _free_port()
    log_path = Path(tempfile.mkstemp(prefix="council-qa-load-", suffix=".log")[1])
    code = ("import sys; from pathlib import Path; from qa.server import serve; "
            "serve(Path(sys.argv[1]), corpus_dir=Path(sys.argv[2]), port=int(sys.argv[3]))")
    proc = subprocess.Popen([sys.executable, "-c", code, str(index), str(corpus), str(port)], cwd=ROOT,
                            stdout=log_path.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the app exited:\n" + log_path.read_text())
        try:
            with urllib.request.urlopen(url, timeout=2):
                return proc, url, log_path
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the app did not start in time:\n" + log_path.read_text())


def member(url: str, until: float, think: float, seed: int, latencies: list[float],
           errors: Counter, lock: threading.Lock) -> None:
    from gradio_client import Client

    rng = random.Random(seed)
    try:
        client = Client(url, verbose=False)
    except Exception as exc:  # noqa: BLE001 - counted, not raised
        with lock:
            errors[f"connect: {type(exc).__name__}: {exc}"[:160]] += 1
        return
    while time.time() < until:
        question = rng.choice(QUESTIONS)
        started = time.perf_counter()
        try:
            answer_html, _sources, _narrow = client.predict(question, [], "", "", "", "", api_name="/ask")
            elapsed = time.perf_counter() - started
            ok = 'id="cqa-answer"' in answer_html and "cqa-error" not in answer_html
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors["the app answered with an error message"] += 1
        except Exception as exc:  # noqa: BLE001
            with lock:
                errors[f"{type(exc).__name__}: {exc}"[:160]] += 1
        if think > 0:
            time.sleep(rng.uniform(0, 2 * think))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running app (default: start one over a temporary index)")
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean pause between a member's questions, seconds (0: back to back)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    args = parser.parse_args()

    proc = tmp = None
    url = args.url
    if not url:
        tmp = Path(tempfile.mkdtemp(prefix="council-qa-load-"))
        print(f"starting the app over a temporary index of {args.corpus} …", flush=True)
        proc, url, _log = start_app(tmp / "index", args.corpus)
    try:
        latencies: list[float] = []
        errors: Counter = Counter()
        lock = threading.Lock()
        started = time.time()
        until = started + args.seconds
        threads = [threading.Thread(target=member, args=(url, until, args.think, n, latencies, errors, lock))
                   for n in range(args.members)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.time() - started
        total = len(latencies) + sum(errors.values())
        print(f"{args.members} members, {args.seconds:.0f} s, think {args.think:g} s: "
              f"{total} questions in {wall:.1f} s ({total / wall:.1f}/s)")
        print(f"errors: {sum(errors.values())}")
        for message, count in errors.most_common(5):
            print(f"  {count} × {message}")
        if latencies:
            print(f"latency p50 {percentile(latencies, 50):.3f} s  p95 {percentile(latencies, 95):.3f} s  "
                  f"max {max(latencies):.3f} s  mean {statistics.fmean(latencies):.3f} s")
        return 1 if errors else 0
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
