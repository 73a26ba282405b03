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
from .strings import single_characters

DEFAULT_MAX_LENGTH = 1000  # strings still running after this many symbols are cut there
GUIDE_CELLS = 1 << 20  # the most entries of a sampler's guide table (4 MiB)
Bounds = tuple[list[int], list[int]]  # where each string begins and ends in the flat codes


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
    """Rows of ``distribution`` raised to the power α and renormalised over positive entries; a
    row without any (after a prefix of probability 0) stays zero.

    >>> temper(np.array([0.5, 0.25, 0.25, 0.0]), 0.0).tolist()
    [0.3333333333333333, 0.3333333333333333, 0.3333333333333333, 0.0]
    >>> temper(np.array([0.5, 0.25, 0.25]), float("inf")).tolist()
    [1.0, 0.0, 0.0]
    >>> temper(np.array([[0.5, 0.5], [0.0, 0.0]]), 2.0).tolist()
    [[0.5, 0.5], [0.0, 0.0]]
    """
    if alpha == 1:
        return distribution
    positive = distribution > 0
    if alpha == 0:
        weights = positive * 1.0
    elif np.isinf(alpha):
        weights = (positive & (distribution == distribution.max(axis=-1, keepdims=True))) * 1.0
    else:
        with np.errstate(divide="ignore", invalid="ignore"):  # -inf - -inf in a zero row
            logs = np.log(distribution)
            weights = np.where(positive,
                               np.exp(alpha * (logs - logs.max(axis=-1, keepdims=True))), 0.0)
    total = weights.sum(axis=-1, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


def _check_arguments(n: int, alpha: float, max_length: int | None) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise AutomatonError(f"n must be a non-negative integer (got {n!r})")
    if not isinstance(alpha, int | float) or np.isnan(alpha) or alpha < 0:
        raise AutomatonError(f"alpha must be a number ≥ 0, inf allowed (got {alpha!r})")
    length = DEFAULT_MAX_LENGTH if max_length is None else max_length
    if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 0:
        raise AutomatonError(f"max_length must be a non-negative integer (got {max_length!r})")
    return int(length)


class _Chooser:
    """Draws one index per row from rows of nonnegative weights by inverse transform sampling.

    Row s's cumulative distribution, shifted by s, is laid end to end with the others, so one
    binary search over all rows finds s + u (u uniform in [0, 1)) inside row s. With ``draws``
    (how many draws to expect), a guide table, when small enough, splits [0, 1) into ``bins``
    equal slices per row and answers directly every slice that holds no step of the row's
    cumulative distribution; only draws in the other slices are searched.
    """

    def __init__(self, weights: np.ndarray, draws: int = 0) -> None:
        n_rows, self.width = weights.shape
        cumulative = np.cumsum(weights, axis=1)
        total = cumulative[:, -1:]
        cumulative = np.where(total > 0, cumulative / np.where(total > 0, total, 1.0), 1.0)
        self.flat = (cumulative + np.arange(n_rows)[:, None]).ravel()
        positive = weights > 0  # rounding may overshoot a row: fall back to its last positive entry
        self.last = self.width - 1 - np.argmax(positive[:, ::-1], axis=1)
        self.bins = 1 << int(np.ceil(np.log2(8 * self.width)))
        if n_rows * self.bins > min(GUIDE_CELLS, 16 * draws):
            self.bins = 0  # building the table would cost more than it saves
            return
        edges = np.arange(self.bins + 1) / self.bins
        table = np.empty((n_rows, self.bins), dtype=np.int32)
        for s, row in enumerate(cumulative):
            low = np.searchsorted(row, edges[:-1], side="right")  # the index at a slice's start
            high = np.searchsorted(row, edges[1:], side="left")  # and just before its end
            table[s] = np.where(low == high, low, -1)
        self.table = table.ravel()

    def __call__(self, rng: np.random.Generator, rows: np.ndarray) -> np.ndarray:
        """One index for each entry of ``rows`` (row numbers of the weights)."""
        u = rng.random(len(rows))
        if not self.bins:
            return self._search(rows, u)
        cell = rows * self.bins
        cell += (u * self.bins).astype(np.int64)
        found = self.table[cell].astype(np.int64)
        unsure = np.flatnonzero(found < 0)
        if unsure.size:
            found[unsure] = self._search(rows[unsure], u[unsure])
        return found

    def _search(self, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
        found = np.searchsorted(self.flat, rows + u, side="right")
        return np.minimum(found - rows * self.width, self.last[rows])


def sample_codes(a: Automaton, n: int, *, seed: Seed = None, alpha: float = 1.0,
                 max_length: int | None = None) -> tuple[list[np.ndarray], np.ndarray]:
    """Sampled strings as arrays of symbol indices, and the ``cut`` flags (see :func:`sample`)."""
    flat, bounds, cut = _sample_flat(a, n, seed=seed, alpha=alpha, max_length=max_length)
    return [flat[begin:end] for begin, end in zip(*bounds, strict=True)], cut


def _sample_flat(a: Automaton, n: int, *, seed: Seed, alpha: float,
                 max_length: int | None) -> tuple[np.ndarray, Bounds, np.ndarray]:
    """The symbol indices of all strings end to end, where each string begins and ends in them,
    and the cut flags."""
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
             length: int) -> tuple[np.ndarray, Bounds, np.ndarray]:
    """Assemble per-step (rows, symbols) emissions into one array, string after string."""
    emitted = list(steps)
    counts = np.zeros(n, dtype=np.int64)
    for t, (rows, _) in enumerate(emitted):  # a string runs at every step until it stops
        counts[rows] = t + 1
    ends = np.cumsum(counts)
    starts = ends - counts
    flat = np.empty(int(counts.sum()), dtype=np.int64)
    for t, (rows, symbols) in enumerate(emitted):  # step t writes each running string's symbol t
        flat[starts[rows] + t] = symbols
    return flat, (starts.tolist(), ends.tolist()), counts >= length


def _table_steps(a: Automaton, n: int, rng: np.random.Generator, alpha: float,
                 length: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    stop = len(a.alphabet)
    choose = _Chooser(temper(np.column_stack([a.symbol_prob, a.final]), alpha), draws=n)
    next_state = np.column_stack([a.next_state, a.next_state[:, :1]]).ravel()  # (S × (A+1),)
    rows = np.arange(n)
    state = np.full(n, a.start)
    for _ in range(length):
        choice = choose(rng, state)
        going = np.flatnonzero(choice != stop)
        if len(going) < len(rows):
            rows, state, choice = rows[going], state[going], choice[going]
        if not rows.size:
            return
        yield rows, choice
        state = next_state[state * (stop + 1) + choice]


def _path_steps(a: Automaton, n: int, rng: np.random.Generator,
                length: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    transition = dense_transition(a)
    n_symbols, n_states, _ = transition.shape
    # per state: every (symbol, target) move, then the stop, as one row of weights
    moves = transition.transpose(1, 0, 2).reshape(n_states, n_symbols * n_states)
    choose = _Chooser(np.column_stack([moves, a.final]), draws=n)
    rows = np.arange(n)
    state = _Chooser(a.initial[None, :])(rng, np.zeros(n, dtype=np.int64))
    for _ in range(length):
        choice = choose(rng, state)
        going = np.flatnonzero(choice != n_symbols * n_states)
        if len(going) < len(rows):
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
        choice = _Chooser(distribution)(rng, np.arange(len(distribution)))
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
    flat, bounds, cut = _sample_flat(a, n, seed=seed, alpha=alpha, max_length=max_length)
    return Samples(strings=_as_tuples(a.alphabet, flat, bounds), cut=cut)


def _as_tuples(alphabet: tuple[str, ...], flat: np.ndarray,
               bounds: Bounds) -> tuple[tuple[str, ...], ...]:
    """The strings ``flat[begin:end]`` as tuples of symbols.

    >>> _as_tuples(("a", "b"), np.array([1, 0, 0]), ([0, 1, 3], [1, 3, 3]))
    (('b',), ('a', 'a'), ())
    """
    if single_characters(alphabet):  # through one str: its characters are the symbols
        points = np.array([ord(symbol) for symbol in alphabet], dtype="<u4")
        symbols = tuple(points[flat].tobytes().decode("utf-32-le", errors="surrogatepass"))
    else:
        symbols = tuple(np.array(alphabet, dtype=object)[flat].tolist())
    return tuple([symbols[begin:end] for begin, end in zip(*bounds, strict=True)])
