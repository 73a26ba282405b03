"""Single units: correlation and mutual information against independent computations."""

from __future__ import annotations

import numpy as np
import pytest

from compare.inside import (
    coloured_text_html,
    coloured_text_png,
    correlations,
    mutual_information,
    top_units,
)


def test_correlations_equal_numpy_corrcoef():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 4))
    targets = np.column_stack([x[:, 1] + rng.normal(size=100), rng.random(100) < 0.3])
    result = correlations(x, targets.astype(float))
    expected = np.corrcoef(np.hstack([x, targets]).T)[:4, 4:]
    assert np.allclose(result, expected)


def test_correlation_of_a_constant_unit_is_zero():
    x = np.column_stack([np.ones(5), np.arange(5.0)])
    assert correlations(x, np.arange(5.0)[:, None])[:, 0].tolist() == pytest.approx([0.0, 1.0])


def test_mutual_information_of_a_unit_that_determines_the_label():
    """Four equally likely labels, each in its own activation range: I = H(label) = 2 bits."""
    labels = np.repeat(np.arange(4), 25)
    x = np.column_stack([labels + 0.01 * np.arange(100) % 0.5, np.zeros(100)])
    mi = mutual_information(x, labels, bins=4)
    assert mi[0] == pytest.approx(2.0)
    assert mi[1] == pytest.approx(0.0)


def test_mutual_information_by_hand():
    """Two bins × two labels with joint (0.4, 0.1 / 0.1, 0.4):
    I = Σ p log₂ p/(p_x p_y) = 0.8 log₂ 1.6 + 0.2 log₂ 0.4."""
    x = np.array([0.0] * 5 + [1.0] * 5)[:, None]
    labels = np.array([0, 0, 0, 0, 1, 0, 1, 1, 1, 1])
    expected = 0.8 * np.log2(1.6) + 0.2 * np.log2(0.4)
    assert mutual_information(x, labels, bins=2)[0] == pytest.approx(expected)


def test_mutual_information_of_independent_noise_is_small():
    rng = np.random.default_rng(1)
    mi = mutual_information(rng.normal(size=(20000, 3)), rng.integers(0, 2, 20000))
    assert np.all(mi < 0.002)


def test_top_units_rank_by_magnitude():
    assert top_units(np.array([0.2, -0.7, 0.7, 0.0]), 3).tolist() == [1, 2, 0]


def test_coloured_text_html_escapes_and_colours_every_symbol():
    page = coloured_text_html(["<", "&", " "], np.array([1.0, 0.0, -0.5]), marks=[1, 0, 0])
    assert page.count("<span") == 3
    assert "&lt;" in page and "&amp;" in page and ">␣<" in page  # a space is visible
    assert 'class="cell mark"' in page
    assert "rgb(255,0,0)" in page and "rgb(255,255,255)" in page and "rgb(128,128,255)" in page


def test_coloured_text_png_is_a_png():
    import io

    from matplotlib.image import imread

    png = coloured_text_png([("ab", np.array([1.0, -1.0])), ("a", np.array([0.0]))], title="u")
    image = imread(io.BytesIO(png))
    assert image.ndim == 3 and image.shape[0] > 10
    # a red and a blue cell are drawn
    rgb = image[..., :3].reshape(-1, 3)
    assert np.any((rgb[:, 0] > 0.9) & (rgb[:, 2] < 0.1))
    assert np.any((rgb[:, 2] > 0.9) & (rgb[:, 0] < 0.1))
