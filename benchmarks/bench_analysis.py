"""Speed of exact analysis and classic operations against the issue's budgets.

Each task is timed ``--repeats`` times, interleaved with a fixed calibration loop (pure Python,
the same work every time), and reported as the median in seconds, its budget, and its ratio to
the calibration median measured in the same run, so a loaded machine shows up as a slower
calibration rather than as a regression. A task over its budget is a missed target: the script
then exits with 1.

Run from the repository root::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_analysis.py
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy starts its thread pools

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from targets import Targets  # noqa: E402

import automata as am  # noqa: E402
from automimic.commands.analysis_cmds import analyze  # noqa: E402

SEED = 20240611


def random_pdfa(rng: np.random.Generator, n_states: int, n_symbols: int,
                fanout: int = 5) -> am.Automaton:
    """A PDFA with ``fanout`` moves per state to random targets and a stop in every state."""
    next_state = np.full((n_states, n_symbols), -1)
    weights = np.zeros((n_states, n_symbols))
    for s in range(n_states):
        chosen = rng.choice(n_symbols, size=min(fanout, n_symbols), replace=False)
        next_state[s, chosen] = rng.integers(0, n_states, size=len(chosen))
        weights[s, chosen] = rng.random(len(chosen)) + 0.1
    stop = rng.random(n_states) * 0.2 + 0.05
    totals = weights.sum(axis=1) + stop
    return am.Automaton(kind="pdfa", alphabet=tuple(f"s{i}" for i in range(n_symbols)),
                        states=tuple(f"q{s}" for s in range(n_states)),
                        initial=np.arange(n_states) == 0, final=stop / totals,
                        next_state=next_state, symbol_prob=weights / totals[:, None])


def random_pfa(rng: np.random.Generator, n_states: int, n_symbols: int) -> am.Automaton:
    """A PFA whose moves are 10% dense, plus a ring so every state is reachable."""
    weights = rng.random((n_symbols, n_states, n_states)) * (
        rng.random((n_symbols, n_states, n_states)) < 0.1)
    weights[0, np.arange(n_states), (np.arange(n_states) + 1) % n_states] += 0.5
    stop = rng.random(n_states) * 0.5 + 0.1
    totals = weights.sum(axis=(0, 2)) + stop
    return am.Automaton(kind="pfa", alphabet=tuple(f"s{i}" for i in range(n_symbols)),
                        states=tuple(f"q{s}" for s in range(n_states)),
                        initial=np.arange(n_states) == 0, final=stop / totals,
                        transition=weights / totals[None, :, None])


def random_dfa(rng: np.random.Generator, n_states: int, n_symbols: int) -> am.Automaton:
    """A complete random DFA (about 80% of its states stay distinct after minimising)."""
    next_state = rng.integers(0, n_states, size=(n_states, n_symbols))
    return am.Automaton(kind="dfa", alphabet=tuple(f"s{i}" for i in range(n_symbols)),
                        states=tuple(f"q{s}" for s in range(n_states)),
                        initial=np.arange(n_states) == 0,
                        final=(rng.random(n_states) < 0.5).astype(float),
                        next_state=next_state, symbol_prob=np.ones((n_states, n_symbols)))


def calibration() -> None:
    """A fixed pure-Python workload: the yardstick of this machine's speed right now."""
    total = 0
    for i in range(300_000):
        total += i * i % 7


def timed(task: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Medians of the task and of the calibration, interleaved (C T C T ...)."""
    ours, base = [], []
    for _ in range(repeats):
        for bucket, work in ((base, calibration), (ours, task)):
            started = time.perf_counter()
            work()
            bucket.append(time.perf_counter() - started)
    return statistics.median(ours), statistics.median(base)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    pdfa = random_pdfa(rng, 1000, 20)
    # the same graph with other weights (a model of the truth): 1000 reachable pair states;
    # two unrelated random 1000-state PDFAs reach ~10⁶ pairs and hit the SizeLimitError guard
    noise = rng.random(pdfa.symbol_prob.shape) + 0.5
    weights, stop = pdfa.symbol_prob * noise, pdfa.final * (rng.random(1000) + 0.5)
    totals = weights.sum(axis=1) + stop
    other = am.Automaton(kind="pdfa", alphabet=pdfa.alphabet, states=pdfa.states,
                         initial=pdfa.initial, final=stop / totals, next_state=pdfa.next_state,
                         symbol_prob=weights / totals[:, None])
    pfa_a, pfa_b = random_pfa(rng, 100, 4), random_pfa(rng, 100, 4)
    dfa = random_dfa(rng, 10_000, 2)
    twelfth = am.regex_to_nfa("(a|b)*a" + "(a|b)" * 11)
    tasks = [
        ("analyze a 1000-state PDFA, 20 symbols", lambda: analyze(pdfa), 1.0),
        ("L2 + KL between two 1000-state PDFAs (same graph)",
         lambda: (am.l2_distance(pdfa, other), am.kl_divergence(pdfa, other)), 1.0),
        ("L2 between two 100-state PFAs (4 symbols)", lambda: am.l2_distance(pfa_a, pfa_b), 1.0),
        ("minimise a 10k-state DFA (2 symbols)", lambda: am.minimize(dfa), 2.0),
        ("determinise '12th symbol from the end is a'", lambda: am.determinize(twelfth), 5.0),
        ("  ... and minimise it (4096 states)", lambda: am.minimize(twelfth), 5.0),
    ]
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"OMP/OPENBLAS threads {os.environ['OPENBLAS_NUM_THREADS']}, "
          f"{args.repeats} repeats, medians")
    print(f"{'task':52} {'seconds':>9} {'× calib':>8}")
    targets = Targets()
    for name, task, budget in tasks:
        seconds, base = timed(task, args.repeats)
        verdict = targets.check(name.strip(" ."), seconds, at_most=budget)
        print(f"{name:52} {seconds:9.4f} {seconds / base:8.2f}  {verdict}")
    print(f"sizes: minimal DFA of the 10k DFA = {len(am.minimize(dfa).states)} states; "
          f"determinised 12th-from-end = {len(am.determinize(twelfth).states)} states, "
          f"minimal = {len(am.minimize(twelfth).states)}")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
