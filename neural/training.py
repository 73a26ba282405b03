"""Training: Adam, clipping, full or truncated BPTT, validation, early stopping, checkpoints.

:func:`train` reads top to bottom: prepare the data, start (or resume) a session, run epochs
until the schedule or early stopping ends them, return the best model.
"""

from __future__ import annotations

import json
import math
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch.nn.parallel import DistributedDataParallel

from neural.checkpoint import (
    HISTORY_FILE,
    MODEL_FILE,
    TRAINING_FILE,
    CheckpointError,
    atomic_write_bytes,
    load_checkpoint,
    save_checkpoint,
)
from neural.data import (
    Batch,
    bucketed_batches,
    count_stream_chunks,
    pad_strings,
    shard,
    stream_chunks,
    stream_columns,
    stream_tokens,
)
from neural.model import RNNConfig, RNNLanguageModel, State, map_state
from neural.trained import TrainedModel
from neural.vocab import CorpusError, Symbols, Vocabulary, data_hash

LN2 = math.log(2)
SCHEDULES = ("constant", "cosine", "plateau")


@dataclass(frozen=True)
class TrainConfig:
    """How to train (the architecture is :class:`~neural.model.RNNConfig`).

    Examples
    --------
    >>> TrainConfig(epochs=5, bptt=100).bptt
    100
    """

    lr: float = 3e-3  # Adam learning rate
    schedule: str = "constant"  # "constant", "cosine" (per step, down to lr * min_lr_ratio),
    # or "plateau" (halve the rate after every epoch without a better validation loss)
    min_lr_ratio: float = 0.1  # final learning rate of the cosine schedule, relative to lr
    weight_decay: float = 0.0  # Adam's L2 penalty
    batch_size: int = 64  # strings per batch (with bptt: parallel streams per batch)
    epochs: int = 20  # maximum number of passes over the training data
    clip: float | None = 5.0  # maximum global gradient norm; None: no clipping (still recorded)
    bptt: int | None = None  # None: whole strings, full BPTT; K: the corpus as one stream
    # cut into chunks of K steps, the hidden state carried across chunks
    patience: int | None = 3  # stop after this many epochs without improvement; None: never
    min_delta: float = 1e-4  # bits per symbol: a smaller improvement does not count
    eval_batch_size: int = 1024  # strings per batch when validating

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        positive = {"lr": self.lr, "batch_size": self.batch_size, "epochs": self.epochs}
        positive |= {"eval_batch_size": self.eval_batch_size}
        positive |= {k: v for k, v in (("clip", self.clip), ("bptt", self.bptt)) if v is not None}
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"{name} must be positive, got {value}")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"patience must be at least 1 (or None), got {self.patience}")


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped training; the state was saved in ``run_dir`` (if any) for ``resume``."""

    def __init__(self, run_dir: Path | None) -> None:
        where = f"saved in {run_dir}; resume to continue" if run_dir else "nothing saved"
        super().__init__(f"training interrupted ({where})")
        self.run_dir = run_dir


@dataclass
class _Data:
    """The encoded corpora and what a checkpoint needs to recognise them."""

    train: list[np.ndarray]
    val: list[np.ndarray]
    train_sha256: str
    val_sha256: str


@dataclass
class _Session:
    """Everything that changes during training, and what a checkpoint restores."""

    model: RNNLanguageModel
    module: torch.nn.Module  # the model, wrapped in DistributedDataParallel when distributed
    optimizer: torch.optim.Optimizer
    vocabulary: Vocabulary
    model_config: RNNConfig
    train_config: TrainConfig
    seed: int
    context: _Context
    run_dir: Path | None
    progress: dict[str, Any]
    history: dict[str, list[float]]
    tokens_per_batch: float = 1.0  # the average: the loss of every batch is divided by it
    best_state: dict[str, torch.Tensor] = field(default_factory=dict)
    stream_state: State | None = None  # carried hidden state in the middle of a bptt epoch


def train(
    train_strings: Sequence[Symbols],
    val_strings: Sequence[Symbols] | None,
    alphabet: Sequence[str],
    model_config: RNNConfig | None = None,
    train_config: TrainConfig | None = None,
    *,
    seed: int,
    device: str = "auto",
    run_dir: str | os.PathLike | None = None,
    quiet: bool = False,
    resume: bool = False,
) -> TrainedModel:
    """Train an RNN language model on strings over ``alphabet``; return the best model.

    The loss is the cross-entropy of every next symbol, end-of-string included, reported in
    bits per symbol. With ``run_dir``, a checkpoint is written there atomically every epoch
    (``training.pt`` to resume, ``model.pt`` the best model, ``history.json``); Ctrl-C saves and
    raises :class:`TrainingInterrupted`; ``resume=True`` continues from the checkpoint (configs
    left as None are taken from it) and ends at the weights an uninterrupted run would reach.
    Under ``torchrun`` the model trains with DistributedDataParallel.

    Examples
    --------
    >>> lm = train(["ab", "a"] * 8, ["ab"], ("a", "b"), RNNConfig(hidden_size=8),
    ...            TrainConfig(epochs=2, batch_size=4), seed=0, quiet=True)
    >>> len(lm.history["val_bits"])
    2
    """
    vocabulary = Vocabulary(tuple(alphabet))
    data = _prepare_data(vocabulary, train_strings, val_strings)
    run_path = Path(run_dir) if run_dir is not None else None
    context = _Context.start(device)
    try:
        with torch.random.fork_rng(devices=context.rng_devices):
            session = _start_session(vocabulary, data, model_config, train_config, seed, context, run_path, resume)
            with _interrupt_flag() as interrupted, _progress_bar(quiet or context.rank > 0) as bar:
                while not session.progress["finished"]:
                    _run_epoch(session, data, bar, interrupted)
                    _end_epoch(session, data, bar)
        return _best_model(session, data)
    finally:
        context.close()


# ------------------------------------------------------------------------------------ the data


def _prepare_data(
    vocabulary: Vocabulary, train_strings: Sequence[Symbols], val_strings: Sequence[Symbols] | None
) -> _Data:
    train = _encode(vocabulary, train_strings, "training")
    val = _encode(vocabulary, val_strings or [], "validation")
    if not train:
        raise CorpusError("the training corpus is empty")
    return _Data(train, val, data_hash(train), data_hash(val))


def _encode(vocabulary: Vocabulary, strings: Sequence[Symbols], name: str) -> list[np.ndarray]:
    try:
        return vocabulary.encode_all(strings)
    except CorpusError as err:
        raise CorpusError(f"{name} corpus: {err}") from None


# --------------------------------------------------------------------------------- the session


def _start_session(
    vocabulary: Vocabulary,
    data: _Data,
    model_config: RNNConfig | None,
    train_config: TrainConfig | None,
    seed: int,
    context: _Context,
    run_dir: Path | None,
    resume: bool,
) -> _Session:
    checkpoint = _existing_checkpoint(run_dir, resume)
    if checkpoint is not None:
        model_config, train_config = _resumed_configs(checkpoint, model_config, train_config)
        _check_same_run(checkpoint, vocabulary, data, seed, run_dir)
    model_config = model_config or RNNConfig()
    train_config = train_config or TrainConfig()
    torch.manual_seed(seed)  # the initial weights: the same on every rank
    model = RNNLanguageModel(model_config, vocabulary.size).to(context.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=train_config.lr, weight_decay=train_config.weight_decay)
    session = _Session(
        model=model,
        module=context.wrap(model),
        optimizer=optimizer,
        vocabulary=vocabulary,
        model_config=model_config,
        train_config=train_config,
        seed=seed,
        context=context,
        run_dir=run_dir,
        progress=_fresh_progress(),
        history={key: [] for key in HISTORY_KEYS},
        tokens_per_batch=_tokens_per_batch(data, train_config),
    )
    if checkpoint is None:
        torch.manual_seed(_rank_seed(seed, context.rank))  # dropout masks differ across ranks
    else:
        _restore(session, checkpoint)
    return session


def _tokens_per_batch(data: _Data, config: TrainConfig) -> float:
    if config.bptt is not None:
        return float(config.batch_size * config.bptt)
    return config.batch_size * (1 + float(np.mean([len(s) for s in data.train])))


HISTORY_KEYS = ("train_bits", "val_bits", "tokens_per_s", "lr", "step_bits", "grad_norm")


def _fresh_progress() -> dict[str, Any]:
    return {
        "epoch": 0,  # the epoch in progress (0-based)
        "step": 0,  # batches done in that epoch
        "nats": 0.0,  # training loss summed over the epoch's predicted tokens so far
        "tokens": 0,  # predicted tokens so far in the epoch (this rank)
        "seconds": 0.0,  # training time so far in the epoch
        "best": math.inf,  # best validation bits per symbol
        "best_epoch": -1,
        "bad_epochs": 0,  # epochs since the last improvement
        "lr_scale": 1.0,  # the plateau schedule's factor
        "finished": False,
        "stop_reason": "",
    }


def _rank_seed(seed: int, rank: int) -> int:
    return int(np.random.SeedSequence([seed, rank]).generate_state(1)[0])


def _existing_checkpoint(run_dir: Path | None, resume: bool) -> dict[str, Any] | None:
    if run_dir is None:
        return None
    training_file = run_dir / TRAINING_FILE
    if not resume:
        if training_file.exists() or (run_dir / MODEL_FILE).exists():
            raise FileExistsError(
                f"{run_dir} already holds a training run: resume it (--resume) or remove it (--force)"
            )
        return None
    return load_checkpoint(training_file, kind="training") if training_file.exists() else None


def _resumed_configs(
    checkpoint: dict[str, Any], model_config: RNNConfig | None, train_config: TrainConfig | None
) -> tuple[RNNConfig, TrainConfig]:
    try:
        saved_model = RNNConfig(**checkpoint["model_config"])
        saved_train = TrainConfig(**checkpoint["train_config"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"corrupt checkpoint: bad configuration ({err})") from None
    for given, saved in ((model_config, saved_model), (train_config, saved_train)):
        if given is not None and given != saved:
            changed = [
                f"{k}: {v!r} → {getattr(given, k)!r}" for k, v in asdict(saved).items() if getattr(given, k) != v
            ]
            raise CheckpointError(f"cannot resume with a different configuration ({'; '.join(changed)})")
    return saved_model, saved_train


def _check_same_run(checkpoint: dict[str, Any], vocabulary: Vocabulary, data: _Data, seed: int, run_dir: Path) -> None:
    problems = []
    if tuple(checkpoint["alphabet"]) != vocabulary.alphabet:
        problems.append(f"the alphabet differs ({' '.join(checkpoint['alphabet'])})")
    if checkpoint["data_sha256"] != data.train_sha256:
        problems.append("the training data differs")
    if checkpoint.get("val_sha256") != data.val_sha256:
        problems.append("the validation data differs")
    if checkpoint["seed"] != seed:
        problems.append(f"the seed differs (checkpoint: {checkpoint['seed']})")
    if problems:
        raise CheckpointError(f"{run_dir}: cannot resume: {'; '.join(problems)}")


def _restore(session: _Session, checkpoint: dict[str, Any]) -> None:
    try:
        session.model.load_state_dict(checkpoint["state_dict"])
        session.optimizer.load_state_dict(checkpoint["optimizer"])
        session.progress = {**_fresh_progress(), **checkpoint["progress"]}
        session.history = {key: list(checkpoint["history"][key]) for key in HISTORY_KEYS}
        session.best_state = dict(checkpoint["best_state_dict"])
        saved_stream = checkpoint.get("stream_state")
        device = session.context.device
        session.stream_state = (
            None if saved_stream is None else tuple(tuple(t.to(device) for t in layer) for layer in saved_stream)
        )
        _restore_rng(session, checkpoint["rng"])
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"{session.run_dir}: corrupt checkpoint ({err})") from None


def _restore_rng(session: _Session, rng: dict[str, Any]) -> None:
    context = session.context
    if context.world_size > 1:  # only rank 0's state was saved: derive the others'
        step = session.progress["epoch"] * 1_000_003 + session.progress["step"]
        torch.manual_seed(_rank_seed(session.seed, context.rank) + step)
        return
    torch.set_rng_state(rng["cpu"])
    if context.device.type == "cuda" and rng.get("cuda") is not None:
        torch.cuda.set_rng_state(rng["cuda"], context.device)


# ---------------------------------------------------------------------------------- an epoch


def _run_epoch(session: _Session, data: _Data, bar: _Bar, interrupted: threading.Event) -> None:
    """Train on this epoch's remaining batches; on Ctrl-C save and raise TrainingInterrupted."""
    progress, config = session.progress, session.train_config
    batches = _epoch_batches(session, data)
    total = len(batches) if isinstance(batches, list) else _stream_length(session, data)
    total_steps = total * config.epochs
    bar.start_epoch(progress["epoch"], config.epochs, total, progress["step"])
    session.module.train()
    for batch in _skip(batches, progress["step"]):
        lr = _learning_rate(config, progress, progress["epoch"] * total + progress["step"], total_steps)
        started = time.perf_counter()
        loss, norm = _train_step(session, batch, lr)
        progress["seconds"] += time.perf_counter() - started
        progress["step"] += 1
        progress["nats"] += loss * batch.tokens
        progress["tokens"] += batch.tokens
        session.history["step_bits"].append(loss / LN2)
        session.history["grad_norm"].append(norm)
        bar.advance(progress, session.context.world_size)
        if session.context.any(interrupted.is_set()):
            _save_training(session, data)
            raise TrainingInterrupted(session.run_dir)


def _epoch_batches(session: _Session, data: _Data) -> list[Batch] | Iterator[Batch]:
    """This rank's batches of the current epoch, in an order fixed by (seed, epoch)."""
    vocabulary, config, context = session.vocabulary, session.train_config, session.context
    if config.bptt is not None:
        if session.progress["step"] == 0:
            session.stream_state = None
        columns = stream_columns(
            stream_tokens(data.train, vocabulary.eos),
            config.batch_size,
            context.rank,
            context.world_size,
        )
        return stream_chunks(columns, config.bptt)
    rng = np.random.default_rng([session.seed, session.progress["epoch"]])
    lengths = np.array([len(s) for s in data.train])
    indices = shard(bucketed_batches(lengths, config.batch_size, rng), context.rank, context.world_size)
    return _LazyBatches(indices, data.train, vocabulary)


class _LazyBatches(list):
    """Index batches that pad their strings only when read (a list, so its length is known)."""

    def __init__(self, indices: list[np.ndarray], encoded: list[np.ndarray], vocabulary) -> None:
        super().__init__(indices)
        self.encoded, self.vocabulary = encoded, vocabulary

    def __iter__(self) -> Iterator[Batch]:
        for group in super().__iter__():
            yield pad_strings([self.encoded[i] for i in group], self.vocabulary.eos, self.vocabulary.pad)


def _stream_length(session: _Session, data: _Data) -> int:
    columns = stream_columns(
        stream_tokens(data.train, session.vocabulary.eos),
        session.train_config.batch_size,
        session.context.rank,
        session.context.world_size,
    )
    return count_stream_chunks(columns, session.train_config.bptt)


def _skip(batches, count: int) -> Iterator[Batch]:
    """The batches after the first ``count`` (already trained on before an interruption)."""
    for i, batch in enumerate(batches):
        if i >= count:
            yield batch


def _learning_rate(config: TrainConfig, progress: dict[str, Any], step: int, total: int) -> float:
    if config.schedule == "cosine":
        fraction = min(step, total) / max(total, 1)
        cosine = 0.5 * (1 + math.cos(math.pi * fraction))
        return config.lr * (config.min_lr_ratio + (1 - config.min_lr_ratio) * cosine)
    return config.lr * progress["lr_scale"]


def _train_step(session: _Session, batch: Batch, lr: float) -> tuple[float, float]:
    """One optimiser step; returns the loss (nats per token) and the pre-clip gradient norm."""
    device = session.context.device
    inputs, targets = batch.inputs.to(device), batch.targets.to(device)
    for group in session.optimizer.param_groups:
        group["lr"] = lr
    session.optimizer.zero_grad(set_to_none=True)
    if session.train_config.bptt is None:
        _, loss = session.module(inputs, targets)
    else:
        _, loss, state = session.module(inputs, targets, state=session.stream_state, return_state=True)
        session.stream_state = map_state(torch.Tensor.detach, state)
    # Sum over tokens, over a constant: length-bucketed batches of short strings must not weigh
    # more per token than batches of long ones (that biases the model towards ending strings).
    (loss * (batch.tokens / session.tokens_per_batch)).backward()
    clip = session.train_config.clip or math.inf
    norm = torch.nn.utils.clip_grad_norm_(session.model.parameters(), clip)
    session.optimizer.step()
    return loss.item(), norm.item()


# ------------------------------------------------------------------------ the end of an epoch


def _end_epoch(session: _Session, data: _Data, bar: _Bar) -> None:
    """Validate, record, update the schedule and early stopping, and write the checkpoints."""
    progress, config, history = session.progress, session.train_config, session.history
    context = session.context
    nats, tokens = context.sum([progress["nats"], progress["tokens"]])
    train_bits = nats / max(tokens, 1) / LN2
    val_bits = _validate(session, data)
    history["train_bits"].append(train_bits)
    history["val_bits"].append(val_bits)
    history["tokens_per_s"].append(tokens / max(progress["seconds"], 1e-9))
    history["lr"].append(session.optimizer.param_groups[0]["lr"])
    improved = _record_best(session, val_bits if data.val else train_bits)
    epoch = progress["epoch"]
    if progress["bad_epochs"] and config.schedule == "plateau":
        progress["lr_scale"] *= 0.5
    if config.patience is not None and progress["bad_epochs"] >= config.patience:
        progress.update(finished=True, stop_reason=f"early stopping after epoch {epoch + 1}")
    elif epoch + 1 >= config.epochs:
        progress.update(finished=True, stop_reason=f"finished {config.epochs} epochs")
    progress.update(epoch=epoch + 1, step=0, nats=0.0, tokens=0, seconds=0.0)
    session.stream_state = None
    bar.end_epoch(history, epoch, config.epochs)
    if progress["finished"]:
        bar.message(
            f"{progress['stop_reason']}: best val {progress['best']:.4f} bits/symbol "
            f"at epoch {progress['best_epoch'] + 1}"
        )
    _save_training(session, data, save_model=improved or progress["finished"])


def _record_best(session: _Session, bits: float) -> bool:
    progress = session.progress
    if bits < progress["best"] - session.train_config.min_delta:
        progress.update(best=bits, best_epoch=progress["epoch"], bad_epochs=0)
        session.best_state = {k: v.detach().clone() for k, v in session.model.state_dict().items()}
        return True
    progress["bad_epochs"] += 1
    return False


def _validate(session: _Session, data: _Data) -> float:
    """Validation bits per symbol (NaN without validation strings)."""
    if not data.val:
        return math.nan
    session.model.eval()
    with torch.no_grad():
        nats, tokens = _validation_loss(session, data)
    session.model.train()
    nats, tokens = session.context.sum([nats, tokens])
    return nats / max(tokens, 1) / LN2


def _validation_loss(session: _Session, data: _Data) -> tuple[float, float]:
    device, carried = session.context.device, session.train_config.bptt is not None
    nats = tokens = 0.0
    state = None
    for batch in _validation_batches(session, data):
        _, loss, state = session.model(
            batch.inputs.to(device), batch.targets.to(device), state=state, return_state=True
        )
        state = state if carried else None
        nats += loss.item() * batch.tokens
        tokens += batch.tokens
    return nats, tokens


def _validation_batches(session: _Session, data: _Data) -> Iterator[Batch]:
    """This rank's share of the validation data: length-sorted strings, or stream chunks."""
    vocabulary, config, context = session.vocabulary, session.train_config, session.context
    if config.bptt is not None:
        columns = stream_columns(
            stream_tokens(data.val, vocabulary.eos),
            config.batch_size,
            context.rank,
            context.world_size,
        )
        yield from stream_chunks(columns, config.bptt)
        return
    order = np.argsort([len(s) for s in data.val], kind="stable")
    size = config.eval_batch_size
    groups = [order[i : i + size] for i in range(0, len(order), size)]
    for group in groups[context.rank :: context.world_size]:
        yield pad_strings([data.val[i] for i in group], vocabulary.eos, vocabulary.pad)


# --------------------------------------------------------------------------------- checkpoints


def _save_training(session: _Session, data: _Data, *, save_model: bool = False) -> None:
    """Write training.pt, history.json and (when asked) model.pt; rank 0 only."""
    if session.run_dir is None or session.context.rank != 0:
        return
    model_payload = _model_payload(session, data, session.best_state or session.model.state_dict())
    rng = {
        "cpu": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state(session.context.device) if session.context.device.type == "cuda" else None,
    }
    stream = session.stream_state and map_state(torch.Tensor.cpu, session.stream_state)
    save_checkpoint(
        session.run_dir / TRAINING_FILE,
        {
            **model_payload,
            "kind": "training",
            "state_dict": _cpu(session.model.state_dict()),
            "best_state_dict": _cpu(session.best_state),
            "train_config": asdict(session.train_config),
            "val_sha256": data.val_sha256,
            "seed": session.seed,
            "optimizer": session.optimizer.state_dict(),
            "scheduler": {"lr_scale": session.progress["lr_scale"]},
            "progress": dict(session.progress),
            "rng": rng,
            "stream_state": stream,
        },
    )
    if save_model:
        save_checkpoint(session.run_dir / MODEL_FILE, model_payload)
    text = json.dumps({"progress": session.progress, **session.history}, indent=1)
    atomic_write_bytes(session.run_dir / HISTORY_FILE, lambda handle: handle.write(text.encode()))


def _model_payload(session: _Session, data: _Data, state_dict: dict[str, torch.Tensor]) -> dict[str, Any]:
    return {
        "kind": "model",
        "alphabet": list(session.vocabulary.alphabet),
        "model_config": asdict(session.model_config),
        "state_dict": _cpu(state_dict),
        "history": {**session.history, "best_epoch": session.progress["best_epoch"]},
        "data_sha256": data.train_sha256,
    }


def _cpu(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in state_dict.items()}


def _best_model(session: _Session, data: _Data) -> TrainedModel:
    payload = _model_payload(session, data, session.best_state or session.model.state_dict())
    return TrainedModel.from_payload(payload).to(session.context.device)


# ------------------------------------------------------------------------ processes and devices


@dataclass
class _Context:
    """The device, and this process's place among the DistributedDataParallel ranks."""

    device: torch.device
    rank: int = 0
    world_size: int = 1
    owns_group: bool = False

    @classmethod
    def start(cls, device: str) -> _Context:
        """Read torchrun's environment; start the process group (gloo on CPU, nccl on CUDA)."""
        resolved = torch.device(
            "cuda" if device == "auto" and torch.cuda.is_available() else "cpu" if device == "auto" else device
        )
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size <= 1:
            return cls(resolved)
        rank = int(os.environ["RANK"])
        if resolved.type == "cuda":
            resolved = torch.device("cuda", int(os.environ.get("LOCAL_RANK", rank)))
            torch.cuda.set_device(resolved)
        owns = not dist.is_initialized()
        if owns:
            dist.init_process_group("nccl" if resolved.type == "cuda" else "gloo")
        return cls(resolved, rank, world_size, owns)

    @property
    def rng_devices(self) -> list[int]:
        return [self.device.index or 0] if self.device.type == "cuda" else []

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        if self.world_size == 1:
            return model
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def sum(self, values: list[float]) -> list[float]:
        """Sum numbers over all ranks."""
        if self.world_size == 1:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def any(self, flag: bool) -> bool:
        """True on every rank when any rank's flag is set."""
        return bool(self.sum([float(flag)])[0]) if self.world_size > 1 else flag

    def close(self) -> None:
        if self.owns_group:
            dist.destroy_process_group()


@contextmanager
def _interrupt_flag() -> Iterator[threading.Event]:
    """An event set by Ctrl-C (SIGINT), so the loop stops between steps; a second Ctrl-C kills."""
    event = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield event
        return

    def handler(signum, frame):
        if event.is_set():
            raise KeyboardInterrupt
        event.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield event
    finally:
        signal.signal(signal.SIGINT, previous)


# -------------------------------------------------------------------------------- the display


class _Bar:
    """The progress bar (rich) and the per-epoch summary lines; silent when quiet."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.task = None
        self.last = 0.0

    def start_epoch(self, epoch: int, epochs: int, total: int, done: int) -> None:
        if self.progress is None:
            return
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(f"epoch {epoch + 1}/{epochs}", total=total, completed=done, info="")

    def advance(self, progress: dict[str, Any], world_size: int) -> None:
        if self.progress is None:
            return
        now = time.perf_counter()
        if now - self.last < 0.1:  # formatting every step would cost more than a tiny model
            self.progress.advance(self.task)
            return
        self.last = now
        bits = progress["nats"] / max(progress["tokens"], 1) / LN2
        speed = progress["tokens"] * world_size / max(progress["seconds"], 1e-9)
        info = f"{bits:.3f} bits/symbol  {speed / 1000:.1f}k tokens/s"
        self.progress.update(self.task, advance=1, info=info)

    def end_epoch(self, history: dict[str, list[float]], epoch: int, epochs: int) -> None:
        self.message(
            f"epoch {epoch + 1}/{epochs}  train {history['train_bits'][-1]:.4f}  "
            f"val {history['val_bits'][-1]:.4f} bits/symbol  "
            f"{history['tokens_per_s'][-1] / 1000:.1f}k tokens/s  "
            f"grad norm {history['grad_norm'][-1]:.2f}"
        )

    def message(self, text: str) -> None:
        if self.progress is not None:
            self.progress.console.print(text)


@contextmanager
def _progress_bar(quiet: bool) -> Iterator[_Bar]:
    if quiet:
        yield _Bar(None)
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        yield _Bar(progress)
