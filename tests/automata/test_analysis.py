"""Exact analysis against brute-force enumeration, hand-worked values and Monte Carlo."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sparse
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import all_strings, markov_chains, over_one_alphabet, pdfas, probabilistic_automata

import automata as am
from automata import analysis
from automata.analysis import (
    TOTAL_TOLERANCE,
    check_distribution,
    entropy_estimate,
    solve_visits,
    state_matrix,
)
from automata.limits import check_dense_size

GEOMETRIC = am.loads("kind: markov\nalphabet: [x]\nstart: {x: 1.0}\nnext: {x: {x: 0.5, $: 0.5}}")
LENGTH = 7  # brute-force enumeration length


def brute(a, length=LENGTH):
    """{string: P(string)} for every string up to ``length``, and the mass beyond it."""
    strings = all_strings(a.alphabet, length)
    probabilities = dict(zip(strings, am.probability(a, strings), strict=True))
    return probabilities, max(0.0, 1.0 - sum(probabilities.values()))


def test_hand_worked_values():
    assert am.entropy(GEOMETRIC) == pytest.approx(2.0)  # Σ n 2⁻ⁿ
    assert am.entropy_rate(GEOMETRIC) == pytest.approx(2 / 3)  # 2 bits / (E|x| + 1 = 3)
    assert am.inner_product(GEOMETRIC, GEOMETRIC) == pytest.approx(1 / 3)
    assert am.most_probable_string(GEOMETRIC) == (("x",), 0.5)


def small(n: int | None = None) -> st.SearchStrategy[am.Automaton]:
    """Small probabilistic automata (over ``n`` symbols when given) for enumeration."""
    return probabilistic_automata(max_states=3, min_symbols=n or 1, max_symbols=n or 2)


def test_different_alphabets_are_an_error():
    other = am.loads("kind: markov\nalphabet: [y]\nstart: {y: 1.0}\nnext: {y: {$: 1.0}}")
    for distance in (am.inner_product, am.l2_distance, am.kl_divergence):
        with pytest.raises(am.AutomatonError, match="alphabets differ"):
            distance(GEOMETRIC, other)


@given(over_one_alphabet(small(), small))
@settings(max_examples=40)
def test_inner_product_matches_enumeration_plus_tail_bound(pair):
    a, b = pair
    pa, tail_a = brute(a)
    pb, tail_b = brute(b)
    enumerated = sum(pa[x] * pb[x] for x in pa)
    # Σ_{|x|>L} P(x) Q(x) ≤ min(P(|x|>L), Q(|x|>L)) since both are ≤ 1
    assert enumerated - 1e-9 <= am.inner_product(a, b) <= enumerated + min(tail_a, tail_b) + 1e-9
    assert am.inner_product(a, b) == pytest.approx(am.inner_product(b, a), abs=1e-12)


@given(over_one_alphabet(small(), small, small))
@settings(max_examples=30)
def test_l2_is_a_metric(triple):
    a, b, c = triple
    assert am.l2_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    ab, bc, ac = am.l2_distance(a, b), am.l2_distance(b, c), am.l2_distance(a, c)
    assert ab == pytest.approx(am.l2_distance(b, a), abs=1e-9)
    assert ac <= ab + bc + 1e-6


@given(over_one_alphabet(pdfas(max_states=3, max_symbols=2),
                         lambda n: pdfas(max_states=3, min_symbols=n, max_symbols=n)))
@settings(max_examples=40)
def test_l2_and_kl_match_enumeration(pair):
    a, b = pair
    pa, tail_a = brute(a, 8)
    pb, tail_b = brute(b, 8)
    squared = sum((pa[x] - pb[x]) ** 2 for x in pa)
    assert squared - 1e-9 <= am.l2_distance(a, b) ** 2 <= squared + tail_a + tail_b + 1e-6
    kl = am.kl_divergence(a, b)
    assert kl >= 0 and am.kl_divergence(a, a) == pytest.approx(0.0, abs=1e-9)
    witness = am.kl_witness(a, b)
    if math.isinf(kl):
        assert am.probability(a, witness) > 0 and am.probability(b, witness) == 0
    else:
        assert witness is None
        if tail_a < 1e-3:  # the enumerated strings hold nearly all of P
            partial = sum(p * math.log2(p / pb[x]) for x, p in pa.items() if p > 0)
            assert kl == pytest.approx(partial, abs=0.05)


@given(pdfas(max_states=4, max_symbols=2), st.data())
@settings(max_examples=30)
def test_equivalence_agrees_with_l2(a, data):
    copy = am.from_dict(am.to_dict(a))
    assert am.equivalent(a, copy) and am.l2_distance(a, copy) < 1e-6
    n = len(a.alphabet)
    other = data.draw(pdfas(max_states=4, min_symbols=n, max_symbols=n))
    same = am.equivalent(a, other, atol=1e-9)
    assert same == (am.l2_distance(a, other) < 1e-6)


def test_kl_infinite_when_q_gives_zero():
    p = am.loads("kind: markov\nalphabet: [x, y]\nstart: {x: 1.0}\n"
                 "next: {x: {y: 0.5, $: 0.5}, y: {$: 1.0}}")
    q = am.loads("kind: markov\nalphabet: [x, y]\nstart: {x: 1.0}\n"
                 "next: {x: {$: 1.0}, y: {$: 1.0}}")
    assert math.isinf(am.kl_divergence(p, q)) and am.kl_witness(p, q) == ("x", "y")
    assert am.kl_divergence(q, p) == pytest.approx(1.0)  # log₂(1 / 0.5) on the one string
    with pytest.raises(am.AutomatonError, match="deterministic"):
        am.kl_divergence(am.loads(_PFA), am.loads(_PFA))


_PFA = """kind: pfa
alphabet: [a, b]
start: {q0: 0.6, q1: 0.4}
states:
  q0: {final: 0.2, next: {a: {q0: 0.3, q1: 0.3}, b: {q1: 0.2}}}
  q1: {final: 0.5, next: {b: {q0: 0.5}}}
"""


@given(pdfas(max_states=4, max_symbols=3) | markov_chains(max_symbols=3))
@settings(max_examples=30)
def test_entropy_against_monte_carlo_and_enumeration(a):
    exact = am.entropy(a)
    mean, error = entropy_estimate(a, 3000, seed=7)
    assert abs(mean - exact) <= 5 * error + 1e-9
    pa, tail = brute(a, 6)
    enumerated = -sum(p * math.log2(p) for p in pa.values() if p > 0)
    assert enumerated <= exact + 1e-9
    rate = am.entropy_rate(a)
    assert rate == pytest.approx(exact / (am.expected_length(a) + 1))


@given(probabilistic_automata(max_states=4, max_symbols=2))
@settings(max_examples=40)
def test_most_probable_string_beats_every_enumerated_string(a):
    best, p = am.most_probable_string(a)
    assert am.probability(a, best) == pytest.approx(p)
    pa, _ = brute(a, 6)
    assert max(pa.values()) <= p + 1e-12


def test_entropy_needs_a_deterministic_kind_and_size_guards():
    with pytest.raises(am.AutomatonError, match="deterministic"):
        am.entropy(am.loads(_PFA))
    with pytest.raises(am.SizeLimitError):
        check_dense_size("pfa", 20, 50_000)
    big = am.Automaton(kind="pfa", alphabet=("a",), states=tuple(map(str, range(600))),
                       initial=np.eye(600)[0], final=np.full(600, 0.5),
                       transition=np.full((1, 600, 600), 0.5 / 600))
    with pytest.raises(am.SizeLimitError, match="product"):
        am.inner_product(big, big)


def test_pfa_product_matches_dense_kronecker():
    rng = np.random.default_rng(3)
    n, n_symbols = 40, 3  # 1600 product states: the matrix-free (GMRES) path
    weights = rng.random((n_symbols + 1, n, n)) * (rng.random((n_symbols + 1, n, n)) < 0.2)
    weights[:, np.arange(n), (np.arange(n) + 1) % n] += 0.1
    totals = weights[:n_symbols].sum(axis=(0, 2)) + weights[n_symbols].sum(axis=1)
    a = am.Automaton(kind="pfa", alphabet=("a", "b", "c"), states=tuple(map(str, range(n))),
                     initial=np.eye(n)[0], final=weights[n_symbols].sum(axis=1) / totals,
                     transition=weights[:n_symbols] / totals[None, :, None])
    moves = sum(np.kron(t, t) for t in a.transition)
    dense = np.kron(a.initial, a.initial) @ np.linalg.solve(np.identity(n * n) - moves,
                                                            np.kron(a.final, a.final))
    assert am.inner_product(a, a) == pytest.approx(dense, rel=1e-10)


def test_mixed_kinds_use_the_kronecker_product():
    pfa, pdfa = am.loads(_PFA), am.as_probabilistic(am.loads(
        "kind: dfa\nalphabet: [a, b]\nstart: s\nstates: {s: {final: true, next: {a: s, b: s}}}"))
    pa, tail_a = brute(pfa, 10)
    pb, _ = brute(pdfa, 10)
    enumerated = sum(pa[x] * pb[x] for x in pa)
    assert enumerated - 1e-12 <= am.inner_product(pfa, pdfa) <= enumerated + tail_a + 1e-12
    assert list(itertools.islice(pa, 1)) == [()]


@given(probabilistic_automata(max_states=6, max_symbols=3))
@settings(max_examples=60)
def test_iterative_visits_match_a_dense_solve(a):
    moves = state_matrix(a).toarray()
    reached = am.reachable_states(a)
    inside = moves[np.ix_(reached, reached)]
    dense = np.zeros(len(a.states))
    dense[reached] = np.linalg.solve(np.identity(len(inside)) - inside.T, a.initial[reached])
    for direct_states in (0, 1000):  # GMRES, sparse LU
        solved = solve_visits(state_matrix(a), a.initial, direct_states=direct_states)
        assert solved == pytest.approx(dense, rel=1e-10, abs=1e-12)


def _ring(n: int, stay: float, closed: bool) -> sparse.csr_matrix:
    """States 0 → 1 → … → n−1 (→ 0 when ``closed``), each move with probability ``stay``,
    numbered in a shuffled order so that the solver has to find the order itself."""
    label = np.random.default_rng(0).permutation(n)
    source = np.arange(n if closed else n - 1)
    return sparse.csr_matrix((np.full(len(source), stay), (label[source], label[(source + 1) % n])),
                             shape=(n, n)), label


@pytest.mark.parametrize("closed", [False, True])
def test_long_paths_and_cycles_converge_exactly(closed):
    # 4000 states visited in turn: plain GMRES stalls here, the forward sweep makes it exact
    n, stay = 4000, 0.9995
    moves, label = _ring(n, stay, closed)
    start = np.zeros(n)
    start[label[0]] = 1.0
    visits = solve_visits(moves, start, direct_states=0)[label]
    expected = stay ** np.arange(n) / (1 - stay ** n if closed else 1)
    assert visits == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("direct_states", [0, 1000])
@pytest.mark.parametrize("loop", [1.0, 1.5])
def test_visits_that_never_stop_are_refused(direct_states, loop):
    moves = sparse.csr_matrix([[0.0, 0.5], [0.0, loop]])  # state 1 keeps (or gains) its mass
    with pytest.raises(am.AutomatonError, match="never stop"):
        solve_visits(moves, np.array([1.0, 0.0]), direct_states=direct_states)


def test_unreachable_states_take_no_part():
    moves = sparse.csr_matrix([[0.5, 0.0], [0.0, 1.0]])  # state 1 loops forever, unreached
    assert solve_visits(moves, np.array([1.0, 0.0])).tolist() == [2.0, 0.0]


def test_visits_are_solved_once_and_read_only():
    visits = am.expected_visits(GEOMETRIC)
    assert am.expected_visits(GEOMETRIC) is visits and not visits.flags.writeable


@given(pdfas(max_states=5, max_symbols=2), st.floats(0, 1), st.data())
@settings(max_examples=60)
def test_total_probability_is_one_minus_what_each_state_loses(a, fraction, data):
    s = data.draw(st.integers(0, len(a.states) - 1))
    shortfall = fraction * min(0.9e-6, a.final[s])  # within the check of each state's own sum
    final = a.final.copy()
    final[s] -= shortfall
    b = am.Automaton(kind="pdfa", alphabet=a.alphabet, states=a.states, initial=a.initial,
                     final=final, next_state=a.next_state, symbol_prob=a.symbol_prob)
    lost = am.expected_visits(a)[s] * shortfall  # the moves are the same, so are the visits
    assert am.total_probability(b) == pytest.approx(1 - lost, abs=1e-12)
    assume(abs(lost - TOTAL_TOLERANCE) > 1e-9)
    if lost > TOTAL_TOLERANCE:
        with pytest.raises(am.AutomatonError, match=f"state {a.states[s]!r}: .* loses"):
            check_distribution(b)
    else:
        check_distribution(b)


def _torus(side: int, stop: float) -> sparse.csr_matrix:
    """A random walk on a side × side torus that stops with probability ``stop`` each step."""
    cell = np.arange(side * side)
    row, column = cell // side, cell % side
    targets = np.stack([(row + 1) % side * side + column, (row - 1) % side * side + column,
                        row * side + (column + 1) % side, row * side + (column - 1) % side], 1)
    return sparse.csr_matrix((np.full(targets.size, (1 - stop) / 4),
                              (np.repeat(cell, 4), targets.ravel())), shape=(cell.size,) * 2)


def test_a_stalled_iterative_solve_falls_back_to_a_direct_one(monkeypatch):
    moves, start = _torus(80, 1e-4), np.eye(1, 6400).ravel()
    visits = solve_visits(moves, start, direct_states=0)
    assert visits.sum() == pytest.approx(1e4, rel=1e-9)  # each step stops with 1e-4
    monkeypatch.setattr(analysis, "FALLBACK_STATES", 6000)  # GMRES alone stalls here
    with pytest.raises(am.AutomatonError, match="did not converge .* no direct solve above 6000"):
        solve_visits(moves, start, direct_states=0)
