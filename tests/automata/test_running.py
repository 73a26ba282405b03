"""Running one string: the trace, acceptance and where and why a string is rejected."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import any_automata, dfas, nfas, pfas, probabilistic_automata, strings_over

import automata as am

NFA = """
kind: nfa
alphabet: [a, b]
start: [n0]
states:
  n0: {final: false, next: {a: [n0, n1], b: n0}}
  n1: {final: true}
"""


def subset_states(a: am.Automaton, string: tuple[str, ...]) -> list[set[int]]:
    """The sets of current states, by subset simulation on the raw tables (stops when empty)."""
    current = {int(s) for s in np.flatnonzero(a.initial)}
    sets = [current]
    for symbol in string:
        i = a.alphabet.index(symbol)
        if a.is_deterministic:
            current = {int(a.next_state[s, i]) for s in current
                       if a.next_state[s, i] >= 0 and a.symbol_prob[s, i] > 0}
        else:
            current = {int(t) for s in current for t in np.flatnonzero(a.transition[i, s])}
        if not current:
            break
        sets.append(current)
    return sets


def with_strings(automata: st.SearchStrategy) -> st.SearchStrategy:
    return automata.flatmap(lambda a: st.tuples(st.just(a), strings_over(a.alphabet)))


def test_dfa_trace_by_hand(examples_dir):
    a = am.load(examples_dir / "abe_fsm.yaml")
    assert list(am.trace(a, "AABEA")) == ["s", "s", "s", "b", "s", "s"]
    assert list(am.trace(a, "ABBA")) == ["s", "s", "b"]  # stops: no move on B from b
    assert list(am.trace(a, "")) == ["s"]


def test_nfa_trace_by_hand():
    a = am.loads(NFA)
    assert list(am.trace(a, "aab")) == [frozenset({"n0"}), frozenset({"n0", "n1"}),
                                        frozenset({"n0", "n1"}), frozenset({"n0"})]
    assert am.accepts(a, "ba") and not am.accepts(a, "ab") and not am.accepts(a, "")


def test_pfa_trace_is_the_normalised_forward_distribution():
    a = am.loads("kind: pfa\nalphabet: [a]\nstart: {p: 0.5, q: 0.5}\nstates:\n"
                 "  p: {final: 0.5, next: {a: {p: 0.25, q: 0.25}}}\n  q: {final: 1.0}\n")
    steps = list(am.trace(a, "aa"))
    assert steps[0] == {"p": 0.5, "q": 0.5}
    assert steps[1] == pytest.approx({"p": 0.5, "q": 0.5})  # (0.125, 0.125) normalised
    assert len(steps) == 3


@given(with_strings(st.one_of(dfas(), nfas())))
def test_trace_and_acceptance_agree_with_subset_simulation(case):
    a, string = case
    sets = subset_states(a, string)
    names = [{a.states[s] for s in states} for states in sets]
    traced = list(am.trace(a, string))
    if a.is_deterministic:
        assert [{s} for s in traced] == names
    else:
        assert [set(s) for s in traced] == names
    read_all = len(sets) == len(string) + 1
    accepted = read_all and any(a.final[s] > 0 for s in sets[-1])
    assert am.accepts(a, string) == accepted


@given(with_strings(st.one_of(dfas(), nfas(), pfas())))
def test_rejection_says_where_the_string_stopped(case):
    a, string = case
    reason = am.rejection(a, string)
    assert (reason is None) == am.accepts(a, string)
    if reason is None:
        return
    traced = list(am.trace(a, string))
    assert reason.position == len(traced) - 1
    assert reason.state == traced[-1]
    if reason.position < len(string):
        assert reason.reason == f"no move on {string[reason.position]!r}"
    else:
        assert "ends in no" in reason.reason
    assert str(reason).startswith(f"rejected at position {reason.position} in state ")


@given(with_strings(probabilistic_automata(max_states=4)))
def test_probabilistic_acceptance_is_positive_probability(case):
    a, string = case
    assert am.accepts(a, string) == (am.probability(a, string) > 0)


def test_rejections_by_hand(examples_dir):
    a = am.load(examples_dir / "abe_fsm.yaml")
    assert am.rejection(a, "AABEA") is None
    no_move = am.rejection(a, "ABBA")
    assert (no_move.position, no_move.state, no_move.reason) == (2, "b", "no move on 'B'")
    assert str(no_move) == "rejected at position 2 in state 'b': no move on 'B'"
    unknown = am.rejection(a, "AXA")
    assert (unknown.position, unknown.state) == (1, "s")
    assert "'X' is not in the alphabet" in unknown.reason
    unfinished = am.rejection(a, "AB")
    assert (unfinished.position, unfinished.state) == (2, "b")
    assert unfinished.reason == "the string ends in no accepting state"
    nfa = am.rejection(am.loads(NFA), "ab")
    assert (nfa.position, nfa.state) == (2, frozenset({"n0"}))


def test_words_as_symbols():
    a = am.loads("kind: dfa\nalphabet: [the, cat, sat]\nstart: s\nstates:\n"
                 "  s: {next: {the: t}}\n  t: {next: {cat: u}}\n  u: {final: true, next: {sat: s}}\n")
    assert am.accepts(a, "the cat") and am.accepts(a, ("the", "cat"))
    assert not am.accepts(a, "the cat sat")
    assert list(am.trace(a, "the cat")) == ["s", "t", "u"]
    assert am.rejection(a, "the dog").reason.startswith("symbol 'dog' is not in the alphabet")


@given(any_automata(max_states=4).flatmap(
    lambda a: st.tuples(st.just(a), st.lists(strings_over(a.alphabet + ("z",)), max_size=8))))
def test_one_string_acceptance_is_the_batched_acceptance(case):
    a, strings = case
    batched = am.accepts(a, strings).tolist()
    assert [am.accepts(a, x) for x in strings] == batched
    assert [am.accepts(a, am.format_string(a.alphabet, x)) for x in strings] == batched
    assert [am.rejection(a, x) is None for x in strings] == batched
