"""A run folder's files and the checks on an output folder, shared by the commands and the pipeline.

A run folder (``--out runs/NAME``) holds ``model.pt`` (the best model), ``training.pt`` (the state
to resume), ``history.json``, the corpora ``train.txt`` and ``val.txt``, ``corpus.json`` (how
to read them back) and ``source.json`` (the automaton it was trained on).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from automimic.errors import CliError
from automimic.provenance import SOURCE_FILE
from automimic_io import (
    MAX_CORPUS_BYTES,
    read_corpus,
    read_text,
    single_characters,
    write_atomic,
    write_corpus,
)
from automimic_io.jsontext import json_text

RUN_FILES = ("model.pt", "training.pt", "history.json", "train.txt", "val.txt", "corpus.json",
             SOURCE_FILE)
CORPUS_FILE = "corpus.json"


def check_folder(path: Path, option: str) -> None:
    """Refuse (CliError) an output folder that cannot be one: a file, under a file, or where
    nothing can be written (a read-only folder), before any work is done.

    ``option`` starts the message: the command-line option and the value given.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "f"
    >>> _ = file.write_text("")
    >>> check_folder(file.parent / "new" / "folder", "--out")
    >>> check_folder(file / "x", "--out x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    automimic.errors.CliError: --out x: cannot create the folder .../f/x: .../f is a file
    """
    path = Path(path)
    for folder in (path, *path.parents):
        if folder.is_dir():
            _check_writable(folder, option)
            return
        if folder.exists():
            if folder == path:
                raise CliError(f"{option}: {path} is a file, expected a folder")
            raise CliError(f"{option}: cannot create the folder {path}: {folder} is a file")


def _check_writable(folder: Path, option: str) -> None:
    """Refuse (CliError) a folder in which no file can be created: try one (unnamed, gone at once)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise CliError(f"{option}: cannot write in {folder} ({err.strerror or err})") from None


def write_run_corpora(out: Path, train_strings, val_strings, alphabet, chars: bool) -> None:
    """Write ``train.txt``, ``val.txt`` and ``corpus.json`` (how to read them back) atomically."""
    for name, strings in (("train.txt", train_strings), ("val.txt", val_strings)):
        if chars:
            write_atomic(out / name, "".join(strings[0]) if strings else "")
        else:
            write_corpus(out / name, strings, alphabet)
    write_atomic(out / CORPUS_FILE, json_text({"alphabet": list(alphabet), "chars": chars}, indent=None))


def read_run_corpora(out: Path) -> tuple[list, list, tuple[str, ...]]:
    """The training and validation strings of a run folder and their alphabet."""
    try:
        meta = json.loads(read_text(out / CORPUS_FILE, what="run"))
        alphabet, chars = tuple(meta["alphabet"]), meta["chars"]
    except (ValueError, KeyError, TypeError) as err:
        raise CliError(f"{out / CORPUS_FILE}: corrupt run file ({err})") from None
    corpora = []
    for name in ("train.txt", "val.txt"):
        if chars:
            text = read_text(out / name, limit=MAX_CORPUS_BYTES, what="corpus")
            corpora.append([text] if text else [])
        else:
            corpora.append(read_corpus(out / name, chars=single_characters(alphabet)))
    return corpora[0], corpora[1], alphabet
