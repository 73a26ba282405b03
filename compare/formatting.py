"""Results as text and plain data, the same in the terminal, JSON and both HTML reports: numbers
for display (``—`` for missing, ``∞``/``−∞``), symbols with visible white space, distributions,
and JSON-ready values (no NaN)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from automata.rendering import visible
from automata.strings import single_characters

COLUMNS = (  # (metric key, label, digits, show the standard error)
    ("kl_bits_per_symbol", "KL bits/symbol", 4, True),
    ("kl_bits_per_string", "KL bits/string", 3, True),
    ("cross_entropy_bits_per_symbol", "cross-entropy bits/symbol", 4, False),
    ("mean_tv", "mean TV", 4, False),
    ("max_tv", "max TV", 3, False),
    ("wer", "WER", 4, False),
    ("ndcg5", "NDCG@5", 4, False),
    ("pautomac_perplexity", "PAutomaC perplexity", 3, False),
    ("illegal_sample_fraction", "illegal sample fraction", 4, False),
)


def number(value: float | None, digits: int = 4, stderr: float | None = None) -> str:
    """A metric for display: ``—`` when missing, ``± se`` when an error is known.

    ``digits`` decimals below 10**digits; larger values get six significant digits (so that
    three perplexities near 1612 do not all print as 1.61e+03), and an exponent from 10**9.

    >>> number(0.01234, 3, 0.0011), number(float("nan")), number(float("-inf"))
    ('0.012 ± 0.0011', '—', '−∞')
    >>> number(1612.3456, 3), number(2.5e12, 3)
    ('1612.35', '2.50e+12')
    """
    if value is None or math.isnan(value):
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if abs(value) >= 1e9:
        text = f"{value:.2e}"
    elif abs(value) >= 10**digits:
        text = f"{value:.{max(0, 6 - len(str(int(abs(value)))))}f}"  # six significant digits
    else:
        text = f"{value:.{digits}f}"
    if stderr is not None and math.isfinite(stderr) and stderr > 0:
        text += f" ± {stderr:.2g}"
    return text


def metric_rows(evaluations: Sequence) -> list[list[str]]:
    """The headline metrics as display rows: a metric's label, then its value in each of
    ``evaluations`` (anything with ``metrics`` and ``stderr`` by metric key).

    >>> from types import SimpleNamespace as E
    >>> keys = [key for key, _, _, _ in COLUMNS]
    >>> metric_rows([E(metrics=dict.fromkeys(keys, 0.5), stderr=dict.fromkeys(keys, 0.01))])[0]
    ['KL bits/symbol', '0.5000 ± 0.01']
    """
    return [[label, *(number(e.metrics[key], digits, e.stderr[key] if with_error else None)
                      for e in evaluations)] for key, label, digits, with_error in COLUMNS]


def symbols_text(symbols: Sequence[str], alphabet: Sequence[str], limit: int = 0) -> str:
    """A string of symbols for display, white space visible; ``ε`` when empty; with a
    ``limit``, a longer string shows only its last ``limit`` symbols after ``…``. Symbols are
    joined without a separator when every symbol of ``alphabet`` is one character.

    >>> symbols_text(("a", " ", "b"), ("a", "b", " ")), symbols_text(("the", "cat"), ("the", "cat"))
    ('a␣b', 'the cat')
    >>> symbols_text((), ("a",)), symbols_text(tuple("abcde"), ("a",), limit=2)
    ('ε', '…de')
    """
    if not symbols:
        return "ε"
    shown = symbols[-limit:] if 0 < limit < len(symbols) else symbols
    text = ("" if single_characters(alphabet) else " ").join(visible(s) for s in shown)
    return text if len(shown) == len(symbols) else "…" + text


def distribution(values: Sequence[float], columns: Sequence[str], digits: int = 3) -> str:
    """A next-symbol distribution as ``symbol:probability`` pairs, white space visible.

    >>> distribution([0.25, 0.75], (" ", "$"))
    '␣:0.250 $:0.750'
    """
    return " ".join(f"{visible(c)}:{number(v, digits)}" for c, v in zip(columns, values,
                                                                         strict=True))
