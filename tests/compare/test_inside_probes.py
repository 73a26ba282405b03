"""Linear probes: the one-hot true state is read perfectly, noise only at chance."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import softmax

import automata as am
from compare.inside import align, fit_probe, probe_accuracy, single_unit_accuracy
from tests.compare.test_inside_alignment import OneHotModel, RandomModel


@pytest.fixture(scope="module")
def line_position(examples_dir):
    return am.load(examples_dir / "line_position.yaml")


def _split(alignment, n):
    return alignment.rows_of(np.arange(n) % 2 == 0)


def test_probe_on_the_one_hot_true_state_scores_one(line_position):
    strings = am.sample(line_position, 300, seed=0)
    alignment = align(line_position, OneHotModel(line_position), strings)
    result = probe_accuracy(alignment.matrix(), alignment.labels(), _split(alignment, 300),
                            names=alignment.state_names)
    assert result.accuracy == 1.0
    assert np.all(result.per_class_accuracy == 1.0)
    assert result.chance < 0.2  # 14 states, none of them most of the prefixes
    assert result.confusion.sum() == result.n_test
    assert np.count_nonzero(result.confusion - np.diag(np.diag(result.confusion))) == 0
    assert set(result.labels) == set(line_position.states)


def test_probe_on_noisy_one_hot_still_reads_the_state(line_position):
    strings = am.sample(line_position, 300, seed=1)
    alignment = align(line_position, OneHotModel(line_position, noise=0.2), strings)
    result = probe_accuracy(alignment.matrix(), alignment.labels(), _split(alignment, 300))
    assert result.accuracy > 0.97


def test_probe_on_random_hidden_states_is_near_chance(line_position):
    strings = am.sample(line_position, 400, seed=2)
    alignment = align(line_position, RandomModel(line_position, width=8), strings)
    result = probe_accuracy(alignment.matrix(), alignment.labels(), _split(alignment, 400))
    assert result.chance < 0.2
    assert result.accuracy < result.chance + 0.03


def test_fit_probe_meets_the_optimality_condition():
    """At the optimum of mean cross-entropy + l2/2 ‖W‖², Zᵀ(P − Y)/n + l2 W = 0 and the
    columns of P − Y sum to 0 (computed here independently of the fitting code)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4))
    y = (x[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int) + (x[:, 1] > 1)
    l2 = 0.01
    regression = fit_probe(x, y, l2=l2)[-1]
    weights, bias = regression.coef_.T, regression.intercept_  # (D, K), (K,)
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    p = softmax(z @ weights + bias, axis=1)
    residual = p - np.eye(3)[y]
    assert np.abs(z.T @ residual / len(x) + l2 * weights).max() < 1e-4
    assert np.abs(residual.sum(axis=0) / len(x)).max() < 1e-4


def test_fit_probe_with_one_class_predicts_it():
    x = np.arange(6.0)[:, None]
    probe = fit_probe(x, np.full(6, 4))
    assert probe.predict(x).tolist() == [4] * 6


def test_unseen_test_class_counts_as_wrong():
    x = np.array([[0.0], [1.0], [0.0], [1.0], [5.0]])
    y = np.array([0, 1, 0, 1, 2])
    result = probe_accuracy(x, y, np.array([True, True, False, False, False]))
    assert result.accuracy == pytest.approx(2 / 3)
    assert result.labels == ("0", "1", "2")
    assert result.confusion[2].sum() == 1 and result.confusion[2, 2] == 0
    assert np.isnan(result.per_class_accuracy).sum() == 0


def _brute_single_unit(x, y, train):
    """For each unit: the best training accuracy of any threshold rule and the test accuracy
    of the first best one, trying every cut between distinct training values (ascending)
    and both directions."""
    result = []
    for j in range(x.shape[1]):
        values = np.unique(x[train, j])
        cuts = np.concatenate([[values[0] - 1], (values[:-1] + values[1:]) / 2, [values[-1] + 1]])
        best, best_rule = -1.0, None
        for cut in cuts:
            up = np.mean((x[train, j] > cut) == y[train])
            sign = 1 if up >= 0.5 else -1
            if max(up, 1 - up) > best + 1e-12:
                best, best_rule = max(up, 1 - up), (cut, sign)
        cut, sign = best_rule
        result.append((best, np.mean((sign * (x[~train, j] - cut) > 0) == y[~train])))
    return result


@given(st.integers(0, 2**32 - 1), st.integers(2, 30))
def test_single_unit_accuracy_reaches_the_best_training_accuracy(seed, n):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).round(1)  # rounding makes ties
    y = rng.random(n) < 0.4
    # scored on a copy of the training rows: the chosen rule's accuracy there is its training
    # accuracy, which must be the best any threshold reaches
    fitted = single_unit_accuracy(np.vstack([x, x]), np.concatenate([y, y]),
                                  np.arange(2 * n) < n)
    brute = _brute_single_unit(np.vstack([x, x]), np.concatenate([y, y]), np.arange(2 * n) < n)
    assert np.allclose(fitted, [best for best, _ in brute])


def test_single_unit_accuracy_without_ties_equals_brute_force():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 5))
    y = x[:, 2] + 0.3 * rng.normal(size=200) > 0.2
    train = np.arange(200) % 2 == 0
    brute = _brute_single_unit(x, y, train)
    fitted = single_unit_accuracy(x, y, train)
    assert np.allclose(fitted, [test for _, test in brute])
    assert fitted.argmax() == 2


def test_single_unit_accuracy_of_several_labels_at_once_is_each_one_alone():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(120, 4)).round(1)
    labels = np.stack([x[:, 0] > 0, x[:, 3] + 0.5 * rng.normal(size=120) > 0,
                       rng.random(120) < 0.3], axis=1)  # (N, 3)
    train = np.arange(120) % 3 > 0
    together = single_unit_accuracy(x, labels, train)
    assert together.shape == (3, 4)
    for g in range(3):
        assert np.array_equal(together[g], single_unit_accuracy(x, labels[:, g], train))
