"""The answer first: one sentence on whether the model matched the truth and how it stands
against the baseline, what was assumed to compare at all, and why two metrics may disagree.

Everything here reads a finished :class:`~compare.comparison.Comparison`; the terminal, the JSON
and the HTML report print the same sentences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import automata as am
from automata.rendering import visible
from compare.formatting import COLUMNS, number

MATCH_KL = 0.01  # bits/symbol: a model at most this far from the truth matches it
ILLEGAL_WORTH_SAYING = 0.01  # a larger illegal fraction of samples is part of the verdict
CONCENTRATED = 0.6  # "most of its error is in ..." when this share of the KL is in few states
GROWTH = 3.0  # "its error grows along the string" when late positions are this much worse
MAX_FINDINGS = 2  # the verdict stays one sentence
DIFFERENT = 0.02  # TV between two states' true next-symbol distributions worth telling apart
MERGED = 0.25  # the model's TV there, as a share of the truth's, below which it merges them
MAX_PAIRED_STATES = 50  # states compared pairwise for merging, the most visited
MIN_COUNT = 30  # positions with fewer test prefixes are left out of the growth check

# why a metric may rank two models otherwise than KL, said beside the table
WHY = {
    "pautomac_perplexity": (
        "the PAutomaC perplexity weights each distinct test string by its true probability, "
        "normalised over the {distinct} distinct test strings, so the few most probable "
        "(short) strings decide it, and any model that keeps their relative probabilities "
        "scores near the true perplexity ({true}); KL averages over every symbol of every test "
        "string, long ones included"),
    "mean_tv": (
        "TV counts misplaced probability linearly, KL by its log ratio, so KL weighs errors on "
        "symbols the model finds unlikely far more"),
    "wer": "WER only asks whether the most probable next symbol is right; KL weighs the whole "
           "distribution",
    "ndcg5": "NDCG@5 only asks whether the next symbols are ranked right; KL weighs the whole "
             "distribution",
    "illegal_sample_fraction": (
        "the illegal fraction counts strings the model generates outside the truth's support, "
        "which the test strings, drawn from the truth, never contain"),
}
HIGHER_IS_BETTER = {"ndcg5"}


@dataclass(frozen=True)
class Disagreement:
    """A metric that ranks the model and the baseline otherwise than KL does."""

    metric: str
    favours: str  # "model" or "baseline"
    text: str  # what each metric says and why they can differ


@dataclass(frozen=True)
class Verdict:
    """One sentence (``text``) and the figures it rests on."""

    text: str
    matched: bool  # the model's KL is at most MATCH_KL bits/symbol
    closer: str | None  # "model" or "baseline" in KL; None without a baseline
    kl_ratio: float | None  # model KL / baseline KL
    model_kl: float
    baseline_kl: float | None
    findings: tuple[str, ...]  # what else the sentence says (illegal samples, where it errs)
    disagreements: tuple[Disagreement, ...]


def assumptions(kind: str, name: str) -> list[str]:
    """What a comparison assumes about an automaton of ``kind``: a DFA or NFA is not a
    distribution, so it is compared as the uniform one over each state's moves and stop.

    >>> assumptions("pdfa", "x")
    []
    >>> print(assumptions("dfa", "abe")[0][:60])
    abe is a dfa, not a distribution: it is compared as the unif
    """
    if kind not in ("dfa", "nfa"):
        return []
    return [f"{name} is a {kind}, not a distribution: it is compared as the uniform "
            "distribution over each state's moves and stop (every state picks uniformly among "
            "its moves that can still lead to acceptance, and the stop when it accepts), as "
            "its strings were sampled"]


def verdict(comparison) -> Verdict:
    """The verdict on ``comparison`` (a :class:`~compare.comparison.Comparison`).

    Examples
    --------
    >>> from compare.comparison import compare_models
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> verdict(compare_models(a, a, am.sample(a, 20, seed=0), label="copy", n_samples=5)).text
    'The copy matches the truth (KL 0.0000 bits/symbol).'
    """
    model = comparison.evaluations["model"]
    kl = model.metrics["kl_bits_per_symbol"]
    label = comparison.labels["model"]
    matched = kl <= MATCH_KL
    findings = () if matched else tuple(_findings(comparison))
    head = (f"The {label} matches the truth (KL {_bits(kl)} bits/symbol)" if matched else
            f"The {label} does not match the truth (KL {_bits(kl)} bits/symbol)")
    if findings:
        head += ": " + "; ".join(findings)
    baseline = comparison.evaluations.get("baseline")
    if baseline is None:
        return Verdict(text=head + ".", matched=matched, closer=None, kl_ratio=None,
                       model_kl=kl, baseline_kl=None, findings=findings, disagreements=())
    base_kl = baseline.metrics["kl_bits_per_symbol"]
    ratio = _ratio(kl, base_kl)
    closer = "model" if ratio <= 1 else "baseline"
    text = f"{head}. {_against(comparison, kl, base_kl, ratio)}"
    return Verdict(text=text, matched=matched, closer=closer, kl_ratio=ratio, model_kl=kl,
                   baseline_kl=base_kl, findings=findings,
                   disagreements=tuple(disagreements(comparison)))


def _bits(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:.4f}" if value < 10 else f"{value:.1f}"


def _ratio(model: float, baseline: float) -> float:
    """model / baseline, with 0 / 0 = 1 (both exact) and x / 0 = inf."""
    if model == baseline:
        return 1.0
    return math.inf if baseline == 0 else model / baseline


def _times(ratio: float) -> str:
    """A ratio ≥ 1 as words: ``3.2×``, ``43×``.

    >>> _times(3.24), _times(43.4), _times(1.04)
    ('3.2×', '43×', '1.04×')
    """
    if math.isinf(ratio):
        return "infinitely"
    if ratio < 1.1:
        return f"{ratio:.2f}×"
    return f"{ratio:.1f}×" if ratio < 10 else f"{ratio:.0f}×"


def _against(comparison, kl: float, base_kl: float, ratio: float) -> str:
    """The second sentence: the model against the baseline, in KL."""
    label = comparison.labels["model"]
    base = f"order-{comparison.baseline_info.get('order')} n-gram"
    model_se = comparison.evaluations["model"].stderr["kl_bits_per_symbol"]
    base_se = comparison.evaluations["baseline"].stderr["kl_bits_per_symbol"]
    noise = 2 * math.hypot(_finite(model_se), _finite(base_se))
    if math.isfinite(kl) and math.isfinite(base_kl) and abs(kl - base_kl) <= noise:
        return (f"It is as close as the {base} baseline within the noise (KL {_bits(base_kl)}, "
                f"ratio {ratio:.2f}).")
    if ratio <= 1:
        return (f"It is {_times(1 / ratio if ratio else math.inf)} closer in KL than the "
                f"{base} baseline ({_bits(base_kl)}).")
    return f"The {base} baseline is {_times(ratio)} closer in KL ({_bits(base_kl)}) than the {label}."


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def _findings(comparison) -> list[str]:
    """What went wrong, in words, most telling first: illegal samples, states it does not tell
    apart, what it allows that the truth forbids, where the error sits, growth along strings."""
    found = []
    samples = comparison.samples
    if samples is not None and samples.illegal_fraction > ILLEGAL_WORTH_SAYING:
        found.append(f"{_share(samples.illegal_fraction)} of its samples are illegal "
                     "(the truth gives them probability 0)")
    found += [finding for finding in (_merged(comparison), _forbidden(comparison),
                                      _concentration(comparison), _growth(comparison))
              if finding]
    return found[:MAX_FINDINGS]


def _share(fraction: float) -> str:
    """A fraction in words for a sentence.

    >>> _share(0.49), _share(0.2), _share(0.013)
    ('half (49%)', '20%', '1.3%')
    """
    if 0.45 <= fraction <= 0.55:
        return f"half ({fraction:.0%})"
    return f"{fraction:.0%}" if fraction >= 0.1 else f"{fraction:.1%}"


def _merged(comparison) -> str | None:
    """"it does not tell states q and r apart" when the truth predicts differently after them
    and the model, on average, does not: what it would have to remember, it forgot."""
    visited = [r for r in comparison.per_state if r.visits > 0]
    most = {id(r) for r in sorted(visited, key=lambda r: -r.visits)[:MAX_PAIRED_STATES]}
    rows = [r for r in visited if id(r) in most]  # in the truth's order: a stable sentence
    best, gap = None, 0.0
    for i, first in enumerate(rows):
        for second in rows[i + 1:]:
            truth, model = _tv(first.p, second.p), _tv(first.q, second.q)
            if truth >= DIFFERENT and model <= MERGED * truth and truth - model > gap:
                best, gap = (first, second, truth, model), truth - model
    if best is None:
        return None
    first, second, truth, model = best
    return (f"it does not tell states {first.state} and {second.state} apart (the truth's "
            f"next-symbol distributions there differ by TV {round(truth, 4):g}, its own by "
            f"{round(model, 4):g})")


def _tv(p: tuple[float, ...], q: tuple[float, ...]) -> float:
    return 0.5 * sum(abs(a - b) for a, b in zip(p, q, strict=True))


def _forbidden(comparison) -> str | None:
    """"in state q it gives 3% to what the truth forbids there (y)": the state where the model
    puts the most probability on next symbols (or the stop) of true probability 0."""
    columns = comparison.truth.alphabet + (am.END,)
    worst, mass = None, 0.0
    for row in comparison.per_state:
        if row.visits > 0:
            forbidden = sum(q for p, q in zip(row.p, row.q, strict=True) if p == 0)
            if forbidden > mass:
                worst, mass = row, forbidden
    if worst is None or mass < ILLEGAL_WORTH_SAYING:
        return None
    symbols = ", ".join(_symbol(c) for c, p, q in zip(columns, worst.p, worst.q, strict=True)
                        if p == 0 and q >= ILLEGAL_WORTH_SAYING / 10)
    return (f"in state {worst.state} it gives {mass:.0%} on average to what the truth forbids "
            f"there ({symbols})")


def _concentration(comparison) -> str | None:
    """"most of its error (90%) is in state q, on symbol a" when few states hold most KL."""
    rows = [r for r in comparison.per_state if r.visits > 0 and math.isfinite(r.mean_kl)]
    mass = {r.state: r.visits * r.mean_kl for r in rows}
    total = sum(mass.values())
    if total <= 0 or len(rows) < 2:
        return None
    chosen, held = [], 0.0
    for row in sorted(rows, key=lambda r: -mass[r.state]):
        chosen.append(row)
        held += mass[row.state] / total
        if held >= CONCENTRATED:
            break
    if len(chosen) > len(rows) / 2:
        return None
    states = ", ".join(r.state for r in chosen)
    symbols = ", ".join(dict.fromkeys(_symbol(r.worst_symbol) for r in chosen))
    return (f"most of its error ({held:.0%}) is in state{'s' if len(chosen) > 1 else ''} "
            f"{states}, mostly on {symbols}")


def _symbol(symbol: str) -> str:
    """A column in words: the end of string is "stopping".

    >>> _symbol("$"), _symbol(" ")
    ('stopping', "'␣'")
    """
    return "stopping" if symbol == am.END else f"'{visible(symbol)}'"


def _growth(comparison) -> str | None:
    """"its error grows along the string" when late positions are far worse than early ones."""
    rows = [r for r in comparison.per_position.get("model", []) if r.count >= MIN_COUNT]
    if len(rows) < 8:
        return None
    quarter = len(rows) // 4
    early = sum(r.mean_kl for r in rows[:quarter]) / quarter
    late = sum(r.mean_kl for r in rows[-quarter:]) / quarter
    if not late > GROWTH * max(early, 1e-12):
        return None
    return (f"its error grows along the string (mean KL {early:.3g} bits in the first "
            f"{quarter} positions, {late:.3g} after {rows[-quarter].position} symbols): it loses "
            "what it read long before")


def disagreements(comparison) -> list[Disagreement]:
    """The metrics of the headline table that rank the model and the baseline otherwise than
    KL does (a tie as printed ranks nothing), each with the reason it can."""
    digits = {key: (label, d) for key, label, d, _ in COLUMNS}
    names = {"model": f"{comparison.labels['model']}",
             "baseline": f"order-{comparison.baseline_info.get('order')} n-gram"}
    model = comparison.evaluations["model"].metrics
    baseline = comparison.evaluations["baseline"].metrics
    oracle = comparison.evaluations["oracle"]
    facts = {"distinct": len(set(oracle.scores.strings)),
             "true": number(oracle.metrics["true_perplexity"], 3)}
    by_kl = _favours(model["kl_bits_per_symbol"], baseline["kl_bits_per_symbol"], False)
    sides = {"model": (model, baseline), "baseline": (baseline, model)}  # the favoured one first
    found = []
    for metric, why in WHY.items():
        name, places = digits[metric]
        if number(model[metric], places) == number(baseline[metric], places):
            continue  # a tie as printed ranks nothing
        favours = _favours(model[metric], baseline[metric], metric in HIGHER_IS_BETTER)
        if by_kl and favours and favours != by_kl:
            found.append(Disagreement(metric=metric, favours=favours, text=(
                f"KL favours the {names[by_kl]} ({_pair(sides[by_kl], 'kl_bits_per_symbol', 4)}) "
                f"while the {name} favours the {names[favours]} "
                f"({_pair(sides[favours], metric, places)}): {why.format(**facts)}.")))
    return found


def _pair(order: tuple[dict, dict], key: str, places: int) -> str:
    """The favoured model's figure, then the other's: "0.0007 against 0.0010"."""
    return " against ".join(number(metrics[key], places) for metrics in order)


def _favours(model: float, baseline: float, higher_is_better: bool) -> str | None:
    if math.isnan(model) or math.isnan(baseline) or model == baseline:
        return None
    return "model" if (model > baseline) == higher_is_better else "baseline"


def summary_lines(comparison) -> tuple[list[str], list[str]]:
    """What the terminal prints around the headline table: (before: the assumptions and the
    verdict; after: why two metrics disagree)."""
    judged = verdict(comparison)
    return ([f"note: {text}" for text in comparison.notices] + [judged.text],
            [d.text for d in judged.disagreements])
