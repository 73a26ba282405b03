"""Choosing the settings on validation strings: a small grid around the given configuration,
tried in order within a time budget; the best validation loss wins."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import NamedTuple

from automimic_io import write_atomic
from neural.checkpoint import TRIALS_FOLDER, TUNING_FILE, VALIDATED_FOLDER
from neural.config import LEGACY_TRAINING, TrainConfig
from neural.model import RNNConfig

LONGER = 3  # the last trial trains this many times the epochs (and the token cap)


@dataclass(frozen=True)
class Trial:
    """One candidate setting and how it did (``val_bits`` None: not tried within the budget)."""

    model: RNNConfig
    training: TrainConfig
    val_bits: float | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"model": asdict(self.model), "training": asdict(self.training),
                "val_bits": self.val_bits, "seconds": round(self.seconds, 1)}


def candidates(model: RNNConfig, training: TrainConfig) -> list[tuple[RNNConfig, TrainConfig]]:
    """The given settings first, then one lever changed at a time, cheapest first so that a
    tight budget drops the costliest: half the hidden size, heavier and lighter dropout on the
    outputs and on the recurrent weights, twice the hidden size, and the heavier dropout trained
    three times as long (its epochs and its token cap: heavier noise can learn more slowly).

    Examples
    --------
    >>> grid = candidates(RNNConfig(hidden_size=64), TrainConfig(epochs=40))
    >>> [(m.hidden_size, m.dropout, t.epochs) for m, t in grid]
    [(64, 0.3, 40), (32, 0.3, 40), (64, 0.5, 40), (64, 0.1, 40), (128, 0.3, 40), (64, 0.5, 120)]
    """
    training = replace(training, tune=0.0, tune_average=False)
    heavier = replace(model, dropout=0.5, weight_dropout=0.5)
    longer = replace(training, epochs=training.epochs * LONGER,
                     max_tokens=training.max_tokens and training.max_tokens * LONGER)
    variants = [
        (model, training),
        (replace(model, hidden_size=max(1, model.hidden_size // 2)), training),
        (heavier, training),
        (replace(model, dropout=0.1, weight_dropout=0.1), training),
        (replace(model, hidden_size=model.hidden_size * 2), training),
        (heavier, longer),
    ]
    return list(dict.fromkeys(variants))  # configs are frozen dataclasses: hashable


class Tuned(NamedTuple):
    """What :func:`tune` chose: the model, every trial, and the trials it is made of (one, or
    several whose models it averages) with their models, in the order they were added."""

    model: object
    trials: list[Trial]
    chosen: list[int]
    members: list[object]


def tune(
    fit: Callable[[RNNConfig, TrainConfig, Path | None], object],
    grid: Sequence[tuple[RNNConfig, TrainConfig]],
    *,
    budget_seconds: float,
    run_dir: Path | None,
    score: Callable[[object], float],
    average: Callable[[list[object]], object] | None = None,
    min_delta: float = 0.0,
    margin: Callable[[object, object], tuple[float, float] | None] | None = None,
) -> Tuned:
    """Fit the settings of ``grid`` in order (``fit(model, training, folder)`` returns a model)
    until ``budget_seconds`` have passed; a trial that has started is finished. Keeps the model
    of the lowest validation loss, ``score(model)`` (``neural.validation_bits``, in training).
    With ``average`` (models → the average of their distributions), the other trials are then
    offered to it, from the lowest loss up: each joins when the average's loss falls by more
    than ``min_delta`` (greedy ensemble selection, Caruana et al. 2004), since models trained
    with other settings err differently and their average is closer to the truth than each.
    With ``margin`` (model, other → how far the model's loss lies below the other's, and the
    standard error of that: :func:`neural.ensemble.validation_margin`), ``tuning.json`` records
    how far the choice leads the next best trial (the best one, under a chosen average), so that
    a choice the validation strings cannot resolve says so.

    Examples
    --------
    >>> class Fake:
    ...     def __init__(self, bits): self.bits = bits
    >>> grid = candidates(RNNConfig(hidden_size=8), TrainConfig())
    >>> tuned = tune(lambda m, t, d: Fake(1 / m.hidden_size), grid, budget_seconds=60, run_dir=None,
    ...              score=lambda fake: fake.bits)
    >>> tuned.model.bits, len(tuned.trials), tuned.chosen
    (0.0625, 6, [4])
    >>> each_lowers = lambda fakes: Fake(min(f.bits for f in fakes) - 0.001 * (len(fakes) - 1))
    >>> tune(lambda m, t, d: Fake(1 / m.hidden_size), grid, budget_seconds=60, run_dir=None,
    ...      score=lambda fake: fake.bits, average=each_lowers).chosen  # from the lowest loss up
    [4, 0, 2, 3, 5, 1]
    >>> tune(lambda m, t, d: Fake(1 / m.hidden_size), grid, budget_seconds=60, run_dir=None,
    ...      score=lambda fake: fake.bits, average=each_lowers, min_delta=0.005).chosen
    [4]
    """
    started = time.perf_counter()
    trials: list[Trial] = []
    models: dict[int, object] = {}
    earlier = _recorded_seconds(run_dir, grid)
    for i, (model, training) in enumerate(grid):
        if trials and time.perf_counter() - started >= budget_seconds:
            trials.append(Trial(model, training))
            continue
        trial_started = time.perf_counter()
        folder = None if run_dir is None else run_dir / TRIALS_FOLDER / str(i)
        models[i] = fit(model, training, folder)
        seconds = earlier.get(i, 0.0) + time.perf_counter() - trial_started
        trials.append(Trial(model, training, score(models[i]), seconds))
    if not models:
        raise ValueError("tuning needs validation strings: no trial has a validation loss")
    ranked = sorted(models, key=lambda i: trials[i].val_bits)  # stable: the earlier trial on a tie
    if not math.isfinite(trials[ranked[0]].val_bits):
        raise ValueError("tuning needs validation strings: no trial has a validation loss")
    chosen, best, best_bits = [ranked[0]], models[ranked[0]], trials[ranked[0]].val_bits
    offered: list[dict] = []  # every average scored, kept or not
    for i in ranked[1:] if average is not None else ():
        candidate = average([*(models[k] for k in chosen), models[i]])
        bits = score(candidate)
        offered.append({"trials": [*chosen, i], "val_bits": bits})
        if bits < best_bits - min_delta:
            chosen, best, best_bits = [*chosen, i], candidate, bits
    if run_dir is not None:
        runner_up = ranked[0] if len(chosen) > 1 else next(iter(ranked[1:]), None)
        lead = None if margin is None or runner_up is None else margin(best, models[runner_up])
        write_tuning(run_dir, trials, chosen, best_bits, offered,
                     lead=None if lead is None else {"over": runner_up, "bits": lead[0], "standard_error": lead[1]})
    return Tuned(best, trials, chosen, [models[k] for k in chosen])


def _recorded_seconds(run_dir: Path | None, grid: Sequence[tuple[RNNConfig, TrainConfig]]) -> dict[int, float]:
    """The seconds an earlier ``tuning.json`` in ``run_dir`` gives the trials of ``grid`` it
    finished (the same settings at the same place): a run tuned again resumes them, and their
    time is what they took then, not the moment it takes to load them."""
    path = None if run_dir is None else run_dir / TUNING_FILE
    if path is None or not path.is_file():
        return {}
    recorded = json.loads(path.read_text())["trials"]
    return {i: float(trial["seconds"]) for i, (trial, (model, training)) in enumerate(zip(recorded, grid, strict=False))
            if trial["val_bits"] is not None and trial["model"] == asdict(model)
            and {**LEGACY_TRAINING, **trial["training"]} == asdict(training)}  # one written before a field


def write_tuning(run_dir: Path, trials: Sequence[Trial], chosen: Sequence[int], val_bits: float,
                 offered: Sequence[dict] = (), lead: dict | None = None) -> None:
    """Write ``tuning.json``: every trial, the index of the best (``chosen``), the averages of
    trials scored (``averages_tried``: their trials and validation loss), where the model
    averages several trials, which (``average``: indices, in the order they joined) and its
    validation loss, and how far the model leads the next best trial (``margin``: ``over`` that
    trial, by ``bits`` per symbol, ± ``standard_error``)."""
    record: dict = {"chosen": chosen[0], "trials": [t.to_dict() for t in trials], "averages_tried": list(offered)}
    if len(chosen) > 1:
        record["average"] = {"trials": list(chosen), "val_bits": val_bits}
    if lead is not None:
        record["margin"] = lead
    write_atomic(run_dir / TUNING_FILE, json.dumps(record, indent=1) + "\n")


def tuned_choice(tuning: dict) -> str:
    """What ``--tune`` chose, from its ``tuning.json``: the settings its trial changed ("the
    given settings" when it kept them), or the average of several trials; and by how much its
    validation loss leads the next best trial's, where recorded.

    >>> given = {"model": {"hidden_size": 256, "dropout": 0.3}, "training": {"lr": 0.01}}
    >>> wider = {"model": {"hidden_size": 512, "dropout": 0.3}, "training": {"lr": 0.01}}
    >>> longer = {"model": {"hidden_size": 256, "dropout": 0.5}, "training": {"lr": 0.01, "epochs": 120}}
    >>> [tuned_choice({"chosen": k, "trials": [given, wider, longer]}) for k in (0, 1, 2)]
    ['the given settings', 'hidden_size 512', 'dropout 0.5, epochs 120']
    >>> tuned_choice({"chosen": 1, "trials": [given, wider, longer], "average": {"trials": [1, 0]}})
    'the average of 2 trials (hidden_size 512; the given settings)'
    >>> tuned_choice({"chosen": 2, "trials": [given, wider, longer],
    ...               "margin": {"over": 0, "bits": 0.000089, "standard_error": 0.000139}})
    'dropout 0.5, epochs 120 (validation 0.00009 ± 0.00014 bits/symbol below trial 0: within the noise)'
    """
    trials = tuning["trials"]
    chosen = tuning.get("average", {}).get("trials") or [tuning["chosen"]]
    settings = [_changed(trials[0], trials[k]) for k in chosen]
    choice = settings[0] if len(settings) == 1 else f"the average of {len(settings)} trials ({'; '.join(settings)})"
    lead = tuning.get("margin")
    if lead is None:
        return choice
    noise = ": within the noise" if lead["bits"] < lead["standard_error"] else ""  # under one standard error
    return (f"{choice} (validation {lead['bits']:.5f} ± {lead['standard_error']:.5f} bits/symbol "
            f"below trial {lead['over']}{noise})")


def _changed(given: dict, trial: dict) -> str:
    """The settings ``trial`` changed from ``given``, or "the given settings"."""
    changed = [f"{key} {value}" for part in ("model", "training")
               for key, value in trial[part].items() if given[part].get(key) != value]
    return ", ".join(changed) or "the given settings"


def tuned_choice_in(run_dir: Path) -> str | None:
    """What the tuned run in ``run_dir`` chose (see :func:`tuned_choice`; a refit run's tuning
    is its validated run's), or None when the run was not tuned."""
    for path in (run_dir / TUNING_FILE, run_dir / VALIDATED_FOLDER / TUNING_FILE):
        if path.is_file():
            return tuned_choice(json.loads(path.read_text()))
    return None
