"""``automimic inspect``: what is inside a trained RNN, against the true automaton's states.

Writes ``inspect.json`` (probe accuracy overall and per group, top units, the extracted
automaton and its distances) and a self-contained ``inspect.html``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from automimic.arguments import count, positive
from automimic.errors import CliError
from automimic_io.jsontext import json_text


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``inspect`` to the command line."""
    parser = subparsers.add_parser(
        "inspect", help="probe an RNN's hidden states for the true automaton's states",
        usage="automimic inspect FILE.yaml RUN [--group NAME=state1,state2] [--units U,...] "
              "[--out DIR] [--seed S]",
        description="Align the RNN's hidden states with the true states, train linear probes, "
                    "find the units that track groups of states, extract a PDFA by clustering.")
    parser.add_argument("file", metavar="FILE.yaml", help="the true automaton")
    parser.add_argument("run", metavar="RUN", help="a run folder or a model file")
    parser.add_argument("--group", action="append", default=[], metavar="NAME=STATES",
                        help="a group of states: NAME=state1,state2 or NAME=~REGEX (the states "
                             "whose names match); repeat for several (default: the most "
                             "visited states, one each)")
    parser.add_argument("--units", default="", metavar="U,...",
                        help="units to draw as coloured text: labels such as h0:12 or column "
                             "numbers, comma-separated")
    parser.add_argument("--n-strings", type=positive, default=2000,
                        help="strings sampled from the truth (2000): half fit the probes, a "
                             "quarter chooses k, a quarter scores")
    parser.add_argument("--k", type=positive, default=None,
                        help="clusters of the extracted automaton (default: chosen on the "
                             "validation strings)")
    parser.add_argument("--clustering", choices=("kmeans", "agglomerative"), default="kmeans",
                        help="how the hidden states are grouped into the extracted automaton's "
                             "states: k-means or Ward's agglomerative tree (kmeans)")
    parser.add_argument("--probabilities", choices=("counts", "model"), default="counts",
                        help="extracted states emit what followed them (counts) or the RNN's "
                             "mean distribution there (model)")
    parser.add_argument("--seed", type=count, default=0, help="random seed (0)")
    parser.add_argument("--out", metavar="DIR",
                        help="write inspect.json and inspect.html there (default: RUN/inspect)")
    parser.add_argument("--json", action="store_true", help="print inspect.json")
    parser.set_defaults(handler=run_inspect)


def _out_dir(args: argparse.Namespace) -> Path:
    if args.out:
        return Path(args.out)
    run = Path(args.run)
    return (run if run.is_dir() else run.parent) / "inspect"


def run_inspect(args: argparse.Namespace) -> int:
    """``automimic inspect``: load truth and model, inspect, write the JSON and the HTML."""
    import automata as am
    import neural
    from automimic.run_folder import check_folder
    from automimic_io import write_atomic
    from compare.inside import inspect_model, parse_group, render_html, to_json

    if args.n_strings < 4:
        raise CliError(f"--n-strings must be at least 4, got {args.n_strings}")
    check_folder(_out_dir(args), f"--out {_out_dir(args)}")
    truth = am.as_probabilistic(am.load(args.file))
    model = neural.one_network(neural.load(args.run))  # an ensemble: its first member
    if set(model.alphabet) != set(truth.alphabet):
        raise CliError(f"the model's alphabet {list(model.alphabet)} is not the automaton's "
                       f"{list(truth.alphabet)}")
    groups = dict(parse_group(text, truth.states) for text in args.group)
    units = [u.strip() for u in args.units.split(",") if u.strip()]
    kwargs = {} if args.k is None else {"ks": args.k}
    inspection = inspect_model(truth, model, groups=groups or None, units=units,
                               n_strings=args.n_strings, seed=args.seed,
                               probabilities=args.probabilities, clustering=args.clustering,
                               progress=_stderr, **kwargs)
    document = to_json(inspection)
    out = _out_dir(args)
    out.mkdir(parents=True, exist_ok=True)
    text = json_text(document) + "\n"
    write_atomic(out / "inspect.json", text)
    write_atomic(out / "inspect.html", render_html(inspection))
    if args.json:
        print(text, end="")
    else:
        _print_summary(document, out)
    return 0


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _print_summary(document: dict, out: Path) -> None:
    probe = document["probe"]
    print(f"probe accuracy (true state): {probe['accuracy']:.4f} (chance {probe['chance']:.4f})")
    for name, group in document["groups"].items():
        best = group["best_unit"]
        print(f"group {name}: probe {group['probe']['accuracy']:.4f}, best single unit "
              f"{best['unit']} {best['single_accuracy']:.4f}")
    extraction = document["extraction"]
    exact = extraction["distances"]["extracted"].get("exact_l2")
    l2 = f", exact L2 to the truth {exact:.5f}" if isinstance(exact, float) else ""
    print(f"extracted PDFA: k = {extraction['k']}, purity {extraction['purity']:.4f}{l2}")
    print(f"report: {out / 'inspect.html'}")
