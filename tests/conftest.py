"""Test settings shared by every package: one BLAS thread, a deterministic hypothesis profile, and
the path of the shipped examples."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# before numpy or torch start their thread pools: on a loaded 2-core machine two-thread BLAS can
# stall ~250× on mid-size matrix products
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
# pytest puts tests/ on sys.path, where tests/automata would shadow the automata package as a
# namespace package unless the repository root comes first (it does under `python -m pytest`)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

try:
    import torch
except ImportError:  # the automata tests run without torch
    torch = None

if torch is not None:
    torch.set_num_threads(1)

settings.register_profile("ci", deadline=None, max_examples=60, derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    """The folder of the shipped example automata (inside the ``automata`` package)."""
    from automata.shipped import example_path

    return example_path().parent
