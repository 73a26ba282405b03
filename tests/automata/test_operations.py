"""DFA/NFA operations against brute-force enumeration and the Myhill–Nerode laws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import all_strings, dfas, nfas, over_one_alphabet

import automata as am
from automata.operations import product

LENGTH = 6


def language(a, length=LENGTH):
    return {x for x in all_strings(a.alphabet, length) if am.accepts(a, x)}


def started_at(a, state):
    """The DFA ``a`` started in ``state``."""
    return am.Automaton(kind="dfa", alphabet=a.alphabet, states=a.states,
                        initial=np.eye(len(a.states))[state], final=a.final,
                        next_state=a.next_state, symbol_prob=a.symbol_prob)


@given(nfas(max_states=4, max_symbols=2))
@settings(max_examples=60)
def test_minimized_determinized_nfa_is_equivalent_and_minimal(n):
    d = am.determinize(n)
    m = am.minimize(d)
    assert language(d) == language(n) == language(m)
    assert am.same_language(m, n)
    # Myhill–Nerode: every state reachable, can accept, and no two states accept the same
    # strings; then no DFA (partial, without dead states) for the language is smaller
    assert am.trim(m).states == m.states
    for i in range(len(m.states)):
        for j in range(i + 1, len(m.states)):
            assert am.distinguishing_string(started_at(m, i), started_at(m, j)) is not None


@given(nfas(max_states=4, max_symbols=2))
@settings(max_examples=40)
def test_minimal_dfas_of_equivalent_languages_are_isomorphic(n):
    m1 = am.minimize(n)
    m2 = am.minimize(am.union(n, am.intersection(n, n)))  # same language, other construction
    m3 = am.minimize(am.complement(am.complement(n)))
    for other in (m2, m3):
        # breadth-first numbering from the start makes isomorphic DFAs equal arrays
        assert np.array_equal(m1.next_state, other.next_state)
        assert np.array_equal(m1.final, other.final)


@given(over_one_alphabet(dfas(max_states=4, max_symbols=2),
                         lambda n: nfas(max_states=3, min_symbols=n, max_symbols=n)))
@settings(max_examples=50)
def test_boolean_operations_match_sets(pair):
    a, b = pair
    everything = set(all_strings(a.alphabet, LENGTH))
    la, lb = language(a), language(b)
    assert language(am.intersection(a, b)) == la & lb
    assert language(am.union(a, b)) == la | lb
    assert language(am.difference(a, b)) == la - lb
    assert language(am.complement(a)) == everything - la
    witness = am.language_witness(a, b)
    differing = sorted(la ^ lb, key=len)
    if witness is None:
        assert not differing
    else:
        assert (witness in la) != (witness in lb)
        if differing:
            assert len(witness) <= len(differing[0])


@given(nfas(max_states=4, max_symbols=2))
@settings(max_examples=40)
def test_count_accepted_matches_enumeration(n):
    strings = language(n, 5)
    assert am.count_accepted(n, 5) == [sum(len(x) == k for x in strings) for k in range(6)]


def test_complete_trim_and_limits():
    a = am.loads("kind: dfa\nalphabet: [a, b]\nstart: s\nstates:\n"
                 "  s: {final: true, next: {a: t}}\n  t: {next: {a: t}}\n  far: {final: true}")
    full = am.make_complete(a)
    assert full.states[-1] == "∅" and np.all(full.next_state >= 0)
    assert language(full) == language(a) == {()}
    assert am.trim(a).states == ("s",)
    empty = am.loads("kind: dfa\nalphabet: [a]\nstart: s\nstates: {s: {next: {a: s}}}")
    assert am.trim(empty).states == ("s",) and am.count_accepted(empty, 3) == [0, 0, 0, 0]
    assert len(am.minimize(empty).states) == 1
    twelfth = am.regex_to_nfa("(a|b)*a" + "(a|b)" * 11)
    with pytest.raises(am.SizeLimitError, match="max_states"):
        am.determinize(twelfth, max_states=1000)
    with pytest.raises(am.AutomatonError, match="dfa or an nfa"):
        am.minimize(am.as_probabilistic(a))
    with pytest.raises(ValueError):
        product(a, a, "xor")


def test_nth_from_the_end_needs_exponential_states():
    for k in range(1, 7):
        n = am.regex_to_nfa("(a|b)*a" + "(a|b)" * (k - 1))
        assert len(n.states) == 2 * k + 2  # one state per symbol occurrence + the start
        assert len(am.minimize(n).states) == 2 ** k


def test_different_alphabets_are_joined_and_support_of_probabilistic():
    a = am.regex_to_nfa("ab")
    b = am.regex_to_nfa("ac")
    u = am.union(a, b)
    assert u.alphabet == ("a", "b", "c") and language(u, 3) == {("a", "b"), ("a", "c")}
    assert am.language_witness(a, b) == ("a", "b")
    p = am.loads("kind: markov\nalphabet: [x]\nstart: {x: 1.0}\nnext: {x: {x: 0.5, $: 0.5}}")
    assert am.same_language(p, am.regex_to_nfa("x+"))
