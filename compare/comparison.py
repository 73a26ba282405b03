"""A model against the truth, with the n-gram baseline and the oracle beside it.

:func:`compare_models` evaluates the model, fits the order-k Markov baseline on the same training
strings (k and λ chosen on the validation strings), scores the truth against itself (the oracle
row, KL 0), computes the breakdowns of the model, and, when both are deterministic automata, the
exact KL and L2 distance. The result is one plain value that the table, JSON and HTML print.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

import automata as am
from compare.breakdown import (
    PositionRow,
    PrefixGroup,
    SampleSummary,
    StateRow,
    per_position,
    per_state,
    sample_summary,
    worst_prefixes,
)
from compare.evaluate import DEFAULT_ALPHAS, Evaluation, evaluate, truth_log_probability
from compare.exact import exact_distances
from compare.metrics import cross_entropy_bits_per_symbol
from compare.verdict import assumptions

BASELINE_ORDERS = (0, 1, 2, 3, 4)
BASELINE_SMOOTHINGS = (0.01, 0.1, 0.5, 1.0)


@dataclass
class Comparison:
    """Evaluations by role (``model``, ``baseline``, ``oracle``) and the model's breakdowns."""

    truth: am.Automaton
    evaluations: dict[str, Evaluation]
    labels: dict[str, str]
    per_state: list[StateRow]
    per_position: dict[str, list[PositionRow]]
    worst_prefixes: list[PrefixGroup]
    samples: SampleSummary | None
    baseline_info: dict = field(default_factory=dict)
    exact: dict = field(default_factory=dict)
    history: dict | None = None
    config: dict = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)  # assumptions and warnings, said first
    validation_entropy: float | None = None  # the truth's bits/symbol on the validation strings

    def __repr__(self) -> str:
        from compare.verdict import verdict

        return (f"<Comparison of {self.labels['model']} with {self.truth.name or 'the truth'}: "
                f"{verdict(self).text}>")

    def _repr_html_(self) -> str:
        """The verdict and the headline metrics of every model, for Jupyter."""
        from compare.formatting import metric_rows
        from compare.page import html_table
        from compare.verdict import verdict

        roles = list(self.evaluations)
        return html_table(["metric", *(self.labels[role] for role in roles)],
                          metric_rows([self.evaluations[role] for role in roles]),
                          caption=verdict(self).text)

    @property
    def entropy(self) -> tuple[float, str]:
        """The truth's entropy in bits per symbol and where it comes from: the exact rate
        (``"exact"``) where it is computable, else the estimate on the test strings
        (``"test strings"``). The terminal and the report both show this one."""
        oracle = self.evaluations["oracle"].metrics
        exact = oracle["exact_entropy_bits_per_symbol"]
        if math.isnan(exact):
            return oracle["entropy_bits_per_symbol"], "test strings"
        return exact, "exact"


def fit_baseline(truth: am.Automaton, train: Sequence, val: Sequence, *,
                 orders: Sequence[int] = BASELINE_ORDERS,
                 smoothings: Sequence[float] = BASELINE_SMOOTHINGS) -> tuple[am.Automaton, dict]:
    """The order-k Markov chain with add-λ smoothing that best predicts ``val``, fitted on ``train``.

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> chain, info = fit_baseline(a, ["x", "xx"] * 5, ["x"], orders=(1,), smoothings=(0.1,))
    >>> info["order"], info["smoothing"]
    (1, 0.1)
    """
    chain, order, smoothing = am.select_markov(list(train), list(val) or list(train),
                                               alphabet=truth.alphabet, orders=orders,
                                               smoothings=smoothings)
    return chain, {"order": order, "smoothing": smoothing, "states": len(chain.states),
                   "label": f"order-{order} Markov, λ={smoothing:g}"}


def compare_models(truth: am.Automaton, model, test: Sequence, *, label: str = "model",
                   train: Sequence | None = None, val: Sequence | None = None,
                   n_samples: int = 1000, alphas: Sequence[float] = DEFAULT_ALPHAS,
                   seed: int = 0, history: dict | None = None, config: dict | None = None,
                   worst: int = 8, notices: Sequence[str] = (), progress=None) -> Comparison:
    """Evaluate ``model`` against ``truth`` on ``test``, with the baseline (when ``train`` is
    given) and the oracle; ``progress(message)`` is called before each step. ``notices`` (e.g.
    that the model was trained on another automaton) come first in every report, after what the
    comparison assumes about a DFA or NFA.

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> c = compare_models(a, a, am.sample(a, 20, seed=0), n_samples=10)
    >>> c.evaluations["model"].metrics["kl_bits_per_symbol"], sorted(c.evaluations)
    (0.0, ['model', 'oracle'])
    """
    say = progress or (lambda message: None)
    say(f"scoring the {label} on {len(test)} test strings")
    evaluations = {"model": evaluate(truth, model, test, n_samples=n_samples, alphas=alphas,
                                     seed=seed)}
    labels = {"model": label}
    baseline_info: dict = {}
    if train:
        say("fitting the n-gram baseline")
        chain, baseline_info = fit_baseline(truth, train, val or [])
        evaluations["baseline"] = evaluate(truth, chain, test, n_samples=n_samples, alphas=(1.0,),
                                           seed=seed)
        labels["baseline"] = baseline_info["label"]
    say("scoring the oracle (the truth itself)")
    evaluations["oracle"] = evaluate(truth, truth, test, n_samples=0, alphas=(1.0,), seed=seed)
    labels["oracle"] = "truth (oracle)"
    primary = evaluations["model"]
    say("breaking the error down by state, position and prefix")
    return Comparison(
        truth=truth, evaluations=evaluations, labels=labels,
        per_state=per_state(truth, primary.scores),
        per_position={role: per_position(e.scores) for role, e in evaluations.items()
                      if role != "oracle"},
        worst_prefixes=worst_prefixes(truth, model, primary.scores, k=worst),
        samples=sample_summary(truth, primary.samples, primary.sample_log_p)
        if primary.samples else None,
        baseline_info=baseline_info,
        exact=exact_distances(truth, model) if isinstance(model, am.Automaton) else {},
        history=history, config=dict(config or {}),
        notices=list(dict.fromkeys([*_assumed(truth, model), *notices])),
        validation_entropy=sample_entropy(truth, val) if val else None,
    )


def sample_entropy(truth: am.Automaton, strings: Sequence) -> float | None:
    """The truth's own bits per symbol (end of string included) on ``strings``: the floor of a
    model's loss on that finite sample, which may lie below the entropy rate; None when some
    string is impossible (a sampled string cut at the maximum length).

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> sample_entropy(a, [("x",), ("x",)])  # log2(1/0.5) over 2 symbols per string
    0.5
    """
    log_p = truth_log_probability(truth, [tuple(s) for s in strings])
    if not np.isfinite(log_p).all():
        return None
    lengths = np.array([len(s) for s in strings])
    return cross_entropy_bits_per_symbol(log_p, lengths).value


def _assumed(truth: am.Automaton, model) -> list[str]:
    """What comparing assumes about the truth, and about a model that is a DFA or NFA."""
    found = assumptions(truth.kind, truth.name or "the truth")
    if isinstance(model, am.Automaton):
        found += assumptions(model.kind, model.name or "the model")
    return found

