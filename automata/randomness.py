"""The one place where a ``seed`` argument becomes a random generator."""

from __future__ import annotations

import numpy as np

Seed = int | np.random.Generator | None


def make_rng(seed: Seed) -> np.random.Generator:
    """A numpy Generator from an int, None (fresh entropy) or an existing Generator.

    >>> int(make_rng(0).integers(10)) == int(make_rng(0).integers(10))
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
        raise TypeError(f"seed must be an int, None or a numpy Generator (got {seed!r})")
    return np.random.default_rng(seed)
