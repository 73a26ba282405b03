"""The written report: ``metrics.json`` and one self-contained ``report.html``.

The HTML needs no network: figures are inline SVG (matplotlib's Agg backend, the automaton from
Graphviz). It holds the headline table, the automaton coloured by the model's mean KL per state
with true vs model probabilities on the edges, the learning curve against the entropy floor, KL
by position, the worst prefixes, samples with the illegal ones marked, the length distribution
and the α sweep.
"""

from __future__ import annotations

import html
import io
import json
import math
import platform
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

import automata as am
from automata.loading import write_atomic
from automata.rendering import has_dot
from compare.comparison import Comparison
from compare.evaluate import METRIC_KEYS
from compare.table import COLUMNS, number

MAX_GRAPH_STATES = 150  # larger automata are not drawn (the picture would be unreadable)
MIN_POSITION_COUNT = 10  # positions reached by fewer test prefixes are too noisy to plot


# ------------------------------------------------------------------------------------ metrics.json


def jsonable(value):
    """Plain JSON data: NaN becomes None, ±inf the strings "inf"/"-inf", arrays lists.

    >>> jsonable({"a": float("nan"), "b": [np.float64(1.5), float("inf")]})
    {'a': None, 'b': [1.5, 'inf']}
    """
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


def metrics_document(comparison: Comparison) -> dict:
    """Everything ``metrics.json`` holds: ``metrics.<key>`` for the model, ``baseline.<key>`` for
    the n-gram, ``oracle.<key>``, their standard errors, breakdowns, config, seeds and versions."""
    document: dict = {"truth": {"name": comparison.truth.name, "kind": comparison.truth.kind,
                                "states": len(comparison.truth.states),
                                "alphabet": list(comparison.truth.alphabet)},
                      "labels": comparison.labels}
    for role, evaluation in comparison.evaluations.items():
        key = "metrics" if role == "model" else role
        document[key] = {k: evaluation.metrics[k] for k in METRIC_KEYS}
        document[f"{key}_stderr" if role != "model" else "stderr"] = {
            k: evaluation.stderr[k] for k in METRIC_KEYS if not math.isnan(evaluation.stderr[k])}
    document |= {"baseline_model": comparison.baseline_info, "exact": comparison.exact,
                 "per_state": comparison.per_state, "per_position": comparison.per_position,
                 "worst_prefixes": comparison.worst_prefixes, "samples": comparison.samples,
                 "alpha_sweep": comparison.evaluations["model"].sweep,
                 "config": comparison.config, "versions": versions()}
    return jsonable(document)


def versions() -> dict[str, str]:
    """Versions of the software that produced a report."""
    import automimic

    found = {"automimic": automimic.__version__, "python": platform.python_version(),
             "numpy": np.__version__}
    try:
        import torch

        found["torch"] = torch.__version__
    except ImportError:  # automata-only comparisons do not need torch
        pass
    return found


def write_metrics(comparison: Comparison, path: Path) -> None:
    """Write ``metrics.json`` atomically."""
    write_atomic(Path(path), json.dumps(metrics_document(comparison), indent=2) + "\n")


# ------------------------------------------------------------------------------------ figures


def _svg(figure) -> str:
    """A matplotlib figure as inline SVG markup (text kept as text, so it stays small)."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "automimic"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _axes(width: float = 6.4, height: float = 3.2):
    """A figure and its axes, without pyplot (no global figure state, no GUI backend)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    axes = figure.subplots()
    axes.grid(alpha=0.3)
    return figure, axes


def learning_curve_figure(history: dict, entropy: float) -> str:
    """Training and validation bits per symbol per epoch, with the truth's entropy as the floor."""
    figure, axes = _axes()
    epochs = np.arange(1, len(history.get("val_bits", [])) + 1)
    for key, label in (("train_bits", "training"), ("val_bits", "validation")):
        if history.get(key):
            axes.plot(epochs, history[key], marker="o", label=label)
    if math.isfinite(entropy):
        axes.axhline(entropy, color="black", linestyle="--", label=f"entropy floor {entropy:.4f}")
    axes.set(xlabel="epoch", ylabel="bits per symbol", title="learning curve")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.legend()
    return _svg(figure)


def position_figure(per_position: dict[str, list[dict]], labels: dict[str, str]) -> str:
    """Mean conditional KL by position in the string, model and baseline."""
    figure, axes = _axes()
    for role, rows in per_position.items():
        rows = [r for r in rows if r["count"] >= MIN_POSITION_COUNT]
        axes.plot([r["position"] for r in rows], [r["mean_kl"] for r in rows], marker=".",
                  label=labels[role])
    axes.set(xlabel="position t (symbols read)", ylabel="mean KL (bits)",
             title=f"KL(P(·|prefix) ‖ Q(·|prefix)) by position (≥ {MIN_POSITION_COUNT} prefixes)")
    axes.set_yscale("symlog", linthresh=1e-4)
    axes.legend()
    return _svg(figure)


def length_figure(samples: dict) -> str:
    """The length distribution of the model's samples against the truth's exact one."""
    figure, axes = _axes()
    model, truth = samples["model_lengths"], samples["true_lengths"]
    axes.bar(np.arange(len(model)), model, alpha=0.6, label=f"model samples (n={samples['n']})")
    axes.plot(np.arange(len(truth)), truth, color="black", marker=".", label="truth (exact)")
    axes.set(xlabel="length |x|", ylabel="probability", title="string lengths")
    axes.legend()
    return _svg(figure)


def sweep_figure(sweep: list[dict]) -> str:
    """KL(P ‖ Q_α) and the illegal fraction of samples as the sampling α varies."""
    figure, axes = _axes()
    alphas = [row["alpha"] for row in sweep]
    axes.plot(alphas, [row["kl_bits_per_symbol"] for row in sweep], marker="o", color="C0",
              label="KL(P ‖ Q_α) bits/symbol")
    axes.set(xlabel="α (inverse temperature)", ylabel="KL bits/symbol", xscale="log",
             title="sampling temperature sweep")
    if all("illegal_fraction" in row for row in sweep):
        other = axes.twinx()
        other.plot(alphas, [row["illegal_fraction"] for row in sweep], marker="s", color="C3",
                   label="illegal fraction")
        other.set_ylabel("illegal fraction of samples", color="C3")
        other.set_ylim(bottom=0)
    axes.legend(loc="upper center")
    return _svg(figure)


def graph_figure(comparison: Comparison) -> str | None:
    """The automaton, states coloured by the model's mean KL there, edges labelled with the
    true and the model's probability (true / model); None without Graphviz's ``dot``."""
    truth = am.as_probabilistic(comparison.truth)
    if not has_dot() or len(truth.states) > MAX_GRAPH_STATES:
        return None
    rows = {row["state"]: row for row in comparison.per_state}
    worst = max((r["mean_kl"] for r in rows.values() if math.isfinite(r["mean_kl"])), default=0)
    colors = {state: _heat(row["mean_kl"] / worst if worst > 0 else 0.0)
              for state, row in rows.items() if math.isfinite(row["mean_kl"])}
    from automata.rendering import moves

    labels = {}
    for source, symbol, target, weight in moves(truth):
        model = rows[truth.states[source]]["q"][symbol]
        if truth.is_deterministic:
            text = f"{truth.alphabet[symbol]} {weight:.2f} / {model:.2f}"
        else:
            text = f"{truth.alphabet[symbol]} {weight:.2f} (Q({truth.alphabet[symbol]}) {model:.2f})"
        labels[(truth.states[source], truth.alphabet[symbol], truth.states[target])] = text
    graph = am.to_graphviz(truth, state_colors=colors, edge_labels=labels)
    svg = graph.pipe(format="svg", encoding="utf-8")
    return svg[svg.index("<svg"):]


def _heat(fraction: float) -> str:
    """White (no error) to red (the worst state)."""
    fraction = min(max(fraction, 0.0), 1.0)
    fade = int(round(255 * (1 - 0.75 * fraction)))
    return f"#ff{fade:02x}{fade:02x}"


# ---------------------------------------------------------------------------------------- html

STYLE = """
body{font-family:Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;color:#222}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}
figure{margin:1em 0}figure svg{max-width:100%;height:auto}
.illegal{color:#c00;font-weight:bold}.note{color:#666;font-size:.9em}
code{background:#f4f4f4;padding:0 3px}
"""


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]], left: int = 1) -> str:
    head = "".join(f"<th class='l'>{html.escape(h)}</th>" if i < left else
                   f"<th>{html.escape(h)}</th>" for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td class='l'>{c}</td>" if i < left else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(name: str, markup: str, caption: str) -> str:
    return (f"<figure data-figure='{name}'>{markup}<figcaption class='note'>"
            f"{html.escape(caption)}</figcaption></figure>")


def _headline(comparison: Comparison) -> str:
    rows = []
    for role, evaluation in comparison.evaluations.items():
        rows.append([html.escape(comparison.labels[role])] + [
            html.escape(number(evaluation.metrics[key], digits,
                               evaluation.stderr[key] if with_error else None))
            for key, _, digits, with_error in COLUMNS])
    if comparison.exact:
        rows.append([f"exact ({html.escape(comparison.labels['model'])})"] + [
            html.escape(number(comparison.exact.get(key), digits)) for key, _, digits, _ in COLUMNS])
    return _table(["model"] + [header for _, header, _, _ in COLUMNS], rows)


def _distribution(values: list[float], columns: tuple[str, ...]) -> str:
    return " ".join(f"{html.escape(c)}:{v:.3f}" for c, v in zip(columns, values, strict=True))


def _state_table(comparison: Comparison) -> str:
    columns = comparison.truth.alphabet + (am.END,)
    rows = [[html.escape(r["state"]), f"{r['visits']:.0f}", f"{r['share']:.3f}",
             number(r["mean_kl"], 5), f"{html.escape(r['worst_symbol'])} "
             f"({number(r['worst_symbol_kl'], 5)})", number(r["mean_tv"], 4), number(r["wer"], 4),
             _distribution(r["p"], columns), _distribution(r["q"], columns)]
            for r in sorted(comparison.per_state, key=lambda r: -np.nan_to_num(r["mean_kl"]))]
    return _table(["state", "visits", "share", "mean KL", "KL mostly from", "mean TV", "WER",
                   "P(·|state)", "model mean Q(·|state)"], rows)


def _worst_table(comparison: Comparison) -> str:
    columns = comparison.truth.alphabet + (am.END,)
    rows = [[f"<code>{html.escape(r['prefix']) or 'ε'}</code>", html.escape(r["state"]),
             number(r["kl"], 4), number(r["tv"], 4), str(r["count"]),
             _distribution(r["p"], columns), _distribution(r["q"], columns)]
            for r in comparison.worst_prefixes]
    return _table(["prefix", "true state", "KL", "TV", "count", "P(·|prefix)", "Q(·|prefix)"], rows)


def _samples_list(samples: dict) -> str:
    items = []
    for s in samples["shown"]:
        text = html.escape(s["string"]) or "ε"
        if s["illegal"]:
            items.append(f"<li class='illegal'><code>{text}</code> — illegal (P = 0)</li>")
        else:
            items.append(f"<li><code>{text}</code> <span class='note'>log₂ P = "
                         f"{s['log2_p']:.2f}</span></li>")
    return f"<ol>{''.join(items)}</ol>"


def _sweep_table(sweep: list[dict]) -> str:
    rows = [[number(r["alpha"], 2), number(r["kl_bits_per_symbol"], 4, r["kl_stderr"]),
             number(r.get("illegal_fraction"), 4), number(r.get("mean_length"), 2)]
            for r in sweep]
    return _table(["α", "KL(P ‖ Q_α) bits/sym", "illegal fraction", "mean length"], rows)


def render_html(comparison: Comparison, *, appendix: str = "", appendix_style: str = "") -> str:
    """The whole report as one HTML string (no external resources); ``appendix`` is an HTML
    fragment added at the end (e.g. the "inside the RNN" section) with its ``appendix_style``."""
    truth, model = comparison.truth, comparison.evaluations["model"]
    oracle = comparison.evaluations["oracle"].metrics
    entropy = oracle["exact_entropy_bits_per_symbol"]
    if math.isnan(entropy):
        entropy = oracle["entropy_bits_per_symbol"]
    parts = [f"<h1>{html.escape(comparison.labels['model'])} vs {html.escape(truth.name or truth.kind)}"
             "</h1>",
             f"<p class='note'>{html.escape(truth.description)} — {truth.kind}, "
             f"{len(truth.states)} states, alphabet {html.escape(' '.join(truth.alphabet))}; "
             f"{len(model.scores.strings)} test strings; entropy {entropy:.4f} bits/symbol.</p>",
             "<h2>Headline metrics</h2>", _headline(comparison)]
    if comparison.baseline_info:
        info = comparison.baseline_info
        parts.append(f"<p class='note'>Baseline: order-{info['order']} Markov chain with add-"
                     f"{info['smoothing']:g} smoothing ({info['states']} states), chosen on the "
                     "validation strings, fitted on the same training strings.</p>")
    graph = graph_figure(comparison)
    parts.append("<h2>Where the model errs: the automaton</h2>")
    if graph is not None:
        parts.append(_figure("automaton", graph, "states coloured by the model's mean KL there "
                             "(white: none, red: the worst state); edges: true / model "
                             "probability"))
    else:
        parts.append("<p class='note'>(the automaton is not drawn: Graphviz's dot is missing "
                     f"or it has more than {MAX_GRAPH_STATES} states)</p>")
    parts.append(_state_table(comparison))
    if comparison.history and comparison.history.get("val_bits"):
        parts += ["<h2>Learning curve</h2>", _figure(
            "learning-curve", learning_curve_figure(comparison.history, entropy),
            "bits per symbol per epoch; the dashed line is the truth's entropy")]
    parts += ["<h2>KL by position</h2>", _figure(
        "kl-by-position", position_figure(comparison.per_position, comparison.labels),
        "mean conditional KL after the prefixes of each length")]
    parts += ["<h2>Worst prefixes</h2>", _worst_table(comparison)]
    if comparison.samples:
        samples = comparison.samples
        parts += ["<h2>Samples from the model</h2>",
                  f"<p>{samples['n']} samples at α = 1: illegal fraction "
                  f"{number(samples['illegal_fraction'], 4, samples['illegal_stderr'])}.</p>",
                  _samples_list(samples),
                  _figure("lengths", length_figure(samples), "sample lengths vs the truth's")]
    if model.sweep:
        parts += ["<h2>Sampling temperature (α sweep)</h2>",
                  _figure("alpha-sweep", sweep_figure(model.sweep),
                          "KL of the tempered model and the illegal fraction of its samples"),
                  _sweep_table(model.sweep)]
    parts.append(appendix)
    title = html.escape(f"automimic report: {comparison.labels['model']} vs {truth.name}")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{STYLE}{appendix_style}</style></head><body>{''.join(parts)}</body></html>\n")


def write_report(comparison: Comparison, path: Path, *, appendix: str = "",
                 appendix_style: str = "") -> None:
    """Write ``report.html`` atomically (see :func:`render_html`)."""
    write_atomic(Path(path), render_html(comparison, appendix=appendix,
                                         appendix_style=appendix_style))


def figure_names(page: str) -> list[str]:
    """The ``data-figure`` names in a report, in order (what the report test checks).

    >>> figure_names("<figure data-figure='a'></figure>" '<figure data-figure="b">')
    ['a', 'b']
    """
    return re.findall(r"data-figure=['\"]([^'\"]+)['\"]", page)
