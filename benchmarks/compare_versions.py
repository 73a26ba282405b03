"""The batched figures of ``automata`` in this checkout against another checkout (an earlier
commit): they must not drop.

Each side runs in its own process (both packages are called ``automata``), the two alternating
for ``--rounds`` rounds; a process times each case ``--repeats`` times in CPU time (less
sensitive than wall time to other jobs on a shared machine) and reports the median. The ratio
is this checkout's median figure over the other's; target ≥ 0.9 for every case (exit 1 below).

With ``--one-process`` the other checkout's package is loaded beside this one under another
name (``automata_other``) and the two sides alternate call by call, ``--rounds`` × ``--repeats``
timings each: on a loaded machine a process's speed drifts (against a copy of this checkout,
separate processes read 0.99–1.05 in one run, calls side by side 0.99–1.00), so changes of a
few percent are measured side by side.

    git archive e1a43b1 automata | tar -x -C /tmp/before   # the engine before issue 13
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/compare_versions.py /tmp/before
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

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


def cases(am: ModuleType) -> dict[str, tuple[Callable[[], object], int]]:
    """Each batched case of the ``automata`` package ``am``: a call to time, and the symbols it
    reads or writes."""
    import numpy as np
    from bench_automata import SEED, dfa, markov_chain, pdfa, pfa, total_symbols

    sample_codes = importlib.import_module(am.__name__ + ".sampling").sample_codes
    result = {}
    for name, build in (("log P, 50-state PDFA", pdfa), ("log P, 50-state PFA", pfa)):
        a = am.from_dict(build(np.random.default_rng(SEED)))
        strings = ["".join(x) for x in am.sample(a, 10_000, seed=SEED)]
        result[name] = (lambda a=a, s=strings: am.log_probability(a, s), total_symbols(strings))
    a = am.from_dict(dfa(np.random.default_rng(SEED)))
    rng, alphabet = np.random.default_rng(SEED + 1), np.array(a.alphabet)
    strings = ["".join(alphabet[rng.integers(len(alphabet), size=rng.integers(0, 100))])
               for _ in range(10_000)]
    result["DFA acceptance, a batch"] = (lambda: am.accepts(a, strings), total_symbols(strings))
    chain = am.from_dict(markov_chain(np.random.default_rng(SEED)))
    n = total_symbols(am.sample(chain, 20_000, seed=SEED))
    for name, sample in (("sample tuples", am.sample), ("sample codes", sample_codes)):
        result[name] = (lambda f=sample: f(chain, 20_000, seed=SEED), n)
    return result


def measure(repeats: int) -> dict[str, float | str]:
    """M symbols per second of each batched case, for the ``automata`` first on sys.path."""
    import automata as am  # first: bench_automata then finds it imported, from PYTHONPATH

    figures: dict[str, float | str] = {"automata": am.__file__}
    for name, (run, symbols) in cases(am).items():
        figures[name] = symbols / cpu_seconds(run, repeats) / 1e6
    return figures


def load_other(root: Path) -> ModuleType:
    """The ``automata`` package under ``root``, imported as ``automata_other`` (its modules
    import each other relatively, so they stay apart from this checkout's)."""
    spec = importlib.util.spec_from_file_location(
        "automata_other", root / "automata" / "__init__.py",
        submodule_search_locations=[str(root / "automata")])
    module = importlib.util.module_from_spec(spec)
    sys.modules["automata_other"] = module
    spec.loader.exec_module(module)
    return module


def one_process(other: Path, rounds: int, repeats: int) -> dict[str, list[dict[str, float]]]:
    """Both sides' figures from calls alternating in this process (see the module docstring)."""
    sys.path[:0] = [str(HERE.parent), str(HERE)]
    import automata as am

    for module, root in ((am, HERE.parent), (load_other(other), other)):
        if not module.__file__.startswith(str(root)):
            raise RuntimeError(f"{module.__name__} was not imported from {root}")
    sides = {"other": cases(sys.modules["automata_other"]), "this": cases(am)}
    figures: dict[str, dict[str, float]] = {"other": {}, "this": {}}
    for case in sides["this"]:
        times: dict[str, list[float]] = {"other": [], "this": []}
        for k in range(rounds * repeats + 1):  # the first call of each side warms up
            for side in ("other", "this") if k % 2 else ("this", "other"):
                run, _ = sides[side][case]
                started = time.process_time()
                run()
                if k:
                    times[side].append(time.process_time() - started)
        for side in figures:
            figures[side][case] = sides[side][case][1] / statistics.median(times[side]) / 1e6
    return {side: [values] for side, values in figures.items()}


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
    parser.add_argument("--one-process", action="store_true",
                        help="time both sides in this process, call by call")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return 0
    if args.other is None or not (args.other / "automata" / "__init__.py").is_file():
        parser.error("give the other checkout: a folder that holds automata/__init__.py")
    if args.one_process:
        sides = one_process(args.other.resolve(), args.rounds, args.repeats)
        how = f"median of {args.rounds} × {args.repeats} calls alternating in one process"
    else:
        sides = {"other": [], "this": []}
        for _ in range(args.rounds):
            for side, root in (("other", args.other), ("this", HERE.parent)):
                sides[side].append(run_side(root.resolve(), args.repeats))
        how = f"median of {args.rounds} processes × {args.repeats} repeats"
    print(f"M symbols/s, CPU time, {how}, load average {os.getloadavg()[0]:.1f}; "
          f"other: {args.other}")
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
