"""Score a model against the true automaton on test strings: every metric of compare.metrics.

:func:`score_prefixes` walks the test strings in chunks (arrays stay small), asks truth and model
for the next-symbol distributions after every prefix, and keeps per-prefix scalars (conditional
KL, TV, argmax error, NDCG, the log probability of the symbol that came next) and per-state sums.
:func:`summarize` turns them into the headline metrics with standard errors; :func:`evaluate`
does both and adds the breakdowns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

import automata as am
from automata.pautomac import pautomac_perplexity
from compare import metrics as m
from compare.models import as_model, column_order

CHUNK = 2000  # strings per chunk: the (prefixes, |Σ|+1) arrays of a chunk stay far below 32 MiB
DEFAULT_ALPHAS = (0.5, 0.75, 1.0, 1.5, 2.0, 4.0)

METRIC_KEYS = (
    "kl_bits_per_symbol", "kl_bits_per_string", "cross_entropy_bits_per_symbol",
    "entropy_bits_per_symbol", "exact_entropy_bits_per_symbol", "mean_tv", "max_tv", "wer",
    "ndcg5", "pautomac_perplexity", "true_perplexity", "illegal_sample_fraction",
)


@dataclass(frozen=True)
class Scores:
    """Per-prefix and per-state scores of a model on test strings.

    Prefix rows are string by string, t = 0..|x|: row ``offsets[i] + t`` is the prefix x_i[:t].
    """

    strings: tuple[tuple[str, ...], ...]
    offsets: np.ndarray  # (n+1,) first row of each string; offsets[-1] = N
    kl: np.ndarray  # (N,) conditional KL in bits
    tv: np.ndarray  # (N,) total variation
    wrong: np.ndarray  # (N,) bool: the model's argmax is not a true argmax
    ndcg: np.ndarray  # (N,) NDCG@5
    log_p: np.ndarray  # (N,) ln P(next symbol | prefix), next symbol = x[t] or $
    log_q: np.ndarray  # (N,) ln Q(next symbol | prefix)
    alphas: tuple[float, ...]  # inverse temperatures of ``log_q_alpha``
    log_q_alpha: np.ndarray  # (len(alphas), N) ln Q_α(next symbol | prefix), Q tempered
    states: np.ndarray  # (N,) true state index (deterministic truth; S = none) or (N, S) beliefs
    state_p: np.ndarray  # (S, |Σ|+1) the truth's next-symbol distributions summed per state
    state_q: np.ndarray  # (S, |Σ|+1) the model's, summed the same way
    state_kl: np.ndarray  # (S, |Σ|+1) the per-symbol terms of the conditional KL, summed

    @property
    def lengths(self) -> np.ndarray:
        """(n,) the string lengths |x|."""
        return np.diff(self.offsets) - 1

    @cached_property
    def positions(self) -> np.ndarray:
        """(N,) t, the length of the prefix of each row (computed once: loops read it by row)."""
        positions = np.arange(self.offsets[-1]) - np.repeat(self.offsets[:-1], self.lengths + 1)
        positions.flags.writeable = False
        return positions

    def per_string(self, values: np.ndarray) -> np.ndarray:
        """Sums of per-prefix ``values`` over each string's rows, (n,)."""
        return np.add.reduceat(values, self.offsets[:-1])


@dataclass(frozen=True)
class SweepRow:
    """The model tempered at one α."""

    alpha: float
    kl_bits_per_symbol: float
    kl_stderr: float
    illegal_fraction: float | None = None  # None when nothing was sampled
    illegal_stderr: float | None = None
    mean_length: float | None = None


@dataclass
class Evaluation:
    """Headline metrics of a model with their standard errors, the scores and the breakdowns."""

    metrics: dict[str, float]
    stderr: dict[str, float]
    scores: Scores
    samples: list[tuple[str, ...]] = field(default_factory=list)
    sample_log_p: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sweep: list[SweepRow] = field(default_factory=list)  # one per α

    def __repr__(self) -> str:
        from compare.formatting import number

        return (f"<Evaluation on {len(self.scores.strings)} test strings: KL "
                f"{number(self.metrics['kl_bits_per_symbol'], 4, self.stderr['kl_bits_per_symbol'])}"
                f" bits/symbol, WER {number(self.metrics['wer'])}, PAutomaC perplexity "
                f"{number(self.metrics['pautomac_perplexity'], 3)}>")

    def _repr_html_(self) -> str:
        """The headline metrics as a table, for Jupyter."""
        from compare.formatting import metric_rows
        from compare.page import html_table

        return html_table(["metric", "value"], metric_rows([self]),
                          caption=f"Evaluation on {len(self.scores.strings)} test strings")


def as_symbols(truth: am.Automaton, strings: Sequence) -> tuple[tuple[str, ...], ...]:
    """Test strings as tuples of symbols (a ``str`` is split as the automaton splits it)."""
    return tuple(am.to_symbols(truth, s) for s in strings)


def score_prefixes(truth: am.Automaton, model, strings: Sequence, *,
                   alphas: Sequence[float] = (), chunk: int = CHUNK) -> Scores:
    """Compare truth and model after every prefix of every test string.

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> scores = score_prefixes(a, a, ["x", "xx"])
    >>> scores.kl.tolist(), scores.positions.tolist()
    ([0.0, 0.0, 0.0, 0.0, 0.0], [0, 1, 0, 1, 2])
    """
    truth = am.as_probabilistic(truth)
    model = as_model(model)
    columns = column_order(truth.alphabet, model.alphabet)
    strings = as_symbols(truth, strings)
    if not strings:
        raise ValueError("there are no test strings to compare on")
    parts = [_score_chunk(truth, model, columns, strings[i:i + chunk], tuple(alphas))
             for i in range(0, len(strings), chunk)]
    lengths = np.array([len(s) for s in strings], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths + 1)])
    joined = {key: np.concatenate([part[key] for part in parts], axis=-1 if key == "log_q_alpha"
                                  else 0) for key in parts[0] if not key.startswith("state_")}
    return Scores(strings=strings, offsets=offsets, alphas=tuple(alphas),
                  state_p=sum(part["state_p"] for part in parts),
                  state_q=sum(part["state_q"] for part in parts),
                  state_kl=sum(part["state_kl"] for part in parts), **joined)


def _score_chunk(truth: am.Automaton, model, columns: np.ndarray, strings: tuple,
                 alphas: tuple[float, ...]) -> dict[str, np.ndarray]:
    p = np.concatenate(am.prefix_distributions(truth, list(strings)))
    q = np.concatenate(model.prefix_distributions(list(strings)))[:, columns]
    p = np.nan_to_num(p)  # rows after an impossible prefix: caught below as log P = -inf
    rows = np.arange(len(p))
    following = _next_symbols(truth, strings)
    with np.errstate(divide="ignore"):
        log_p = np.log(p[rows, following])
    if np.isneginf(log_p).any():
        ends = np.cumsum([len(s) + 1 for s in strings]) - 1
        bad = strings[int(np.searchsorted(ends, np.flatnonzero(np.isneginf(log_p))[0]))]
        raise ValueError(f"the test string {am.format_string(truth.alphabet, bad)!r} has "
                         "probability 0 under the truth")
    with np.errstate(divide="ignore", invalid="ignore"):
        log_q = np.log(q[rows, following])
        log_q_alpha = np.array([np.log(am.temper(q, a)[rows, following]) for a in alphas])
    # a model that gave a prefix probability 0 has no distribution after it (NaN rows): the
    # string's log Q is already -inf, and stays so
    log_q, log_q_alpha = (np.where(np.isnan(log), -np.inf, log) for log in (log_q, log_q_alpha))
    states = np.concatenate(am.prefix_states(truth, list(strings)))
    terms = m.kl_terms(p, q)
    return {"kl": terms.sum(axis=1), "tv": m.total_variation(p, q),
            "wrong": m.argmax_errors(p, q), "ndcg": m.ndcg(p, q), "log_p": log_p, "log_q": log_q,
            "log_q_alpha": log_q_alpha.reshape(len(alphas), len(p)), "states": states,
            "state_p": state_weights(truth, states, p), "state_q": state_weights(truth, states, q),
            "state_kl": state_weights(truth, states, terms)}


def _next_symbols(truth: am.Automaton, strings: tuple) -> np.ndarray:
    """(N,) the column of the symbol that follows each prefix: x[t], or $ after the whole x."""
    index = {symbol: i for i, symbol in enumerate(truth.alphabet)}
    end = len(truth.alphabet)
    codes = [np.array([index[s] for s in string] + [end], dtype=np.int64) for string in strings]
    return np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)


def state_weights(truth: am.Automaton, states: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Σ over prefixes of ``values`` (N, ...) per true state, (S, ...): a deterministic truth
    adds each prefix to the state it reached, otherwise prefixes spread by their beliefs."""
    n_states = len(truth.states)
    flat = values.reshape(len(values), -1)
    if states.ndim == 1:
        sums = np.zeros((n_states + 1, flat.shape[1]))
        np.add.at(sums, states, flat)
        sums = sums[:n_states]
    else:
        sums = states.T @ flat
    return sums.reshape((n_states,) + values.shape[1:])


def summarize(scores: Scores, *, sample_log_p: np.ndarray | None = None,
              exact_entropy: float | None = None) -> tuple[dict[str, float], dict[str, float]]:
    """The headline metrics (``METRIC_KEYS``) and their standard errors (NaN where a value is exact or missing).

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> values, _ = summarize(score_prefixes(a, a, ["x", "xx"]))
    >>> values["kl_bits_per_symbol"], values["wer"], values["ndcg5"]
    (0.0, 0.0, 1.0)
    """
    log_p, log_q = scores.per_string(scores.log_p), scores.per_string(scores.log_q)
    lengths, steps = scores.lengths, scores.lengths + 1
    estimates = {
        "kl_bits_per_symbol": m.kl_bits_per_symbol(log_p, log_q, lengths),
        "kl_bits_per_string": m.kl_bits_per_string(log_p, log_q),
        "cross_entropy_bits_per_symbol": m.cross_entropy_bits_per_symbol(log_q, lengths),
        "entropy_bits_per_symbol": m.cross_entropy_bits_per_symbol(log_p, lengths),
        "mean_tv": m.ratio_estimate(scores.per_string(scores.tv), steps),
        "wer": m.ratio_estimate(scores.per_string(scores.wrong.astype(float)), steps),
        "ndcg5": m.ratio_estimate(scores.per_string(scores.ndcg), steps),
    }
    if sample_log_p is not None and len(sample_log_p):
        estimates["illegal_sample_fraction"] = m.illegal_fraction(sample_log_p)
    exact = {
        "max_tv": float(scores.tv.max(initial=0.0)),
        "pautomac_perplexity": pautomac_perplexity(log_p, log_q, scores.strings),
        "true_perplexity": pautomac_perplexity(log_p, log_p, scores.strings),
        "exact_entropy_bits_per_symbol": math.nan if exact_entropy is None else exact_entropy,
    }
    values = {key: float(e.value) for key, e in estimates.items()} | exact
    stderr = {key: float(e.stderr) for key, e in estimates.items()}
    return ({key: values.get(key, math.nan) for key in METRIC_KEYS},
            {key: stderr.get(key, math.nan) for key in METRIC_KEYS})


def exact_entropy(truth: am.Automaton) -> float | None:
    """The truth's exact entropy rate in bits per symbol, for deterministic automata; else None.

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> round(exact_entropy(a), 12)
    0.666666666667
    """
    truth = am.as_probabilistic(truth)
    if not truth.is_deterministic:
        return None
    from automata.analysis import entropy_rate

    return entropy_rate(truth)


def evaluate(truth: am.Automaton, model, test_strings: Sequence, *, n_samples: int = 1000,
             alphas: Sequence[float] = DEFAULT_ALPHAS, seed: int = 0,
             max_length: int | None = None) -> Evaluation:
    """Every metric of ``model`` against ``truth`` on ``test_strings`` (sampled from the truth).

    ``model`` is an automaton, a trained RNN or anything with ``alphabet`` and
    ``prefix_distributions`` (or ``next_symbol_distribution``). With ``n_samples`` > 0 and a
    model that can ``sample``, strings are drawn from it (at α = 1 and at each of ``alphas``)
    for the illegal fraction and the α sweep.

    Examples
    --------
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> result = evaluate(a, a, [("x",) * k for k in range(1, 5)], n_samples=50)
    >>> result.metrics["kl_bits_per_symbol"], result.metrics["illegal_sample_fraction"]
    (0.0, 0.0)
    """
    model = as_model(model)
    scores = score_prefixes(truth, model, test_strings, alphas=alphas)
    limit = max_length or max(50, 2 * int(scores.lengths.max(initial=0)))
    samples, sample_log_p = [], np.zeros(0)
    can_sample = n_samples > 0 and hasattr(model, "sample")
    if can_sample:
        samples = [tuple(s) for s in model.sample(n_samples, alpha=1.0, max_length=limit,
                                                  seed=seed)]
        sample_log_p = truth_log_probability(truth, samples)
    values, stderr = summarize(scores, sample_log_p=sample_log_p if can_sample else None,
                               exact_entropy=exact_entropy(truth))
    sweep = alpha_sweep(truth, model, scores, n_samples=n_samples if can_sample else 0,
                        max_length=limit, seed=seed)
    return Evaluation(metrics=values, stderr=stderr, scores=scores, samples=samples,
                      sample_log_p=sample_log_p, sweep=sweep)


def truth_log_probability(truth: am.Automaton, strings: Sequence) -> np.ndarray:
    """ln P(x) under the truth (a DFA/NFA as its uniform distribution); -inf outside its support."""
    if not len(strings):
        return np.zeros(0)
    return am.log_probability(am.as_probabilistic(truth), list(strings))


def alpha_sweep(truth: am.Automaton, model, scores: Scores, *, n_samples: int, max_length: int,
                seed: int) -> list[SweepRow]:
    """How KL(P ‖ Q_α) on the test strings, and the illegal fraction and mean length of strings
    sampled at α, move with the sampling inverse temperature α (Q_α ∝ Q^α at every step).

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> scores = score_prefixes(a, a, ["x", "xx"], alphas=(1.0,))
    >>> alpha_sweep(a, a, scores, n_samples=0, max_length=5, seed=0)[0].kl_bits_per_symbol
    0.0
    """
    log_p = scores.per_string(scores.log_p)
    rows = []
    for alpha, log_q_alpha in zip(scores.alphas, scores.log_q_alpha, strict=True):
        kl = m.kl_bits_per_symbol(log_p, scores.per_string(log_q_alpha), scores.lengths)
        sampled = {}
        if n_samples > 0:
            drawn = model.sample(n_samples, alpha=float(alpha), max_length=max_length, seed=seed)
            illegal = m.illegal_fraction(truth_log_probability(truth, [tuple(s) for s in drawn]))
            sampled = {"illegal_fraction": illegal.value, "illegal_stderr": illegal.stderr,
                       "mean_length": float(np.mean([len(s) for s in drawn]))}
        rows.append(SweepRow(alpha=float(alpha), kl_bits_per_symbol=kl.value,
                             kl_stderr=kl.stderr, **sampled))
    return rows
