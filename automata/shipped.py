"""The files that ship inside the package: the example automata and the JSON Schema of the format.

They are read through :mod:`importlib.resources`, so they are found wherever the package is
installed (a wheel, an editable install or this checkout), whatever the working folder.

>>> from automata import shipped
>>> "i_before_e_pfa" in shipped.example_names()
True
>>> shipped.load_example("abe_fsm").kind
'dfa'
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from .core import Automaton
from .errors import AutomatonError
from .loading import loads

DEFAULT_EXAMPLE = "i_before_e_pfa"


def _examples():
    return files(__package__) / "examples"


def example_names() -> list[str]:
    """The names of the shipped example automata, sorted (file names without ``.yaml``).

    Examples
    --------
    >>> example_names()[:2]
    ['abe_fsm', 'abe_markov']
    """
    return sorted(item.name.removesuffix(".yaml") for item in _examples().iterdir()
                  if item.name.endswith(".yaml"))


def example_path(name: str = DEFAULT_EXAMPLE) -> Path:
    """The file of the shipped example ``name`` (a package installed as files, as pip does).

    Examples
    --------
    >>> example_path("quotes").name
    'quotes.yaml'
    """
    if name not in example_names():
        raise AutomatonError(f"no shipped example {name!r}: choose one of {', '.join(example_names())}")
    return Path(str(_examples() / f"{name}.yaml"))


def load_example(name: str = DEFAULT_EXAMPLE) -> Automaton:
    """The shipped example automaton ``name``.

    Examples
    --------
    >>> load_example().name
    'i_before_e_pfa'
    """
    example_path(name)  # an unknown name is an error that lists the known ones
    return loads((_examples() / f"{name}.yaml").read_text(encoding="utf-8"), file=f"{name}.yaml")


def json_schema() -> dict:
    """The JSON Schema (draft 2020-12) that every automaton file satisfies.

    Examples
    --------
    >>> json_schema()["$schema"]
    'https://json-schema.org/draft/2020-12/schema'
    """
    return json.loads((files(__package__) / "schema.json").read_text(encoding="utf-8"))
