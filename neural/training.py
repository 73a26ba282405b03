"""Training: Adam, clipping, full or truncated BPTT, validation, early stopping, checkpoints.

:func:`train` reads top to bottom: encode the data, start (or resume) a session, run epochs
until the schedule or early stopping ends them, return the best model. The batches are in
:mod:`neural.data`, the session and its checkpoints in :mod:`neural.session`, the processes in
:mod:`neural.distributed` and the progress bar in :mod:`neural.display`.
"""

from __future__ import annotations

import math
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import torch

from neural.checkpoint import (
    MEMBERS_FOLDER,
    MODEL_FILE,
    REFIT_FOLDER,
    TRAINING_FILE,
    TRIALS_FOLDER,
    TUNING_FILE,
    VALIDATED_FOLDER,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from neural.config import TrainConfig
from neural.data import Corpus
from neural.display import Bar, progress_bar
from neural.distributed import Context, Interrupt, interrupt_flag
from neural.ensemble import Ensemble, average, save_chosen, validation_bits, validation_margin
from neural.head import fit_head, fit_head_rounds
from neural.model import RNNConfig, map_state
from neural.precision import autocast, check_precision
from neural.progress import LN2, Progress
from neural.session import Session, best_model, save_training, start_session
from neural.trained import HEAD_RECORD, TrainedModel
from neural.tuning import Tuned, candidates, tune
from neural.vocab import CorpusError, Symbols, Vocabulary


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped training; the state was saved in ``run_dir`` (if any) for
    ``resume``. ``exit_code`` is the shell's for that signal: 130 for SIGINT, 143 for SIGTERM.

    Examples
    --------
    >>> TrainingInterrupted(None, signal.SIGTERM).exit_code
    143
    """

    def __init__(self, run_dir: Path | None, signum: int = signal.SIGINT) -> None:
        where = f"saved in {run_dir}; resume to continue" if run_dir else "nothing saved"
        super().__init__(f"training interrupted by {signal.Signals(signum).name} ({where})")
        self.run_dir = run_dir
        self.exit_code = 128 + signum


class TrainingDiverged(ValueError):
    """The loss or the gradient became infinite or NaN; the last finite checkpoint is kept."""


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
) -> TrainedModel | Ensemble:
    """Train an RNN language model on strings over ``alphabet``; return the best model.

    The loss is the cross-entropy of every next symbol, end-of-string included, reported in
    bits per symbol. With ``run_dir``, a checkpoint is written there atomically every epoch
    (``training.pt`` to resume, ``model.pt`` the best model, ``history.json``); Ctrl-C or SIGTERM
    saves and raises :class:`TrainingInterrupted`; ``resume=True`` continues from the checkpoint
    (configs left as None are taken from it) and ends at the weights an uninterrupted run would
    reach. A loss that becomes infinite or NaN stops training with :class:`TrainingDiverged`,
    leaving the last finite checkpoint.
    Under ``torchrun`` the model trains with DistributedDataParallel. With
    ``TrainConfig(ensemble=K)``, K models are trained one after the other (seeds ``seed`` to
    ``seed + K - 1``, run folders ``run_dir/members/k``) and returned as an :class:`Ensemble`,
    saved as ``run_dir/model.pt``. With ``TrainConfig(refit=True)``, the run above goes to
    ``run_dir/validated``, then every model is trained again on the training and validation
    strings together for the epochs validation chose (``run_dir/refit``, see :func:`refit`).

    Examples
    --------
    >>> lm = train(["ab", "a"] * 8, ["ab"], ("a", "b"), RNNConfig(hidden_size=8),
    ...            TrainConfig(epochs=2, batch_size=4), seed=0, quiet=True)
    >>> len(lm.history["val_bits"])
    2
    """
    run_path = Path(run_dir) if run_dir is not None else None
    job = _Job(train_strings, val_strings, alphabet, seed, device, quiet)
    if resume and run_path is not None and (run_path / VALIDATED_FOLDER).exists() and not (
            train_config is not None and train_config.refit):
        raise CheckpointError(f"{run_path} holds a refit run ({VALIDATED_FOLDER}/): resume it with the same "
                              "--refit and settings, or replace it (--force)")
    if train_config is not None and train_config.refit:
        return _validated_then_refit(job, model_config, train_config, run_path=run_path, resume=resume)
    tuned = run_path is not None and (run_path / TUNING_FILE).exists()
    if resume and tuned and (train_config is None or train_config.tune == 0):
        raise CheckpointError(f"{run_path} holds a tuned run (tuning.json): resume it with the same --tune and "
                              "settings, or replace it (--force)")
    if train_config is not None and train_config.tune > 0:
        return _tune(job, model_config, train_config, run_dir=run_path, resume=resume).model
    size = _ensemble_size(train_config, run_path, resume)
    if size == 1:
        return _train_one(train_strings, val_strings, alphabet, model_config, train_config,
                          seed=seed, device=device, run_dir=run_path, quiet=quiet, resume=resume)
    if run_path is not None and not resume and (run_path / MODEL_FILE).exists():
        raise FileExistsError(f"{run_path} already holds a training run: resume it (--resume) or remove it (--force)")
    members = [
        _train_one(train_strings, val_strings, alphabet, model_config, train_config,
                   seed=seed + k, device=device, run_dir=run_path and member_folder(run_path, k),
                   quiet=quiet, resume=resume or (run_path is not None and member_folder(run_path, k).exists()))
        for k in range(size)
    ]
    ensemble = Ensemble(members)
    if run_path is not None:
        save_chosen(ensemble, run_path)
    return ensemble


def refit(
    validated: TrainedModel | Ensemble,
    strings: Sequence[Symbols],
    train_config: TrainConfig,
    *,
    schedule_epochs: int,
    seed: int,
    device: str = "auto",
    run_dir: Path | None = None,
    quiet: bool = False,
) -> TrainedModel | Ensemble:
    """Train ``validated`` again from its seed (an ensemble's member k: ``seed + k``) on
    ``strings``, for the epochs its validation chose, along the same learning-rate schedule of
    ``schedule_epochs`` epochs; the model keeps the validated history (what chose it), with the
    refit's training loss as ``refit_train_bits``. Where validation kept an output layer fitted
    again (:mod:`neural.head`), the refit's is fitted for as many rounds. A run folder that exists
    is resumed.

    Examples
    --------
    >>> strings = ["ab", "a"] * 8
    >>> lm = train(strings, ["ab"], "ab", RNNConfig(hidden_size=8), TrainConfig(epochs=3, batch_size=4),
    ...            seed=0, quiet=True)
    >>> again = refit(lm, strings + ["ab"], TrainConfig(epochs=3, batch_size=4), schedule_epochs=3,
    ...               seed=0, quiet=True)
    >>> len(again.history["refit_train_bits"]) == lm.history["best_epoch"] + 1
    True
    """
    if isinstance(validated, Ensemble):
        return Ensemble([
            refit(member, strings, train_config, schedule_epochs=schedule_epochs, seed=seed + k, device=device,
                  run_dir=run_dir and member_folder(run_dir, k), quiet=quiet)
            for k, member in enumerate(validated.members)
        ])
    chosen = int(validated.history["best_epoch"]) + 1
    config = replace(train_config, epochs=chosen, schedule_epochs=train_config.schedule_epochs or schedule_epochs,
                     max_tokens=None, patience=None, refit=False, ensemble=1, tune=0.0)
    model = _train_one(strings, None, validated.alphabet, validated.config, config, seed=seed, device=device,
                       run_dir=run_dir, quiet=quiet, resume=run_dir is not None and run_dir.exists())
    own = model.history
    head = validated.history.get(HEAD_RECORD)
    if head and head.get("rounds"):  # the output layer's fit, as many rounds as validation chose
        fit = fit_head_rounds(model.model, Corpus.encode(model.vocabulary, strings), head["rounds"],
                              eos=model.vocabulary.eos, seed=seed)
        fit.copy_into(model.model)
        if run_dir is not None:  # the refit folder's model: its own history, and the fit
            save_checkpoint(run_dir / MODEL_FILE, {**model.payload(), "history": {**own, HEAD_RECORD: fit.record}})
    model.history = {**validated.history, "refit_train_bits": own["train_bits"]}
    return model


def _planned_epochs(strings: Sequence[Symbols], alphabet: Sequence[str], config: TrainConfig) -> int:
    """The epochs a run on ``strings`` trains (see :meth:`TrainConfig.planned_epochs`)."""
    corpus = Corpus.encode(Vocabulary(tuple(alphabet)), strings, "training")
    return config.planned_epochs(corpus.tokens_per_epoch)


class _Job(NamedTuple):
    """What every stage of a training run is given besides its settings and folder."""

    train_strings: Sequence[Symbols]
    val_strings: Sequence[Symbols] | None
    alphabet: Sequence[str]
    seed: int
    device: str
    quiet: bool


def _validated_then_refit(job: _Job, model_config: RNNConfig | None, train_config: TrainConfig, *,
                          run_path: Path | None, resume: bool) -> TrainedModel | Ensemble:
    """``train`` with ``refit``: the validated run (``validated/``), then each model it chose
    (one, or each trial of a tuned average) trained again on all strings with its own settings."""
    if not job.val_strings:
        raise CorpusError("a refit needs validation strings: they choose its epochs")
    validated_dir = run_path and run_path / VALIDATED_FOLDER
    resume_validated = resume or (validated_dir is not None and validated_dir.exists())
    validated = replace(train_config, refit=False)
    if train_config.tune > 0:
        tuned = _tune(job, model_config, validated, run_dir=validated_dir, resume=resume_validated)
        chosen = [(model, tuned.trials[k].training) for k, model in zip(tuned.chosen, tuned.members, strict=True)]
    else:
        chosen = [(train(job.train_strings, job.val_strings, job.alphabet, model_config, validated, seed=job.seed,
                         device=job.device, run_dir=validated_dir, quiet=job.quiet, resume=resume_validated),
                   train_config)]
    refits = [
        refit(model, [*job.train_strings, *job.val_strings], config,
              schedule_epochs=_planned_epochs(job.train_strings, job.alphabet, config), seed=job.seed,
              device=job.device, run_dir=run_path and _refit_folder(run_path, k, len(chosen)), quiet=job.quiet)
        for k, (model, config) in enumerate(chosen)
    ]
    model = refits[0] if len(refits) == 1 else average(refits)
    if run_path is not None:
        save_chosen(model, run_path)
    return model


def _tune(job: _Job, model_config: RNNConfig | None, train_config: TrainConfig, *, run_dir: Path | None,
          resume: bool) -> Tuned:
    """Train the grid around the given settings (see :mod:`neural.tuning`); the model is the
    trial of the lowest validation loss, or with ``tune_average`` the average of the trials that
    lower it together."""
    def fit(model: RNNConfig, training: TrainConfig, folder: Path | None):
        return train(job.train_strings, job.val_strings, job.alphabet, model, training, seed=job.seed,
                     device=job.device, run_dir=folder, quiet=job.quiet,
                     resume=resume or (folder is not None and folder.exists()))

    tuned = tune(fit, candidates(model_config or RNNConfig(), train_config), budget_seconds=train_config.tune,
                 run_dir=run_dir, score=lambda fitted: validation_bits(fitted, job.val_strings),
                 average=average if train_config.tune_average else None, min_delta=train_config.min_delta,
                 margin=lambda fitted, other: validation_margin(fitted, other, job.val_strings))
    if run_dir is not None:
        save_chosen(tuned.model, run_dir)
    return tuned


def _refit_folder(run_dir: Path, k: int, count: int) -> Path:
    """Where the refit of the k-th of ``count`` validated models trains: ``refit/``, or
    ``refit/trials/k`` for each trial of a tuned average."""
    return run_dir / REFIT_FOLDER if count == 1 else run_dir / REFIT_FOLDER / TRIALS_FOLDER / str(k)


def member_folder(run_dir: Path, k: int) -> Path:
    """The run folder of member ``k`` of an ensemble trained in ``run_dir``."""
    return run_dir / MEMBERS_FOLDER / str(k)


def _ensemble_size(config: TrainConfig | None, run_dir: Path | None, resume: bool) -> int:
    """K of ``config``; on resume without a config, K of the saved ensemble (1 when none is)."""
    if config is not None:
        return config.ensemble
    if resume and run_dir is not None and (member_folder(run_dir, 0) / TRAINING_FILE).exists():
        saved = load_checkpoint(member_folder(run_dir, 0) / TRAINING_FILE, kind="training")
        return int(saved["train_config"].get("ensemble", 1))
    return 1


def _train_one(
    train_strings: Sequence[Symbols],
    val_strings: Sequence[Symbols] | None,
    alphabet: Sequence[str],
    model_config: RNNConfig | None,
    train_config: TrainConfig | None,
    *,
    seed: int,
    device: str,
    run_dir: Path | None,
    quiet: bool,
    resume: bool,
) -> TrainedModel:
    """Train one model (see :func:`train`)."""
    vocabulary = Vocabulary(tuple(alphabet))
    train_data = Corpus.encode(vocabulary, train_strings, "training")
    val_data = Corpus.encode(vocabulary, val_strings or [], "validation")
    if not len(train_data):
        raise CorpusError("the training corpus is empty")
    run_path = run_dir
    context = Context.start(device)
    try:
        with torch.random.fork_rng(devices=context.rng_devices):
            session = start_session(
                vocabulary, train_data, val_data, model_config, train_config,
                seed=seed, context=context, run_dir=run_path, resume=resume,
            )
            check_precision(session.train_config.precision, context.device, session.model_config)
            with interrupt_flag() as interrupted, progress_bar(quiet or context.rank > 0) as bar:
                if resume and session.progress.finished and _refits_head(session):
                    bar.message(f"the epochs had finished ({session.progress.stop_reason}); "
                                "the output layer is still to be fitted again")
                elif resume and (session.progress.epoch or session.progress.step):
                    bar.message(session.progress.resumed())
                while not session.progress.finished:
                    _run_epoch(session, bar, interrupted)
                    _end_epoch(session, bar)
                if _refits_head(session):
                    _refit_head(session, train_data, val_data, bar, interrupted)
        return best_model(session)
    finally:
        context.close()


# ---------------------------------------------------------------------------------- an epoch


def _run_epoch(session: Session, bar: Bar, interrupted: Interrupt) -> None:
    """Train on this epoch's remaining batches; on a signal save and raise TrainingInterrupted.

    A step's loss is read once the next step is queued: on a GPU, reading it waits for the
    device, which would otherwise sit idle while Python prepares every step.
    """
    progress, config = session.progress, session.train_config
    batches = session.batches.epoch(progress.epoch)
    total = len(batches)
    if progress.step == 0:
        session.stream_state = None  # truncated BPTT: the streams start afresh every epoch
    bar.start_epoch(progress.epoch, session.epochs, total, progress.step)
    session.module.train()
    device = session.context.device
    queued: tuple[int, int, torch.Tensor | float, torch.Tensor | float] | None = None
    recorded = time.perf_counter()  # when the last step was recorded
    for step in range(progress.step, total):
        batch = batches[step]
        span = config.schedule_epochs or session.epochs  # the epochs the schedule spans
        lr = _learning_rate(config, progress, progress.epoch * total + step, total * span)
        inputs, targets = _to_device(batch.inputs, device), _to_device(batch.targets, device)
        loss, norm = _train_step(session, inputs, targets, batch.tokens, lr)
        if queued is not None:
            recorded = _record_step(session, bar, *queued, since=recorded)
        queued = (step, batch.tokens, loss, norm)
        if session.context.any(interrupted.is_set()):
            _record_step(session, bar, *queued, since=recorded)
            save_training(session)
            raise TrainingInterrupted(session.run_dir, interrupted.signum or signal.SIGINT)
    if queued is not None:
        _record_step(session, bar, *queued, since=recorded)


def _to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``tensor`` on ``device``; to a GPU through pinned memory, so that the copy does not wait
    for the steps the GPU is still running."""
    if device.type != "cuda":
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)


def _record_step(session: Session, bar: Bar, step: int, tokens: int, loss: torch.Tensor | float,
                 norm: torch.Tensor | float, *, since: float) -> float:
    """Count a finished step in the progress, the history and the bar (its time: from ``since``
    to now, which is returned); stop on a non-finite loss."""
    loss, norm = float(loss), float(norm)
    if session.context.any(not math.isfinite(loss + norm)):
        raise TrainingDiverged(_diverged(session, f"the loss is {loss:.4g} and the gradient "
                                                  f"norm {norm:.4g} at step {step + 1}"))
    now = time.perf_counter()
    session.progress.add_step(nats=loss, tokens=tokens, seconds=now - since)
    session.history["step_bits"].append(loss / LN2)
    session.history["grad_norm"].append(norm)
    bar.advance(session.progress, session.context.world_size)
    return now


def _learning_rate(config: TrainConfig, progress: Progress, step: int, total: int) -> float:
    if config.schedule == "cosine":
        fraction = min(step, total) / max(total, 1)
        cosine = 0.5 * (1 + math.cos(math.pi * fraction))
        return config.lr * (config.min_lr_ratio + (1 - config.min_lr_ratio) * cosine)
    return config.lr * progress.lr_scale


def _train_step(session: Session, inputs: torch.Tensor, targets: torch.Tensor, tokens: int,
                lr: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimiser step on a batch of ``tokens`` predicted tokens; returns the loss (nats per
    token) and the pre-clip gradient norm as 0-d tensors, on a GPU perhaps not computed yet."""
    for group in session.optimizer.param_groups:
        group["lr"] = lr
    session.optimizer.zero_grad(set_to_none=True)
    with autocast(session.train_config.precision, inputs.device):
        if session.train_config.bptt is None:
            _, loss = session.module(inputs, targets)
        else:
            _, loss, state = session.module(inputs, targets, state=session.stream_state, return_state=True)
            session.stream_state = map_state(torch.Tensor.detach, state)
    # Sum over tokens, over a constant: length-bucketed batches of short strings must not weigh
    # more per token than batches of long ones (that biases the model towards ending strings).
    (loss * (tokens / session.tokens_per_batch)).backward()
    clip = session.train_config.clip or math.inf
    norm = torch.nn.utils.clip_grad_norm_(session.model.parameters(), clip)
    session.optimizer.step()
    if session.average is not None:
        session.average.update_parameters(session.model)
    return loss.detach(), norm


# ------------------------------------------------------------------------ the end of an epoch


def _end_epoch(session: Session, bar: Bar) -> None:
    """Validate, record, update the schedule and early stopping, and write the checkpoints."""
    progress, config, history = session.progress, session.train_config, session.history
    nats, tokens = session.context.sum([progress.nats, progress.tokens])
    train_bits = nats / max(tokens, 1) / LN2
    val_bits = _validate(session)
    if not math.isfinite(train_bits) or (session.batches.has_validation and not math.isfinite(val_bits)):
        raise TrainingDiverged(_diverged(session, f"the validation loss is {val_bits:.4g}"))
    history["train_bits"].append(train_bits)
    history["val_bits"].append(val_bits)
    history["tokens_per_s"].append(tokens / max(progress.seconds, 1e-9))
    history["lr"].append(session.optimizer.param_groups[0]["lr"])
    validated = session.batches.has_validation
    improved = _record_best(session, val_bits if validated else train_bits, validated=validated)
    epoch = progress.epoch
    if progress.bad_epochs and config.schedule == "plateau":
        progress.lr_scale *= 0.5
    if config.patience is not None and progress.bad_epochs >= config.patience:
        progress.stop(f"early stopping after epoch {epoch + 1}")
    elif epoch + 1 >= session.epochs:
        progress.stop(f"finished {session.epochs} epochs")
    progress.next_epoch()
    session.stream_state = None
    bar.end_epoch(history, epoch, session.epochs)
    if progress.finished:
        kept = "best val" if validated else "kept the last epoch, train"
        bar.message(f"{progress.stop_reason}: {kept} {progress.best:.4f} bits/symbol "
                    f"at epoch {progress.best_epoch + 1}")
    save_training(session, save_model=improved or progress.finished)


def _refits_head(session: Session) -> bool:
    """Whether the output layer is still to be fitted again: asked for, validation strings to keep
    it honest, whole strings (not one stream), and not done before this run was resumed."""
    config = session.train_config
    return (config.refit_head and session.batches.has_validation and config.bptt is None
            and HEAD_RECORD not in session.history)


def _refit_head(session: Session, train: Corpus, val: Corpus, bar: Bar, interrupted: Interrupt) -> None:
    """Fit the kept model's output layer again with dropout off (:func:`neural.head.fit_head`),
    record the fit in the history and write the checkpoints; on a signal stop unrecorded (a
    resumed run fits it again) and raise TrainingInterrupted."""
    bar.message("fitting the output layer again, dropout off …")
    kept = best_model(session).model
    # each process fits alone (no collective call a round, which processes stopping at different
    # rounds would leave unanswered); rank 0's is saved
    fit = fit_head(kept, train, val, eos=session.vocabulary.eos, min_delta=session.train_config.min_delta,
                   seed=session.seed, interrupted=interrupted.is_set)
    if session.context.any(interrupted.is_set()):
        raise TrainingInterrupted(session.run_dir, interrupted.signum or signal.SIGINT)
    record = fit.record
    if record["rounds"]:
        session.best_state = {**session.best_state, "head.weight": fit.weight, "head.bias": fit.bias}
        bar.message(f"output layer fitted again: val {record['val_bits_before']:.4f} → {record['val_bits_after']:.4f} "
                    f"bits/symbol ({record['rounds']} rounds of L-BFGS on {record['tokens']:,} tokens)")
    else:
        bar.message(f"output layer kept: fitting it again did not lower the validation loss "
                    f"({record['val_bits_before']:.4f} bits/symbol)")
    session.history[HEAD_RECORD] = record
    save_training(session, save_model=True)


def _diverged(session: Session, what: str) -> str:
    """The one line that says where training diverged and what was kept."""
    saved = session.run_dir is not None and (session.run_dir / TRAINING_FILE).exists()
    kept = f"the last finite checkpoint is kept in {session.run_dir}" if saved else "nothing saved"
    return (f"training diverged in epoch {session.progress.epoch + 1}: {what} (try a smaller "
            f"learning rate or gradient clipping); {kept}")


def _record_best(session: Session, bits: float, *, validated: bool) -> bool:
    """Keep the model when the validation loss ``bits`` improves on the best; without validation
    (``validated`` False, ``bits`` the training loss) nothing chooses among the epochs, and the
    latest model is kept."""
    progress = session.progress
    if validated and not bits < progress.best - session.train_config.min_delta:
        progress.bad_epochs += 1
        return False
    progress.best, progress.best_epoch, progress.bad_epochs = bits, progress.epoch, 0
    session.best_state = {k: v.detach().clone() for k, v in session.evaluated.state_dict().items()}
    return True


def _validate(session: Session) -> float:
    """Validation bits per symbol (NaN without validation strings)."""
    if not session.batches.has_validation:
        return math.nan
    device, carried = session.context.device, session.train_config.bptt is not None
    nats = tokens = 0.0
    state = None
    model = session.evaluated.eval()
    with torch.no_grad():
        for batch in session.batches.validation:
            inputs, targets = batch.inputs.to(device), batch.targets.to(device)
            _, loss, state = model(inputs, targets, state=state, return_state=True)
            state = state if carried else None
            nats += loss.item() * batch.tokens
            tokens += batch.tokens
    session.model.train()
    nats, tokens = session.context.sum([nats, tokens])
    return nats / max(tokens, 1) / LN2
