"""compare: how closely a model (an RNN, an n-gram, another automaton) matches the true automaton.

The truth knows the exact probability of every next symbol, so every metric is exact arithmetic
on aligned (prefixes, |Σ|+1) arrays; only the choice of test strings makes them estimates.

>>> import automata as am
>>> import compare
>>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
>>> result = compare.evaluate(a, a, am.sample(a, 50, seed=0), n_samples=0)
>>> result.metrics["kl_bits_per_symbol"], result.metrics["ndcg5"]
(0.0, 1.0)
"""

from compare.breakdown import (
    length_distribution,
    per_position,
    per_state,
    sample_summary,
    worst_prefixes,
)
from compare.evaluate import (
    METRIC_KEYS,
    Evaluation,
    Scores,
    alpha_sweep,
    evaluate,
    exact_entropy,
    score_prefixes,
    summarize,
)
from compare.exact import exact_distances
from compare.metrics import Estimate
from compare.models import AutomatonModel, LanguageModel, as_model

__all__ = [
    "METRIC_KEYS", "AutomatonModel", "Estimate", "Evaluation", "LanguageModel", "Scores",
    "alpha_sweep", "as_model", "evaluate", "exact_distances", "exact_entropy", "length_distribution", "per_position",
    "per_state", "sample_summary", "score_prefixes", "summarize", "worst_prefixes",
]
