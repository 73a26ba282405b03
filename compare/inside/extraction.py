"""Automaton extraction: cluster the hidden vectors, count moves between clusters, get a PDFA.

Each cluster of hidden vectors becomes a state. Its next-symbol probabilities are the mean of the
model's next-symbol distributions over the prefixes in the cluster (or the frequencies of the
symbols that followed them), smoothed by a small pseudo-count so every string stays possible;
the target of each symbol is the cluster most often reached after it. The number of clusters is
given or chosen on validation strings: the smallest k whose PDFA is within a tolerance of the
best validation cross-entropy. The clusters come from scikit-learn: k-means, or Ward's agglomerative tree cut at each k.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import AgglomerativeClustering, KMeans

import automata as am
from automata.randomness import make_rng

DEFAULT_KS = (*range(1, 17), 20, 24, 28, 32)  # candidate numbers of clusters
METHODS = ("kmeans", "agglomerative")
SMOOTHING = 0.1  # pseudo-count of every symbol (and $) in every state, in prefixes
TOLERANCE = 0.002  # bits per symbol: a larger k must beat the smaller ones by more than this
N_INIT = 3  # k-means restarts
MAX_FIT_ROWS = 2000  # clustering fits on a random subset of this many prefixes (they are redundant)
MAX_TREE_ROWS = 2000  # Ward's tree needs memory in the square of its rows
DRAWN_BELOW = 0.01  # moves and stops less probable than this are left out of the picture


@dataclass(frozen=True)
class Clustering:
    """Cluster centres (the mean of each cluster's fitted rows) and the cluster of each row."""

    centers: np.ndarray  # (k, D)
    labels: np.ndarray  # (N,) of the fitted rows

    def assign(self, x: np.ndarray) -> np.ndarray:
        """(N,) the nearest centre of each row of ``x``."""
        d2 = (self.centers * self.centers).sum(axis=1) - 2 * x @ self.centers.T  # (N, k) + ‖x‖²
        return d2.argmin(axis=1)


def _distinct(x: np.ndarray) -> int:
    return len(np.unique(x, axis=0))


def kmeans(x: np.ndarray, k: int, *, seed: int | np.random.Generator | None = 0,
           n_init: int = N_INIT) -> Clustering:
    """scikit-learn's k-means (k-means++ seeding, the best of ``n_init`` restarts); with fewer
    distinct rows than ``k``, one cluster per distinct row.

    Examples
    --------
    >>> x = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> sorted(kmeans(x, 2, seed=0).centers.ravel().round(2).tolist())
    [0.05, 5.05]
    """
    if k < 1 or not len(x):
        raise ValueError(f"clustering needs k ≥ 1 and at least one row (k={k}, {len(x)} rows)")
    state = int(make_rng(seed).integers(2**31))
    model = KMeans(min(k, _distinct(x)), n_init=n_init, random_state=state).fit(x)
    return Clustering(centers=model.cluster_centers_, labels=model.labels_)


def ward_tree(x: np.ndarray) -> np.ndarray:
    """(N-1, 2) scikit-learn's agglomerative (Ward) merges of the rows of ``x``, first to last:
    row i joins nodes ``children[i]`` into node N + i (leaves are the rows)."""
    if len(x) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    model = AgglomerativeClustering(n_clusters=None, distance_threshold=0.0,
                                    compute_full_tree=True, linkage="ward").fit(x)
    return model.children_


def cut_tree(x: np.ndarray, children: np.ndarray, k: int) -> Clustering:
    """The ``k`` clusters left after the first N - ``k`` merges of :func:`ward_tree`.

    Examples
    --------
    >>> x = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> sorted(cut_tree(x, ward_tree(x), 2).centers.ravel().round(2).tolist())
    [0.05, 5.05]
    """
    if k < 1 or not len(x):
        raise ValueError(f"clustering needs k ≥ 1 and at least one row (k={k}, {len(x)} rows)")
    n = len(x)
    parent = np.arange(2 * n - 1)
    for i, (a, b) in enumerate(children[: n - min(k, n)]):
        parent[[a, b]] = n + i
    root = parent.copy()
    for node in range(2 * n - 2, -1, -1):  # parents come after their children
        root[node] = root[parent[node]]
    labels = np.unique(root[:n], return_inverse=True)[1].ravel()
    centers = np.array([x[labels == j].mean(axis=0) for j in range(labels.max() + 1)])
    return Clustering(centers=centers, labels=labels)


def next_codes(strings: Sequence[tuple[str, ...]], alphabet: Sequence[str]) -> np.ndarray:
    """(N,) per prefix row, the code of the symbol that follows: x[t], or ``len(alphabet)``
    ($) after the whole string.

    >>> next_codes([("b", "a"), ()], ("a", "b")).tolist()
    [1, 0, 2, 2]
    """
    index = {s: i for i, s in enumerate(alphabet)}
    codes = [index[s] for string in strings for s in string]
    ends = np.cumsum([len(s) + 1 for s in strings]) - 1
    result = np.full(sum(len(s) + 1 for s in strings), len(alphabet), dtype=np.int64)
    result[np.setdiff1d(np.arange(len(result)), ends)] = codes
    return result


def build_pdfa(clusters: np.ndarray, offsets: np.ndarray, following: np.ndarray,
               alphabet: Sequence[str], k: int, *, rows: np.ndarray | None = None,
               distributions: np.ndarray | None = None, smoothing: float = SMOOTHING,
               name: str = "extracted") -> tuple[am.Automaton, float]:
    """A PDFA whose states are clusters, from per-prefix cluster labels of whole strings.

    ``clusters`` (N,) is the cluster after each prefix (rows as in an alignment: string i has
    rows ``offsets[i]..offsets[i+1]-1``), ``following`` (N,) the code of the next symbol ($ =
    ``len(alphabet)``), ``rows`` (N,) bool the rows to count (whole strings; default all).
    State ``c{j}`` emits with the mean of ``distributions`` (N, |Σ|+1) over its rows, or with
    the frequencies of ``following``. Returns the automaton, cut to its reachable states, and
    the determinism: the fraction of counted moves that go to their symbol's chosen target.

    Examples
    --------
    >>> # strings "a" and "": clusters c0 c1 | c0; next symbols a $ | $
    >>> a, det = build_pdfa(np.array([0, 1, 0]), np.array([0, 2, 3]), np.array([0, 1, 1]),
    ...                     ("a",), 2, smoothing=0.0)
    >>> a.states, am.probability(a, "a"), det
    (('c0', 'c1'), 0.5, 1.0)
    """
    n_symbols = len(alphabet)
    rows = np.ones(len(clusters), dtype=bool) if rows is None else np.asarray(rows, dtype=bool)
    ends = np.zeros(len(clusters), dtype=bool)
    ends[offsets[1:] - 1] = True
    emitted = np.zeros((len(following), n_symbols + 1))
    emitted[np.arange(len(following)), following] = 1.0
    weights = emitted if distributions is None else distributions
    sums = np.zeros((k, n_symbols + 1))
    np.add.at(sums, clusters[rows], weights[rows])
    visits = np.bincount(clusters[rows], minlength=k).astype(float)
    probs = (sums + smoothing) / (visits + smoothing * (n_symbols + 1))[:, None]
    probs = np.nan_to_num(probs, nan=1.0 / (n_symbols + 1))  # never-visited, unsmoothed
    moves = rows & ~ends  # (c_t, x[t], c_{t+1}) inside counted strings
    counts = np.zeros((k, n_symbols, k))
    source = np.flatnonzero(moves)
    np.add.at(counts, (clusters[source], following[source], clusters[source + 1]), 1.0)
    next_state = counts.argmax(axis=2)  # (k, A) the most frequent target
    overall = counts.sum(axis=0).argmax(axis=1)  # (A,) for a move never seen from a cluster
    seen = counts.sum(axis=2) > 0
    seen_symbol = counts.sum(axis=(0, 2)) > 0
    next_state = np.where(seen, next_state,
                          np.where(seen_symbol, overall, np.arange(k)[:, None]))
    determinism = float(counts.max(axis=2).sum() / counts.sum()) if counts.sum() else 1.0
    starts = np.bincount(clusters[offsets[:-1]][rows[offsets[:-1]]], minlength=k)
    initial = np.eye(k)[int(starts.argmax())]
    full = am.Automaton(kind="pdfa", alphabet=tuple(alphabet),
                        states=tuple(f"c{j}" for j in range(k)), initial=initial,
                        final=probs[:, -1], next_state=next_state, symbol_prob=probs[:, :-1],
                        name=name)
    return _trim(full), determinism


def _trim(a: am.Automaton) -> am.Automaton:
    """``a`` without its unreachable states (names kept)."""
    keep = np.flatnonzero(am.reachable_states(a))
    if len(keep) == len(a.states):
        return a
    new_index = np.full(len(a.states), -1)
    new_index[keep] = np.arange(len(keep))
    table = a.next_state[keep]
    return am.Automaton(kind=a.kind, alphabet=a.alphabet, states=tuple(a.states[i] for i in keep),
                        initial=a.initial[keep], final=a.final[keep],
                        next_state=np.where(table >= 0, new_index[table], -1),
                        symbol_prob=a.symbol_prob[keep], name=a.name)


def drawn_like_truth(a: am.Automaton, table: np.ndarray, truth_states: Sequence[str], *,
                     below: float = DRAWN_BELOW) -> tuple[am.Automaton, dict[str, str | None]]:
    """The extracted PDFA ``a`` as drawn: moves and stops less probable than ``below`` pruned
    (each state's rest renormalised, states no longer reachable dropped), each state named after
    the true state most of its prefixes are in (``table`` (k, S): prefixes by cluster ``c{j}``
    and true state), and the states in the truth's order, so that Graphviz lays the picture out
    like the truth's. Also returns each drawn state's true state (None: no prefix seen).

    The smoothing that keeps every string possible adds a move for every symbol to every
    state: that is for scoring, not for reading.

    Examples
    --------
    >>> a = am.loads("kind: pdfa\\nalphabet: [a, b]\\nstart: c1\\nstates:\\n"
    ...              "  c0: {final: 0.995, next: {b: {c1: 0.005}}}\\n"
    ...              "  c1: {final: 0.002, next: {a: {c0: 0.9}, b: {c1: 0.098}}}")
    >>> drawn, truth_of = drawn_like_truth(a, np.array([[0, 9], [5, 0]]), ["q", "r"])
    >>> drawn.states, truth_of, am.to_dict(drawn)["states"]["r"]
    (('q', 'r'), {'q': 'q', 'r': 'r'}, {'final': 1.0})
    """
    cluster = [int(name[1:]) for name in a.states]
    majority = [int(table[j].argmax()) if table[j].sum() else None for j in cluster]
    order = sorted(range(len(a.states)), key=lambda s: (
        len(truth_states) if majority[s] is None else majority[s], -int(table[cluster[s]].sum())))
    shared = {m for m in majority if m is not None and majority.count(m) > 1}
    names = [a.states[s] if majority[s] is None else truth_states[majority[s]]
             if majority[s] not in shared else f"{truth_states[majority[s]]} ({a.states[s]})"
             for s in range(len(a.states))]
    symbol_prob = np.where(a.symbol_prob >= below, a.symbol_prob, 0.0)[order]
    final = np.where(a.final >= below, a.final, 0.0)[order]
    total = symbol_prob.sum(axis=1) + final
    empty = total == 0  # everything under the bound: keep the state's stop
    final, total = np.where(empty, 1.0, final), np.where(empty, 1.0, total)
    position = np.argsort(order)  # old state index -> drawn index
    next_state = np.where(symbol_prob > 0, position[a.next_state[order]], -1)
    drawn = am.Automaton(kind="pdfa", alphabet=a.alphabet, states=[names[s] for s in order],
                         initial=a.initial[order], final=final / total, next_state=next_state,
                         symbol_prob=symbol_prob / total[:, None], name=a.name)
    drawn = _trim(drawn)
    truth_of = dict(zip(names, (None if m is None else truth_states[m] for m in majority),
                        strict=True))
    return drawn, {name: truth_of[name] for name in drawn.states}


def bits_per_symbol(a: am.Automaton, strings: Sequence[tuple[str, ...]]) -> float:
    """Cross-entropy of ``strings`` under ``a``: −Σ log₂ P(x) / Σ (|x|+1).

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> bits_per_symbol(a, [("x",)])
    0.5
    """
    if not len(strings):
        return math.nan
    total = float(np.sum(am.log_probability(a, list(strings))))
    return -total / math.log(2) / sum(len(s) + 1 for s in strings)


@dataclass(frozen=True)
class Extraction:
    """The extracted automaton and how it was chosen."""

    automaton: am.Automaton
    k: int  # clusters (states before cutting unreachable ones)
    clustering: Clustering
    method: str  # "kmeans" or "agglomerative"
    determinism: float  # fraction of moves that follow the chosen target of their symbol
    validation: dict[int, float]  # k -> validation bits per symbol


def contingency(clusters: np.ndarray, labels: np.ndarray, k: int, n_states: int) -> np.ndarray:
    """(k, S) counts of prefixes by cluster and true state.

    >>> contingency(np.array([0, 0, 1]), np.array([1, 1, 0]), 2, 2).tolist()
    [[0, 2], [1, 0]]
    """
    table = np.zeros((k, n_states), dtype=np.int64)
    np.add.at(table, (clusters, labels), 1)
    return table


def purity(table: np.ndarray) -> float:
    """Fraction of prefixes whose cluster's most common true state is their own (1: every
    cluster sits inside one true state).

    >>> purity(np.array([[3, 1], [0, 4]]))
    0.875
    """
    total = table.sum()
    return float(table.max(axis=1).sum() / total) if total else math.nan


def extract(x: np.ndarray, strings: Sequence[tuple[str, ...]], offsets: np.ndarray,
            alphabet: Sequence[str], *, train: np.ndarray, validation: np.ndarray,
            distributions: np.ndarray | None = None, ks: Sequence[int] | int = DEFAULT_KS,
            method: str = "kmeans", smoothing: float = SMOOTHING, tolerance: float = TOLERANCE,
            seed: int = 0, progress: Callable[[str], None] | None = None) -> Extraction:
    """Extract a PDFA from per-prefix hidden vectors ``x`` (N, D) of ``strings``.

    ``train`` and ``validation`` are (n,) bool masks of strings: the clustering (``method``:
    k-means, or Ward's agglomerative tree cut at each k) and the counts use the training
    strings. With several ``ks``, the PDFA of each k is scored on the validation strings and the
    smallest k within ``tolerance`` bits per symbol of the best one wins (the scores are far from
    monotone in k: a model of line_position scores worse at every k from 2 to 14 than at 1, and
    best at 20). ``progress`` is told each k and its score.

    Examples
    --------
    >>> strings = [("a",), ("a", "a"), ()] * 4
    >>> offsets = np.concatenate([[0], np.cumsum([len(s) + 1 for s in strings])])
    >>> x = np.concatenate([np.arange(len(s) + 1, dtype=float) for s in strings])[:, None]
    >>> half = np.arange(12) % 2 == 0
    >>> result = extract(x, strings, offsets, ("a",), train=half, validation=~half, ks=[1, 3])
    >>> result.k, len(result.automaton.states)
    (3, 3)
    >>> extract(x, strings, offsets, ("a",), train=half, validation=~half, ks=3,
    ...         method="agglomerative").k
    3
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    string_of = np.repeat(np.arange(len(strings)), np.diff(offsets))
    train_rows = np.asarray(train, dtype=bool)[string_of]
    following = next_codes(strings, alphabet)
    held_out = [s for s, keep in zip(strings, validation, strict=True) if keep]
    candidates = [ks] if isinstance(ks, int) else sorted(set(ks))
    rng = make_rng(seed)
    limit = MAX_FIT_ROWS if method == "kmeans" else MAX_TREE_ROWS
    fit_rows = np.flatnonzero(train_rows)
    if len(fit_rows) > limit:
        fit_rows = np.sort(rng.choice(fit_rows, limit, replace=False))
    tree = ward_tree(x[fit_rows]) if method == "agglomerative" else None
    fitted: dict[int, tuple] = {}
    for k in candidates:
        clustering = (kmeans(x[fit_rows], k, seed=rng) if tree is None
                      else cut_tree(x[fit_rows], tree, k))
        automaton, determinism = build_pdfa(clustering.assign(x), offsets, following, alphabet,
                                            len(clustering.centers), rows=train_rows,
                                            distributions=distributions, smoothing=smoothing)
        score = bits_per_symbol(automaton, held_out) if len(candidates) > 1 else math.nan
        fitted[k] = (automaton, clustering, determinism, score)
        if progress:
            progress(f"k = {k}: {score:.4f} bits per symbol on the validation strings")
    scores = {k: value[3] for k, value in fitted.items()}
    best = min(scores.values()) if len(candidates) > 1 else math.nan
    chosen = next((k for k in scores if scores[k] <= best + tolerance), candidates[0])
    automaton, clustering, determinism, _ = fitted[chosen]
    return Extraction(automaton=automaton, k=len(clustering.centers), clustering=clustering,
                      method=method, determinism=determinism, validation=scores)
