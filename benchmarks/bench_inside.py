"""Inside the RNN, demonstrated: train with the defaults of ``automimic train``, then run
``automimic inspect`` on it, as a user would (imports and writing the page included).

- ``automata/examples/quotes.yaml``: one hidden unit separates inside from outside quotes
  (its single-unit probe accuracy ≥ 0.95);
- ``automata/examples/line_position.yaml``: a linear probe reads the position in the line (≥ 0.9);
- ``automata/examples/abe_markov.yaml``: the PDFA extracted by clustering is within L2 ≤ 0.01 of
  the truth;
- every ``automimic inspect`` of these default runs takes ≤ 30 s of CPU time (user + system:
  on a shared machine the wall time mostly measures the other jobs; on an idle one it is about
  the CPU time, as inspect uses one core).

Usage::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_inside.py [--seeds 0 1 2]
        [--out runs/bench_inside] [--retrain]

The trained runs stay in ``--out`` and are used again by the next run of the script (it says so;
``--retrain`` trains them again). Each run folder gets ``inspect/inspect.json`` and
``inspect/inspect.html``. A missed target makes the script exit with 1.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch
from targets import Targets

import automata as am
import neural
from automata.shipped import example_path
from automimic.cli import main as automimic
from compare.inside import inspect_model, parse_group

ROOT = Path(__file__).resolve().parent.parent
INSPECT_SECONDS = 30.0  # CPU seconds of `automimic inspect` of a default run
EXAMPLES = example_path().parent
DEMOS = {  # example -> (groups, the figure that must reach its target)
    "quotes": (["inside=inside"], "single unit accuracy (inside)", 0.95, ">="),
    "line_position": ([r"late=~p(9|1[0-2])"], "probe accuracy (position)", 0.9, ">="),
    "abe_markov": ([], "extracted PDFA exact L2", 0.01, "<="),
}


def train(name: str, folder: Path, seed: int, retrain: bool) -> float:
    """Train with the command line's defaults (20000 strings, LSTM 64); seconds taken (0 when
    the model of an earlier run of this script is used again, which is said)."""
    if (folder / "model.pt").exists() and not retrain:
        print(f"using the model trained earlier in {folder} (--retrain trains it again)")
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


def inspect(name: str, folder: Path, seed: int) -> tuple[dict, float, float]:
    """``automimic inspect`` in a fresh interpreter; its inspect.json, and its wall and CPU
    seconds."""
    command = [sys.executable, "-m", "automimic", "inspect", str(EXAMPLES / f"{name}.yaml"),
               str(folder), "--seed", str(seed), "--out", str(folder / "inspect")]
    command += [f"--group={text}" for text in DEMOS[name][0]]
    start, before = time.perf_counter(), _children_cpu()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall, cpu = time.perf_counter() - start, _children_cpu() - before
    document = json.loads((folder / "inspect" / "inspect.json").read_text(encoding="utf-8"))
    return document, wall, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def demo(name: str, out: Path, seed: int, retrain: bool) -> dict:
    folder = out / f"{name}_seed{seed}"
    seconds = train(name, folder, seed, retrain)
    document, inspect_wall, inspect_cpu = inspect(name, folder, seed)
    texts, label, target, sense = DEMOS[name]
    model_l2 = None
    if name == "abe_markov":  # the same clusters, probabilities from the RNN instead of counts
        truth, model = am.load(EXAMPLES / f"{name}.yaml"), neural.load(folder)
        groups = dict(parse_group(text, truth.states) for text in texts) or None
        other = inspect_model(truth, model, groups=groups, seed=seed, probabilities="model")
        model_l2 = other.distances["extracted"]["exact_l2"]
    bound = {"at_least" if sense == ">=" else "at_most": target}
    return {"example": name, "seed": seed, "train_s": seconds, "inspect_wall": inspect_wall,
            "inspect_cpu": inspect_cpu, "label": label, "value": figure(name, document), "bound": bound,
            "document": document, "model_l2": model_l2,
            "html": folder / "inspect" / "inspect.html"}


def show(result: dict, targets: Targets) -> None:
    d = result["document"]
    extraction = d["extraction"]
    print(f"\n== {result['example']} (seed {result['seed']}): trained in "
          f"{result['train_s']:.1f} s; `automimic inspect` took {result['inspect_cpu']:.1f} s "
          f"of CPU ({result['inspect_wall']:.1f} s wall), "
          + targets.check(f"{result['example']} seed {result['seed']} inspect CPU seconds",
                          result["inspect_cpu"], at_most=INSPECT_SECONDS))
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
    verdict = targets.check(f"{result['example']} seed {result['seed']} {result['label']}",
                            result["value"], **result["bound"])
    print(f"   {result['label']}: {result['value']:.5f}, {verdict}")
    print(f"   report: {result['html']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--examples", nargs="+", default=list(DEMOS), choices=list(DEMOS))
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench_inside",
                        help="the run folders, kept for the next run (runs/bench_inside)")
    parser.add_argument("--retrain", action="store_true", help="train again over existing runs")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    print(f"torch threads: {torch.get_num_threads()}, OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS')}, OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS')}")
    results = [demo(name, args.out, seed, args.retrain)
               for seed in args.seeds for name in args.examples]
    targets = Targets()
    for result in results:
        show(result, targets)
    print()
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
