"""One display of numbers for the terminal and both reports."""

from __future__ import annotations

import math

from compare.formatting import number
from compare.inside.page import distance_rows


def test_negative_infinity_is_not_printed_as_infinity_in_either_report():
    assert number(-math.inf) == "−∞" and number(math.inf) == "∞"
    nan = math.nan
    rows = distance_rows({"rnn": {"kl_bits_per_symbol": -math.inf, "mean_tv": 0.5, "wer": nan},
                           "extracted": {"kl_bits_per_symbol": math.inf, "mean_tv": 0.1,
                                         "wer": 0.0},
                           "extracted_vs_rnn": {"mean_tv": 0.2, "wer": 0.3}})
    assert rows[0][3] == "−∞" and rows[0][5] == "—" and rows[1][3] == "∞"


def test_large_values_keep_the_digits_that_tell_them_apart():
    shown = [number(value, 3) for value in (1608.74, 1615.14, 1620.01)]
    assert shown == ["1608.74", "1615.14", "1620.01"]  # not 1.61e+03 three times
    assert number(0.0123456, 3) == "0.012" and number(2.5e12, 3) == "2.50e+12"
