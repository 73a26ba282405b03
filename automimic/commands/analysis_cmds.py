"""Exact analysis and classic operations: analyze, distance, minimize, determinize, convert, fit.

Automaton files are read in any format :mod:`automata.interchange` knows (by suffix). JSON output
uses ``null`` for a quantity that does not apply and the string ``"inf"`` for an infinite KL.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import automata as am
from automata.core import END
from automata.fitting import ngram_name
from automata.interchange import format_of, read_automaton, write_automaton
from automata.strings import format_string
from automimic.arguments import positive
from automimic.errors import CliError
from automimic.paths import refuse_overwriting_input
from automimic_io import MAX_CORPUS_BYTES, parse_corpus, read_text, single_characters
from automimic_io.jsontext import json_text


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the analysis commands to the ``automimic`` parser."""
    analyze = subparsers.add_parser(
        "analyze", help="exact quantities of an automaton",
        description="Total probability, expected length, entropy, entropy rate and the most "
                    "probable string (probabilistic kinds); states and minimal size (dfa/nfa).")
    analyze.add_argument("file", metavar="FILE")
    analyze.add_argument("--json", action="store_true", help="print JSON")
    analyze.set_defaults(handler=run_analyze)

    distance = subparsers.add_parser(
        "distance", help="exact distances between two automata",
        description="L2 distance, KL(A‖B) in bits (deterministic kinds), equivalence and a "
                    "shortest distinguishing string. DFAs/NFAs are compared as languages.")
    distance.add_argument("a", metavar="A")
    distance.add_argument("b", metavar="B")
    distance.add_argument("--json", action="store_true", help="print JSON")
    distance.set_defaults(handler=run_distance)

    for name, verb in (("minimize", "the minimal DFA of"), ("determinize", "a DFA for")):
        command = subparsers.add_parser(name, help=f"write {verb} a DFA/NFA",
                                        description=f"Write {verb} the language of IN.")
        command.add_argument("file", metavar="IN")
        command.add_argument("-o", "--out", required=True, metavar="OUT")
        command.add_argument("--max-states", type=positive, default=100_000,
                             help="refuse DFAs larger than this (100000)")
        command.set_defaults(handler=run_minimize if name == "minimize" else run_determinize)

    convert = subparsers.add_parser(
        "convert", help="convert between .yaml, .json, .dot and PAutomaC models",
        description="Convert IN to OUT; formats come from the suffixes (.yaml/.yml, .json, "
                    ".dot/.gv, .pautomac or *pautomac_model.txt).")
    convert.add_argument("file", metavar="IN")
    convert.add_argument("out", metavar="OUT")
    convert.set_defaults(handler=run_convert)

    fit = subparsers.add_parser(
        "fit", help="fit an order-k Markov chain to strings",
        description="Fit an order-K Markov chain with add-λ smoothing to STRINGS (one string a "
                    "line, as `train --data` reads it: symbols separated by whitespace when a "
                    "line holds several, else characters; or a PAutomaC string file) and write "
                    "it as YAML.")
    fit.add_argument("strings", metavar="STRINGS")
    fit.add_argument("--order", type=int, required=True, metavar="K",
                     help="symbols of context: the chain is a (K+1)-gram model (2: trigram)")
    fit.add_argument("--smoothing", type=float, default=1.0, help="λ (1.0)")
    fit.add_argument("--alphabet", help="the symbols, comma-separated (default: those seen); "
                     "one-character symbols make each line a string of characters")
    fit.add_argument("--chars", action="store_true",
                     help="each line is a string of characters (inner spaces included)")
    fit.add_argument("-o", "--out", required=True, metavar="OUT.yaml")
    fit.set_defaults(handler=run_fit)


def _read(path: str) -> am.Automaton:
    return read_automaton(path)


def analyze(a: am.Automaton) -> dict:
    """Every exact quantity that applies to ``a`` (``None`` where it does not)."""
    row: dict = {"kind": a.kind, "states": len(a.states), "symbols": len(a.alphabet)}
    if not a.is_probabilistic:
        minimal = am.minimize(a)
        return row | {"minimal_dfa_states": len(minimal.states),
                      "accepted_per_length": am.count_accepted(a, 8)}
    best, probability = am.most_probable_string(a)
    deterministic = a.is_deterministic
    return row | {
        "total_probability": am.total_probability(a),
        "expected_length": am.expected_length(a),
        "entropy_bits": am.entropy(a) if deterministic else None,
        "entropy_rate_bits": am.entropy_rate(a) if deterministic else None,
        "most_probable": {"string": format_string(a.alphabet, best), "probability": probability},
    }


def run_analyze(args: argparse.Namespace) -> int:
    row = analyze(_read(args.file))
    if args.json:
        print(json_text(row))
        return 0
    for key, value in row.items():
        if key == "most_probable":
            value = f"{value['string']!r} (p = {value['probability']:.6g})"
        elif value is None:
            value = "n/a (exact only for deterministic kinds)"
        elif isinstance(value, float):
            value = f"{value:.10g}"
        print(f"{key:20} {value}")
    return 0


def distance(a: am.Automaton, b: am.Automaton) -> dict:
    """L2, KL (bits), equivalence and witness between two automata of the same nature."""
    if a.is_probabilistic != b.is_probabilistic:
        raise CliError(f"cannot compare a {a.kind} with a {b.kind}: one is a distribution, the "
                       "other a language")
    if not a.is_probabilistic:
        witness = am.language_witness(a, b)
        return {"l2": None, "kl_bits": None, "equivalent": witness is None,
                "witness": None if witness is None else format_string(a.alphabet, witness)}
    witness = am.distinguishing_string(a, b)
    kl = am.kl_divergence(a, b) if a.is_deterministic and b.is_deterministic else None
    row = {"l2": am.l2_distance(a, b), "kl_bits": kl, "equivalent": witness is None,
           "witness": None if witness is None else format_string(a.alphabet, witness)}
    if kl is not None and math.isinf(kl):
        row["kl_infinite_because"] = format_string(a.alphabet, am.kl_witness(a, b))
    return row


def run_distance(args: argparse.Namespace) -> int:
    a, b = _read(args.a), _read(args.b)
    row = distance(a, b)
    if args.json:
        print(json_text(row))
        return 0
    if row["l2"] is not None:
        print(f"l2          {row['l2']:.10g}")
    if row["kl_bits"] is None and row["l2"] is not None:
        print("kl_bits     n/a (exact only between deterministic automata)")
    elif row["kl_bits"] is not None and math.isinf(row["kl_bits"]):
        print(f"kl_bits     inf: B gives probability 0 to {row['kl_infinite_because']!r}, "
              "which A can produce")
    elif row["kl_bits"] is not None:
        print(f"kl_bits     {row['kl_bits']:.10g}")
    print(f"equivalent  {'yes' if row['equivalent'] else 'no'}")
    if row["witness"] is not None:
        print(f"witness     {row['witness']!r} ({_witness_meaning(a, b)})")
    return 0


def _witness_meaning(a: am.Automaton, b: am.Automaton) -> str:
    """What the witness of :func:`automata.distinguishing_string` is for these two automata."""
    if a.is_probabilistic and a.is_deterministic and b.is_deterministic:
        return "a shortest prefix after which their next-symbol probabilities differ"
    return "a shortest string to which they give different probabilities" if a.is_probabilistic \
        else "a shortest string that one accepts and the other does not"


def _language(path: str) -> am.Automaton:
    a = _read(path)
    if a.is_probabilistic:
        raise CliError(f"{path}: a {a.kind} is a distribution; minimize/determinize work on a "
                       "dfa or nfa")
    return a


def run_minimize(args: argparse.Namespace) -> int:
    refuse_overwriting_input(args.out, args.file)
    a = _language(args.file)
    minimal = am.minimize(am.determinize(a, max_states=args.max_states))
    write_automaton(minimal, args.out)
    print(f"{args.out}: minimal dfa with {len(minimal.states)} states (from {len(a.states)})")
    return 0


def run_determinize(args: argparse.Namespace) -> int:
    refuse_overwriting_input(args.out, args.file)
    a = _language(args.file)
    dfa = am.determinize(a, max_states=args.max_states)
    write_automaton(dfa, args.out)
    print(f"{args.out}: dfa with {len(dfa.states)} states (from {len(a.states)})")
    return 0


def run_convert(args: argparse.Namespace) -> int:
    refuse_overwriting_input(args.out, args.file)
    target = format_of(args.out)
    a = _read(args.file)
    if target == "pautomac" and not a.is_probabilistic:
        raise CliError(f"a PAutomaC model holds a distribution, not a {a.kind}'s language; "
                       "convert it first (automata.as_probabilistic)")
    write_automaton(a, args.out)
    print(f"{args.out}: {a.kind} with {len(a.states)} states")
    return 0


def _read_strings(path: str, alphabet: list[str] | None, chars: bool) -> tuple[list, list[str]]:
    """The strings of a corpus (a PAutomaC string file, or one string a line, split as
    :func:`automimic_io.parse_corpus` splits them: a given alphabet decides, else the file) and
    the alphabet: the one given, else the symbols seen."""
    text = read_text(path, limit=MAX_CORPUS_BYTES, what="corpus")
    first = text.split("\n", 1)[0].split()
    if len(first) == 2 and all(f.isdigit() for f in first):  # a PAutomaC string file
        from automata.pautomac import read_strings

        data = read_strings(Path(path))
        return data.strings, alphabet or [str(i) for i in range(data.n_symbols)]
    if not chars and alphabet is not None:
        chars = single_characters(alphabet)
    strings = parse_corpus(text, chars=chars or None)
    known = set(alphabet or ()) - {END}
    for number, string in enumerate(strings, start=1):
        bad = [s for s in string if s == END or (alphabet and s not in known)]
        if bad:
            why = ("'$' is reserved for the end of the string" if bad[0] == END
                   else f"the alphabet is {alphabet}")
            line = text.split("\n")[number - 1].rstrip("\r")
            raise CliError(f"{path}:{number}: unknown symbol {bad[0]!r} in {line!r} ({why})")
    seen = sorted({s for x in strings for s in x})
    return strings, alphabet or seen


def run_fit(args: argparse.Namespace) -> int:
    refuse_overwriting_input(args.out, args.strings)
    if args.order < 0:
        raise CliError(f"--order must be ≥ 0 (got {args.order})")
    alphabet = None if args.alphabet is None else [s for s in args.alphabet.split(",") if s]
    if alphabet is not None and not alphabet:
        raise CliError(f"--alphabet {args.alphabet!r}: expected symbols separated by commas")
    strings, alphabet = _read_strings(args.strings, alphabet, args.chars)
    if not alphabet:
        raise CliError(f"{args.strings}: no symbols seen; give --alphabet")
    model = am.fit_markov(strings, alphabet=alphabet, order=args.order,
                          smoothing=args.smoothing)
    write_automaton(model, args.out)
    print(f"{args.out}: order-{args.order} markov chain (a {ngram_name(args.order)} model), "
          f"{len(model.states)} states, fitted on {len(strings)} strings")
    return 0
