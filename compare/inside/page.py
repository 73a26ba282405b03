"""The "inside the RNN" part of a report as HTML: the context of the template
``compare/templates/inside.html``, and the whole ``inspect.html`` page."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from markupsafe import Markup

import automata as am
from compare import page
from compare.formatting import number
from compare.inside.cells import coloured_text_html, coloured_text_png, png_data_uri
from compare.inside.extraction import DRAWN_BELOW, drawn_like_truth
from compare.inside.inspection import Inspection

CLUSTERING_NAMES = {"kmeans": "k-means", "agglomerative": "Ward's agglomerative clustering"}
MAX_CONFUSION_STATES = 30  # a larger confusion matrix is left out of the page
PALETTE = ("#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69",
           "#fccde5", "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f")


def shaded(table: np.ndarray) -> list[list[tuple[int, str]]]:
    """A count table as (count, CSS background) cells, each shaded by its share of its row.

    >>> shaded(np.array([[3, 1]]))
    [[(3, 'background:rgb(169,169,255)'), (1, 'background:rgb(226,226,255)')]]
    """
    totals = np.maximum(table.sum(axis=1, keepdims=True), 1)
    return [[(int(v), _shade(v / totals[i, 0])) for v in row] for i, row in enumerate(table)]


def _shade(fraction: float) -> str:
    fade = int(round(255 * (1 - 0.45 * min(max(fraction, 0.0), 1.0))))
    return f"background:rgb({fade},{fade},255)"


def _graph(a: am.Automaton, colors: Mapping[str, str]) -> page.Picture:
    return page.automaton_picture(a, state_colors=colors, precision=2)


def _cells(unit: dict) -> dict:
    """One shown unit: its coloured lines as HTML and the same as a PNG."""
    lines = [Markup(coloured_text_html(symbols, activations, limit=unit["limit"],
                                       marks=None if membership is None else membership > 0.5))
             for symbols, activations, membership in unit["lines"]]
    png = coloured_text_png([(s, a) for s, a, _ in unit["lines"]], limit=unit["limit"],
                            title=unit["unit"])
    return {"unit": unit["unit"], "why": unit["why"], "lines": lines, "png": png_data_uri(png)}


def distance_rows(d: dict) -> list[list[str]]:
    """The distances table of the extraction (``Inspection.distances``) as display cells."""
    ext, rnn, both = d["extracted"], d["rnn"], d["extracted_vs_rnn"]
    return [["RNN vs truth", "—", "—", number(rnn["kl_bits_per_symbol"], 5),
             number(rnn["mean_tv"]), number(rnn["wer"])],
            ["extracted PDFA vs truth", number(ext.get("exact_l2"), 5),
             number(ext.get("exact_kl_bits_per_symbol"), 5), number(ext["kl_bits_per_symbol"], 5),
             number(ext["mean_tv"]), number(ext["wer"])],
            ["extracted PDFA vs RNN", "—", "—", "—", number(both["mean_tv"]),
             number(both["wer"])]]


def _extraction(inspection: Inspection) -> dict:
    truth, extraction = inspection.truth, inspection.extraction
    colors = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(truth.states)}
    drawn, truth_of = drawn_like_truth(extraction.automaton, inspection.contingency, truth.states)
    drawn_colors = {name: colors[state] for name, state in truth_of.items() if state}
    return {"k": extraction.k, "states": len(extraction.automaton.states),
            "method": CLUSTERING_NAMES[extraction.method], "determinism": extraction.determinism,
            "curve": ", ".join(f"{k}: {v:.4f}" for k, v in extraction.validation.items()
                               if math.isfinite(v)),
            "distances": distance_rows(inspection.distances),
            "clusters": [f"c{j}" for j in range(extraction.k)],
            "contingency": shaded(inspection.contingency),
            "truth_graph": _graph(truth, colors),
            "drawn_below": DRAWN_BELOW,
            "extracted_graph": _graph(drawn, drawn_colors)}


def inside_context(inspection: Inspection) -> dict:
    """What ``inside.html`` shows of an inspection: probe, groups, cells, extraction."""
    probe = inspection.probe
    return {
        "inspection": inspection, "truth": inspection.truth, "probe": probe,
        "probe_rows": list(zip(probe.labels, probe.confusion.sum(axis=1).tolist(),
                               probe.per_class_accuracy, strict=True)),
        "confusion": shaded(probe.confusion) if len(probe.labels) <= MAX_CONFUSION_STATES
        else None,
        "cells": [_cells(unit) for unit in inspection.shown_units],
        "extraction": _extraction(inspection),
    }


def render_html(inspection: Inspection) -> str:
    """The whole ``inspect.html`` page: self-contained (inline SVG and PNG, no network)."""
    truth, info = inspection.truth, inspection.model_info
    model = ", ".join(f"{k} {v}" for k, v in info.items() if k != "type") or info["type"]
    return page.render("inspect.html", title=f"Inside the RNN: {truth.name or truth.kind}",
                       model=model, inside=inside_context(inspection))

