"""Speed of neural/: our trainer against a bare torch loop, the sigmoid Elman cell against
torch.nn.RNN, and inference of all prefix distributions against a bare forward pass.

Every figure is a ratio against a baseline measured in the same run, interleaved A B A B, with
the median of several repeats (pairs A B, B A alternate). Like is timed against like: the trainer and the bare loop both
start from the same strings (tuples of symbols) and end with a trained model, setup included
in both (encoding, model, optimiser), over the same number of optimiser steps.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_neural.py [--threads 1] [--repeats 9]

A missed target makes the script exit with 1.
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

from targets import Targets  # noqa: E402

import neural  # noqa: E402
from neural.model import ElmanLayer  # noqa: E402

ALPHABET = ("a", "b", "c", "d")
EOS = len(ALPHABET)
BATCH, LENGTH = 64, 50  # 50 predicted tokens per string: 49 symbols and the end-of-string
EPOCHS = 2
TRAINER_RATIO = 0.9  # our trainer's tokens/s over a bare torch loop's
ELMAN_RATIO = 1 / 1.5  # the sigmoid Elman layer's tokens/s over torch.nn.RNN's
PREFIXES_PER_S = 1_000_000  # all prefix distributions, ours


def corpus(n: int, length: int, seed: int) -> list[tuple[str, ...]]:
    rng = np.random.default_rng(seed)
    return [tuple(ALPHABET[i] for i in row) for row in rng.integers(0, 4, (n, length))]


def trainer_tokens_per_s(strings, hidden: int) -> float:
    """Strings to trained model through neural.train (bucketing, clipping, history, best model)."""
    config = neural.TrainConfig(epochs=EPOCHS, batch_size=BATCH, patience=None)
    started = time.perf_counter()
    neural.train(strings, [], ALPHABET, neural.RNNConfig(hidden_size=hidden), config, seed=0,
                 quiet=True, device="cpu")
    return EPOCHS * len(strings) * LENGTH / (time.perf_counter() - started)


def bare_tokens_per_s(strings, hidden: int) -> float:
    """Strings to trained model in a bare loop: the same model, optimiser, clipping and steps."""
    started = time.perf_counter()
    index = {symbol: i for i, symbol in enumerate(ALPHABET)}
    data = torch.tensor([[EOS, *(index[s] for s in string), EOS] for string in strings])
    torch.manual_seed(0)
    model = neural.RNNLanguageModel(neural.RNNConfig(hidden_size=hidden), len(ALPHABET) + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(EPOCHS):
        for i in range(0, len(strings), BATCH):
            batch = data[i : i + BATCH]
            optimizer.zero_grad(set_to_none=True)
            _, loss = model(batch[:, :-1], batch[:, 1:])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
    return EPOCHS * len(strings) * LENGTH / (time.perf_counter() - started)


def cell_tokens_per_s(layer: nn.Module, steps: int = 20) -> float:
    """Forward and backward of one recurrent layer, (64, 50) inputs."""
    x = torch.randn(BATCH, LENGTH, len(ALPHABET) + 1)
    started = time.perf_counter()
    for _ in range(steps):
        out = layer(x)[0]
        out.sum().backward()
    return steps * BATCH * LENGTH / (time.perf_counter() - started)


def prefixes_per_s(model: neural.TrainedModel, strings) -> float:
    """Strings to float64 numpy distributions, one (n+1, |Σ|+1) array per string."""
    started = time.perf_counter()
    model.prefix_distributions(strings)
    return sum(len(s) + 1 for s in strings) / (time.perf_counter() - started)


def bare_prefixes_per_s(model: neural.TrainedModel, inputs: torch.Tensor, rows: int = 1000) -> float:
    """The same model's forward pass and softmax on a ready-made (N, n+1) input tensor."""
    started = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(inputs), rows):
            logits, _ = model.model(inputs[i : i + rows])
            torch.softmax(logits, dim=-1)
    return inputs.numel() / (time.perf_counter() - started)


def interleaved(a, b, repeats: int) -> tuple[float, float, float]:
    """Median of a, median of b and median of a/b over interleaved runs A B B A A B ..."""
    a_runs, b_runs = [], []
    for i in range(repeats):
        if i % 2:  # alternate which goes first, so a drift of the machine's load cancels
            b_runs.append(b())
            a_runs.append(a())
        else:
            a_runs.append(a())
            b_runs.append(b())
    ratios = [x / y for x, y in zip(a_runs, b_runs, strict=True)]
    return statistics.median(a_runs), statistics.median(b_runs), statistics.median(ratios)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"median of {args.repeats} interleaved repeats\n")
    targets = Targets()

    print(f"1. trainer vs bare torch loop: LSTM, batch 64, length 50, {EPOCHS} epochs, from strings "
          "to model, setup included in both (tokens/s; target ≥ 0.9)")
    for hidden, n in ((64, 64 * 60), (256, 64 * 12)):
        strings = corpus(n, LENGTH - 1, seed=0)
        ours, bare, ratio = interleaved(lambda s=strings, h=hidden: trainer_tokens_per_s(s, h),
                                        lambda s=strings, h=hidden: bare_tokens_per_s(s, h),
                                        args.repeats)
        print(f"   hidden {hidden:3d}: trainer {ours:9.0f}  bare {bare:9.0f}  ratio {ratio:.2f}  "
              + targets.check(f"trainer ratio, hidden {hidden}", ratio, at_least=TRAINER_RATIO))

    print("\n2. sigmoid Elman (ours) vs torch.nn.RNN tanh: forward+backward, batch 64, "
          "length 50 (tokens/s; target: ratio ≥ 1/1.5 = 0.67)")
    for hidden in (64, 256):
        torch.manual_seed(0)
        ours_layer = ElmanLayer(len(ALPHABET) + 1, hidden, "sigmoid")
        torch_layer = nn.RNN(len(ALPHABET) + 1, hidden, batch_first=True)
        ours, theirs, ratio = interleaved(lambda m=ours_layer: cell_tokens_per_s(m),
                                          lambda m=torch_layer: cell_tokens_per_s(m),
                                          args.repeats)
        print(f"   hidden {hidden:3d}: elman-sigmoid {ours:9.0f}  nn.RNN-tanh {theirs:9.0f}  "
              f"ratio {ratio:.2f}  " + targets.check(f"Elman ratio, hidden {hidden}", ratio,
                                                     at_least=ELMAN_RATIO))

    print("\n3. inference: all prefix distributions of 10k strings of length 20, LSTM hidden 64; "
          "ours: strings to float64 numpy arrays; bare: forward and float32 softmax on a ready "
          "tensor, 1000 strings a pass (prefixes/s; target: ours ≥ 1M)")
    model = neural.TrainedModel.untrained(ALPHABET, neural.RNNConfig(hidden_size=64), seed=0)
    strings = corpus(10_000, 20, seed=1)
    inputs = torch.tensor([[EOS, *(ALPHABET.index(s) for s in string)] for string in strings])
    ours, bare, ratio = interleaved(lambda: prefixes_per_s(model, strings),
                                    lambda: bare_prefixes_per_s(model, inputs), args.repeats)
    print(f"   ours {ours:11,.0f}  bare {bare:11,.0f}  ratio {ratio:.2f}  "
          f"({len(strings) * 21:,} prefixes a run)  "
          + targets.check("prefixes/s", ours, at_least=PREFIXES_PER_S))
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
