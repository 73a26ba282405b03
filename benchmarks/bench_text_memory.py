"""Memory of `automimic train --data TEXT --chars` per character of text (issue 11 item 8).

The command runs in a child process up to its first optimiser step (the text read, split,
written to the run folder, encoded and cut into parallel streams), which is then stopped: what
training adds on top (the batch's activations) does not grow with the text. The figure is the
growth of the child's peak resident memory from a 0.1 MB text to a larger one, per character.
The text is drawn at random from 65 characters (fixed seed), so no data set is needed.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_text_memory.py [--mb 10] [--code DIR]

``--code DIR`` measures another checkout (e.g. an older commit in a git worktree) instead of
this one. A missed target makes the script exit with 1.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from targets import Targets  # noqa: E402

BYTES_PER_CHARACTER = 10  # target: peak memory growth per character of text
CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,;:!?'-\n()"
CHILD = """
import resource, sys
import neural.training
from automimic.cli import main

class Stop(Exception):
    pass

def stop(*args, **kwargs):
    raise Stop

neural.training._train_step = stop
try:
    main(["train", "--data", sys.argv[1], "--chars", "--out", sys.argv[2], "--quiet",
          "--hidden", "4"])
except Stop:
    pass
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def write_text(path: Path, characters: int) -> None:
    """A random text, made with a byte a character: a child inherits its parent's peak memory
    (Linux keeps it across fork and exec), so this process must stay small."""
    codes = np.random.default_rng(0).integers(0, len(CHARACTERS), characters, dtype=np.uint8)
    path.write_bytes(np.frombuffer(CHARACTERS.encode(), dtype=np.uint8)[codes].tobytes())


def peak_kib(code: Path, text: Path, out: Path) -> int:
    """The child's peak resident memory (KiB) up to its first optimiser step."""
    result = subprocess.run([sys.executable, "-c", CHILD, str(text), str(out)], cwd=code,
                            capture_output=True, text=True, check=True,
                            env={"PYTHONPATH": str(code), "OMP_NUM_THREADS": "1", "PATH": ""})
    return int(result.stdout.split()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=10.0, help="size of the large text (10)")
    parser.add_argument("--code", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the checkout to measure (this one)")
    args = parser.parse_args()
    targets = Targets()
    with tempfile.TemporaryDirectory() as folder:
        sizes = {"small": 100_000, "large": int(args.mb * 1_000_000)}
        peaks = {}
        for name, characters in sizes.items():
            text = Path(folder) / f"{name}.txt"
            write_text(text, characters)
            peaks[name] = peak_kib(args.code.resolve(), text, Path(folder) / f"run-{name}")
            print(f"{name} text: {characters:>11,} characters, peak {peaks[name] / 1024:7.1f} MiB")
    per_character = (peaks["large"] - peaks["small"]) * 1024 / (sizes["large"] - sizes["small"])
    verdict = targets.check("bytes per character", per_character, at_most=BYTES_PER_CHARACTER)
    print(f"code: {args.code}")
    print(f"peak memory growth: {per_character:.1f} bytes per character of text  {verdict}")
    return targets.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
