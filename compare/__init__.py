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

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from compare.breakdown import (
    length_distribution,
    per_position,
    per_state,
    sample_summary,
    worst_prefixes,
)
from compare.comparison import Comparison, compare_models
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

if TYPE_CHECKING:  # the inside analysis loads scikit-learn: only when asked for
    from compare.inside.inspection import Inspection

__all__ = [
    "METRIC_KEYS", "AutomatonModel", "Comparison", "Estimate", "Evaluation", "LanguageModel",
    "Scores", "alpha_sweep", "as_model", "compare_models", "evaluate", "exact_distances",
    "exact_entropy", "length_distribution", "per_position", "per_state", "sample_summary",
    "score_prefixes", "summarize", "worst_prefixes", "write_report",
]


def write_report(comparison: Comparison, folder: str | os.PathLike, *,
                 inspection: Inspection | None = None) -> Path:
    """Write ``metrics.json`` and ``report.html`` of ``comparison`` into ``folder`` (created when
    missing), as ``automimic compare --out`` does; with an ``inspection``
    (:func:`compare.inside.inspect_model`) the report looks inside the RNN too. Returns the
    report's path.

    >>> import automata as am, tempfile
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> comparison = compare_models(a, a, am.sample(a, 20, seed=0), label="copy", n_samples=5)
    >>> write_report(comparison, tempfile.mkdtemp()).name
    'report.html'
    """
    from compare.report import write_metrics
    from compare.report import write_report as write_html

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_metrics(comparison, folder / "metrics.json")
    write_html(comparison, folder / "report.html", inspection=inspection)
    return folder / "report.html"
