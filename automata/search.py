"""The most probable completions of a prefix, by exact best-first search."""

from __future__ import annotations

import heapq
import itertools

import numpy as np

from .conversions import as_probabilistic
from .core import Automaton, dense_transition, symbol_matrix
from .errors import AutomatonError, ImpossiblePrefixError
from .strings import StringLike, format_string, to_symbols


class Completions(list):
    """Completions ``(suffix, probability)``, most probable first, and ``cut``: 0.0 when they are
    exactly the most probable ones, else the highest probability that a missing completion could
    have (the search stopped at ``max_expansions`` or dropped candidates at ``max_frontier``)."""

    def __init__(self, found: list[tuple[tuple[str, ...], float]], cut: float = 0.0) -> None:
        super().__init__(found)
        self.cut = cut


def complete(a: Automaton, prefix: StringLike = "", k: int = 5, *,
             max_expansions: int = 200_000, max_frontier: int = 100_000) -> Completions:
    """The ``k`` most probable completions w of ``prefix``, with P(prefix·w·$ | prefix).

    Best-first search: a partial completion is never more probable than its extensions' sum, so
    completions come out exactly in order of probability (for every kind; DFA/NFA through
    :func:`automata.as_probabilistic`). Fewer than ``k`` come back when the language has fewer.
    Candidates below the k-th best finished one are never kept; at most ``2 · max_frontier``
    wait at once (the least probable are dropped beyond that), and at most ``max_expansions``
    are expanded. When that cuts the answer, ``cut`` of the result says how probable a missing
    completion could be.

    Examples
    --------
    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x, y]\\nstart: {x: 1.0}\\nnext: {x: {y: 0.7, $: 0.3}, y: {$: 1}}")
    >>> found = complete(a, "x", k=2)
    >>> found, found.cut
    ([(('y',), 0.7), ((), 0.3)], 0.0)
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise AutomatonError(f"k must be a positive integer (got {k!r})")
    p = as_probabilistic(a)
    step = _Stepper(p)
    start = step.after(to_symbols(p, prefix))
    if start is None:
        shown = format_string(p.alphabet, to_symbols(p, prefix))
        raise ImpossiblePrefixError(f"the prefix {shown!r} has probability 0: nothing completes it")
    end = len(p.alphabet)
    counter = itertools.count()  # tie-breaker: never compare states
    # (−probability, tie, suffix as a linked list, state, move): the move from that state is
    # made when the entry is expanded (None: none; ``end``: a finished completion)
    heap: list[tuple] = [(-1.0, next(counter), None, start, None)]
    finished: list[float] = []  # min-heap of the k best finished probabilities seen
    found: list[tuple[tuple[str, ...], float]] = []
    dropped = 0.0
    for _ in range(max_expansions):
        if not heap or len(found) == k:
            break
        negative, _, suffix, state, move = heapq.heappop(heap)
        if move == end:
            found.append((_unlinked(p.alphabet, suffix), -negative))
            continue
        if move is not None:
            state = step.move(state, move)
        probabilities = -negative * step.distribution(state)
        floor = finished[0] if len(finished) == k else 0.0
        for i in np.flatnonzero(probabilities > floor).tolist():
            probability = float(probabilities[i])
            if i == end and len(finished) == k:
                heapq.heappushpop(finished, probability)
            elif i == end:
                heapq.heappush(finished, probability)
            heapq.heappush(heap, (-probability, next(counter),
                                  suffix if i == end else (i, suffix), state, i))
        if len(heap) > 2 * max_frontier:
            heap.sort()
            dropped = max(dropped, -heap[max_frontier][0])
            del heap[max_frontier:]
    left = -heap[0][0] if heap and len(found) < k else 0.0  # stopped by max_expansions
    missing = max(dropped, left)
    exact = missing == 0.0 or (len(found) == k and found[-1][1] >= missing)
    return Completions(found, cut=0.0 if exact else missing)


def _unlinked(alphabet: tuple[str, ...], suffix: tuple | None) -> tuple[str, ...]:
    """The symbols of a suffix kept as nested pairs (last symbol, rest)."""
    symbols = []
    while suffix is not None:
        symbols.append(alphabet[suffix[0]])
        suffix = suffix[1]
    return tuple(reversed(symbols))


class _Stepper:
    """Next-symbol distributions and moves for one automaton: a state index for deterministic
    kinds, a normalised forward vector otherwise."""

    def __init__(self, a: Automaton) -> None:
        self.a = a
        self.transition = None if a.is_deterministic else dense_transition(a)
        self.emit = symbol_matrix(a)

    def distribution(self, state):
        if self.a.is_deterministic:
            return np.append(self.a.symbol_prob[state], self.a.final[state])
        return np.append(state @ self.emit, state @ self.a.final)

    def move(self, state, symbol: int):
        if self.a.is_deterministic:
            return int(self.a.next_state[state, symbol])
        moved = state @ self.transition[symbol]
        return moved / moved.sum()

    def after(self, symbols: tuple[str, ...]):
        """The state after reading ``symbols``, or None when that has probability 0."""
        state = self.a.start if self.a.is_deterministic else self.a.initial.copy()
        for symbol in symbols:
            i = self.a.symbol_index(symbol)
            if self.distribution(state)[i] == 0:
                return None
            state = self.move(state, i)
        return state
