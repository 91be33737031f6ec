"""The query encoder without torch: the sentence-transformers model exported once to ONNX and run
by onnxruntime with the ``tokenizers`` library.

A one-shot ``council-qa ask`` spent about 11 s importing torch and sentence-transformers and
loading the model for one question; onnxruntime and tokenizers import in about 0.2 s and open
the exported model in well under a second (bench/cli.py). The torch model stays the reference:
the export is exactly what the model's modules do (Transformer, mean pooling over the attention
mask, L2 normalisation; any other module layout is not exported), it is checked against the
torch model before it is moved into place, and tests/test_onnx_encoder.py checks the vectors
equal to 1e-4.

An export lives in ``cache_root()/onnx/<model>-<hash of the weights' path, size and mtime>/``:
``model.onnx`` (the graph), ``model.onnx.data`` (the weights, kept apart so onnxruntime maps
them instead of parsing them: measured 0.6 -> 0.2 s to open MiniLM), ``tokenizer.json`` and
``export.json`` (what it was made from). It is written in a folder beside and renamed into
place under a lock, so a crash never leaves a half export; a changed model gets a new folder.
This module never imports torch except inside :func:`export_onnx`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FORMAT = 1
"""Bumped when the export's layout changes: an export of another format is made again."""
MODEL_FILE = "model.onnx"
DATA_FILE = "model.onnx.data"
TOKENIZER_FILE = "tokenizer.json"
MARKER_FILE = "export.json"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
OPSET = 17
BATCH_SIZE = 16
"""Texts per run, longest first (as sentence-transformers batches): 16 is the torch embedder's
measured best on 2 cores and keeps padding waste small for the ~16-30 sentences of an answer."""
TOLERANCE = 1e-4
"""Largest difference per component from the torch model an export may show to be kept."""
CHECK_TEXTS = (
    "what happened to sickness absence?",
    "The council agreed its treasury management strategy for the coming year, and members noted "
    "the update on highways maintenance. " * 30,  # longer than any model's max sequence length
)


class OnnxExportError(RuntimeError):
    """The model cannot be exported to ONNX (its modules are not Transformer, mean Pooling,
    Normalize) or the export does not match the torch model."""


@dataclass
class OnnxEmbedder:
    """An :class:`ingest.embed.Embedder` run by onnxruntime: same name and dimension as the
    torch model it was exported from, unit-length float32 rows."""

    name: str
    dimension: int
    session: object
    tokenizer: object
    folder: Path
    pad_id: int = 0
    batch_size: int = BATCH_SIZE

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))  # type: ignore[attr-defined]
        order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
        out = np.empty((len(encodings), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            vectors = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]  # type: ignore
            out[rows] = vectors
        return out


# -- where an export lives ---------------------------------------------------------------------------


def onnx_root(root: Path | None = None) -> Path:
    """``root``, else ``cache_root()/onnx``."""
    if root is not None:
        return Path(root)
    from ingest.models import cache_root

    return cache_root() / "onnx"


def weights_identity(name: str) -> dict[str, object] | None:
    """The model's weights file as path, size and mtime (cheap: no hashing), or None when the model
    has no weights file this module knows (then it is not exported)."""
    from ingest.models import resolve_model

    folder = resolve_model(name).path
    for file in WEIGHT_FILES:
        path = folder / file
        if path.is_file():
            stat = path.stat()
            return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    return None


def export_folder(name: str, identity: dict[str, object], root: Path | None = None) -> Path:
    """Where ``name``'s export for these weights lives (whether or not it is there)."""
    digest = hashlib.sha256(json.dumps([name, identity, FORMAT], sort_keys=True).encode()).hexdigest()[:12]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[-60:] or "model"
    return onnx_root(root) / f"{safe}-{digest}"


def find_export(name: str, root: Path | None = None) -> Path | None:
    """The folder of a complete export of ``name``'s current weights, else None."""
    identity = weights_identity(name)
    if identity is None:
        return None
    folder = export_folder(name, identity, root)
    try:
        marker = json.loads((folder / MARKER_FILE).read_text())
    except (OSError, ValueError):
        return None
    if marker.get("format") != FORMAT or marker.get("model") != name or marker.get("weights") != identity:
        return None
    for file, size in marker.get("files", {}).items():
        path = folder / file
        if not path.is_file() or path.stat().st_size != size:
            return None
    return folder


# -- loading -------------------------------------------------------------------------------------------


def open_session(model_file: Path) -> object:
    """An onnxruntime session on the CPU with one intra-op thread per core this process may use.

    Weight prepacking is off: measured in CPU seconds for all-mpnet-base-v2 on 2 cores, it cost
    0.45 s more to open (0.65 against 0.2) and saved about 0.2 s on a question and its 16 answer
    sentences (1.65 against 1.85): a loss for the one-shot ask this encoder is for."""
    import onnxruntime as ort

    from ingest.embed import available_cores

    options = ort.SessionOptions()
    options.add_session_config_entry("session.disable_prepacking", "1")
    options.intra_op_num_threads = available_cores()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: its warnings about unused initialisers are noise
    return ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])


def open_export(folder: Path) -> OnnxEmbedder:
    """The embedder of the export in ``folder`` (raises whatever onnxruntime or tokenizers raise
    for damaged files: :func:`load_onnx_embedder` turns that into a fallback)."""
    from tokenizers import Tokenizer

    marker = json.loads((folder / MARKER_FILE).read_text())
    tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
    tokenizer.enable_truncation(max_length=int(marker["max_seq_length"]))
    tokenizer.no_padding()  # encode pads each batch to its longest row itself
    session = open_session(folder / MODEL_FILE)
    return OnnxEmbedder(name=str(marker["model"]), dimension=int(marker["dimension"]), session=session,
                        tokenizer=tokenizer, folder=folder, pad_id=int(marker["pad_id"]))


def load_onnx_embedder(name: str, root: Path | None = None) -> OnnxEmbedder | None:
    """The ONNX embedder of ``name`` when a complete export of its current weights is cached and
    opens; None otherwise (a damaged export is logged as a warning, and the caller uses torch)."""
    folder = find_export(name, root)
    if folder is None:
        return None
    try:
        return open_export(folder)
    except Exception as exc:  # noqa: BLE001 - onnxruntime's errors have no common base; torch takes over
        log.warning("the ONNX export of %s in %s cannot be opened (%s); using the torch model",
                    name, folder, " ".join(str(exc).split())[:200])
        return None


# -- exporting (torch is loaded here, and only here) ---------------------------------------------------


def _check_modules(st: object) -> None:
    """Refuse any module layout but Transformer, mean Pooling (prompt included), optional Normalize."""
    kinds = [type(m).__name__ for m in st]  # type: ignore[attr-defined]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise OnnxExportError(f"modules {kinds} are not Transformer, Pooling, Normalize")
    pooling = st[1].get_config_dict()  # type: ignore[index]
    if pooling.get("pooling_mode") not in ("mean", ("mean",), ["mean"]) or not pooling.get("include_prompt", True):
        raise OnnxExportError(f"pooling {pooling} is not plain mean pooling")


def _export_graph(st: object, target: Path) -> None:
    """torch.onnx.export of transformer + mean pooling + normalise, dynamic batch and sequence."""
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self, transformer: torch.nn.Module) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            tokens = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    encoder = Encoder(st[0].auto_model).eval()  # type: ignore[index]
    sample = st.tokenizer(["a short one", "a somewhat longer sentence to pad against"],  # type: ignore
                          padding=True, return_tensors="pt")
    axes = {0: "batch", 1: "sequence"}
    import warnings

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on shape checks that hold for every input here
        torch.onnx.export(encoder, (sample["input_ids"], sample["attention_mask"]), str(target), dynamo=False,
                          input_names=["input_ids", "attention_mask"], output_names=["sentence_embedding"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes,
                                        "sentence_embedding": {0: "batch"}},
                          opset_version=OPSET, do_constant_folding=True)


def _write_files(st: object, embedder: object, identity: dict[str, object], staged: Path) -> None:
    """The graph with its weights in a side file, the tokenizer, and (last) the marker."""
    import onnx

    raw = staged / "raw.onnx"
    _export_graph(st, raw)
    graph = onnx.load(str(raw))
    onnx.save_model(graph, str(staged / MODEL_FILE), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=DATA_FILE, size_threshold=1024)
    raw.unlink()
    shutil.copyfile(Path(str(identity["path"])).parent / TOKENIZER_FILE, staged / TOKENIZER_FILE)
    tokenizer = st.tokenizer  # type: ignore[attr-defined]
    marker = {"format": FORMAT, "model": embedder.name, "weights": identity,  # type: ignore[attr-defined]
              "dimension": int(embedder.dimension),  # type: ignore[attr-defined]
              "max_seq_length": int(st.max_seq_length), "pad_id": int(tokenizer.pad_token_id),  # type: ignore
              "pad_token": str(tokenizer.pad_token),
              "files": {f: (staged / f).stat().st_size for f in (MODEL_FILE, DATA_FILE, TOKENIZER_FILE)}}
    (staged / MARKER_FILE).write_text(json.dumps(marker, indent=1))


def _verify(staged: Path, embedder: object) -> float:
    """Largest difference per component between the staged export and the torch model in fp32."""
    onnx_vectors = open_export(staged).encode(list(CHECK_TEXTS))
    torch_vectors = embedder.model.encode(list(CHECK_TEXTS), normalize_embeddings=True,  # type: ignore
                                          convert_to_numpy=True, show_progress_bar=False)  # no autocast: fp32
    return float(np.abs(onnx_vectors - np.asarray(torch_vectors, dtype=np.float32)).max())


def export_onnx(embedder: object, root: Path | None = None) -> Path:
    """Export a loaded :class:`ingest.embed.SentenceTransformerEmbedder` (fp32 or bf16; not
    ``+int8``) into the cache and return its folder; an export already there is reused.

    Raises :class:`OnnxExportError` for a model that is not Transformer + mean Pooling (+ Normalize),
    has no tokenizer.json, or whose export differs from it by more than ``TOLERANCE``."""
    from filelock import FileLock

    name = str(embedder.name)  # type: ignore[attr-defined]
    identity = weights_identity(name)
    st = getattr(embedder, "model", None)
    if st is None:
        raise OnnxExportError(f"{name} is not a loaded sentence-transformers model")
    if identity is None:
        raise OnnxExportError(f"model {name} has none of the weight files {', '.join(WEIGHT_FILES)}")
    source = Path(str(identity["path"])).parent
    if not (source / TOKENIZER_FILE).is_file():
        raise OnnxExportError(f"model {name} has no {TOKENIZER_FILE}")
    _check_modules(st)
    final = export_folder(name, identity, root)
    final.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(final.parent / f".{final.name}.lock")):
        if find_export(name, root) == final and _opens(final):
            return final  # made before, or by another process while we waited
        for leftover in final.parent.glob(f".{final.name}.tmp-*"):
            shutil.rmtree(leftover)  # under the lock: a process that died half way
        staged = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
        try:
            _write_files(st, embedder, identity, staged)
            diff = _verify(staged, embedder)
            if diff > TOLERANCE:
                raise OnnxExportError(f"the ONNX export of {name} differs from the torch model by {diff:.2e}")
            if final.exists():
                shutil.rmtree(final)  # an incomplete or outdated export of the same weights
            staged.chmod(0o755)  # mkdtemp made it private; the model files are not secret
            os.replace(staged, final)
        finally:
            shutil.rmtree(staged, ignore_errors=True)
    _remove_older(final)
    return final


def _opens(folder: Path) -> bool:
    """Whether the export in ``folder`` opens (its sizes can match while its bytes are damaged)."""
    try:
        open_export(folder)
    except Exception:  # noqa: BLE001 - onnxruntime's errors have no common base: a damaged export is remade
        return False
    return True


def _remove_older(final: Path) -> None:
    """Drop exports of the same model made from weights that have since changed."""
    stem = final.name.rsplit("-", 1)[0]
    for other in final.parent.glob(f"{stem}-*"):
        other_stem, _, digest = other.name.rpartition("-")
        if other != final and other_stem == stem and re.fullmatch(r"[0-9a-f]{12}", digest) and other.is_dir():
            shutil.rmtree(other, ignore_errors=True)
