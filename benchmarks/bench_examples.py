"""The main job with default settings on every shipped example: how close, against the n-gram.

Runs ``automimic run EXAMPLE --out OUT/NAME`` (one torch thread) for each example of
``automata/examples`` and reads its ``metrics.json``. Targets (issue 9): the RNN's KL to the truth
≤ the n-gram baseline's, or ≤ 0.001 bits/symbol; each run within 3 minutes. The time checked is
the run's CPU time (user + system of the process and its children): with one thread, that is its
wall time on an idle core, and it does not grow when other jobs share the machine, as wall time
does (printed beside it). A finished run folder is reused (``run`` resumes it); ``--force``
trains again. Exits 1 on a miss.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_examples.py --out runs/examples
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from targets import Targets, exit_with

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from automata.shipped import example_names, example_path  # noqa: E402

KL_FLOOR = 0.001  # bits/symbol: closer than this counts as reached, whatever the n-gram does
SECONDS = 180.0


def children_cpu() -> float:
    """CPU seconds used so far by the finished child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_example(name: str, out: Path, force: bool, options: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``automimic run`` of the example ``name`` into ``out``, with
    ``options`` added to the command."""
    command = [sys.executable, "-m", "automimic", "run", str(example_path(name)), "--out", str(out),
               "--quiet", *(["--force"] if force else []), *options]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    cpu, started = children_cpu(), time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started, children_cpu() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "examples")
    parser.add_argument("--examples", default=",".join(example_names()))
    parser.add_argument("--force", action="store_true", help="train again where a run is finished")
    parser.add_argument("--run-option", action="append", default=[], metavar="OPTION",
                        help="an option added to every `automimic run` (repeatable), e.g. --run-option=--refit-head")
    args = parser.parse_args()
    unknown = set(args.examples.split(",")) - set(example_names())
    if unknown:
        parser.error(f"--examples: no shipped example {', '.join(sorted(unknown))} "
                     f"(the examples: {', '.join(example_names())})")
    targets = Targets()
    print(f"load average {os.getloadavg()[0]:.1f} at the start; one torch thread a run")
    print(f"{'example':<16}  {'RNN KL':>15}  {'n-gram KL':>15}  {'CPU s':>6}  {'wall s':>6}")
    for name in args.examples.split(","):
        folder = args.out / name
        done = (folder / "metrics.json").exists() and not args.force
        wall, cpu = run_example(name, folder, args.force, args.run_option)
        metrics = json.loads((folder / "metrics.json").read_text())
        model, baseline = metrics["metrics"], metrics["baseline"]
        kl, baseline_kl = model["kl_bits_per_symbol"], baseline["kl_bits_per_symbol"]
        timing = "(reused)" if done else f"{cpu:6.1f}  {wall:6.1f}"
        print(f"{name:<16}  {kl:.4f} ± {metrics['stderr']['kl_bits_per_symbol']:.4f}  "
              f"{baseline_kl:.4f} ± {metrics['baseline_stderr']['kl_bits_per_symbol']:.4f}  {timing}  "
              f"KL {targets.check(f'{name}: RNN KL', kl, at_most=max(baseline_kl, KL_FLOOR))}"
              + ("" if done else f"; CPU {targets.check(f'{name}: CPU s', cpu, at_most=SECONDS)}"))
    return targets.exit_code()


if __name__ == "__main__":
    exit_with(main)
