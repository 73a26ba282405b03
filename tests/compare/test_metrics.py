"""The metric functions against hand-computed values and their laws (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from compare import metrics as m


def test_conditional_kl_by_hand():
    p = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    q = np.array([[0.25, 0.25, 0.5], [0.5, 0.25, 0.25]])
    # row 0: ½ log₂(½/¼) · 2 = 1 bit; row 1: log₂(1/½) = 1 bit; the zero of P contributes nothing
    assert m.conditional_kl(p, q).tolist() == [1.0, 1.0]


def test_conditional_kl_is_infinite_where_the_model_misses_a_symbol():
    assert m.conditional_kl(np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]]))[0] == math.inf


def test_total_variation_by_hand():
    p = np.array([[0.5, 0.5, 0.0]])
    q = np.array([[0.1, 0.5, 0.4]])
    assert m.total_variation(p, q)[0] == pytest.approx(0.4)


def test_argmax_errors_count_a_near_tie_as_a_miss():
    # only rounding-size differences are ties: 0.495 is not a most probable symbol of 0.5
    p = np.array([[0.5, 0.495, 0.005], [0.4, 0.4 - 1e-12, 0.2]])
    q = np.array([[0.1, 0.8, 0.1], [0.1, 0.8, 0.1]])
    assert m.argmax_errors(p, q).tolist() == [True, False]


def test_argmax_errors_ties_and_misses():
    p = np.array([[0.4, 0.4, 0.2], [0.4, 0.4, 0.2], [0.6, 0.3, 0.1]])
    q = np.array([[0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.3, 0.6, 0.1]])
    # a tie of the truth: either of its best symbols is right
    assert m.argmax_errors(p, q).tolist() == [False, True, True]


def test_ndcg_by_hand():
    p = np.array([[0.5, 0.3, 0.2]])
    q = np.array([[0.2, 0.3, 0.5]])  # ranks c, b, a
    d = 1 / np.log2([2, 3, 4])
    expected = (0.2 * d[0] + 0.3 * d[1] + 0.5 * d[2]) / (0.5 * d[0] + 0.3 * d[1] + 0.2 * d[2])
    assert m.ndcg(p, q)[0] == pytest.approx(expected)
    assert m.ndcg(p, p)[0] == 1.0


def test_ndcg_looks_at_the_top_five_only():
    p = np.array([[0.3, 0.2, 0.2, 0.1, 0.1, 0.1]])
    q = np.array([[0.0, 0.2, 0.2, 0.2, 0.2, 0.2]])  # the best symbol ranked last: out of the top 5
    d = 1 / np.log2(np.arange(2, 7))
    expected = (np.array([0.2, 0.2, 0.1, 0.1, 0.1]) @ d) / (np.array([0.3, 0.2, 0.2, 0.1, 0.1]) @ d)
    assert m.ndcg(p, q)[0] == pytest.approx(expected)


def test_kl_per_symbol_and_per_string_by_hand():
    log_p = np.log([0.5, 0.25])
    log_q = np.log([0.25, 0.25])
    lengths = np.array([0, 2])
    assert m.kl_bits_per_symbol(log_p, log_q, lengths).value == pytest.approx(1 / 4)
    assert m.kl_bits_per_string(log_p, log_q).value == pytest.approx(0.5)
    assert m.cross_entropy_bits_per_symbol(log_q, lengths).value == pytest.approx(4 / 4)


def test_ratio_estimate_error_matches_the_delta_method_by_hand():
    numerators, denominators = np.array([1.0, 2.0, 6.0]), np.array([1.0, 2.0, 3.0])
    ratio = 9 / 6
    residual = numerators - ratio * denominators  # (-0.5, -1, 1.5)
    expected = residual.std(ddof=1) / math.sqrt(3) / 2.0
    estimate = m.ratio_estimate(numerators, denominators)
    assert estimate.value == ratio and estimate.stderr == pytest.approx(expected)


def test_illegal_fraction():
    estimate = m.illegal_fraction(np.array([-1.0, -np.inf, -np.inf, -2.0]))
    assert estimate.value == 0.5
    assert estimate.stderr == pytest.approx(np.std([0, 1, 1, 0], ddof=1) / 2)


def _distributions(rows: int, width: int):
    weights = arrays(np.float64, (rows, width), elements=st.floats(0, 1, allow_subnormal=False))
    return weights.filter(lambda w: (w.sum(axis=1) > 1e-3).all()).map(
        lambda w: w / w.sum(axis=1, keepdims=True))


@given(st.integers(1, 6).flatmap(lambda w: st.tuples(_distributions(4, w), _distributions(4, w))))
def test_laws_of_the_per_prefix_metrics(pair):
    p, q = pair
    kl, tv, score = m.conditional_kl(p, q), m.total_variation(p, q), m.ndcg(p, q)
    assert (kl >= -1e-12).all()
    assert ((tv >= 0) & (tv <= 1 + 1e-12)).all()
    assert ((score >= 0) & (score <= 1 + 1e-12)).all()
    assert m.conditional_kl(p, p).tolist() == [0.0] * 4
    assert m.total_variation(p, p).tolist() == [0.0] * 4
    assert m.ndcg(p, p).tolist() == [1.0] * 4
    assert not m.argmax_errors(p, p).any()
