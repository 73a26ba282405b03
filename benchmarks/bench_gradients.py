"""Speed of ``automimic gradients``: the gradient flow of a default run's LSTM and of a text run's.

The work of the command after loading: sample 50 strings (at most 200 symbols), measure
‖∂s_t/∂s_k‖₂ for every distance. Timed as CPU seconds of this process (other jobs on the machine
do not count) and wall seconds. The baseline, in the same run on the default case, is the exact
spectral norm of every pair (t, k) — what the command computed before — which also gives the
accuracy of the estimate.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_gradients.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import automata as am  # noqa: E402
import neural  # noqa: E402
from automata.shipped import example_path  # noqa: E402
from neural.data import Corpus  # noqa: E402
from neural.diagnostics import _step_jacobians  # noqa: E402

TARGET_SECONDS = 15.0  # CPU seconds for each case
TEXT = Path(os.environ.get("AUTOMIMIC_DATA", ROOT.parent / "shared" / "data")) / "tinyshakespeare" \
    / "input.txt"  # random text of 10 characters when absent
N_STRINGS, MAX_LENGTH = 50, 200  # as `automimic gradients` samples


def default_case() -> tuple[neural.TrainedModel, list]:
    """The default run's model and strings like the ones it samples once trained."""
    truth = am.load(example_path("i_before_e_pfa"))
    model = neural.TrainedModel.untrained(truth.alphabet, neural.RNNConfig(), seed=0)
    return model, [s for s in am.sample(truth, N_STRINGS, seed=0) if s]


def text_case() -> tuple[neural.TrainedModel, list]:
    """A text run's model (the default, over the characters) and 50 strings of 200 characters."""
    text = TEXT.read_text(encoding="utf-8")[:200_000] if TEXT.exists() else \
        "".join(np.random.default_rng(0).choice(list("abcdefgh \n"), 200_000))
    alphabet = tuple(sorted(set(text)))
    model = neural.TrainedModel.untrained(alphabet, neural.RNNConfig(), seed=0)
    starts = np.random.default_rng(0).integers(0, len(text) - MAX_LENGTH, N_STRINGS)
    return model, [tuple(text[s : s + MAX_LENGTH]) for s in starts]


def _describe(model: neural.TrainedModel) -> str:
    return f"{model.config.cell.upper()} {model.config.hidden_size}"


def timed(function) -> tuple[object, float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    result = function()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def exact_flow(model: neural.TrainedModel, strings: list) -> np.ndarray:
    """The baseline: exact spectral norms of every product of one-step Jacobians."""
    longest = max(map(len, strings))
    sums, counts = np.zeros(longest + 1), np.zeros(longest + 1)
    sums[0] = counts[0] = 1
    eos = model.vocabulary.eos
    for string in strings:
        inputs = Corpus.encode(model.vocabulary, [string]).pad(np.array([0]), eos=eos, pad=eos)
        steps = _step_jacobians(model.model, inputs.inputs).double()[0]  # (n, S, S)
        for k in range(len(string)):
            product = torch.eye(steps.shape[-1], dtype=torch.float64)
            for t in range(k + 1, len(string) + 1):
                product = steps[t - 1] @ product
                sums[t - k] += float(torch.linalg.matrix_norm(product, ord=2))
                counts[t - k] += 1
    return sums / counts


def main() -> int:
    torch.set_num_threads(1)
    failed = False
    model, strings = default_case()
    flow, cpu, wall = timed(lambda: model.gradient_flow(strings))
    exact, base_cpu, _ = timed(lambda: exact_flow(model, strings))
    error = float(np.max(np.abs(flow - exact) / exact))
    print(f"default run ({_describe(model)}, {len(strings)} strings, {sum(map(len, strings))} symbols): "
          f"{cpu:.1f} s CPU ({wall:.1f} s wall); exact norms of every pair {base_cpu:.1f} s CPU "
          f"({base_cpu / cpu:.1f}× slower); largest relative difference {error:.1e}")
    failed |= cpu > TARGET_SECONDS or error > 1e-2
    model, strings = text_case()
    flow, cpu, wall = timed(lambda: model.gradient_flow(strings))
    print(f"text run ({_describe(model)}, {len(model.alphabet)} characters, {len(strings)} strings of "
          f"{MAX_LENGTH}): {cpu:.1f} s CPU ({wall:.1f} s wall)")
    failed |= cpu > TARGET_SECONDS
    print(f"target: each ≤ {TARGET_SECONDS:g} s CPU, estimate within 1% of exact: "
          f"{'missed' if failed else 'met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
