"""Exact string, prefix and next-symbol probabilities, batched and stable for long strings.

Deterministic kinds add logs along the next-state table (one string, or a small batch, along
plain-Python copies of it); nondeterministic kinds run the forward algorithm with the forward
vector rescaled (its log scale is kept): to sum 1 at every step where every step is read, else
once its mass falls below RESCALE. So a string of length 10,000 neither underflows nor loses
precision.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import numpy as np

from .core import Automaton, dense_transition, derived, symbol_matrix
from .errors import AutomatonError, ImpossiblePrefixError
from .strings import (
    Chunk,
    StringLike,
    encode_chunks,
    format_string,
    is_single,
    single_characters,
    to_symbols,
)

SMALL_BATCH = 16  # batches up to this size walk string by string (see _per_string)
EAGER_MOVES = 1 << 16  # walk tables with more moves than this build a state's row on first visit
RESCALE = 1e-30  # a forward vector whose mass falls below this is rescaled (see _forward_last)


def _require_probabilistic(a: Automaton) -> None:
    if not a.is_probabilistic:
        raise AutomatonError(
            f"a {a.kind} defines a language, not probabilities; view it as a distribution "
            "with am.as_probabilistic(a) (uniform over the moves that can still accept)"
        )


def _walk(a: Automaton, chunk: Chunk) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Yield ``(t, state, log_prefix)`` after t symbols, for t = 0 .. the longest length.

    ``state`` is an (n,) array of state indices (deterministic kinds; index S = dead) or an (n, S)
    array of normalised forward vectors. Their first ``chunk.at_least(t)`` rows are after t
    symbols; every other row keeps its value after its whole string, so the last yield holds every
    row's final state. The arrays are updated in place: read them before the next step.
    """
    walk = _walk_table if a.is_deterministic else _walk_forward
    yield from walk(a, chunk)


def _walk_table(a: Automaton, chunk: Chunk) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    tables = derived(a, _deterministic_tables)
    n_symbols = len(a.alphabet)
    n, steps = chunk.codes.shape
    state = np.full(n, a.start, dtype=np.int64)
    log_prefix = np.zeros(n)
    move = np.empty(n, dtype=np.int64)
    for t in range(steps + 1):
        yield t, state, log_prefix
        if t == steps:
            return
        k = chunk.at_least(t + 1)
        cell = move[:k]  # flat (state, symbol) index into the tables
        np.multiply(state[:k], n_symbols, out=cell)
        cell += chunk.codes[:k, t]
        log_prefix[:k] += tables.log_symbol[cell]
        state[:k] = tables.next_state[cell]


class _Tables(NamedTuple):
    """A deterministic automaton's tables with an extra dead state S that absorbs everything."""

    next_state: np.ndarray  # ((S+1) × A,) flat next-state table
    log_symbol: np.ndarray  # ((S+1) × A,) flat log P(symbol | state)
    log_stop: np.ndarray  # (S+1,) log P(stop | state)
    distribution: np.ndarray  # (S+1, A+1) P(σ | state) over the alphabet, then $


def _deterministic_tables(a: Automaton) -> _Tables:
    n_states, n_symbols = a.next_state.shape
    dead = (a.next_state < 0) | (a.symbol_prob == 0)
    next_state = np.vstack([np.where(dead, n_states, a.next_state),
                            np.full((1, n_symbols), n_states)])
    distribution = np.vstack([np.column_stack([a.symbol_prob, a.final]),
                              np.zeros((1, n_symbols + 1))])
    with np.errstate(divide="ignore"):
        log_symbol = np.log(distribution[:, :-1])
        log_stop = np.log(distribution[:, -1])
    tables = _Tables(next_state.ravel(), log_symbol.ravel(), log_stop, distribution)
    for array in tables:
        array.flags.writeable = False
    return tables


class _Walk(NamedTuple):
    """Plain-Python tables for walking one string through a deterministic automaton: the same
    numbers as :class:`_Tables`, so both give bit-identical answers."""

    start: int
    moves: Sequence[dict[str, tuple[int, float]]]  # state -> {symbol: (next, log P)}, live moves
    log_stop: list[float]  # (S+1,) log P(stop | state)
    distribution: np.ndarray  # (S+1, A+1), as in _Tables
    split: bool  # a str is split on whitespace (symbols of several characters)


class _LazyMoves(dict):
    """The ``moves`` of a large automaton: a state's row is built on its first visit."""

    def __init__(self, row: Callable[[int], dict[str, tuple[int, float]]]) -> None:
        super().__init__()
        self.row = row

    def __missing__(self, state: int) -> dict[str, tuple[int, float]]:
        row = self[state] = self.row(state)
        return row


def _walk_tables(a: Automaton) -> _Walk:
    tables = derived(a, _deterministic_tables)
    n_states, n_symbols = a.next_state.shape
    next_state = tables.next_state.reshape(-1, n_symbols)
    log_symbol = tables.log_symbol.reshape(-1, n_symbols)

    def row(state: int) -> dict[str, tuple[int, float]]:
        return {a.alphabet[i]: (target, log) for i, (target, log) in
                enumerate(zip(next_state[state].tolist(), log_symbol[state].tolist(), strict=True))
                if target < n_states}

    live = int(np.count_nonzero(next_state < n_states))
    moves = [row(s) for s in range(n_states)] if live <= EAGER_MOVES else _LazyMoves(row)
    return _Walk(a.start, moves, tables.log_stop.tolist(), tables.distribution,
                 not single_characters(a.alphabet))


def _walk_one(walk: _Walk, string: StringLike) -> tuple[int, float] | None:
    """The state and log prefix probability after ``string``, or None where only the batched
    engine answers exactly: an unknown symbol, a move of probability 0, a symbol that is not a
    ``str`` (see :func:`to_symbols`)."""
    if walk.split and type(string) is str:
        string = string.split()
    moves, state, total = walk.moves, walk.start, 0.0
    try:
        for symbol in string:
            state, log = moves[state][symbol]
            total += log  # the batched engine adds the same logs in the same order
    except (KeyError, TypeError):
        return None
    return state, total


def _walked(a: Automaton, string: StringLike, ending: str) -> float | np.ndarray | None:
    """One string's answer (see :func:`_per_string`) from the walk tables, or None where the
    batched engine must answer."""
    if not a.is_deterministic:
        return None
    walk = derived(a, _walk_tables)
    end = _walk_one(walk, string)
    if end is None:
        return None
    state, log_prefix = end
    if ending == "stop":
        return log_prefix + walk.log_stop[state]
    return log_prefix if ending == "prefix" else walk.distribution[state]


def _walk_forward(a: Automaton, chunk: Chunk) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    transition = dense_transition(a)
    n, steps = chunk.codes.shape
    vector = np.tile(a.initial / a.initial.sum(), (n, 1))  # (n, S)
    log_prefix = np.zeros(n)
    by_symbol, ends = _symbol_runs(chunk, len(a.alphabet))
    moved = np.empty_like(vector)
    for t in range(steps + 1):
        yield t, vector, log_prefix
        if t == steps:
            return
        k = chunk.at_least(t + 1)
        rows = by_symbol[n - k :, t]  # the running rows, grouped by their symbol
        current = vector[rows]
        _move(current, transition, ends[t], out=moved[:k])
        total = moved[:k].sum(axis=1)
        with np.errstate(divide="ignore"):
            log_prefix[rows] += np.log(total)
        total[total == 0] = 1.0
        vector[rows] = np.divide(moved[:k], total[:, None], out=current)


def _forward_last(a: Automaton, chunk: Chunk) -> tuple[np.ndarray, np.ndarray]:
    """Every row's normalised forward vector (n, S) and log prefix probability (n,) after its
    whole string: :func:`_walk_forward` without the steps in between.

    Fewer passes over the vectors: a vector is rescaled only once its mass falls below RESCALE
    (the log of each factor is kept), and the running rows stay in the order of the last step's
    symbols, read from there by position; a row's vector is put back by row when its string ends.
    """
    transition = dense_transition(a)
    n, steps = chunk.codes.shape
    n_states = len(a.states)
    final = np.tile(a.initial / a.initial.sum(), (n, 1))  # (n, S) by row
    log_scale = np.zeros(n)
    by_symbol, ends = _symbol_runs(chunk, len(a.alphabet))
    gathered, moved = np.empty((2, n, n_states))
    totals = np.empty(n)
    current, where, positions, ones = final, np.arange(n), np.arange(n), np.ones(n_states)
    for t in range(steps):
        k = chunk.at_least(t + 1)
        rows = by_symbol[n - k :, t]  # the running rows, grouped by their symbol
        np.take(current, where[rows], axis=0, out=gathered[:k], mode="clip")
        current = _move(gathered[:k], transition, ends[t], out=moved[:k])
        total = np.dot(current, ones, out=totals[:k])
        if total.min() < RESCALE:
            low = np.flatnonzero(total < RESCALE)
            with np.errstate(divide="ignore"):
                log_scale[rows[low]] += np.log(total[low])
            current[low] /= np.where(total[low] > 0, total[low], 1.0)[:, None]
        where[rows] = positions[:k]
        done = chunk.at_least(t + 2)  # rows done..k-1 end their string here
        if done < k:
            final[done:k] = current[where[done:k]]
    moved_rows = slice(0, chunk.at_least(1))  # the empty strings keep the start distribution
    total = final[moved_rows] @ ones
    with np.errstate(divide="ignore"):
        log_scale[moved_rows] += np.log(total)
    total[total == 0] = 1.0
    final[moved_rows] /= total[:, None]
    return final, log_scale


def _symbol_runs(chunk: Chunk, n_symbols: int) -> tuple[np.ndarray, list[list[int]]]:
    """Per step, the rows sorted by their symbol (padding, -1, first), and where each symbol's
    run of rows ends: (n, T) and T lists of A ends."""
    if n_symbols < 1 << 15:  # a radix sort on the narrowest type that holds the codes
        small = chunk.codes.astype(np.int8 if n_symbols < 1 << 7 else np.int16)
    else:
        small = chunk.codes
    return (np.argsort(small, axis=0, kind="stable"),
            np.cumsum(_symbol_counts(chunk.codes, n_symbols), axis=1).tolist())


def _move(vectors: np.ndarray, transition: np.ndarray, ends: list[int],
          out: np.ndarray) -> np.ndarray:
    """``out``: each run of ``vectors`` (grouped by symbol, runs ending at ``ends``) times its
    symbol's transition matrix."""
    begin = 0
    for symbol, end in enumerate(ends):
        if end > begin:
            np.dot(vectors[begin:end], transition[symbol], out=out[begin:end])
        begin = end
    return out


def _symbol_counts(codes: np.ndarray, n_symbols: int) -> np.ndarray:
    """(T, A) how many rows read each symbol at each step (padding not counted)."""
    steps = codes.shape[1]
    # (T, n): a view of the column-major codes, so that ravel copies nothing; padding (-1)
    # counts in column 0
    cells = codes.T + (np.arange(steps) * (n_symbols + 1) + 1)[:, None]
    counts = np.bincount(cells.ravel(), minlength=steps * (n_symbols + 1))
    return counts.reshape(steps, n_symbols + 1)[:, 1:]


def _distribution(a: Automaton, state: np.ndarray) -> np.ndarray:
    """Next-symbol distributions (k, A+1) for walk states (dead states give zeros)."""
    if a.is_deterministic:
        return derived(a, _deterministic_tables).distribution[state]
    return np.column_stack([state @ symbol_matrix(a), state @ a.final])


def _stop_log_probability(a: Automaton, state: np.ndarray) -> np.ndarray:
    if a.is_deterministic:
        return derived(a, _deterministic_tables).log_stop[state]
    with np.errstate(divide="ignore"):
        return np.log(state @ a.final)


def _per_string(a: Automaton, strings: Sequence[StringLike], ending: str) -> np.ndarray:
    """Collect, for each string, the log probability (``ending='stop'``), the prefix log
    probability (``'prefix'``) or the next-symbol distribution after it (``'next'``).

    Small batches walk plain-Python tables string by string; the others, and small batches
    that hold a string the walk cannot answer, go through the vectorised engine in chunks."""
    if 0 < len(strings) <= SMALL_BATCH:
        answers = [_walked(a, string, ending) for string in strings]
        if not any(answer is None for answer in answers):
            return np.array(answers)
    width = len(a.alphabet) + 1
    result = np.empty((len(strings), width)) if ending == "next" else np.empty(len(strings))
    for chunk in encode_chunks(a, strings):
        state, log_prefix = _last(a, chunk)
        if ending == "stop":
            result[chunk.order] = log_prefix + _stop_log_probability(a, state)
        elif ending == "prefix":
            result[chunk.order] = log_prefix
        else:
            result[chunk.order] = _checked_distribution(a, strings, chunk.order, state, log_prefix)
    return result


def _last(a: Automaton, chunk: Chunk) -> tuple[np.ndarray, np.ndarray]:
    """Every row's state and log prefix probability after its whole string (see :func:`_walk`)."""
    if a.is_deterministic:
        _, state, log_prefix = deque(_walk_table(a, chunk), maxlen=1)[0]  # the last step
        return state, log_prefix
    return _forward_last(a, chunk)


def _checked_distribution(a: Automaton, strings: Sequence[StringLike], rows: np.ndarray,
                          state: np.ndarray, log_prefix: np.ndarray) -> np.ndarray:
    impossible = np.flatnonzero(np.isneginf(log_prefix))
    if impossible.size:
        prefix = format_string(a.alphabet, to_symbols(a, strings[rows[impossible[0]]]))
        raise ImpossiblePrefixError(f"the prefix {prefix!r} has probability 0, so no next-symbol "
                                    "distribution follows it")
    return _distribution(a, state)


def _answer(a: Automaton, strings: StringLike | Sequence[StringLike],
            ending: str) -> float | np.ndarray:
    """:func:`_per_string` for one string (a float, or a row for ``'next'``) or for a batch."""
    if not is_single(strings):
        return _per_string(a, list(strings), ending)
    answer = _walked(a, strings, ending)
    if answer is None:
        answer = _per_string(a, [strings], ending)[0]
    return answer.copy() if ending == "next" else float(answer)


def log_probability(a: Automaton, strings: StringLike | Sequence[StringLike]) -> float | np.ndarray:
    """Natural log of P(string), end of string included; -inf where the probability is 0.

    One string (a ``str`` or a tuple of symbols) gives a float, a list of strings an array.

    Examples
    --------
    >>> import automata as am
    >>> a = am.loads('''
    ... kind: pdfa
    ... alphabet: [a]
    ... start: q
    ... states: {q: {final: 0.5, next: {a: {q: 0.5}}}}
    ... ''')
    >>> round(float(np.exp(log_probability(a, "aa"))), 12)
    0.125
    >>> np.exp(log_probability(a, ["", "a"])).round(12).tolist()
    [0.5, 0.25]
    """
    _require_probabilistic(a)
    return _answer(a, strings, "stop")


def probability(a: Automaton, strings: StringLike | Sequence[StringLike]) -> float | np.ndarray:
    """P(string), end of string included (see :func:`log_probability`).

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> probability(a, "xx")
    0.25
    """
    result = np.exp(log_probability(a, strings))
    return float(result) if is_single(strings) else result


def prefix_probability(a: Automaton, prefixes: StringLike | Sequence[StringLike]) -> float | np.ndarray:
    """P(prefix Σ*): the probability that a string starts with ``prefix``.

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> prefix_probability(a, "xx")
    0.5
    """
    _require_probabilistic(a)
    result = np.exp(_answer(a, prefixes, "prefix"))
    return float(result) if is_single(prefixes) else result


def next_symbol_distribution(a: Automaton,
                             prefixes: StringLike | Sequence[StringLike]) -> np.ndarray:
    """P(σ | prefix) over the columns ``a.columns`` (the alphabet, then ``$``).

    One prefix gives shape (A+1,), a list of prefixes (N, A+1). A prefix of probability 0 raises
    ImpossiblePrefixError.

    Examples
    --------
    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x, y]\\nstart: {x: 1.0}\\nnext: {x: {y: 0.5, $: 0.5}, y: {$: 1}}")
    >>> next_symbol_distribution(a, "x").tolist()
    [0.0, 0.5, 0.5]
    """
    _require_probabilistic(a)
    return _answer(a, prefixes, "next")


def prefix_distributions(a: Automaton, strings: Sequence[StringLike]) -> list[np.ndarray]:
    """For each string x, the (|x|+1, A+1) next-symbol distributions after each of its prefixes.

    Row t is P(· | x[:t]); the last row is the distribution after the whole string. Rows after a
    prefix of probability 0 are NaN.

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> prefix_distributions(a, ["x"])[0].tolist()
    [[1.0, 0.0], [0.5, 0.5]]
    """
    _require_probabilistic(a)
    strings = list(strings)
    return [np.where(np.isneginf(log)[:, None], np.nan, table)
            for table, log in _along(a, strings, _distribution)]


def prefix_states(a: Automaton, strings: Sequence[StringLike]) -> list[np.ndarray]:
    """For each string x, the state after each prefix: (|x|+1,) state indices for deterministic
    kinds (``len(a.states)`` once the string left the automaton), else (|x|+1, S) normalised
    forward distributions.

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> [a.states[s] for s in prefix_states(a, ["xx"])[0]]
    ['^', 'x', 'x']
    """
    return [table for table, _ in _along(a, list(strings), lambda _, state: state.copy())]


def _along(a: Automaton, strings: list, read) -> list[tuple[np.ndarray, np.ndarray]]:
    """Apply ``read(a, state)`` after every prefix of every string; keep the prefix log probs."""
    result: list = [None] * len(strings)
    for chunk in encode_chunks(a, strings):
        sizes = chunk.lengths + 1
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])  # row starts in the flat arrays
        values, logs = None, np.empty(int(sizes.sum()))
        for t, state, log_prefix in _walk(a, chunk):
            running = chunk.at_least(t)
            value = read(a, state[:running])
            if values is None:
                values = np.empty((len(logs),) + value.shape[1:], dtype=value.dtype)
            values[offsets[:running] + t] = value
            logs[offsets[:running] + t] = log_prefix[:running]
        pieces = zip(np.split(values, offsets[1:]), np.split(logs, offsets[1:]), strict=True)
        for i, piece in zip(chunk.order, pieces, strict=True):
            result[i] = piece
    return result
