"""Commands on RNN runs: train, generate, gradients (a run folder's files: automimic.run_folder;
``score`` and ``complete`` on a run: automimic.trained_runs)."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path

import numpy as np

from automimic.arguments import count, inverse_temperature, positive
from automimic.errors import CliError
from automimic.printing import JSON_LINES_HELP, json_lines, sample_records
from automimic.provenance import write_source
from automimic.run_folder import (
    CORPUS_FILE,
    RUN_FILES,
    check_folder,
    read_run_corpora,
    write_run_corpora,
)
from automimic.trained_runs import load_run, note
from automimic.training_options import (
    add_training_options,
    build_configs,
    check_device,
    check_precision,
    chosen_options,
)
from automimic_io import (
    MAX_CORPUS_BYTES,
    parse_corpus,
    read_text,
    write_atomic,
)

VAL_FRACTION = 0.1  # held out for validation when no validation corpus is given
PLOT_FORMATS = (".png", ".svg", ".pdf")

def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``train``, ``generate`` and ``gradients`` to the command line."""
    _add_train(subparsers)
    generate = subparsers.add_parser(
        "generate", help="sample strings from a trained RNN",
        description="Sample strings from the RNN of a run folder (or a model file), one a "
                    "line; --alpha sharpens (> 1) or flattens (< 1) its distribution.")
    generate.add_argument("run", metavar="RUN", help="a run folder or a model file")
    generate.add_argument("-n", type=count, default=10, help="how many strings (10)")
    generate.add_argument("--alpha", type=inverse_temperature, default=1.0, help="inverse temperature (1)")
    generate.add_argument("--seed", type=count, default=None, help="random seed")
    generate.add_argument("--max-length", type=count, default=1000, help="cut strings there (1000)")
    generate.add_argument("--json", action="store_true",
                          help=f"{JSON_LINES_HELP}: string, symbols, cut")
    generate.set_defaults(handler=run_generate)
    gradients = subparsers.add_parser(
        "gradients", help="plot the gradient flow through time and the gradient-norm history",
        description="Plot how far back gradients reach in the RNN of a run: the mean norm of "
                    "∂s_t/∂s_k by distance t − k on strings it samples (vanishing gradients "
                    "decay fast), beside the gradient norms seen in training.")
    gradients.add_argument("run", metavar="RUN", help="a run folder")
    gradients.add_argument("-o", "--out", required=True, help="the plot (png, svg or pdf)")
    gradients.add_argument("-n", type=positive, default=50, help="strings to measure (50)")
    gradients.add_argument("--seed", type=count, default=0, help="random seed (0)")
    gradients.set_defaults(handler=run_gradients)


def _add_train(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train",
        help="train an RNN on strings sampled from an automaton, or on a corpus",
        description="automimic train FILE.yaml --out runs/NAME, or "
        "automimic train --data train.txt [--val val.txt] [--chars] --out runs/NAME",
    )
    train.add_argument("file", nargs="?", metavar="FILE.yaml", help="an automaton to imitate")
    train.add_argument("--data", help="a corpus: one string a line (or a text with --chars)")
    train.add_argument("--val", help="a validation corpus (default: 10%% of --data)")
    train.add_argument("--chars", action="store_true", help="--data is plain text: one stream")
    train.add_argument("--out", required=True, help="the run folder")
    train.add_argument("--n-train", type=positive, default=20000, help="strings to sample (20000)")
    train.add_argument("--n-val", type=positive, default=2000,
                       help="validation strings (2000): they choose the best epoch and stop "
                            "training early")
    train.add_argument("--seed", type=count, default=0, help="random seed (0)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--resume", action="store_true", help="continue the run in --out")
    train.add_argument("--force", action="store_true", help="replace the run in --out")
    add_training_options(train)
    train.set_defaults(handler=run_train)


# ------------------------------------------------------------------------------------- train


def run_train(args: argparse.Namespace) -> int:
    """``automimic train``: sample or read the corpora, save them in the run folder, train.

    Every option, the corpora and the run folder are checked before anything is written, so a
    refused command leaves nothing that blocks the corrected one.
    """
    import neural

    out = Path(args.out)
    leader = int(os.environ.get("RANK", "0")) == 0
    _check_train_options(args, out)
    reuse = args.resume and (out / CORPUS_FILE).exists()
    chars = args.data is not None and args.chars
    model_config, train_config = _configs(args, None if reuse else _chars_bptt(args, chars))
    check_precision(args.device, model_config, train_config)
    if leader:
        _check_run_folder(args, out)
    if reuse:
        train_strings, val_strings, alphabet = read_run_corpora(out)
    elif args.file is not None:
        train_strings, val_strings, alphabet = _sample_automaton(args)
    else:
        train_strings, val_strings, alphabet = _read_corpora(args)
    if chars and not reuse:
        train_config = _stream_config(args, train_config, len(train_strings[0]), leader)
    if leader:
        _clear_run_folder(args, out)
        if not reuse:
            write_run_corpora(out, train_strings, val_strings, alphabet, chars)
            if args.file is not None:
                write_source(out, Path(args.file))
    try:
        model = neural.train(
            train_strings,
            val_strings,
            alphabet,
            model_config,
            train_config,
            seed=args.seed,
            device=args.device,
            run_dir=out,
            quiet=args.quiet,
            resume=args.resume,
        )
    except neural.TrainingInterrupted as stop:
        print(f"automimic: interrupted; saved in {out}: continue with --resume", file=sys.stderr)
        return stop.exit_code
    if leader:
        _print_summary(model, out, val_strings)
    return 0


def _check_train_options(args: argparse.Namespace, out: Path) -> None:
    """Refuse (CliError) contradictory or impossible options; reads and writes nothing."""
    if (args.file is None) == (args.data is None):
        raise CliError("train needs an automaton FILE.yaml or --data CORPUS (one of them)")
    if args.resume and args.force:
        raise CliError("--resume and --force contradict each other: choose one")
    check_device(args.device)
    check_folder(out, f"--out {out}")


def _check_run_folder(args: argparse.Namespace, out: Path) -> None:
    existing = [name for name in (*RUN_FILES, "members", "trials", "validated") if (out / name).exists()]
    if existing and not (args.resume or args.force):
        raise CliError(
            f"{out} already holds a run ({', '.join(existing)}): continue it with --resume or "
            "replace it with --force"
        )


def _clear_run_folder(args: argparse.Namespace, out: Path) -> None:
    """Remove the run's files (with --force) and what killed writes of them left behind."""
    from neural.checkpoint import remove_nested_runs, remove_temporaries

    if args.force:
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
        remove_nested_runs(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_temporaries(out, RUN_FILES)


def _sample_automaton(args: argparse.Namespace) -> tuple[list, list, tuple[str, ...]]:
    import automata as am
    from automimic.pipeline import sample_corpus

    automaton = am.load(args.file)
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(args.seed).spawn(2)]
    def say(text: str) -> None:
        print(f"automimic: {text}", file=sys.stderr)

    train_strings = sample_corpus(automaton, args.n_train, seeds[0], say)
    val_strings = sample_corpus(automaton, args.n_val, seeds[1], say)
    return train_strings, val_strings, tuple(automaton.alphabet)


def _read_corpora(args: argparse.Namespace) -> tuple[list, list, tuple[str, ...]]:
    """The training and validation strings of ``--data`` (and ``--val``), and the alphabet:
    the symbols of ``--data``; a given validation corpus may not add symbols the model never
    saw in training."""
    train_strings = read_data(args.data, chars=args.chars)
    alphabet = _corpus_alphabet(args.data, train_strings)
    if args.val is not None:
        val_strings = read_data(args.val, chars=args.chars)
        known = set(alphabet)
        unknown = _first_line_with(val_strings, args.chars, lambda s: s not in known)
        if unknown is not None:
            line, symbol = unknown
            raise CliError(f"{args.val}:{line}: unknown symbol {symbol!r}: not in the training "
                           f"corpus {args.data} (alphabet: {' '.join(alphabet)})")
        return train_strings, val_strings, alphabet
    if args.chars:  # the last tenth of the text
        text = train_strings[0]
        cut = int(len(text) * (1 - VAL_FRACTION))
        train_strings, val_strings = [text[:cut]], [text[cut:]]
    else:
        order = np.random.default_rng(args.seed).permutation(len(train_strings))
        n_val = max(1, int(len(order) * VAL_FRACTION)) if len(order) > 1 else 0
        val_strings = [train_strings[i] for i in order[:n_val]]
        train_strings = [train_strings[i] for i in order[n_val:]]
    if not val_strings or (args.chars and not (train_strings[0] and val_strings[0])):
        raise CliError(f"{args.data}: too short to hold out a tenth for validation (needed to "
                       "stop training early): give a validation corpus with --val")
    return train_strings, val_strings, alphabet


def _corpus_alphabet(path: str, strings: list[tuple[str, ...]]) -> tuple[str, ...]:
    """The symbols of a training corpus; CliError naming the file when it has none."""
    from neural import infer_alphabet

    alphabet = infer_alphabet(strings)
    if not alphabet:
        raise CliError(f"{path}: no symbols in the corpus (only blank lines)")
    return alphabet


def _first_line_with(strings: list[tuple[str, ...]], chars: bool,
                     is_bad) -> tuple[int, str] | None:
    """The line (from 1) and the first symbol for which ``is_bad`` holds, or None.

    Examples
    --------
    >>> _first_line_with([("a",), ("b", "$")], False, lambda s: s == "$")
    (2, '$')
    >>> _first_line_with([tuple("a\\nb\\n$")], True, lambda s: s == "$")
    (3, '$')
    """
    if chars:  # one string: the whole text, newlines included
        text = strings[0] if strings else ()
        for position, symbol in enumerate(text):
            if is_bad(symbol):
                return text[:position].count("\n") + 1, symbol
        return None
    for line, string in enumerate(strings, start=1):
        for symbol in string:
            if is_bad(symbol):
                return line, symbol
    return None


def read_data(path: str | os.PathLike, *, chars: bool = False) -> list[Sequence[str]]:
    """Strings of a corpus file, read as :func:`automimic_io.parse_corpus` reads them; with
    ``chars`` the whole text is one string of characters, kept as one ``str`` (a tuple would
    cost 8 bytes a character more).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.txt"
    >>> _ = p.write_text("ab\\nb\\n")
    >>> read_data(p)
    [('a', 'b'), ('b',)]
    """
    text = read_text(path, limit=MAX_CORPUS_BYTES, what="corpus")
    strings = [text] if chars and text else parse_corpus(text)
    if not strings:
        raise CliError(f"{path}: the corpus is empty")
    return strings


def _chars_bptt(args: argparse.Namespace, chars: bool) -> int | None:
    return 100 if chars and not hasattr(args, "bptt") else None


def _configs(args: argparse.Namespace, default_bptt: int | None):
    """The configurations from the options given; None when resuming with no option given."""
    chosen = chosen_options(args)
    if default_bptt is not None:
        chosen["training"].setdefault("bptt", default_bptt)
    if args.resume and not any(chosen.values()):
        return None, None
    if args.resume:
        chosen = _with_saved(args, chosen)
    return build_configs(chosen["model"], chosen["training"])


def _with_saved(args: argparse.Namespace, chosen: dict) -> dict:
    """Options given with --resume on top of the saved configuration (train refuses changes)."""
    from neural import RNNConfig, TrainConfig
    from neural.checkpoint import MEMBERS_FOLDER, TRAINING_FILE, VALIDATED_FOLDER, load_checkpoint

    out = Path(args.out)
    # an ensemble's members share one configuration; a refit's first run has it (--refit aside)
    places = [out, out / MEMBERS_FOLDER / "0", out / VALIDATED_FOLDER, out / VALIDATED_FOLDER / MEMBERS_FOLDER / "0"]
    path = next((place / TRAINING_FILE for place in places if (place / TRAINING_FILE).exists()), None)
    if path is None:
        return chosen
    saved = load_checkpoint(path, kind="training")
    names = {"model": (RNNConfig, "model_config"), "training": (TrainConfig, "train_config")}
    known = {group: {f.name for f in fields(cls)} for group, (cls, _) in names.items()}
    return {
        group: {**{k: v for k, v in saved[key].items() if k in known[group]}, **chosen[group]}
        for group, (_, key) in names.items()
    }


def _stream_config(args: argparse.Namespace, config, length: int, leader: bool):
    """The training configuration of a text: parallel streams from its length unless given
    (a short text then still makes several steps an epoch), and a line that says so."""
    from dataclasses import replace

    from neural.data import stream_batch_size

    if "batch_size" not in chosen_options(args)["training"]:
        config = replace(config, batch_size=stream_batch_size(length, config.bptt))
    columns = min(config.batch_size, max(1, length // 2))
    steps = -(-(length // columns) // config.bptt)
    if leader:
        print(f"automimic: training on one stream of {length:,} characters: {columns} parallel "
              f"streams in chunks of {config.bptt} ({steps} step{'s' * (steps != 1)} an epoch)",
              file=sys.stderr)
    return config


def _print_summary(model, out: Path, val_strings: list) -> None:
    import neural
    from neural.trained import fitted_note
    from neural.tuning import tuned_choice_in

    history = model.history  # an ensemble's: its first model's
    best = history.get("best_epoch", -1)
    val = history["val_bits"][best] if history.get("val_bits") else math.nan
    refit = history.get("refit_train_bits")
    fitted = fitted_note(history)  # an ensemble's: its first model's
    epochs = len(history["train_bits"])
    trained = (f"trained {epochs} epoch{'s' * (epochs != 1)}; best epoch {best + 1}: validation {val:.4f} "
               f"bits/symbol{fitted}")
    if isinstance(model, neural.Ensemble):
        epochs = sorted({len(member.history["train_bits"]) for member in model.members})  # trials may differ
        span = f"{epochs[0]}" if len(epochs) == 1 else f"{epochs[0]} to {epochs[-1]}"
        trained = f"trained {len(model.members)} models of {span} epoch{'s' * (epochs[-1] != 1)}; "
        if refit:  # trained on the validation strings too: only the first's validated run is judged
            trained += f"the first's best epoch {best + 1}: validation {val:.4f} bits/symbol{fitted}"
            val = neural.validation_bits(model.members[0], None)
        else:
            val = neural.validation_bits(model, val_strings)
            trained += (f"validation of their average {val:.4f} bits/symbol (the first alone: "
                        f"{history['val_bits'][best]:.4f}, in its best epoch {best + 1}{fitted})")
    else:
        val = neural.validation_bits(model, None)  # the kept epoch's, or its output layer's fitted again
    again = f"; then refit on all strings for {len(refit)} epochs" if refit else ""
    tuned = tuned_choice_in(out)
    chose = "" if tuned is None else f"; tune chose {tuned}, tuning.json has every trial"
    print(f"{trained}{chose}{again}; model saved in {out}")
    baseline = history.get("unigram_bits")
    if baseline is not None and not val < baseline:
        print(f"automimic: warning: the validation loss ({val:.4f} bits/symbol) is no better than "
              f"a unigram model of the training data ({baseline:.4f}): train longer (--epochs), "
              "on more data, or with other settings", file=sys.stderr)


def run_generate(args: argparse.Namespace) -> int:
    """``automimic generate RUN``: strings sampled from the RNN, one a line."""
    model = load_run(args.run)
    samples = model.sample(args.n, alpha=args.alpha, max_length=args.max_length, seed=args.seed)
    if args.json:
        sys.stdout.write(json_lines(sample_records(samples, samples.cut, model.vocabulary.format)))
    else:
        sys.stdout.write("".join(model.vocabulary.format(s) + "\n" for s in samples))
    cut = int(samples.cut.sum())
    if model.stream:
        note(f"a model of one text has no end of string: each sample is --max-length "
             f"{args.max_length} characters of text")
    elif cut:
        note(f"{cut} of {args.n} strings reached --max-length {args.max_length} and were cut there")
    return 0


def run_gradients(args: argparse.Namespace) -> int:
    """``automimic gradients RUN -o PLOT``: gradient flow through time and grad-norm history."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(args.out)
    _check_plot_path(out)
    import neural

    model = neural.one_network(load_run(args.run))  # an ensemble: its first member
    _say(f"sampling {args.n} strings from the model")
    strings = [s for s in model.sample(args.n, seed=args.seed, max_length=200) if s]
    _say(f"measuring the gradient flow on the samples ({len(strings)} strings, "
         f"{sum(map(len, strings))} symbols; a bounded number of pairs)")
    flow = model.gradient_flow(strings, progress=_every_second(
        lambda done, total: _say(f"gradient flow: {done}/{total} strings measured"))) \
        if strings else np.ones(1)
    norms = model.history.get("grad_norm", [])
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    try:
        left.semilogy(np.arange(len(flow)), flow, marker=".")
        left.set(
            xlabel="distance t − k",
            ylabel="mean ‖∂s_t/∂s_k‖₂",
            title=f"gradient flow through time ({model.config.cell})",
        )
        right.semilogy(np.arange(1, len(norms) + 1), norms, linewidth=0.7)
        right.set(
            xlabel="training step",
            ylabel="gradient norm before clipping",
            title="gradient norm history",
        )
        figure.tight_layout()
        image = io.BytesIO()  # the whole plot first, then one atomic write
        figure.savefig(image, format=out.suffix[1:].lower())
    finally:
        plt.close(figure)
    write_atomic(out, image.getvalue())
    print(f"wrote {out}")
    return 0


def _say(message: str) -> None:
    print(f"automimic: {message}", file=sys.stderr)


def _every_second(report: Callable[[int, int], None]) -> Callable[[int, int], None]:
    """``report(done, total)`` at most once a second, and always at the end.

    >>> seen = []
    >>> tick = _every_second(lambda done, total: seen.append(done))
    >>> for done in (1, 2, 3):
    ...     tick(done, 3)
    >>> seen
    [3]
    """
    last = time.monotonic()

    def tick(done: int, total: int) -> None:
        nonlocal last
        if done == total or time.monotonic() - last >= 1.0:
            last = time.monotonic()
            report(done, total)

    return tick


def _check_plot_path(out: Path) -> None:
    """Refuse (CliError) a plot path that cannot be written, before any computation."""
    if out.is_dir():
        raise CliError(f"-o {out}: is a directory, expected a plot file "
                       f"({', '.join(PLOT_FORMATS)})")
    if out.suffix.lower() not in PLOT_FORMATS:
        raise CliError(f"-o {out}: the name must end in {', '.join(PLOT_FORMATS)} (the plot's "
                       f"format), got {out.suffix or 'no suffix'!r}")
    check_folder(out.parent, f"-o {out}")
