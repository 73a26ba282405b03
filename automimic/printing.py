"""What the commands print: JSON, and ranked probabilities and completions as tables."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from automata.strings import format_string
from automimic_io.jsontext import json_text

JSON_LINES_HELP = "print one JSON record a line (JSON Lines) instead"


def print_json(value: object) -> None:
    """Print plain data as JSON (:func:`automimic_io.jsontext.json_text`: never NaN)."""
    print(json_text(value))


def finite(value: float) -> float | None:
    """``value``, or None (JSON null) when it is not finite."""
    return value if math.isfinite(value) else None


def print_scores(strings: list[str], natural_logs: np.ndarray, as_json: bool) -> None:
    """Print strings ranked by probability (natural logs given), as a table or JSON."""
    order = sorted(range(len(strings)), key=lambda i: -natural_logs[i])
    rows = [{"string": strings[i], "probability": float(np.exp(natural_logs[i])),
             "log2_probability": finite(float(natural_logs[i] / np.log(2)))} for i in order]
    if as_json:
        print_json(rows)
        return
    width = max(len(repr(row["string"])) for row in rows)
    print(f"{'string':<{width}}  {'probability':>12}  {'log2 p':>10}")
    for row in rows:
        log2 = "-inf" if row["log2_probability"] is None else f"{row['log2_probability']:.4f}"
        print(f"{row['string']!r:<{width}}  {row['probability']:>12.6g}  {log2:>10}")


def json_lines(records: Iterable[dict]) -> str:
    """JSON Lines: one record a line; a newline inside a string is escaped, so one record stays
    one line.

    >>> print(json_lines([{"string": "a\\nb"}, {"string": ""}]), end="")
    {"string": "a\\nb"}
    {"string": ""}
    """
    return "".join(json_text(record, indent=None) + "\n" for record in records)


def sample_records(strings: Sequence[Sequence[str]], cut: Sequence[bool],
                   format_symbols: Callable[[Sequence[str]], str]) -> list[dict]:
    """One record a sampled string: its text, its symbols and whether it was cut at the
    maximum length.

    >>> sample_records([("a", "b")], [False], "".join)
    [{'string': 'ab', 'symbols': ['a', 'b'], 'cut': False}]
    """
    return [{"string": format_symbols(s), "symbols": list(s), "cut": bool(c)}
            for s, c in zip(strings, cut, strict=True)]


def print_completions(alphabet, prefix, completions, *, as_json: bool = False) -> None:
    """Print ranked completions: the whole string with its conditional probability, as a table
    or JSON Lines (``string``, ``symbols``, ``completion``, ``probability``)."""
    if as_json:
        print(json_lines({"string": format_string(alphabet, tuple(prefix) + tuple(suffix)),
                          "symbols": [*prefix, *suffix],
                          "completion": list(suffix), "probability": probability}
                         for suffix, probability in completions), end="")
        return
    for suffix, probability in completions:
        whole = format_string(alphabet, tuple(prefix) + tuple(suffix))
        print(f"{probability:10.6g}  {whole!r}")
