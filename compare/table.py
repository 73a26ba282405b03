"""The headline metrics as a rich terminal table: one row per model (RNN, n-gram, oracle)."""

from __future__ import annotations

from rich.table import Table

from compare.comparison import Comparison
from compare.formatting import COLUMNS, number


def metrics_table(comparison: Comparison) -> Table:
    """A rich Table of the headline metrics: one column per model, one row per metric.

    >>> import automata as am
    >>> from compare.comparison import compare_models
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> metrics_table(compare_models(a, a, am.sample(a, 20, seed=0), n_samples=5)).row_count
    9
    """
    oracle = comparison.evaluations["oracle"]
    entropy, source = comparison.entropy
    title = (f"{comparison.truth.name or 'truth'}: {len(oracle.scores.strings)} test strings, "
             f"entropy {number(entropy)} bits/symbol ({source}), "
             f"true perplexity {number(oracle.metrics['true_perplexity'], 3)}")
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    roles = list(comparison.evaluations)
    for role in roles:
        table.add_column(comparison.labels[role], justify="right", style="bold" if
                         role == "model" else None)
    if comparison.exact:
        table.add_column("exact", justify="right", style="dim")
    for key, label, digits, with_error in COLUMNS:
        cells = [number(comparison.evaluations[role].metrics[key], digits,
                        comparison.evaluations[role].stderr[key] if with_error else None)
                 for role in roles]
        if comparison.exact:
            cells.append(number(comparison.exact.get(key), digits))
        table.add_row(label, *cells)
    if "l2" in comparison.exact:
        table.caption = f"exact L2 distance {number(comparison.exact['l2'], 4)}"
    return table
