"""Where a training run stands: :class:`Progress`, saved in every checkpoint and history.json."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

LN2 = math.log(2)


@dataclass
class Progress:
    """The progress of a training run, from its first step to its stop.

    Examples
    --------
    >>> p = Progress()
    >>> p.add_step(nats=1.4, tokens=2, seconds=0.5)
    >>> round(p.train_bits(), 3), p.step
    (2.02, 1)
    >>> Progress.from_dict(p.to_dict()) == p
    True
    """

    epoch: int = 0  # the epoch in progress (0-based)
    step: int = 0  # batches done in that epoch
    nats: float = 0.0  # training loss summed over the epoch's predicted tokens so far
    tokens: int = 0  # predicted tokens so far in the epoch (this rank)
    seconds: float = 0.0  # training time so far in the epoch
    best: float = math.inf  # best validation bits per symbol
    best_epoch: int = -1
    bad_epochs: int = 0  # epochs since the last improvement
    lr_scale: float = 1.0  # the plateau schedule's factor
    finished: bool = False
    stop_reason: str = ""

    def add_step(self, *, nats: float, tokens: int, seconds: float) -> None:
        """Count one optimiser step of ``tokens`` predicted tokens and mean loss ``nats``."""
        self.step += 1
        self.nats += nats * tokens
        self.tokens += tokens
        self.seconds += seconds

    def train_bits(self) -> float:
        """The training loss of the epoch so far, in bits per symbol (this rank)."""
        return self.nats / max(self.tokens, 1) / LN2

    def next_epoch(self) -> None:
        """Move to the start of the next epoch."""
        self.epoch += 1
        self.step, self.nats, self.tokens, self.seconds = 0, 0.0, 0, 0.0

    def stop(self, reason: str) -> None:
        """Mark the run finished, saying why."""
        self.finished, self.stop_reason = True, reason

    def resumed(self) -> str:
        """What a resumed run says: where it goes on (or that it had finished).

        Examples
        --------
        >>> Progress(epoch=2).resumed(), Progress(epoch=2, step=7).resumed()
        ('resuming at epoch 3', 'resuming at epoch 3, after its step 7')
        >>> Progress(epoch=4, finished=True, stop_reason="finished 4 epochs").resumed()
        'nothing to resume: the run had finished (finished 4 epochs)'
        """
        if self.finished:
            return f"nothing to resume: the run had finished ({self.stop_reason})"
        return f"resuming at epoch {self.epoch + 1}" + (f", after its step {self.step}" if self.step else "")

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a checkpoint or JSON."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Progress:
        """The progress saved by :meth:`to_dict`; ValueError on a field it does not have.

        Examples
        --------
        >>> Progress.from_dict({"epoch": 2}).epoch
        2
        >>> Progress.from_dict({"epochs": 2})
        Traceback (most recent call last):
        ...
        ValueError: unknown progress field epochs
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown progress field {', '.join(unknown)}")
        return cls(**data)
