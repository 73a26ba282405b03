"""The output layer fitted again with dropout off (``--refit-head``), on the saved models of a run
of ``automimic pautomac`` trained without it: validation and test, before and after.

For each problem of ``RUN`` whose model is one network (``RUN/N/model.pt``), holds out the same
validation strings as the run did (its seed and fraction), fits the output layer with
:func:`neural.head.fit_head` as training now does, and scores the test strings. Writes
``OUT/results.json`` in the format of ``automimic pautomac`` (the true and n-gram perplexities
copied from the run; ``val_bits`` and ``model_perplexity`` the fitted model's, with
``val_bits_before`` and ``model_perplexity_before``), after each problem: a second call goes on
where the first stopped. Prints a line per problem in ``OUT`` (validation and test before and
after) and what the fit did over them all. ``check_pautomac.py OUT`` checks the issue's targets.

    .venv/bin/python benchmarks/refit_head.py ../shared/data/pautomac runs/pautomac --out runs/pautomac-head
    .venv/bin/python benchmarks/check_pautomac.py runs/pautomac-head
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIE = 5e-5  # a change of RNN/true smaller than this is counted as none
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

import neural  # noqa: E402
from automata.pautomac import pautomac_perplexity  # noqa: E402
from automimic.pautomac_suite import find_problems, holdout, read_problem  # noqa: E402
from automimic.pipeline import stage_seeds  # noqa: E402
from automimic_io import write_atomic  # noqa: E402
from automimic_io.jsontext import json_text  # noqa: E402
from neural.data import Corpus  # noqa: E402
from neural.head import fit_head  # noqa: E402


def refit_one(data: Path, run: Path, result: dict, settings: dict) -> dict:
    """One problem's result with its model's output layer fitted again."""
    started = time.perf_counter()
    problem = find_problems(data, [result["problem"]])[0]
    strings, test, _, log_solution = read_problem(problem)
    train, val = holdout(strings, settings["val_fraction"], stage_seeds(settings["seed"])["val"])
    model = neural.load(run / str(problem.number))
    vocabulary = model.vocabulary
    fit = fit_head(model.model, Corpus.encode(vocabulary, train), Corpus.encode(vocabulary, val), eos=vocabulary.eos,
                   min_delta=settings["training"]["min_delta"], seed=stage_seeds(settings["seed"])["model"])
    before = result["model_perplexity"]
    fit.copy_into(model.model)
    after = pautomac_perplexity(log_solution, model.log_probability(test), test)
    true = result["true_perplexity"]
    return {**result, "val_bits_before": fit.record["val_bits_before"], "val_bits": fit.record["val_bits_after"],
            "rounds": fit.record["rounds"], "fitted_tokens": fit.record["tokens"],
            "model_perplexity_before": before, "model_perplexity": after, "model_ratio": after / true,
            "seconds": time.perf_counter() - started}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the PAutomaC folder the run read")
    parser.add_argument("run", type=Path, help="an --out folder of automimic pautomac")
    parser.add_argument("--out", type=Path, required=True, help="where results.json goes")
    args = parser.parse_args(argv)
    if not (args.run / "results.json").is_file():
        parser.error(f"{args.run}: no results.json (not an automimic pautomac --out folder)")
    record = json.loads((args.run / "results.json").read_text())
    settings = record["settings"]
    if settings["training"].get("ensemble", 1) > 1:
        parser.error(f"{args.run}: an ensemble run (this script fits one network's output layer)")
    done_file = args.out / "results.json"
    done = json.loads(done_file.read_text())["problems"] if done_file.is_file() else []
    finished = {r["problem"] for r in done}
    torch.set_num_threads(1)
    for result in sorted(record["problems"], key=lambda r: r["problem"]):
        if result["problem"] in finished:
            continue
        fitted = refit_one(args.data, args.run, result, settings)
        done.append(fitted)
        args.out.mkdir(parents=True, exist_ok=True)
        write_atomic(done_file, json_text({**record, "problems": done}, indent=1) + "\n")
        print(f"problem {fitted['problem']} done", file=sys.stderr, flush=True)
    for fitted in sorted(done, key=lambda r: r["problem"]):
        print(row(fitted))
    if len(done) > 1:
        print(summary(done))
    return 0


def row(fitted: dict) -> str:
    """One problem's line: validation and test before and after the fit."""
    before = fitted["model_perplexity_before"] / fitted["true_perplexity"]
    return (f"{fitted['problem']:>3d}  val {fitted['val_bits_before']:.4f} → {fitted['val_bits']:.4f} "
            f"({fitted['rounds']:>2d} rounds)  RNN/true {before:.4f} → {fitted['model_ratio']:.4f}  "
            f"n-gram/true {fitted['baseline_ratio']:.4f}  {fitted['seconds']:4.0f} s")


def summary(done: list[dict]) -> str:
    """What the fit did over every problem in ``done``."""
    before = [r["model_perplexity_before"] / r["true_perplexity"] for r in done]
    after = [r["model_ratio"] for r in done]
    lower = sum(1 for r in done if r["rounds"])
    gain = statistics.mean(r["val_bits_before"] - r["val_bits"] for r in done)
    better = sum(1 for b, a in zip(before, after, strict=True) if a < b - TIE)
    worse = sum(1 for b, a in zip(before, after, strict=True) if a > b + TIE)
    return (f"{len(done)} problems: validation lower on {lower} (by {gain:.4f} bits/symbol on average over all); "
            f"RNN/true lower on {better}, higher on {worse} (by over {TIE:g}); median {statistics.median(before):.4f} "
            f"→ {statistics.median(after):.4f}; the fits took {sum(r['seconds'] for r in done):,.0f} s")


if __name__ == "__main__":
    raise SystemExit(main())
