"""The training recipe's ablation on PAutomaC: each lever's effect, on validation strings.

Each row is one ``automimic pautomac`` run on the same problem with other options (rows run as
separate processes, ``--jobs`` at a time, each resumable in ``OUT/<row>``). The defaults are
chosen by the validation loss (bits per symbol over the held-out tenth of the train file, the
end of each string counted); the test perplexity over the true one is printed beside it, never
used to choose. Checks: the defaults are within 0.2% of the best single model on validation (an
ensemble costs K trainings, so it is not a default). Exits 1 on a miss.

    .venv/bin/python benchmarks/bench_recipe.py ../shared/data/pautomac --problem 1 --out runs/recipe
    .venv/bin/python benchmarks/bench_recipe.py ../shared/data/pautomac --problem 11 --out runs/recipe \
        --rows defaults,cap6m
    .venv/bin/python benchmarks/bench_recipe.py ../shared/data/pautomac --problem 1 --out runs/recipe \
        --rows h128,defaults
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from targets import Targets, exit_with

ROOT = Path(__file__).resolve().parent.parent

# key, what the row changes, the options of `automimic pautomac`
ROWS = (
    ("old", "old defaults: LSTM 64, lr 3e-3 constant, batch 64, patience 3",
     "--hidden 64 --dropout 0 --weight-dropout 0 --lr 0.003 --schedule constant --batch-size 64 "
     "--epochs 20 --patience 3 --max-tokens none"),
    ("plain", "LSTM 64, lr 0.01 cosine over 40 epochs, batch 256, no regularisation",
     "--hidden 64 --dropout 0 --weight-dropout 0"),
    ("regularised", "+ locked dropout 0.3 + DropConnect 0.3 on W_hh", "--hidden 64"),
    ("h128", "LSTM 128 with both, at most 12 M tokens: the former defaults",
     "--hidden 128 --max-tokens 12000000"),
    ("defaults", "LSTM 256 with both, at most 24 M tokens: the defaults", ""),
    ("ema", "defaults + weight average (EMA 0.998)", "--ema 0.998"),
    ("symbols", "defaults + symbol dropout 0.1", "--input-dropout 0.1"),
    ("cap6m", "defaults with a 6 M-token cap", "--max-tokens 6000000"),
    ("ensemble", "defaults, ensemble of 3 seeds", "--ensemble 3"),
)


def run_row(data: Path, out: Path, problem: int, options: str) -> None:
    """One ``automimic pautomac`` run (skipped by the command itself when already done)."""
    command = [sys.executable, "-m", "automimic", "pautomac", str(data), "--out", str(out),
               "--problems", str(problem), "--jobs", "1", "--quiet", *options.split()]
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def validation_bits(data: Path, out: Path, problem: int) -> float:
    """Bits per symbol (ends included) of the row's model on the problem's validation strings,
    split exactly as ``automimic pautomac`` splits them."""
    import neural
    from automata import pautomac
    from automimic.pautomac_suite import holdout
    from automimic.pipeline import stage_seeds

    settings = json.loads((out / "settings.json").read_text())
    strings = pautomac.read_strings(data / f"{problem}.pautomac.train").strings
    _, val = holdout(strings, settings["val_fraction"], stage_seeds(settings["seed"])["val"])
    model = neural.load(out / str(problem) / "model.pt")
    nats = -float(model.log_probability(val).sum())
    return nats / math.log(2) / sum(len(s) + 1 for s in val)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the PAutomaC folder")
    parser.add_argument("--problem", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "recipe")
    parser.add_argument("--rows", default=",".join(key for key, _, _ in ROWS),
                        help="which rows, by key: " + ", ".join(key for key, _, _ in ROWS))
    parser.add_argument("--jobs", type=int, default=2, help="rows trained at once")
    args = parser.parse_args()
    keys = args.rows.split(",")
    rows = [row for row in ROWS if row[0] in keys]
    if len(rows) != len(keys):
        parser.error(f"--rows: unknown key among {keys}")
    folders = {key: args.out / f"{args.problem}-{key}" for key, _, _ in rows}
    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(lambda row: run_row(args.data.resolve(), folders[row[0]].resolve(),
                                          args.problem, row[2]), rows))
    print(f"problem {args.problem}: validation bits/symbol (chooses), test perplexity / true "
          f"(only reported)")
    print(f"{'row':<72}  {'val bits':>8}  {'RNN/true':>8}  {'epochs':>6}  {'seconds':>7}")
    bits = {}
    for key, label, _ in rows:
        result = json.loads((folders[key] / str(args.problem) / "result.json").read_text())
        bits[key] = validation_bits(args.data, folders[key], args.problem)
        print(f"{label:<72}  {bits[key]:8.4f}  {result['model_ratio']:8.4f}  {result['epochs']:>6}  "
              f"{result['seconds']:7.0f}")
    targets = Targets()
    singles = [bits[key] for key in bits if key != "ensemble"]
    if "defaults" in bits and len(singles) > 1:
        excess = bits["defaults"] / min(singles)
        print(f"defaults over the best single model on validation: {excess:.4f} "
              f"({targets.check('defaults / best single', excess, at_most=1.002)})")
    return targets.exit_code()


if __name__ == "__main__":
    exit_with(main)
