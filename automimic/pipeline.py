"""The main job: automaton → corpus → RNN → comparison → report, in one run folder.

Stages: validate the automaton, render it, sample train/validation/test strings, train the RNN,
compare it with the truth (and the n-gram baseline and the oracle), write ``metrics.json`` and
``report.html``. The run folder is also a training run folder (``model.pt``, ``train.txt`` ...),
so ``automimic generate``, ``score`` and ``compare`` work on it.

Running again into the same folder with the same settings resumes: finished stages are reused
(the corpora, a finished training) and an interrupted training continues from its checkpoint.
Other settings, or a folder that holds something else, need ``force``; nothing is lost silently.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

import automata as am
from automimic.errors import CliError
from automimic.provenance import source_record
from automimic.run_folder import RUN_FILES, check_folder, write_run_corpora
from automimic_io import read_bytes, read_corpus, single_characters, write_atomic, write_corpus
from automimic_io.jsontext import json_text

RUN_FILE = "run.json"
TEST_FILE = "test.txt"
OUTPUT_FILES = ("automaton.yaml", "automaton.svg", "automaton.dot", TEST_FILE, RUN_FILE,
                "metrics.json", "inspect.json", "report.html")
TRAINING_FILES = RUN_FILES  # what `automimic train` writes into a run folder
# run's own defaults, for its 3-minute budget on 2 CPU cores: on abe_markov (10.5 M tokens in 40
# epochs) 12 M tokens took 239 s of CPU at hidden 128, and hidden 256 costs about 2.5× as much per
# token; the output layer's second fit (neural.head) took 20-40 s more on the examples of long
# strings (benchmarks/README.md, "automimic run on every shipped example")
RUN_MODEL_DEFAULTS = {"hidden_size": 128}
RUN_TRAINING_DEFAULTS = {"max_tokens": 6_000_000, "refit_head": False}


@dataclass(frozen=True)
class RunOptions:
    """The settings of one ``automimic run``. The defaults reach the targets on the shipped example
    ``i_before_e_pfa`` (KL and WER ≤ 0.01) in well under a minute on 2 CPU cores."""

    n_train: int = 20000  # strings sampled for training (as `automimic train`)
    n_val: int = 2000  # for validation (early stopping, and choosing the n-gram's k and λ)
    n_test: int = 5000  # for the comparison
    n_samples: int = 1000  # strings drawn from the model (illegal fraction, α sweep)
    seed: int = 0  # every random choice of the run derives from it
    model: dict = field(default_factory=dict)  # neural.RNNConfig fields given on the command line
    training: dict = field(default_factory=dict)  # neural.TrainConfig fields given
    device: str = "auto"

    def __post_init__(self) -> None:
        for name in ("n_train", "n_val", "n_test"):
            if getattr(self, name) < 1:
                raise CliError(f"--{name.replace('_', '-')} must be at least 1 "
                               f"(got {getattr(self, name)})")
        if self.n_samples < 0:
            raise CliError(f"--n-samples must be at least 0 (got {self.n_samples})")




def stage_seeds(seed: int) -> dict[str, int]:
    """Independent seeds for the stages, all derived from ``seed``.

    >>> stage_seeds(0) == stage_seeds(0), stage_seeds(0)["train"] != stage_seeds(0)["test"]
    (True, True)
    """
    names = ("train", "val", "test", "model", "samples", "inside")
    children = np.random.SeedSequence(seed).spawn(len(names))
    return {name: int(child.generate_state(1)[0] >> 1) for name, child in zip(names, children,
                                                                              strict=True)}


def prepare_folder(out: Path, record: dict, *, force: bool) -> bool:
    """Make ``out`` ready; True when it resumes an earlier run with the same settings.

    Refuses (CliError) a folder that holds another run or other files, unless ``force``, which
    removes only the files a run writes.
    """
    from neural.checkpoint import remove_nested_runs, remove_temporaries

    ours = [name for name in OUTPUT_FILES + TRAINING_FILES if (out / name).exists()]
    if force:
        for name in ours:
            (out / name).unlink()
        remove_nested_runs(out)
        out.mkdir(parents=True, exist_ok=True)
        remove_temporaries(out, OUTPUT_FILES + TRAINING_FILES)
        return False
    previous = _read_record(out / RUN_FILE)
    if previous is not None:
        changed = setting_changes(previous, record)
        if not changed:
            remove_temporaries(out, OUTPUT_FILES + TRAINING_FILES)
            return True
        raise CliError(f"{out} holds a run with other settings ({'; '.join(changed)}): "
                       "replace it with --force or choose another --out")
    if ours:
        raise CliError(f"{out} already holds files ({', '.join(ours)}): replace them with "
                       "--force or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    return False


_ABSENT = object()  # a setting one of two runs does not have


def setting_changes(previous: dict, record: dict) -> list[str]:
    """Each setting of ``record`` that differs from ``previous``, with both values; nested
    settings (the model's, the training's) by their own names.

    Examples
    --------
    >>> setting_changes({"seed": 0, "model": {"hidden_size": 8}, "automaton": "a.yaml"},
    ...                 {"seed": 1, "model": {}, "automaton": "b.yaml"})
    ['model.hidden_size: 8 → not given', 'seed: 0 → 1']
    """
    changes = []
    for key in sorted((set(previous) | set(record)) - {"automaton"}):
        old, new = previous.get(key, _ABSENT), record.get(key, _ABSENT)
        if isinstance(old, dict) and isinstance(new, dict):
            changes += [f"{key}.{change}" for change in setting_changes(old, new)]
        elif old != new:
            changes.append(f"{key}: {_shown_setting(old)} → {_shown_setting(new)}")
    return changes


def _shown_setting(value) -> str:
    return "not given" if value is _ABSENT else repr(value)


def _read_record(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise CliError(f"{path}: corrupt run file ({err}); replace the run with --force") from None


def sample_corpus(truth: am.Automaton, n: int, seed: int,
                  say: Callable[[str], None]) -> list[tuple[str, ...]]:
    """``n`` strings drawn from ``truth``; says how many were cut at the maximum length."""
    samples = am.sample(truth, n, seed=seed)
    cut = int(samples.cut.sum())
    if cut:
        say(f"note: {cut} of {n} sampled strings reached {am.DEFAULT_MAX_LENGTH} symbols and "
            "were cut there")
    return list(samples.strings)


def run(path: Path, out: Path, options: RunOptions, *, force: bool = False, quiet: bool = False,
        say: Callable[[str], None] = print):
    """Run every stage; returns the :class:`compare.comparison.Comparison` (files in ``out``)."""
    import neural
    from compare import write_report
    from compare.comparison import compare_models
    from compare.inside.document import to_json as inside_json
    from compare.inside.inspection import inspect_model
    from compare.verdict import assumptions
    from neural.checkpoint import MEMBERS_FOLDER

    started = time.perf_counter()

    def detail(message: str) -> None:  # a step within a stage
        say(f"      {message}")

    say(f"[1/7] validating {path}")
    truth = am.load(path)
    for text in assumptions(truth.kind, truth.name or Path(path).name):
        detail(f"note: {text}")
    # bad options fail before any file is written
    model_fields, training_fields = run_fields(options)
    model_config, train_config = neural.RNNConfig(**model_fields), neural.TrainConfig(**training_fields)
    try:
        neural.resolve_device(options.device)
    except ValueError as err:
        raise CliError(f"--device {options.device}: {err}") from None
    check_folder(out, f"--out {out}")
    record = {**source_record(path), **asdict(options)}
    resuming = prepare_folder(out, record, force=force)
    if resuming:
        detail(f"resuming the run in {out} (same automaton and settings)")
    write_atomic(out / "automaton.yaml", read_bytes(path))
    write_atomic(out / RUN_FILE, json_text(record) + "\n")
    say(f"[2/7] drawing the automaton ({len(truth.states)} states)")
    detail(_render(truth, out))
    seeds = stage_seeds(options.seed)
    train, val, test = _corpora(truth, out, options, seeds, resuming, say)
    say(f"[4/7] training the RNN ({_describe(options)})")
    model = neural.train(train, val, truth.alphabet, model_config, train_config,
                         seed=seeds["model"],
                         device=options.device, run_dir=out, quiet=quiet,
                         resume=(out / "training.pt").exists() or (out / MEMBERS_FOLDER).exists())
    say(f"[5/7] comparing with the truth on {len(test)} test strings")
    comparison = compare_models(
        truth, model, test, label=model_label(model),
        train=train, val=val, n_samples=options.n_samples, seed=seeds["samples"],
        history=model.history, config={"run": record, "seeds": seeds,
                                       "model": asdict(model.config)},
        progress=detail)
    say("[6/7] looking inside the RNN: probes, cells, extracted automaton")
    if isinstance(model, neural.Ensemble):
        detail(f"an ensemble of {len(model.members)}: looking inside its first member")
    inspection = inspect_model(truth, neural.one_network(model), seed=seeds["inside"], progress=detail)
    say("[7/7] writing metrics.json, inspect.json and report.html")
    write_atomic(out / "inspect.json", json_text(inside_json(inspection)) + "\n")
    detail("drawing the report's figures and automata")
    write_report(comparison, out, inspection=inspection)  # metrics.json and report.html
    say(f"done in {time.perf_counter() - started:.1f} s")
    return comparison


def model_label(model) -> str:
    """A short name of an RNN for tables: cell (and nonlinearity), hidden size; for an ensemble,
    how many networks it averages and their kinds.

    >>> from types import SimpleNamespace as C
    >>> model_label(C(config=C(cell="elman", nonlinearity="sigmoid", hidden_size=32)))
    'RNN (elman sigmoid 32)'
    >>> lstm = lambda size: C(config=C(cell="lstm", nonlinearity="tanh", hidden_size=size))
    >>> model_label(C(members=[lstm(128), lstm(256), lstm(128)]))
    'average of 3 RNNs (lstm 128, lstm 256)'
    """
    members = getattr(model, "members", None)
    if members is None:
        return f"RNN ({_network_label(model.config)})"
    kinds = dict.fromkeys(_network_label(member.config) for member in members)
    return f"average of {len(members)} RNNs ({', '.join(kinds)})"


def _network_label(config) -> str:
    cell = f"elman {config.nonlinearity}" if config.cell == "elman" else config.cell
    return f"{cell} {config.hidden_size}"


def _render(truth: am.Automaton, out: Path) -> str:
    """Draw ``truth`` into ``out/automaton.svg``, or write ``automaton.dot`` when it cannot be
    drawn (too large, no Graphviz, too slow); returns what was done, in words."""
    from automata.rendering import drawing_problem

    problem = drawing_problem(truth)
    if problem is None:
        try:
            am.render(truth, str(out / "automaton.svg"))
            return "wrote automaton.svg"
        except am.TimeLimitError as err:
            problem = str(err)
    am.render(truth, str(out / "automaton.dot"))
    return f"not drawn: {problem}; wrote automaton.dot"


def _corpora(truth: am.Automaton, out: Path, options: RunOptions, seeds: dict[str, int],
             resuming: bool, say: Callable[[str], None]) -> tuple[list, list, list]:
    names = ("train.txt", "val.txt", TEST_FILE)
    if resuming and all((out / name).exists() for name in names):
        say("[3/7] reusing the sampled corpora")
        chars = single_characters(truth.alphabet)
        return tuple(read_corpus(out / name, chars=chars) for name in names)  # type: ignore[return-value]
    say(f"[3/7] sampling {options.n_train} training, {options.n_val} validation and "
        f"{options.n_test} test strings")
    corpora = [sample_corpus(truth, n, seeds[name], lambda text: say(f"      {text}"))
               for n, name in ((options.n_train, "train"), (options.n_val, "val"),
                               (options.n_test, "test"))]
    write_run_corpora(out, corpora[0], corpora[1], truth.alphabet, chars=False)
    write_corpus(out / TEST_FILE, corpora[2], truth.alphabet)
    return corpora[0], corpora[1], corpora[2]


def run_fields(options: RunOptions) -> tuple[dict, dict]:
    """The RNNConfig and TrainConfig fields of a run: those given, over :data:`RUN_MODEL_DEFAULTS`
    and :data:`RUN_TRAINING_DEFAULTS`.

    >>> run_fields(RunOptions(training={"epochs": 3}))
    ({'hidden_size': 128}, {'max_tokens': 6000000, 'refit_head': False, 'epochs': 3})
    >>> run_fields(RunOptions(model={"hidden_size": 8}, training={"max_tokens": None}))
    ({'hidden_size': 8}, {'max_tokens': None, 'refit_head': False})
    """
    return {**RUN_MODEL_DEFAULTS, **options.model}, {**RUN_TRAINING_DEFAULTS, **options.training}


def _describe(options: RunOptions) -> str:
    import neural

    model_fields, training_fields = run_fields(options)
    model, training = neural.RNNConfig(**model_fields), neural.TrainConfig(**training_fields)
    return (f"{model.cell}{' ' + model.nonlinearity if model.cell == 'elman' else ''}, "
            f"hidden {model.hidden_size}, up to {training.epochs} epochs")
