"""Classic operations on languages: DFA and NFA.

Determinise (subset construction), minimise (Hopcroft), complete, trim, complement, the
boolean products (intersection, union, difference), language equivalence with a shortest
distinguishing string, and counting the accepted strings of each length.

Our DFAs may be partial (a missing move rejects). Minimal DFAs are returned *trimmed*: the
minimal complete DFA without its dead (sink) state, which is the smallest DFA in this partial
sense. Operations that need a complete DFA complete it first (:func:`make_complete`).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from .core import Automaton, coreachable_states, dense_transition, reachable_states
from .equivalence import distinguishing_string
from .errors import AutomatonError, SizeLimitError

MAX_DFA_STATES = 100_000
SINK = "∅"


def _require_language(a: Automaton, what: str) -> None:
    if a.kind not in ("dfa", "nfa"):
        raise AutomatonError(f"{what} works on a dfa or an nfa (got a {a.kind}; its support is "
                             "am.support(a))")


def _unique(names: list[str]) -> list[str]:
    """``names`` with a ``'`` appended to repeats, so state names stay distinct."""
    taken: set[str] = set()
    out = []
    for name in names:
        while name in taken:
            name += "'"
        taken.add(name)
        out.append(name)
    return out


def _dfa(alphabet: tuple[str, ...], states: list[str], next_state: np.ndarray,
         accepting: np.ndarray, start: int = 0, name: str = "") -> Automaton:
    initial = np.zeros(len(states))
    initial[start] = 1.0
    next_state = np.asarray(next_state, dtype=np.int64).reshape(len(states), len(alphabet))
    return Automaton(kind="dfa", alphabet=alphabet, states=tuple(_unique(states)),
                     initial=initial, final=np.asarray(accepting, dtype=float),
                     next_state=next_state, symbol_prob=(next_state >= 0).astype(float),
                     name=name)


def support(a: Automaton) -> Automaton:
    """The language of ``a``: itself for DFA/NFA, the strings of positive probability otherwise
    (a pdfa/markov gives a DFA, a pfa an NFA).

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> support(a).kind, am.accepts(support(a), "xx"), am.accepts(support(a), "")
    ('dfa', True, False)
    """
    if not a.is_probabilistic:
        return a
    labels = dict(alphabet=a.alphabet, states=a.states, name=a.name,
                  initial=(a.initial > 0).astype(float), final=(a.final > 0).astype(float))
    if a.is_deterministic:
        next_state = np.where(a.symbol_prob > 0, a.next_state, -1)
        return Automaton(kind="dfa", next_state=next_state,
                         symbol_prob=(next_state >= 0).astype(float), **labels)
    return Automaton(kind="nfa", transition=(a.transition > 0).astype(float), **labels)


def determinize(a: Automaton, *, max_states: int = MAX_DFA_STATES) -> Automaton:
    """The DFA of the subsets of states an NFA can be in (reachable ones only; the empty set is
    left out, so the DFA may be partial). A DFA comes back unchanged.

    Raises :class:`SizeLimitError` when more than ``max_states`` subsets are reachable.

    >>> import automata as am
    >>> n = am.loads("kind: nfa\\nalphabet: [a, b]\\nstart: p\\nstates:\\n"
    ...              "  p: {next: {a: [p, q], b: p}}\\n  q: {final: true}")
    >>> d = determinize(n)
    >>> d.states, am.accepts(d, "ba"), am.accepts(d, "ab")
    (('{p}', '{p,q}'), True, False)
    """
    _require_language(a, "determinize")
    if a.kind == "dfa":
        return a
    moves = dense_transition(a) > 0  # (A, S, S)
    # each (symbol, state) → bitmask of targets; a subset is a Python int bitmask
    masks = [[sum(1 << int(t) for t in np.flatnonzero(moves[i, s])) for s in range(len(a.states))]
             for i in range(len(a.alphabet))]
    start = sum(1 << int(s) for s in np.flatnonzero(a.initial))
    index, order, rows = {start: 0}, [start], []
    accepting_mask = sum(1 << int(s) for s in np.flatnonzero(a.final))
    position = 0
    while position < len(order):
        subset = order[position]
        position += 1
        members = [s for s in range(len(a.states)) if subset >> s & 1]
        row = []
        for i in range(len(a.alphabet)):
            target = 0
            for s in members:
                target |= masks[i][s]
            if target and target not in index:
                if len(index) >= max_states:
                    raise SizeLimitError(f"determinizing {a.name or 'the nfa'} needs more than "
                                         f"{max_states} states (raise max_states)")
                index[target] = len(order)
                order.append(target)
            row.append(index[target] if target else -1)
        rows.append(row)
    names = ["{" + ",".join(a.states[s] for s in range(len(a.states)) if subset >> s & 1) + "}"
             for subset in order]
    accepting = np.array([bool(subset & accepting_mask) for subset in order])
    return _dfa(a.alphabet, names, np.array(rows), accepting, name=a.name)


def make_complete(a: Automaton) -> Automaton:
    """A DFA with a move for every symbol in every state: missing moves go to a new
    non-accepting sink state (named ``∅``). NFAs are determinized first.

    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a, b]\\nstart: s\\nstates: {s: {final: true, next: {a: s}}}")
    >>> make_complete(a).states
    ('s', '∅')
    """
    a = determinize(a)
    if np.all(a.next_state >= 0):
        return a
    n = len(a.states)
    next_state = np.vstack([np.where(a.next_state >= 0, a.next_state, n),
                            np.full((1, len(a.alphabet)), n)])
    return _dfa(a.alphabet, list(a.states) + [SINK], next_state, np.append(a.final, 0.0),
                start=a.start, name=a.name)


def trim(a: Automaton) -> Automaton:
    """Only the states that are reachable and can still accept (stop); any kind.

    A language that is empty trims to one non-accepting state.

    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a]\\nstart: s\\nstates:\\n"
    ...              "  s: {final: true, next: {a: dead}}\\n  dead: {next: {a: dead}}\\n  far: {}")
    >>> trim(a).states
    ('s',)
    """
    keep = reachable_states(a) & coreachable_states(a)
    if not keep.any():
        if a.is_probabilistic:
            raise AutomatonError("a probabilistic automaton always has a live state")
        return _dfa(a.alphabet, [a.states[int(np.argmax(a.initial))]],
                    np.full((1, len(a.alphabet)), -1), np.zeros(1), name=a.name)
    return _restrict(a, np.flatnonzero(keep))


def _restrict(a: Automaton, keep: np.ndarray) -> Automaton:
    """The automaton on the states ``keep`` (moves to other states dropped)."""
    labels = dict(kind=a.kind, alphabet=a.alphabet, states=tuple(a.states[s] for s in keep),
                  initial=a.initial[keep], final=a.final[keep], name=a.name,
                  description=a.description)
    if not a.is_deterministic:
        return Automaton(transition=a.transition[:, keep][:, :, keep], **labels)
    renumber = np.full(len(a.states) + 1, -1)  # the extra last entry maps "no move" (-1) to -1
    renumber[keep] = np.arange(len(keep))
    next_state = renumber[a.next_state[keep]]
    return Automaton(next_state=next_state,
                     symbol_prob=np.where(next_state >= 0, a.symbol_prob[keep], 0.0), **labels)


def _hopcroft(next_state: np.ndarray, accepting: np.ndarray) -> np.ndarray:
    """The block of each state in the coarsest partition of a complete DFA that respects
    acceptance and moves (Hopcroft 1971: split by the smaller half, O(n A log n))."""
    n, n_symbols = next_state.shape
    # predecessors[i][t] = states s with next_state[s, i] == t, as slices of one sorted array
    inverse = []
    for i in range(n_symbols):
        order = np.argsort(next_state[:, i], kind="stable")
        bounds = np.searchsorted(next_state[order, i], np.arange(n + 1)).tolist()
        sources = order.tolist()
        inverse.append([sources[bounds[t]:bounds[t + 1]] for t in range(n)])
    block = [0] * n
    blocks: list[set[int]] = []
    for flag in (True, False):
        members = set(np.flatnonzero(accepting == flag).tolist())
        if members:
            for s in members:
                block[s] = len(blocks)
            blocks.append(members)
    waiting = {min(range(len(blocks)), key=lambda b: len(blocks[b]))}
    while waiting:
        splitter = list(blocks[waiting.pop()])
        for i in range(n_symbols):
            touched: dict[int, list[int]] = {}
            for t in splitter:
                for s in inverse[i][t]:
                    touched.setdefault(block[s], []).append(s)
            for b, inside in touched.items():
                if len(inside) == len(blocks[b]):
                    continue
                moved = set(inside)
                blocks[b] -= moved
                new = len(blocks)
                blocks.append(moved)
                for s in moved:
                    block[s] = new
                if b in waiting or len(moved) <= len(blocks[b]):
                    waiting.add(new)
                else:
                    waiting.add(b)
    return np.array(block, dtype=np.int64)


def minimize(a: Automaton) -> Automaton:
    """The minimal DFA of the language of ``a`` (a DFA or NFA, determinized first): reachable
    states only, equivalent states merged by Hopcroft's algorithm, the dead state removed.

    States are numbered in breadth-first order from the start and named by the first original
    state of each class.

    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a]\\nstart: p\\nstates:\\n"
    ...              "  p: {final: true, next: {a: q}}\\n  q: {final: true, next: {a: p}}")
    >>> minimize(a).states
    ('p',)
    """
    a = make_complete(trim_unreachable(determinize(a)))
    block = _hopcroft(a.next_state, a.final > 0)
    n_blocks = int(block.max()) + 1
    representative = np.full(n_blocks, -1)
    for s in range(len(a.states) - 1, -1, -1):  # the first state of each block represents it
        representative[block[s]] = s
    moves = block[a.next_state[representative]]  # (blocks, A)
    accepting = a.final[representative] > 0
    alive = _can_accept(moves, accepting)
    # breadth-first numbering from the start, skipping the dead block
    start = int(block[a.start])
    if not alive[start]:
        return _dfa(a.alphabet, [a.states[a.start]], np.full((1, len(a.alphabet)), -1),
                    np.zeros(1), name=a.name)
    number = {start: 0}
    queue = deque([start])
    while queue:
        b = queue.popleft()
        for c in moves[b].tolist():
            if alive[c] and c not in number:
                number[c] = len(number)
                queue.append(c)
    order = list(number)
    renumber = np.full(n_blocks, -1)
    renumber[order] = np.arange(len(order))
    next_state = np.where(alive[moves[order]], renumber[moves[order]], -1)
    return _dfa(a.alphabet, [a.states[representative[b]] for b in order], next_state,
                accepting[order], name=a.name)


def _can_accept(moves: np.ndarray, accepting: np.ndarray) -> np.ndarray:
    """Which states of a complete DFA (``moves`` (S, A)) can reach an accepting state."""
    alive = accepting.copy()
    while True:
        grown = alive | alive[moves].any(axis=1)
        if (grown == alive).all():
            return alive
        alive = grown


def trim_unreachable(a: Automaton) -> Automaton:
    """``a`` without the states that no string reaches (any kind).

    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a]\\nstart: s\\nstates: {s: {final: true}, far: {}}")
    >>> trim_unreachable(a).states
    ('s',)
    """
    keep = reachable_states(a)
    return a if keep.all() else _restrict(a, np.flatnonzero(keep))


def complement(a: Automaton) -> Automaton:
    """The DFA of every string over the alphabet that ``a`` rejects.

    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a]\\nstart: s\\nstates: {s: {final: true}}")
    >>> c = complement(a)
    >>> am.accepts(c, ""), am.accepts(c, "aa")
    (False, True)
    """
    _require_language(a, "complement")
    a = make_complete(a)
    return _dfa(a.alphabet, list(a.states), a.next_state, a.final == 0, start=a.start,
                name=f"not {a.name}" if a.name else "")


def _over(a: Automaton, alphabet: tuple[str, ...]) -> Automaton:
    """The DFA of ``a`` over a larger ``alphabet`` (the new symbols have no moves)."""
    a = determinize(a)
    if a.alphabet == alphabet:
        return a
    columns = [a.alphabet.index(s) if s in a.alphabet else -1 for s in alphabet]
    next_state = np.column_stack([a.next_state[:, c] if c >= 0 else
                                  np.full(len(a.states), -1) for c in columns])
    return _dfa(alphabet, list(a.states), next_state, a.final, start=a.start, name=a.name)


def product(a: Automaton, b: Automaton, accept: str) -> Automaton:
    """The reachable product DFA of ``a`` and ``b`` accepting where ``accept`` says: ``"and"``
    (intersection), ``"or"`` (union) or ``"diff"`` (in ``a`` but not ``b``); the alphabet is the
    union of both (``a``'s symbols first), dead states trimmed. States are named ``p,q``."""
    for x in (a, b):
        _require_language(x, "a product")
    if accept not in ("and", "or", "diff"):
        raise AutomatonError(f"accept must be 'and', 'or' or 'diff' (got {accept!r})")
    alphabet = a.alphabet + tuple(s for s in b.alphabet if s not in a.alphabet)
    a, b = make_complete(_over(a, alphabet)), make_complete(_over(b, alphabet))
    index = {(a.start, b.start): 0}
    order, rows = [(a.start, b.start)], []
    position = 0
    while position < len(order):
        s, t = order[position]
        position += 1
        row = []
        for i in range(len(alphabet)):
            pair = (int(a.next_state[s, i]), int(b.next_state[t, i]))
            if pair not in index:
                if len(index) >= MAX_DFA_STATES:
                    raise SizeLimitError(f"the product has more than {MAX_DFA_STATES} states")
                index[pair] = len(order)
                order.append(pair)
            row.append(index[pair])
        rows.append(row)
    fa = np.array([a.final[s] > 0 for s, _ in order])
    fb = np.array([b.final[t] > 0 for _, t in order])
    accepting = {"and": fa & fb, "or": fa | fb, "diff": fa & ~fb}[accept]
    names = [f"{a.states[s]},{b.states[t]}" for s, t in order]
    return trim(_dfa(alphabet, names, np.array(rows), accepting))


def intersection(a: Automaton, b: Automaton) -> Automaton:
    """The DFA of the strings both accept.

    >>> import automata as am
    >>> even = am.loads("kind: dfa\\nalphabet: [a]\\nstart: e\\nstates:\\n"
    ...                 "  e: {final: true, next: {a: o}}\\n  o: {next: {a: e}}")
    >>> am.accepts(intersection(even, complement(even)), "aa")
    False
    """
    return product(a, b, "and")


def union(a: Automaton, b: Automaton) -> Automaton:
    """The DFA of the strings either accepts.

    >>> import automata as am
    >>> even = am.loads("kind: dfa\\nalphabet: [a]\\nstart: e\\nstates:\\n"
    ...                 "  e: {final: true, next: {a: o}}\\n  o: {next: {a: e}}")
    >>> len(minimize(union(even, complement(even))).states)
    1
    """
    return product(a, b, "or")


def difference(a: Automaton, b: Automaton) -> Automaton:
    """The DFA of the strings ``a`` accepts and ``b`` rejects.

    >>> import automata as am
    >>> anything = am.loads("kind: dfa\\nalphabet: [a]\\nstart: s\\nstates: {s: {final: true, next: {a: s}}}")
    >>> empty = am.loads("kind: dfa\\nalphabet: [a]\\nstart: s\\nstates: {s: {final: true}}")
    >>> am.accepts(difference(anything, empty), ""), am.accepts(difference(anything, empty), "a")
    (False, True)
    """
    return product(a, b, "diff")


def language_witness(a: Automaton, b: Automaton) -> tuple[str, ...] | None:
    """A shortest string accepted by exactly one of ``a`` and ``b`` (the support of probabilistic
    ones), or None when the languages are equal. Alphabets may differ.

    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a]\\nstart: s\\nstates: {s: {final: true, next: {a: s}}}")
    >>> language_witness(a, complement(complement(a))) is None
    True
    """
    a, b = support(a), support(b)
    if a.alphabet != b.alphabet:
        alphabet = a.alphabet + tuple(s for s in b.alphabet if s not in a.alphabet)
        a, b = _over(a, alphabet), _over(b, alphabet)
    return distinguishing_string(a, b)


def same_language(a: Automaton, b: Automaton) -> bool:
    """True when ``a`` and ``b`` accept the same strings (see :func:`language_witness`)."""
    return language_witness(a, b) is None


def count_accepted(a: Automaton, max_length: int) -> list[int]:
    """How many strings of each length 0..``max_length`` the language of ``a`` holds (exact
    integers; NFAs are determinized, so strings are counted, not paths).

    >>> import automata as am
    >>> even = am.loads("kind: dfa\\nalphabet: [a, b]\\nstart: e\\nstates:\\n"
    ...                 "  e: {final: true, next: {a: o, b: e}}\\n  o: {next: {a: e, b: o}}")
    >>> count_accepted(even, 3)  # strings with an even number of a
    [1, 1, 2, 4]
    """
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 0:
        raise AutomatonError(f"max_length must be a non-negative integer (got {max_length!r})")
    a = determinize(support(a))
    counts = np.zeros(len(a.states), dtype=object)  # Python ints: counts grow like Aⁿ
    counts[a.start] = 1
    accepting = a.final > 0
    source, symbol = np.nonzero(a.next_state >= 0)
    target = a.next_state[source, symbol]
    result = []
    for _ in range(max_length + 1):
        result.append(int(counts[accepting].sum()))
        moved = np.zeros(len(a.states), dtype=object)
        np.add.at(moved, target, counts[source])
        counts = moved
    return result
