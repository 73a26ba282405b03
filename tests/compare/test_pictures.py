"""Pictures that do not mislead: state colours on one absolute KL scale with its colour bar,
and white-space symbols visible in every label, distribution and cell."""

from __future__ import annotations

import numpy as np
import pytest

import automata as am
from compare import page
from compare.comparison import compare_models
from compare.inside.cells import coloured_text_html, coloured_text_png
from compare.report import edge_labels, render_html, state_colours

QUOTES = """
kind: pdfa
name: quotes
alphabet: [a, b, ' ', '"']
start: outside
states:
  outside: {final: 0.05, next: {a: {outside: 0.55}, b: {outside: 0.1}, ' ': {outside: 0.2}, '"': {inside: 0.1}}}
  inside:  {final: 0.0,  next: {a: {inside: 0.1}, b: {inside: 0.6}, ' ': {inside: 0.2}, '"': {outside: 0.1}}}
"""


def _nudged(truth: am.Automaton, by: float) -> am.Automaton:
    """The truth with every state's first move and stop shifted by ``by`` (same structure)."""
    text = QUOTES.replace("a: {outside: 0.55}", f"a: {{outside: {0.55 - by}}}")
    text = text.replace("final: 0.05", f"final: {0.05 + by}")
    text = text.replace("b: {inside: 0.6}", f"b: {{inside: {0.6 - by}}}")
    text = text.replace("a: {inside: 0.1}", f"a: {{inside: {0.1 + by}}}")
    return am.loads(text)


@pytest.fixture(scope="module")
def truth():
    return am.loads(QUOTES)


@pytest.fixture(scope="module")
def close(truth):
    """A model as close as the issue's RNN on quotes (KL ≈ 0.002 bits/symbol)."""
    test = am.sample(truth, 300, seed=0)
    return compare_models(truth, _nudged(truth, 0.02), test, n_samples=50,
                          train=am.sample(truth, 200, seed=1), val=am.sample(truth, 50, seed=2))


def test_state_colours_are_absolute_not_relative_to_the_worst_state(truth, close):
    far = compare_models(truth, _nudged(truth, 0.3), am.sample(truth, 300, seed=0), n_samples=0)
    for comparison in (close, far):
        colours = state_colours(comparison)
        assert colours == {row.state: page.kl_colour(row.mean_kl) for row in comparison.per_state}
    worst_close = max(row.mean_kl for row in close.per_state)
    assert worst_close < 0.01
    # the worst state of a close model is pale, not the full red of the scale's top
    assert state_colours(close)[max(close.per_state, key=lambda r: r.mean_kl).state] == \
        page.heat(page.kl_fraction(worst_close)) != page.heat(1.0)
    assert page.kl_fraction(worst_close) < page.kl_fraction(max(r.mean_kl for r in far.per_state))


def test_the_colour_scale_is_a_log_scale_with_its_bar_in_the_page(close):
    assert page.kl_colour(1e-6) == page.kl_colour(page.KL_LOW) == "#ffffff"
    assert page.kl_colour(page.KL_HIGH) == page.kl_colour(5.0) == page.heat(1.0)
    assert page.kl_fraction(1e-3) == pytest.approx(0.25) and page.kl_fraction(0.1) == 0.75
    assert page.kl_colour(float("nan")) == page.UNVISITED
    html = render_html(close)
    assert f'data-colour-scale="{page.KL_LOW} {page.KL_HIGH}"' in html
    ticks = [label for _, label in page.ColourBar().ticks]
    assert ticks == ["≤ 0.0001", "0.001", "0.01", "0.1", "≥ 1"]
    assert all(f">{label}<" in html for label in ticks[1:-1])


def test_the_space_symbol_is_visible_everywhere(close):
    labels = edge_labels(close)
    assert labels[("outside", " ", "outside")].startswith("␣ 0.20 / ")
    html = render_html(close)
    assert "␣:" in html  # distributions
    assert "  :" not in html and "> :" not in html  # no bare space as a column label
    assert "alphabet a b ␣ &#34;" in html
    assert ">␣<" in coloured_text_html(" a", np.array([0.5, -0.5]))


def test_a_coloured_png_draws_the_space_symbol(monkeypatch):
    drawn = []
    from PIL import ImageDraw

    original = ImageDraw.ImageDraw.text
    monkeypatch.setattr(ImageDraw.ImageDraw, "text",
                        lambda self, xy, text, *a, **k: drawn.append(text) or original(
                            self, xy, text, *a, **k))
    coloured_text_png([(("a", " ", "\n"), np.array([0.1, 0.2, 0.3]))])
    assert drawn == ["a", "␣", "↵"]
