"""Fit order-k Markov chains (n-gram models with add-λ smoothing) from strings, as PDFAs.

A state is a *context*, what the model remembers of the string read so far:

- an **anchored** context: the whole prefix, while it is shorter than k symbols (the start state
  is the empty anchored context), named ``^`` followed by the joined symbols (``^``, ``^a``,
  ``^ab`` ...);
- a **full** context: the last k symbols, named by joining them (``abc``).

The distribution of a context is its counts of the next symbol (or the end of the string ``$``)
plus λ each, normalised: P(σ | c) = (n(c, σ) + λ) / (n(c) + λ (A + 1)).

**Back-off.** Only contexts seen in training become states. When the context after a move was
never seen, the automaton moves to the state of its *longest seen suffix*: the suffix statistics
pool every position of the training strings whose last j symbols are that suffix, so the empty
suffix (named ``ε``) holds the unigram counts of symbols and ends. With λ > 0 every state gives
every symbol and ``$`` a positive probability and every move has a target, so every string over
the alphabet gets a positive probability. Names that would collide get a ``'`` appended.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Sequence

import numpy as np

from automimic_io import single_characters, split_symbols

from .core import END, Automaton
from .errors import AutomatonError, UnknownSymbolError
from .strings import StringLike, format_string
from .validation import markov_start_state

ANCHOR = -1  # first item of an anchored context: (ANCHOR, *codes) = "the string so far is codes"
Context = tuple[int, ...]


def ngram_name(order: int) -> str:
    """The n-gram an order-k Markov chain is: it predicts from k symbols, so n = k + 1.

    >>> [ngram_name(k) for k in range(5)]
    ['unigram', 'bigram', 'trigram', '4-gram', '5-gram']
    """
    return ("unigram", "bigram", "trigram")[order] if order < 3 else f"{order + 1}-gram"


def _encode_all(strings: Iterable[StringLike], alphabet: tuple[str, ...]) -> list[list[int]]:
    table = {symbol: i for i, symbol in enumerate(alphabet)}
    chars = single_characters(alphabet)
    encoded = []
    for string in strings:
        if isinstance(string, str):
            string = split_symbols(string, chars=chars)
        try:
            encoded.append([table[str(symbol)] for symbol in string])
        except KeyError:
            bad = next(str(s) for s in string if str(s) not in table)
            raise UnknownSymbolError(f"unknown symbol {bad!r} in training string "
                                     f"{format_string(alphabet, [str(s) for s in string])!r}; "
                                     f"the alphabet is {list(alphabet)}") from None
    return encoded


def _count_contexts(encoded: list[list[int]], order: int, end: int) -> Counter:
    """n(c, σ) for every context c seen before every next symbol σ (``end`` codes ``$``)."""
    counts: Counter = Counter()
    for codes in encoded:
        sequence = codes + [end]
        for t, following in enumerate(sequence):
            if t < order:
                counts[(ANCHOR, *codes[:t]), following] += 1
            lowest = max(0, t - order)
            counts.update((tuple(codes[start:t]), following) for start in range(lowest, t + 1))
    return counts


def _lower_order(counts: Counter, order: int) -> Counter:
    """The counts of a lower ``order`` from those of a higher one: a context of j symbols is
    counted at the same positions by every order ≥ j, an anchored one of j symbols by every order
    > j."""
    def kept(context: Context) -> bool:
        return len(context) - 1 < order if context[:1] == (ANCHOR,) else len(context) <= order

    return Counter({key: n for key, n in counts.items() if kept(key[0])})


def _successor(context: Context, code: int, order: int, seen: set) -> Context:
    """The state after ``code`` in ``context``: the context itself if seen, else its longest
    seen suffix (the empty context always exists)."""
    if context[:1] == (ANCHOR,):
        history = context[1:] + (code,)
        if len(history) < order and (ANCHOR, *history) in seen:
            return (ANCHOR, *history)
    else:
        history = context + (code,)
    history = history[len(history) - order:] if order else ()
    for length in range(len(history), 0, -1):
        if history[-length:] in seen:
            return history[-length:]
    return ()


def _name(context: Context, alphabet: tuple[str, ...], marker: str) -> str:
    if context[:1] == (ANCHOR,):
        return marker + format_string(alphabet, [alphabet[c] for c in context[1:]])
    return format_string(alphabet, [alphabet[c] for c in context]) if context else "ε"


def _unique_names(contexts: list[Context], alphabet: tuple[str, ...]) -> list[str]:
    marker = markov_start_state(alphabet)
    names: list[str] = []
    taken: set[str] = set()
    for context in contexts:
        name = _name(context, alphabet, marker)
        while name in taken:
            name += "'"
        taken.add(name)
        names.append(name)
    return names


def _layout(counts: Counter, n_symbols: int, order: int, has_data: bool, every_move: bool,
            ) -> tuple[list[Context], np.ndarray, np.ndarray]:
    """The states reachable from the start (contexts in breadth-first order), their counts
    ``(states, A + 1)`` and their moves ``(states, A)``: every symbol moves when ``every_move``,
    else only the symbols seen in the context (-1 for the others)."""
    table: dict[Context, np.ndarray] = {}
    for (context, following), n in counts.items():
        table.setdefault(context, np.zeros(n_symbols + 1))[following] += n
    table.setdefault((), np.zeros(n_symbols + 1))
    seen = set(table)
    start: Context = (ANCHOR,) if order and has_data else ()
    index = {start: 0}
    queue, rows, targets = deque([start]), [], []
    while queue:
        context = queue.popleft()
        row = table[context]
        successors = []
        for code in range(n_symbols):
            if not every_move and row[code] == 0:
                successors.append(-1)
                continue
            target = _successor(context, code, order, seen)
            if target not in index:
                index[target] = len(index)
                queue.append(target)
            successors.append(index[target])
        rows.append(row)
        targets.append(successors)
    return (list(index), np.array(rows).reshape(len(rows), n_symbols + 1),
            np.array(targets, dtype=np.int64).reshape(len(rows), n_symbols))


def _smoothed(counts: np.ndarray, smoothing: float) -> np.ndarray:
    """Each row of counts plus ``smoothing``, normalised: P(σ | c) (last column: ``$``)."""
    rows = counts + smoothing
    totals = rows.sum(axis=1, keepdims=True)
    if (totals == 0).any():
        raise AutomatonError("no training strings and smoothing 0: no distribution to fit")
    return rows / totals


def _build(counts: Counter, alphabet: tuple[str, ...], order: int, smoothing: float,
           has_data: bool) -> Automaton:
    contexts, state_counts, next_state = _layout(counts, len(alphabet), order, has_data,
                                                 every_move=smoothing > 0)
    probabilities = _smoothed(state_counts, smoothing)
    initial = np.zeros(len(contexts))
    initial[0] = 1.0
    return Automaton(kind="pdfa", alphabet=alphabet, states=_unique_names(contexts, alphabet),
                     initial=initial, final=probabilities[:, -1], next_state=next_state,
                     symbol_prob=probabilities[:, :-1], name=f"markov-order-{order}",
                     description=f"order-{order} Markov chain, add-{smoothing:g} smoothing")


def _visits(next_state: np.ndarray, encoded: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(state, next code) of every step of the strings from state 0, the end (code A) included."""
    end = next_state.shape[1]
    states, codes = [], []
    for string in encoded:
        state = 0
        for code in string:
            states.append(state)
            state = int(next_state[state, code])
        states.append(state)
        codes.extend(string)
        codes.append(end)
    return np.array(states, dtype=np.int64), np.array(codes, dtype=np.int64)


def _check(alphabet: Sequence[str], order: int, smoothing: float) -> tuple[str, ...]:
    if isinstance(alphabet, str) or not alphabet:
        raise AutomatonError(f"alphabet must be a non-empty list of symbols (got {alphabet!r})")
    if END in alphabet:
        raise AutomatonError(f"{END!r} is reserved for the end of the string and cannot be a symbol")
    if not isinstance(order, int | np.integer) or order < 0:
        raise AutomatonError(f"order must be a non-negative integer (got {order!r})")
    if not np.isfinite(smoothing) or smoothing < 0:
        raise AutomatonError(f"smoothing must be a finite number ≥ 0 (got {smoothing!r})")
    return tuple(str(symbol) for symbol in alphabet)


def fit_markov(strings: Iterable[StringLike], *, alphabet: Sequence[str], order: int = 1,
               smoothing: float = 1.0) -> Automaton:
    """An order-``order`` Markov chain fitted from ``strings`` with add-``smoothing`` counts.

    Each string is a sequence of symbols (a ``str`` is split into characters when every symbol is
    one character, else on whitespace). The result is a complete ``pdfa`` whose states are the
    contexts seen in training (see the module docstring for the names and the back-off); with
    ``smoothing > 0`` every string over the alphabet has a positive probability.

    Examples
    --------
    >>> import automata as am
    >>> m = fit_markov(["ab", "a"], alphabet=["a", "b"], order=1, smoothing=0.0)
    >>> m.states
    ('^', 'a', 'b')
    >>> am.probability(m, "ab")  # P(a | start) P(b | a) P($ | b) = 1 · 1/2 · 1
    0.5
    """
    symbols = _check(alphabet, order, smoothing)
    encoded = _encode_all(strings, symbols)
    counts = _count_contexts(encoded, int(order), end=len(symbols))
    return _build(counts, symbols, int(order), float(smoothing), has_data=bool(encoded))


def select_markov(train: Iterable[StringLike], val: Iterable[StringLike], *,
                  alphabet: Sequence[str], orders: Sequence[int] = (0, 1, 2, 3, 4),
                  smoothings: Sequence[float] = (0.01, 0.1, 0.5, 1.0),
                  ) -> tuple[Automaton, int, float]:
    """The Markov chain (and its order and smoothing) with the highest validation log-likelihood.

    Every pair of ``orders`` × ``smoothings`` is fitted on ``train`` and scored by Σ log P(x) over
    ``val``; ties go to the pair listed first.

    Examples
    --------
    >>> model, order, smoothing = select_markov(["ab"] * 20, ["ab"] * 5, alphabet=["a", "b"],
    ...                                         orders=(0, 1), smoothings=(0.1, 1.0))
    >>> order, smoothing
    (1, 0.1)
    """
    symbols = _check(alphabet, 0, 1.0)
    encoded = _encode_all(train, symbols)
    held_out = _encode_all(val, symbols)
    for order in orders:
        _check(symbols, order, 1.0)
    highest = _count_contexts(encoded, int(max(orders, default=0)), end=len(symbols))
    best: tuple[float, int, float, Counter] | None = None
    for order in orders:
        counts = _lower_order(highest, int(order))
        # every smoothing > 0 gives the same states and moves; 0 differs only after a zero count,
        # where the log-likelihood is already -inf
        _, state_counts, next_state = _layout(counts, len(symbols), int(order), bool(encoded),
                                              every_move=True)
        states, codes = _visits(next_state, held_out)
        for smoothing in smoothings:
            _check(symbols, order, smoothing)
            with np.errstate(divide="ignore"):
                score = float(np.log(_smoothed(state_counts, smoothing)[states, codes]).sum())
            if best is None or score > best[0]:
                best = (score, int(order), float(smoothing), counts)
    if best is None:
        raise AutomatonError("select_markov needs at least one order and one smoothing")
    _, order, smoothing, counts = best
    return _build(counts, symbols, order, smoothing, has_data=bool(encoded)), order, smoothing
