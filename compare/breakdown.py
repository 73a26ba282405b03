"""Where a model differs from the truth: per true state, per position, worst prefixes, samples.

Every function reads the :class:`~compare.evaluate.Scores` of one model (and, for samples, the
strings it drew) and returns plain rows (lists of dicts) that the table, JSON and HTML reports
print as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

import automata as am
from automata.analysis import state_matrix
from compare import metrics as m
from compare.evaluate import Scores, state_weights, truth_log_probability


def per_state(truth: am.Automaton, scores: Scores) -> list[dict]:
    """Visits, mean conditional KL and TV, and WER of the prefixes in each true state, and the
    symbol whose term contributes most to that KL (``worst_symbol``, its mean term in bits).

    A deterministic truth counts each prefix in the state it reached; otherwise a prefix counts
    in every state with the weight of its forward (belief) distribution.

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> from compare.evaluate import score_prefixes
    >>> [(row["state"], row["visits"]) for row in per_state(a, score_prefixes(a, a, ["x"]))]
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
        rows.append({"state": state, "visits": visits, "share": visits / total,
                     "mean_kl": float(mean[0]), "mean_tv": float(mean[1]), "wer": float(mean[2]),
                     "worst_symbol": columns[worst],
                     "worst_symbol_kl": float(scores.state_kl[s, worst] / visits) if visits
                     else math.nan,
                     "p": _mean_row(scores.state_p[s], visits),
                     "q": _mean_row(scores.state_q[s], visits)})
    return rows


def _mean_row(total: np.ndarray, visits: float) -> list[float]:
    return (total / visits).tolist() if visits > 0 else [math.nan] * len(total)


def per_position(scores: Scores) -> list[dict]:
    """Mean conditional KL and TV, and WER, of the prefixes of each length t = 0, 1, ...

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> from compare.evaluate import score_prefixes
    >>> [row["count"] for row in per_position(score_prefixes(a, a, ["x", "xx"]))]
    [2, 2, 1]
    """
    t = scores.positions
    counts = np.bincount(t)
    sums = {key: np.bincount(t, weights=values, minlength=len(counts))
            for key, values in (("mean_kl", scores.kl), ("mean_tv", scores.tv),
                                ("wer", scores.wrong.astype(float)))}
    return [{"position": i, "count": int(counts[i])}
            | {key: float(total[i] / counts[i]) for key, total in sums.items()}
            for i in range(len(counts)) if counts[i]]


def worst_prefixes(truth: am.Automaton, model, scores: Scores, k: int = 10) -> list[dict]:
    """The ``k`` distinct prefixes with the largest conditional KL, both distributions side by
    side (columns ``alphabet + ("$",)``) and how often each prefix occurs in the test strings.

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> from compare.evaluate import score_prefixes
    >>> [row["prefix"] for row in worst_prefixes(a, a, score_prefixes(a, a, ["xx"]), k=2)]
    ['', 'x']
    """
    from compare.models import as_model, column_order

    string_of = np.repeat(np.arange(len(scores.strings)), scores.lengths + 1)
    positions = scores.positions
    chosen: dict[tuple[str, ...], float] = {}
    seen: set[tuple[float, str]] = set()  # (KL, true state): one prefix per identical situation
    for row in np.lexsort((positions, -scores.kl)):  # worst first, then shortest
        prefix = scores.strings[string_of[row]][: positions[row]]
        situation = (float(f"{scores.kl[row]:.12g}"), _state_key(scores.states[row]))
        if prefix not in chosen and situation not in seen:
            chosen[prefix] = float(scores.kl[row])
            seen.add(situation)
            if len(chosen) == k:
                break
    prefixes = list(chosen)
    model = as_model(model)
    p = am.next_symbol_distribution(am.as_probabilistic(truth), prefixes) if prefixes else []
    columns = column_order(truth.alphabet, model.alphabet)
    q = [rows[-1][columns] for rows in model.prefix_distributions(prefixes)] if prefixes else []
    counts = _prefix_counts(scores.strings, set(prefixes))
    return [{"prefix": am.format_string(truth.alphabet, prefix), "symbols": list(prefix),
             "state": _state_name(truth, prefix), "kl": chosen[prefix],
             "tv": float(m.total_variation(p_row[None], q_row[None])[0]),
             "count": counts[prefix], "p": p_row.tolist(), "q": q_row.tolist()}
            for prefix, p_row, q_row in zip(prefixes, p, q, strict=True)]


def _state_key(state: np.ndarray) -> str:
    return str(int(state)) if np.ndim(state) == 0 else np.asarray(state).round(9).tobytes().hex()


def _prefix_counts(strings: Sequence[tuple[str, ...]], wanted: set) -> dict:
    counts = dict.fromkeys(wanted, 0)
    for string in strings:
        for t in range(len(string) + 1):
            if string[:t] in counts:
                counts[string[:t]] += 1
    return counts


def _state_name(truth: am.Automaton, prefix: tuple[str, ...]) -> str:
    """The state reached (deterministic), else the most probable state, after ``prefix``."""
    state = am.prefix_states(am.as_probabilistic(truth), [prefix])[0][-1]
    index = int(state) if np.ndim(state) == 0 else int(np.argmax(state))
    return truth.states[index] if index < len(truth.states) else "—"


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
                   sample_log_p: np.ndarray, *, max_shown: int = 30) -> dict:
    """Illegal fraction, the length histogram against the truth's, and some sampled strings.

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> summary = sample_summary(a, [("x",), ()], np.array([np.log(0.5), -np.inf]))
    >>> summary["illegal_fraction"], summary["shown"][1]
    (0.5, {'string': '', 'illegal': True, 'log2_p': None})
    """
    illegal = np.isneginf(sample_log_p)
    lengths = np.array([len(s) for s in samples], dtype=np.int64)
    longest = int(lengths.max(initial=0))
    estimate = m.illegal_fraction(sample_log_p)
    shown = [{"string": am.format_string(truth.alphabet, s), "illegal": bool(bad),
              "log2_p": None if bad else float(lp / m.LN2)}
             for s, bad, lp in zip(samples[:max_shown], illegal[:max_shown],
                                   sample_log_p[:max_shown], strict=True)]
    return {"n": len(samples), "illegal_fraction": estimate.value,
            "illegal_stderr": estimate.stderr,
            "model_lengths": (np.bincount(lengths, minlength=longest + 1) / max(len(samples), 1))
            .tolist(),
            "true_lengths": length_distribution(truth, longest).tolist(),
            "shown": shown}


def alpha_sweep(truth: am.Automaton, model, scores: Scores, *, n_samples: int, max_length: int,
                seed: int) -> list[dict]:
    """How KL(P ‖ Q_α) on the test strings, and the illegal fraction and mean length of strings
    sampled at α, move with the sampling inverse temperature α (Q_α ∝ Q^α at every step).

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> from compare.evaluate import score_prefixes
    >>> scores = score_prefixes(a, a, ["x", "xx"], alphas=(1.0,))
    >>> alpha_sweep(a, a, scores, n_samples=0, max_length=5, seed=0)[0]["kl_bits_per_symbol"]
    0.0
    """
    log_p = scores.per_string(scores.log_p)
    rows = []
    for alpha, log_q_alpha in zip(scores.alphas, scores.log_q_alpha, strict=True):
        kl = m.kl_bits_per_symbol(log_p, scores.per_string(log_q_alpha), scores.lengths)
        row = {"alpha": float(alpha), "kl_bits_per_symbol": kl.value, "kl_stderr": kl.stderr}
        if n_samples > 0:
            drawn = model.sample(n_samples, alpha=float(alpha), max_length=max_length, seed=seed)
            illegal = m.illegal_fraction(truth_log_probability(truth, [tuple(s) for s in drawn]))
            row |= {"illegal_fraction": illegal.value, "illegal_stderr": illegal.stderr,
                    "mean_length": float(np.mean([len(s) for s in drawn]))}
        rows.append(row)
    return rows
