"""Where a PAutomaC score comes from: the weight of the test strings by length, and the model's
error there.

The competition's perplexity weighs each distinct test string by its true probability
normalised over the test set, so a few short, likely strings can carry most of it. For one
problem of an ``automimic pautomac`` run folder this prints, per string length: the strings,
their share of the weight, the mean log ratio truth/model (nats; > 0: the model gives them too
little) and their part of log2(model perplexity / true perplexity), which the parts sum to
exactly; the bits/symbol of the truth, the n-gram and the model on the run's validation strings
(what chose the model); the score of the truth with the sample's own frequencies put in for the
strings seen at least M times among the run's training strings (what learning the likeliest
strings from the sample alone costs, before any other error); then, for the heaviest strings,
the probability of each next symbol (``$``: the end) under the truth, in the training strings
and under the model.

    .venv/bin/python benchmarks/pautomac_weights.py ../shared/data/pautomac runs/gpu 18
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import automata as am
import neural
from automata import pautomac
from automata.pautomac import _first_occurrences, _normalised_logs  # the score's own steps
from automimic.pautomac_suite import holdout
from automimic.pipeline import stage_seeds
from compare.comparison import fit_baseline
from compare.metrics import cross_entropy_bits_per_symbol


def weights_by_length(test: Sequence[tuple], log_true: np.ndarray, log_model: np.ndarray,
                      log_solution: np.ndarray) -> list[str]:
    """One line per string length (longer strings together), and the total."""
    first = _first_occurrences(test)
    strings = [tuple(test[i]) for i in first]
    weight = np.exp(_normalised_logs(log_solution[first]))
    truth, model = _normalised_logs(log_true[first]), _normalised_logs(log_model[first])
    parts = weight * (truth - model) / np.log(2)  # Σ = log2(model perplexity / true perplexity)
    lengths = np.array([len(s) for s in strings])
    lines = [f"{'length':>8} {'strings':>7} {'weight':>7} {'log true/model':>15} {'part':>9}"]
    cut = 8
    for label, chosen in [(str(n), lengths == n) for n in range(cut)] + [(f"≥ {cut}", lengths >= cut)]:
        if chosen.any():
            ratio = np.mean(log_true[first][chosen] - log_model[first][chosen])
            lines.append(f"{label:>8} {chosen.sum():7d} {weight[chosen].sum():7.3f} {ratio:+15.4f} "
                         f"{parts[chosen].sum():+9.5f}")
    lines.append(f"{'all':>8} {len(strings):7d} {weight.sum():7.3f} {'':15} {parts.sum():+9.5f}"
                 f"  (model/true perplexity {2 ** parts.sum():.4f})")
    return lines


def next_symbols(strings: Sequence[tuple], train: Sequence[tuple], truth: am.Automaton,
                 model: neural.TrainedModel | neural.Ensemble) -> list[str]:
    """Per string, each next symbol's probability: truth / training strings / model."""
    starts = Counter(tuple(s[:k]) for s in train for k in range(min(len(s), 12) + 1))
    ends = Counter(tuple(s) for s in train)
    lines = []
    for string, rows in zip(strings, model.prefix_distributions(strings), strict=True):
        true_rows = am.next_symbol_distribution(truth, [string[:k] for k in range(len(string) + 1)])
        cells = []
        for k, symbol in enumerate((*string, "$")):
            true_p = true_rows[k][_column(truth.alphabet, symbol)]
            model_p = rows[k][_column(model.alphabet, symbol)]
            followed = ends[string] if symbol == "$" else starts[string[: k + 1]]
            cells.append(f"{symbol}: {true_p:.3f}/{followed / max(starts[string[:k]], 1):.3f}/{model_p:.3f}")
        lines.append(f"{' '.join(string):>12}  " + "  ".join(cells))
    return lines


def validation_line(train: Sequence[tuple], val: Sequence[tuple], truth: am.Automaton,
                    model: neural.TrainedModel | neural.Ensemble) -> str:
    """Bits/symbol of the truth, the n-gram (fitted as the run fits it) and the model on ``val``."""
    baseline, info = fit_baseline(truth, train, val)
    lengths = np.array([len(s) for s in val])

    def bits(log_p: np.ndarray) -> float:
        return cross_entropy_bits_per_symbol(log_p, lengths).value

    return (f"validation, bits/symbol: truth {bits(am.log_probability(truth, val)):.4f}, n-gram ({info['label']}) "
            f"{bits(am.log_probability(baseline, val)):.4f}, model {bits(model.log_probability(val)):.4f}")


def sample_frequencies(test: Sequence[tuple], train: Sequence[tuple], log_true: np.ndarray,
                       log_solution: np.ndarray, at_least: Sequence[int] = (5, 20, 100)) -> str:
    """The score over the truth's of the truth with each test string seen at least M times in
    ``train`` given its frequency there instead, for each M of ``at_least``."""
    seen = Counter(train)
    true = pautomac.pautomac_perplexity(log_solution, log_true, test)
    scores = []
    for m in at_least:
        log_q = np.array([np.log(seen[s] / len(train)) if seen[s] >= m else log_p
                          for s, log_p in zip(test, log_true, strict=True)])
        scores.append(f"seen ≥ {m}: {pautomac.pautomac_perplexity(log_solution, log_q, test) / true:.4f}")
    return "the truth with the training strings' frequencies (model/true perplexity), " + ", ".join(scores)


def _column(alphabet: Sequence[str], symbol: str) -> int:
    """The column of ``symbol`` in a next-symbol distribution (the end ``$`` is the last)."""
    return len(alphabet) if symbol == "$" else alphabet.index(symbol)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the folder of the PAutomaC problems")
    parser.add_argument("out", type=Path, help="the --out folder of automimic pautomac")
    parser.add_argument("problem", type=int)
    parser.add_argument("--heaviest", type=int, default=5, help="strings to show symbol by symbol (5)")
    args = parser.parse_args(argv)
    files = {kind: args.data / f"{args.problem}.pautomac{kind}" for kind in (".train", ".test", "_model.txt",
                                                                                "_solution.txt")}
    run = args.out / str(args.problem)
    for path in (*files.values(), run / "model.pt", args.out / "settings.json"):
        if not path.is_file():
            parser.error(f"{path}: not found")
    train = pautomac.read_strings(files[".train"])
    test = [tuple(s) for s in pautomac.read_strings(files[".test"]).strings]
    truth = pautomac.read_model(files["_model.txt"], n_symbols=train.n_symbols)
    log_solution = np.log(pautomac.read_solution(files["_solution.txt"]))
    model = neural.load(run)
    print(f"problem {args.problem}, model {run}")
    settings = json.loads((args.out / "settings.json").read_text())
    train_part, val = holdout([tuple(s) for s in train.strings], settings["val_fraction"],
                              stage_seeds(settings["seed"])["val"])
    log_true = am.log_probability(truth, test)
    print(validation_line(train_part, val, truth, model))
    print("\n".join(weights_by_length(test, log_true, model.log_probability(test), log_solution)))
    print(sample_frequencies(test, train_part, log_true, log_solution))
    heaviest = [test[i] for i in np.argsort(-log_solution, kind="stable")[: args.heaviest]]
    print(f"the {len(heaviest)} heaviest strings, each next symbol: truth / training strings / model")
    print("\n".join(next_symbols(heaviest, train_part, truth, model)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
