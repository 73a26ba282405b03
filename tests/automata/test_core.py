"""The Automaton value: immutability, validation on construction, graph helpers, strategies."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from strategies import any_automata, dfas, markov_chains, nfas, pdfas, pfas

import automata as am

ANY = any_automata(max_states=5, max_symbols=3)

def pdfa(**overrides) -> am.Automaton:
    """A two-state PDFA over {a, b}; ``overrides`` replace its fields."""
    fields = dict(kind="pdfa", alphabet=("a", "b"), states=("p", "q"),
                  initial=[1.0, 0.0], final=[0.5, 1.0],
                  next_state=[[0, 1], [-1, -1]], symbol_prob=[[0.25, 0.25], [0.0, 0.0]])
    return am.Automaton(**(fields | overrides))


def closure(seed: set[int], edges: set[tuple[int, int]]) -> set[int]:
    found, frontier = set(seed), list(seed)
    while frontier:
        s = frontier.pop()
        for source, target in edges:
            if source == s and target not in found:
                found.add(target)
                frontier.append(target)
    return found


def positive_edges(a: am.Automaton) -> set[tuple[int, int]]:
    tensor = am.dense_transition(a)
    return {(int(s), int(t)) for _, s, t in zip(*np.nonzero(tensor), strict=True)}


def test_arrays_are_read_only_and_the_value_is_frozen():
    a = pdfa()
    for name in ("initial", "final", "next_state", "symbol_prob"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(a, name)[0] = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.kind = "dfa"
    source = np.array([1.0, 0.0])
    b = pdfa(initial=source)
    source[:] = [0.0, 1.0]  # the automaton keeps its own copy
    assert b.initial.tolist() == [1.0, 0.0]


def test_labels_and_properties():
    a = pdfa()
    assert a.alphabet == ("a", "b") and isinstance(a.states, tuple)
    assert a.columns == ("a", "b", "$") and am.END == "$"
    assert a.is_deterministic and a.is_probabilistic and a.start == 0
    assert a.symbol_index("b") == 1 and a.state_index("q") == 1
    assert a.next_state.dtype == np.int64 and a.symbol_prob.dtype == np.float64
    assert repr(a) == "<Automaton pdfa: 2 states, 2 symbols>"
    with pytest.raises(am.UnknownSymbolError, match="unknown symbol 'c'"):
        a.symbol_index("c")
    with pytest.raises(am.AutomatonError, match="unknown state 'r'"):
        a.state_index("r")
    nfa = am.loads("kind: nfa\nalphabet: [a]\nstart: [s, t]\nstates: {s: {final: true}, t: {}}")
    assert not nfa.is_deterministic and not nfa.is_probabilistic
    with pytest.raises(am.AutomatonError, match="start distribution"):
        _ = nfa.start


@pytest.mark.parametrize(("overrides", "message"), [
    ({"kind": "moore"}, "unknown kind 'moore'"),
    ({"states": ()}, "at least one state"),
    ({"alphabet": ("a", "a")}, "duplicate symbol names"),
    ({"alphabet": ("a", "$")}, "reserved"),
    ({"alphabet": ("a", "")}, "non-empty strings"),
    ({"states": ("p", 3)}, "non-empty strings"),
    ({"final": [0.5]}, r"final must have shape \(2,\)"),
    ({"symbol_prob": None}, "symbol_prob must have shape"),
    ({"transition": np.zeros((2, 2, 2))}, "next-state table"),
    ({"final": [np.nan, 1.0]}, "probabilities in"),
    ({"symbol_prob": [[-0.25, 0.75], [0.0, 0.0]]}, "probabilities in"),
    ({"next_state": [[0, 2], [-1, -1]]}, "not a state"),
    ({"next_state": [[0, -1], [-1, -1]]}, "no target state"),
    ({"initial": [0.5, 0.5]}, "exactly one start state"),
    ({"final": [0.4, 1.0]}, r"state 'p': outgoing probabilities plus final must sum to 1 \(got 0.9\)"),
    ({"final": [0.5, 0.0], "next_state": [[0, 1], [-1, 1]], "symbol_prob": [[0.25, 0.25],
                                                                             [0.0, 1.0]]},
     "state 'q' is reachable but can never reach a stop"),
])
def test_invalid_automata_are_refused_on_construction(overrides, message):
    with pytest.raises(am.AutomatonError, match=message):
        pdfa(**overrides)


def test_errors_name_the_state_at_fault():
    with pytest.raises(am.AutomatonError) as caught:
        pdfa(final=[0.5, 0.5])
    assert caught.value.state == "q"


def test_unreachable_states_need_not_stop():
    a = pdfa(states=("p", "q", "r"), initial=[1.0, 0.0, 0.0], final=[1.0, 1.0, 0.0],
             next_state=[[-1, -1], [-1, -1], [2, -1]], symbol_prob=[[0, 0], [0, 0], [1.0, 0]])
    assert am.reachable_states(a).tolist() == [True, False, False]
    assert am.coreachable_states(a).tolist() == [True, True, False]


def test_dfa_flags_must_be_zero_or_one():
    with pytest.raises(am.AutomatonError, match="0/1 flags"):
        am.Automaton(kind="dfa", alphabet=("a",), states=("s",), initial=[1.0], final=[0.5],
                     next_state=[[0]], symbol_prob=[[1.0]])


def test_constructor_and_loader_build_the_same_value():
    built = pdfa()
    loaded = am.loads("kind: pdfa\nalphabet: [a, b]\nstart: p\nstates:\n"
                      "  p: {final: 0.5, next: {a: {p: 0.25}, b: {q: 0.25}}}\n  q: {final: 1.0}\n")
    for name in ("initial", "final", "next_state", "symbol_prob"):
        assert np.array_equal(getattr(built, name), getattr(loaded, name))
    assert am.equivalent(built, loaded)


@given(ANY)
def test_dense_transition_matches_the_stored_tables(a):
    dense = am.dense_transition(a)
    assert dense.shape == (len(a.alphabet), len(a.states), len(a.states))
    if a.is_deterministic:
        expected = np.zeros_like(dense)
        for s in range(len(a.states)):
            for i in range(len(a.alphabet)):
                if a.next_state[s, i] >= 0:
                    expected[i, s, a.next_state[s, i]] = a.symbol_prob[s, i]
        assert np.array_equal(dense, expected)
    else:
        assert np.array_equal(dense, a.transition)


@given(ANY)
def test_reachable_and_coreachable_states_match_a_search(a):
    edges = positive_edges(a)
    reachable = closure(set(np.flatnonzero(a.initial).tolist()), edges)
    coreachable = closure(set(np.flatnonzero(a.final).tolist()), {(t, s) for s, t in edges})
    assert set(np.flatnonzero(am.reachable_states(a)).tolist()) == reachable
    assert set(np.flatnonzero(am.coreachable_states(a)).tolist()) == coreachable


@given(dfas(min_states=2, max_states=3, min_symbols=2, max_symbols=2, sparsity=0.0))
def test_strategies_respect_sizes_and_sparsity(a):
    assert 2 <= len(a.states) <= 3 and a.alphabet == ("a", "b")
    assert (a.next_state >= 0).all()  # sparsity 0: every move is there
    assert am.coreachable_states(a).all()


@given(ANY)
def test_strategies_give_valid_automata_whose_states_all_stop(a):
    assert a.kind in am.KINDS
    assert am.coreachable_states(a).all()
    if a.is_probabilistic:
        totals = am.dense_transition(a).sum(axis=(0, 2)) + a.final
        assert np.allclose(totals, 1.0, atol=1e-12)


@given(pdfas(max_states=2, max_symbols=1))
def test_small_strategies_stay_small(a):
    assert len(a.states) <= 2 and len(a.alphabet) == 1


@pytest.mark.parametrize("strategy", [dfas, nfas, pfas, pdfas])
def test_strategies_reject_bad_sizes(strategy):
    @given(strategy(min_states=3, max_states=2))
    def draw(a):
        pass

    with pytest.raises(ValueError, match="min_states"):
        draw()


@given(markov_chains(min_symbols=2, max_symbols=2))
def test_markov_chain_strategy_has_a_start_state_and_one_state_per_symbol(a):
    assert a.states[1:] == a.alphabet and a.states[0] == "^"
    for i in range(len(a.alphabet)):  # reading symbol i always leads to the state of symbol i
        assert set(a.next_state[:, i].tolist()) <= {-1, i + 1}
