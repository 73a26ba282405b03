"""Hypothesis strategies for automata that are valid by construction.

Each strategy draws the structure of an automaton file (plain Python data), fixes it up so that it is
valid (weights normalised, every state that cannot reach a stop given a stop) and builds it with
:func:`automata.from_dict`, so the loader is exercised by every property that uses them.

>>> from hypothesis import given
>>> @given(pdfas(max_states=3))
... def test(a):
...     assert a.kind == "pdfa"
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from fractions import Fraction

from hypothesis import strategies as st

import automata

SYMBOLS = ("a", "b", "c", "d", "e", "f")
# labels that YAML would read as numbers, booleans or null unless quoted: for round-trip tests
TRICKY_SYMBOLS = ("0", "1", "yes", "on", "1.5", "null", "~", "the", "cat", "010", "#", "- x")


def strings_over(alphabet: Sequence[str], *, min_length: int = 0,
                 max_length: int = 6) -> st.SearchStrategy[tuple[str, ...]]:
    """Strings over ``alphabet`` as tuples of symbols."""
    return st.lists(st.sampled_from(tuple(alphabet)), min_size=min_length,
                    max_size=max_length).map(tuple)


def _check_sizes(min_states: int, max_states: int, min_symbols: int, max_symbols: int,
                 sparsity: float) -> None:
    if not 1 <= min_states <= max_states:
        raise ValueError(f"need 1 <= min_states <= max_states (got {min_states}, {max_states})")
    if not 1 <= min_symbols <= max_symbols:
        raise ValueError(f"need 1 <= min_symbols <= max_symbols (got {min_symbols}, {max_symbols})")
    if not 0 <= sparsity < 1:
        raise ValueError(f"sparsity must be in [0, 1) (got {sparsity})")


@st.composite
def _alphabet(draw, min_symbols: int, max_symbols: int, tricky: bool) -> list[str]:
    pool = SYMBOLS + TRICKY_SYMBOLS if tricky else SYMBOLS
    size = draw(st.integers(min_symbols, max_symbols))
    if tricky:
        return draw(st.lists(st.sampled_from(pool), min_size=size, max_size=size, unique=True))
    return list(pool[:size])


def _present(draw, sparsity: float) -> bool:
    """A move exists with probability about 1 - sparsity (shrinks towards absent; an integer
    draw, several times cheaper than a float)."""
    return draw(st.integers(0, 999)) >= round(1000 * sparsity)


def _weight(draw) -> int:
    return draw(st.integers(1, 9))


def _normalised(weights: dict) -> dict:
    """Rescale positive integer weights to probabilities (exact fractions, then floats)."""
    total = sum(weights.values())
    return {key: float(Fraction(w, total)) for key, w in weights.items()}


def _coreachable(successors: dict[str, set[str]], stopping: set[str]) -> set[str]:
    """States from which a stopping state is reachable, by backward breadth-first search."""
    predecessors: dict[str, set[str]] = {s: set() for s in successors}
    for source, targets in successors.items():
        for target in targets:
            predecessors[target].add(source)
    found, frontier = set(stopping), list(stopping)
    while frontier:
        for source in predecessors[frontier.pop()]:
            if source not in found:
                found.add(source)
                frontier.append(source)
    return found


def _size(least: int, most: int) -> st.SearchStrategy[int]:
    """A number of states spread up to ``most``: Hypothesis favours small integers, and small
    automata explore little, so half the draws come from the upper half (shrinking still goes
    towards ``least``)."""
    return st.integers(least, most) | st.integers((least + most + 1) // 2, most)


def _with_first(draw, items: Sequence[str]) -> list[str]:
    """The first item and any others (start states that keep every state reachable)."""
    others = draw(st.lists(st.sampled_from(items[1:]), unique=True)) if len(items) > 1 else []
    return [items[0], *others]


def _spanning_moves(draw, states: list[str], alphabet: list[str],
                    deterministic: bool) -> dict[tuple[str, str], list[str]]:
    """One move into each state after the first, from an earlier state: every state is reachable
    from ``states[0]`` whatever the other moves are (reachability built as states are added)."""
    moves: dict[tuple[str, str], list[str]] = {}
    for i, state in enumerate(states[1:], start=1):
        slots = [(source, symbol) for source in states[:i] for symbol in alphabet
                 if not (deterministic and (source, symbol) in moves)]
        moves.setdefault(draw(st.sampled_from(slots)), []).append(state)
    return moves


@st.composite
def _graph(draw, *, min_states: int, max_states: int, min_symbols: int, max_symbols: int,
           sparsity: float, deterministic: bool, tricky: bool = False):
    """States, alphabet, moves {(state, symbol): [targets]} and the set of stopping states.

    Every state is reachable from the first one, and every state gets a stop when it could not
    reach one otherwise, so all states are co-reachable too.
    """
    _check_sizes(min_states, max_states, min_symbols, max_symbols, sparsity)
    alphabet = draw(_alphabet(min_symbols, max_symbols, tricky))
    states = [f"q{i}" for i in range(draw(_size(min_states, max_states)))]
    moves = _spanning_moves(draw, states, alphabet, deterministic)
    for state in states:
        for symbol in alphabet:
            if deterministic and (state, symbol) not in moves and _present(draw, sparsity):
                moves[state, symbol] = [draw(st.sampled_from(states))]
            elif not deterministic:
                extra = [t for t in states if _present(draw, sparsity)]
                targets = moves.get((state, symbol), []) + extra
                if targets:
                    moves[state, symbol] = list(dict.fromkeys(targets))
    stopping = {s for s in states if draw(st.booleans())}
    successors = {s: set() for s in states}
    for (state, _), targets in moves.items():
        successors[state].update(targets)
    stopping |= set(states) - _coreachable(successors, stopping)
    return alphabet, states, moves, stopping


def _sizes(min_states, max_states, min_symbols, max_symbols, sparsity) -> dict:
    return dict(min_states=min_states, max_states=max_states, min_symbols=min_symbols,
                max_symbols=max_symbols, sparsity=sparsity)


@st.composite
def dfas(draw, *, min_states: int = 1, max_states: int = 5, min_symbols: int = 1,
         max_symbols: int = 3, sparsity: float = 0.3, tricky_symbols: bool = False):
    """DFAs whose states are all reachable and can all reach an accepting one."""
    alphabet, states, moves, stopping = draw(_graph(
        **_sizes(min_states, max_states, min_symbols, max_symbols, sparsity),
        deterministic=True, tricky=tricky_symbols))
    body = {s: {"final": s in stopping, "next": {}} for s in states}
    for (state, symbol), (target,) in moves.items():
        body[state]["next"][symbol] = target
    return automata.from_dict({"kind": "dfa", "alphabet": alphabet, "start": states[0],
                               "states": body})


@st.composite
def nfas(draw, *, min_states: int = 1, max_states: int = 4, min_symbols: int = 1,
         max_symbols: int = 3, sparsity: float = 0.6, tricky_symbols: bool = False):
    """NFAs with one or more start states (the first state among them), every state reachable
    and able to reach an accepting one."""
    alphabet, states, moves, stopping = draw(_graph(
        **_sizes(min_states, max_states, min_symbols, max_symbols, sparsity),
        deterministic=False, tricky=tricky_symbols))
    body = {s: {"final": s in stopping, "next": {}} for s in states}
    for (state, symbol), targets in moves.items():
        body[state]["next"][symbol] = targets
    start = _with_first(draw, states)
    return automata.from_dict({"kind": "nfa", "alphabet": alphabet, "start": start,
                               "states": body})


def _probabilistic_body(draw, states, moves, stopping) -> dict:
    """Per state: positive random weights on its moves and its stop, normalised to sum 1."""
    body = {}
    for state in states:
        weights = {("$", ""): _weight(draw)} if state in stopping else {}
        for (source, symbol), targets in moves.items():
            if source == state:
                weights |= {(symbol, target): _weight(draw) for target in targets}
        probabilities = _normalised(weights)
        body[state] = {"final": probabilities.pop(("$", ""), 0.0), "next": {}}
        for (symbol, target), p in probabilities.items():
            body[state]["next"].setdefault(symbol, {})[target] = p
    return body


@st.composite
def pfas(draw, *, min_states: int = 1, max_states: int = 4, min_symbols: int = 1,
         max_symbols: int = 3, sparsity: float = 0.6, tricky_symbols: bool = False):
    """PFAs (several targets per symbol, a start distribution) that stop with probability 1, every
    state reachable."""
    alphabet, states, moves, stopping = draw(_graph(
        **_sizes(min_states, max_states, min_symbols, max_symbols, sparsity),
        deterministic=False, tricky=tricky_symbols))
    starts = _with_first(draw, states)
    start = _normalised({s: _weight(draw) for s in starts})
    return automata.from_dict({"kind": "pfa", "alphabet": alphabet, "start": start,
                               "states": _probabilistic_body(draw, states, moves, stopping)})


@st.composite
def pdfas(draw, *, min_states: int = 1, max_states: int = 5, min_symbols: int = 1,
          max_symbols: int = 3, sparsity: float = 0.3, tricky_symbols: bool = False):
    """PDFAs (one target per symbol, one start state) that stop with probability 1, every state
    reachable."""
    alphabet, states, moves, stopping = draw(_graph(
        **_sizes(min_states, max_states, min_symbols, max_symbols, sparsity),
        deterministic=True, tricky=tricky_symbols))
    return automata.from_dict({"kind": "pdfa", "alphabet": alphabet, "start": states[0],
                               "states": _probabilistic_body(draw, states, moves, stopping)})


@st.composite
def markov_chains(draw, *, min_symbols: int = 1, max_symbols: int = 4, sparsity: float = 0.3,
                  tricky_symbols: bool = False):
    """First-order Markov chains over their symbols, ``$`` ending the string; every symbol can
    occur."""
    alphabet = draw(_alphabet(min_symbols, max_symbols, tricky_symbols))
    spanning = _spanning_moves(draw, alphabet, ["next"], deterministic=False)
    follows = {s: list(dict.fromkeys(spanning.get((s, "next"), []) +
                                     [t for t in alphabet if _present(draw, sparsity)]))
               for s in alphabet}
    stopping = {s for s in alphabet if draw(st.booleans())}
    stopping |= set(alphabet) - _coreachable({s: set(ts) for s, ts in follows.items()}, stopping)
    rows = {}
    for symbol in alphabet:
        weights = {t: _weight(draw) for t in follows[symbol]}
        weights |= {"$": _weight(draw)} if symbol in stopping else {}
        rows[symbol] = _normalised(weights)
    firsts = _with_first(draw, alphabet)
    start = _normalised({s: _weight(draw) for s in firsts})
    return automata.from_dict({"kind": "markov", "alphabet": alphabet, "start": start,
                               "next": rows})


def probabilistic_automata(**sizes) -> st.SearchStrategy[automata.Automaton]:
    """Any probabilistic kind (pfa, pdfa, markov) of the given sizes."""
    markov = {k: v for k, v in sizes.items() if k in ("min_symbols", "max_symbols", "sparsity")}
    return st.one_of(pdfas(**sizes), pfas(**sizes), markov_chains(**markov))


def any_automata(**sizes) -> st.SearchStrategy[automata.Automaton]:
    """Any kind of automaton of the given sizes."""
    return st.one_of(dfas(**sizes), nfas(**sizes), probabilistic_automata(**sizes))


def over_one_alphabet(first: st.SearchStrategy, *others) -> st.SearchStrategy[tuple]:
    """Tuples ``(a, b, ...)`` over one alphabet: ``a`` from ``first``, then each of ``others`` is
    called with ``len(a.alphabet)`` for the strategy of the next one (non-tricky alphabets of one
    size are the same).

    >>> from hypothesis import given
    >>> @given(over_one_alphabet(pdfas(), lambda n: pdfas(min_symbols=n, max_symbols=n)))
    ... def test(pair):
    ...     assert pair[0].alphabet == pair[1].alphabet
    """
    return first.flatmap(lambda a: st.tuples(st.just(a), *(other(len(a.alphabet))
                                                          for other in others)))


def all_strings(alphabet: Sequence[str], max_length: int,
                min_length: int = 0) -> list[tuple[str, ...]]:
    """Every string over ``alphabet`` with ``min_length`` to ``max_length`` symbols, shortest
    first (brute-force enumeration for the properties)."""
    return [w for n in range(min_length, max_length + 1)
            for w in itertools.product(tuple(alphabet), repeat=n)]
