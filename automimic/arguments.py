"""Argument types shared by the commands: argparse turns their errors into one usage line and
exit code 2."""

from __future__ import annotations

import argparse
import math


def _whole_number(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number (got {text!r})") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected a number ≥ {minimum} (got {value})")
    return value


def count(text: str) -> int:
    """A whole number ≥ 0 (how many strings, a length, a seed).

    >>> count("3")
    3
    """
    return _whole_number(text, 0)


def positive(text: str) -> int:
    """A whole number ≥ 1.

    >>> positive("1")
    1
    """
    return _whole_number(text, 1)


def inverse_temperature(text: str) -> float:
    """α ≥ 0 for sampling, ``inf`` allowed (greedy).

    >>> inverse_temperature("inf")
    inf
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or inf (got {text!r})") from None
    if math.isnan(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 0 or inf (got {text!r})")
    return value



def number_list(text: str) -> tuple[int, ...]:
    """Whole numbers ≥ 1 and ranges, comma-separated: ``1,3-5`` (sorted, each once).

    >>> number_list("7,1,3-5")
    (1, 3, 4, 5, 7)
    """
    numbers: set[int] = set()
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        low = positive(first)
        high = positive(last) if last else low
        if high < low:
            raise argparse.ArgumentTypeError(f"expected a range low-high (got {part.strip()!r})")
        numbers.update(range(low, high + 1))
    return tuple(sorted(numbers))
