"""Drawing strings from an automaton, with the inverse temperature α of softmax sampling.

Each step picks σ ∈ alphabet + ($,) with probability ∝ P(σ | prefix)^α: α = 1 samples the
automaton itself, α → ∞ is greedy, α = 0 is uniform over the allowed next symbols. All strings
advance together, one vectorised step at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .conversions import as_probabilistic
from .core import Automaton, dense_transition, symbol_matrix
from .errors import AutomatonError
from .randomness import Seed, make_rng

DEFAULT_MAX_LENGTH = 1000  # strings still running after this many symbols are cut there


@dataclass(frozen=True)
class Samples(Sequence):
    """Sampled strings (tuples of symbols); ``cut[i]`` is True when string i reached
    ``max_length`` before its end-of-string and was cut there."""

    strings: tuple[tuple[str, ...], ...]
    cut: np.ndarray  # (n,) bool

    def __getitem__(self, i):  # type: ignore[override]
        return self.strings[i]

    def __len__(self) -> int:
        return len(self.strings)

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        return iter(self.strings)


def temper(distribution: np.ndarray, alpha: float) -> np.ndarray:
    """Rows of ``distribution`` raised to the power α and renormalised over positive entries.

    >>> temper(np.array([0.5, 0.25, 0.25, 0.0]), 0.0).tolist()
    [0.3333333333333333, 0.3333333333333333, 0.3333333333333333, 0.0]
    >>> temper(np.array([0.5, 0.25, 0.25]), float("inf")).tolist()
    [1.0, 0.0, 0.0]
    """
    if alpha == 1:
        return distribution
    positive = distribution > 0
    if alpha == 0:
        weights = positive * 1.0
    elif np.isinf(alpha):
        weights = (positive & (distribution == distribution.max(axis=-1, keepdims=True))) * 1.0
    else:
        with np.errstate(divide="ignore"):
            logs = np.log(distribution)
        weights = np.where(positive,
                           np.exp(alpha * (logs - logs.max(axis=-1, keepdims=True))), 0.0)
    return weights / weights.sum(axis=-1, keepdims=True)


def _check_arguments(n: int, alpha: float, max_length: int | None) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise AutomatonError(f"n must be a non-negative integer (got {n!r})")
    if not isinstance(alpha, int | float) or np.isnan(alpha) or alpha < 0:
        raise AutomatonError(f"alpha must be a number ≥ 0, inf allowed (got {alpha!r})")
    length = DEFAULT_MAX_LENGTH if max_length is None else max_length
    if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 0:
        raise AutomatonError(f"max_length must be a non-negative integer (got {max_length!r})")
    return int(length)


def _choose(rng: np.random.Generator, cumulative: np.ndarray) -> np.ndarray:
    """One index per row of a (k, m) cumulative distribution."""
    u = rng.random(len(cumulative)) * cumulative[:, -1]
    return np.minimum((cumulative <= u[:, None]).sum(axis=1), cumulative.shape[1] - 1)


def sample_codes(a: Automaton, n: int, *, seed: Seed = None, alpha: float = 1.0,
                 max_length: int | None = None) -> tuple[list[np.ndarray], np.ndarray]:
    """Sampled strings as arrays of symbol indices, and the ``cut`` flags (see :func:`sample`)."""
    length = _check_arguments(n, alpha, max_length)
    p = as_probabilistic(a)
    rng = make_rng(seed)
    if p.is_deterministic:
        steps = _table_steps(p, int(n), rng, alpha, length)
    elif alpha == 1:
        steps = _path_steps(p, int(n), rng, length)
    else:
        steps = _belief_steps(p, int(n), rng, alpha, length)
    return _collect(steps, int(n), length)


def _collect(steps: Iterator[tuple[np.ndarray, np.ndarray]], n: int,
             length: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Assemble per-step (rows, symbols) emissions into one array per string."""
    rows_by_step, symbols_by_step = [], []
    for rows, symbols in steps:
        rows_by_step.append(rows)
        symbols_by_step.append(symbols)
    if not rows_by_step:
        return [np.empty(0, dtype=np.int64) for _ in range(n)], np.zeros(n, dtype=bool)
    rows = np.concatenate(rows_by_step)
    symbols = np.concatenate(symbols_by_step)
    order = np.argsort(rows, kind="stable")  # step order is kept within each string
    counts = np.bincount(rows, minlength=n)
    return np.split(symbols[order], np.cumsum(counts)[:-1]), counts >= length


def _table_steps(a: Automaton, n: int, rng: np.random.Generator, alpha: float,
                 length: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    stop = len(a.alphabet)
    cumulative = np.cumsum(temper(np.column_stack([a.symbol_prob, a.final]), alpha), axis=1)
    rows = np.arange(n)
    state = np.full(n, a.start)
    for _ in range(length):
        choice = _choose(rng, cumulative[state])
        going = choice != stop
        rows, state, choice = rows[going], state[going], choice[going]
        if not rows.size:
            return
        yield rows, choice
        state = a.next_state[state, choice]


def _path_steps(a: Automaton, n: int, rng: np.random.Generator,
                length: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    transition = dense_transition(a)
    n_symbols, n_states, _ = transition.shape
    # per state: every (symbol, target) move, then the stop, as one cumulative row
    moves = transition.transpose(1, 0, 2).reshape(n_states, n_symbols * n_states)
    cumulative = np.cumsum(np.column_stack([moves, a.final]), axis=1)
    rows = np.arange(n)
    state = _choose(rng, np.tile(np.cumsum(a.initial), (n, 1)))
    for _ in range(length):
        choice = _choose(rng, cumulative[state])
        going = choice != n_symbols * n_states
        rows, choice = rows[going], choice[going]
        if not rows.size:
            return
        yield rows, choice // n_states
        state = choice % n_states


def _belief_steps(a: Automaton, n: int, rng: np.random.Generator, alpha: float,
                  length: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    transition = dense_transition(a)
    emit = symbol_matrix(a)
    stop = len(a.alphabet)
    rows = np.arange(n)
    belief = np.tile(a.initial, (n, 1))  # (k, S) normalised forward vectors
    for _ in range(length):
        distribution = temper(np.column_stack([belief @ emit, belief @ a.final]), alpha)
        choice = _choose(rng, np.cumsum(distribution, axis=1))
        going = choice != stop
        rows, belief, choice = rows[going], belief[going], choice[going]
        if not rows.size:
            return
        yield rows, choice
        for symbol in np.unique(choice):
            selected = choice == symbol
            moved = belief[selected] @ transition[symbol]
            belief[selected] = moved / moved.sum(axis=1, keepdims=True)


def sample(a: Automaton, n: int, *, seed: Seed = None, alpha: float = 1.0,
           max_length: int | None = None) -> Samples:
    """Draw ``n`` strings from ``a``.

    Parameters
    ----------
    a : a probabilistic automaton, or a DFA/NFA (sampled uniformly over the moves, and the stop,
        from which acceptance is still reachable).
    seed : int, None or numpy Generator.
    alpha : inverse temperature: each step picks σ with probability ∝ P(σ|prefix)^α.
    max_length : strings still running after this many symbols are cut (``Samples.cut``);
        None means ``DEFAULT_MAX_LENGTH`` = 1000.

    Examples
    --------
    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.6, $: 0.4}}")
    >>> s = sample(a, 3, seed=1)
    >>> len(s), all(set(x) == {"x"} for x in s)
    (3, True)
    >>> sample(a, 2, alpha=float("inf"), max_length=4).cut.tolist()
    [True, True]
    """
    codes, cut = sample_codes(a, n, seed=seed, alpha=alpha, max_length=max_length)
    symbols = np.array(a.alphabet, dtype=object)
    return Samples(strings=tuple(tuple(symbols[c]) for c in codes), cut=cut)
