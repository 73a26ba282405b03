"""The state of a training run: what changes while training, and its checkpoints.

A session is started fresh or restored from ``training.pt``; :func:`save_training` writes it
back (rank 0 only), so that a resumed run ends at the weights of an uninterrupted one.
``training.pt`` is the run folder's commit point: ``model.pt`` and ``history.json`` are derived
from it, written after it, and written again from it on every resume, so a kill between the
writes never leaves a model or a history that disagrees with the run's state.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from automimic_io import write_atomic
from automimic_io.jsontext import json_text
from neural.checkpoint import (
    HISTORY_FILE,
    MODEL_FILE,
    TRAINING_FILE,
    CheckpointError,
    load_checkpoint,
    one_line,
    remove_temporaries,
    save_checkpoint,
)
from neural.config import LEGACY_TRAINING, TrainConfig
from neural.data import Batches, Corpus, unigram_bits
from neural.distributed import Context
from neural.model import RNNConfig, RNNLanguageModel, State, map_state
from neural.progress import Progress
from neural.trained import HEAD_RECORD, TrainedModel
from neural.vocab import Vocabulary

RUN_DIR_FILES = (TRAINING_FILE, MODEL_FILE, HISTORY_FILE)
HISTORY_KEYS = ("train_bits", "val_bits", "tokens_per_s", "lr", "step_bits", "grad_norm")


@dataclass
class Session:
    """Everything that changes during training, and what a checkpoint restores."""

    model: RNNLanguageModel
    module: torch.nn.Module  # the model, wrapped in DistributedDataParallel when distributed
    optimizer: torch.optim.Optimizer
    vocabulary: Vocabulary
    model_config: RNNConfig
    train_config: TrainConfig
    seed: int
    context: Context
    run_dir: Path | None
    batches: Batches
    data_sha256: str  # of the training corpus
    val_sha256: str
    progress: Progress
    history: dict[str, list[float]]
    tokens_per_batch: float = 1.0  # the average: the loss of every batch is divided by it
    epochs: int = 1  # the epochs to train (TrainConfig.planned_epochs of this corpus)
    best_state: dict[str, torch.Tensor] = field(default_factory=dict)
    stream_state: State | None = None  # carried hidden state in the middle of a bptt epoch
    average: AveragedModel | None = None  # the moving average of the weights (TrainConfig.ema)
    unigram_bits: float | None = None  # validation bits of the training corpus's unigram model

    @property
    def evaluated(self) -> RNNLanguageModel:
        """The model that is validated and saved: the weight average when there is one."""
        return self.model if self.average is None else self.average.module


def start_session(
    vocabulary: Vocabulary,
    train: Corpus,
    val: Corpus,
    model_config: RNNConfig | None,
    train_config: TrainConfig | None,
    *,
    seed: int,
    context: Context,
    run_dir: Path | None,
    resume: bool,
) -> Session:
    """A fresh session, or the one saved in ``run_dir`` when resuming (configs None: saved)."""
    checkpoint = _existing_checkpoint(run_dir, resume)
    if checkpoint is not None:
        model_config, train_config = _resumed_configs(checkpoint, model_config, train_config)
        _check_same_run(checkpoint, vocabulary, train, val, seed, run_dir)
    model_config = model_config or RNNConfig()
    train_config = train_config or TrainConfig()
    torch.manual_seed(seed)  # the initial weights: the same on every rank
    model = RNNLanguageModel(model_config, vocabulary.size).to(context.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=train_config.lr, weight_decay=train_config.weight_decay)
    batches = Batches(
        vocabulary,
        train,
        val,
        batch_size=train_config.batch_size,
        eval_batch_size=train_config.eval_batch_size,
        bptt=train_config.bptt,
        seed=seed,
        rank=context.rank,
        world_size=context.world_size,
    )
    session = Session(
        model=model,
        module=context.wrap(model),
        optimizer=optimizer,
        vocabulary=vocabulary,
        model_config=model_config,
        train_config=train_config,
        seed=seed,
        context=context,
        run_dir=run_dir,
        batches=batches,
        data_sha256=train.sha256,
        val_sha256=val.sha256,
        progress=Progress(),
        history={key: [] for key in HISTORY_KEYS},
        tokens_per_batch=_tokens_per_batch(train, train_config),
        epochs=train_config.planned_epochs(train.tokens_per_epoch),
        average=_weight_average(model, train_config.ema),
        unigram_bits=unigram_bits(train, val, vocabulary.eos) if len(val) else None,
    )
    if checkpoint is None:
        torch.manual_seed(_rank_seed(seed, context.rank))  # dropout masks differ across ranks
    else:
        _restore(session, checkpoint)
        if context.rank == 0:
            remove_temporaries(run_dir, RUN_DIR_FILES)
            _write_derived(session, save_model=session.progress.best_epoch >= 0)
    return session


def _weight_average(model: RNNLanguageModel, decay: float) -> AveragedModel | None:
    if decay == 0:
        return None
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=False)


def _tokens_per_batch(train: Corpus, config: TrainConfig) -> float:
    if config.bptt is not None:
        return float(config.batch_size * config.bptt)
    return config.batch_size * (1 + float(np.mean(train.lengths)))


def _rank_seed(seed: int, rank: int) -> int:
    return int(np.random.SeedSequence([seed, rank]).generate_state(1)[0])


# ------------------------------------------------------------------------------------ resuming


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
        # a run saved before the output layer's second fit existed resumes without it
        saved_train = TrainConfig(**{**LEGACY_TRAINING, **checkpoint["train_config"]})
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"corrupt checkpoint: bad configuration ({err})") from None
    for given, saved in ((model_config, saved_model), (train_config, saved_train)):
        if given is not None and given != saved:
            changed = [
                f"{k}: {v!r} → {getattr(given, k)!r}" for k, v in asdict(saved).items() if getattr(given, k) != v
            ]
            raise CheckpointError(f"cannot resume with a different configuration ({'; '.join(changed)})")
    return saved_model, saved_train


def _check_same_run(
    checkpoint: dict[str, Any], vocabulary: Vocabulary, train: Corpus, val: Corpus, seed: int, run_dir: Path
) -> None:
    problems = []
    if tuple(checkpoint["alphabet"]) != vocabulary.alphabet:
        problems.append(f"the alphabet differs (checkpoint: {' '.join(checkpoint['alphabet'])}; "
                        f"given: {' '.join(vocabulary.alphabet)})")
    if checkpoint["data_sha256"] != train.sha256:
        problems.append("the training data differs")
    if checkpoint.get("val_sha256") != val.sha256:
        problems.append("the validation data differs")
    if checkpoint["seed"] != seed:
        problems.append(f"the seed differs (checkpoint: {checkpoint['seed']}; given: {seed})")
    if problems:
        raise CheckpointError(f"{run_dir}: cannot resume: {'; '.join(problems)}")


def _restore(session: Session, checkpoint: dict[str, Any]) -> None:
    try:
        session.model.load_state_dict(checkpoint["state_dict"])
        session.optimizer.load_state_dict(checkpoint["optimizer"])
        session.progress = Progress.from_dict(checkpoint["progress"])
        session.history = {key: list(checkpoint["history"][key]) for key in HISTORY_KEYS}
        if HEAD_RECORD in checkpoint["history"]:
            session.history[HEAD_RECORD] = dict(checkpoint["history"][HEAD_RECORD])
        session.best_state = dict(checkpoint["best_state_dict"])
        if session.average is not None:
            session.average.load_state_dict(checkpoint["average_state_dict"])
        saved_stream = checkpoint.get("stream_state")
        device = session.context.device
        session.stream_state = None if saved_stream is None else map_state(lambda t: t.to(device), saved_stream)
        _restore_rng(session, checkpoint["rng"])
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"{session.run_dir}: corrupt checkpoint ({one_line(err)})") from None


def _restore_rng(session: Session, rng: dict[str, Any]) -> None:
    context = session.context
    if context.world_size > 1:  # only rank 0's state was saved: derive the others'
        step = session.progress.epoch * 1_000_003 + session.progress.step
        torch.manual_seed(_rank_seed(session.seed, context.rank) + step)
        return
    torch.set_rng_state(rng["cpu"])
    if context.device.type == "cuda" and rng.get("cuda") is not None:
        torch.cuda.set_rng_state(rng["cuda"], context.device)


# --------------------------------------------------------------------------------- saving


def save_training(session: Session, *, save_model: bool = False) -> None:
    """Write training.pt, then what derives from it: model.pt (when asked) and history.json;
    rank 0 only."""
    if session.run_dir is None or session.context.rank != 0:
        return
    model_payload = _model_payload(session)
    device = session.context.device
    rng = {
        "cpu": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
    }
    stream = session.stream_state and map_state(torch.Tensor.cpu, session.stream_state)
    save_checkpoint(
        session.run_dir / TRAINING_FILE,
        {
            **model_payload,
            "kind": "training",
            "state_dict": _cpu(session.model.state_dict()),
            "best_state_dict": _cpu(session.best_state),
            "average_state_dict": session.average and _cpu(session.average.state_dict()),
            "train_config": asdict(session.train_config),
            "val_sha256": session.val_sha256,
            "seed": session.seed,
            "optimizer": session.optimizer.state_dict(),
            "progress": session.progress.to_dict(),
            "rng": rng,
            "stream_state": stream,
        },
    )
    _write_derived(session, save_model=save_model)


def _write_derived(session: Session, *, save_model: bool) -> None:
    """Write model.pt (when asked) and history.json from the session, after training.pt."""
    if save_model:
        save_checkpoint(session.run_dir / MODEL_FILE, _model_payload(session))
    text = json_text({"progress": session.progress.to_dict(), **session.history}, indent=1)
    write_atomic(session.run_dir / HISTORY_FILE, text)


def best_model(session: Session) -> TrainedModel:
    """The model with the best validation loss so far (the current one before any epoch ends)."""
    return TrainedModel.from_payload(_model_payload(session)).to(session.context.device)


def _model_payload(session: Session) -> dict[str, Any]:
    return {
        "kind": "model",
        "alphabet": list(session.vocabulary.alphabet),
        "model_config": asdict(session.model_config),
        "state_dict": _cpu(session.best_state or session.evaluated.state_dict()),
        "history": {**session.history, "best_epoch": session.progress.best_epoch,
                    "unigram_bits": session.unigram_bits},
        "data_sha256": session.data_sha256,
        "stream": session.train_config.bptt is not None and len(session.batches.train) == 1,
    }


def _cpu(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in state_dict.items()}
