"""Read and write automata as YAML, with errors that name file, line, field and value.

The work is split by job: `yaml_document` parses text into located data, `validation` checks it
into a `Spec`, `building` makes the arrays, `dumping` writes YAML back and `files` does file I/O.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

from automimic_io import write_atomic

from .analysis import check_distribution
from .building import build
from .core import Automaton
from .dumping import dumps
from .errors import AutomatonError, FormatError
from .files import MAX_BYTES, decode, read_text
from .validation import read_spec, state_path
from .yaml_document import Document, parse


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector: a large file makes millions of objects, none in
    a cycle, and collecting while they come more than doubles the reading time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _document_to_automaton(document: Document) -> Automaton:
    spec = read_spec(document)
    try:
        a = build(spec)
        if a.is_probabilistic:
            check_distribution(a)
        return a
    except AutomatonError as error:
        path = state_path(spec, error.state) if error.state else ()
        raise document.error(path, str(error)) from None


def loads(text: str, *, file: str = "<string>") -> Automaton:
    """Read an automaton from YAML text.

    Examples
    --------
    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a]\\nstart: s\\nstates: {s: {final: true}}")
    >>> a.kind, a.alphabet
    ('dfa', ('a',))
    """
    if len(text) > MAX_BYTES:
        raise FormatError(f"the file is too large ({len(text)} bytes, limit {MAX_BYTES})",
                          file=file)
    with _collector_paused():
        return _document_to_automaton(parse(text, file))


def load(source: str | os.PathLike | IO) -> Automaton:
    """Read an automaton from a YAML file (a path or an open file)."""
    if hasattr(source, "read"):
        content = source.read()
        file = getattr(source, "name", "<file>")
        if isinstance(content, bytes):
            content = decode(content, str(file))
        return loads(content, file=str(file))
    return loads(read_text(source), file=str(source))


def from_dict(data: Mapping, *, file: str = "<dict>") -> Automaton:
    """Build an automaton from the same structure as the YAML format.

    Examples
    --------
    >>> import automata as am
    >>> am.from_dict({"kind": "nfa", "alphabet": ["a"], "start": "s",
    ...               "states": {"s": {"final": True, "next": {"a": ["s"]}}}}).kind
    'nfa'
    """
    return _document_to_automaton(Document(data=dict(data), file=file))


def dump(a: Automaton, destination: str | os.PathLike | IO) -> None:
    """Write ``a`` as YAML to a path (atomically: temporary file, then rename) or an open file."""
    text = dumps(a)
    if hasattr(destination, "write"):
        destination.write(text)
        return
    write_atomic(Path(destination), text)
