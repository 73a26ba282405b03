"""The PAutomaC figures of the training recipe, checked against their targets.

Reads the ``results.json`` that ``automimic pautomac`` writes, prints the table (model and n-gram
perplexity over the true model's) and checks: the RNN no worse than the n-gram on every problem,
median RNN/true ≤ 1.010, worst ≤ 1.03, problem 1 ≤ 1.010. Exits 1 when a target is missed.

    .venv/bin/automimic pautomac ../shared/data/pautomac --out runs/pautomac
    .venv/bin/python benchmarks/check_pautomac.py runs/pautomac
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from targets import Targets


def ratios(problem: dict) -> tuple[float, float]:
    """(RNN / true, n-gram / true) perplexity of one problem's result."""
    true = float(problem["true_perplexity"])
    return float(problem["model_perplexity"]) / true, float(problem["baseline_perplexity"]) / true


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the --out folder of automimic pautomac")
    args = parser.parse_args()
    problems = sorted(json.loads((args.out / "results.json").read_text())["problems"], key=lambda p: p["problem"])
    targets = Targets()
    print(f"{'problem':>7}  {'true':>9}  {'RNN/true':>8}  {'n-gram/true':>11}  seconds")
    for problem in problems:
        model, baseline = ratios(problem)
        verdict = targets.check(f"problem {problem['problem']}: RNN/true over n-gram/true", model / baseline,
                                at_most=1.0)
        print(f"{problem['problem']:>7}  {problem['true_perplexity']:9.3f}  {model:8.4f}  {baseline:11.4f}  "
              f"{problem['seconds']:7.0f}  RNN ≤ n-gram {verdict}")
    model_ratios = [ratios(p)[0] for p in problems]
    median, worst = statistics.median(model_ratios), max(model_ratios)
    print(f"{len(problems)} problems; median RNN/true {median:.4f} ({targets.check('median', median, at_most=1.010)}); "
          f"worst {worst:.4f} ({targets.check('worst', worst, at_most=1.03)})")
    first = [ratios(p)[0] for p in problems if p["problem"] == 1]
    if first:
        print(f"problem 1: RNN/true {first[0]:.4f} ({targets.check('problem 1', first[0], at_most=1.010)})")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
