"""What both HTML reports share: the Jinja environment (the page shapes live in
``compare/templates``), its filters, inline SVG figures, and the absolute colour scale of KL.

Pages are self-contained: figures are inline SVG (matplotlib's Agg backend, automata from
Graphviz) or PNG data URIs; nothing comes from the network.
"""

from __future__ import annotations

import functools
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import jinja2
from markupsafe import Markup

from automata import Automaton, AutomatonError
from automata.rendering import svg_markup, visible
from compare.formatting import distribution, number, symbols_text

KL_LOW, KL_HIGH = 1e-4, 1.0  # bits: white at or below KL_LOW, full red at or above KL_HIGH
UNVISITED = "#e8e8e8"  # a state no test prefix reached


@functools.cache
def environment() -> jinja2.Environment:
    """The templates of ``compare/templates`` with HTML escaping on and the display filters
    ``number``, ``visible``, ``symbols`` and ``distribution``."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("compare", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(number=number, visible=visible, symbols=symbols_text,
                       distribution=distribution)
    return env


def render(template: str, **context) -> str:
    """One template of ``compare/templates`` filled with ``context``.

    >>> render("style.css").startswith("body{")
    True
    """
    return environment().get_template(template).render(**context)


def html_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, caption: str = "") -> str:
    """A table of display text as HTML (the reports' ``table`` macro), after a ``caption``
    paragraph: what Jupyter shows of results.

    >>> html_table(["metric", "value"], [["KL", "<0.1"]]).count("<tr>")
    2
    """
    source = ('{% import "macros.html" as m %}{% if caption %}<p>{{ caption }}</p>{% endif %}'
              "{{ m.table(headers, rows) }}")
    return environment().from_string(source).render(headers=headers, rows=rows, caption=caption)


def svg(figure) -> Markup:
    """A matplotlib figure as inline SVG markup (text kept as text, so it stays small)."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "automimic"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return Markup(text[text.index("<svg"):])


class Picture(NamedTuple):
    """An automaton drawn for a page: its inline SVG, or None and why it is not drawn."""

    svg: Markup | None
    problem: str = ""


def automaton_picture(a: Automaton, **options) -> Picture:
    """``a`` drawn by :func:`automata.to_graphviz` with ``options`` as inline SVG markup, or
    why it is not drawn (no Graphviz, too large, too slow).

    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a]\\nstart: s\\nstates: {s: {final: true, next: {a: s}}}")
    >>> picture = automaton_picture(a)
    >>> picture.svg.startswith("<svg") if picture.svg else "not installed" in picture.problem
    True
    """
    try:
        return Picture(Markup(svg_markup(a, **options)))
    except AutomatonError as why:
        return Picture(None, str(why))


def axes(width: float = 6.4, height: float = 3.2):
    """A figure and its axes, without pyplot (no global figure state, no GUI backend)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    ax = figure.subplots()
    ax.grid(alpha=0.3)
    return figure, ax


def kl_fraction(kl: float) -> float:
    """Where ``kl`` (bits) lies on the absolute log scale, 0 at ``KL_LOW`` to 1 at ``KL_HIGH``.

    >>> kl_fraction(1e-5), kl_fraction(0.01), kl_fraction(3.0)
    (0.0, 0.5, 1.0)
    """
    if not kl > KL_LOW:
        return 0.0
    span = math.log10(KL_HIGH) - math.log10(KL_LOW)
    return min((math.log10(kl) - math.log10(KL_LOW)) / span, 1.0)


def heat(fraction: float) -> str:
    """White (0) to red (1).

    >>> heat(0.0), heat(1.0)
    ('#ffffff', '#ff4040')
    """
    fade = int(round(255 * (1 - 0.75 * min(max(fraction, 0.0), 1.0))))
    return f"#ff{fade:02x}{fade:02x}"


def kl_colour(kl: float) -> str:
    """The colour of a mean KL in bits on the absolute scale; grey when there is none (NaN).

    >>> kl_colour(0.0), kl_colour(1.0), kl_colour(float("nan"))
    ('#ffffff', '#ff4040', '#e8e8e8')
    """
    return UNVISITED if math.isnan(kl) else heat(kl_fraction(kl))


@dataclass(frozen=True)
class ColourBar:
    """The legend of :func:`kl_colour`: gradient stops and ticks, as percentages of its width."""

    low: float = KL_LOW
    high: float = KL_HIGH
    missing: str = UNVISITED

    @property
    def stops(self) -> list[tuple[int, str]]:
        return [(percent, heat(percent / 100)) for percent in range(0, 101, 10)]

    @property
    def ticks(self) -> list[tuple[float, str]]:
        decades = range(round(math.log10(self.low)), round(math.log10(self.high)) + 1)
        labels = [(100 * kl_fraction(10.0**d), f"{10.0**d:g}") for d in decades]
        return [(labels[0][0], f"≤ {labels[0][1]}"), *labels[1:-1],
                (labels[-1][0], f"≥ {labels[-1][1]}")]


def figure_names(page: str) -> list[str]:
    """The ``data-figure`` names in a report, in order (what the report tests check).

    >>> figure_names("<figure data-figure='a'></figure>" '<figure data-figure="b">')
    ['a', 'b']
    """
    return re.findall(r"data-figure=['\"]([^'\"]+)['\"]", page)
