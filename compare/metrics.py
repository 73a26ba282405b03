"""The metrics of a model against the exact truth, as small pure functions over aligned arrays.

Every per-prefix function takes ``p`` and ``q``: (N, |Σ|+1) next-symbol distributions of the truth
and of the model after the same N prefixes, columns ``alphabet + ("$",)``. Per-string functions
take the natural-log probabilities of the test strings under both. Logs are reported in bits.
Estimates come as :class:`Estimate` (value and standard error).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

LN2 = math.log(2)
TIE_TOLERANCE = 1e-9  # next symbols whose true probabilities differ by less are equally right
NDCG_DEPTH = 5


class Estimate(NamedTuple):
    """A Monte-Carlo estimate and its standard error (0 when the value is exact)."""

    value: float
    stderr: float


def conditional_kl(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """KL(P(·|prefix) ‖ Q(·|prefix)) in bits for each row; inf where Q misses a symbol of P.

    >>> conditional_kl(np.array([[0.5, 0.5]]), np.array([[0.25, 0.75]])).round(4).tolist()
    [0.2075]
    """
    return kl_terms(p, q).sum(axis=1)


def kl_terms(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The per-symbol terms P(σ) log₂ (P(σ)/Q(σ)) of the conditional KL, (N, |Σ|+1).

    >>> kl_terms(np.array([[0.5, 0.5, 0.0]]), np.array([[0.25, 0.5, 0.25]])).tolist()
    [[0.5, 0.0, 0.0]]
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, p * (np.log2(p) - np.log2(q)), 0.0)


def total_variation(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """½ Σ_σ |P(σ|prefix) − Q(σ|prefix)| for each row, in [0, 1].

    >>> total_variation(np.array([[0.5, 0.5, 0.0]]), np.array([[0.25, 0.5, 0.25]])).tolist()
    [0.25]
    """
    return 0.5 * np.abs(p - q).sum(axis=1)


def argmax_errors(p: np.ndarray, q: np.ndarray, tolerance: float = TIE_TOLERANCE) -> np.ndarray:
    """True where the model's most probable next symbol is not a most probable one of the truth.

    Ties in the truth count as equally right (``tolerance`` absorbs rounding).

    >>> argmax_errors(np.array([[0.4, 0.4, 0.2]] * 2), np.array([[0.3, 0.6, 0.1],
    ...                                                          [0.3, 0.2, 0.5]])).tolist()
    [False, True]
    """
    chosen = p[np.arange(len(p)), q.argmax(axis=1)]
    return chosen < p.max(axis=1) - tolerance


def ndcg(p: np.ndarray, q: np.ndarray, depth: int = NDCG_DEPTH) -> np.ndarray:
    """SPiCe NDCG@depth per row: the true probabilities of Q's top-ranked symbols, discounted by
    log₂(rank + 1), over the same sum for P's own best ranking. In [0, 1]; 1 when Q ranks as P.

    >>> ndcg(np.array([[0.7, 0.2, 0.1]]), np.array([[0.1, 0.2, 0.7]]), depth=1).round(4).tolist()
    [0.1429]
    """
    k = min(depth, p.shape[1])
    discount = 1.0 / np.log2(np.arange(2, k + 2))  # (k,)
    ranked = np.argsort(-q, axis=1, kind="stable")[:, :k]  # (N, k)
    gained = np.take_along_axis(p, ranked, axis=1) @ discount
    ideal = -np.sort(-p, axis=1)[:, :k] @ discount
    return gained / ideal


def mean_estimate(values: np.ndarray) -> Estimate:
    """The mean of independent draws and its standard error.

    >>> mean_estimate(np.array([1.0, 3.0])).value
    2.0
    """
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n == 0:
        return Estimate(math.nan, math.nan)
    mean = float(values.mean())
    if n == 1 or not np.isfinite(mean):
        return Estimate(mean, math.nan if n == 1 else 0.0)
    return Estimate(mean, float(values.std(ddof=1) / math.sqrt(n)))


def ratio_estimate(numerators: np.ndarray, denominators: np.ndarray) -> Estimate:
    """Σ numerators / Σ denominators over independent strings, with the delta-method error.

    >>> ratio_estimate(np.array([2.0, 4.0]), np.array([1.0, 2.0])).value
    2.0
    """
    numerators = np.asarray(numerators, dtype=float)
    denominators = np.asarray(denominators, dtype=float)
    n = len(numerators)
    if n == 0:
        return Estimate(math.nan, math.nan)
    ratio = float(numerators.sum() / denominators.sum())
    if n == 1 or not np.isfinite(ratio):
        return Estimate(ratio, math.nan if n == 1 else 0.0)
    residual = numerators - ratio * denominators
    return Estimate(ratio, float(residual.std(ddof=1) / math.sqrt(n) / denominators.mean()))


def kl_bits_per_symbol(log_p: np.ndarray, log_q: np.ndarray, lengths: np.ndarray) -> Estimate:
    """Σᵢ [log P(xᵢ) − log Q(xᵢ)] / Σᵢ (|xᵢ|+1) in bits: cross-entropy minus entropy.

    ``log_p``, ``log_q``: natural logs of the test strings; ``lengths``: their lengths |xᵢ|.

    >>> kl_bits_per_symbol(np.log([0.5]), np.log([0.25]), np.array([1])).value
    0.5
    """
    return ratio_estimate(_bits(log_p) - _bits(log_q), np.asarray(lengths) + 1)


def kl_bits_per_string(log_p: np.ndarray, log_q: np.ndarray) -> Estimate:
    """The mean of log₂ P(xᵢ) − log₂ Q(xᵢ) over the test strings.

    >>> kl_bits_per_string(np.log([0.5, 0.5]), np.log([0.25, 0.125])).value
    1.5
    """
    return mean_estimate(_bits(log_p) - _bits(log_q))


def cross_entropy_bits_per_symbol(log_q: np.ndarray, lengths: np.ndarray) -> Estimate:
    """Σᵢ −log₂ Q(xᵢ) / Σᵢ (|xᵢ|+1); with Q = P it is the entropy estimate.

    >>> cross_entropy_bits_per_symbol(np.log([0.25]), np.array([1])).value
    1.0
    """
    return ratio_estimate(-_bits(log_q), np.asarray(lengths) + 1)


def illegal_fraction(log_p_samples: np.ndarray) -> Estimate:
    """The fraction of model samples the truth gives probability 0, with its standard error.

    >>> illegal_fraction(np.array([0.0, -np.inf, -1.0, -2.0])).value
    0.25
    """
    return mean_estimate(np.isneginf(np.asarray(log_p_samples)).astype(float))


def _bits(log: np.ndarray) -> np.ndarray:
    return np.asarray(log, dtype=float) / LN2
