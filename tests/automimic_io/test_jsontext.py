"""JSON text never holds a bare NaN or Infinity, whatever the numbers."""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from automimic_io.jsontext import json_text

NUMBERS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [np.float64("nan"), np.float32("inf"), np.float64("-inf")])


def _strict(constant: str):
    raise ValueError(f"{constant} in JSON text")


@given(st.recursive(NUMBERS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=3)))
def test_every_number_comes_back_as_strict_json(value):
    read = json.loads(json_text(value), parse_constant=_strict)

    def same(original, back):
        if isinstance(original, dict):
            return all(same(v, back[str(k)]) for k, v in original.items())
        if isinstance(original, list):
            return all(same(v, b) for v, b in zip(original, back, strict=True))
        number = float(original)
        if math.isnan(number):
            return back is None
        if math.isinf(number):
            return back == ("inf" if number > 0 else "-inf")
        return back == number

    assert same(value, read)


def test_arrays_become_plain_lists():
    assert json_text({"a": np.array([1.0, np.nan])}, indent=None) == '{"a": [1.0, null]}'
