"""The one automaton type: an immutable value with labels outside and numpy arrays inside.

DFA, NFA, PFA, PDFA and Markov chains differ by data, not by class:

- deterministic kinds (``dfa``, ``pdfa``, ``markov``) keep a next-state table
  ``next_state`` (states × symbols, -1 = no move) and ``symbol_prob`` (the probability of each
  symbol in each state; 1/0 for a DFA);
- nondeterministic kinds (``nfa``, ``pfa``) keep a dense ``transition`` tensor
  (symbols × states × states), ``transition[a, s, t]`` = P(emit a and go to t | in s); 1/0 for NFA.

``initial`` and ``final`` are per-state vectors: start and stop probabilities for probabilistic
kinds, 0/1 start and accepting flags for DFA and NFA.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import numpy as np

from .errors import AutomatonError, UnknownSymbolError

Kind = Literal["dfa", "nfa", "pfa", "pdfa", "markov"]
KINDS: tuple[str, ...] = ("dfa", "nfa", "pfa", "pdfa", "markov")
DETERMINISTIC_KINDS = frozenset({"dfa", "pdfa", "markov"})
PROBABILISTIC_KINDS = frozenset({"pfa", "pdfa", "markov"})
END = "$"
TOLERANCE = 1e-6
T = TypeVar("T")


@dataclass(frozen=True, eq=False, repr=False)
class Automaton:
    """A finite automaton; build one with :func:`automata.loads` or :func:`automata.from_dict`.

    Examples
    --------
    >>> import automata as am
    >>> a = am.loads('''
    ... kind: pdfa
    ... alphabet: [a, b]
    ... start: q
    ... states:
    ...   q: {final: 0.5, next: {a: {q: 0.5}}}
    ... ''')
    >>> a.kind, a.states, a.columns
    ('pdfa', ('q',), ('a', 'b', '$'))
    """

    kind: Kind
    alphabet: tuple[str, ...]
    states: tuple[str, ...]
    initial: np.ndarray  # (S,) start probability, or 0/1 start flags for dfa/nfa
    final: np.ndarray  # (S,) stop probability, or 0/1 accepting flags for dfa/nfa
    next_state: np.ndarray | None = None  # (S, A) int64 target state, -1 = no move
    symbol_prob: np.ndarray | None = None  # (S, A) P(symbol | state); 1/0 for dfa
    transition: np.ndarray | None = None  # (A, S, S) P(symbol, target | state); 1/0 for nfa
    name: str = ""
    description: str = ""
    _index: dict = field(default=None, compare=False)  # type: ignore[assignment]
    _derived: dict = field(default=None, compare=False)  # type: ignore[assignment]  # see derived()

    def __post_init__(self) -> None:
        for name in ("initial", "final", "next_state", "symbol_prob", "transition"):
            value = getattr(self, name)
            if value is not None:
                dtype = np.int64 if name == "next_state" else np.float64
                array = np.array(value, dtype=dtype)
                array.flags.writeable = False
                object.__setattr__(self, name, array)
        object.__setattr__(self, "alphabet", tuple(self.alphabet))
        object.__setattr__(self, "states", tuple(self.states))
        index = {
            "symbol": {s: i for i, s in enumerate(self.alphabet)},
            "state": {s: i for i, s in enumerate(self.states)},
        }
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_derived", {})
        validate(self)

    @property
    def is_deterministic(self) -> bool:
        """True for kinds stored as a next-state table (dfa, pdfa, markov)."""
        return self.kind in DETERMINISTIC_KINDS

    @property
    def is_probabilistic(self) -> bool:
        """True for kinds that define a distribution over strings (pfa, pdfa, markov)."""
        return self.kind in PROBABILISTIC_KINDS

    @property
    def columns(self) -> tuple[str, ...]:
        """Column labels of every next-symbol distribution: the alphabet, then ``$``."""
        return self.alphabet + (END,)

    @property
    def start(self) -> int:
        """Index of the start state of a deterministic automaton."""
        if not self.is_deterministic:
            raise AutomatonError(f"a {self.kind} has a start distribution, not one start state")
        return int(np.argmax(self.initial))

    def symbol_index(self, symbol: str) -> int:
        """Index of ``symbol`` in the alphabet (raises UnknownSymbolError)."""
        try:
            return self._index["symbol"][symbol]
        except KeyError:
            raise UnknownSymbolError(
                f"unknown symbol {symbol!r}; the alphabet is {list(self.alphabet)}") from None

    def state_index(self, state: str) -> int:
        """Index of the state named ``state``."""
        try:
            return self._index["state"][state]
        except KeyError:
            raise AutomatonError(f"unknown state {state!r}; states are {list(self.states)}") from None

    def __getstate__(self) -> dict:
        """Pickled and copied without the tables :func:`derived` keeps (rebuilt on demand)."""
        return {name: value for name, value in self.__dict__.items() if name != "_derived"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _derived={})

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return (
            f"<Automaton {self.kind}{label}: {len(self.states)} states, "
            f"{len(self.alphabet)} symbols>"
        )


def derived(a: Automaton, build: Callable[[Automaton], T]) -> T:
    """``build(a)``, computed on first use and kept with ``a``: an automaton never changes, so
    tables derived from it (read-only arrays, lookup lists) stay valid as long as it lives.

    Examples
    --------
    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [x]\\nstart: s\\nstates: {s: {final: true}}")
    >>> derived(a, dense_transition) is derived(a, dense_transition)
    True
    """
    try:
        return a._derived[build]
    except KeyError:
        value = a._derived[build] = build(a)
        return value


def dense_transition(a: Automaton) -> np.ndarray:
    """The (A, S, S) tensor P(symbol, target | state) of any automaton.

    Examples
    --------
    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [x]\\nstart: s\\nstates: {s: {final: true, next: {x: s}}}")
    >>> dense_transition(a).tolist()
    [[[1.0]]]
    """
    if a.transition is not None:
        return a.transition
    n_states, n_symbols = a.next_state.shape
    dense = np.zeros((n_symbols, n_states, n_states))
    s, sym = np.nonzero(a.next_state >= 0)
    dense[sym, s, a.next_state[s, sym]] = a.symbol_prob[s, sym]
    return dense


def symbol_matrix(a: Automaton) -> np.ndarray:
    """The (S, A) matrix of P(symbol | state), summed over targets for nondeterministic kinds."""
    if a.symbol_prob is not None:
        return a.symbol_prob
    return a.transition.sum(axis=2).T


def validate(a: Automaton) -> None:
    """Check shapes, ranges and that a probabilistic automaton is a distribution over strings."""
    _check_labels(a)
    _check_shapes(a)
    _check_values(a)
    if a.is_probabilistic:
        _check_sums(a)
        _check_termination(a)


def _check_labels(a: Automaton) -> None:
    if a.kind not in KINDS:
        raise AutomatonError(f"unknown kind {a.kind!r}; expected one of {', '.join(KINDS)}")
    if not a.states:
        raise AutomatonError("an automaton needs at least one state")
    for what, labels in (("symbol", a.alphabet), ("state", a.states)):
        if len(set(labels)) != len(labels):
            raise AutomatonError(f"duplicate {what} names in {list(labels)}")
        for label in labels:
            if not isinstance(label, str) or label == "":
                raise AutomatonError(f"{what} names must be non-empty strings (got {label!r})")
    if END in a.alphabet:
        raise AutomatonError(f"{END!r} is reserved for the end of the string and cannot be a symbol")


def _check_shapes(a: Automaton) -> None:
    n_states, n_symbols = len(a.states), len(a.alphabet)
    expected = {"initial": (n_states,), "final": (n_states,)}
    if a.is_deterministic:
        expected |= {"next_state": (n_states, n_symbols), "symbol_prob": (n_states, n_symbols)}
        if a.transition is not None:
            raise AutomatonError(f"a {a.kind} is stored as a next-state table, not a transition tensor")
    else:
        expected |= {"transition": (n_symbols, n_states, n_states)}
        if a.next_state is not None or a.symbol_prob is not None:
            raise AutomatonError(f"a {a.kind} is stored as a transition tensor")
    for name, shape in expected.items():
        value = getattr(a, name)
        if value is None or value.shape != shape:
            got = None if value is None else value.shape
            raise AutomatonError(f"{name} must have shape {shape} (got {got})")


def _check_values(a: Automaton) -> None:
    weights = {"initial": a.initial, "final": a.final}
    weights |= {"symbol_prob": a.symbol_prob} if a.is_deterministic else {"transition": a.transition}
    for name, value in weights.items():
        if not np.all(np.isfinite(value)) or np.any(value < 0) or np.any(value > 1 + TOLERANCE):
            raise AutomatonError(f"{name} must hold probabilities in [0, 1]")
    if a.is_deterministic:
        if np.any(a.next_state < -1) or np.any(a.next_state >= len(a.states)):
            raise AutomatonError("next_state holds an index that is not a state")
        if np.any((a.next_state < 0) & (a.symbol_prob > 0)):
            raise AutomatonError("a symbol with positive probability has no target state")
        if np.count_nonzero(a.initial) != 1:
            raise AutomatonError(f"a {a.kind} has exactly one start state")
    if not a.is_probabilistic:
        for name, value in weights.items():
            if np.any((value != 0) & (value != 1)):
                raise AutomatonError(f"{name} of a {a.kind} must hold 0/1 flags")


def _check_sums(a: Automaton) -> None:
    if abs(a.initial.sum() - 1) > TOLERANCE:
        raise AutomatonError(f"start probabilities must sum to 1 (got {a.initial.sum():.9g})")
    totals = symbol_matrix(a).sum(axis=1) + a.final
    for s in np.flatnonzero(np.abs(totals - 1) > TOLERANCE):
        raise AutomatonError(
            f"state {a.states[s]!r}: outgoing probabilities plus final must sum to 1 "
            f"(got {totals[s]:.9g})",
            state=a.states[s],
        )


def _check_termination(a: Automaton) -> None:
    stuck = reachable_states(a) & ~coreachable_states(a)
    for s in np.flatnonzero(stuck):
        raise AutomatonError(
            f"state {a.states[s]!r} is reachable but can never reach a stop, so the automaton "
            "is not a distribution over finite strings",
            state=a.states[s],
        )


def edges(a: Automaton) -> tuple[np.ndarray, np.ndarray]:
    """The (source, target) index arrays of every move with positive weight, deduplicated."""
    if a.transition is not None:
        source, target = np.nonzero(a.transition.sum(axis=0) > 0)
        return source, target
    source, symbol = np.nonzero((a.next_state >= 0) & (a.symbol_prob > 0))
    pairs = np.unique(source * len(a.states) + a.next_state[source, symbol])
    return pairs // len(a.states), pairs % len(a.states)


def _closure(seed: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """States reachable from the boolean ``seed`` mask along the edges source → target."""
    order = np.argsort(source, kind="stable")
    targets_by_source = target[order]
    indptr = np.searchsorted(source[order], np.arange(len(seed) + 1))
    reached = seed.copy()
    frontier = np.flatnonzero(seed)
    while frontier.size:
        starts, stops = indptr[frontier], indptr[frontier + 1]
        counts = stops - starts
        # positions of every out-edge of the frontier in the sorted edge list
        offsets = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        found = np.unique(targets_by_source[offsets])
        frontier = found[~reached[found]]
        reached[frontier] = True
    return reached


def reachable_states(a: Automaton) -> np.ndarray:
    """Boolean mask of the states reachable from a start state along positive moves."""
    source, target = edges(a)
    return _closure(a.initial > 0, source, target)


def coreachable_states(a: Automaton) -> np.ndarray:
    """Boolean mask of the states from which a stopping (accepting) state is reachable."""
    source, target = edges(a)
    return _closure(a.final > 0, target, source)
