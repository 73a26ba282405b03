"""Ensembles: the average of the next-symbol distributions of several trained models.

An :class:`Ensemble` is itself a language model with the methods of
:class:`~neural.trained.TrainedModel` that do not look inside one network (distributions, string
probabilities, sampling, completion, save and load).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from automimic_io import write_atomic
from neural.checkpoint import HISTORY_FILE, MODEL_FILE, CheckpointError, save_checkpoint
from neural.model import RNNConfig
from neural.trained import HEAD_RECORD, Samples, TrainedModel, beam_complete, beam_continue, sample_strings
from neural.vocab import Symbols, Vocabulary

# Recurrent state of an ensemble: one state per member.
EnsembleState = list


class Ensemble:
    """K models over one alphabet; P(σ | prefix) is the mean of the members' distributions.

    Examples
    --------
    >>> members = [TrainedModel.untrained("ab", RNNConfig(hidden_size=4), seed=s) for s in (0, 1)]
    >>> ensemble = Ensemble(members)
    >>> p = ensemble.next_symbol_distribution(["a"])
    >>> q = (members[0].next_symbol_distribution(["a"]) + members[1].next_symbol_distribution(["a"])) / 2
    >>> bool(np.allclose(p, q))
    True
    """

    def __init__(self, members: Sequence[TrainedModel]) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one model")
        alphabets = {m.alphabet for m in members}
        if len(alphabets) > 1:
            raise ValueError(f"the members of an ensemble must share one alphabet, got {sorted(alphabets)}")
        if len({m.stream for m in members}) > 1:
            raise ValueError("the members of an ensemble must all be models of strings, or all of one text")
        self.members = list(members)

    def __repr__(self) -> str:
        return f"Ensemble({len(self.members)} × {self.members[0].config.cell}, alphabet {' '.join(self.alphabet)})"

    @property
    def alphabet(self) -> tuple[str, ...]:
        """The symbols, in the order of the distribution columns (``$`` comes after them)."""
        return self.members[0].alphabet

    @property
    def vocabulary(self) -> Vocabulary:
        return self.members[0].vocabulary

    @property
    def config(self) -> RNNConfig:
        """The architecture of the first member (all members share it when trained together)."""
        return self.members[0].config

    @property
    def history(self) -> dict[str, Any]:
        """The training history of the first member, and the validation losses of the members'
        kept epochs."""
        best = [validation_bits(m, None) if m.history.get("val_bits") else math.nan for m in self.members]
        return {**self.members[0].history, "member_best_val_bits": best}

    @property
    def stream(self) -> bool:
        """True for models of one text (truncated BPTT), which never end a string."""
        return self.members[0].stream

    @property
    def data_sha256(self) -> str:
        return self.members[0].data_sha256

    @property
    def device(self) -> torch.device:
        return self.members[0].device

    def to(self, device: str | torch.device) -> Ensemble:
        """Move every member to ``device`` (in place) and return the ensemble."""
        for member in self.members:
            member.to(device)
        return self

    # ----------------------------------------------------------------------------- probabilities

    def next_symbol_distribution(self, prefixes: Sequence[Symbols]) -> np.ndarray:
        """The mean of the members' next-symbol distributions, shape (N, |Σ|+1)."""
        return np.mean([m.next_symbol_distribution(prefixes) for m in self.members], axis=0)

    def prefix_distributions(self, strings: Sequence[Symbols]) -> list[np.ndarray]:
        """For each string, the mean of the members' (n+1, |Σ|+1) prefix distributions."""
        per_member = [m.prefix_distributions(strings) for m in self.members]
        return [np.mean(rows, axis=0) for rows in zip(*per_member, strict=True)]

    def log_probability(self, strings: Sequence[Symbols]) -> np.ndarray:
        """Natural log probability of each whole string under the averaged distributions, shape (N,).

        Examples
        --------
        >>> member = TrainedModel.untrained("ab", RNNConfig(hidden_size=4), seed=0)
        >>> bool(np.allclose(Ensemble([member, member]).log_probability(["ab"]), member.log_probability(["ab"])))
        True
        """
        strings = list(strings)
        result = np.empty(len(strings))
        for i, rows in enumerate(self.prefix_distributions(strings)):
            targets = self.vocabulary.encode(strings[i])
            if not self.stream:  # a model of one text gives the probability the text begins so
                targets = np.append(targets, self.vocabulary.eos)
            result[i] = np.log(rows[np.arange(len(targets)), targets]).sum()
        return result

    # --------------------------------------------------------------------------- step by step

    def step(self, tokens: torch.Tensor, state: EnsembleState | None) -> tuple[torch.Tensor, EnsembleState]:
        """As :meth:`TrainedModel.step`, with the log of the mean of the members' probabilities."""
        states = state or [None] * len(self.members)
        steps = [m.step(tokens, s) for m, s in zip(self.members, states, strict=True)]
        logp = torch.logsumexp(torch.stack([logp for logp, _ in steps]), dim=0) - math.log(len(self.members))
        return logp, [s for _, s in steps]

    def select_state(self, state: EnsembleState, rows: torch.Tensor) -> EnsembleState:
        return [m.select_state(s, rows) for m, s in zip(self.members, state, strict=True)]

    def sample(
        self, n: int, *, alpha: float = 1.0, max_length: int = 1000, seed: int | torch.Generator | None = None
    ) -> Samples:
        """Draw ``n`` strings from the ensemble (see :meth:`TrainedModel.sample`)."""
        return sample_strings(self, n, alpha=alpha, max_length=max_length, seed=seed)

    def complete(
        self, prefix: Symbols, k: int = 5, *, beam_width: int | None = None, max_length: int = 100
    ) -> list[tuple[tuple[str, ...], float]]:
        """The ``k`` most probable completions of ``prefix`` (see :meth:`TrainedModel.complete`)."""
        if self.stream:
            return beam_continue(self, prefix, k, length=max_length)
        return beam_complete(self, prefix, k, beam_width=beam_width, max_length=max_length)

    # -------------------------------------------------------------------------------- save/load

    def payload(self) -> dict[str, Any]:
        """The checkpoint contents: the members' model payloads."""
        return {"kind": "ensemble", "alphabet": list(self.alphabet), "members": [m.payload() for m in self.members]}

    def save(self, path: str | os.PathLike) -> None:
        """Save every member in one ``.pt`` file, atomically; :func:`neural.load` reads it back."""
        save_checkpoint(Path(path), self.payload())

    @classmethod
    def from_payload(cls, payload: dict[str, Any], *, path: Path | str = "") -> Ensemble:
        """Rebuild an ensemble from checkpoint contents (see :meth:`payload`)."""
        members = payload["members"]
        if not isinstance(members, list) or not members:
            raise CheckpointError(f"{path}: corrupt checkpoint (an ensemble without members)")
        return cls([TrainedModel.from_payload(member, path=path) for member in members])


def save_chosen(model: TrainedModel | Ensemble, run_dir: Path) -> None:
    """Write ``model.pt`` and ``history.json`` of a model trained elsewhere (an ensemble's
    members, a chosen trial) into ``run_dir``: the model loaded from the folder."""
    save_checkpoint(run_dir / MODEL_FILE, model.payload())
    write_atomic(run_dir / HISTORY_FILE, json.dumps(model.history, indent=1))




def average(models: Sequence[TrainedModel | Ensemble]) -> Ensemble:
    """The ensemble of every network of ``models`` (an ensemble's members one by one, so
    models of K members each weigh alike).

    Examples
    --------
    >>> a, b, c = (TrainedModel.untrained("ab", RNNConfig(hidden_size=4), seed=s) for s in range(3))
    >>> [m is n for m, n in zip(average([a, Ensemble([b, c])]).members, (a, b, c))]
    [True, True, True]
    """
    return Ensemble([network for model in models
                     for network in (model.members if isinstance(model, Ensemble) else [model])])


def one_network(model: TrainedModel | Ensemble) -> TrainedModel:
    """The network to look inside: ``model`` itself, or the first member of an ensemble.

    Examples
    --------
    >>> member = TrainedModel.untrained("ab", RNNConfig(hidden_size=4), seed=0)
    >>> one_network(Ensemble([member, member])) is member
    True
    """
    return model.members[0] if isinstance(model, Ensemble) else model


def validation_bits(model: TrainedModel | Ensemble, val_strings: Sequence[Symbols] | None) -> float:
    """A trained model's validation loss in bits per symbol (the end of each string counted; ∞
    without validation strings): a network's kept epoch's, from its history (not the lowest of
    all epochs: an epoch less than ``min_delta`` better does not replace the kept model); an
    ensemble's own, computed on ``val_strings``, since no member's history holds the loss of
    their average.

    Examples
    --------
    >>> members = [TrainedModel.untrained("ab", RNNConfig(hidden_size=4), seed=s) for s in (0, 1)]
    >>> bits = validation_bits(Ensemble(members), ["ab", "b"])
    >>> bool(np.isclose(bits, -Ensemble(members).log_probability(["ab", "b"]).sum() / np.log(2) / 5))
    True
    """
    if isinstance(model, Ensemble):
        if not val_strings:
            return math.inf
        symbols = sum(len(string) + 1 for string in val_strings)
        return float(-model.log_probability(val_strings).sum() / math.log(2) / symbols)
    head = model.history.get(HEAD_RECORD)
    if head and head.get("rounds"):  # the output layer fitted again after training
        return float(head["val_bits_after"])
    val_bits, kept = model.history.get("val_bits") or [], model.history.get("best_epoch")
    if kept is not None and 0 <= kept < len(val_bits):
        return float(val_bits[kept])
    return min(val_bits or [math.inf])


def validation_margin(model: TrainedModel | Ensemble, other: TrainedModel | Ensemble,
                      val_strings: Sequence[Symbols] | None) -> tuple[float, float] | None:
    """How far ``model``'s validation loss lies below ``other``'s, in bits per symbol, and the
    standard error of that difference: each string scored by both (a paired difference), its
    spread over the strings. None with fewer than two strings, where no spread is measured.

    Examples
    --------
    >>> members = [TrainedModel.untrained("ab", RNNConfig(hidden_size=4), seed=s) for s in (0, 1)]
    >>> lower, error = validation_margin(members[0], members[1], ["ab", "b", "aab"])
    >>> both = [validation_bits(Ensemble([m]), ["ab", "b", "aab"]) for m in members]
    >>> bool(np.isclose(lower, both[1] - both[0])), error > 0
    (True, True)
    >>> validation_margin(members[0], members[1], ["ab"]) is None
    True
    """
    if val_strings is None or len(val_strings) < 2:
        return None
    symbols = sum(len(string) + 1 for string in val_strings)  # as validation_bits counts them
    lost = [-np.asarray(m.log_probability(val_strings)) / math.log(2) for m in (other, model)]
    difference = lost[0] - lost[1]  # (n,) bits each string saves under ``model``
    return (float(difference.sum() / symbols),
            float(difference.std(ddof=1) * math.sqrt(len(difference)) / symbols))
