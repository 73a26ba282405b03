"""Exact quantities of the distribution a probabilistic automaton defines.

All of them go through the expected number of visits of each state, v = α (I − M)⁻¹, where α is
the start distribution and M[s, t] = Σ_σ P(σ, t | s): a sparse system, solved once per automaton
(:func:`expected_visits` remembers its answer) by a sparse LU when small and by preconditioned
GMRES when large, its residual checked (benchmarks/bench_scaling.py times it up to 50k states).
"""

from __future__ import annotations

import heapq
import warnings
from collections import deque

import numpy as np
import scipy.sparse as sparse
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as sparse_linalg

from .core import Automaton, dense_transition, derived, reachable_states, symbol_matrix
from .errors import AutomatonError, SizeLimitError
from .probability import _require_probabilistic

DIRECT_STATES = 1_000  # up to here a visits system is solved by a sparse LU, above by GMRES
MAX_SOLVE_STATES = 5_000_000  # GMRES keeps RESTART vectors of this length (2 GB at the limit)
RESTART, MAX_RESTARTS = 50, 20  # at most 1000 GMRES iterations
RESIDUAL = 1e-12  # accepted ‖α − v (I − M)‖₁, relative to max(1, ‖v‖₁)
FALLBACK_STATES = 8_000  # a sparse LU when GMRES stalls: at worst dense, 1 GB at this size


def state_matrix(a: Automaton) -> sparse.csr_matrix:
    """M[s, t] = Σ_σ P(σ, t | s) as a sparse (S, S) matrix."""
    n_states = len(a.states)
    if a.is_deterministic:
        source, symbol = np.nonzero((a.next_state >= 0) & (a.symbol_prob > 0))
        return sparse.csr_matrix((a.symbol_prob[source, symbol],
                                  (source, a.next_state[source, symbol])),
                                 shape=(n_states, n_states))
    return sparse.csr_matrix(a.transition.sum(axis=0))


def solve_visits(moves: sparse.spmatrix, start: np.ndarray, *,
                 direct_states: int = DIRECT_STATES) -> np.ndarray:
    """v = start (I − M)⁻¹ for the sparse (n, n) matrix M = ``moves``: expected visits.

    Only the states reachable from ``start`` take part (the others get 0). Up to
    ``direct_states`` of them are solved by a sparse LU; more by GMRES, preconditioned by one
    Gauss–Seidel sweep in an order where most moves go forward (strongly connected components
    in topological order, breadth first inside): exact on acyclic automata, a few iterations on
    most others; where it stalls (lattice-like moves and long strings), by a sparse LU again up
    to 8000 states, else the solve is refused. The answer is checked: finite, non-negative, and with a residual
    ‖start − v (I − M)‖₁ ≤ 1e-12 · max(1, ‖v‖₁), which bounds the error of any probability
    computed from it (Σ_s v_s f_s included); otherwise :class:`AutomatonError` says so.

    >>> import scipy.sparse as sparse
    >>> solve_visits(sparse.csr_matrix([[0.5, 0.25], [0.0, 0.0]]), np.array([1.0, 0.0])).tolist()
    [2.0, 0.5]
    """
    n = moves.shape[0]
    order = _forward_order(sparse.csr_matrix(moves), start)
    if len(order) > MAX_SOLVE_STATES:
        raise SizeLimitError(f"{len(order)} reachable states: over the limit of "
                             f"{MAX_SOLVE_STATES} for an exact solve")
    inside = sparse.csr_matrix(moves)[order][:, order]
    system = (sparse.identity(len(order), format="csr") - inside.T).tocsr()  # (n, n) row = state
    right = np.asarray(start, dtype=float)[order]
    if len(order) <= direct_states:
        solved = _sparse_lu(system, right)
    else:
        solved = _gmres(system, right)
        if len(order) <= FALLBACK_STATES and not _accurate(system, solved, right):
            solved = _sparse_lu(system, right)  # GMRES stalled (lattice-like moves)
    _check_solution(system, solved, right)
    visits = np.zeros(n)
    visits[order] = solved
    return visits


def _forward_order(moves: sparse.csr_matrix, start: np.ndarray) -> np.ndarray:
    """The states reachable from ``start`` (the (n,) start weights), in an order where most
    moves go forward: components in topological order, breadth first inside each."""
    n = moves.shape[0]
    root = sparse.csr_matrix((np.asarray(start) > 0).astype(float)[None, :])
    graph = sparse.vstack([sparse.hstack([moves, sparse.csr_matrix((n, 1))]),
                           sparse.hstack([root, sparse.csr_matrix((1, 1))])]).tocsr()
    graph.eliminate_zeros()
    found = csgraph.breadth_first_order(graph, n, directed=True, return_predecessors=False)[1:]
    rank = np.empty(n + 1, dtype=np.int64)
    rank[found] = np.arange(len(found))
    _, component = csgraph.connected_components(graph, directed=True, connection="strong")
    # scipy numbers the components sinks first: a descending label puts sources first
    return found[np.lexsort((rank[found], -component[found]))]


def _sparse_lu(system: sparse.csr_matrix, right: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sparse_linalg.MatrixRankWarning)
        return np.atleast_1d(sparse_linalg.spsolve(system.tocsc(), right))


def _gmres(system: sparse.csr_matrix, right: np.ndarray) -> np.ndarray:
    """GMRES on the system, with its lower triangle (a Gauss–Seidel sweep) as preconditioner."""
    lower = sparse.tril(system, format="csc")
    if np.any(lower.diagonal() <= 0):  # a self-loop of probability 1: never stops
        raise AutomatonError("the expected visits are infinite: a reachable state loops on "
                             "itself with probability 1 or more, so the strings never stop")
    sweep = sparse_linalg.splu(lower, permc_spec="NATURAL", diag_pivot_thresh=0.0)
    n = len(right)
    preconditioner = sparse_linalg.LinearOperator((n, n), matvec=sweep.solve, dtype=float)
    solved, _ = sparse_linalg.gmres(system, right, M=preconditioner, rtol=1e-15, atol=0.0,
                                    restart=RESTART, maxiter=MAX_RESTARTS)
    return solved


def _accurate(system: sparse.csr_matrix, solved: np.ndarray, right: np.ndarray) -> bool:
    """Whether ‖right − system · solved‖₁ ≤ RESIDUAL · max(1, ‖solved‖₁)."""
    residual = np.abs(right - system @ solved).sum()
    return bool(residual <= RESIDUAL * max(1.0, np.abs(solved).sum()))


def _check_solution(system: sparse.csr_matrix, solved: np.ndarray, right: np.ndarray) -> None:
    if not np.all(np.isfinite(solved)):
        raise AutomatonError("the expected visits are infinite: some reachable state never stops")
    scale = max(1.0, float(np.abs(solved).sum()))
    if not _accurate(system, solved, right):
        residual = float(np.abs(right - system @ solved).sum())
        raise AutomatonError(f"the expected visits did not converge (residual {residual:.2g} "
                             f"for a total of {scale:.3g} visits on {len(solved)} states; no "
                             f"direct solve above {FALLBACK_STATES}): the strings are too long "
                             "to analyse exactly")
    if solved.min() < -RESIDUAL * scale:
        raise AutomatonError("the expected visits are negative: the probabilities leaving some "
                             "states sum to more than 1, so the strings never stop")


def expected_visits(a: Automaton) -> np.ndarray:
    """Expected number of times each state is visited by a string (the start counts once).

    Solved once per automaton (:func:`solve_visits`) and kept with it, so the quantities below
    share one solve. The array is read-only.

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> expected_visits(a).round(12).tolist()
    [1.0, 2.0]
    """
    _require_probabilistic(a)
    return derived(a, _visits)


def _visits(a: Automaton) -> np.ndarray:
    visits = solve_visits(state_matrix(a), a.initial)
    visits.flags.writeable = False
    return visits


TOTAL_TOLERANCE = 1e-6  # |Σₓ P(x) − 1| accepted by check_distribution
NEGLIGIBLE_EXIT = 1e-9  # a cycle that each state leaves with less probability never stops
MAX_EXPECTED_LENGTH = 1e9


def check_distribution(a: Automaton, *, tolerance: float = TOTAL_TOLERANCE) -> None:
    """Raise :class:`AutomatonError`, naming the state at fault, unless the probabilistic
    automaton ``a`` is a distribution over finite strings as a whole.

    Each state's sum is checked on construction (to 1e-6), but along a long string the
    shortfalls add up. Checked here: no reachable cycle of states keeps more than 1 − 1e-9 of
    the probability inside in each of its states (stopping impossible or numerically
    negligible), the expected length is finite (at most 1e9), and the total probability
    Σₓ P(x) = Σ_s visits(s) · final(s) is 1 within ``tolerance``.

    >>> leaky = Automaton(kind="pdfa", alphabet=("a",), states=("s",), initial=[1.0],
    ...                   final=[1e-9], next_state=[[0]], symbol_prob=[[0.999999]])
    >>> check_distribution(leaky)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    automata.errors.AutomatonError: state 's': the strings' total probability is 0.001, not 1 ...
    """
    _require_probabilistic(a)
    _check_cycles(a)
    visits = expected_visits(a)
    sums = symbol_matrix(a).sum(axis=1) + a.final
    length = float(visits @ (sums - a.final))
    if length > MAX_EXPECTED_LENGTH:
        s = int(np.argmax(visits))
        raise AutomatonError(f"state {a.states[s]!r}: the strings pass here {visits[s]:.3g} "
                             f"times on average (expected length {length:.3g}, limit "
                             f"{MAX_EXPECTED_LENGTH:.0e}): stopping is numerically negligible",
                             state=a.states[s])
    total = float(visits @ a.final)
    if abs(total - 1) > tolerance:
        lost = visits * (1 - sums)  # Σ_s lost(s) = 1 − total
        s = int(np.argmax(np.abs(lost)))
        raise AutomatonError(
            f"state {a.states[s]!r}: the strings' total probability is {total:.9g}, not 1 "
            f"(tolerance {tolerance:g}): this state's sum {sums[s]:.9g}, met {visits[s]:.3g} "
            f"times per string, {'loses' if lost[s] > 0 else 'adds'} {abs(lost[s]):.3g}; make "
            "its probabilities sum to 1, or write normalize: true", state=a.states[s])


def _check_cycles(a: Automaton) -> None:
    """Refuse a reachable strongly connected group of states that every one of its states
    leaves (by stopping or by a move out) with probability below NEGLIGIBLE_EXIT."""
    moves = state_matrix(a).tocoo()
    _, group = csgraph.connected_components(moves, directed=True, connection="strong")
    inside = group[moves.row] == group[moves.col]
    kept = np.bincount(moves.row[inside], weights=moves.data[inside], minlength=len(a.states))
    least = np.full(group.max() + 1, np.inf)
    np.minimum.at(least, group, kept)
    closed = reachable_states(a) & (least[group] > 1 - NEGLIGIBLE_EXIT)
    for s in np.flatnonzero(closed)[:1]:
        size = int(np.count_nonzero(group == group[s]))
        how = (f"it moves back to itself with probability {kept[s]:.12g}" if size == 1 else
               f"each of the {size} states of its cycle keeps at least "
               f"{least[group[s]]:.12g} of the probability among them")
        raise AutomatonError(f"state {a.states[s]!r}: stopping is impossible or numerically "
                             f"negligible here ({how}), so the expected length is infinite",
                             state=a.states[s])


def total_probability(a: Automaton) -> float:
    """Σ over all finite strings of P(x): 1 for a consistent automaton.

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> round(total_probability(a), 12)
    1.0
    """
    return float(expected_visits(a) @ a.final)


def expected_length(a: Automaton) -> float:
    """The mean number of symbols of a string (the end of string not counted).

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> round(expected_length(a), 12)
    2.0
    """
    return float(expected_visits(a) @ symbol_matrix(a).sum(axis=1))


MAX_PRODUCT_STATES = 250_000  # pair states of a product automaton (its linear system)


def _row_entropy(rows: np.ndarray) -> np.ndarray:
    """−Σ p log₂ p of each row, with 0 log 0 = 0."""
    safe = np.where(rows > 0, rows, 1.0)
    return -(rows * np.log2(safe)).sum(axis=1)


def _require_deterministic(a: Automaton, what: str) -> None:
    _require_probabilistic(a)
    if not a.is_deterministic:
        raise AutomatonError(f"{what} is exact for deterministic automata (pdfa, markov) only; "
                             f"this is a {a.kind} (estimate it by sampling: "
                             "automata.analysis.entropy_estimate)")


def entropy(a: Automaton) -> float:
    """The Shannon entropy −Σₓ P(x) log₂ P(x) of the string distribution, in bits (exact).

    Each string is one path of a deterministic automaton, so the entropy is the expected sum of
    the entropies of the next-symbol distributions (end of string included) along the path:
    H = Σ_s visits(s) · H(row s).

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> entropy(a)  # P(xⁿ) = 2⁻ⁿ for n ≥ 1
    2.0
    """
    _require_deterministic(a, "the entropy")
    rows = np.column_stack([a.symbol_prob, a.final])
    return float(expected_visits(a) @ _row_entropy(rows))


def entropy_rate(a: Automaton) -> float:
    """Bits per symbol, end of string included: entropy / (expected length + 1).

    This is the limit of Σᵢ −log₂ P(xᵢ) / Σᵢ (|xᵢ| + 1) over sampled strings, the floor that a
    language model's cross-entropy per symbol approaches.

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> round(entropy_rate(a), 12)
    0.666666666667
    """
    _require_deterministic(a, "the entropy rate")
    visits = expected_visits(a)
    rows = np.column_stack([a.symbol_prob, a.final])
    return float(visits @ _row_entropy(rows) / (visits @ rows.sum(axis=1)))


def entropy_estimate(a: Automaton, n: int = 10_000, *, seed=None) -> tuple[float, float]:
    """Monte-Carlo entropy in bits, −mean log₂ P(x) over ``n`` sampled strings, and its standard
    error: for any probabilistic kind (the exact value needs a deterministic automaton).

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> mean, error = entropy_estimate(a, 4000, seed=0)
    >>> abs(mean - 2.0) < 4 * error
    True
    """
    from .probability import log_probability
    from .sampling import sample

    _require_probabilistic(a)
    bits = -np.asarray(log_probability(a, list(sample(a, n, seed=seed, max_length=None)))) / np.log(2)
    return float(bits.mean()), float(bits.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")


def _same_alphabet(a: Automaton, b: Automaton) -> None:
    _require_probabilistic(a)
    _require_probabilistic(b)
    if a.alphabet != b.alphabet:
        raise AutomatonError(f"the alphabets differ: {list(a.alphabet)} and {list(b.alphabet)}")


def pair_graph(a: Automaton, b: Automaton, follow: np.ndarray | None = None):
    """The pair states (s, t) of two deterministic automata reachable from (start, start).

    A symbol is followed from (s, t) when both give it a positive probability, or, with
    ``follow`` (an (S_a, A) boolean mask), when ``follow[s, σ]`` holds. Returns ``(pairs,
    source, symbol, target)``: the (P, 2) pair states in the order found (the start first) and
    the moves between them as indices into ``pairs``. A move that ``follow`` allows but ``b``
    lacks gets target -1.
    """
    n_b = len(b.states)
    if follow is None:
        follow = a.symbol_prob > 0
        both = True
    else:
        both = False
    index = {a.start * n_b + b.start: 0}
    codes = [a.start * n_b + b.start]
    frontier = np.array(codes, dtype=np.int64)
    sources, symbols, targets = [], [], []
    while frontier.size:
        s, t = frontier // n_b, frontier % n_b
        ok = follow[s] & ((b.symbol_prob[t] > 0) if both else True)
        rows, sym = np.nonzero(ok)
        s_next, t_next = a.next_state[s[rows], sym], b.next_state[t[rows], sym]
        alive = (t_next >= 0) & (b.symbol_prob[t[rows], sym] > 0)
        new_codes = np.where(alive, s_next * n_b + np.maximum(t_next, 0), -1)
        found = []
        for code in np.unique(new_codes[new_codes >= 0]).tolist():
            if code not in index:
                if len(index) >= MAX_PRODUCT_STATES:
                    raise SizeLimitError(f"the product automaton has more than "
                                         f"{MAX_PRODUCT_STATES} reachable pair states")
                index[code] = len(codes)
                codes.append(code)
                found.append(code)
        sources.append(np.array([index[c] for c in frontier[rows].tolist()], dtype=np.int64))
        symbols.append(sym)
        targets.append(np.array([index[c] if c >= 0 else -1 for c in new_codes.tolist()],
                                dtype=np.int64))
        frontier = np.array(found, dtype=np.int64)
    pairs = np.array(codes, dtype=np.int64)
    pairs = np.column_stack([pairs // n_b, pairs % n_b])
    return pairs, _join(sources), _join(symbols), _join(targets)


def _join(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _solve_visits(n: int, source: np.ndarray, target: np.ndarray, weight: np.ndarray,
                  start: np.ndarray) -> np.ndarray:
    """v = start (I − M)⁻¹ for the sparse M[source, target] += weight."""
    return solve_visits(sparse.csr_matrix((weight, (source, target)), shape=(n, n)), start)


def inner_product(a: Automaton, b: Automaton) -> float:
    """Σₓ P(x) Q(x), exactly, through the product automaton.

    Two deterministic automata: the reachable pair states only (sparse). Otherwise the
    Kronecker product Σ_σ T_a[σ] ⊗ T_b[σ], refused with :class:`SizeLimitError` when it would
    be too large.

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> round(inner_product(a, a), 12)  # Σ_{n≥1} 4⁻ⁿ
    0.333333333333
    """
    _same_alphabet(a, b)
    if a.is_deterministic and b.is_deterministic:
        pairs, source, symbol, target = pair_graph(a, b)
        s, t = pairs[source, 0], pairs[source, 1]
        weight = a.symbol_prob[s, symbol] * b.symbol_prob[t, symbol]
        start = np.zeros(len(pairs))
        start[0] = 1.0
        visits = _solve_visits(len(pairs), source, target, weight, start)
        return float(visits @ (a.final[pairs[:, 0]] * b.final[pairs[:, 1]]))
    return _kronecker_inner_product(a, b)


DENSE_PRODUCT_STATES = 1200  # up to here the Kronecker system is solved densely (LU)


def _kronecker_inner_product(a: Automaton, b: Automaton) -> float:
    """αₐ ⊗ α_b · (I − Σ_σ T_a[σ] ⊗ T_b[σ])⁻¹ · fₐ ⊗ f_b.

    Small products are solved densely; larger ones with GMRES on the matrix-free operator
    W ↦ W − Σ_σ T_a[σ] W T_b[σ]ᵀ on (S_a, S_b) matrices, so the (S_a S_b)² matrix never exists.
    """
    ta, tb = dense_transition(a), dense_transition(b)
    n_a, n_b = len(a.states), len(b.states)
    n = n_a * n_b
    if n > MAX_PRODUCT_STATES:
        raise SizeLimitError(f"the product of a {n_a}-state {a.kind} and a {n_b}-state {b.kind} "
                             f"has {n} states, over the limit of {MAX_PRODUCT_STATES}")
    stop = np.kron(a.final, b.final)
    if n <= DENSE_PRODUCT_STATES:
        moves = sum(np.kron(x, y) for x, y in zip(ta, tb, strict=True))
        backward = np.linalg.solve(np.identity(n) - moves, stop)
        return float(np.kron(a.initial, b.initial) @ backward)

    def apply(w: np.ndarray) -> np.ndarray:
        matrix = w.reshape(n_a, n_b)
        moved = sum(x @ matrix @ y.T for x, y in zip(ta, tb, strict=True))
        return (matrix - moved).ravel()

    operator = sparse_linalg.LinearOperator((n, n), matvec=apply, dtype=float)
    backward, info = sparse_linalg.gmres(operator, stop, rtol=1e-14, atol=1e-300, restart=200,
                                         maxiter=50)
    residual = np.abs(apply(backward) - stop).max()
    if info != 0 and residual > 1e-10 * np.abs(stop).max():
        raise AutomatonError(f"the product system did not converge (residual {residual:.2g})")
    return float(a.initial @ backward.reshape(n_a, n_b) @ b.initial)


def l2_distance(a: Automaton, b: Automaton) -> float:
    """(Σₓ (P(x) − Q(x))²)^½ = (⟨P,P⟩ + ⟨Q,Q⟩ − 2⟨P,Q⟩)^½, exactly up to rounding (about 1e-8
    for equal distributions, as the square root of a cancelled difference).

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> b = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {$: 1.0}}")
    >>> round(l2_distance(a, b) ** 2, 12)  # (1 − ½)² + Σ_{n≥2} 4⁻ⁿ
    0.333333333333
    """
    squared = inner_product(a, a) + inner_product(b, b) - 2 * inner_product(a, b)
    return float(np.sqrt(max(squared, 0.0)))


def kl_divergence(p: Automaton, q: Automaton) -> float:
    """KL(P ‖ Q) = Σₓ P(x) log₂ (P(x) / Q(x)) in bits, exactly, for deterministic P and Q.

    Walks the pair states that P can reach: the divergence is Σ visits(s, t) · KL(row s ‖ row t)
    over next-symbol distributions (end included). It is ``inf`` when Q gives probability 0 to a
    string that P can produce (see :func:`kl_witness` for one).

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> b = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.75, $: 0.25}}")
    >>> round(kl_divergence(a, b), 12)  # 2 visits × KL((½, ½) ‖ (¾, ¼))
    0.415037499279
    """
    _same_alphabet(p, q)
    for x in (p, q):
        _require_deterministic(x, "the KL divergence")
    pairs, source, symbol, target = pair_graph(p, q, follow=p.symbol_prob > 0)
    if np.any(target < 0) or np.any((p.final[pairs[:, 0]] > 0) & (q.final[pairs[:, 1]] == 0)):
        return float("inf")
    start = np.zeros(len(pairs))
    start[0] = 1.0
    visits = _solve_visits(len(pairs), source, target, p.symbol_prob[pairs[source, 0], symbol],
                           start)
    rows_p = np.column_stack([p.symbol_prob, p.final])[pairs[:, 0]]
    rows_q = np.column_stack([q.symbol_prob, q.final])[pairs[:, 1]]
    positive = rows_p > 0
    ratio = np.log2(np.where(positive, rows_p, 1.0) / np.where(positive, rows_q, 1.0))
    return float(max(visits @ (rows_p * ratio).sum(axis=1), 0.0))


def kl_witness(p: Automaton, q: Automaton) -> tuple[str, ...] | None:
    """A shortest string with P(x) > 0 and Q(x) = 0 (deterministic P and Q), or None.

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> b = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {$: 1.0}}")
    >>> kl_witness(a, b)
    ('x', 'x')
    """
    _same_alphabet(p, q)
    for x in (p, q):
        _require_deterministic(x, "the KL divergence")
    start = (p.start, q.start)
    words: dict[tuple[int, int], tuple[str, ...]] = {start: ()}
    queue = deque([start])
    while queue:
        s, t = queue.popleft()
        if p.final[s] > 0 and q.final[t] == 0:
            return words[s, t]
        for i in np.flatnonzero(p.symbol_prob[s] > 0):
            if q.next_state[t, i] < 0 or q.symbol_prob[t, i] == 0:
                return _shortest_completion(p, int(p.next_state[s, i]), words[s, t] +
                                            (p.alphabet[i],))
            pair = (int(p.next_state[s, i]), int(q.next_state[t, i]))
            if pair not in words:
                words[pair] = words[s, t] + (p.alphabet[i],)
                queue.append(pair)
    return None


def _shortest_completion(a: Automaton, state: int, prefix: tuple[str, ...]) -> tuple[str, ...]:
    """``prefix`` followed by a shortest suffix that ``a`` can stop after, from ``state``."""
    words = {state: prefix}
    queue = deque([state])
    while queue:
        s = queue.popleft()
        if a.final[s] > 0:
            return words[s]
        for i in np.flatnonzero(a.symbol_prob[s] > 0):
            target = int(a.next_state[s, i])
            if target not in words:
                words[target] = words[s] + (a.alphabet[i],)
                queue.append(target)
    raise AutomatonError("unreachable: every reachable state of a valid automaton can stop")


def most_probable_string(a: Automaton, *,
                         max_expansions: int = 200_000) -> tuple[tuple[str, ...], float]:
    """The most probable string and its probability.

    Deterministic kinds: exact and polynomial, a shortest path (Dijkstra on −log p) from the start
    to the end of the string, since each string is one path. Other kinds: exact best-first search
    over strings (:func:`automata.complete`), which raises :class:`SizeLimitError` after
    ``max_expansions`` expansions.

    >>> import automata as am
    >>> a = am.loads("kind: markov\\nalphabet: [x, y]\\nstart: {x: 1.0}\\nnext: {x: {y: 0.7, $: 0.3}, y: {$: 1}}")
    >>> most_probable_string(a)
    (('x', 'y'), 0.7)
    """
    _require_probabilistic(a)
    if not a.is_deterministic:
        from .search import complete

        found = complete(a, "", 1, max_expansions=max_expansions)
        if found.cut or not found:
            raise SizeLimitError(f"the search for the most probable string stopped after "
                                 f"{max_expansions} expansions; raise max_expansions")
        [(best, probability)] = found
        return best, probability
    with np.errstate(divide="ignore"):
        cost = -np.log(a.symbol_prob)
        stop = -np.log(a.final)
    done = np.zeros(len(a.states), dtype=bool)
    best: dict[int, tuple[float, tuple[str, ...]]] = {a.start: (0.0, ())}
    heap = [(0.0, 0, a.start, False)]  # (cost, tie-breaker, state, stopped)
    counter = 1
    while heap:
        value, _, s, stopped = heapq.heappop(heap)
        if stopped:
            return best[s][1], float(np.exp(-value))
        if done[s]:
            continue
        done[s] = True
        if np.isfinite(stop[s]):
            heapq.heappush(heap, (value + stop[s], counter, s, True))
            counter += 1
        for i in np.flatnonzero(np.isfinite(cost[s])):
            t, total = int(a.next_state[s, i]), value + cost[s, i]
            if not done[t] and (t not in best or total < best[t][0]):
                best[t] = (total, best[s][1] + (a.alphabet[i],))
                heapq.heappush(heap, (total, counter, t, False))
                counter += 1
    raise AutomatonError("unreachable: a valid probabilistic automaton stops somewhere")
