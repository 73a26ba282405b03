"""The batched figures of ``automata`` in this checkout against another checkout (an earlier
commit): they must not drop.

Each side runs in its own process (both packages are called ``automata``), the two alternating
for ``--rounds`` rounds; a process times each case ``--repeats`` times in CPU time (less
sensitive than wall time to other jobs on a shared machine) and reports the median. The ratio
is this checkout's median figure over the other's; target ≥ 0.9 for every case (exit 1 below).

    git archive e1a43b1 automata | tar -x -C /tmp/before   # the engine before issue 13
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/compare_versions.py /tmp/before
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = 0.9


def cpu_seconds(run: Callable[[], object], repeats: int) -> float:
    """Median CPU time of ``run`` over ``repeats`` timings after one warm-up."""
    run()
    times = []
    for _ in range(repeats):
        started = time.process_time()
        run()
        times.append(time.process_time() - started)
    return statistics.median(times)


def measure(repeats: int) -> dict[str, float | str]:
    """M symbols per second of each batched case, for the ``automata`` first on sys.path."""
    import automata as am  # first: bench_automata then finds it imported, from PYTHONPATH
    from automata.sampling import sample_codes

    figures = {"automata": am.__file__}
    import numpy as np
    from bench_automata import SEED, dfa, markov_chain, pdfa, pfa, total_symbols

    for name, build in (("log P, 50-state PDFA", pdfa), ("log P, 50-state PFA", pfa)):
        a = am.from_dict(build(np.random.default_rng(SEED)))
        strings = ["".join(x) for x in am.sample(a, 10_000, seed=SEED)]
        seconds = cpu_seconds(lambda a=a, s=strings: am.log_probability(a, s), repeats)
        figures[name] = total_symbols(strings) / seconds / 1e6
    a = am.from_dict(dfa(np.random.default_rng(SEED)))
    rng, alphabet = np.random.default_rng(SEED + 1), np.array(a.alphabet)
    strings = ["".join(alphabet[rng.integers(len(alphabet), size=rng.integers(0, 100))])
               for _ in range(10_000)]
    figures["DFA acceptance, a batch"] = total_symbols(strings) / cpu_seconds(
        lambda: am.accepts(a, strings), repeats) / 1e6
    chain = am.from_dict(markov_chain(np.random.default_rng(SEED)))
    n = total_symbols(am.sample(chain, 20_000, seed=SEED))
    for name, sample in (("sample tuples", am.sample), ("sample codes", sample_codes)):
        figures[name] = n / cpu_seconds(lambda f=sample: f(chain, 20_000, seed=SEED), repeats) / 1e6
    return figures


def run_side(root: Path, repeats: int) -> dict[str, float]:
    """:func:`measure` in a fresh process with ``root``'s automata first on its path."""
    environment = os.environ | {"PYTHONPATH": os.pathsep.join([str(root), str(HERE)])}
    output = subprocess.run([sys.executable, __file__, "--measure", str(repeats)], env=environment,
                            check=True, capture_output=True, text=True).stdout
    figures = json.loads(output)
    if not figures.pop("automata").startswith(str(root)):
        raise RuntimeError(f"the child process did not import automata from {root}")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, nargs="?", help="the other checkout (holds automata/)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return 0
    if args.other is None or not (args.other / "automata" / "__init__.py").is_file():
        parser.error("give the other checkout: a folder that holds automata/__init__.py")
    sides: dict[str, list[dict[str, float]]] = {"other": [], "this": []}
    for _ in range(args.rounds):
        for side, root in (("other", args.other), ("this", HERE.parent)):
            sides[side].append(run_side(root.resolve(), args.repeats))
    print(f"M symbols/s, CPU time, median of {args.rounds} processes × {args.repeats} repeats, "
          f"load average {os.getloadavg()[0]:.1f}; other: {args.other}")
    missed = 0
    for case in sides["this"][0]:
        other, this = (statistics.median(run[case] for run in sides[side]) for side in ("other", "this"))
        passed = this >= TARGET * other
        missed += not passed
        print(f"{case:26s} other {other:7.2f}  this {this:7.2f}  ratio {this / other:.2f}  "
              f"target ≥ {TARGET}  {'ok' if passed else 'MISSED'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
