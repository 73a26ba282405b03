"""Read and write automata as YAML (GUIDE §4), with errors that name file, line, field and value."""

from __future__ import annotations

import errno
import math
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import yaml

from .core import END, KINDS, TOLERANCE, Automaton
from .errors import AutomatonError, FormatError

MAX_BYTES = 16 * 1024 * 1024  # larger files are refused before parsing
MAX_NODES = 2_000_000  # YAML nodes after alias expansion: bounds "billion laughs" files
MAX_DEPTH = 64
MAX_DENSE_ENTRIES = 50_000_000  # symbols × states² of a nondeterministic kind (400 MB of floats)
TOP_KEYS = ("kind", "name", "description", "alphabet", "start", "states", "next", "normalize")
Path_ = tuple[str, ...]
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml parses ~10× faster


class _Int(int):
    """An integer read from YAML that remembers its text, so ``010`` stays the label "010"."""

    text: str


class _Names(list):
    """Names in file order with set-speed membership (files with 100k states load in linear
    time) and a short form in messages."""

    SHOWN = 20

    def __init__(self, names: Any = ()) -> None:
        super().__init__(names)
        self._known = set(self)

    def append(self, name: str) -> None:
        super().append(name)
        self._known.add(name)

    def __contains__(self, name: object) -> bool:
        return name in self._known

    def __repr__(self) -> str:
        if len(self) <= self.SHOWN:
            return repr(list(self))
        return repr(list(self[:self.SHOWN]))[:-1] + f", … ({len(self)} in all)]"


@dataclass
class _Document:
    """Plain Python data read from YAML, with the position of every field."""

    data: Any
    file: str
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    text: str = ""

    def source_token(self, path: Path_) -> str | None:
        """The text written at ``path`` in the file (e.g. ``on`` where YAML read a boolean)."""
        if path not in self.marks or not self.text:
            return None
        line, column = self.marks[path]
        rest = self.text.splitlines()[line - 1][column - 1:]
        return re.split(r"[,\]}:#\s]", rest, maxsplit=1)[0] or None

    def error(self, path: Path_, problem: str) -> FormatError:
        """A FormatError located at ``path`` (or at its closest located parent)."""
        for depth in range(len(path), -1, -1):
            if path[:depth] in self.marks:
                line, column = self.marks[path[:depth]]
                return FormatError(problem, field=".".join(path), file=self.file, line=line,
                                   column=column)
        return FormatError(problem, field=".".join(path), file=self.file)


# ---------------------------------------------------------------- reading YAML into _Document


def _parse(text: str, file: str) -> _Document:
    if not text.strip():
        raise FormatError("the file is empty (expected a YAML mapping with kind, alphabet, ...)",
                          file=file)
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = f"invalid YAML: {getattr(error, 'problem', None) or error}"
        if mark is None:
            raise FormatError(problem, file=file) from None
        raise FormatError(problem, file=file, line=mark.line + 1, column=mark.column + 1) from None
    except RecursionError:
        raise FormatError(f"the document is nested too deeply (limit {MAX_DEPTH} levels)",
                          file=file) from None
    if node is None:
        raise FormatError("the file holds no YAML document (expected a mapping with kind, "
                          "alphabet, ...)", file=file)
    if _expanded_size(node, 0, {}) > MAX_NODES:
        raise FormatError(f"the document is too large or too deep after alias expansion "
                          f"(limit {MAX_NODES} nodes, depth {MAX_DEPTH})", file=file,
                          line=node.start_mark.line + 1, column=node.start_mark.column + 1)
    document = _Document(data=None, file=file, text=text)
    document.data = _convert(node, (), document, [0])
    return document


def _expanded_size(node: yaml.Node, depth: int, sizes: dict[int, int]) -> int:
    """Nodes after alias expansion (capped just above MAX_NODES), counted on the composed graph
    with memoisation, so an alias bomb is refused before anything is expanded."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    too_many = MAX_NODES + 1
    if depth > MAX_DEPTH:
        return too_many
    sizes[id(node)] = too_many  # an alias inside its own anchor expands forever
    if isinstance(node, yaml.MappingNode):
        children = [value for _, value in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = node.value
    else:
        children = []
    total = 1
    for child in children:
        total = min(total + _expanded_size(child, depth + 1, sizes), too_many)
    sizes[id(node)] = total
    return total


def _convert(node: yaml.Node, path: Path_, document: _Document, count: list[int]) -> Any:
    count[0] += 1
    if count[0] > MAX_NODES or len(path) > MAX_DEPTH:
        raise document.error(path, f"the document is too large or too deep after alias expansion "
                                   f"(limit {MAX_NODES} nodes, depth {MAX_DEPTH})")
    document.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        return _convert_mapping(node, path, document, count)
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (str(i),), document, count) for i, item in enumerate(node.value)]
    return _scalar(node, path, document)


def _convert_mapping(node: yaml.MappingNode, path: Path_, document: _Document,
                     count: list[int]) -> dict:
    result: dict = {}
    names: set[str] = set()
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise document.error(path, "a mapping key must be a plain value, not a list or mapping")
        key = _scalar(key_node, path, document)
        name = _key_text(key)
        if name in names:
            document.marks[path + (name,)] = (key_node.start_mark.line + 1,
                                              key_node.start_mark.column + 1)
            raise document.error(path + (name,), f"duplicate key {name!r}")
        document.marks[path + (name,)] = (key_node.start_mark.line + 1,
                                          key_node.start_mark.column + 1)
        names.add(name)
        result[key] = _convert(value_node, path + (name,), document, count)
    return result


def _scalar(node: yaml.ScalarNode, path: Path_, document: _Document) -> Any:
    try:
        value = _CONSTRUCTOR.construct_object(node)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError):  # e.g. !!python/object tags
        raise FormatError(f"cannot read {node.value!r} tagged {node.tag!r} (expected plain "
                          "text, a number or a boolean)", field=".".join(path),
                          file=document.file, line=node.start_mark.line + 1,
                          column=node.start_mark.column + 1) from None
    if isinstance(value, int) and not isinstance(value, bool):
        labelled = _Int(value)
        labelled.text = node.value
        return labelled
    return value


_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _key_text(key: Any) -> str:
    return key.text if isinstance(key, _Int) else str(key)


# ---------------------------------------------------------------- checking fields


def _label(document: _Document, path: Path_, value: Any, what: str) -> str:
    """A symbol or state name: strings, and integers read as their text."""
    if isinstance(value, bool):
        written = document.source_token(path) or str(value).lower()
        raise document.error(path, f"{what} read as a boolean (got {written}, expected "
                                   f"a string): YAML reads yes/no/on/off/true/false as booleans, "
                                   f"so quote it")
    if isinstance(value, _Int):
        return value.text
    if isinstance(value, float):
        raise document.error(path, f"{what} read as a number (got {value!r}, expected a string): "
                                   "quote it")
    if not isinstance(value, str) or value == "":
        raise document.error(path, f"{what} must be a non-empty string (got {value!r})")
    return value


def _mapping(document: _Document, path: Path_, value: Any, expected: str) -> dict:
    if not isinstance(value, Mapping):
        raise document.error(path, f"expected {expected} (got {_describe(value)})")
    return value


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _probability(document: _Document, path: Path_, value: Any, normalize: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise document.error(path, f"expected a probability (got {_describe(value)})")
    number = float(value)
    upper = math.inf if normalize else 1 + TOLERANCE
    if not math.isfinite(number) or number < 0 or number > upper:
        expected = "a finite weight ≥ 0" if normalize else "a probability in [0, 1]"
        raise document.error(path, f"invalid probability (got {value!r}, expected {expected})")
    return number


def _labelled_map(document: _Document, path: Path_, value: Any, what: str) -> dict[str, Any]:
    """A mapping whose keys are labels, with the label text as key and the paths recorded."""
    result = {}
    for key, item in _mapping(document, path, value, f"a mapping of {what}s").items():
        name = _label(document, path + (_key_text(key),), key, what)
        result[name] = item
    return result


@dataclass
class _Spec:
    """What a file says, as labels and numbers, before it becomes arrays."""

    kind: str
    alphabet: list[str]
    states: list[str]
    start: dict[str, float]
    final: dict[str, float]
    moves: dict[tuple[str, str, str], float]  # (state, symbol, target) -> weight
    name: str = ""
    description: str = ""


def _read_header(document: _Document) -> tuple[str, list[str], bool]:
    top = _mapping(document, (), document.data, "a mapping with kind, alphabet, start, states")
    for key in top:
        if _key_text(key) not in TOP_KEYS:
            raise document.error((_key_text(key),), f"unknown field (expected one of "
                                                    f"{', '.join(TOP_KEYS)})")
    if "kind" not in top:
        raise document.error((), f"missing field 'kind' (expected one of {', '.join(KINDS)})")
    kind = top["kind"]
    if kind not in KINDS:
        raise document.error(("kind",), f"unknown kind (got {kind!r}, expected one of "
                                        f"{', '.join(KINDS)})")
    required = ("alphabet", "start", "next" if kind == "markov" else "states")
    for key in required:
        if key not in top:
            raise document.error((), f"missing field {key!r}")
    normalize = top.get("normalize", False)
    if not isinstance(normalize, bool):
        raise document.error(("normalize",), f"expected true or false (got {normalize!r})")
    return kind, _read_alphabet(document, top["alphabet"]), normalize


def _read_alphabet(document: _Document, value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise document.error(("alphabet",), f"expected a non-empty list of symbols "
                                            f"(got {_describe(value)})")
    alphabet: list[str] = _Names()
    for i, item in enumerate(value):
        symbol = _label(document, ("alphabet", str(i)), item, "symbol")
        if symbol == END:
            raise document.error(("alphabet", str(i)), f"{END!r} is reserved for the end of the "
                                                       "string (got '$', expected another symbol)")
        if symbol in alphabet:
            raise document.error(("alphabet", str(i)), f"duplicate symbol {symbol!r}")
        alphabet.append(symbol)
    return alphabet


def _read_targets(document: _Document, path: Path_, value: Any, kind: str, states: list[str],
                  normalize: bool) -> dict[str, float]:
    """The targets of one move: a state, a list of states (nfa) or a {state: probability} map."""
    if kind in ("dfa", "nfa") and not isinstance(value, Mapping):
        items = value if isinstance(value, list) and kind == "nfa" else [value]
        if isinstance(value, list) and kind == "dfa":
            raise document.error(path, f"a dfa moves to one state (got a list, expected one "
                                       f"of {states})")
        names = [_label(document, path, item, "state") for item in items]
        weights = dict.fromkeys(names, 1.0)
    elif kind in ("pfa", "pdfa"):
        weights = {
            target: _probability(document, path + (target,), weight, normalize)
            for target, weight in _labelled_map(document, path, value, "state").items()
        }
        if kind == "pdfa" and len(weights) != 1:
            raise document.error(path, f"a pdfa moves to exactly one state per symbol (got "
                                       f"{len(weights)} targets); use kind: pfa for more")
    else:
        raise document.error(path, f"expected a state name (got {_describe(value)})")
    for target in weights:
        if target not in states:
            raise document.error(path, f"unknown state (got {target!r}, expected one of {states})")
    return weights


def _read_states(document: _Document, kind: str, alphabet: list[str], normalize: bool,
                 top: dict) -> tuple[list[str], dict[str, float], dict]:
    table = _labelled_map(document, ("states",), top["states"], "state")
    if not table:
        raise document.error(("states",), "expected at least one state")
    states = _Names(table)
    final: dict[str, float] = {}
    moves: dict[tuple[str, str, str], float] = {}
    for state, body in table.items():
        path = ("states", state)
        body = _mapping(document, path, {} if body is None else body,
                        "a mapping with final and next")
        for key in body:
            if _key_text(key) not in ("final", "next"):
                raise document.error(path + (_key_text(key),),
                                     "unknown field (expected final or next)")
        final[state] = _read_final(document, path + ("final",), body.get("final"), kind, normalize)
        transitions = _labelled_map(document, path + ("next",), body.get("next") or {}, "symbol")
        for symbol, value in transitions.items():
            if symbol not in alphabet:
                raise document.error(path + ("next", symbol), f"unknown symbol (got {symbol!r}, "
                                                               f"expected one of {alphabet})")
            targets = _read_targets(document, path + ("next", symbol), value, kind, states,
                                    normalize)
            for target, weight in targets.items():
                moves[state, symbol, target] = weight
    return states, final, moves


def _read_final(document: _Document, path: Path_, value: Any, kind: str, normalize: bool) -> float:
    if kind in ("dfa", "nfa"):
        if value is None:
            return 0.0
        if not isinstance(value, bool):
            raise document.error(path, f"expected true or false (got {value!r})")
        return float(value)
    return 0.0 if value is None else _probability(document, path, value, normalize)


def _read_start(document: _Document, kind: str, value: Any, states: list[str],
                normalize: bool) -> dict[str, float]:
    path = ("start",)
    if isinstance(value, Mapping) and kind in ("pfa", "pdfa", "markov"):
        start = {
            name: _probability(document, path + (name,), weight, normalize)
            for name, weight in _labelled_map(document, path, value, "state").items()
        }
    elif isinstance(value, list) and kind == "nfa":
        start = {_label(document, path + (str(i),), item, "state"): 1.0
                 for i, item in enumerate(value)}
    else:
        start = {_label(document, path, value, "state"): 1.0}
    for name in start:
        if name not in states:
            raise document.error(path, f"unknown state (got {name!r}, expected one of {states})")
    total = sum(start.values())
    if kind in ("pfa", "pdfa", "markov") and not normalize and abs(total - 1) > TOLERANCE:
        raise document.error(path, f"start probabilities must sum to 1 (got {total:.9g})")
    if kind in ("dfa", "pdfa") and sum(1 for w in start.values() if w > 0) != 1:
        raise document.error(path, f"a {kind} has exactly one start state (got {list(start)})")
    if not start or not any(start.values()):
        raise document.error(path, "expected at least one start state")
    return start


def _spec_from_states(document: _Document, kind: str, alphabet: list[str],
                      normalize: bool) -> _Spec:
    top = document.data
    states, final, moves = _read_states(document, kind, alphabet, normalize, top)
    start = _read_start(document, kind, top["start"], states, normalize)
    return _Spec(kind=kind, alphabet=alphabet, states=states, start=start, final=final, moves=moves)


def markov_start_state(alphabet: list[str] | tuple[str, ...]) -> str:
    """Name of the state a Markov chain is in before its first symbol: ``^`` unless taken."""
    name = "^"
    while name in alphabet:
        name += "^"
    return name


def _spec_from_markov(document: _Document, alphabet: list[str], normalize: bool) -> _Spec:
    top = document.data
    start_state = markov_start_state(alphabet)
    rows = {start_state: (("start",), top["start"])}
    table = _labelled_map(document, ("next",), top["next"], "symbol")
    for symbol, row in table.items():
        if symbol not in alphabet:
            raise document.error(("next", symbol), f"unknown symbol (got {symbol!r}, expected "
                                                    f"one of {alphabet})")
        rows[symbol] = (("next", symbol), row)
    for symbol in alphabet:
        if symbol not in table:
            raise document.error(("next",), f"no row for symbol {symbol!r} (expected the "
                                            "distribution of the symbol after it, $ included)")
    final: dict[str, float] = {}
    moves: dict[tuple[str, str, str], float] = {}
    for state, (path, row) in rows.items():
        if not isinstance(row, Mapping):
            row = {row: 1.0} if isinstance(row, str) and path == ("start",) else row
        for symbol, weight in _labelled_map(document, path, row, "symbol").items():
            probability = _probability(document, path + (symbol,), weight, normalize)
            if symbol == END:
                final[state] = probability
            elif symbol in alphabet:
                moves[state, symbol, symbol] = probability
            else:
                raise document.error(path + (symbol,), f"unknown symbol (got {symbol!r}, "
                                                       f"expected one of {alphabet + [END]})")
    return _Spec(kind="markov", alphabet=alphabet, states=[start_state] + alphabet,
                 start={start_state: 1.0}, final=final, moves=moves)


def _normalized(spec: _Spec, document: _Document) -> _Spec:
    """Rescale start weights and every state's outgoing weights plus stop weight to sum to 1."""
    totals = dict.fromkeys(spec.states, 0.0)
    for (state, _, _), weight in spec.moves.items():
        totals[state] += weight
    for state, weight in spec.final.items():
        totals[state] += weight
    for state, total in totals.items():
        if total == 0:
            raise document.error(_state_path(spec, state), "all weights are 0, cannot normalize")
    start_total = sum(spec.start.values())
    return _Spec(
        kind=spec.kind, alphabet=spec.alphabet, states=spec.states,
        start={s: w / start_total for s, w in spec.start.items()},
        final={s: w / totals[s] for s, w in spec.final.items()},
        moves={key: w / totals[key[0]] for key, w in spec.moves.items()},
    )


def _state_path(spec: _Spec, state: str) -> Path_:
    if spec.kind != "markov":
        return ("states", state)
    return ("start",) if state == spec.states[0] else ("next", state)


def _build(spec: _Spec) -> Automaton:
    n_states, n_symbols = len(spec.states), len(spec.alphabet)
    state_index = {s: i for i, s in enumerate(spec.states)}
    symbol_index = {s: i for i, s in enumerate(spec.alphabet)}
    initial = np.zeros(n_states)
    for state, weight in spec.start.items():
        initial[state_index[state]] = weight
    final = np.zeros(n_states)
    for state, weight in spec.final.items():
        final[state_index[state]] = weight
    arrays: dict[str, np.ndarray] = {}
    if spec.kind in ("dfa", "pdfa", "markov"):
        next_state = np.full((n_states, n_symbols), -1, dtype=np.int64)
        symbol_prob = np.zeros((n_states, n_symbols))
        for (state, symbol, target), weight in spec.moves.items():
            next_state[state_index[state], symbol_index[symbol]] = state_index[target]
            symbol_prob[state_index[state], symbol_index[symbol]] = weight
        arrays = {"next_state": next_state, "symbol_prob": symbol_prob}
    else:
        check_dense_size(spec.kind, n_symbols, n_states)
        transition = np.zeros((n_symbols, n_states, n_states))
        for (state, symbol, target), weight in spec.moves.items():
            transition[symbol_index[symbol], state_index[state], state_index[target]] = weight
        arrays = {"transition": transition}
    return Automaton(kind=spec.kind, alphabet=tuple(spec.alphabet), states=tuple(spec.states),
                     initial=initial, final=final, name=spec.name, description=spec.description,
                     **arrays)


def check_dense_size(kind: str, n_symbols: int, n_states: int) -> None:
    """Refuse a nondeterministic automaton whose dense (symbols × states × states) table would
    exhaust memory, before it is allocated."""
    entries = n_symbols * n_states * n_states
    if entries > MAX_DENSE_ENTRIES:
        raise AutomatonError(f"a {kind} with {n_states} states and {n_symbols} symbols needs a "
                             f"dense table of {entries:.3g} entries (limit "
                             f"{MAX_DENSE_ENTRIES:.3g}); large automata must be deterministic "
                             "(dfa, pdfa, markov)")


def _document_to_automaton(document: _Document) -> Automaton:
    kind, alphabet, normalize = _read_header(document)
    if normalize and kind in ("dfa", "nfa"):
        raise document.error(("normalize",), f"only probabilistic kinds can be normalized "
                                             f"(got kind {kind})")
    if kind == "markov":
        spec = _spec_from_markov(document, alphabet, normalize)
    else:
        spec = _spec_from_states(document, kind, alphabet, normalize)
    if normalize:
        spec = _normalized(spec, document)
    top = document.data
    for key in ("name", "description"):
        if key in top and not isinstance(top[key], str):
            raise document.error((key,), f"expected text (got {_describe(top[key])}): quote it")
    spec.name = _key_text(top.get("name", ""))
    spec.description = _key_text(top.get("description", ""))
    try:
        return _build(spec)
    except AutomatonError as error:
        path = _state_path(spec, error.state) if error.state else ()
        raise document.error(path, str(error)) from None


# ---------------------------------------------------------------- public API


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
    return _document_to_automaton(_parse(text, file))


def load(source: str | os.PathLike | IO) -> Automaton:
    """Read an automaton from a YAML file (a path or an open file)."""
    if hasattr(source, "read"):
        content = source.read()
        file = getattr(source, "name", "<file>")
        if isinstance(content, bytes):
            content = _decode(content, str(file))
        return loads(content, file=str(file))
    return loads(read_text(source), file=str(source))


def read_text(source: str | os.PathLike, what: str = "YAML") -> str:
    """The text of a file, with the size limit and one clear error for a missing, unreadable,
    binary or non-UTF-8 file."""
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise FormatError(f"the file is too large ({size} bytes, limit {MAX_BYTES})",
                              file=str(path))
        raw = path.read_bytes()
    except IsADirectoryError:
        raise FormatError(f"is a directory, expected a {what} file", file=str(path)) from None
    except FileNotFoundError:
        raise FormatError("no such file", file=str(path)) from None
    except PermissionError:
        raise FormatError("permission denied", file=str(path)) from None
    except OSError as error:
        raise FormatError(f"cannot read the file ({error.strerror})", file=str(path)) from None
    return _decode(raw, str(path), what)


def _decode(raw: bytes, file: str, what: str = "YAML") -> str:
    if b"\x00" in raw:
        raise FormatError(f"this is a binary file, expected {what} text", file=file)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FormatError(f"not UTF-8 text (byte {error.start})", file=file) from None


def from_dict(data: Mapping, *, file: str = "<dict>") -> Automaton:
    """Build an automaton from the same structure as the YAML format.

    Examples
    --------
    >>> import automata as am
    >>> am.from_dict({"kind": "nfa", "alphabet": ["a"], "start": "s",
    ...               "states": {"s": {"final": True, "next": {"a": ["s"]}}}}).kind
    'nfa'
    """
    return _document_to_automaton(_Document(data=dict(data), file=file))


def to_dict(a: Automaton) -> dict:
    """The YAML structure of ``a`` (plain Python data); ``from_dict(to_dict(a))`` equals ``a``."""
    data: dict[str, Any] = {"kind": a.kind}
    if a.name:
        data["name"] = a.name
    if a.description:
        data["description"] = a.description
    data["alphabet"] = list(a.alphabet)
    if a.kind == "markov":
        return data | _markov_body(a)
    data["start"] = _start_field(a)
    data["states"] = {state: _state_body(a, s) for s, state in enumerate(a.states)}
    return data


def _start_field(a: Automaton) -> Any:
    starts = [(a.states[s], float(a.initial[s])) for s in np.flatnonzero(a.initial)]
    if len(starts) == 1 and starts[0][1] == 1.0:
        return starts[0][0]
    if a.kind == "nfa":
        return [name for name, _ in starts]
    return dict(starts)


def _state_body(a: Automaton, s: int) -> dict:
    final: Any = bool(a.final[s]) if not a.is_probabilistic else float(a.final[s])
    moves: dict[str, Any] = {}
    for i, symbol in enumerate(a.alphabet):
        if a.is_deterministic:
            if a.next_state[s, i] >= 0:
                target = a.states[a.next_state[s, i]]
                moves[symbol] = target if a.kind == "dfa" else {target: float(a.symbol_prob[s, i])}
        else:
            targets = np.flatnonzero(a.transition[i, s])
            if targets.size and a.kind == "nfa":
                names = [a.states[t] for t in targets]
                moves[symbol] = names[0] if len(names) == 1 else names
            elif targets.size:
                moves[symbol] = {a.states[t]: float(a.transition[i, s, t]) for t in targets}
    return {"final": final, "next": moves} if moves else {"final": final}


def _markov_body(a: Automaton) -> dict:
    def row(s: int) -> dict:
        cells = {a.alphabet[i]: float(a.symbol_prob[s, i])
                 for i in np.flatnonzero(a.next_state[s] >= 0)}
        return cells | ({END: float(a.final[s])} if a.final[s] > 0 else {})

    return {"start": row(0), "next": {a.states[s]: row(s) for s in range(1, len(a.states))}}


def dumps(a: Automaton) -> str:
    """The YAML text of ``a``; ``loads(dumps(a))`` gives back the same automaton."""
    return yaml.safe_dump(to_dict(a), sort_keys=False, default_flow_style=None, allow_unicode=True,
                          width=100)


def dump(a: Automaton, destination: str | os.PathLike | IO) -> None:
    """Write ``a`` as YAML to a path (atomically: temporary file, then rename) or an open file."""
    text = dumps(a)
    if hasattr(destination, "write"):
        destination.write(text)
        return
    write_atomic(Path(destination), text)


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file in the same folder and a rename.

    The file gets the usual permissions (those of the file it replaces, else 0o666 less the
    umask); errors name ``path``, never the temporary file.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory, expected a file name", str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise NotADirectoryError(errno.ENOTDIR, "cannot create its folder: a file is in the "
                                 "way", str(path)) from None
    mode = "wb" if isinstance(content, bytes) else "w"
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                             suffix=".tmp")
    except OSError as error:
        raise type(error)(error.errno, error.strerror, str(path)) from None
    try:
        with os.fdopen(handle, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as out:
            out.write(content)
        os.chmod(temporary, _file_mode(path))
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError) and error.filename == temporary:
            raise type(error)(error.errno, error.strerror, str(path)) from None
        raise


def _file_mode(path: Path) -> int:
    """The mode of the file ``path`` replaces, else what ``open`` would give a new file."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask
