"""Speed of neural/: our trainer against a bare torch loop, the sigmoid Elman cell against
torch.nn.RNN, and inference of all prefix distributions.

Every figure is a ratio against a baseline measured in the same run, interleaved A B A B, with
the median of several repeats.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_neural.py [--threads 1] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import neural  # noqa: E402
from neural.model import ElmanLayer  # noqa: E402

ALPHABET = ("a", "b", "c", "d")
BATCH, LENGTH = 64, 50  # 50 predicted tokens per string: 49 symbols and the end-of-string


def corpus(n: int, length: int, seed: int) -> list[tuple[str, ...]]:
    rng = np.random.default_rng(seed)
    return [tuple(ALPHABET[i] for i in row) for row in rng.integers(0, 4, (n, length))]


def trainer_tokens_per_s(strings, hidden: int) -> float:
    """End to end through neural.train (encoding, batching, clipping, history), one epoch."""
    config = neural.TrainConfig(epochs=1, batch_size=BATCH, patience=None)
    started = time.perf_counter()
    neural.train(strings, [], ALPHABET, neural.RNNConfig(hidden_size=hidden), config, seed=0,
                 quiet=True, device="cpu")
    return len(strings) * LENGTH / (time.perf_counter() - started)


def bare_tokens_per_s(strings, hidden: int) -> float:
    """The same model, batches and optimiser in a bare loop on ready-made tensors."""
    torch.manual_seed(0)
    model = neural.RNNLanguageModel(neural.RNNConfig(hidden_size=hidden), len(ALPHABET) + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    data = torch.randint(0, 4, (len(strings), LENGTH + 1))
    started = time.perf_counter()
    for i in range(0, len(strings), BATCH):
        batch = data[i : i + BATCH]
        optimizer.zero_grad(set_to_none=True)
        _, loss = model(batch[:, :-1], batch[:, 1:])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
    return len(strings) * LENGTH / (time.perf_counter() - started)


def cell_tokens_per_s(layer: nn.Module, hidden: int, steps: int = 20) -> float:
    """Forward and backward of one recurrent layer, (64, 50) inputs."""
    x = torch.randn(BATCH, LENGTH, len(ALPHABET) + 1)
    started = time.perf_counter()
    for _ in range(steps):
        out = layer(x)[0]
        out.sum().backward()
    return steps * BATCH * LENGTH / (time.perf_counter() - started)


def prefixes_per_s(model: neural.TrainedModel, strings) -> float:
    started = time.perf_counter()
    model.prefix_distributions(strings)
    return sum(len(s) + 1 for s in strings) / (time.perf_counter() - started)


def interleaved(a, b, repeats: int) -> tuple[float, float, float]:
    """Median of a, median of b and median of a/b over interleaved runs A B A B."""
    a_runs, b_runs = [], []
    for _ in range(repeats):
        a_runs.append(a())
        b_runs.append(b())
    ratios = [x / y for x, y in zip(a_runs, b_runs, strict=True)]
    return statistics.median(a_runs), statistics.median(b_runs), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"median of {args.repeats} interleaved repeats\n")

    print("1. trainer vs bare torch loop: LSTM, batch 64, length 50 (tokens/s; target ≥ 0.9)")
    for hidden, n in ((64, 64 * 60), (256, 64 * 12)):
        strings = corpus(n, LENGTH - 1, seed=0)
        ours, bare, ratio = interleaved(lambda s=strings, h=hidden: trainer_tokens_per_s(s, h),
                                        lambda s=strings, h=hidden: bare_tokens_per_s(s, h),
                                        args.repeats)
        print(f"   hidden {hidden:3d}: trainer {ours:9.0f}  bare {bare:9.0f}  ratio {ratio:.2f}")

    print("\n2. sigmoid Elman (ours) vs torch.nn.RNN tanh: forward+backward, batch 64, "
          "length 50 (tokens/s; target: ratio ≥ 1/1.5 = 0.67)")
    for hidden in (64, 256):
        torch.manual_seed(0)
        ours_layer = ElmanLayer(len(ALPHABET) + 1, hidden, "sigmoid")
        torch_layer = nn.RNN(len(ALPHABET) + 1, hidden, batch_first=True)
        ours, theirs, ratio = interleaved(lambda m=ours_layer, h=hidden: cell_tokens_per_s(m, h),
                                          lambda m=torch_layer, h=hidden: cell_tokens_per_s(m, h),
                                          args.repeats)
        print(f"   hidden {hidden:3d}: elman-sigmoid {ours:9.0f}  nn.RNN-tanh {theirs:9.0f}  "
              f"ratio {ratio:.2f}")

    print("\n3. inference: all prefix distributions of 10k strings of length 20, LSTM hidden 64 "
          "(prefixes/s; target ≥ 1M)")
    model = neural.TrainedModel.untrained(ALPHABET, neural.RNNConfig(hidden_size=64), seed=0)
    strings = corpus(10_000, 20, seed=1)
    runs = [prefixes_per_s(model, strings) for _ in range(args.repeats)]
    print(f"   {statistics.median(runs):,.0f} prefixes/s ({len(strings) * 21:,} prefixes a run)")


if __name__ == "__main__":
    main()
