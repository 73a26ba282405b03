"""Read and write automata in every format we know, chosen by the file name.

=======================================  ===========================================
``.yaml`` ``.yml``                       the native format (:mod:`automata.loading`)
``.json``                                the same structure as the YAML, as JSON
``.dot`` ``.gv``                         Graphviz DOT (:mod:`automata.dot`; lossless)
``*pautomac_model.txt`` ``.pautomac``    a PAutomaC model (:mod:`automata.pautomac`)
=======================================  ===========================================

A PAutomaC model holds a distribution only: a DFA or NFA cannot be written to it (convert it with
:func:`automata.as_probabilistic`), and state and symbol names become numbers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from automimic_io import write_atomic

from .analysis import check_distribution
from .core import Automaton
from .dot import from_dot, to_dot
from .dumping import dumps, to_dict
from .errors import AutomatonError, FormatError
from .files import read_text
from .loading import from_dict, loads
from .pautomac import model_text, read_model

FORMATS = ("yaml", "json", "dot", "pautomac")


def format_of(path: str | os.PathLike) -> str:
    """The format a file name implies: ``yaml``, ``json``, ``dot`` or ``pautomac``.

    >>> format_of("1.pautomac_model.txt"), format_of("a.yml"), format_of("g.gv")
    ('pautomac', 'yaml', 'dot')
    """
    name = Path(path).name.lower()
    if name.endswith("pautomac_model.txt") or name.endswith(".pautomac"):
        return "pautomac"
    suffix = Path(name).suffix
    formats = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".dot": "dot", ".gv": "dot"}
    if suffix not in formats:
        raise AutomatonError(f"{path}: unknown automaton format {suffix or name!r} (expected "
                             ".yaml, .yml, .json, .dot, .gv, .pautomac or *pautomac_model.txt)")
    return formats[suffix]


def to_json(a: Automaton) -> str:
    """JSON text with the structure of the YAML format (:func:`automata.to_dict`).

    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a]\\nstart: s\\nstates: {s: {final: true}}")
    >>> to_json(a).replace("\\n", "").replace(" ", "")
    '{"kind":"dfa","alphabet":["a"],"start":"s","states":{"s":{"final":true}}}'
    """
    return json.dumps(to_dict(a), indent=2, ensure_ascii=False) + "\n"


def from_json(text: str, *, file: str = "<string>") -> Automaton:
    """An automaton from JSON text with the structure of the YAML format."""
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        raise FormatError(f"invalid JSON: {error.msg}", file=file, line=error.lineno,
                          column=error.colno) from None
    except FormatError as error:  # a duplicate key (JSON keeps no position for it)
        raise FormatError(error.problem, file=file) from None
    if not isinstance(data, dict):
        raise FormatError("the top level must be an object", file=file, line=1, column=1)
    return from_dict(data, file=file)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    data: dict = {}
    for key, value in pairs:
        if key in data:
            raise FormatError(f"duplicate key {key!r}")
        data[key] = value
    return data


def read_automaton(path: str | os.PathLike, *, fmt: str | None = None) -> Automaton:
    """Read an automaton from ``path`` in the format its name implies (or ``fmt``)."""
    fmt = fmt or format_of(path)
    text = read_text(path, {"yaml": "YAML", "json": "JSON", "dot": "DOT"}.get(fmt, "PAutomaC"))
    if fmt == "yaml":
        return loads(text, file=str(path))
    if fmt == "json":
        return from_json(text, file=str(path))
    if fmt == "dot":
        return _checked(from_dot(text, file=str(path)), path)
    if fmt == "pautomac":  # read_text checked it is text
        return _checked(read_model(Path(path), name=Path(path).name), path)
    raise AutomatonError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _checked(a: Automaton, path: str | os.PathLike) -> Automaton:
    """``a`` once :func:`automata.analysis.check_distribution` accepts it (YAML and JSON are
    checked as they are read)."""
    if a.is_probabilistic:
        try:
            check_distribution(a)
        except AutomatonError as error:
            raise FormatError(str(error), file=str(path)) from None
    return a


def automaton_text(a: Automaton, fmt: str) -> str:
    """The text of ``a`` in ``fmt`` (raises where the format cannot hold ``a``)."""
    if fmt == "yaml":
        return dumps(a)
    if fmt == "json":
        return to_json(a)
    if fmt == "dot":
        return to_dot(a)
    if fmt == "pautomac":
        return model_text(a)
    raise AutomatonError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def write_automaton(a: Automaton, path: str | os.PathLike, *, fmt: str | None = None) -> None:
    """Write ``a`` to ``path`` (atomically) in the format its name implies (or ``fmt``)."""
    write_atomic(Path(path), automaton_text(a, fmt or format_of(path)))
