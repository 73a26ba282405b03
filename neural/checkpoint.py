"""Checkpoint files: plain tensors and data only, written atomically, loaded without unpickling."""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch

FORMAT = "automimic-neural"
FORMAT_VERSION = 1
MODEL_FILE = "model.pt"  # the best model: what :func:`neural.load` reads
TRAINING_FILE = "training.pt"  # the full training state: what ``resume`` reads
HISTORY_FILE = "history.json"  # the history, readable without torch

_MODEL_KEYS = ("alphabet", "model_config", "state_dict", "history", "data_sha256")
REQUIRED = {
    "model": _MODEL_KEYS,
    "training": (*_MODEL_KEYS, "train_config", "seed", "optimizer", "scheduler", "progress"),
}


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupt, unsafe, or of another format version."""


def atomic_write_bytes(path: Path, write) -> None:
    """Write a file through ``write(file_object)`` into a temporary file, then rename it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Save ``payload`` (tensors, numbers, strings, lists, dicts) atomically with the format tag.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.pt"
    >>> save_checkpoint(p, {"kind": "model", **dict.fromkeys(REQUIRED["model"], 0)})
    >>> load_checkpoint(p, kind="model")["alphabet"]
    0
    """
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, **payload}
    atomic_write_bytes(Path(path), lambda handle: torch.save(payload, handle))


def load_checkpoint(path: Path, *, kind: str) -> dict[str, Any]:
    """Load a checkpoint of ``kind`` ("model" or "training") safely, or raise CheckpointError.

    Only tensors and plain data are accepted (``torch.load(weights_only=True)``): a file that
    would run code when unpickled is refused.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint there (file not found)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "global" not in str(err).lower():
            raise CheckpointError(f"{path}: not a readable checkpoint (corrupt data)") from None
        raise CheckpointError(
            f"{path}: refused to load: the file holds objects other than tensors and plain data, "
            f"which could run code when unpickled ({_forbidden(err)})"
        ) from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError) as err:
        raise CheckpointError(f"{path}: not a readable checkpoint ({_first_line(err)})") from None
    return _check_payload(path, payload, kind)


def _check_payload(path: Path, payload: Any, kind: str) -> dict[str, Any]:
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an automimic neural checkpoint")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {version!r}, but this automimic reads version "
            f"{FORMAT_VERSION}; retrain the model with this version"
        )
    if payload.get("kind") != kind:
        raise CheckpointError(f"{path}: a {payload.get('kind')!r} checkpoint, expected {kind!r}")
    missing = [key for key in REQUIRED[kind] if key not in payload]
    if missing:
        raise CheckpointError(f"{path}: corrupt checkpoint (missing {', '.join(missing)})")
    return payload


def _forbidden(err: BaseException) -> str:
    """The line of torch's message that names the refused global."""
    lines = [line for line in str(err).splitlines() if "global" in line.lower()]
    return lines[0].split(". Please")[0].strip()[:200] if lines else "a forbidden global"


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def resolve_model_path(path: str | os.PathLike) -> Path:
    """A model file, or the model file inside a run folder."""
    path = Path(path)
    return path / MODEL_FILE if path.is_dir() else path
