"""Check the fields of a YAML document and turn them into a `Spec`: labels and numbers, each
error located at its file, line, field and value."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .core import END, KINDS, TOLERANCE
from .yaml_document import Document, Path_, TextInt, key_text

TOP_KEYS = ("kind", "name", "description", "alphabet", "start", "states", "next", "normalize")


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


def _label(document: Document, path: Path_, value: Any, what: str) -> str:
    """A symbol or state name: strings, and integers read as their text."""
    if isinstance(value, bool):
        written = document.source_token(path) or str(value).lower()
        raise document.error(path, f"{what} read as a boolean (got {written}, expected "
                                   f"a string): YAML reads yes/no/on/off/true/false as booleans, "
                                   f"so quote it")
    if isinstance(value, TextInt):
        return value.text
    if isinstance(value, float):
        raise document.error(path, f"{what} read as a number (got {value!r}, expected a string): "
                                   "quote it")
    if not isinstance(value, str) or value == "":
        raise document.error(path, f"{what} must be a non-empty string (got {value!r})")
    return value


def _mapping(document: Document, path: Path_, value: Any, expected: str) -> dict:
    if not isinstance(value, Mapping):
        raise document.error(path, f"expected {expected} (got {_describe(value)})")
    return value


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _probability(document: Document, path: Path_, value: Any, normalize: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise document.error(path, f"expected a probability (got {_describe(value)})")
    number = float(value)
    upper = math.inf if normalize else 1 + TOLERANCE
    if not math.isfinite(number) or number < 0 or number > upper:
        expected = "a finite weight ≥ 0" if normalize else "a probability in [0, 1]"
        raise document.error(path, f"invalid probability (got {value!r}, expected {expected})")
    return number


def _labelled_map(document: Document, path: Path_, value: Any, what: str) -> dict[str, Any]:
    """A mapping whose keys are labels, with the label text as key and the paths recorded."""
    result = {}
    for key, item in _mapping(document, path, value, f"a mapping of {what}s").items():
        name = _label(document, path + (key_text(key),), key, what)
        result[name] = item
    return result


@dataclass
class Spec:
    """What a file says, as labels and numbers, before it becomes arrays."""

    kind: str
    alphabet: list[str]
    states: list[str]
    start: dict[str, float]
    final: dict[str, float]
    moves: dict[tuple[str, str, str], float]  # (state, symbol, target) -> weight
    name: str = ""
    description: str = ""


def _read_header(document: Document) -> tuple[str, list[str], bool]:
    top = document.data
    if not isinstance(top, Mapping):  # the file may be anything: say what, never quote it
        shape = "a list" if isinstance(top, list) else "a single value, not fields"
        raise document.error((), "expected a mapping with kind, alphabet, start, states (got "
                                 f"{shape}): is this an automaton file?")
    for key in top:
        if key_text(key) not in TOP_KEYS:
            raise document.error((key_text(key),), f"unknown field (expected one of "
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


def _read_alphabet(document: Document, value: Any) -> list[str]:
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


def _read_targets(document: Document, path: Path_, value: Any, kind: str, states: list[str],
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


def _read_states(document: Document, kind: str, alphabet: list[str], normalize: bool,
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
            if key_text(key) not in ("final", "next"):
                raise document.error(path + (key_text(key),),
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


def _read_final(document: Document, path: Path_, value: Any, kind: str, normalize: bool) -> float:
    if kind in ("dfa", "nfa"):
        if value is None:
            return 0.0
        if not isinstance(value, bool):
            raise document.error(path, f"expected true or false (got {value!r})")
        return float(value)
    return 0.0 if value is None else _probability(document, path, value, normalize)


def _read_start(document: Document, kind: str, value: Any, states: list[str],
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


def _spec_from_states(document: Document, kind: str, alphabet: list[str],
                      normalize: bool) -> Spec:
    top = document.data
    states, final, moves = _read_states(document, kind, alphabet, normalize, top)
    start = _read_start(document, kind, top["start"], states, normalize)
    return Spec(kind=kind, alphabet=alphabet, states=states, start=start, final=final, moves=moves)


def markov_start_state(alphabet: list[str] | tuple[str, ...]) -> str:
    """Name of the state a Markov chain is in before its first symbol: ``^`` unless taken."""
    name = "^"
    while name in alphabet:
        name += "^"
    return name


def _spec_from_markov(document: Document, alphabet: list[str], normalize: bool) -> Spec:
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
    return Spec(kind="markov", alphabet=alphabet, states=[start_state] + alphabet,
                 start={start_state: 1.0}, final=final, moves=moves)


def _normalized(spec: Spec, document: Document) -> Spec:
    """Rescale start weights and every state's outgoing weights plus stop weight to sum to 1."""
    totals = dict.fromkeys(spec.states, 0.0)
    for (state, _, _), weight in spec.moves.items():
        totals[state] += weight
    for state, weight in spec.final.items():
        totals[state] += weight
    for state, total in totals.items():
        if total == 0:
            raise document.error(state_path(spec, state), "all weights are 0, cannot normalize")
    start_total = sum(spec.start.values())
    return Spec(
        kind=spec.kind, alphabet=spec.alphabet, states=spec.states,
        start={s: w / start_total for s, w in spec.start.items()},
        final={s: w / totals[s] for s, w in spec.final.items()},
        moves={key: w / totals[key[0]] for key, w in spec.moves.items()},
    )


def state_path(spec: Spec, state: str) -> Path_:
    """Where ``state`` is written in the file: its entry under ``states`` (``start``/``next`` rows
    for a Markov chain)."""
    if spec.kind != "markov":
        return ("states", state)
    return ("start",) if state == spec.states[0] else ("next", state)


def read_spec(document: Document) -> Spec:
    """The checked content of ``document`` (normalized when it says ``normalize: true``)."""
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
    spec.name = key_text(top.get("name", ""))
    spec.description = key_text(top.get("description", ""))
    return spec
