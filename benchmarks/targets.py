"""Targets of the benchmark scripts: each figure is checked where it is printed, and the script
exits with 1 when one is missed (so a benchmark run can fail, like a test)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Targets:
    """The figures checked so far, and the ones that missed their target."""

    missed: list[str] = field(default_factory=list)
    checked: int = 0

    def check(self, label: str, value: float, *, at_least: float | None = None,
              at_most: float | None = None) -> str:
        """``value`` against its bound; returns the words to print beside the figure.

        >>> targets = Targets()
        >>> targets.check("ratio", 1.2, at_least=0.9), targets.check("seconds", 7.0, at_most=5)
        ('target ≥ 0.9: ok', 'target ≤ 5: MISSED')
        >>> targets.exit_code()
        1 of 2 targets missed: seconds = 7 (target ≤ 5)
        1
        """
        if (at_least is None) == (at_most is None):
            raise ValueError("give one bound: at_least or at_most")
        passed = value >= at_least if at_least is not None else value <= at_most
        bound = f"≥ {at_least:g}" if at_least is not None else f"≤ {at_most:g}"
        self.checked += 1
        if not passed:
            self.missed.append(f"{label} = {value:.4g} (target {bound})")
        return f"target {bound}: {'ok' if passed else 'MISSED'}"

    def exit_code(self) -> int:
        """Say how the targets went; 1 when one was missed, else 0."""
        if self.missed:
            print(f"{len(self.missed)} of {self.checked} targets missed: " + "; ".join(self.missed))
            return 1
        print(f"all {self.checked} targets met")
        return 0


def exit_with(main: Callable[[], int]) -> None:
    """Run a benchmark's ``main`` and exit with its status; a command it ran that failed (and
    printed its own message) stops it with one line naming the command, not a traceback."""
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as error:
        sys.exit(f"stopped: {' '.join(map(str, error.cmd[1:]))} exited with {error.returncode}")
