"""Running an automaton on one string: the step-by-step trace, acceptance and why a string fails."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .conversions import as_probabilistic
from .core import Automaton, coreachable_states, dense_transition, derived
from .errors import UnknownSymbolError
from .probability import _walked, log_probability
from .strings import StringLike, is_single, to_symbols

State = str | frozenset | dict  # what trace yields: see trace()


def trace(a: Automaton, string: StringLike) -> Iterator[State]:
    """Yield the state before the first symbol and after each symbol read.

    Deterministic kinds yield a state name, NFAs the frozenset of current states, PFAs the
    normalised forward distribution ``{state: probability}``. The trace stops early (yielding
    nothing more) once no state is left: the string cannot be read further.

    Examples
    --------
    >>> import automata as am
    >>> a = am.loads('''
    ... kind: dfa
    ... alphabet: [a, b]
    ... start: s
    ... states: {s: {final: true, next: {a: t}}, t: {next: {b: s}}}
    ... ''')
    >>> list(trace(a, "ab"))
    ['s', 't', 's']
    >>> list(trace(a, "b"))
    ['s']
    """
    for vector in _forward(a, to_symbols(a, string)):
        yield _as_state(a, vector)


def _forward(a: Automaton, symbols: tuple[str, ...]) -> Iterator[np.ndarray]:
    """Normalised forward vectors over states; stops after the last nonzero one."""
    table = a._index["symbol"]
    if a.is_deterministic:
        state = a.start
        yield _one_hot(a, state)
        for symbol in symbols:
            i = table.get(symbol)
            if i is None or a.next_state[state, i] < 0 or a.symbol_prob[state, i] == 0:
                return
            state = int(a.next_state[state, i])
            yield _one_hot(a, state)
        return
    vector = a.initial / a.initial.sum()
    yield vector
    transition = dense_transition(a)
    for symbol in symbols:
        i = table.get(symbol)
        if i is None:
            return
        vector = vector @ transition[i]
        total = vector.sum()
        if total == 0:
            return
        vector = vector / total
        yield vector


def _one_hot(a: Automaton, state: int) -> np.ndarray:
    vector = np.zeros(len(a.states))
    vector[state] = 1.0
    return vector


def _as_state(a: Automaton, vector: np.ndarray) -> State:
    live = np.flatnonzero(vector)
    if a.is_deterministic:
        return a.states[live[0]]
    if a.kind == "nfa":
        return frozenset(a.states[s] for s in live)
    return {a.states[s]: float(vector[s]) for s in live}


@dataclass(frozen=True)
class Rejection:
    """Why a string is not accepted: where it stopped, in which state, and the reason."""

    position: int  # symbols read successfully before the failure
    state: State  # the state (or state set/distribution) at that point
    reason: str

    def __str__(self) -> str:
        return f"rejected at position {self.position} in state {_show(self.state)}: {self.reason}"


def _show(state: State) -> str:
    if isinstance(state, str):
        return repr(state)
    if isinstance(state, frozenset):
        return "{" + ", ".join(sorted(state)) + "}"
    return "{" + ", ".join(f"{k}: {v:.3g}" for k, v in state.items()) + "}"


def rejection(a: Automaton, string: StringLike) -> Rejection | None:
    """Why ``a`` rejects ``string``, or None when it accepts it (probability > 0).

    Examples
    --------
    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a, b]\\nstart: s\\nstates: {s: {final: true, next: {a: s}}}")
    >>> print(rejection(a, "aab"))
    rejected at position 2 in state 's': no move on 'b'
    """
    symbols = to_symbols(a, string)
    vectors = list(_forward(a, symbols))
    position, vector = len(vectors) - 1, vectors[-1]
    state = _as_state(a, vector)
    if position < len(symbols):
        symbol = symbols[position]
        reason = (f"symbol {symbol!r} is not in the alphabet {list(a.alphabet)}"
                  if symbol not in a._index["symbol"] else f"no move on {symbol!r}")
        return Rejection(position=position, state=state, reason=reason)
    if float(vector @ a.final) == 0:
        word = "accepting" if not a.is_probabilistic else "stopping (final > 0)"
        return Rejection(position=position, state=state,
                         reason=f"the string ends in no {word} state")
    return None


def accepts(a: Automaton, strings: StringLike | Sequence[StringLike]) -> bool | np.ndarray:
    """True when ``a`` accepts the string (for probabilistic kinds: gives it probability > 0).

    One string (a ``str`` or a tuple of symbols) gives a bool, by a walk over plain-Python tables
    for deterministic kinds (:func:`rejection` says why a string is rejected); a list of strings
    gives a boolean array, computed in one vectorised pass.

    Examples
    --------
    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a]\\nstart: s\\nstates: {s: {final: true, next: {a: s}}}")
    >>> accepts(a, "aaa"), accepts(a, "ab")
    (True, False)
    >>> accepts(a, ["", "b", "aa"]).tolist()
    [True, False, True]
    """
    if is_single(strings):
        log = _walked(a, strings, "stop")
        if log is not None:
            return log > -np.inf
        if a.is_deterministic and all(type(x) is str for x in strings):
            return False  # an unknown symbol or no move: the walk read the symbols to_symbols reads
        return rejection(a, strings) is None
    strings = list(strings)
    if not coreachable_states(a)[a.initial > 0].any():
        return np.zeros(len(strings), dtype=bool)
    p = a if a.is_probabilistic else derived(a, as_probabilistic)
    try:
        return np.isfinite(log_probability(p, strings))
    except UnknownSymbolError:  # strings with foreign symbols are rejected, one by one
        return np.array([rejection(a, s) is None for s in strings], dtype=bool)
