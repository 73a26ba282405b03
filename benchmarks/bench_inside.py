"""Inside the RNN, demonstrated: train with the defaults of ``automimic train``, then inspect.

- ``automata/examples/quotes.yaml``: one hidden unit separates inside from outside quotes
  (its single-unit probe accuracy ≥ 0.95);
- ``automata/examples/line_position.yaml``: a linear probe reads the position in the line (≥ 0.9);
- ``automata/examples/abe_markov.yaml``: the PDFA extracted by clustering is within L2 ≤ 0.01 of the truth.

Usage::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_inside.py [--seeds 0 1 2]
        [--out /tmp/automimic_bench_inside] [--retrain]

Each run folder gets ``inspect/inspect.json`` and ``inspect/inspect.html``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

import automata as am
import neural
from automata.shipped import example_path
from automimic.cli import main as automimic
from automimic_io import write_atomic
from compare.inside import inspect_model, parse_group, render_html, to_json

EXAMPLES = example_path().parent
DEMOS = {  # example -> (groups, the figure that must reach its target)
    "quotes": (["inside=inside"], "single unit accuracy (inside)", 0.95, ">="),
    "line_position": ([r"late=~p(9|1[0-2])"], "probe accuracy (position)", 0.9, ">="),
    "abe_markov": ([], "extracted PDFA exact L2", 0.01, "<="),
}


def train(name: str, folder: Path, seed: int, retrain: bool) -> float:
    """Train with the command line's defaults (20000 strings, LSTM 64); seconds taken."""
    if (folder / "model.pt").exists() and not retrain:
        return 0.0
    start = time.perf_counter()
    code = automimic(["train", str(EXAMPLES / f"{name}.yaml"), "--out", str(folder),
                      "--seed", str(seed), "--quiet", "--force"])
    if code:
        raise SystemExit(f"training {name} failed with exit code {code}")
    return time.perf_counter() - start


def figure(name: str, document: dict) -> float:
    if name == "quotes":
        return document["groups"]["inside"]["best_unit"]["single_accuracy"]
    if name == "line_position":
        return document["probe"]["accuracy"]
    return document["extraction"]["distances"]["extracted"]["exact_l2"]


def demo(name: str, out: Path, seed: int, retrain: bool) -> dict:
    folder = out / f"{name}_seed{seed}"
    seconds = train(name, folder, seed, retrain)
    truth, model = am.load(EXAMPLES / f"{name}.yaml"), neural.load(folder)
    texts, label, target, sense = DEMOS[name]
    groups = dict(parse_group(text, truth.states) for text in texts) or None
    start = time.perf_counter()
    inspection = inspect_model(truth, model, groups=groups, seed=seed)
    inspect_seconds = time.perf_counter() - start
    document = to_json(inspection)
    (folder / "inspect").mkdir(exist_ok=True)
    write_atomic(folder / "inspect" / "inspect.json", json.dumps(document, indent=2) + "\n")
    write_atomic(folder / "inspect" / "inspect.html", render_html(inspection))
    value = figure(name, document)
    model_l2 = None
    if name == "abe_markov":  # the same clusters, probabilities from the RNN instead of counts
        other = inspect_model(truth, model, groups=groups, seed=seed, probabilities="model")
        model_l2 = other.distances["extracted"]["exact_l2"]
    passed = value >= target if sense == ">=" else value <= target
    return {"example": name, "seed": seed, "train_s": seconds, "inspect_s": inspect_seconds,
            "label": label, "value": value, "target": f"{sense} {target}", "passed": passed,
            "document": document, "model_l2": model_l2, "html": folder / "inspect" / "inspect.html"}


def show(result: dict) -> None:
    d = result["document"]
    extraction = d["extraction"]
    print(f"\n== {result['example']} (seed {result['seed']}): trained in "
          f"{result['train_s']:.1f} s, inspected in {result['inspect_s']:.1f} s")
    print(f"   probe accuracy (true state) {d['probe']['accuracy']:.4f}, "
          f"chance {d['probe']['chance']:.4f}")
    for name, group in d["groups"].items():
        best = group["best_unit"]
        print(f"   group {name}: probe {group['probe']['accuracy']:.4f}, best single unit "
              f"{best['unit']} accuracy {best['single_accuracy']:.4f} "
              f"(r = {best['correlation']:+.3f})")
    units = ", ".join(f"{u['unit']} {u['mutual_information_bits']:.3f}" for u in d["state_units"])
    print(f"   units with most information about the state (bits): {units}")
    rnn, ext = extraction["distances"]["rnn"], extraction["distances"]["extracted"]
    print(f"   extracted: k = {extraction['k']}, {extraction['states']} reachable states, "
          f"purity {extraction['purity']:.4f}, determinism {extraction['determinism']:.4f}")
    print(f"   extracted vs truth: exact L2 {ext.get('exact_l2', float('nan')):.5f}, exact KL "
          f"{ext.get('exact_kl_bits_per_symbol', float('nan')):.5f} bits/sym; RNN vs truth KL "
          f"{rnn['kl_bits_per_symbol']:.5f} bits/sym (test strings)")
    if result["model_l2"] is not None:
        print(f"   (with the RNN's mean distributions per cluster instead of counts: exact L2 "
              f"{result['model_l2']:.5f})")
    verdict = "PASS" if result["passed"] else "FAIL"
    print(f"   {result['label']}: {result['value']:.5f} (target {result['target']}) {verdict}")
    print(f"   report: {result['html']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--examples", nargs="+", default=list(DEMOS), choices=list(DEMOS))
    parser.add_argument("--out", type=Path, default=Path("/tmp/automimic_bench_inside"))
    parser.add_argument("--retrain", action="store_true", help="train again over existing runs")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    print(f"torch threads: {torch.get_num_threads()}, OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS')}, OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS')}")
    results = [demo(name, args.out, seed, args.retrain)
               for seed in args.seeds for name in args.examples]
    for result in results:
        show(result)
    print("\nsummary:")
    for r in results:
        print(f"  {r['example']:14} seed {r['seed']}: {r['label']} = {r['value']:.5f} "
              f"(target {r['target']}) {'PASS' if r['passed'] else 'FAIL'}")


if __name__ == "__main__":
    main()
