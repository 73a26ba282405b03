"""Exact distances between the truth and a model automaton, gathered from ``automata.analysis``.

Between two automata the L2 distance (Σₓ (P(x) − Q(x))²)^½ is exact through the product
automaton; between two deterministic ones so is KL(P ‖ Q) = Σₓ P(x) log₂ P(x)/Q(x).
"""

from __future__ import annotations

import automata as am
from automata.analysis import expected_length, kl_divergence, l2_distance


def exact_distances(truth: am.Automaton, model: am.Automaton) -> dict[str, float]:
    """``l2``, and ``kl_bits_per_string`` and ``kl_bits_per_symbol`` when both are deterministic.

    The per-symbol value divides by the truth's expected number of steps E[|x| + 1], the limit of
    the Monte-Carlo ratio Σ [log P − log Q] / Σ (|x| + 1).

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> b = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.75, $: 0.25}}")
    >>> {k: round(v, 6) for k, v in exact_distances(a, b).items()}
    {'l2': 0.276026, 'kl_bits_per_string': 0.415037, 'kl_bits_per_symbol': 0.138346}
    """
    truth, model = am.as_probabilistic(truth), am.as_probabilistic(model)
    result = {"l2": l2_distance(truth, model)}
    if truth.is_deterministic and model.is_deterministic:
        bits = kl_divergence(truth, model)
        result |= {"kl_bits_per_string": bits,
                   "kl_bits_per_symbol": bits / (expected_length(truth) + 1)}
    return result
