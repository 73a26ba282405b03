"""Inside the RNN, end to end: align, probe, find the cells, extract an automaton.

:func:`inspect_model` samples strings from the truth and splits them by string: half to train
probes and k-means (``fit``), a quarter to choose the number of clusters (``validation``), a
quarter to score everything (``test``). :mod:`compare.inside.document` writes the result as
JSON, :mod:`compare.inside.page` as HTML.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

import automata as am
from compare import metrics as m
from compare.evaluate import score_prefixes, summarize
from compare.exact import exact_distances
from compare.inside.alignment import Alignment, align, group_mass
from compare.inside.cells import correlations, mutual_information, top_units
from compare.inside.extraction import (
    DEFAULT_KS,
    Extraction,
    contingency,
    extract,
    purity,
)
from compare.inside.probes import ProbeResult, probe_accuracy, single_unit_accuracy
from compare.models import as_model, column_order

N_STRINGS = 2000
TOP_UNITS = 5
MAX_AUTO_GROUPS = 6  # without user groups: one group per most visited true state, this many
MAX_SHOWN_UNITS = 6
N_EXAMPLES = 6  # strings drawn as coloured text per unit
MAX_SHOWN_LENGTH = 100  # symbols of a coloured string


@dataclass(frozen=True)
class GroupCells:
    """A group of true states against the hidden units."""

    name: str
    states: tuple[str, ...]
    share: float  # fraction of test prefixes in the group
    probe: ProbeResult  # linear probe on all units: in the group or not
    units: list[dict]  # the top units: label, correlation, mutual information, single accuracy

    @property
    def best_unit(self) -> dict:
        """The unit that separates the group best on its own."""
        return max(self.units, key=lambda u: (u["single_accuracy"], abs(u["correlation"])))


@dataclass(frozen=True)
class Inspection:
    """Everything ``automimic inspect`` reports."""

    truth: am.Automaton
    model_info: dict
    split: dict[str, int]  # strings in fit / validation / test
    rows: int  # prefixes in all
    probe: ProbeResult  # all units -> the true state
    state_units: list[dict]  # units with the most mutual information with the true state
    groups: list[GroupCells]
    shown_units: list[dict]  # label, why, lines: [(symbols, activations, membership or None)]
    extraction: Extraction
    probabilities: str  # "counts" or "model": where the extracted state's probabilities come from
    contingency: np.ndarray  # (k, S) test prefixes by cluster and true state
    purity: float
    distances: dict[str, dict[str, float]]  # "rnn", "extracted" vs truth; "extracted_vs_rnn"
    settings: dict = field(default_factory=dict)


def _split(n: int, seed: int) -> np.ndarray:
    """(n,) 0 = fit, 1 = validation, 2 = test: half, a quarter and a quarter, shuffled."""
    parts = np.repeat([0, 0, 1, 2], (n + 3) // 4)[:n]
    return np.random.default_rng(seed).permutation(parts)


def _model_distributions(truth: am.Automaton, model, strings: Sequence) -> np.ndarray:
    """(N, |Σ|+1) the model's next-symbol distributions after every prefix, truth's columns."""
    model = as_model(model)
    columns = column_order(truth.alphabet, model.alphabet)
    rows = model.prefix_distributions(list(strings))
    return np.concatenate(rows)[:, columns] if rows else np.zeros((0, len(columns)))


def _unit_rows(x: np.ndarray, target: np.ndarray, labels: list[str], test: np.ndarray,
               single: np.ndarray, k: int) -> list[dict]:
    """The ``k`` units most correlated with a group indicator ``target`` (N,) on the test rows,
    and the best single-unit classifier if it is not among them; with their mutual information
    (test rows) and ``single`` (D,), each unit's single-unit probe accuracy."""
    corr = correlations(x[test], target[test, None])[:, 0]
    chosen = top_units(corr, k).tolist()
    if int(single.argmax()) not in chosen:
        chosen.append(int(single.argmax()))
    mi = mutual_information(x[test][:, chosen], (target[test] > 0.5).astype(int))
    return [{"unit": labels[j], "index": int(j), "correlation": float(corr[j]),
             "mutual_information_bits": float(mi[i]), "single_accuracy": float(single[j])}
            for i, j in enumerate(chosen)]


def _auto_groups(alignment: Alignment, test: np.ndarray) -> dict[str, frozenset[str]]:
    """One group per true state most visited after a symbol (a start state seen only before
    the first symbol cannot be shown on the text)."""
    read = test & (alignment.positions > 0)
    visits = np.bincount(alignment.labels()[read], minlength=len(alignment.state_names))
    order = np.argsort(-visits, kind="stable")[:MAX_AUTO_GROUPS]
    return {alignment.state_names[s]: frozenset({alignment.state_names[s]})
            for s in order if visits[s] > 0}


def _groups(alignment: Alignment, groups: Mapping[str, frozenset[str]], x: np.ndarray,
            labels: list[str], train: np.ndarray, test: np.ndarray) -> list[GroupCells]:
    mass = group_mass(alignment, groups)  # (N, G)
    mask = train | test
    single = single_unit_accuracy(x[mask], mass[mask] > 0.5, train[mask])  # (G, D)
    result = []
    for g, (name, members) in enumerate(groups.items()):
        inside = (mass[:, g] > 0.5).astype(int)
        probe = probe_accuracy(x[mask], inside[mask], train[mask], names=["out", "in"])
        result.append(GroupCells(
            name=name, states=tuple(sorted(members)), share=float(inside[test].mean()),
            probe=probe, units=_unit_rows(x, mass[:, g], labels, test, single[g], TOP_UNITS)))
    return result


def _state_units(alignment: Alignment, x: np.ndarray, labels: list[str],
                 test: np.ndarray) -> list[dict]:
    mi = mutual_information(x[test], alignment.labels()[test])
    return [{"unit": labels[j], "index": int(j), "mutual_information_bits": float(mi[j])}
            for j in top_units(mi, TOP_UNITS)]


def _unit_index(spec: str, labels: list[str]) -> int:
    """A unit given as ``h0:12`` or as a column number."""
    if spec in labels:
        return labels.index(spec)
    if spec.isdigit() and int(spec) < len(labels):
        return int(spec)
    raise ValueError(f"unknown unit {spec!r}: give a label such as {labels[0]!r} or a number "
                     f"below {len(labels)}")


def _shown_units(alignment: Alignment, x: np.ndarray, labels: list[str], units: Sequence[int],
                 groups: list[GroupCells], state_units: list[dict], test_strings: np.ndarray,
                 mass: np.ndarray) -> list[dict]:
    """Chosen units first, then the best single unit of each group and the two units most
    informative about the true state; with coloured examples."""
    candidates = test_strings[:50]  # the longest of the first test strings show the most
    lengths = np.array([len(alignment.strings[i]) for i in candidates])
    test_strings = candidates[np.argsort(-np.minimum(lengths, MAX_SHOWN_LENGTH),
                                         kind="stable")[:N_EXAMPLES]]
    picks = [(index, "chosen", 0 if groups else None) for index in units]
    picks += [(g.best_unit["index"], f"best single unit for {g.name}", i)
              for i, g in enumerate(groups)]
    picks += [(u["index"], "most information about the true state", None)
              for u in state_units[:2]]
    seen, shown = set(), []
    for index, why, group in picks:
        if index in seen or len(shown) >= MAX_SHOWN_UNITS:
            continue
        seen.add(index)
        lines = []
        for i in test_strings:
            start = alignment.offsets[i]
            symbols = alignment.strings[i][:MAX_SHOWN_LENGTH]
            rows = slice(start + 1, start + 1 + len(symbols))  # state after reading each symbol
            membership = None if group is None else mass[rows, group]
            lines.append((symbols, x[rows, index], membership))
        after_symbols = x[alignment.positions > 0, index]  # what coloured text can show
        shown.append({"unit": labels[index], "index": int(index), "why": why, "lines": lines,
                      "limit": float(np.abs(after_symbols).max(initial=0.0))})
    return shown


def _distances(truth: am.Automaton, extracted: am.Automaton, model, strings: list,
               rnn: np.ndarray) -> dict[str, dict[str, float]]:
    """Monte-Carlo metrics of the RNN and the extracted PDFA against the truth on the test
    strings, the exact ones of the extracted PDFA, and the extracted PDFA against the RNN."""
    result: dict[str, dict[str, float]] = {}
    keys = ("kl_bits_per_symbol", "mean_tv", "wer")
    for name, candidate in (("rnn", model), ("extracted", extracted)):
        values, _ = summarize(score_prefixes(truth, candidate, strings))
        result[name] = {key: values[key] for key in keys}
    try:
        exact = exact_distances(truth, extracted)
    except am.AutomatonError:  # a product too large to solve exactly: the estimates remain
        exact = {}
    result["extracted"] |= {f"exact_{k}": v for k, v in exact.items()}
    q = np.concatenate(am.prefix_distributions(extracted, strings))
    result["extracted_vs_rnn"] = {"mean_tv": float(m.total_variation(rnn, q).mean()),
                                  "wer": float(m.argmax_errors(rnn, q).mean())}
    return result


def _model_info(model) -> dict:
    config = getattr(model, "config", None)
    info = {"type": type(model).__name__}
    for key in ("cell", "nonlinearity", "hidden_size", "num_layers"):
        if hasattr(config, key):
            info[key] = getattr(config, key)
    return info


def inspect_model(truth: am.Automaton, model, *,
                  groups: Mapping[str, frozenset[str]] | None = None, units: Sequence[str] = (),
                  n_strings: int = N_STRINGS, seed: int = 0, ks: Sequence[int] | int = DEFAULT_KS,
                  probabilities: str = "counts", strings: Sequence | None = None,
                  clustering: str = "kmeans",
                  progress: Callable[[str], None] | None = None) -> Inspection:
    """Look inside ``model`` (hidden states, as :class:`neural.TrainedModel`) against ``truth``.

    ``groups`` maps a name to a set of true states (default: the most visited states, one
    each); ``units`` are shown as coloured text besides the automatically chosen ones;
    ``probabilities`` is ``"counts"`` (the extracted states emit what followed them in the
    strings) or ``"model"`` (the mean of the model's next-symbol distributions there);
    ``clustering`` is ``"kmeans"`` or ``"agglomerative"`` (Ward); ``progress`` is told what
    each step is doing.

    Examples
    --------
    >>> a = am.loads("kind: markov\\nalphabet: [x, y]\\nstart: {x: 0.5, y: 0.5}\\n"
    ...              "next: {x: {y: 0.9, $: 0.1}, y: {x: 0.5, y: 0.4, $: 0.1}}")
    >>> from compare.inside.alignment import align
    >>> class Oracle:  # hidden state = the one-hot true state
    ...     alphabet = a.alphabet
    ...     def hidden_states(self, strings):
    ...         return [{"h": np.eye(3)[s][None]} for s in am.prefix_states(a, strings)]
    ...     def prefix_distributions(self, strings):
    ...         return am.prefix_distributions(a, strings)
    >>> result = inspect_model(a, Oracle(), n_strings=200, ks=3)
    >>> result.probe.accuracy, result.purity
    (1.0, 1.0)
    """
    if (n_strings if strings is None else len(strings)) < 4:
        raise ValueError("inspecting needs at least 4 strings (to fit, validate and test)")
    if probabilities not in ("counts", "model"):
        raise ValueError(f"probabilities must be 'counts' or 'model', got {probabilities!r}")
    say = progress or (lambda message: None)
    truth = am.as_probabilistic(truth)
    if strings is None:
        strings = [tuple(s) for s in am.sample(truth, n_strings, seed=seed)]
    say(f"reading the hidden states after every prefix of {len(strings)} strings")
    alignment = align(truth, model, strings)
    split = _split(len(alignment.strings), seed)
    fit, test = alignment.rows_of(split == 0), alignment.rows_of(split == 2)
    x, labels = alignment.matrix(), alignment.units()
    shown_indices = [_unit_index(unit, labels) for unit in units]  # a bad unit stops us early
    state_labels = alignment.labels()
    both = fit | test
    say(f"probing the true state ({len(truth.states)} states) on {alignment.n_rows} prefixes")
    probe = probe_accuracy(x[both], state_labels[both], fit[both], names=alignment.state_names)
    groups = dict(groups) if groups else _auto_groups(alignment, test)
    say(f"probing {len(groups)} groups of states and their best single units")
    group_cells = _groups(alignment, groups, x, labels, fit, test)
    rnn = _model_distributions(truth, model, alignment.strings)
    say(f"extracting an automaton ({clustering} on the hidden states)")
    extraction = extract(x, alignment.strings, alignment.offsets, truth.alphabet,
                         train=split == 0, validation=split == 1, ks=ks, seed=seed,
                         method=clustering, progress=lambda line: say("  " + line),
                         distributions=rnn if probabilities == "model" else None)
    say("measuring the RNN and the extracted automaton against the truth")
    clusters = extraction.clustering.assign(x[test])
    table = contingency(clusters, state_labels[test], extraction.k, len(truth.states))
    test_strings = [s for s, part in zip(alignment.strings, split, strict=True) if part == 2]
    state_units = _state_units(alignment, x, labels, test)
    shown = _shown_units(alignment, x, labels, shown_indices, group_cells, state_units,
                         np.flatnonzero(split == 2), group_mass(alignment, groups))
    return Inspection(
        truth=truth, model_info=_model_info(model),
        split={"fit": int(np.sum(split == 0)), "validation": int(np.sum(split == 1)),
               "test": int(np.sum(split == 2))},
        rows=alignment.n_rows, probe=probe, state_units=state_units,
        groups=group_cells, shown_units=shown, extraction=extraction,
        probabilities=probabilities, contingency=table, purity=purity(table),
        distances=_distances(truth, extraction.automaton, model, test_strings, rnn[test]),
        settings={"seed": seed, "n_strings": len(alignment.strings),
                  "features": list(alignment.features), "units": len(labels)})
