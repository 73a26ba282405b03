"""Automaton files as text: :mod:`automimic_io`'s bounded reading, its errors as FormatError."""

from __future__ import annotations

import os

import automimic_io

from .errors import FormatError

MAX_BYTES = automimic_io.MAX_INPUT_BYTES  # larger files are refused before parsing


def read_text(source: str | os.PathLike, what: str = "YAML") -> str:
    """The text of a regular file, with the size limit and one clear FormatError for a missing,
    unreadable, binary or non-UTF-8 file, a folder, a device or a pipe."""
    try:
        return automimic_io.read_text(source, limit=MAX_BYTES, what=what)
    except automimic_io.InputError as error:
        raise FormatError(error.problem, file=error.path) from None


def decode(raw: bytes, file: str, what: str = "YAML") -> str:
    """``raw`` as UTF-8 text; FormatError naming ``file`` for binary or other bytes."""
    try:
        return automimic_io.decode(raw, file, what)
    except automimic_io.InputError as error:
        raise FormatError(error.problem, file=error.path) from None
