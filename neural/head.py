"""The output layer fitted again with dropout off, after training (``TrainConfig.refit_head``).

Dropout trains the output layer on noisy hidden vectors; used without dropout, the same layer
is off even in the contexts it saw most (PAutomaC problem 18: after ``5 0 5`` the string ends with
probability 0.182, the training strings say 0.177, the network trained with dropout 0.5 0.144).
With the recurrent layers fixed, fitting the output layer again is convex: L-BFGS on the
training strings' hidden vectors, a round of iterations at a time, keeping the round with the
lowest validation loss, or the layer as it was when no round lowers it. The tokens are grouped by
the prefix they follow (:class:`Tokens`): the same loss, computed once per distinct prefix.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .data import Corpus
from .model import RNNLanguageModel
from .progress import LN2
from .trained import MAX_ACTIVATIONS, inputs_by_length

MAX_CELLS = 1 << 28  # tokens × (hidden + logit) floats at most (1 GiB); beyond, a sample of strings
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


@dataclass(frozen=True)
class Tokens:
    """Tokens grouped by the prefix they follow, on which alone a hidden vector depends: each
    distinct prefix's hidden vector once, and each distinct (prefix, next token) pair once with how
    often it occurs. The loss over them is the loss over every token, at the cost of the distinct
    prefixes only."""

    hidden: torch.Tensor  # (P, H): the top layer's hidden vector after each distinct prefix
    prefix: torch.Tensor  # (K,): the row of ``hidden`` each pair follows
    target: torch.Tensor  # (K,): the next token
    count: torch.Tensor  # (K,): how often the pair occurs (float)
    tokens: int  # how many tokens in all: the sum of ``count``

    def bits(self, weight: torch.Tensor, bias: torch.Tensor) -> float:
        """The mean cross-entropy in bits per token of the layer (weight, bias), summed in float64."""
        with torch.no_grad():
            return float(-(self._log_likelihoods(weight, bias).double() * self.count).sum() / self.tokens / LN2)

    def loss(self, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """The mean cross-entropy in nats per token, differentiable in weight and bias."""
        return -(self._log_likelihoods(weight, bias) * self.count).sum() / self.tokens

    def _log_likelihoods(self, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        logp = torch.log_softmax(self.hidden @ weight.T + bias, dim=-1)  # (P, V)
        return logp[self.prefix, self.target]  # (K,)


def head_data(model: RNNLanguageModel, corpus: Corpus, eos: int, rows: np.ndarray | None = None) -> Tokens:
    """The top layer's hidden vectors with dropout off and the tokens they predict (every symbol
    of the strings ``rows``, default all, and each one's end), grouped by prefix (see :class:`Tokens`).

    Examples
    --------
    >>> from neural.model import RNNConfig
    >>> model = RNNLanguageModel(RNNConfig(hidden_size=4), vocab_size=3)
    >>> tokens = head_data(model, Corpus(np.array([0, 1, 0, 0]), np.array([2, 1, 1])), eos=2)  # "ab", "a", "a"
    >>> tuple(tokens.hidden.shape), tokens.tokens  # prefixes "", "a", "ab"; 7 tokens
    ((3, 4), 7)
    >>> [(int(p), int(t), int(c)) for p, t, c in zip(tokens.prefix, tokens.target, tokens.count)]
    [(0, 0, 3), (1, 1, 1), (1, 2, 2), (2, 2, 1)]
    """
    device = model.head.weight.device
    was_training = model.training
    model.eval()
    trie: dict[tuple[int, int], int] = {}  # (prefix, next symbol) -> the longer prefix; 0 is the empty one
    hidden, ids, targets = [], [], []
    seen = 0  # the prefixes (ids 0 .. seen-1) whose hidden vectors are kept
    try:
        max_tokens = max(1, MAX_ACTIVATIONS // model.config.hidden_size)
        for _, inputs in inputs_by_length(corpus, eos, device, max_tokens=max_tokens, rows=rows):
            with torch.inference_mode():
                h, _ = model.hidden(inputs)  # (B, n+1, H)
            group = _prefix_ids(inputs[:, 1:].tolist(), trie).ravel()  # (B·(n+1),)
            new, first = np.unique(group, return_index=True)
            rows_of_new = torch.from_numpy(first[new >= seen]).to(device)
            seen = len(trie) + 1
            hidden.append(h.reshape(-1, h.shape[-1])[rows_of_new].float())  # in the order of their ids
            ids.append(group)
            targets.append(inputs.roll(-1, dims=1).reshape(-1).cpu().numpy())  # x1..xn, then $
    finally:
        model.train(was_training)
    pairs, count = np.unique(np.concatenate(ids) * model.vocab_size + np.concatenate(targets), return_counts=True)
    return Tokens(torch.cat(hidden), torch.from_numpy(pairs // model.vocab_size).to(device),
                  torch.from_numpy(pairs % model.vocab_size).to(device),
                  torch.from_numpy(count).to(device, torch.float32), int(count.sum()))


def _prefix_ids(strings: list[list[int]], trie: dict[tuple[int, int], int]) -> np.ndarray:
    """The id of every prefix of ``strings`` (equal lengths n), (B, n+1); ``trie`` gives the ids
    and learns the new prefixes (numbered on from the largest)."""
    ids = np.zeros((len(strings), len(strings[0]) + 1 if strings else 1), dtype=np.int64)
    for row, string in zip(ids, strings, strict=True):
        node = 0
        for t, symbol in enumerate(string, start=1):
            node = trie.setdefault((node, symbol), len(trie) + 1)
            row[t] = node
    return ids


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
    tokens, strings = _training_data(model, train, eos, seed)
    val_tokens = head_data(model, val, eos)
    before = val_tokens.bits(model.head.weight, model.head.bias)
    best, kept, rounds = before, (model.head.weight.detach().clone(), model.head.bias.detach().clone()), 0
    for round_, (weight, bias) in enumerate(_rounds(model, tokens), start=1):
        bits = val_tokens.bits(weight, bias)
        if bits < best - (min_delta if rounds == 0 else 0.0):
            best, kept, rounds = bits, (weight.clone(), bias.clone()), round_
        elif round_ - rounds >= PATIENCE or not math.isfinite(bits):
            break
        if interrupted():
            break
    record = {"val_bits_before": before, "val_bits_after": best, "rounds": rounds,
              "tokens": tokens.tokens, "strings": strings}
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
    tokens, strings = _training_data(model, train, eos, seed)
    layers = _rounds(model, tokens)
    for _ in range(rounds - 1):
        next(layers)
    weight, bias = next(layers)
    return HeadFit(weight.clone(), bias.clone(), {"rounds": rounds, "tokens": tokens.tokens, "strings": strings})


def _training_data(model: RNNLanguageModel, train: Corpus, eos: int, seed: int) -> tuple[Tokens, int]:
    """:func:`head_data` of ``train`` or of a sample of its strings (see MAX_CELLS), and how many strings."""
    rows = sample_rows(train, max(1, MAX_CELLS // (model.config.hidden_size + model.vocab_size)), seed)
    return head_data(model, train, eos, rows), len(rows)


def _rounds(model: RNNLanguageModel, tokens: Tokens) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The output layer (weight, bias) after each round of L-BFGS from ``model``'s own, at most
    MAX_ROUNDS; each is changed by the next round."""
    weight = model.head.weight.detach().clone().requires_grad_()
    bias = model.head.bias.detach().clone().requires_grad_()
    optimizer = torch.optim.LBFGS([weight, bias], lr=1, max_iter=ITERATIONS, max_eval=20 * ITERATIONS,
                                  history_size=20, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimizer.zero_grad()
        value = tokens.loss(weight, bias)
        value.backward()
        return value

    for _ in range(MAX_ROUNDS):
        optimizer.step(loss)
        yield weight.detach(), bias.detach()
