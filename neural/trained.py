"""A trained language model: probabilities, sampling, completion, hidden states, save and load."""

from __future__ import annotations

import html
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from automimic_io import visible
from neural.checkpoint import (
    CheckpointError,
    load_checkpoint,
    one_line,
    resolve_model_path,
    save_checkpoint,
)
from neural.data import Corpus
from neural.diagnostics import gradient_flow, layer_states
from neural.model import RNNConfig, RNNLanguageModel, State, select_rows
from neural.vocab import Symbols, Vocabulary

MAX_ROWS = 2000  # strings per forward pass (and per sampling batch)
HEAD_RECORD = "refit_head"  # the history's record of the output layer's second fit (neural.head)
GRADIENT_WORK = 5000 * 128**2  # pairs (t, k) × state size²: a few s on one CPU core
# Floats of hidden vectors per layer and forward pass (tokens × hidden size): the gate
# activations of an LSTM (4×) then stay near 16 MiB; larger arrays cost page faults.
MAX_ACTIVATIONS = 2**20


class Samples(list):
    """Sampled strings: a list of tuples of symbols, with ``cut``, a (n,) bool array that is
    True where a string reached ``max_length`` before its end-of-string and was cut there.

    Examples
    --------
    >>> samples = Samples([("a",), ()], np.array([True, False]))
    >>> samples == [("a",), ()], samples.cut.tolist()
    (True, [True, False])
    """

    def __init__(self, strings: Sequence[tuple[str, ...]], cut: np.ndarray) -> None:
        super().__init__(strings)
        self.cut = cut


class TrainedModel:
    """A language model over ``alphabet`` with end-of-string, ready to score and sample.

    Every distribution has the columns ``alphabet + ("$",)``. Strings are sequences of symbols
    (tuples of str, or a plain str read character by character).

    Examples
    --------
    >>> lm = TrainedModel.untrained(("a", "b"), RNNConfig(hidden_size=4), seed=0)
    >>> lm.next_symbol_distribution([(), "ab"]).shape
    (2, 3)
    """

    def __init__(
        self,
        model: RNNLanguageModel,
        vocabulary: Vocabulary,
        *,
        history: dict[str, Any] | None = None,
        data_sha256: str = "",
        stream: bool = False,
    ) -> None:
        self.model = model.eval()
        self.vocabulary = vocabulary
        self.history = history or {}
        self.data_sha256 = data_sha256
        # A model of one text (trained on it as one stream) never learned where a string ends:
        # it samples to max_length, scores strings as pieces of the text (no end of string),
        # and completes a prefix by a fixed number of symbols.
        self.stream = stream

    @classmethod
    def untrained(cls, alphabet: Sequence[str], config: RNNConfig, *, seed: int) -> TrainedModel:
        """A model with fresh random weights (from ``seed``), e.g. for tests and baselines."""
        vocabulary = Vocabulary(tuple(alphabet))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = RNNLanguageModel(config, vocabulary.size)
        return cls(model, vocabulary)

    def __repr__(self) -> str:
        return f"<TrainedModel {self.summary()}>"

    def summary(self) -> str:
        """One line: the architecture, the alphabet, and how training went.

        >>> TrainedModel.untrained("ab", RNNConfig(cell="gru", hidden_size=4), seed=0).summary()
        'gru, 1 layer of 4 units, 123 weights, alphabet a b (+ $); untrained'
        """
        config = self.config
        cell = f"elman {config.nonlinearity}" if config.cell == "elman" else config.cell
        layers = f"{config.num_layers} layer{'s' if config.num_layers > 1 else ''}"
        weights = sum(p.numel() for p in self.model.parameters())
        return (f"{cell}, {layers} of {config.hidden_size} units, {weights:,} weights, alphabet "
                f"{_shown(self.alphabet)} (+ $); {self._training_summary()}")

    def _training_summary(self) -> str:
        val = self.history.get("val_bits") or []
        if not val:
            return "untrained"
        best = min(range(len(val)), key=val.__getitem__)
        refit = self.history.get("refit_train_bits")
        again = f", then refit on all strings for {len(refit)} epochs" if refit else ""
        return (f"trained {len(val)} epoch{'s' if len(val) > 1 else ''}, best epoch {best + 1}: "
                f"validation {val[best]:.4f} bits/symbol{fitted_note(self.history)}{again}")

    def _repr_html_(self) -> str:
        """The summary and the configuration as a table, for Jupyter."""
        rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{html.escape(str(value))}</td></tr>"
                       for name, value in asdict(self.config).items())
        return (f"<p><b>TrainedModel</b>: {html.escape(self.summary())}</p>"
                f"<table><tbody>{rows}</tbody></table>")

    @property
    def alphabet(self) -> tuple[str, ...]:
        """The symbols, in the order of the distribution columns (``$`` comes after them)."""
        return self.vocabulary.alphabet

    @property
    def config(self) -> RNNConfig:
        """The architecture."""
        return self.model.config

    @property
    def device(self) -> torch.device:
        return self.model.head.weight.device

    def to(self, device: str | torch.device) -> TrainedModel:
        """Move the model to ``device`` (in place) and return it."""
        self.model.to(device)
        return self

    # ----------------------------------------------------------------------------- probabilities

    def next_symbol_distribution(self, prefixes: Sequence[Symbols]) -> np.ndarray:
        """The distribution of the next symbol after each prefix, shape (N, |Σ|+1).

        Examples
        --------
        >>> lm = TrainedModel.untrained("ab", RNNConfig(hidden_size=4), seed=0)
        >>> bool(np.allclose(lm.next_symbol_distribution(["a", ""]).sum(axis=1), 1))
        True
        """
        corpus = Corpus.encode(self.vocabulary, prefixes)
        result = np.empty((len(corpus), self.vocabulary.size))
        for group, hidden in self._hidden_by_length(corpus):
            result[group] = _softmax64(self.model.head, hidden[:, -1])
        return result

    def prefix_distributions(self, strings: Sequence[Symbols]) -> list[np.ndarray]:
        """For each string, the next-symbol distributions after all its prefixes: (n+1, |Σ|+1).

        Row ``t`` is the distribution after the first ``t`` symbols (row 0: the empty prefix,
        row n: the full string, whose ``$`` column is the stop probability). One forward pass
        per batch of equal-length strings.

        Examples
        --------
        >>> lm = TrainedModel.untrained("ab", RNNConfig(hidden_size=4), seed=0)
        >>> [d.shape for d in lm.prefix_distributions(["ab", ""])]
        [(3, 3), (1, 3)]
        """
        corpus = Corpus.encode(self.vocabulary, strings)
        result: list[np.ndarray] = [np.empty(0)] * len(corpus)
        for group, hidden in self._hidden_by_length(corpus):
            for i, rows in zip(group.tolist(), _softmax64(self.model.head, hidden), strict=True):
                result[i] = rows
        return result

    def log_probability(self, strings: Sequence[Symbols]) -> np.ndarray:
        """Natural log probability of each whole string, end-of-string included, shape (N,).

        Examples
        --------
        >>> lm = TrainedModel.untrained("ab", RNNConfig(hidden_size=4), seed=0)
        >>> bool(lm.log_probability(["ab"])[0] < 0)
        True
        """
        corpus = Corpus.encode(self.vocabulary, strings)
        result = np.empty(len(corpus))
        for group, hidden in self._hidden_by_length(corpus):
            B, T = hidden.shape[:2]
            targets = np.full((B, T), self.vocabulary.eos)
            targets[:, :-1] = corpus.rows(group, T - 1)  # x1..xn, then $
            with torch.inference_mode():
                logits = self.model.head(hidden)  # (B, T, V)
                logp = torch.log_softmax(logits, dim=-1, dtype=torch.float64)
                logp = logp.gather(-1, torch.from_numpy(targets).to(self.device).unsqueeze(-1))  # (B, T, 1)
            if self.stream:  # a piece of the text: no end of string after it
                logp = logp[:, :-1]
            result[group] = logp.sum(dim=(1, 2)).cpu().numpy()
        return result

    def _hidden_by_length(self, corpus: Corpus) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
        """Top-layer hidden vectors (B, n+1, H) after the inputs ``$ x1..xn`` of equal-length groups."""
        for group, inputs in self._inputs_by_length(corpus):
            with torch.inference_mode():
                hidden, _ = self.model.hidden(inputs)
            yield group, hidden

    def _inputs_by_length(
        self, corpus: Corpus, max_tokens: int | None = None
    ) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
        """Groups of equal-length strings and their inputs ``$ x1..xn`` (B, n+1), on the device."""
        if max_tokens is None:  # activations of about MAX_ACTIVATIONS floats a layer
            max_tokens = max(1, MAX_ACTIVATIONS // self.config.hidden_size)
        yield from inputs_by_length(corpus, self.vocabulary.eos, self.device, max_tokens=max_tokens)

    # --------------------------------------------------------------------------------- sampling

    def sample(
        self,
        n: int,
        *,
        alpha: float = 1.0,
        max_length: int = 1000,
        seed: int | torch.Generator | None = None,
    ) -> Samples:
        """Draw ``n`` strings; each step picks σ with probability ∝ P(σ | prefix)^alpha.

        ``alpha`` is the inverse temperature: 1 samples the model itself, 0 is uniform over the
        symbols of positive probability (end-of-string included), ``math.inf`` is greedy.
        A string still running after ``max_length`` symbols is cut there and flagged in the
        result's ``cut`` array (as ``automata.sample`` does).

        Examples
        --------
        >>> lm = TrainedModel.untrained("ab", RNNConfig(hidden_size=4), seed=0)
        >>> samples = lm.sample(3, seed=1, max_length=5)
        >>> len(samples), samples.cut.shape
        (3, (3,))
        """
        return sample_strings(self, n, alpha=alpha, max_length=max_length, seed=seed)

    def complete(
        self, prefix: Symbols, k: int = 5, *, beam_width: int | None = None, max_length: int = 100
    ) -> list[tuple[tuple[str, ...], float]]:
        """The ``k`` most probable completions of ``prefix`` to the end of the string (beam search).

        Each completion comes with P(completion, then end-of-string | prefix), best first.

        Examples
        --------
        >>> lm = TrainedModel.untrained("ab", RNNConfig(hidden_size=4), seed=0)
        >>> [len(c) for c, p in lm.complete("a", k=2, max_length=3)][:1]
        [0]
        """
        if self.stream:
            return beam_continue(self, prefix, k, length=max_length)
        return beam_complete(self, prefix, k, beam_width=beam_width, max_length=max_length)

    # --------------------------------------------------------------------------- step by step

    @torch.inference_mode()
    def step(self, tokens: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        """Feed ``tokens`` (B, T) after ``state`` (None: the start); the log-probabilities (B, V)
        of the next symbol (float64, on the CPU) and the state after the last token.

        Examples
        --------
        >>> lm = TrainedModel.untrained("ab", RNNConfig(hidden_size=4), seed=0)
        >>> logp, state = lm.step(torch.tensor([[2], [2]]), None)
        >>> tuple(logp.shape), bool(torch.allclose(logp.exp().sum(1), torch.ones(2, dtype=torch.float64)))
        ((2, 3), True)
        """
        logits, _, state = self.model(tokens.to(self.device), state=state, return_state=True)
        logp = torch.log_softmax(logits[:, -1].double().cpu(), -1)
        if self.stream:  # a model of one text: the next symbol is never the end of string
            eos = self.vocabulary.eos
            logp = logp - torch.logsumexp(logp[:, :eos], -1, keepdim=True)
            logp[:, eos] = -math.inf
        return logp, state

    def select_state(self, state: State, rows: torch.Tensor) -> State:
        """The rows ``rows`` of a state returned by :meth:`step` (beam search, finished samples)."""
        return select_rows(state, rows.to(self.device))

    # ------------------------------------------------------------------------------ diagnostics

    def hidden_states(self, strings: Sequence[Symbols]) -> list[dict[str, np.ndarray]]:
        """Per-step hidden vectors of every layer for each string.

        For a string of length n, ``"h"`` has shape (layers, n+1, H): step 0 is the state after
        the start token (the empty prefix), step t the state after the first t symbols. LSTMs
        also give the cell state ``"c"`` with the same shape.

        Examples
        --------
        >>> lm = TrainedModel.untrained("ab", RNNConfig(cell="lstm", hidden_size=4), seed=0)
        >>> {k: v.shape for k, v in lm.hidden_states(["ab"])[0].items()}
        {'h': (1, 3, 4), 'c': (1, 3, 4)}
        """
        corpus = Corpus.encode(self.vocabulary, strings)
        names = ("h", "c") if self.config.cell == "lstm" else ("h",)
        result: list[dict[str, np.ndarray]] = [{} for _ in range(len(corpus))]
        for group, inputs in self._inputs_by_length(corpus):
            with torch.inference_mode():
                per_layer = layer_states(self.model, inputs)  # layers × ((B, T, H), ...)
            for j, name in enumerate(names):
                stacked = torch.stack([layer[j] for layer in per_layer], dim=1)  # (B, L, T, H)
                for i, array in zip(group, stacked.cpu().numpy(), strict=True):
                    result[i][name] = array
        return result

    def gradient_flow(self, strings: Sequence[Symbols], *, max_distance: int | None = None,
                      max_pairs: int | None = None,
                      progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Mean spectral norm of ∂s_t/∂s_k as a function of the distance d = t − k.

        ``s_t`` is the whole recurrent state after t symbols (every layer; ``(h, c)`` for
        LSTMs). Entry d averages over the pairs at distance d (entry 0 is 1, NaN where no
        string is long enough): every pair when the strings hold at most ``max_pairs`` pairs
        (t, k) (default: ``GRADIENT_WORK`` / state size²), else the chains of pairs from every
        m-th start point k, and from the start of the first strings only when even those are
        too many (:func:`gradient_plan`). Vanishing gradients show as a fast decay.
        ``progress(done, total)`` is called after each group of strings measured.

        Examples
        --------
        >>> lm = TrainedModel.untrained("ab", RNNConfig(cell="elman", hidden_size=4), seed=0)
        >>> lm.gradient_flow(["abab"]).shape
        (5,)
        """
        per_layer = 2 if self.config.cell == "lstm" else 1
        state_size = per_layer * self.config.num_layers * self.config.hidden_size
        corpus = Corpus.encode(self.vocabulary, strings)
        longest = int(corpus.lengths.max(initial=0))
        distance = longest if max_distance is None else max_distance
        kept, stride = gradient_plan(corpus.lengths, distance,
                                     max_pairs or max(1, GRADIENT_WORK // state_size**2))
        sums, counts = np.zeros(distance + 1), np.zeros(distance + 1)
        max_tokens = max(1, 2**26 // state_size**2)  # one-step Jacobians (tokens, S, S) ≤ 256 MiB
        done = 0
        for chunk in padded_chunks(corpus.lengths[:kept], max_tokens=max_tokens):
            inputs = corpus.pad(chunk, eos=self.vocabulary.eos, pad=self.vocabulary.eos).inputs
            chunk_sums, chunk_counts = gradient_flow(self.model, inputs.to(self.device), distance,
                                                     lengths=corpus.lengths[chunk], stride=stride)
            sums += chunk_sums
            counts += chunk_counts
            done += len(chunk)
            if progress is not None:
                progress(done, kept)
        with np.errstate(invalid="ignore"):
            return sums / counts

    # -------------------------------------------------------------------------------- save/load

    def save(self, path: str | os.PathLike) -> None:
        """Save weights, configuration, vocabulary and history atomically (a ``.pt`` file).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> lm = TrainedModel.untrained("ab", RNNConfig(hidden_size=4), seed=0)
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.pt"
        >>> lm.save(path); TrainedModel.load(path).alphabet
        ('a', 'b')
        """
        save_checkpoint(Path(path), self.payload())

    def payload(self) -> dict[str, Any]:
        """The checkpoint contents of this model (plain data and tensors on the CPU)."""
        state = {k: v.detach().cpu() for k, v in self.model.state_dict().items()}
        return {
            "kind": "model",
            "alphabet": list(self.alphabet),
            "model_config": asdict(self.config),
            "state_dict": state,
            "history": self.history,
            "data_sha256": self.data_sha256,
            "stream": self.stream,
        }

    @classmethod
    def load(cls, path: str | os.PathLike, *, device: str = "cpu") -> TrainedModel:
        """Load a model file or the best model of a run folder; bad files raise CheckpointError."""
        path = resolve_model_path(path)
        payload = load_checkpoint(path, kind="model")
        return cls.from_payload(payload, path=path).to(device)

    @classmethod
    def from_payload(cls, payload: dict[str, Any], *, path: Path | str = "") -> TrainedModel:
        """Rebuild a model from checkpoint contents (see :meth:`payload`)."""
        try:
            vocabulary = Vocabulary(tuple(payload["alphabet"]))
            model = RNNLanguageModel(RNNConfig(**payload["model_config"]), vocabulary.size)
            problem = _weights_problem(model, payload["state_dict"])
            if problem:
                raise CheckpointError(
                    f"{path}: corrupt checkpoint (its weights do not fit its alphabet of "
                    f"{len(vocabulary.alphabet)} symbols and its model configuration: {problem})"
                )
            model.load_state_dict(payload["state_dict"])
        except CheckpointError:
            raise
        except (TypeError, ValueError, RuntimeError, KeyError, AttributeError) as err:
            raise CheckpointError(f"{path}: corrupt checkpoint ({one_line(err)})") from None
        return cls(model, vocabulary, history=payload["history"], data_sha256=payload["data_sha256"],
                   stream=bool(payload.get("stream", False)))


def _weights_problem(model: nn.Module, state_dict: dict[str, Any]) -> str:
    """What keeps ``state_dict`` from fitting ``model`` (in one line), or "" when it fits."""
    expected = model.state_dict()
    missing = [name for name in expected if name not in state_dict]
    if missing:
        return f"no weights {missing[0]}" + (f" and {len(missing) - 1} more" if missing[1:] else "")
    extra = [name for name in state_dict if name not in expected]
    if extra:
        return f"unexpected weights {extra[0]}"
    for name, tensor in expected.items():
        shape = tuple(getattr(state_dict[name], "shape", ()))
        if shape != tuple(tensor.shape):
            return f"{name} has shape {shape}, expected {tuple(tensor.shape)}"
    return ""


def fitted_note(history: dict[str, Any]) -> str:
    """What a model's history says of its output layer's second fit, for a summary line.

    Examples
    --------
    >>> fitted_note({HEAD_RECORD: {"rounds": 3, "val_bits_before": 1.5, "val_bits_after": 1.25}})
    ', 1.2500 with its output layer fitted again'
    >>> fitted_note({HEAD_RECORD: {"rounds": 0, "val_bits_before": 1.5, "val_bits_after": 1.5}}), fitted_note({})
    ('', '')
    """
    record = history.get(HEAD_RECORD) or {}
    return f", {record['val_bits_after']:.4f} with its output layer fitted again" if record.get("rounds") else ""


def sample_strings(model, n: int, *, alpha: float, max_length: int,
                   seed: int | torch.Generator | None) -> Samples:
    """``n`` strings drawn step by step from ``model`` (anything with ``vocabulary``, ``step`` and
    ``select_state``, as :class:`TrainedModel`), in batches of at most MAX_ROWS."""
    if alpha < 0 or math.isnan(alpha):
        raise ValueError(f"alpha must be ≥ 0, got {alpha}")
    generator = _generator(seed)
    strings: list[tuple[str, ...]] = []
    cut: list[np.ndarray] = []
    while len(strings) < n:
        rows = min(MAX_ROWS, n - len(strings))
        batch_strings, batch_cut = _sample_rows(model, rows, alpha, max_length, generator)
        strings.extend(batch_strings)
        cut.append(batch_cut)
    return Samples(strings, np.concatenate(cut) if cut else np.zeros(0, dtype=bool))


def _sample_rows(
    model, rows: int, alpha: float, max_length: int, generator: torch.Generator
) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """``rows`` strings, and which of them were cut at ``max_length``."""
    eos = model.vocabulary.eos
    tokens = torch.full((rows, 1), eos, dtype=torch.long)
    state = None
    active = torch.arange(rows)  # rows still running, in the order of the state's batch
    symbols: list[list[int]] = [[] for _ in range(rows)]
    cut = np.zeros(rows, dtype=bool)
    for length in range(1, max_length + 2):  # the running rows' length after this step
        logp, state = model.step(tokens, state)
        choice = _choose(logp, alpha, generator)  # (B,)
        running = choice != eos
        for row, symbol in zip(active[running].tolist(), choice[running].tolist(), strict=True):
            symbols[row].append(symbol)
        if not running.any():
            break
        if length >= max_length:
            cut[active[running].numpy()] = True
            break
        keep = running.nonzero().squeeze(1)
        active, tokens = active[keep], choice[keep].unsqueeze(1)
        state = model.select_state(state, keep)
    return [model.vocabulary.decode(s[:max_length]) for s in symbols], cut


def beam_complete(
    model, prefix: Symbols, k: int, *, beam_width: int | None, max_length: int
) -> list[tuple[tuple[str, ...], float]]:
    """The ``k`` most probable completions of ``prefix`` under ``model`` (as :func:`sample_strings`),
    with P(completion, then end-of-string | prefix), best first; a beam of ``max(k, beam_width)``."""
    width = max(k, beam_width or k)
    eos = model.vocabulary.eos
    logp, state = _after_prefix(model, prefix)
    beams: list[tuple[int, ...]] = [()]
    scores = torch.zeros(1, dtype=torch.float64)
    finished: list[tuple[float, tuple[int, ...]]] = []
    for _ in range(max_length + 1):
        total = scores[:, None] + logp
        finished.extend((float(s), beam) for s, beam in zip(total[:, eos], beams, strict=True))
        finished = sorted(finished, reverse=True)[:k]
        extend = total[:, :eos].reshape(-1)
        best = extend.topk(min(width, extend.numel()))
        if len(finished) == k and best.values[0] <= finished[-1][0]:
            break
        rows, symbols = best.indices // eos, best.indices % eos
        beams = [beams[r] + (s,) for r, s in zip(rows.tolist(), symbols.tolist(), strict=True)]
        scores = best.values
        state = model.select_state(state, rows)
        logp, state = model.step(symbols.unsqueeze(1), state)
    return [(model.vocabulary.decode(beam), math.exp(score)) for score, beam in finished]


def beam_continue(model, prefix: Symbols, k: int, *, length: int) -> list[tuple[tuple[str, ...], float]]:
    """The ``k`` most probable continuations of ``prefix`` by ``length`` symbols (a beam of
    ``k``), with P(continuation | prefix), best first: completions for a model of one text.

    Examples
    --------
    >>> lm = TrainedModel.untrained("ab", RNNConfig(hidden_size=4), seed=0)
    >>> [len(c) for c, p in beam_continue(lm, "a", 3, length=4)]
    [4, 4, 4]
    """
    eos = model.vocabulary.eos
    logp, state = _after_prefix(model, prefix)
    beams: list[tuple[int, ...]] = [()]
    scores = torch.zeros(1, dtype=torch.float64)
    for step in range(length):
        best = (scores[:, None] + logp[:, :eos]).reshape(-1).topk(min(k, len(beams) * eos))
        rows, symbols = best.indices // eos, best.indices % eos
        beams = [beams[r] + (s,) for r, s in zip(rows.tolist(), symbols.tolist(), strict=True)]
        scores = best.values
        if step + 1 < length:
            logp, state = model.step(symbols.unsqueeze(1), model.select_state(state, rows))
    return [(model.vocabulary.decode(beam), math.exp(score))
            for score, beam in zip(scores.tolist(), beams, strict=True)]


def _after_prefix(model, prefix: Symbols) -> tuple[torch.Tensor, State]:
    """The next-symbol log-probabilities (1, V) after ``$ prefix``, and the state there."""
    inputs = torch.from_numpy(np.append(model.vocabulary.eos, model.vocabulary.encode(prefix)))
    return model.step(inputs.unsqueeze(0), None)


def inputs_by_length(corpus: Corpus, eos: int, device: torch.device, *, max_tokens: int,
                     rows: np.ndarray | None = None) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
    """Groups of equal-length strings among ``rows`` (default all) of ``corpus`` (see
    :func:`length_groups`) and their inputs ``$ x1..xn`` (B, n+1) on ``device``.

    Examples
    --------
    >>> corpus = Corpus(np.array([0, 1, 1]), np.array([2, 1]))
    >>> [(g.tolist(), x.tolist()) for g, x in inputs_by_length(corpus, 2, torch.device("cpu"), max_tokens=10)]
    [([1], [[2, 1]]), ([0], [[2, 0, 1]])]
    """
    rows = np.arange(len(corpus)) if rows is None else rows
    for group in length_groups(corpus.lengths[rows], max_tokens=max_tokens):
        group = rows[group]
        length = int(corpus.lengths[group[0]])
        inputs = np.full((len(group), length + 1), eos)
        inputs[:, 1:] = corpus.rows(group, length)
        yield group, torch.from_numpy(inputs).to(device)


def length_groups(lengths: np.ndarray, *, max_tokens: int, max_rows: int = MAX_ROWS) -> Iterator[np.ndarray]:
    """Indices of equal-length strings, in near-equal chunks of ≤ ``max_rows`` rows, ≤ ~``max_tokens``.

    Examples
    --------
    >>> [g.tolist() for g in length_groups(np.array([2, 1, 2, 2]), max_tokens=6)]
    [[1], [0, 2], [3]]
    """
    if not len(lengths):
        return
    order = np.argsort(lengths, kind="stable")
    boundaries = np.flatnonzero(np.diff(lengths[order])) + 1
    for group in np.split(order, boundaries):
        rows = max(1, min(max_rows, max_tokens // (int(lengths[group[0]]) + 1)))
        yield from np.array_split(group, -(-len(group) // rows))


def _shown(alphabet: Sequence[str], limit: int = 12) -> str:
    """An alphabet for a summary line: white space visible, the first ``limit`` symbols.

    >>> _shown(("a", " ", "\\n")), _shown(tuple("abcdef"), limit=3)
    ('a ␣ ↵', 'a b c … (6 symbols)')
    """
    shown = " ".join(visible(s) for s in alphabet[:limit])
    return shown if len(alphabet) <= limit else f"{shown} … ({len(alphabet)} symbols)"


def padded_chunks(lengths: np.ndarray, *, max_tokens: int) -> Iterator[np.ndarray]:
    """Indices of strings by length, in chunks of at most ``max_tokens`` padded inputs (rows ×
    (longest + 1)); a longer string alone.

    >>> [c.tolist() for c in padded_chunks(np.array([3, 1, 2, 9]), max_tokens=8)]
    [[1, 2], [0], [3]]
    """
    chunk: list[int] = []
    for i in np.argsort(lengths, kind="stable"):
        if chunk and (len(chunk) + 1) * (int(lengths[i]) + 1) > max_tokens:
            yield np.array(chunk)
            chunk = []
        chunk.append(int(i))
    if chunk:
        yield np.array(chunk)


def gradient_plan(lengths: np.ndarray, max_distance: int, max_pairs: int) -> tuple[int, int]:
    """Which pairs (t, k), t − k ≤ ``max_distance``, the gradient flow measures in strings of
    ``lengths``, staying near ``max_pairs``: the first ``kept`` strings (all, unless even the
    chains from their starts are too many), and the chains from every ``stride``-th start
    point of each (1: every pair). Returns (kept, stride).

    >>> gradient_plan(np.array([3, 4]), 10, 100), gradient_plan(np.array([200] * 50), 200, 20000)
    ((2, 1), (50, 51))
    >>> gradient_plan(np.array([200] * 50), 200, 1000)
    (5, 101)
    """
    n = lengths.astype(np.int64)
    near = np.minimum(n, max_distance)  # the chain from a string's start
    kept = max(1, int(np.searchsorted(np.cumsum(near), max_pairs, side="right")))
    n, near = n[:kept], near[:kept]
    pairs = int((near * (near + 1) // 2 + (n - near) * max_distance).sum())  # stride 1
    return kept, max(1, -(-pairs // max_pairs))


def _softmax64(head: nn.Linear, hidden: torch.Tensor) -> np.ndarray:
    """The distributions softmax(W_S h + b) of hidden vectors (B, [T,] H), float64 (B, [T,] V).

    The logits are made time- and column-major, (V, T·B): over that first axis, torch's softmax
    is vectorised across all rows at once, where over a short last axis it runs row by row
    (several times slower); and the recurrent layers' (B, T, H) output is a view of a (T, B, H)
    tensor, so no copy is made.
    """
    with torch.inference_mode():
        time_major = hidden.transpose(0, 1) if hidden.ndim == 3 else hidden  # ([T,] B, H)
        flat = time_major.reshape(-1, hidden.shape[-1])  # (T·B, H)
        logits = torch.addmm(head.bias[:, None], head.weight, flat.t())  # (V, T·B)
        probabilities = torch.softmax(logits, dim=0, dtype=torch.float64)
        probabilities = probabilities.reshape(-1, *time_major.shape[:-1])  # (V, [T,] B)
        return np.ascontiguousarray(probabilities.cpu().numpy().T)  # (B, [T,] V)


def _choose(logp: torch.Tensor, alpha: float, generator: torch.Generator) -> torch.Tensor:
    """Sample one index per row with probability ∝ exp(logp)^alpha (``logp``: (B, V) log-probabilities)."""
    if math.isinf(alpha):
        return logp.argmax(dim=-1)
    if alpha == 0:
        weights = torch.isfinite(logp).double()
    else:
        weights = torch.softmax(alpha * logp, dim=-1)
    return torch.multinomial(weights, 1, generator=generator).squeeze(1)


def _generator(seed: int | torch.Generator | None) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        return seed
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(int(seed))
    return generator
