"""Linear probes: can the true state be read off the hidden vector by a linear classifier?

A probe is a multinomial logistic regression (softmax of an affine map of the standardised
features) with an L2 penalty, fitted full batch by L-BFGS from zero weights: no randomness, the
same data gives the same probe. It is trained on the rows of some strings and scored on the rows
of other strings, so it measures what generalises, not what it memorised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

DEFAULT_L2 = 1e-3  # penalty on the weights of standardised features
MAX_ITER = 300


@dataclass(frozen=True)
class LogisticProbe:
    """A fitted multinomial logistic regression over standardised features."""

    mean: np.ndarray  # (D,) feature means on the training rows
    scale: np.ndarray  # (D,) feature standard deviations (1 where constant)
    weights: np.ndarray  # (D, K)
    bias: np.ndarray  # (K,)
    classes: np.ndarray  # (K,) the label of each output column

    def log_proba(self, x: np.ndarray) -> np.ndarray:
        """(N, K) log probabilities of the classes."""
        logits = ((x - self.mean) / self.scale) @ self.weights + self.bias
        return logits - logsumexp(logits, axis=1, keepdims=True)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """(N,) the most probable class of each row."""
        return self.classes[self.log_proba(x).argmax(axis=1)]


def fit_probe(x: np.ndarray, y: np.ndarray, *, l2: float = DEFAULT_L2,
              max_iter: int = MAX_ITER) -> LogisticProbe:
    """Fit a multinomial logistic regression of labels ``y`` (N,) on features ``x`` (N, D).

    Minimises the mean cross-entropy plus ``l2``/2 ‖W‖² by L-BFGS from zero weights.

    Examples
    --------
    >>> x = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> fit_probe(x, np.array([0, 0, 1, 1])).predict(x).tolist()
    [0, 0, 1, 1]
    """
    classes, codes = np.unique(y, return_inverse=True)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    z = (x - mean) / scale  # (N, D)
    n, d, k = len(z), z.shape[1], len(classes)
    onehot = np.zeros((n, k))
    onehot[np.arange(n), codes] = 1.0

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: d * k].reshape(d, k), theta[d * k:]
        logits = z @ w + b  # (N, K)
        log_p = logits - logsumexp(logits, axis=1, keepdims=True)
        residual = (np.exp(log_p) - onehot) / n  # d(mean CE)/d logits
        value = -(onehot * log_p).sum() / n + 0.5 * l2 * (w * w).sum()
        grad = np.concatenate([(z.T @ residual + l2 * w).ravel(), residual.sum(axis=0)])
        return value, grad

    if k == 1:
        theta = np.zeros(d * k + k)
    else:
        theta = minimize(loss, np.zeros(d * k + k), jac=True, method="L-BFGS-B",
                         options={"maxiter": max_iter}).x
    return LogisticProbe(mean=mean, scale=scale, weights=theta[: d * k].reshape(d, k),
                         bias=theta[d * k:], classes=classes)


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
    values = np.union1d(np.unique(y), probe.classes)
    position = {v: i for i, v in enumerate(values.tolist())}
    confusion = np.zeros((len(values), len(values)), dtype=np.int64)
    np.add.at(confusion, ([position[v] for v in truth.tolist()],
                          [position[v] for v in predicted.tolist()]), 1)
    counts = np.bincount(np.searchsorted(probe.classes, y[train]), minlength=len(probe.classes))
    majority = probe.classes[np.argmax(counts)]
    labels = tuple(str(v) if names is None else str(names[v]) for v in values.tolist())
    n_test = int(len(truth))
    return ProbeResult(accuracy=float(np.mean(truth == predicted)) if n_test else float("nan"),
                       chance=float(np.mean(truth == majority)) if n_test else float("nan"),
                       labels=labels, confusion=confusion, n_train=int(train.sum()),
                       n_test=n_test)


def single_unit_accuracy(x: np.ndarray, y: np.ndarray, train: np.ndarray) -> np.ndarray:
    """(D,) test accuracy of the best threshold on each single unit for a binary label.

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
    y = np.asarray(y, dtype=bool)
    xt, yt = x[train], y[train]
    order = np.argsort(xt, axis=0, kind="stable")  # (n, D)
    sorted_x = np.take_along_axis(xt, order, axis=0)
    positives = np.cumsum(yt[order], axis=0)  # positives at or below each cut
    n, total = len(yt), int(yt.sum())
    below = np.arange(1, n + 1)[:, None]
    # accuracy of "above the cut is positive" for a cut after each sorted row, and before all
    above_positive = np.vstack([np.full((1, x.shape[1]), total),
                                (below - positives) + (total - positives)])
    accuracy = above_positive / n
    flip = accuracy < 0.5
    # a cut between two equal values would split them, which no threshold can do
    splits_tie = np.vstack([np.zeros((1, x.shape[1]), dtype=bool), sorted_x[:-1] == sorted_x[1:],
                            np.zeros((1, x.shape[1]), dtype=bool)])
    best = np.where(splits_tie, -1.0, np.where(flip, 1 - accuracy, accuracy)).argmax(axis=0)
    direction = np.where(flip[best, np.arange(x.shape[1])], -1.0, 1.0)
    padded = np.vstack([sorted_x[:1] - 1.0, sorted_x, sorted_x[-1:] + 1.0])
    columns = np.arange(x.shape[1])
    threshold = 0.5 * (padded[best, columns] + padded[best + 1, columns])
    guess = direction * (x[~train] - threshold) > 0
    return (guess == y[~train][:, None]).mean(axis=0)
