"""CUDA checks of neural/ beside bench_cuda.py: the Elman layer on the GPU against the CPU and
its formula, each cell trained for 3 epochs on the GPU in fp32 and bf16 (validation bits/symbol
of the first and last epoch, and any warning raised), and the bf16 trainer against fp32 at
hidden 1024. Exits 1 when the layer's GPU and CPU outputs differ by more than 1e-3, a training
does not lower its validation loss or raises a warning; without a CUDA device it says so and
exits 0.

    .venv/bin/python benchmarks/check_cuda.py
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_neural import ALPHABET, corpus  # noqa: E402

import neural  # noqa: E402
from neural.model import ElmanLayer  # noqa: E402


def elman_on_gpu(nonlinearity: str) -> float:
    """The layer on the GPU against the CPU and the formula, one line; returns the output diff."""
    torch.manual_seed(0)
    cpu = ElmanLayer(5, 64, nonlinearity)
    gpu = ElmanLayer(5, 64, nonlinearity).cuda()
    gpu.load_state_dict(cpu.state_dict())
    x, h0 = torch.randn(8, 30, 5), torch.rand(8, 64)
    a, _ = cpu(x, (h0,))
    a.square().sum().backward()
    b, (b_last,) = gpu(x.cuda(), (h0.cuda(),))
    b.square().sum().backward()
    diff = (a - b.cpu()).abs().max().item()
    grad = max((p.grad - q.grad.cpu()).abs().max().item() / (p.grad.abs().max().item() + 1e-12)
               for p, q in zip(cpu.parameters(), gpu.parameters(), strict=True))
    activation = torch.sigmoid if nonlinearity == "sigmoid" else torch.tanh
    h = h0
    for t in range(x.shape[1]):
        h = activation(h @ cpu.weight_hh.t() + x[:, t] @ cpu.weight_hx.t() + cpu.bias)
    print(f"elman {nonlinearity}: GPU vs CPU output max diff {diff:.2e}, grad rel diff {grad:.2e}, "
          f"last state vs formula {(b_last.cpu() - h).abs().max().item():.2e}")
    return diff


def short_training(cell: str, nonlinearity: str, precision: str) -> bool:
    """Three epochs on the GPU, one line; True when validation improved without warnings."""
    strings = [tuple("ab" * (i % 7) + "c") for i in range(2000)]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        started = time.perf_counter()
        model = neural.train(strings[:1800], strings[1800:], ("a", "b", "c"),
                             neural.RNNConfig(cell=cell, nonlinearity=nonlinearity, hidden_size=64),
                             neural.TrainConfig(epochs=3, batch_size=64, precision=precision),
                             seed=0, quiet=True, device="cuda")
    bits = model.history["val_bits"]
    print(f"train {cell:5s} {precision}: val bits {bits[0]:.4f} -> {bits[-1]:.4f} in "
          f"{time.perf_counter() - started:.1f} s; warnings: {[str(w.message)[:80] for w in seen]}")
    return bits[-1] < bits[0] and not seen


def bf16_at(hidden: int) -> None:
    """Tokens/s of one epoch in fp32 and bf16, alternating twice (the second of each counts)."""
    strings = corpus(256 * 20, 99, seed=0)
    rates = {}
    for precision in ("fp32", "bf16", "fp32", "bf16"):
        config = neural.TrainConfig(epochs=1, batch_size=256, patience=None, precision=precision)
        torch.cuda.synchronize()
        started = time.perf_counter()
        neural.train(strings, [], ALPHABET, neural.RNNConfig(hidden_size=hidden), config, seed=0,
                     quiet=True, device="cuda")
        torch.cuda.synchronize()
        rates[precision] = len(strings) * 100 / (time.perf_counter() - started)
    print(f"hidden {hidden}: fp32 {rates['fp32']:,.0f} bf16 {rates['bf16']:,.0f} tokens/s, "
          f"ratio {rates['bf16'] / rates['fp32']:.2f}")


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA device: not checked")
        return 0
    failed = sum(elman_on_gpu(nonlinearity) > 1e-3 for nonlinearity in ("sigmoid", "tanh"))
    for cell, nonlinearity in (("lstm", "tanh"), ("gru", "tanh"), ("elman", "sigmoid")):
        failed += sum(not short_training(cell, nonlinearity, p) for p in ("fp32", "bf16"))
    bf16_at(1024)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
