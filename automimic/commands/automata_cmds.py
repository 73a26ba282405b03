"""Commands on one automaton file: validate, render, accepts, score, sample, complete."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import automata as am
from automata.analysis import expected_length, total_probability
from automata.rendering import (
    DEFAULT_DPI,
    DOT_TIMEOUT,
    MAX_DRAWN_EDGES,
    drawing_problem,
    drawn_edges,
)
from automimic.arguments import count, inverse_temperature, positive
from automimic.errors import CliError
from automimic.paths import refuse_overwriting_input
from automimic.printing import (
    JSON_LINES_HELP,
    json_lines,
    print_completions,
    print_json,
    print_scores,
    sample_records,
)
from automimic.trained_runs import complete_run, is_run, score_run
from automimic_io import write_atomic


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the automaton commands to the ``automimic`` parser."""
    validate = subparsers.add_parser("validate", help="check automaton files and summarise them",
                                     description="Check YAML automata; one summary line each.")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.add_argument("--json", action="store_true", help="print a JSON list")
    validate.set_defaults(handler=run_validate)

    render = subparsers.add_parser("render", help="draw an automaton (svg, png, pdf, dot)",
                                   description="Draw an automaton; the format comes from the "
                                               "suffix of OUT (svg, png, pdf, dot).")
    render.add_argument("file", metavar="FILE")
    render.add_argument("-o", "--out", required=True, metavar="OUT")
    render.add_argument("--highlight", metavar="S", help="draw the path of this string in red")
    render.add_argument("--precision", type=positive, default=3, help="significant digits (3)")
    render.add_argument("--dpi", type=positive, default=DEFAULT_DPI,
                        help=f"resolution of a PNG in dots per inch ({DEFAULT_DPI})")
    render.add_argument("--timeout", type=positive, default=int(DOT_TIMEOUT),
                        help=f"seconds Graphviz may take to lay the picture out "
                             f"({DOT_TIMEOUT:g})")
    render.set_defaults(handler=run_render)

    accepts = subparsers.add_parser("accepts", help="accept or reject strings",
                                    description="Accept or reject each STRING; a rejection "
                                                "names the position and the state.")
    accepts.add_argument("file", metavar="FILE")
    accepts.add_argument("strings", nargs="+", metavar="STRING", help=_STRING_HELP)
    accepts.add_argument("--json", action="store_true", help="print a JSON list")
    accepts.set_defaults(handler=run_accepts)

    score = subparsers.add_parser("score", help="probability of strings, most probable first",
                                  description="Probability and log2 probability of each STRING "
                                              "under an automaton FILE or a trained RUN folder, "
                                              "ranked from most to least probable.")
    score.add_argument("file", metavar="FILE|RUN")
    score.add_argument("strings", nargs="+", metavar="STRING", help=_STRING_HELP)
    score.add_argument("--json", action="store_true", help="print a JSON list")
    score.set_defaults(handler=run_score)

    sample = subparsers.add_parser("sample", help="draw strings from an automaton",
                                   description="Draw strings, one a line (an empty line is the "
                                               "empty string).")
    sample.add_argument("file", metavar="FILE")
    sample.add_argument("-n", type=count, default=10, help="how many strings (10)")
    sample.add_argument("--seed", type=count, default=None, help="random seed (≥ 0)")
    sample.add_argument("--alpha", type=inverse_temperature, default=1.0,
                        help="inverse temperature: 1 = the automaton, inf = greedy, 0 = uniform")
    sample.add_argument("--max-length", type=count, default=None,
                        help=f"cut strings at this length (default {am.DEFAULT_MAX_LENGTH})")
    sample.add_argument("-o", "--out", metavar="OUT", help="write to this file instead")
    sample.add_argument("--json", action="store_true",
                        help=f"{JSON_LINES_HELP}: string, symbols, cut")
    sample.set_defaults(handler=run_sample)

    complete = subparsers.add_parser("complete", help="most probable completions of a prefix",
                                     description="The K most probable completions of PREFIX "
                                                 "under an automaton FILE or a trained RUN.")
    complete.add_argument("file", metavar="FILE|RUN")
    complete.add_argument("prefix", metavar="PREFIX", help=_STRING_HELP)
    complete.add_argument("-k", type=count, default=5, help="how many completions (5)")
    complete.add_argument("--json", action="store_true",
                          help=f"{JSON_LINES_HELP}: string, symbols, completion, probability")
    complete.set_defaults(handler=run_complete)


_STRING_HELP = ("a string: characters when every symbol is one character, else symbols "
                "separated by spaces; '' is the empty string")


# ---------------------------------------------------------------- validate


def summary(path: str) -> dict:
    """The validate summary of one file (raises on a bad file)."""
    a = am.load(path)
    total = length = None
    if a.is_probabilistic:
        total, length = total_probability(a), expected_length(a)
    return {"file": path, "kind": a.kind, "states": len(a.states), "symbols": len(a.alphabet),
            "deterministic": a.is_deterministic, "total_probability": total,
            "expected_length": length}


def _summary_line(row: dict) -> str:
    text = (f"{row['file']}: ok: {row['kind']}, {row['states']} states, {row['symbols']} symbols, "
            f"{'deterministic' if row['deterministic'] else 'nondeterministic'}")
    if row["total_probability"] is not None:
        text += (f", total probability {row['total_probability']:.9f}, "
                 f"expected length {row['expected_length']:.4g}")
    return text


def run_validate(args: argparse.Namespace) -> int:
    rows, failed = [], 0
    for path in args.files:
        try:
            rows.append(summary(path))
        except am.AutomatonError as error:
            failed += 1
            print(f"automimic: error: {error}", file=sys.stderr)
            continue
        if not args.json:
            print(_summary_line(rows[-1]))
    if args.json:
        print_json(rows)
    return 2 if failed else 0


# ---------------------------------------------------------------- render, accepts


def run_render(args: argparse.Namespace) -> int:
    refuse_overwriting_input(args.out, args.file)
    a = am.load(args.file)
    highlight = None if args.highlight is None else am.to_symbols(a, args.highlight)
    laid_out = Path(args.out).suffix.lower() not in (".dot", ".gv")
    if laid_out and drawn_edges(a) > MAX_DRAWN_EDGES:
        print(f"automimic: note: {drawing_problem(a)}: the layout may take up to --timeout "
              f"{args.timeout} s", file=sys.stderr)
    try:
        am.render(a, args.out, highlight=highlight, precision=args.precision, dpi=args.dpi,
                  timeout=args.timeout)
    except am.TimeLimitError as err:
        raise CliError(f"{args.file}: {err}: allow more with --timeout, or write a .dot file "
                       "and lay it out yourself") from None
    print(f"wrote {args.out}")
    return 0


def run_accepts(args: argparse.Namespace) -> int:
    a = am.load(args.file)
    rows = []
    for text in args.strings:
        why = am.rejection(a, text)
        state = None if why is None else _plain_state(why.state)
        rows.append({"string": text, "accepted": why is None,
                     "position": None if why is None else why.position, "state": state,
                     **({} if why is None else {"reason": why.reason})})
        if not args.json:
            print(f"{text!r}: {'accepted' if why is None else why}")
    if args.json:
        print_json(rows)
    return 0


def _plain_state(state: object) -> object:
    """A JSON-friendly state: a name, a sorted list of names, or a {name: probability} map."""
    return sorted(state) if isinstance(state, frozenset) else state


# ---------------------------------------------------------------- score, complete


def run_score(args: argparse.Namespace) -> int:
    if is_run(args.file):
        return score_run(args.file, args.strings, args.json)
    a = am.load(args.file)
    if not a.is_probabilistic:
        raise CliError(f"{args.file}: {_article(a.kind)} {a.kind} has no probabilities; score "
                       "needs a pfa, pdfa or markov file (use `automimic accepts` for a "
                       "language)")
    logs = np.atleast_1d(am.log_probability(a, [am.to_symbols(a, s) for s in args.strings]))
    print_scores(args.strings, logs, args.json)
    return 0


def run_complete(args: argparse.Namespace) -> int:
    if is_run(args.file):
        return complete_run(args.file, args.prefix, args.k, as_json=args.json)
    a = am.load(args.file)
    if not args.k:
        return 0
    completions = am.complete(a, args.prefix, k=args.k)
    print_completions(a.alphabet, am.to_symbols(a, args.prefix), completions, as_json=args.json)
    if completions.cut:
        print(f"automimic: note: the search stopped at its limits after {len(completions)} of "
              f"{args.k} completions: a missing one could have probability up to "
              f"{completions.cut:.3g}", file=sys.stderr)
    return 0


def _article(kind: str) -> str:
    return "an" if kind == "nfa" else "a"


# ---------------------------------------------------------------- sample


def run_sample(args: argparse.Namespace) -> int:
    if args.out is not None:
        refuse_overwriting_input(args.out, args.file)
    a = am.load(args.file)
    samples = am.sample(a, args.n, seed=args.seed, alpha=args.alpha, max_length=args.max_length)
    if args.json:
        text = json_lines(sample_records(samples, samples.cut,
                                         lambda s: am.format_string(a.alphabet, s)))
    else:
        text = "".join(am.format_string(a.alphabet, s) + "\n" for s in samples)
    if args.out is not None:
        write_atomic(Path(args.out), text)
    else:
        sys.stdout.write(text)
    cut = int(samples.cut.sum())
    if cut:
        length = am.DEFAULT_MAX_LENGTH if args.max_length is None else args.max_length
        print(f"automimic: note: {cut} of {args.n} strings reached --max-length {length} and "
              "were cut there", file=sys.stderr)
    return 0
