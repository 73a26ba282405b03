"""JSON text for every JSON file and ``--json`` output: never a bare ``NaN`` or ``Infinity``.

JSON has no such numbers (Python's ``json`` writes them anyway, and strict readers then fail), so
they are mapped explicitly: NaN, a quantity that does not apply, becomes ``null``; ±infinity the
strings ``"inf"`` and ``"-inf"``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    """Plain JSON data: NaN becomes None, ±inf the strings "inf"/"-inf", arrays and dataclasses
    lists and dicts.

    >>> jsonable({"a": float("nan"), "b": [np.float64(1.5), float("inf")]})
    {'a': None, 'b': [1.5, 'inf']}
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
    return value


def json_text(value: Any, *, indent: int | None = 2) -> str:
    """``value`` as JSON text through :func:`jsonable` (strict: no NaN can get through).

    >>> json_text({"kl": float("inf"), "stderr": float("nan")}, indent=None)
    '{"kl": "inf", "stderr": null}'
    """
    return json.dumps(jsonable(value), indent=indent, ensure_ascii=False, allow_nan=False)
