"""The most probable completions of a prefix, by exact best-first search."""

from __future__ import annotations

import heapq
import itertools

import numpy as np

from .conversions import as_probabilistic
from .core import Automaton, dense_transition, symbol_matrix
from .errors import AutomatonError, ImpossiblePrefixError, SizeLimitError
from .strings import StringLike, format_string, to_symbols


def complete(a: Automaton, prefix: StringLike = "", k: int = 5, *,
             max_expansions: int = 200_000) -> list[tuple[tuple[str, ...], float]]:
    """The ``k`` most probable completions w of ``prefix``, with P(prefix·w·$ | prefix).

    Best-first search: a partial completion is never more probable than its extensions' sum, so
    completions come out exactly in order of probability (for every kind; DFA/NFA through
    :func:`automata.as_probabilistic`). Fewer than ``k`` come back when the language has fewer.

    Examples
    --------
    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x, y]\\nstart: {x: 1.0}\\nnext: {x: {y: 0.7, $: 0.3}, y: {$: 1}}")
    >>> complete(a, "x", k=2)
    [(('y',), 0.7), ((), 0.3)]
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise AutomatonError(f"k must be a positive integer (got {k!r})")
    p = as_probabilistic(a)
    step = _Stepper(p)
    start = step.after(to_symbols(p, prefix))
    if start is None:
        shown = format_string(p.alphabet, to_symbols(p, prefix))
        raise ImpossiblePrefixError(f"the prefix {shown!r} has probability 0: nothing completes it")
    counter = itertools.count()  # tie-breaker: never compare states
    heap = [(-1.0, next(counter), (), start, False)]
    found: list[tuple[tuple[str, ...], float]] = []
    for _ in range(max_expansions):
        if not heap or len(found) == k:
            return found
        negative, _, suffix, state, finished = heapq.heappop(heap)
        if finished:
            found.append((suffix, float(-negative)))
            continue
        distribution = step.distribution(state)
        for i in np.flatnonzero(distribution):
            probability = -negative * distribution[i]
            if i == len(p.alphabet):
                heapq.heappush(heap, (-probability, next(counter), suffix, state, True))
            else:
                heapq.heappush(heap, (-probability, next(counter), suffix + (p.alphabet[i],),
                                      step.move(state, i), False))
    if len(found) < k and heap:
        raise SizeLimitError(f"found {len(found)} of {k} completions within {max_expansions} "
                             "expansions; raise max_expansions")
    return found


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
