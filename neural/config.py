"""How to train: :class:`TrainConfig` (the architecture is :class:`~neural.model.RNNConfig`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

SCHEDULES = ("constant", "cosine", "plateau")
PRECISIONS = ("fp32", "bf16")


# What a training config saved before a field existed meant by its absence: the behaviour then.
LEGACY_TRAINING = {"refit_head": False, "tune_average": False}


@dataclass(frozen=True)
class TrainConfig:
    """How to train (the architecture is :class:`~neural.model.RNNConfig`).

    Examples
    --------
    >>> TrainConfig(epochs=5, bptt=100).bptt
    100
    """

    lr: float = 1e-2  # Adam learning rate
    schedule: str = "cosine"  # "constant", "cosine" (per step, down to lr * min_lr_ratio),
    # or "plateau" (halve the rate after every epoch without a better validation loss)
    min_lr_ratio: float = 0.1  # final learning rate of the cosine schedule, relative to lr
    weight_decay: float = 0.0  # Adam's L2 penalty
    batch_size: int = 256  # strings per batch (with bptt: parallel streams per batch)
    epochs: int = 40  # maximum number of passes over the training data
    max_tokens: int | None = 24_000_000  # fewer epochs when they would train on more tokens than this
    clip: float | None = 5.0  # maximum global gradient norm; None: no clipping (still recorded)
    bptt: int | None = None  # None: whole strings, full BPTT; K: the corpus as one stream
    # cut into chunks of K steps, the hidden state carried across chunks
    patience: int | None = None  # stop after this many epochs without a better validation loss;
    # None: never (without validation strings every epoch's model is kept, and it never stops)
    min_delta: float = 1e-4  # bits per symbol: a smaller improvement does not count
    eval_batch_size: int = 1024  # strings per batch when validating
    precision: str = "fp32"  # "bf16": training steps autocast to bfloat16 where the device can
    ensemble: int = 1  # K > 1: K models trained with seeds seed, seed+1, ...; the model is the
    # average of their next-symbol distributions (run folders members/0 ... members/K-1)
    tune: float = 0.0  # seconds: > 0 tries a small grid of settings around these (trials/0, …)
    # within that time and keeps the one of the lowest validation loss (tuning.json says which)
    tune_average: bool = False  # with tune: the average of the trials that lower the validation
    # loss together where they do (it lowers the log loss; PAutomaC's score weighs the likeliest
    # strings, and there the best trial alone did better: benchmarks/README.md)
    ema: float = 0.0  # decay per step of an exponential moving average of the weights (0: off);
    # validation, early stopping and the saved model then use the averaged weights
    refit: bool = False  # after training, train again from the same seed on the training and
    # validation strings together, for the epochs validation chose on the same schedule; that
    # model is returned (run folders validated/ and refit/)
    refit_head: bool = True  # after training, fit the output layer again with dropout off, on the
    # training strings' hidden vectors (neural.head); kept where it lowers the validation loss
    schedule_epochs: int | None = None  # the epochs the cosine schedule spans; None: the epochs
    # trained (a refit trains fewer epochs of the validated run's schedule)

    def planned_epochs(self, tokens_per_epoch: int) -> int:
        """The epochs to train: ``epochs``, fewer when ``max_tokens`` is reached first (at least 1).

        Examples
        --------
        >>> TrainConfig(epochs=40, max_tokens=1000).planned_epochs(300), TrainConfig().planned_epochs(10)
        (3, 40)
        """
        if self.max_tokens is None:
            return self.epochs
        return max(1, min(self.epochs, self.max_tokens // max(tokens_per_epoch, 1)))

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        positive = {"lr": self.lr, "batch_size": self.batch_size, "epochs": self.epochs}
        positive |= {"eval_batch_size": self.eval_batch_size, "ensemble": self.ensemble}
        optional = (("clip", self.clip), ("bptt", self.bptt), ("max_tokens", self.max_tokens),
                    ("schedule_epochs", self.schedule_epochs))
        positive |= {k: v for k, v in optional if v is not None}
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"{name} must be positive, got {value}")
        if not 0.0 <= self.tune < math.inf:
            raise ValueError(f"tune must be a number of seconds ≥ 0, got {self.tune}")
        if self.tune_average and not self.tune:
            raise ValueError("tune_average needs tune > 0 (the seconds of the trials it averages)")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"ema must be in [0, 1), got {self.ema}")
        if self.refit and self.schedule == "plateau":
            raise ValueError("refit repeats the validated run's schedule, which a plateau schedule "
                             "cannot do without validation strings: use cosine or constant")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"patience must be at least 1 (or None), got {self.patience}")
