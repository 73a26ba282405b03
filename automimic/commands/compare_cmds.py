"""``automimic compare`` (a trained run or another automaton against the truth) and
``automimic run`` (the whole pipeline: automaton → corpus → RNN → report)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from automata.shipped import DEFAULT_EXAMPLE, example_path
from automimic.arguments import count, positive
from automimic.errors import CliError
from automimic_io.jsontext import json_text

REPORT_FILES = ("metrics.json", "report.html")  # what compare writes into its output folder


def register(subparsers: argparse._SubParsersAction) -> None:
    _add_compare(subparsers)
    _add_run(subparsers)


def _add_compare(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare", help="measure a trained RNN (or another automaton) against the true automaton",
        usage="automimic compare FILE.yaml RUN [--n-test N] [--seed S] [--out DIR]\n"
              "       automimic compare FILE.yaml --model OTHER.yaml [--out DIR]")
    parser.add_argument("file", metavar="FILE.yaml", help="the true automaton")
    parser.add_argument("run", metavar="RUN", nargs="?", help="a run folder or a model file")
    parser.add_argument("--model", metavar="OTHER.yaml", help="compare another automaton instead")
    parser.add_argument("--n-test", type=positive, default=5000, help="test strings to sample (5000)")
    parser.add_argument("--n-samples", type=count, default=1000,
                        help="strings drawn from the model for the illegal fraction (1000)")
    parser.add_argument("--seed", type=count, default=0, help="random seed (0)")
    parser.add_argument("--out", metavar="DIR",
                        help="write metrics.json and report.html there (default: RUN/compare)")
    parser.add_argument("--json", action="store_true", help="print metrics.json instead of a table")
    parser.add_argument("--force", action="store_true",
                        help="replace an earlier metrics.json and report.html in the output folder")
    parser.set_defaults(handler=run_compare)


def _add_run(subparsers: argparse._SubParsersAction) -> None:
    from automimic.pipeline import RUN_MODEL_DEFAULTS, RUN_TRAINING_DEFAULTS, RunOptions
    from automimic.training_options import add_training_options

    parser = subparsers.add_parser(
        "run", help="the whole job: sample a corpus, train an RNN, compare it, write the report",
        usage="automimic run [FILE.yaml] [--out runs/NAME] [model and training options]")
    parser.add_argument("file", metavar="FILE.yaml", nargs="?",
                        help=f"the automaton (default: the shipped example {DEFAULT_EXAMPLE})")
    parser.add_argument("--out", metavar="DIR", help="the run folder (default: runs/NAME)")
    defaults = RunOptions()
    for name, text in (("n_train", "training strings"), ("n_val", "validation strings"),
                       ("n_test", "test strings"), ("n_samples", "strings drawn from the model"),
                       ("seed", "random seed")):
        default = getattr(defaults, name)
        kind = count if name in ("n_samples", "seed") else positive
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=default,
                            help=f"{text} ({default})")
    parser.add_argument("--force", action="store_true",
                        help="replace the run in --out instead of resuming it")
    parser.add_argument("--quiet", action="store_true", help="no training progress bar")
    add_training_options(parser, defaults={**RUN_MODEL_DEFAULTS, **RUN_TRAINING_DEFAULTS})
    parser.set_defaults(handler=run_pipeline)


# ----------------------------------------------------------------------------------- compare


def run_compare(args: argparse.Namespace) -> int:
    """``automimic compare``: score a run (or an automaton) against the truth, print, write."""
    import automata as am
    from automimic.run_folder import check_folder

    if (args.run is None) == (args.model is None):
        raise CliError("compare needs a RUN folder or --model OTHER.yaml (one of them)")
    if args.model is not None:
        out = Path(args.out) if args.out else None
    else:
        run = Path(args.run)
        out = Path(args.out) if args.out else (run / "compare" if run.is_dir() else None)
    if out is not None:
        check_folder(out, f"--out {out}")
        _check_earlier_report(out, force=args.force)
    truth = am.load(args.file)
    test = [tuple(s) for s in am.sample(truth, args.n_test, seed=args.seed)]
    if args.model is not None:
        comparison = _compare_automaton(truth, am.load(args.model), test, args)
    else:
        comparison = _compare_run(truth, Path(args.run), test, args)
    _print_and_write(comparison, out, as_json=args.json)
    return 0


def _check_earlier_report(out: Path, *, force: bool) -> None:
    """Refuse to replace an earlier report in ``out`` unless ``force``."""
    earlier = [name for name in REPORT_FILES if (out / name).exists()]
    if earlier and not force:
        raise CliError(f"{out} already holds {' and '.join(earlier)} from an earlier compare: "
                       "replace them with --force or choose another --out")


def _compare_automaton(truth, other, test, args: argparse.Namespace):
    from compare.comparison import compare_models

    return compare_models(truth, other, test, label=other.name or Path(args.model).stem,
                          n_samples=args.n_samples, seed=args.seed,
                          config=_config(args), progress=_stderr)


def _compare_run(truth, run: Path, test, args: argparse.Namespace):
    import neural
    from automimic.pipeline import model_label
    from automimic.provenance import trained_on
    from automimic_io import read_corpus, single_characters
    from compare.comparison import compare_models

    model = neural.load(run)
    folder = run if run.is_dir() else run.parent
    corpora = [folder / name for name in ("train.txt", "val.txt")]
    chars = single_characters(truth.alphabet)
    train, val = ([read_corpus(path, chars=chars) for path in corpora]
                  if all(path.exists() for path in corpora) else (None, None))
    if train is None:
        _stderr(f"no training corpus in {folder}: the n-gram baseline is left out")
    same, sentence = trained_on(folder, Path(args.file))
    if same:
        _stderr(sentence)
    return compare_models(truth, model, test, label=model_label(model), train=train,
                          val=val, n_samples=args.n_samples, seed=args.seed,
                          history=model.history, config=_config(args),
                          notices=() if same else (sentence,), progress=_stderr)


def _config(args: argparse.Namespace) -> dict:
    return {key: value for key, value in vars(args).items()
            if key != "handler" and isinstance(value, str | int | float | bool | type(None))}


def _print_and_write(comparison, out: Path | None, *, as_json: bool) -> None:
    from compare import write_report
    from compare.report import metrics_document

    if as_json:
        print(json_text(metrics_document(comparison)))
    else:
        print_summary(comparison)
    if out is not None:
        _stderr(f"report: {write_report(comparison, out)}")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


# --------------------------------------------------------------------------------------- run


def run_pipeline(args: argparse.Namespace) -> int:
    """``automimic run``: every stage, progress at each, the report's path at the end."""
    import automata as am
    import neural
    from automimic.pipeline import RunOptions, run
    from automimic.run_folder import check_folder
    from automimic.training_options import build_configs, check_device, chosen_options

    path = Path(args.file) if args.file else example_path(DEFAULT_EXAMPLE)
    if not path.exists():
        raise CliError(f"{path}: no such file")
    options = RunOptions(n_train=args.n_train, n_val=args.n_val, n_test=args.n_test,
                         n_samples=args.n_samples, seed=args.seed, device=args.device,
                         **chosen_options(args))
    build_configs(options.model, options.training)  # every option, before anything is written
    check_device(args.device)
    out = Path(args.out) if args.out else Path("runs") / (am.load(path).name or path.stem)
    check_folder(out, f"--out {out}")
    try:
        comparison = run(path, out, options, force=args.force, quiet=args.quiet)
    except neural.TrainingInterrupted as stop:
        again = "the same command without --force" if args.force else "the same command"
        _stderr(f"automimic: interrupted; the run is saved in {out}: run {again} to resume")
        return stop.exit_code
    print_summary(comparison)
    print(f"report: {out / 'report.html'}")
    return 0


def print_summary(comparison) -> None:
    """The terminal summary: notices and the verdict, the headline table, why metrics differ."""
    from rich.console import Console

    from compare.table import metrics_table
    from compare.verdict import summary_lines

    console = Console()
    before, after = summary_lines(comparison)
    for line in before:
        console.print(line, markup=False, highlight=False)
    console.print(metrics_table(comparison))
    for line in after:
        console.print(line, markup=False, highlight=False)
