"""YAML ↔ JSON ↔ DOT ↔ PAutomaC round trips, and reading AALpy's DOT."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import any_automata, probabilistic_automata

import automata as am
from automata.interchange import automaton_text, format_of

AALPY_DFA = """digraph learnedModel {
s0 [label="s0", shape=doublecircle];
s1 [label="s1"];
s2 [label="s2"];
s0 -> s1  [label="a"];
s0 -> s0  [label="b"];
s1 -> s2  [label="a"];
s1 -> s0  [label="b"];
s2 -> s2  [label="a"];
s2 -> s2  [label="b"];
__start0 [label="", shape=none];
__start0 -> s0  [label=""];
}
"""

AALPY_CHAIN = """digraph LearnedModel {
q0 [label="start"];
q1 [label="a"];
q2 [label="b"];
q0 -> q1  [label=0.6];
q0 -> q2  [label=0.4];
q1 -> q1  [label=0.5];
q1 -> q2  [label=0.25];
q2 -> q1  [label=1e-01];
__start0 [label="", shape=none];
__start0 -> q0  [label=""];
}
"""


def same(a, b):
    return (a.kind == b.kind and a.alphabet == b.alphabet and a.states == b.states
            and np.array_equal(a.initial, b.initial) and np.array_equal(a.final, b.final)
            and all(np.array_equal(getattr(a, k), getattr(b, k))
                    for k in ("next_state", "symbol_prob", "transition")
                    if getattr(a, k) is not None))


@given(any_automata(max_states=4, max_symbols=3, tricky_symbols=True))
@settings(max_examples=60)
def test_yaml_json_dot_round_trips_are_exact(a):
    assert same(am.from_json(am.to_json(a)), a)
    assert same(am.from_dot(am.to_dot(a)), a)
    assert same(am.from_dot(am.to_dot(am.from_json(am.to_json(a)))), am.loads(am.dumps(a)))


@given(probabilistic_automata(max_states=4, max_symbols=3))
@settings(max_examples=40)
def test_pautomac_model_round_trip_keeps_the_distribution(a):
    back = am.pautomac.read_model(automaton_text(a, "pautomac"), alphabet=a.alphabet)
    assert back.kind == "pfa" and len(back.states) == len(a.states)
    assert am.equivalent(a, back, atol=1e-9)


def test_files_by_suffix(tmp_path):
    a = am.loads("kind: pfa\nalphabet: [a, b]\nstart: {q0: 0.6, q1: 0.4}\nstates:\n"
                 "  q0: {final: 0.2, next: {a: {q0: 0.3, q1: 0.3}, b: {q1: 0.2}}}\n"
                 "  q1: {final: 0.5, next: {b: {q0: 0.5}}}\n")
    for name in ("m.yaml", "m.yml", "m.json", "m.dot", "m.gv"):
        am.write_automaton(a, tmp_path / name)
        assert same(am.read_automaton(tmp_path / name), a)
    am.write_automaton(a, tmp_path / "7.pautomac_model.txt")
    back = am.read_automaton(tmp_path / "7.pautomac_model.txt")
    assert back.alphabet == ("0", "1") and am.probability(back, ("0", "1")) == pytest.approx(
        am.probability(a, "ab"))
    assert format_of("x.PAUTOMAC") == "pautomac"
    with pytest.raises(am.AutomatonError, match="unknown automaton format"):
        format_of("model.txt")
    dfa = am.loads("kind: dfa\nalphabet: [a]\nstart: s\nstates: {s: {final: true}}")
    with pytest.raises(am.AutomatonError, match="as_probabilistic"):
        am.write_automaton(dfa, tmp_path / "d.pautomac")


def test_reads_aalpy_dfa():
    a = am.from_dot(AALPY_DFA)
    assert a.kind == "dfa" and a.alphabet == ("a", "b") and a.states == ("s0", "s1", "s2")
    assert am.accepts(a, "bab") and not am.accepts(a, "aa") and not am.accepts(a, "aab")
    assert am.same_language(a, am.regex_to_nfa("(b|ab)*"))


def test_reads_aalpy_markov_chain():
    a = am.from_dot(AALPY_CHAIN)
    # the run emits the outputs of the states it visits; leftover probability stops
    assert a.kind == "pdfa" and a.alphabet == ("start", "a", "b")
    assert am.probability(a, ("start",)) == 0.0
    assert am.probability(a, ("start", "a")) == pytest.approx(0.6 * 0.25)
    assert am.probability(a, ("start", "b", "a")) == pytest.approx(0.4 * 0.1 * 0.25)
    assert am.total_probability(a) == pytest.approx(1.0)


def test_dot_errors_are_located():
    with pytest.raises(am.FormatError, match="digraph"):
        am.from_dot("graph g { a -- b }")
    with pytest.raises(am.FormatError, match="start arrow"):
        am.from_dot("digraph g { a -> b [label=x] }")
    with pytest.raises(am.FormatError, match=":3:"):
        am.from_dot("digraph g {\n a -> b\n [label=x }")
    with pytest.raises(am.FormatError, match="JSON"):
        am.from_json("{")
