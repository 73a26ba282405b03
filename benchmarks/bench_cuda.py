"""CUDA speed of neural/: the trainer against a bare cuDNN loop, the sigmoid Elman layer against
torch.nn.RNN tanh, and bf16 training against fp32.

Every figure is a ratio against a baseline measured in the same run, interleaved A B B A, with
the median of ``--repeats`` ratios (see bench_neural.py). Sizes: LSTM hidden 256, batch 256,
strings of 99 symbols (100 predicted tokens with the end of string). Targets: trainer ≥ 0.9 ×
the bare loop, Elman sigmoid ≥ 0.5 × nn.RNN tanh. bf16 against fp32 is reported without a
target: the card must train in it, and how much faster it is depends on the size of the model.
The script exits 1 on a missed target; without a CUDA device it says so and exits 0.

    .venv/bin/python benchmarks/bench_cuda.py [--repeats 5]
    .venv/bin/python benchmarks/bench_cuda.py --smoke   # the code paths on the CPU, tiny sizes
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_neural import ALPHABET, EOS, corpus, interleaved  # noqa: E402

import neural  # noqa: E402
from neural.model import ElmanLayer  # noqa: E402
from neural.precision import check_precision  # noqa: E402

HIDDEN, BATCH, LENGTH = 256, 256, 100  # LENGTH tokens per string: 99 symbols and the end
EPOCHS = 2
TARGETS = {"trainer": 0.9, "elman": 0.5}  # minimum ratios; bf16 is reported only


def trainer_tokens_per_s(strings, device: torch.device, precision: str = "fp32") -> float:
    """Strings to trained model through neural.train, no validation, no checkpoints."""
    config = neural.TrainConfig(epochs=EPOCHS, batch_size=BATCH, patience=None, precision=precision)
    _wait(device)
    started = time.perf_counter()
    neural.train(strings, [], ALPHABET, neural.RNNConfig(cell="lstm", hidden_size=HIDDEN), config,
                 seed=0, quiet=True, device=str(device))
    _wait(device)
    return EPOCHS * len(strings) * LENGTH / (time.perf_counter() - started)


def bare_tokens_per_s(strings, device: torch.device) -> float:
    """Strings to trained model in a bare loop over torch.nn.LSTM (cuDNN): one-hot inputs,
    a linear read-out, Adam, clipping, the same batches and steps; setup included."""
    _wait(device)
    started = time.perf_counter()
    index = {symbol: i for i, symbol in enumerate(ALPHABET)}
    data = torch.tensor([[EOS, *(index[s] for s in string), EOS] for string in strings],
                        device=device)
    torch.manual_seed(0)
    lstm = nn.LSTM(EOS + 1, HIDDEN, batch_first=True).to(device)
    readout = nn.Linear(HIDDEN, EOS + 1).to(device)
    parameters = [*lstm.parameters(), *readout.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=3e-3)
    for _ in range(EPOCHS):
        for i in range(0, len(strings), BATCH):
            batch = data[i : i + BATCH]
            optimizer.zero_grad(set_to_none=True)
            hidden, _ = lstm(F.one_hot(batch[:, :-1], EOS + 1).float())  # (B, T, H)
            loss = F.cross_entropy(readout(hidden).flatten(0, 1), batch[:, 1:].flatten())
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, 5.0)
            optimizer.step()
    _wait(device)
    return EPOCHS * len(strings) * LENGTH / (time.perf_counter() - started)


def layer_tokens_per_s(layer: nn.Module, device: torch.device, steps: int = 10) -> float:
    """Forward and backward of one recurrent layer on (BATCH, LENGTH, |Σ|+1) inputs."""
    x = torch.randn(BATCH, LENGTH, EOS + 1, device=device)
    _wait(device)
    started = time.perf_counter()
    for _ in range(steps):
        layer(x)[0].sum().backward()
    _wait(device)
    return steps * BATCH * LENGTH / (time.perf_counter() - started)


def _wait(device: torch.device) -> None:
    """Let the GPU finish its queued work, so that a timer read after it counts that work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bf16_refusal(device: torch.device) -> str | None:
    """Why the trainer cannot train the LSTM in bf16 on ``device``, or None when it can."""
    try:
        check_precision("bf16", device, neural.RNNConfig(cell="lstm", hidden_size=HIDDEN))
    except ValueError as refusal:
        return str(refusal)
    return None


def cases(device: torch.device, n_strings: int) -> dict[str, tuple[Callable[[], float], ...]]:
    """Per case, the two sides to time against each other (each returns tokens per second)."""
    strings = corpus(n_strings, LENGTH - 1, seed=0)
    torch.manual_seed(0)
    elman = ElmanLayer(EOS + 1, HIDDEN, "sigmoid").to(device)
    tanh = nn.RNN(EOS + 1, HIDDEN, batch_first=True).to(device)
    return {"trainer": (lambda: trainer_tokens_per_s(strings, device),
                        lambda: bare_tokens_per_s(strings, device)),
            "elman": (lambda: layer_tokens_per_s(elman, device),
                      lambda: layer_tokens_per_s(tanh, device)),
            "bf16": (lambda: trainer_tokens_per_s(strings, device, "bf16"),
                     lambda: trainer_tokens_per_s(strings, device, "fp32"))}


LABELS = {"trainer": ("neural.train LSTM", "bare cuDNN loop"),
          "elman": ("ElmanLayer sigmoid", "nn.RNN tanh"),
          "bf16": ("neural.train bf16", "neural.train fp32")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--smoke", action="store_true",
                        help="run the code paths on the CPU with tiny sizes; no targets")
    args = parser.parse_args(argv)
    if not args.smoke and not torch.cuda.is_available():
        print("no CUDA device: not measured")
        return 0
    device = torch.device("cpu" if args.smoke else "cuda")
    card = "CPU (smoke run, no targets)" if args.smoke else torch.cuda.get_device_name(device)
    repeats = 1 if args.smoke else args.repeats
    print(f"torch {torch.__version__}, {card}, hidden {HIDDEN}, batch {BATCH}, length {LENGTH}, "
          f"median of {repeats} interleaved repeats (tokens/s)")
    refusal = bf16_refusal(device)
    missed = 0
    for case, (ours, baseline) in cases(device, BATCH * (1 if args.smoke else 40)).items():
        if case == "bf16" and refusal:
            print(f"{case:8s} not measured: {refusal}")
            continue
        ours(), baseline()  # warm-up: cuDNN plans, the allocator, kernels
        ours_rate, baseline_rate, ratio = interleaved(ours, baseline, repeats)
        target = TARGETS.get(case)
        passed = args.smoke or target is None or ratio >= target
        missed += not passed
        first, second = LABELS[case]
        verdict = "no target" if target is None else f"target ≥ {target}  {'ok' if passed else 'MISSED'}"
        print(f"{case:8s} {first} {ours_rate:12,.0f}  {second} {baseline_rate:12,.0f}  "
              f"ratio {ratio:.2f}  {verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
