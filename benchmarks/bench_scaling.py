"""How exact analysis scales with the number of states: `validate` and `analyze` of random PDFAs.

For each size a random PDFA (every state has ``--fanout`` moves to random targets and a stop) is
written as YAML, then `automimic validate` and `automimic analyze --json` run on it in this
process, each timed end to end (reading the YAML included). The baseline, timed in the same run,
is libyaml composing the same file (the parser alone, the floor of any reading). The targets are
checked on CPU seconds of this single-threaded process, which a loaded shared machine inflates
far less than wall-clock seconds (printed too). Exits 1 when a target is missed.

Run from the repository root::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_scaling.py
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy starts its thread pools

import argparse  # noqa: E402
import contextlib  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_analysis import random_pdfa  # noqa: E402
from targets import Targets  # noqa: E402

import automata as am  # noqa: E402
from automimic.cli import main as automimic  # noqa: E402

SEED = 20261127
SIZES = ((1_000, 10), (5_000, 10), (20_000, 3), (50_000, 3))  # (states, symbols)
TARGETS = {50_000: {"validate": 10.0, "analyze": 30.0}}  # CPU seconds


def timed(work) -> tuple[float, float]:
    """CPU and wall-clock seconds of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    return time.process_time() - cpu, time.perf_counter() - wall


def compose(path: str) -> None:
    """The baseline: libyaml turns the file into YAML nodes, nothing more (with the garbage
    collector paused, as the loader does)."""
    gc.disable()
    try:
        yaml.compose(Path(path).read_text(), Loader=yaml.CSafeLoader)
    finally:
        gc.enable()


def command(*argv: str) -> None:
    """Run one automimic command in this process, its output discarded, and check its exit."""
    with contextlib.redirect_stdout(io.StringIO()):
        code = automimic(list(argv))
    if code != 0:
        raise SystemExit(f"automimic {' '.join(argv)} exited {code}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fanout", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for n_states, n_symbols in SIZES:
            path = str(Path(folder) / f"pdfa{n_states}.yaml")
            am.dump(random_pdfa(rng, n_states, n_symbols, args.fanout), path)
            rows.append((n_states, n_symbols, timed(lambda: compose(path)),  # noqa: B023
                         timed(lambda: command("validate", path)),  # noqa: B023
                         timed(lambda: command("analyze", path, "--json"))))  # noqa: B023
    print(f"OMP/OPENBLAS threads {os.environ['OPENBLAS_NUM_THREADS']}, fanout {args.fanout}; "
          "CPU seconds (wall-clock seconds)")
    print(f"{'states':>7} {'symbols':>7} {'libyaml compose':>17} {'validate':>15} "
          f"{'analyze':>15} {'validate/compose':>17}  targets (CPU seconds)")
    targets = Targets()
    for n_states, n_symbols, base, validate, analyze in rows:
        target = TARGETS.get(n_states, {})
        verdict = ", ".join(
            f"{what} {targets.check(f'{what}, {n_states} states', cpu, at_most=target[what])}"
            for what, cpu in (("validate", validate[0]), ("analyze", analyze[0]))
            if what in target)
        cells = " ".join(f"{cpu:7.2f} ({wall:5.1f})" for cpu, wall in (base, validate, analyze))
        print(f"{n_states:7d} {n_symbols:7d} {cells} {validate[0] / base[0]:17.2f}  {verdict}")
    return targets.exit_code()

if __name__ == "__main__":
    sys.exit(main())
