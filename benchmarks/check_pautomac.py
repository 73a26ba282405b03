"""The PAutomaC figures of the training recipe, checked against their targets.

Reads the ``results.json`` that ``automimic pautomac`` writes, prints the table (model and n-gram
perplexity over the true model's) and checks: the RNN no worse than the n-gram on every problem,
median RNN/true ≤ 1.010, worst ≤ 1.03, problem 1 ≤ 1.010. Exits 1 when a target is missed.

Given several ``--out`` folders (runs of the same problems with other settings), each problem
takes the run of its lowest validation loss, as ``--tune`` chooses among its trials; the table
then says which run each problem took.

    .venv/bin/automimic pautomac ../shared/data/pautomac --out runs/pautomac
    .venv/bin/python benchmarks/check_pautomac.py runs/pautomac [runs/other ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from targets import Targets
from validation_bits import val_bits


def ratios(problem: dict) -> tuple[float, float]:
    """(RNN / true, n-gram / true) perplexity of one problem's result."""
    true = float(problem["true_perplexity"])
    return float(problem["model_perplexity"]) / true, float(problem["baseline_perplexity"]) / true


def chosen_on_validation(outs: list[Path]) -> list[tuple[str, dict]]:
    """Per problem, sorted: (the run folder's name, its result) of the lowest validation loss
    among the folders that hold the problem (the only folder's, given one)."""
    candidates: dict[int, list[tuple[float, str, dict]]] = {}
    for out in outs:
        for result in json.loads((out / "results.json").read_text())["problems"]:
            bits = val_bits(out, result) if len(outs) > 1 else 0.0
            candidates.setdefault(result["problem"], []).append((bits, out.name, result))
    for number, runs in sorted(candidates.items()):
        if len(runs) < len(outs):
            print(f"problem {number}: chosen among {', '.join(run for _, run, _ in runs)} only")
    return [min(candidates[n], key=lambda c: c[0])[1:] for n in sorted(candidates)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outs", type=Path, nargs="+", help="--out folders of automimic pautomac")
    outs = parser.parse_args().outs
    for out in outs:
        if not (out / "results.json").is_file():
            parser.error(f"{out}: no results.json (not an automimic pautomac --out folder)")
    if len({out.name for out in outs}) < len(outs):
        parser.error("the run folders' names must differ (the table names each problem's run by it)")
    chosen = chosen_on_validation(outs)
    problems = [result for _, result in chosen]
    targets = Targets()
    run_column = "  run" if len(outs) > 1 else ""
    print(f"{'problem':>7}  {'true':>9}  {'RNN/true':>8}  {'n-gram/true':>11}  seconds{run_column}")
    for run, problem in chosen:
        model, baseline = ratios(problem)
        verdict = targets.check(f"problem {problem['problem']}: RNN/true over n-gram/true", model / baseline,
                                at_most=1.0)
        print(f"{problem['problem']:>7}  {problem['true_perplexity']:9.3f}  {model:8.4f}  {baseline:11.4f}  "
              f"{problem['seconds']:7.0f}  " + (f"{run:8s}  " if len(outs) > 1 else "") + f"RNN ≤ n-gram {verdict}")
    model_ratios = [ratios(p)[0] for p in problems]
    median, worst = statistics.median(model_ratios), max(model_ratios)
    print(f"{len(problems)} problems; median RNN/true {median:.4f} ({targets.check('median', median, at_most=1.010)}); "
          f"worst {worst:.4f} ({targets.check('worst', worst, at_most=1.03)})")
    if len(outs) > 1:
        runs = {run: sum(1 for chosen_run, _ in chosen if chosen_run == run) for run in (out.name for out in outs)}
        print("chosen on validation: " + ", ".join(f"{run} {count}" for run, count in runs.items()))
    first = [ratios(p)[0] for p in problems if p["problem"] == 1]
    if first:
        print(f"problem 1: RNN/true {first[0]:.4f} ({targets.check('problem 1', first[0], at_most=1.010)})")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
