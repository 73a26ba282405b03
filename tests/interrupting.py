"""Interrupting a command that trains, as a user would: a signal once its first epoch starts."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence


def interrupt_at_first_epoch(command: Sequence[str], signum: int) -> tuple[int, str]:
    """Run ``command``, send it ``signum`` when it prints its first epoch line, let it finish;
    its exit code and everything it printed (stdout and stderr)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith("epoch 1/"):
            process.send_signal(signum)
            break
    rest, _ = process.communicate(timeout=60)
    return process.returncode, "".join(seen) + rest
