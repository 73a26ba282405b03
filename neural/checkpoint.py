"""Checkpoint files: plain tensors and data only, written atomically, loaded without unpickling."""

from __future__ import annotations

import glob
import os
import pickle
import re
import shutil
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from automimic_io import write_atomic

FORMAT = "automimic-neural"
FORMAT_VERSION = 1
MODEL_FILE = "model.pt"  # the best model: what :func:`neural.load` reads
TRAINING_FILE = "training.pt"  # the full training state: what ``resume`` reads
HISTORY_FILE = "history.json"  # the history, readable without torch
MEMBERS_FOLDER = "members"  # an ensemble's members, one run folder each: members/0, members/1 ...
TRIALS_FOLDER = "trials"  # a tuned run's trials, one run folder each: trials/0, trials/1 ...
TUNING_FILE = "tuning.json"  # what a tuned run tried, and what it chose
VALIDATED_FOLDER = "validated"  # a refit run's first run, on the training strings with validation
REFIT_FOLDER = "refit"  # a refit run's second run, on all strings
_TEMPORARY = re.compile(r"\.[a-z0-9_]{8}\.tmp")  # what tempfile.mkstemp adds to ".NAME"

_MODEL_KEYS = ("alphabet", "model_config", "state_dict", "history", "data_sha256")
REQUIRED = {
    "model": _MODEL_KEYS,
    "training": (*_MODEL_KEYS, "train_config", "seed", "optimizer", "progress"),
    "ensemble": ("alphabet", "members"),
}


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupt, unsafe, or of another format version."""


def remove_temporaries(folder: Path, names: Iterable[str]) -> None:
    """Remove the temporary files that atomic writes of ``names`` killed midway left in ``folder``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name in (".model.pt.ab_c1234.tmp", ".model.pt", ".notes.txt.ab_c1234.tmp"):
    ...     _ = (folder / name).write_text("")
    >>> remove_temporaries(folder, ["model.pt"])
    >>> sorted(p.name for p in folder.iterdir())
    ['.model.pt', '.notes.txt.ab_c1234.tmp']
    """
    for name in names:
        for path in Path(folder).glob(f".{glob.escape(name)}.*.tmp"):
            if _TEMPORARY.fullmatch(path.name[len(name) + 1 :]):
                path.unlink(missing_ok=True)


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
    write_atomic(path, lambda handle: torch.save(payload, handle))


def load_checkpoint(path: Path, *, kind: str | tuple[str, ...]) -> dict[str, Any]:
    """Load a checkpoint of ``kind`` ("model", "ensemble" or "training", or a tuple of those)
    safely, or raise CheckpointError.

    Only tensors and plain data are accepted (``torch.load(weights_only=True)``): a file that
    would run code when unpickled is refused.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint there (file not found)")
    _check_zip(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "global" not in str(err).lower():
            raise CheckpointError(f"{path}: not a readable checkpoint (corrupt data)") from None
        raise CheckpointError(
            f"{path}: refused to load: the file holds objects other than tensors and plain data, "
            f"which could run code when unpickled ({_forbidden(err)})"
        ) from None
    except PermissionError:
        raise
    except (EOFError, OSError, zipfile.BadZipFile):  # reads past the end of a cut-off file
        raise CheckpointError(f"{path}: not a readable checkpoint (truncated or corrupt zip "
                              "archive)") from None
    except RuntimeError as err:
        raise CheckpointError(f"{path}: not a readable checkpoint ({one_line(err)})") from None
    except Exception:  # corrupt data trips the unpickler anywhere (IndexError, KeyError ...)
        raise CheckpointError(f"{path}: not a readable checkpoint (corrupt data)") from None
    return _check_payload(path, payload, kind)


def _check_zip(path: Path) -> None:
    """Refuse a file that is not a zip archive (``torch.save``'s format) before unpickling it:
    torch's reader of the older format fails on such bytes with IndexError, KeyError ..."""
    with path.open("rb") as handle:
        magic = handle.read(4)
    if not magic:
        raise CheckpointError(f"{path}: not a readable checkpoint (the file is empty)")
    if magic != b"PK\x03\x04":
        raise CheckpointError(f"{path}: not a readable checkpoint (not a zip archive, the format "
                              "automimic saves)")


def _check_payload(path: Path, payload: Any, kind: str | tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an automimic neural checkpoint")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {version!r}, but this automimic reads version "
            f"{FORMAT_VERSION}; retrain the model with this version"
        )
    kinds = (kind,) if isinstance(kind, str) else kind
    if payload.get("kind") not in kinds:
        expected = " or ".join(repr(k) for k in kinds)
        raise CheckpointError(f"{path}: a {payload.get('kind')!r} checkpoint, expected {expected}")
    missing = [key for key in REQUIRED[payload["kind"]] if key not in payload]
    if missing:
        raise CheckpointError(f"{path}: corrupt checkpoint (missing {', '.join(missing)})")
    return payload


def _forbidden(err: BaseException) -> str:
    """The line of torch's message that names the refused global."""
    lines = [line for line in str(err).splitlines() if "global" in line.lower()]
    return lines[0].split(". Please")[0].strip()[:200] if lines else "a forbidden global"


def one_line(err: BaseException, limit: int = 120) -> str:
    """The first sentence of an error's message, on one short line (torch's run to paragraphs).

    Examples
    --------
    >>> one_line(RuntimeError("failed reading zip archive. This is an internal error.\\nMore"))
    'failed reading zip archive'
    >>> one_line(EOFError())
    'EOFError'
    """
    text = str(err).strip().splitlines()
    first = text[0].split(". ")[0].strip().rstrip(".:") if text else ""
    if not first:
        return type(err).__name__
    return first if len(first) <= limit else first[: limit - 1] + "…"


def resolve_model_path(path: str | os.PathLike) -> Path:
    """A model file, or the model file inside a run folder."""
    path = Path(path)
    return path / MODEL_FILE if path.is_dir() else path


def remove_nested_runs(run_dir: Path) -> None:
    """Remove an ensemble's members, a tuned run's trials and record, and a refit run's two runs
    from ``run_dir`` (--force)."""
    for folder in (MEMBERS_FOLDER, TRIALS_FOLDER, VALIDATED_FOLDER, REFIT_FOLDER):
        shutil.rmtree(run_dir / folder, ignore_errors=True)
    (run_dir / TUNING_FILE).unlink(missing_ok=True)
