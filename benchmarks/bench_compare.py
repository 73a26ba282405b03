"""Benchmarks of compare/: metric speed, and the long-memory lesson (LSTM vs sigmoid Elman).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_compare.py speed
    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_compare.py memory [--n-train 5000]

``speed``: every metric for 10k test strings of ``automata/examples/long_memory.yaml`` (mean length ~21)
against an LSTM with 64 hidden units (its weights do not change the cost), median of repeats,
next to the model's own forward pass over the same prefixes (the part no metric can avoid);
target: all metrics ≤ 5 s.
``memory``: an LSTM and a sigmoid Elman RNN trained on the same strings of
``automata/examples/long_memory.yaml``, their headline metrics and the per-state breakdown;
targets: the LSTM's KL ≤ 0.02 bits/symbol, the sigmoid Elman's at least 5× the LSTM's (it forgets
the first symbol). A missed target makes the script exit with 1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from targets import Targets  # noqa: E402

import automata as am  # noqa: E402
import compare  # noqa: E402
import neural  # noqa: E402
from automata.shipped import load_example  # noqa: E402


def _timed(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


METRICS_SECONDS = 5.0  # all metrics of 10k strings
LSTM_KL = 0.02  # bits/symbol on long_memory
ELMAN_OVER_LSTM = 5.0  # the sigmoid Elman's KL over the LSTM's


def speed(repeats: int, targets: Targets) -> None:
    truth = load_example("long_memory")
    test = [tuple(s) for s in am.sample(truth, 10_000, seed=1)]
    model = neural.TrainedModel.untrained(truth.alphabet, neural.RNNConfig(hidden_size=64), seed=0)
    prefixes = sum(len(s) + 1 for s in test)
    print(f"threads: torch {torch.get_num_threads()}, OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS')}; {len(test)} strings, {prefixes} prefixes")
    runs = {
        "model forward (prefix_distributions)": lambda: model.prefix_distributions(test),
        "truth prefix_distributions": lambda: am.prefix_distributions(truth, test),
        "all metrics (score_prefixes + summarize)":
            lambda: compare.summarize(compare.score_prefixes(truth, model, test)),
        "evaluate, no samples (metrics + α sweep KL)":
            lambda: compare.evaluate(truth, model, test, n_samples=0),
        "evaluate, 1000 samples at α=1 and 6 α values":
            lambda: compare.evaluate(truth, model, test, n_samples=1000),
    }
    results = {name: [] for name in runs}
    for _ in range(repeats):  # interleaved, so load changes hit every variant alike
        for name, function in runs.items():
            results[name].append(_timed(function, 1))
    for name, times in results.items():
        print(f"{name:45s} median {statistics.median(times):6.2f} s  "
              f"(runs: {', '.join(f'{t:.2f}' for t in times)})")
    metrics = statistics.median(results["all metrics (score_prefixes + summarize)"])
    print(f"all metrics: {metrics:.2f} s, " + targets.check("all metrics (s)", metrics,
                                                          at_most=METRICS_SECONDS))


def memory(n_train: int, epochs: int, hidden: int, targets: Targets) -> None:
    truth = load_example("long_memory")
    train = [tuple(s) for s in am.sample(truth, n_train, seed=1)]
    val = [tuple(s) for s in am.sample(truth, 1000, seed=2)]
    test = [tuple(s) for s in am.sample(truth, 5000, seed=3)]
    print(f"threads: torch {torch.get_num_threads()}; {n_train} training strings, hidden {hidden}, "
          f"up to {epochs} epochs")
    kl = {}
    for cell, nonlinearity in (("lstm", "tanh"), ("elman", "sigmoid")):
        start = time.perf_counter()
        model = neural.train(train, val, truth.alphabet,
                             neural.RNNConfig(cell=cell, nonlinearity=nonlinearity,
                                              hidden_size=hidden),
                             neural.TrainConfig(epochs=epochs), seed=0, quiet=True)
        trained = time.perf_counter() - start
        result = compare.evaluate(truth, model, test, n_samples=1000, alphas=(1.0,))
        values = result.metrics
        kl[cell] = values["kl_bits_per_symbol"]
        print(f"\n{cell} {nonlinearity if cell == 'elman' else ''}: trained "
              f"{len(model.history['val_bits'])} epochs in {trained:.0f} s; "
              f"KL {values['kl_bits_per_symbol']:.4f} ± "
              f"{result.stderr['kl_bits_per_symbol']:.4f} bits/symbol, WER {values['wer']:.4f}, "
              f"illegal samples {values['illegal_sample_fraction']:.3f}")
        for row in compare.per_state(truth, result.scores):
            print(f"  {row.state:8s} visits {row.visits:7.0f}  mean KL {row.mean_kl:.4f}"
                  f"  mostly from {row.worst_symbol!r} ({row.worst_symbol_kl:.4f})"
                  f"  P {[round(v, 3) for v in row.p]}  Q {[round(v, 3) for v in row.q]}")
    print(f"\nLSTM KL {kl['lstm']:.4f} bits/symbol, " + targets.check("LSTM KL", kl["lstm"],
                                                                   at_most=LSTM_KL))
    ratio = kl["elman"] / kl["lstm"]
    print(f"sigmoid Elman KL / LSTM KL {ratio:.1f}, " + targets.check(
        "Elman KL / LSTM KL", ratio, at_least=ELMAN_OVER_LSTM))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("speed", "memory"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=64)
    args = parser.parse_args()
    targets = Targets()
    if args.part == "speed":
        speed(args.repeats, targets)
    else:
        memory(args.n_train, args.epochs, args.hidden, targets)
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
