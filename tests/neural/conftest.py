"""Fixtures for the neural tests: the A/B/E Markov chain, sampled and scored exactly with numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

ALPHABET = ("A", "B", "E")
START = {"A": 0.6, "E": 0.4}
NEXT = {
    "A": {"A": 0.3, "B": 0.3, "E": 0.3, "$": 0.1},
    "B": {"E": 1.0},
    "E": {"A": 0.8, "E": 0.1, "$": 0.1},
}


def _draw(rng: np.random.Generator, distribution: dict[str, float]) -> str:
    symbols = list(distribution)
    return symbols[rng.choice(len(symbols), p=list(distribution.values()))]


def sample_chain(n: int, seed: int) -> list[tuple[str, ...]]:
    """``n`` strings of the A/B/E Markov chain."""
    rng = np.random.default_rng(seed)
    strings = []
    for _ in range(n):
        string = [_draw(rng, START)]
        while (symbol := _draw(rng, NEXT[string[-1]])) != "$":
            string.append(symbol)
        strings.append(tuple(string))
    return strings


def chain_log2prob(string: tuple[str, ...]) -> float:
    """Exact log₂ probability of a string, end-of-string included."""
    total = math.log2(START[string[0]])
    for previous, symbol in zip(string, (*string[1:], "$"), strict=True):
        total += math.log2(NEXT[previous][symbol])
    return total


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def chain_corpus() -> dict[str, list[tuple[str, ...]]]:
    return {
        "train": sample_chain(4000, seed=1),
        "val": sample_chain(500, seed=2),
        "test": sample_chain(2000, seed=3),
    }
