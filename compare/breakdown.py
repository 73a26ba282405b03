"""Where a model differs from the truth: per true state, per position, worst prefixes, samples.

Every function reads the :class:`~compare.evaluate.Scores` of one model (and, for samples, the
strings it drew) and returns small typed records that the table, JSON and HTML reports print as
they are. Symbols stay tuples of symbols; :mod:`compare.formatting` shows them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import automata as am
from automata.analysis import state_matrix
from compare import metrics as m
from compare.evaluate import Scores, state_weights

SIMILAR = 0.5  # prefixes within this share of their state's worst KL are grouped with it
MAX_ILLEGAL = 200  # distinct illegal samples listed
MAX_LEGAL = 10  # legal samples listed beside them


@dataclass(frozen=True)
class StateRow:
    """The prefixes in one true state: how many, and how the model errs there."""

    state: str
    visits: float  # test prefixes in the state (beliefs summed for a nondeterministic truth)
    share: float  # visits / all test prefixes
    mean_kl: float  # bits
    mean_tv: float
    wer: float
    worst_symbol: str  # the column whose term contributes most to the KL
    worst_symbol_kl: float  # its mean term, bits
    p: tuple[float, ...]  # mean P(·|state), columns alphabet + ("$",)
    q: tuple[float, ...]  # mean Q(·|prefix) over the state's prefixes


@dataclass(frozen=True)
class PositionRow:
    """The prefixes of one length t."""

    position: int
    count: int
    mean_kl: float
    mean_tv: float
    wer: float


@dataclass(frozen=True)
class PrefixGroup:
    """The prefixes after which the model errs nearly as much as at its worst in one true state
    (at least ``SIMILAR`` of that worst KL): one row for many near-identical situations."""

    state: str
    examples: tuple[tuple[str, ...], ...]  # the worst few distinct prefixes, worst first
    kl: tuple[float, ...]  # bits, one per example
    prefixes: int  # distinct prefixes in the group
    occurrences: int  # how often they occur in the test strings
    suffix: tuple[str, ...]  # the longest suffix every prefix of the group shares
    tv: float  # after the worst prefix
    p: tuple[float, ...]  # P(·|worst prefix)
    q: tuple[float, ...]  # Q(·|worst prefix)


@dataclass(frozen=True)
class IllegalSample:
    """A string the model drew that the truth gives probability 0."""

    symbols: tuple[str, ...]
    count: int  # times drawn
    breaks_at: int  # the first impossible symbol; len(symbols): it may not stop there


@dataclass(frozen=True)
class SampleSummary:
    """The model's samples at α = 1 against the truth."""

    n: int
    illegal_fraction: float
    illegal_stderr: float
    model_lengths: tuple[float, ...]  # fraction of samples of each length
    true_lengths: tuple[float, ...]  # P(|x| = n) under the truth, exactly
    illegal: tuple[IllegalSample, ...]  # distinct, most frequent first, at most MAX_ILLEGAL
    illegal_distinct: int  # distinct illegal strings in all
    legal: tuple[tuple[tuple[str, ...], float], ...]  # (string, log₂ P) of the first legal ones


def per_state(truth: am.Automaton, scores: Scores) -> list[StateRow]:
    """Visits, mean conditional KL and TV, and WER of the prefixes in each true state, and the
    symbol whose term contributes most to that KL (``worst_symbol``, its mean term in bits).

    A deterministic truth counts each prefix in the state it reached; otherwise a prefix counts
    in every state with the weight of its forward (belief) distribution.

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> from compare.evaluate import score_prefixes
    >>> [(row.state, row.visits) for row in per_state(a, score_prefixes(a, a, ["x"]))]
    [('^', 1.0), ('x', 1.0)]
    """
    truth = am.as_probabilistic(truth)
    values = np.column_stack([np.ones(len(scores.kl)), scores.kl, scores.tv, scores.wrong])
    sums = state_weights(truth, scores.states, values)  # (S, 4)
    total = max(float(sums[:, 0].sum()), 1.0)
    columns = truth.alphabet + (am.END,)
    rows = []
    for s, state in enumerate(truth.states):
        visits = float(sums[s, 0])
        mean = sums[s, 1:] / visits if visits > 0 else np.full(3, math.nan)
        worst = int(np.argmax(scores.state_kl[s]))
        rows.append(StateRow(
            state=state, visits=visits, share=visits / total, mean_kl=float(mean[0]),
            mean_tv=float(mean[1]), wer=float(mean[2]), worst_symbol=columns[worst],
            worst_symbol_kl=float(scores.state_kl[s, worst] / visits) if visits else math.nan,
            p=_mean_row(scores.state_p[s], visits), q=_mean_row(scores.state_q[s], visits)))
    return rows


def _mean_row(total: np.ndarray, visits: float) -> tuple[float, ...]:
    return tuple((total / visits).tolist()) if visits > 0 else (math.nan,) * len(total)


def per_position(scores: Scores) -> list[PositionRow]:
    """Mean conditional KL and TV, and WER, of the prefixes of each length t = 0, 1, ...

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> from compare.evaluate import score_prefixes
    >>> [row.count for row in per_position(score_prefixes(a, a, ["x", "xx"]))]
    [2, 2, 1]
    """
    t = scores.positions
    counts = np.bincount(t)
    sums = {key: np.bincount(t, weights=values, minlength=len(counts))
            for key, values in (("mean_kl", scores.kl), ("mean_tv", scores.tv),
                                ("wer", scores.wrong.astype(float)))}
    return [PositionRow(position=i, count=int(counts[i]),
                        **{key: float(total[i] / counts[i]) for key, total in sums.items()})
            for i in range(len(counts)) if counts[i]]


def worst_prefixes(truth: am.Automaton, model, scores: Scores, k: int = 8,
                   examples: int = 4) -> list[PrefixGroup]:
    """Where the model errs most, one row per true state (the most probable one for a
    nondeterministic truth): the prefixes there whose conditional KL is at least ``SIMILAR``
    of the state's worst, how many and how often, the suffix they share, and both
    distributions after the worst of them. The ``k`` states with the largest KL, worst first.

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> b = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.6, $: 0.4}}")
    >>> from compare.evaluate import score_prefixes
    >>> [(g.state, g.examples, g.prefixes) for g in worst_prefixes(a, b, score_prefixes(a, b, ["xx"]))]
    [('x', (('x',), ('x', 'x')), 2)]
    """
    from compare.models import as_model, column_order

    truth = am.as_probabilistic(truth)
    string_of = np.repeat(np.arange(len(scores.strings)), scores.lengths + 1)
    positions = scores.positions
    worst: dict[int, float] = {}
    members: dict[int, dict[tuple[str, ...], float]] = {}
    occurrences: Counter = Counter()
    suffixes: dict[int, tuple[str, ...]] = {}
    for row in np.lexsort((positions, -scores.kl)):  # worst first, then shortest
        kl, state = float(scores.kl[row]), _state_index(scores.states[row])
        if worst.setdefault(state, kl) <= 0 or kl < SIMILAR * worst[state]:
            continue
        prefix = scores.strings[string_of[row]][: positions[row]]
        occurrences[state] += 1
        if prefix not in members.setdefault(state, {}):
            members[state][prefix] = kl
            suffixes[state] = _common_suffix([suffixes.get(state, prefix), prefix])
    chosen = sorted(members, key=lambda s: -worst[s])[:k]
    heads = [next(iter(members[s])) for s in chosen]
    model = as_model(model)
    p = am.next_symbol_distribution(truth, heads) if heads else np.zeros((0, 0))
    columns = column_order(truth.alphabet, model.alphabet)
    q = [rows[-1][columns] for rows in model.prefix_distributions(heads)] if heads else []
    return [PrefixGroup(
        state=truth.states[s] if s < len(truth.states) else "—",
        examples=tuple(list(members[s])[:examples]),
        kl=tuple(list(members[s].values())[:examples]), prefixes=len(members[s]),
        occurrences=occurrences[s], suffix=suffixes[s],
        tv=float(m.total_variation(p_row[None], q_row[None])[0]),
        p=tuple(p_row.tolist()), q=tuple(q_row.tolist()))
        for s, p_row, q_row in zip(chosen, p, q, strict=True)]


def _state_index(state: np.ndarray) -> int:
    """A deterministic state index as it is, a belief vector as its most probable state."""
    return int(state) if np.ndim(state) == 0 else int(np.argmax(state))


def _common_suffix(strings: list[tuple[str, ...]]) -> tuple[str, ...]:
    """The longest suffix of every string in ``strings``.

    >>> _common_suffix([("a", "b", "c"), ("b", "c")]), _common_suffix([("a",), ("b",)])
    (('b', 'c'), ())
    """
    shortest = min(len(s) for s in strings)
    n = 0
    while n < shortest and len({s[len(s) - n - 1] for s in strings}) == 1:
        n += 1
    return strings[0][len(strings[0]) - n:]


def length_distribution(truth: am.Automaton, max_length: int) -> np.ndarray:
    """P(|x| = n) for n = 0..max_length under the truth, exactly.

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> length_distribution(a, 3).tolist()
    [0.0, 0.5, 0.25, 0.125]
    """
    truth = am.as_probabilistic(truth)
    moves = state_matrix(truth).T.tocsr()  # (S, S): column vector step v ← Mᵀ v
    vector = np.asarray(truth.initial, dtype=float)
    result = np.empty(max_length + 1)
    for n in range(max_length + 1):
        result[n] = vector @ truth.final
        vector = moves @ vector
    return result


def sample_summary(truth: am.Automaton, samples: Sequence[tuple[str, ...]],
                   sample_log_p: np.ndarray, *, max_illegal: int = MAX_ILLEGAL,
                   max_legal: int = MAX_LEGAL) -> SampleSummary:
    """Illegal fraction, the length histogram against the truth's, the distinct illegal samples
    (most frequent first, each with the symbol where it leaves the truth) and a few legal ones.

    >>> a = am.loads("kind: markov\\nalphabet: [x, y]\\nstart: {x: 1.0}\\n"
    ...              "next: {x: {x: 0.5, $: 0.5}, y: {$: 1.0}}")
    >>> summary = sample_summary(a, [("x",), ("x", "y"), ("x", "y")],
    ...                          np.array([np.log(0.5), -np.inf, -np.inf]))
    >>> round(summary.illegal_fraction, 3), summary.illegal
    (0.667, (IllegalSample(symbols=('x', 'y'), count=2, breaks_at=1),))
    """
    illegal = np.isneginf(sample_log_p)
    lengths = np.array([len(s) for s in samples], dtype=np.int64)
    longest = int(lengths.max(initial=0))
    estimate = m.illegal_fraction(sample_log_p)
    drawn = Counter(s for s, bad in zip(samples, illegal, strict=True) if bad)
    listed = sorted(drawn, key=lambda s: (-drawn[s], len(s), s))[:max_illegal]
    legal = [(s, float(lp / m.LN2)) for s, bad, lp in zip(samples, illegal, sample_log_p,
                                                          strict=True) if not bad][:max_legal]
    return SampleSummary(
        n=len(samples), illegal_fraction=estimate.value, illegal_stderr=estimate.stderr,
        model_lengths=tuple((np.bincount(lengths, minlength=longest + 1)
                             / max(len(samples), 1)).tolist()),
        true_lengths=tuple(length_distribution(truth, longest).tolist()),
        illegal=tuple(IllegalSample(s, drawn[s], b)
                      for s, b in zip(listed, break_points(truth, listed), strict=True)),
        illegal_distinct=len(drawn), legal=tuple(legal))


def break_points(truth: am.Automaton, strings: Sequence[tuple[str, ...]]) -> list[int]:
    """For each string, the position of the first symbol the truth cannot read there, or the
    string's length when only stopping at its end is impossible (or nothing is).

    >>> a = am.loads("kind: dfa\\nalphabet: [a, b]\\nstart: s\\n"
    ...              "states: {s: {final: false, next: {a: t}}, t: {final: true}}")
    >>> break_points(a, [("a", "b"), ("b",), ()])
    [1, 0, 0]
    """
    truth = am.as_probabilistic(truth)
    index = {symbol: i for i, symbol in enumerate(truth.alphabet)}
    result = []
    for string, rows in zip(strings, am.prefix_distributions(truth, list(strings)), strict=True):
        following = [index[s] for s in string] + [len(truth.alphabet)]  # x[t], then $
        possible = np.nan_to_num(rows)[np.arange(len(rows)), following] > 0
        result.append(int(np.argmin(possible)) if not possible.all() else len(string))
    return result
