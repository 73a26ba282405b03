"""Turn a checked `Spec` into the arrays of an `Automaton`."""

from __future__ import annotations

import numpy as np

from .core import Automaton
from .limits import check_dense_size
from .validation import Spec


def build(spec: Spec) -> Automaton:
    """The automaton ``spec`` describes, as arrays indexed in file order."""
    n_states, n_symbols = len(spec.states), len(spec.alphabet)
    state_index = {s: i for i, s in enumerate(spec.states)}
    symbol_index = {s: i for i, s in enumerate(spec.alphabet)}
    initial = np.zeros(n_states)
    for state, weight in spec.start.items():
        initial[state_index[state]] = weight
    final = np.zeros(n_states)
    for state, weight in spec.final.items():
        final[state_index[state]] = weight
    arrays: dict[str, np.ndarray] = {}
    if spec.kind in ("dfa", "pdfa", "markov"):
        next_state = np.full((n_states, n_symbols), -1, dtype=np.int64)
        symbol_prob = np.zeros((n_states, n_symbols))
        for (state, symbol, target), weight in spec.moves.items():
            next_state[state_index[state], symbol_index[symbol]] = state_index[target]
            symbol_prob[state_index[state], symbol_index[symbol]] = weight
        arrays = {"next_state": next_state, "symbol_prob": symbol_prob}
    else:
        check_dense_size(spec.kind, n_symbols, n_states)
        transition = np.zeros((n_symbols, n_states, n_states))
        for (state, symbol, target), weight in spec.moves.items():
            transition[symbol_index[symbol], state_index[state], state_index[target]] = weight
        arrays = {"transition": transition}
    return Automaton(kind=spec.kind, alphabet=tuple(spec.alphabet), states=tuple(spec.states),
                     initial=initial, final=final, name=spec.name, description=spec.description,
                     **arrays)

