"""Are two automata the same? Same distribution (probabilistic kinds) or same language.

- two deterministic probabilistic automata: breadth-first walk of the reachable state pairs,
  comparing next-symbol distributions (linear in the pairs);
- probabilistic otherwise: Tzeng's algorithm (1992), a basis of the reachable forward vectors of
  the two automata side by side, cubic in the number of states;
- DFA/NFA: breadth-first walk of pairs of state sets (subset construction on the fly).

Each search is breadth first, so the witness it returns is a shortest distinguishing string.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from .core import Automaton, dense_transition
from .errors import AutomatonError, SizeLimitError

MAX_DENSE_STATES = 4000  # Tzeng's dense basis beyond this would take minutes and gigabytes
MAX_PAIRS = 2_000_000


def distinguishing_string(a: Automaton, b: Automaton, *,
                          atol: float = 1e-9) -> tuple[str, ...] | None:
    """A shortest witness that ``a`` and ``b`` differ, or None when they are equivalent.

    - two deterministic probabilistic automata: a shortest prefix after which a next-symbol
      probability differs by more than ``atol`` (so they differ on strings that start with it);
    - other probabilistic automata (Tzeng): a shortest string whose probabilities differ by more
      than ``atol`` relative to its forward weights;
    - DFA/NFA: a shortest string that one accepts and the other does not.

    Examples
    --------
    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [x]\\nstart: s\\nstates: {s: {final: true, next: {x: s}}}")
    >>> b = am.loads("kind: dfa\\nalphabet: [x]\\nstart: s\\nstates: {s: {final: true, next: {x: t}}, t: {}}")
    >>> distinguishing_string(a, b)
    ('x',)
    """
    if a.alphabet != b.alphabet:
        raise AutomatonError(f"the alphabets differ: {list(a.alphabet)} and {list(b.alphabet)}")
    if a.is_probabilistic != b.is_probabilistic:
        raise AutomatonError(f"cannot compare a {a.kind} with a {b.kind}: one defines a "
                             "distribution, the other a language (see am.as_probabilistic)")
    if not a.is_probabilistic:
        return _language_witness(a, b)
    if a.is_deterministic and b.is_deterministic:
        return _table_witness(a, b, atol)
    return _tzeng_witness(a, b, atol)


def equivalent(a: Automaton, b: Automaton, *, atol: float = 1e-9) -> bool:
    """True when ``a`` and ``b`` define the same distribution (or the same language).

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> equivalent(a, a)
    True
    """
    return distinguishing_string(a, b, atol=atol) is None


def _table_witness(a: Automaton, b: Automaton, atol: float) -> tuple[str, ...] | None:
    rows_a = np.column_stack([a.symbol_prob, a.final])
    rows_b = np.column_stack([b.symbol_prob, b.final])
    start = (a.start, b.start)
    words = {start: ()}
    queue = deque([start])
    while queue:
        s, t = queue.popleft()
        if np.abs(rows_a[s] - rows_b[t]).max() > atol:
            return words[s, t]
        # a move b lacks has probability ≤ atol in a (the rows matched): nothing to follow
        for i in np.flatnonzero((rows_a[s, :-1] > 0) & (b.next_state[t] >= 0)):
            pair = (int(a.next_state[s, i]), int(b.next_state[t, i]))
            if pair not in words:
                words[pair] = words[s, t] + (a.alphabet[i],)
                queue.append(pair)
    return None


def _tzeng_witness(a: Automaton, b: Automaton, atol: float) -> tuple[str, ...] | None:
    size = len(a.states) + len(b.states)
    if size > MAX_DENSE_STATES:
        raise SizeLimitError(f"Tzeng's equivalence test on {size} states in all exceeds the limit "
                             f"of {MAX_DENSE_STATES}")
    ta, tb = dense_transition(a), dense_transition(b)
    # block-diagonal moves and the difference of the stop weights: f(w) = v(w) · stop
    moves = np.zeros((len(a.alphabet), size, size))
    moves[:, : len(a.states), : len(a.states)] = ta
    moves[:, len(a.states):, len(a.states):] = tb
    stop = np.concatenate([a.final, -b.final])
    basis = np.zeros((0, size))
    queue = deque([(np.concatenate([a.initial, b.initial]), ())])
    while queue:
        vector, word = queue.popleft()
        residual = vector - (vector @ basis.T) @ basis
        norm = np.linalg.norm(residual)
        if norm <= 1e-10 * max(1.0, np.linalg.norm(vector)):
            continue
        if abs(vector @ stop) > atol * np.abs(vector).sum():
            return word
        basis = np.vstack([basis, residual / norm])
        queue.extend((vector @ moves[i], word + (a.alphabet[i],)) for i in range(len(a.alphabet)))
    return None


def _language_witness(a: Automaton, b: Automaton) -> tuple[str, ...] | None:
    ta, tb = dense_transition(a) > 0, dense_transition(b) > 0
    start = (frozenset(np.flatnonzero(a.initial)), frozenset(np.flatnonzero(b.initial)))
    words = {start: ()}
    queue = deque([start])
    while queue:
        sa, sb = queue.popleft()
        if _accepting(a, sa) != _accepting(b, sb):
            return words[sa, sb]
        for i, symbol in enumerate(a.alphabet):
            pair = (_step(ta[i], sa), _step(tb[i], sb))
            if pair not in words:
                if len(words) >= MAX_PAIRS:
                    raise SizeLimitError(f"more than {MAX_PAIRS} pairs of state sets")
                words[pair] = words[sa, sb] + (symbol,)
                queue.append(pair)
    return None


def _accepting(a: Automaton, states: frozenset) -> bool:
    return any(a.final[s] > 0 for s in states)


def _step(moves: np.ndarray, states: frozenset) -> frozenset:
    if not states:
        return states
    return frozenset(np.flatnonzero(moves[list(states)].any(axis=0)).tolist())
