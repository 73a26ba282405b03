"""Exact quantities of the distribution a probabilistic automaton defines.

All of them go through the expected number of visits of each state, v = α (I − M)⁻¹, where α is
the start distribution and M[s, t] = Σ_σ P(σ, t | s); sparse for next-state tables, so automata
with 100k states are fine.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sparse
import scipy.sparse.linalg as sparse_linalg

from .core import Automaton, symbol_matrix
from .probability import _require_probabilistic


def state_matrix(a: Automaton) -> sparse.csr_matrix:
    """M[s, t] = Σ_σ P(σ, t | s) as a sparse (S, S) matrix."""
    n_states = len(a.states)
    if a.is_deterministic:
        source, symbol = np.nonzero((a.next_state >= 0) & (a.symbol_prob > 0))
        return sparse.csr_matrix((a.symbol_prob[source, symbol],
                                  (source, a.next_state[source, symbol])),
                                 shape=(n_states, n_states))
    return sparse.csr_matrix(a.transition.sum(axis=0))


def expected_visits(a: Automaton) -> np.ndarray:
    """Expected number of times each state is visited by a string (the start counts once).

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> expected_visits(a).round(12).tolist()
    [1.0, 2.0]
    """
    _require_probabilistic(a)
    system = (sparse.identity(len(a.states), format="csc") - state_matrix(a).T).tocsc()
    return np.atleast_1d(sparse_linalg.spsolve(system, a.initial))


def total_probability(a: Automaton) -> float:
    """Σ over all finite strings of P(x): 1 for a consistent automaton.

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> round(total_probability(a), 12)
    1.0
    """
    return float(expected_visits(a) @ a.final)


def expected_length(a: Automaton) -> float:
    """The mean number of symbols of a string (the end of string not counted).

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> round(expected_length(a), 12)
    2.0
    """
    return float(expected_visits(a) @ symbol_matrix(a).sum(axis=1))
