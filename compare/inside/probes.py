"""Linear probes: can the true state be read off the hidden vector by a linear classifier?

A probe is scikit-learn's multinomial logistic regression on standardised features, with an L2
penalty, fitted by L-BFGS: no randomness, the same data gives the same probe. It is trained on
the rows of some strings and scored on the rows of other strings, so it measures what
generalises, not what it memorised.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

DEFAULT_L2 = 1e-3  # penalty on the weights of standardised features
MAX_ITER = 300


def fit_probe(x: np.ndarray, y: np.ndarray, *, l2: float = DEFAULT_L2,
              max_iter: int = MAX_ITER) -> Pipeline:
    """Fit a multinomial logistic regression of labels ``y`` (N,) on features ``x`` (N, D).

    Minimises the mean cross-entropy plus ``l2``/2 ‖W‖² over standardised features (scikit-learn's
    ``C`` is 1 / (``l2`` N)); one class gives a probe that always answers it. A probe still
    short of convergence after ``max_iter`` steps is kept: it is what a probe of that budget reads.

    Examples
    --------
    >>> x = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> fit_probe(x, np.array([0, 0, 1, 1])).predict(x).tolist()
    [0, 0, 1, 1]
    """
    if len(np.unique(y)) < 2:
        classifier = DummyClassifier(strategy="most_frequent")
    else:
        classifier = LogisticRegression(C=1.0 / (l2 * len(x)), max_iter=max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return make_pipeline(StandardScaler(), classifier).fit(x, y)


@dataclass(frozen=True)
class ProbeResult:
    """How well a probe trained on some strings reads the state on others."""

    accuracy: float  # on the test rows
    chance: float  # accuracy of always answering the training rows' most frequent class
    labels: tuple[str, ...]  # class names, the rows and columns of ``confusion``
    confusion: np.ndarray  # (K, K) test rows: [true class, predicted class] counts
    n_train: int  # training rows
    n_test: int  # test rows

    @property
    def per_class_accuracy(self) -> np.ndarray:
        """(K,) the fraction of each true class's test rows predicted right (NaN if none)."""
        totals = self.confusion.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.diag(self.confusion) / totals

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        per_class = self.per_class_accuracy
        return {
            "accuracy": self.accuracy, "chance": self.chance,
            "n_train": self.n_train, "n_test": self.n_test,
            "per_class": {label: None if np.isnan(v) else float(v)
                          for label, v in zip(self.labels, per_class, strict=True)},
            "confusion": {"labels": list(self.labels), "counts": self.confusion.tolist()},
        }


def probe_accuracy(x: np.ndarray, y: np.ndarray, train: np.ndarray, *,
                   names: Sequence[str] | None = None, l2: float = DEFAULT_L2) -> ProbeResult:
    """Train a probe on the rows ``train`` (bool mask) and score it on the other rows.

    ``y`` holds integer labels; ``names[label]`` names them (default: the numbers).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 600)
    >>> x = np.eye(3)[y] + 0.1 * rng.normal(size=(600, 3))
    >>> probe_accuracy(x, y, np.arange(600) < 300).accuracy
    1.0
    """
    train = np.asarray(train, dtype=bool)
    probe = fit_probe(x[train], y[train], l2=l2)
    truth, predicted = y[~train], probe.predict(x[~train])
    classes = probe.classes_
    values = np.union1d(np.unique(y), classes)
    position = {v: i for i, v in enumerate(values.tolist())}
    confusion = np.zeros((len(values), len(values)), dtype=np.int64)
    np.add.at(confusion, ([position[v] for v in truth.tolist()],
                          [position[v] for v in predicted.tolist()]), 1)
    counts = np.bincount(np.searchsorted(classes, y[train]), minlength=len(classes))
    majority = classes[np.argmax(counts)]
    labels = tuple(str(v) if names is None else str(names[v]) for v in values.tolist())
    n_test = int(len(truth))
    return ProbeResult(accuracy=float(np.mean(truth == predicted)) if n_test else float("nan"),
                       chance=float(np.mean(truth == majority)) if n_test else float("nan"),
                       labels=labels, confusion=confusion, n_train=int(train.sum()),
                       n_test=n_test)


def single_unit_accuracy(x: np.ndarray, y: np.ndarray, train: np.ndarray) -> np.ndarray:
    """(D,) test accuracy of the best threshold on each single unit for a binary label ``y``
    (N,); for several labels (N, G) at once, (G, D) (the units are sorted once for all).

    For each column, the threshold and direction (``x > θ`` or ``x < θ`` means ``y``) that are
    most accurate on the training rows are applied to the other rows: one unit that separates
    the two classes by itself scores 1.

    Examples
    --------
    >>> x = np.array([[0.1, 5.0], [0.2, 1.0], [0.9, 2.0], [0.8, 0.0]] * 2)
    >>> y = np.array([False, False, True, True] * 2)
    >>> single_unit_accuracy(x, y, np.arange(8) < 4).tolist()
    [1.0, 0.75]
    """
    train = np.asarray(train, dtype=bool)
    labels = np.asarray(y, dtype=bool)
    xt = x[train]
    order = np.argsort(xt, axis=0, kind="stable")  # (n, D), shared by every label
    sorted_x = np.take_along_axis(xt, order, axis=0)
    # a cut between two equal values would split them, which no threshold can do
    edge = np.zeros((1, x.shape[1]), dtype=bool)
    splits_tie = np.vstack([edge, sorted_x[:-1] == sorted_x[1:], edge])
    padded = np.vstack([sorted_x[:1] - 1.0, sorted_x, sorted_x[-1:] + 1.0])
    columns = labels.reshape(len(labels), -1).T  # (G, N)
    result = np.array([_best_threshold_accuracy(x[~train], column[train][order], column[~train],
                                                splits_tie, padded) for column in columns])
    return result if labels.ndim > 1 else result[0]


def _best_threshold_accuracy(x_test: np.ndarray, sorted_y: np.ndarray, y_test: np.ndarray,
                             splits_tie: np.ndarray, padded: np.ndarray) -> np.ndarray:
    """(D,) test accuracy of each unit's best training threshold; ``sorted_y`` (n, D) holds the
    training labels in each unit's sorted order."""
    positives = np.cumsum(sorted_y, axis=0)  # positives at or below each cut
    n, total = len(sorted_y), int(sorted_y[:, 0].sum()) if len(sorted_y) else 0
    below = np.arange(1, n + 1)[:, None]
    # accuracy of "above the cut is positive" for a cut after each sorted row, and before all
    above_positive = np.vstack([np.full((1, padded.shape[1]), total),
                                (below - positives) + (total - positives)])
    accuracy = above_positive / n
    flip = accuracy < 0.5
    best = np.where(splits_tie, -1.0, np.where(flip, 1 - accuracy, accuracy)).argmax(axis=0)
    columns = np.arange(padded.shape[1])
    direction = np.where(flip[best, columns], -1.0, 1.0)
    threshold = 0.5 * (padded[best, columns] + padded[best + 1, columns])
    guess = direction * (x_test - threshold) > 0
    return (guess == y_test[:, None]).mean(axis=0)
