"""Conversions between kinds that keep the language (the support of the distribution)."""

from __future__ import annotations

import numpy as np

from .core import Automaton, coreachable_states, dense_transition
from .errors import AutomatonError


def as_probabilistic(a: Automaton) -> Automaton:
    """``a`` itself if probabilistic; a DFA as a PDFA and an NFA as a PFA otherwise.

    Every state picks uniformly among its moves that can still lead to acceptance, and the stop
    when it is accepting, so the support is exactly the language. States from which nothing is
    accepted are dropped.

    Examples
    --------
    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a]\\nstart: s\\nstates: {s: {final: true, next: {a: s}}}")
    >>> p = as_probabilistic(a)
    >>> p.kind, am.probability(p, "a")
    ('pdfa', 0.25)
    """
    if a.is_probabilistic:
        return a
    live = coreachable_states(a)
    if not live[a.initial > 0].any():
        raise AutomatonError(f"the {a.kind} accepts no string, so it defines no distribution")
    keep = np.flatnonzero(live)
    labels = dict(alphabet=a.alphabet, states=tuple(a.states[s] for s in keep), name=a.name,
                  description=a.description, initial=a.initial[keep] / a.initial[keep].sum())
    if a.kind == "nfa":
        transition = dense_transition(a)[:, keep][:, :, keep]  # moves into live states only
        moves = transition.sum(axis=(0, 2)) + a.final[keep]
        return Automaton(kind="pfa", transition=transition / moves[None, :, None],
                         final=a.final[keep] / moves, **labels)
    renumber = np.full(len(a.states) + 1, -1)  # the extra last entry maps "no move" (-1) to -1
    renumber[keep] = np.arange(len(keep))
    next_state = renumber[a.next_state[keep]]
    moves = (next_state >= 0).sum(axis=1) + a.final[keep]
    return Automaton(kind="pdfa", next_state=next_state,
                     symbol_prob=(next_state >= 0) / moves[:, None], final=a.final[keep] / moves,
                     **labels)


def dfa_to_pdfa(a: Automaton, weights=None, *, stop: float = 1.0) -> Automaton:
    """A DFA as a PDFA whose moves are chosen in proportion to given weights.

    ``weights`` is a ``{symbol: weight}`` map (missing symbols weigh 0), an (S, A) array of
    per-state weights, or None (all 1: the uniform :func:`as_probabilistic`). An accepting state
    stops with weight ``stop``. Only moves that can still lead to acceptance count, so the support
    is the language wherever the weights are positive; states that accept nothing are dropped.

    Examples
    --------
    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a, b]\\nstart: s\\nstates: {s: {final: true, next: {a: s, b: s}}}")
    >>> p = dfa_to_pdfa(a, {"a": 3, "b": 1}, stop=4)
    >>> am.next_symbol_distribution(p, "").tolist()
    [0.375, 0.125, 0.5]
    """
    if a.kind != "dfa":
        raise AutomatonError(f"dfa_to_pdfa needs a dfa (got a {a.kind})")
    base = as_probabilistic(a)  # drops the states that accept nothing
    keep = [a.state_index(name) for name in base.states]
    if weights is None:
        table = np.ones((len(a.states), len(a.alphabet)))
    elif isinstance(weights, dict):
        unknown = set(weights) - set(a.alphabet)
        if unknown:
            raise AutomatonError(f"weights name unknown symbols {sorted(unknown)}")
        table = np.tile([float(weights.get(s, 0.0)) for s in a.alphabet], (len(a.states), 1))
    else:
        table = np.asarray(weights, dtype=float)
        if table.shape != (len(a.states), len(a.alphabet)):
            raise AutomatonError(f"weights must have shape {(len(a.states), len(a.alphabet))} "
                                 f"(got {table.shape})")
    if not np.all(np.isfinite(table)) or np.any(table < 0) or not np.isfinite(stop) or stop < 0:
        raise AutomatonError("weights and stop must be finite and non-negative")
    moves = np.where(base.next_state >= 0, table[keep], 0.0)
    ends = np.where(base.final > 0, float(stop), 0.0)
    totals = moves.sum(axis=1) + ends
    if np.any(totals == 0):
        s = int(np.flatnonzero(totals == 0)[0])
        raise AutomatonError(f"state {base.states[s]!r} has weight 0 on every move and stop",
                             state=base.states[s])
    return Automaton(kind="pdfa", alphabet=a.alphabet, states=base.states, initial=base.initial,
                     final=ends / totals, next_state=np.where(moves > 0, base.next_state, -1),
                     symbol_prob=moves / totals[:, None], name=a.name, description=a.description)


def markov_to_pdfa(a: Automaton) -> Automaton:
    """A Markov chain as the PDFA it is (same states, the start state named ``^``).

    >>> import automata as am
    >>> m = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> markov_to_pdfa(m).kind, markov_to_pdfa(m).states
    ('pdfa', ('^', 'x'))
    """
    if a.kind != "markov":
        raise AutomatonError(f"markov_to_pdfa needs a markov chain (got a {a.kind})")
    return Automaton(kind="pdfa", alphabet=a.alphabet, states=a.states, initial=a.initial,
                     final=a.final, next_state=a.next_state, symbol_prob=a.symbol_prob,
                     name=a.name, description=a.description)
