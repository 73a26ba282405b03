"""The written report: ``metrics.json`` and one self-contained ``report.html``.

The page's shape is the template ``compare/templates/report.html``; this module computes what it
shows: the headline table, the automaton coloured by the model's mean KL per state on an
absolute scale with true vs model probabilities on the edges, the learning curve against the
entropy floor, KL by position, the worst prefixes grouped by state, the illegal samples, the
length distribution, the α sweep, and optionally the "inside the RNN" part.
"""

from __future__ import annotations

import math
import platform
from importlib import metadata
from pathlib import Path

import numpy as np
from markupsafe import Markup

import automata as am
from automata.rendering import visible
from automimic_io import single_characters, write_atomic
from automimic_io.jsontext import json_text, jsonable
from compare import page
from compare.comparison import Comparison
from compare.evaluate import METRIC_KEYS
from compare.formatting import COLUMNS, number
from compare.inside.inspection import Inspection
from compare.inside.page import inside_context
from compare.verdict import verdict

MIN_POSITION_COUNT = 10  # positions reached by fewer test prefixes are too noisy to plot
SHOWN_SYMBOLS = 40  # a longer prefix shows its last ones; an illegal sample, those before its break
SHOWN_AFTER = 8  # symbols of an illegal sample shown after its break


# ------------------------------------------------------------------------------------ metrics.json


def metrics_document(comparison: Comparison) -> dict:
    """Everything ``metrics.json`` holds: the verdict and the notices first, then
    ``metrics.<key>`` for the model, ``baseline.<key>`` for the n-gram, ``oracle.<key>``, their
    standard errors, breakdowns, config, seeds and versions."""
    entropy, source = comparison.entropy
    document: dict = {"verdict": verdict(comparison), "notices": comparison.notices,
                      "entropy": {"bits_per_symbol": entropy, "source": source},
                      "truth": {"name": comparison.truth.name, "kind": comparison.truth.kind,
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
    found = {"python": platform.python_version(), "numpy": np.__version__}
    for package in ("automimic", "torch"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:  # automata-only comparisons do not need torch
            pass
    return found


def write_metrics(comparison: Comparison, path: Path) -> None:
    """Write ``metrics.json`` atomically."""
    write_atomic(Path(path), json_text(metrics_document(comparison)) + "\n")


# ------------------------------------------------------------------------------------ figures


def learning_curve_figure(history: dict, entropy: float, sample_floor: float | None) -> Markup:
    """Training and validation bits per symbol per epoch, with the truth's entropy rate and the
    truth's own bits per symbol on the validation strings (the floor for that finite sample)."""
    figure, axes = page.axes()
    epochs = np.arange(1, len(history.get("val_bits", [])) + 1)
    for key, label in (("train_bits", "training"), ("val_bits", "validation")):
        if history.get(key):
            axes.plot(epochs, history[key], marker="o", label=label)
    fitted = fitted_val_bits(history)
    if fitted is not None:
        kept = history.get("best_epoch", len(epochs) - 1) + 1  # the epoch whose model was fitted
        axes.plot([kept], [fitted], marker="*", markersize=12, linestyle="none",
                  label=f"validation, output layer fitted again {fitted:.4f}")
    if math.isfinite(entropy):
        axes.axhline(entropy, color="black", linestyle="--", label=f"entropy rate {entropy:.4f}")
    if sample_floor is not None:
        axes.axhline(sample_floor, color="C1", linestyle=":",
                     label=f"the truth on the validation strings {sample_floor:.4f}")
    axes.set(xlabel="epoch", ylabel="bits per symbol", title="learning curve")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.legend()
    return page.svg(figure)


def fitted_val_bits(history: dict) -> float | None:
    """The validation loss of the model once its output layer was fitted again after training
    (``refit_head`` in its history, :mod:`neural.head`), or None where it was not.

    >>> fitted_val_bits({"refit_head": {"rounds": 2, "val_bits_after": 1.5}}), fitted_val_bits({})
    (1.5, None)
    """
    record = history.get("refit_head") or {}
    return record.get("val_bits_after") if record.get("rounds") else None


def position_figure(per_position: dict, labels: dict[str, str]) -> Markup:
    """Mean conditional KL by position in the string, model and baseline."""
    figure, axes = page.axes()
    for role, rows in per_position.items():
        rows = [r for r in rows if r.count >= MIN_POSITION_COUNT]
        axes.plot([r.position for r in rows], [r.mean_kl for r in rows], marker=".",
                  label=labels[role])
    axes.set(xlabel="position t (symbols read)", ylabel="mean KL (bits)",
             title=f"KL(P(·|prefix) ‖ Q(·|prefix)) by position (≥ {MIN_POSITION_COUNT} prefixes)")
    axes.set_yscale("symlog", linthresh=1e-4)
    axes.legend()
    return page.svg(figure)


def length_figure(samples) -> Markup:
    """The length distribution of the model's samples against the truth's exact one."""
    figure, axes = page.axes()
    model, truth = samples.model_lengths, samples.true_lengths
    axes.bar(np.arange(len(model)), model, alpha=0.6, label=f"model samples (n={samples.n})")
    axes.plot(np.arange(len(truth)), truth, color="black", marker=".", label="truth (exact)")
    axes.set(xlabel="length |x|", ylabel="probability", title="string lengths")
    axes.legend()
    return page.svg(figure)


def sweep_figure(sweep: list) -> Markup:
    """KL(P ‖ Q_α) and the illegal fraction of samples as the sampling α varies."""
    figure, axes = page.axes()
    alphas = [row.alpha for row in sweep]
    axes.plot(alphas, [row.kl_bits_per_symbol for row in sweep], marker="o", color="C0",
              label="KL(P ‖ Q_α) bits/symbol")
    axes.set(xlabel="α (inverse temperature)", ylabel="KL bits/symbol", xscale="log",
             title="sampling temperature sweep")
    if all(row.illegal_fraction is not None for row in sweep):
        other = axes.twinx()
        other.plot(alphas, [row.illegal_fraction for row in sweep], marker="s", color="C3",
                   label="illegal fraction")
        other.set_ylabel("illegal fraction of samples", color="C3")
        other.set_ylim(bottom=0)
    axes.legend(loc="upper center")
    return page.svg(figure)


def graph_figure(comparison: Comparison) -> page.Picture:
    """The automaton with :func:`state_colours` and :func:`edge_labels`; or why it is not drawn
    (no Graphviz, too large, too slow)."""
    return page.automaton_picture(am.as_probabilistic(comparison.truth),
                                  state_colors=state_colours(comparison),
                                  edge_labels=edge_labels(comparison))


def state_colours(comparison: Comparison) -> dict[str, str]:
    """Each true state coloured by the model's mean KL there, on the absolute scale of
    :func:`compare.page.kl_colour` (the same KL is the same colour in every report)."""
    return {row.state: page.kl_colour(row.mean_kl) for row in comparison.per_state}


def edge_labels(comparison: Comparison) -> dict[tuple[str, str, str], str]:
    """Each move's label: its symbol (white space visible), the true and the model's mean
    probability there (``true / model``; ``true (Q(σ) model)`` when nondeterministic)."""
    from automata.rendering import moves

    truth = am.as_probabilistic(comparison.truth)
    rows = {row.state: row for row in comparison.per_state}
    labels = {}
    for source, symbol, target, weight in moves(truth):
        model = rows[truth.states[source]].q[symbol]
        shown = visible(truth.alphabet[symbol])
        if truth.is_deterministic:
            text = f"{shown} {weight:.2f} / {model:.2f}"
        else:
            text = f"{shown} {weight:.2f} (Q({shown}) {model:.2f})"
        labels[(truth.states[source], truth.alphabet[symbol], truth.states[target])] = text
    return labels


# ---------------------------------------------------------------------------------------- html


def learning_note(comparison: Comparison) -> str:
    """The caption of the learning curve: what its lines are, and why the validation loss may
    lie below the entropy rate."""
    entropy, source = comparison.entropy
    text = (f"Bits per symbol per epoch. Dashed: the truth's entropy rate, {number(entropy)} "
            f"bits/symbol ({source}), as in the title and the terminal.")
    floor = comparison.validation_entropy
    if floor is None:
        return text
    text += (f" Dotted: the truth's own bits per symbol on the validation strings, "
             f"{number(floor)}: the floor for that finite sample.")
    lowest = min([*comparison.history["val_bits"], fitted_val_bits(comparison.history) or math.inf])
    if lowest < entropy:
        easier = " easier than average for the truth too" if floor < entropy else ""
        text += (f" The validation loss ({number(lowest)}) dips below the entropy rate: the "
                 f"validation strings are a finite sample,{easier}; what counts is the distance "
                 "to the dotted line.")
    return text



def headline_rows(comparison: Comparison) -> list[list[str]]:
    """The headline table: one row per model (and the exact row), cells as display text."""
    rows = [[comparison.labels[role]] + [
        number(evaluation.metrics[key], digits, evaluation.stderr[key] if with_error else None)
        for key, _, digits, with_error in COLUMNS]
        for role, evaluation in comparison.evaluations.items()]
    if comparison.exact:
        rows.append([f"exact ({comparison.labels['model']})"] + [
            number(comparison.exact.get(key), digits) for key, _, digits, _ in COLUMNS])
    return rows


def render_html(comparison: Comparison, *, inspection: Inspection | None = None) -> str:
    """The whole report as one HTML string (no external resources); with ``inspection``, the
    "inside the RNN" part follows."""
    truth, model = comparison.truth, comparison.evaluations["model"]
    entropy, _ = comparison.entropy
    history = comparison.history if comparison.history and comparison.history.get("val_bits") \
        else None
    samples = comparison.samples
    return page.render(
        "report.html", comparison=comparison, truth=truth, verdict=verdict(comparison),
        title=f"automimic report: {comparison.labels['model']} vs {truth.name}",
        columns=truth.alphabet + (am.END,), n_test=len(model.scores.strings),
        headers=["model"] + [header for _, header, _, _ in COLUMNS],
        headline=headline_rows(comparison), graph=graph_figure(comparison),
        colour_bar=page.ColourBar(),
        separator="" if single_characters(truth.alphabet) else " ",
        shown=SHOWN_SYMBOLS, after=SHOWN_AFTER,
        states=sorted(comparison.per_state, key=lambda r: -np.nan_to_num(r.mean_kl)),
        learning_curve=learning_curve_figure(history, entropy, comparison.validation_entropy)
        if history else None, learning_note=learning_note(comparison) if history else "",
        positions=position_figure(comparison.per_position, comparison.labels),
        samples=samples, lengths=length_figure(samples) if samples else None,
        sweep=model.sweep, sweep_figure=sweep_figure(model.sweep) if model.sweep else None,
        inside=inside_context(inspection) if inspection is not None else None)


def write_report(comparison: Comparison, path: Path, *,
                 inspection: Inspection | None = None) -> None:
    """Write ``report.html`` atomically (see :func:`render_html`)."""
    write_atomic(Path(path), render_html(comparison, inspection=inspection))
