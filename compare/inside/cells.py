"""Single hidden units against groups of true states: correlation, mutual information, and a
unit's activation over a string drawn as coloured text (Karpathy, Johnson & Fei-Fei 2015).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

import numpy as np

from automata.rendering import visible

MI_BINS = 8  # quantile bins of a unit's activation for the mutual information


def correlations(x: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(D, G) Pearson correlation of each unit (column of ``x``, (N, D)) with each target
    (column of ``targets``, (N, G), e.g. group membership); 0 where either is constant.

    >>> x = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    >>> correlations(x, np.array([[0.0], [0.0], [1.0]])).round(3).tolist()
    [[0.866], [0.0]]
    """
    xc = x - x.mean(axis=0)
    tc = targets - targets.mean(axis=0)
    norms = np.outer(np.sqrt((xc**2).sum(axis=0)), np.sqrt((tc**2).sum(axis=0)))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norms > 1e-12, (xc.T @ tc) / norms, 0.0)


def mutual_information(x: np.ndarray, labels: np.ndarray, *, bins: int = MI_BINS) -> np.ndarray:
    """(D,) mutual information in bits between each unit, cut into ``bins`` quantile bins, and
    the integer ``labels`` (N,) (a group indicator or the true state).

    A unit that determines a binary label gives 1 bit when the label is balanced.

    >>> x = np.array([[0.0], [0.1], [0.9], [1.0]])
    >>> mutual_information(x, np.array([0, 0, 1, 1]), bins=2).tolist()
    [1.0]
    """
    _, codes = np.unique(labels, return_inverse=True)
    n_labels, n = int(codes.max(initial=-1)) + 1, len(codes)
    result = np.zeros(x.shape[1])
    if n == 0:
        return result
    for j in range(x.shape[1]):
        edges = np.unique(np.quantile(x[:, j], np.linspace(0, 1, bins + 1)[1:-1]))
        binned = np.searchsorted(edges, x[:, j], side="right")
        joint = np.zeros((len(edges) + 1, n_labels))
        np.add.at(joint, (binned, codes), 1.0)
        joint /= n
        outer = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
        nonzero = joint > 0
        result[j] = float((joint[nonzero] * np.log2(joint[nonzero] / outer[nonzero])).sum())
    return result


def top_units(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` entries of ``scores`` (D,) largest in absolute value, best first.

    >>> top_units(np.array([0.1, -0.9, 0.5]), 2).tolist()
    [1, 2]
    """
    return np.argsort(-np.abs(scores), kind="stable")[:k]


def _colour(value: float) -> str:
    """Background for an activation scaled to [-1, 1]: blue (negative) through white to red."""
    v = float(np.clip(value, -1.0, 1.0))
    fade = int(round(255 * (1 - abs(v))))
    return f"rgb(255,{fade},{fade})" if v >= 0 else f"rgb({fade},{fade},255)"


def _scaled(activations: np.ndarray, limit: float | None) -> np.ndarray:
    limit = float(np.abs(activations).max(initial=0.0)) if limit is None else limit
    return activations / limit if limit > 0 else np.zeros_like(activations)


def coloured_text_html(symbols: Sequence[str], activations: np.ndarray, *,
                       limit: float | None = None, marks: Sequence[bool] | None = None,
                       separator: str = "") -> str:
    """One string as HTML spans, each symbol's background coloured by the unit's activation
    after reading it (red positive, blue negative, white 0; ``limit`` maps to full colour,
    default the largest magnitude shown).

    ``activations`` has one value per symbol (the hidden state after reading that symbol);
    symbols whose ``marks`` entry is true are underlined (e.g. the states of a group).

    >>> coloured_text_html("ab", np.array([1.0, -1.0]))
    '<span class="cell" style="background:rgb(255,0,0)" title="1">a</span><span \
class="cell" style="background:rgb(0,0,255)" title="-1">b</span>'
    """
    scaled = _scaled(np.asarray(activations, dtype=float), limit)
    marks = [False] * len(scaled) if marks is None else list(marks)
    spans = []
    for symbol, value, raw, mark in zip(symbols, scaled, activations, marks, strict=True):
        text = html.escape(visible(symbol))
        kind = "cell mark" if mark else "cell"
        spans.append(f'<span class="{kind}" style="background:{_colour(value)}" '
                     f'title="{float(raw):.3g}">{text}</span>')
    return separator.join(spans)


def _font(size: int):
    """Matplotlib's DejaVu Sans Mono (always installed with it), else Pillow's default font."""
    from pathlib import Path

    import matplotlib
    from PIL import ImageFont

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSansMono.ttf"
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        return ImageFont.load_default(size)


def coloured_text_png(lines: Sequence[tuple[Sequence[str], np.ndarray]], *,
                      limit: float | None = None, title: str = "") -> bytes:
    """Several strings as a PNG of coloured text (one line each), as :func:`coloured_text_html`.

    >>> coloured_text_png([("ab", np.array([0.5, -0.5]))])[:4]
    b'\\x89PNG'
    """
    from PIL import Image, ImageDraw

    values = np.concatenate([np.asarray(a, dtype=float) for _, a in lines] or [np.zeros(0)])
    limit = float(np.abs(values).max(initial=0.0)) if limit is None else limit
    cell_w, cell_h, margin = 11, 20, 6
    top = margin + (cell_h if title else 0)
    width = max((sum(len(symbol) for symbol in s) for s, _ in lines), default=1)
    image = Image.new("RGB", (2 * margin + cell_w * max(width, 1),
                              top + margin + cell_h * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    font = _font(13)
    if title:
        draw.text((margin, margin), title, fill="black", font=font)
    for row, (symbols, activations) in enumerate(lines):
        scaled = _scaled(np.asarray(activations, dtype=float), limit)
        x, y = margin, top + row * cell_h
        for symbol, value in zip(symbols, scaled, strict=True):
            w = cell_w * len(symbol)  # words get one cell per character
            rgb = tuple(int(c) for c in _colour(value)[4:-1].split(","))
            draw.rectangle((x, y + 1, x + w - 1, y + cell_h - 2), fill=rgb)
            shown = visible(symbol)
            draw.text((x + w / 2, y + cell_h / 2), shown, fill="black", font=font, anchor="mm")
            x += w
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_uri(png: bytes) -> str:
    """A ``data:`` URI for embedding a PNG in a self-contained HTML page."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
