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
