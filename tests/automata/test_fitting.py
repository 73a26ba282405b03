"""fit_markov / select_markov against hand-computed counts and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import automata as am
from automata.analysis import total_probability

TRAIN = ["ab", "a", "abb"]


def test_order1_hand_counts_without_smoothing():
    m = am.fit_markov(TRAIN, alphabet=["a", "b"], order=1, smoothing=0.0)
    # start: a×3; after a: b×2, $×1; after b: b×1, $×2
    assert m.kind == "pdfa" and m.states == ("^", "a", "b")
    assert am.probability(m, "a") == pytest.approx(1 * 1 / 3)
    assert am.probability(m, "abb") == pytest.approx(1 * 2 / 3 * 1 / 3 * 2 / 3)
    assert am.probability(m, "b") == 0.0


def test_order1_add_lambda():
    lam = 0.5
    m = am.fit_markov(TRAIN, alphabet=["a", "b"], order=1, smoothing=lam)
    start = np.array([3, 0, 0]) + lam
    after_a = np.array([0, 2, 1]) + lam
    after_b = np.array([0, 1, 2]) + lam
    start, after_a, after_b = (r / r.sum() for r in (start, after_a, after_b))
    assert am.next_symbol_distribution(m, "").tolist() == pytest.approx(start.tolist())
    assert am.next_symbol_distribution(m, "a").tolist() == pytest.approx(after_a.tolist())
    assert am.next_symbol_distribution(m, "ab").tolist() == pytest.approx(after_b.tolist())
    assert am.probability(m, "ba") == pytest.approx(start[1] * after_b[0] * after_a[2])


def test_order2_backs_off_to_longest_seen_suffix():
    lam = 1.0
    m = am.fit_markov(TRAIN, alphabet=["a", "b"], order=2, smoothing=lam)
    # "b" at the start was never seen: back off to the suffix "b", pooled over all positions:
    # after b (any history): b×1 ("abb"), $×2 ("ab", "abb")
    after_b = np.array([0, 1, 2]) + lam
    got = am.next_symbol_distribution(m, "b")
    assert got.tolist() == pytest.approx((after_b / after_b.sum()).tolist())
    # anchored "^a": strings starting with a: b×2, $×1
    anchored = np.array([0, 2, 1]) + lam
    assert am.next_symbol_distribution(m, "a").tolist() == pytest.approx(
        (anchored / anchored.sum()).tolist())
    # full context "ab": b×1, $×1
    full = np.array([0, 1, 1]) + lam
    assert am.next_symbol_distribution(m, "bab").tolist() == pytest.approx(
        (full / full.sum()).tolist())


def test_positive_complete_and_consistent():
    m = am.fit_markov(["the cat sat", "the dog"], alphabet=["the", "cat", "sat", "dog"],
                      order=3, smoothing=0.1)
    assert np.all(m.next_state >= 0)
    for n in range(4):
        for x in itertools.product(m.alphabet, repeat=n):
            assert am.probability(m, x) > 0
    assert total_probability(m) == pytest.approx(1.0)


def test_order0_is_unigram_and_empty_training_is_uniform():
    m = am.fit_markov(["aab"], alphabet=["a", "b"], order=0, smoothing=0.0)
    assert m.states == ("ε",)
    assert am.next_symbol_distribution(m, "").tolist() == pytest.approx([0.5, 0.25, 0.25])
    u = am.fit_markov([], alphabet=["a", "b"], order=2, smoothing=1.0)
    assert am.next_symbol_distribution(u, "ab").tolist() == pytest.approx([1 / 3] * 3)
    with pytest.raises(am.AutomatonError):
        am.fit_markov([], alphabet=["a"], order=1, smoothing=0.0)


def test_fit_recovers_a_chain_and_rejects_bad_input():
    truth = am.loads("kind: markov\nalphabet: [a, b]\nstart: {a: 0.5, b: 0.5}\n"
                     "next:\n  a: {a: 0.2, b: 0.6, $: 0.2}\n  b: {a: 0.7, $: 0.3}\n")
    data = am.sample(truth, 4000, seed=1)
    m = am.fit_markov(data, alphabet=truth.alphabet, order=1, smoothing=0.01)
    assert am.next_symbol_distribution(m, "a").tolist() == pytest.approx([0.2, 0.6, 0.2],
                                                                         abs=0.03)
    with pytest.raises(am.UnknownSymbolError, match="'c'"):
        am.fit_markov(["ac"], alphabet=["a", "b"])
    with pytest.raises(am.AutomatonError, match="order"):
        am.fit_markov(["a"], alphabet=["a"], order=-1)
    with pytest.raises(am.AutomatonError, match="smoothing"):
        am.fit_markov(["a"], alphabet=["a"], smoothing=-1)


def test_select_markov_prefers_the_true_order():
    truth = am.loads("kind: markov\nalphabet: [a, b]\nstart: {a: 1.0}\n"
                     "next:\n  a: {b: 0.9, $: 0.1}\n  b: {a: 0.9, $: 0.1}\n")
    train = am.sample(truth, 500, seed=2)
    val = am.sample(truth, 200, seed=3)
    model, order, smoothing = am.select_markov(train, val, alphabet=truth.alphabet,
                                               orders=(0, 1, 2), smoothings=(0.01, 1.0))
    assert order >= 1 and smoothing == 0.01
    scores = {}
    for k in (0, 1, 2):
        for lam in (0.01, 1.0):
            fitted = am.fit_markov(train, alphabet=truth.alphabet, order=k, smoothing=lam)
            scores[k, lam] = am.log_probability(fitted, list(val)).sum()
    assert max(scores, key=scores.get) == (order, smoothing)
    assert am.log_probability(model, list(val)).sum() == pytest.approx(max(scores.values()))


_words = st.lists(st.text(alphabet="abc", max_size=6), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(train=_words, val=_words)
def test_select_markov_equals_fitting_every_pair(train, val):
    # one count at the highest order and one walk per order score each pair as its own fit would
    orders, smoothings = (0, 1, 2, 3), (0.0, 0.1, 1.0)
    model, order, smoothing = am.select_markov(train, val, alphabet=["a", "b", "c"],
                                               orders=orders, smoothings=smoothings)
    scores = {(k, lam): am.log_probability(am.fit_markov(train, alphabet=["a", "b", "c"], order=k,
                                                         smoothing=lam), val).sum()
              for k in orders for lam in smoothings}
    assert scores[order, smoothing] == pytest.approx(max(scores.values()), rel=1e-9)
    refit = am.fit_markov(train, alphabet=["a", "b", "c"], order=order, smoothing=smoothing)
    assert model.states == refit.states
    assert np.array_equal(model.next_state, refit.next_state)
    assert np.allclose(model.symbol_prob, refit.symbol_prob)
