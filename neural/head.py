"""The output layer fitted again with dropout off, after training (``TrainConfig.refit_head``).

Dropout trains the output layer on noisy hidden vectors; used without dropout, the same layer
is off even in the contexts it saw most (PAutomaC problem 18: after ``5 0 5`` the string ends with
probability 0.182, the training strings say 0.177, the network trained with dropout 0.5 0.144).
With the recurrent layers fixed, fitting the output layer again is convex: L-BFGS on the
training strings' hidden vectors, a round of iterations at a time, keeping the round with the
lowest validation loss, or the layer as it was when no round lowers it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .data import Corpus
from .model import RNNLanguageModel
from .progress import LN2
from .trained import MAX_ACTIVATIONS, inputs_by_length

MAX_CELLS = 1 << 28  # hidden-vector and logit floats the fit holds (1 GiB); beyond, a sample of strings
ITERATIONS = 1  # L-BFGS iterations a round (the validation loss is read after each round)
MAX_ROUNDS = 100
PATIENCE = 5  # rounds without a lower validation loss before the fit stops


@dataclass(frozen=True)
class HeadFit:
    """The fitted output layer and what the fit did: ``record`` has ``val_bits_before``,
    ``val_bits_after`` (the kept layer's), ``rounds`` (0: the layer is kept as it was), ``tokens``
    (training tokens fitted on) and ``strings``."""

    weight: torch.Tensor  # (V, H)
    bias: torch.Tensor  # (V,)
    record: dict[str, Any]

    def copy_into(self, model: RNNLanguageModel) -> None:
        """Put the fitted layer into ``model`` (in place)."""
        with torch.no_grad():
            model.head.weight.copy_(self.weight)
            model.head.bias.copy_(self.bias)


def head_data(model: RNNLanguageModel, corpus: Corpus, eos: int,
              rows: np.ndarray | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The top layer's hidden vectors with dropout off (N, H) and the token each predicts (N,):
    every symbol of the strings ``rows`` (default all), and each one's end.

    Examples
    --------
    >>> from neural.model import RNNConfig
    >>> model = RNNLanguageModel(RNNConfig(hidden_size=4), vocab_size=3)
    >>> hidden, targets = head_data(model, Corpus(np.array([0, 1, 1]), np.array([2, 1])), eos=2)
    >>> tuple(hidden.shape), targets.tolist()
    ((5, 4), [1, 2, 0, 1, 2])
    """
    device = model.head.weight.device
    was_training = model.training
    model.eval()
    hidden, targets = [], []
    try:
        max_tokens = max(1, MAX_ACTIVATIONS // model.config.hidden_size)
        for _, inputs in inputs_by_length(corpus, eos, device, max_tokens=max_tokens, rows=rows):
            with torch.inference_mode():
                h, _ = model.hidden(inputs)  # (B, n+1, H)
            hidden.append(h.reshape(-1, h.shape[-1]).float())
            targets.append(inputs.roll(-1, dims=1).reshape(-1))  # x1..xn, then $
    finally:
        model.train(was_training)
    return torch.cat(hidden), torch.cat(targets)


def sample_rows(corpus: Corpus, max_tokens: int, seed: int) -> np.ndarray:
    """All strings, or a seeded sample of them whose tokens (symbols and ends) fit ``max_tokens``.

    Examples
    --------
    >>> corpus = Corpus(np.zeros(6, dtype=np.int64), np.array([1, 2, 3]))
    >>> sample_rows(corpus, 100, seed=0).tolist(), int(corpus.lengths[sample_rows(corpus, 5, seed=0)].sum() + 2) <= 5
    ([0, 1, 2], True)
    """
    if corpus.tokens_per_epoch <= max_tokens:
        return np.arange(len(corpus))
    order = np.random.default_rng(seed).permutation(len(corpus))
    kept = int(np.searchsorted(np.cumsum(corpus.lengths[order] + 1), max_tokens, side="right"))
    return np.sort(order[:max(1, kept)])


def fit_head(model: RNNLanguageModel, train: Corpus, val: Corpus, *, eos: int, min_delta: float, seed: int,
             interrupted: Callable[[], bool] = lambda: False) -> HeadFit:
    """Fit ``model``'s output layer again on ``train`` (a sample of it when its hidden vectors
    and logits exceed MAX_CELLS floats), the recurrent layers fixed and dropout off; keep the round
    of L-BFGS whose validation loss on ``val`` is lowest, when it is lower than the layer's own by
    more than ``min_delta`` bits per symbol. ``model`` is not changed. ``interrupted`` is asked
    after every round; when it says so, the fit stops where it is.

    Examples
    --------
    >>> from neural.model import RNNConfig
    >>> torch.manual_seed(0) is not None
    True
    >>> model = RNNLanguageModel(RNNConfig(hidden_size=8), vocab_size=3)
    >>> corpus = Corpus(np.array([0, 1] * 20), np.array([2] * 20))
    >>> fit = fit_head(model, corpus, corpus, eos=2, min_delta=1e-4, seed=0)
    >>> fit.record["rounds"] > 0, fit.record["val_bits_after"] < fit.record["val_bits_before"]
    (True, True)
    """
    hidden, targets, strings = _training_data(model, train, eos, seed)
    val_hidden, val_targets = head_data(model, val, eos)
    before = _bits(val_hidden, val_targets, model.head.weight, model.head.bias)
    best, kept, rounds = before, (model.head.weight.detach().clone(), model.head.bias.detach().clone()), 0
    for round_, (weight, bias) in enumerate(_rounds(model, hidden, targets), start=1):
        bits = _bits(val_hidden, val_targets, weight, bias)
        if bits < best - (min_delta if rounds == 0 else 0.0):
            best, kept, rounds = bits, (weight.clone(), bias.clone()), round_
        elif round_ - rounds >= PATIENCE or not math.isfinite(bits):
            break
        if interrupted():
            break
    record = {"val_bits_before": before, "val_bits_after": best, "rounds": rounds,
              "tokens": len(targets), "strings": strings}
    return HeadFit(kept[0], kept[1], record)


def fit_head_rounds(model: RNNLanguageModel, train: Corpus, rounds: int, *, eos: int, seed: int) -> HeadFit:
    """The output layer after ``rounds`` rounds of :func:`fit_head`'s fit on ``train``, without
    validation strings: a refit repeats the rounds validation chose, as it repeats the epochs.

    Examples
    --------
    >>> from neural.model import RNNConfig
    >>> model = RNNLanguageModel(RNNConfig(hidden_size=8), vocab_size=3)
    >>> corpus = Corpus(np.array([0, 1] * 20), np.array([2] * 20))
    >>> fit_head_rounds(model, corpus, 2, eos=2, seed=0).record
    {'rounds': 2, 'tokens': 60, 'strings': 20}
    """
    hidden, targets, strings = _training_data(model, train, eos, seed)
    layers = _rounds(model, hidden, targets)
    for _ in range(rounds - 1):
        next(layers)
    weight, bias = next(layers)
    return HeadFit(weight.clone(), bias.clone(), {"rounds": rounds, "tokens": len(targets), "strings": strings})


def _training_data(model: RNNLanguageModel, train: Corpus, eos: int,
                   seed: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """:func:`head_data` of ``train`` or of a sample of its strings (see MAX_CELLS), and how many strings."""
    rows = sample_rows(train, max(1, MAX_CELLS // (model.config.hidden_size + model.vocab_size)), seed)
    return (*head_data(model, train, eos, rows), len(rows))


def _rounds(model: RNNLanguageModel, hidden: torch.Tensor,
            targets: torch.Tensor) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The output layer (weight, bias) after each round of L-BFGS from ``model``'s own, at most
    MAX_ROUNDS; each is changed by the next round."""
    weight = model.head.weight.detach().clone().requires_grad_()
    bias = model.head.bias.detach().clone().requires_grad_()
    optimizer = torch.optim.LBFGS([weight, bias], lr=1, max_iter=ITERATIONS, max_eval=20 * ITERATIONS,
                                  history_size=20, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimizer.zero_grad()
        value = F.cross_entropy(hidden @ weight.T + bias, targets)
        value.backward()
        return value

    for _ in range(MAX_ROUNDS):
        optimizer.step(loss)
        yield weight.detach(), bias.detach()


def _bits(hidden: torch.Tensor, targets: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> float:
    """Mean cross-entropy in bits per token."""
    with torch.no_grad():
        nats = F.cross_entropy(hidden @ weight.T + bias, targets, reduction="sum").item()
    return nats / max(len(targets), 1) / LN2
