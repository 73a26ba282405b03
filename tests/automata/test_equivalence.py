"""Equivalence (Tzeng for PFAs, pair search otherwise) against brute-force comparison."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import all_strings, dfas, markov_chains, nfas, over_one_alphabet, pdfas, pfas

import automata as am

ATOL = 1e-9


def split_states(a: am.Automaton) -> am.Automaton:
    """A PFA with every state of ``a`` doubled, weight into a state shared by its two copies:
    the same distribution from a different (non-isomorphic) automaton."""
    tensor = am.dense_transition(a) / 2
    return am.Automaton(kind="pfa", alphabet=a.alphabet,
                        states=[f"{s}/{k}" for k in (0, 1) for s in a.states],
                        initial=np.tile(a.initial / 2, 2), final=np.tile(a.final, 2),
                        transition=np.tile(tensor, (1, 2, 2)))


def brute_witness(a: am.Automaton, b: am.Automaton, max_length: int) -> tuple | None:
    """A shortest string up to ``max_length`` with different probabilities (or acceptance)."""
    strings = all_strings(a.alphabet, max_length)
    if a.is_probabilistic:
        differs = np.abs(am.probability(a, strings) - am.probability(b, strings)) > ATOL
    else:
        differs = np.array([am.accepts(a, w) != am.accepts(b, w) for w in strings])
    return strings[int(np.argmax(differs))] if differs.any() else None


def perturbed(a: am.Automaton, state: int) -> am.Automaton:
    """``a`` as a PFA where one state moves half of its largest weight (a move or the stop) to
    another of its weights; with no other, to its stop or else to a new loop on the first
    symbol. It still stops with probability 1."""
    n_symbols, n_states = len(a.alphabet), len(a.states)
    row = np.append(am.dense_transition(a)[:, state, :].ravel(), a.final[state])  # (A·S + 1,)
    largest = int(np.argmax(row))
    others = [i for i in np.flatnonzero(row) if i != largest]
    stop, loop = len(row) - 1, state  # the loop: index (symbol 0, target state)
    receiver = others[0] if others else (stop if largest != stop else loop)
    row[receiver] += row[largest] / 2
    row[largest] /= 2
    tensor, final = am.dense_transition(a).copy(), a.final.copy()
    tensor[:, state, :] = row[:-1].reshape(n_symbols, n_states)
    final[state] = row[-1]
    return am.Automaton(kind="pfa", alphabet=a.alphabet, states=a.states, initial=a.initial,
                        final=final, transition=tensor)


@settings(max_examples=40)
@given(over_one_alphabet(pfas(max_states=3, max_symbols=2),
                         lambda n: pfas(max_states=3, min_symbols=n, max_symbols=n)))
def test_tzeng_agrees_with_brute_force_on_random_pairs(pair):
    a, b = pair
    check_witness(a, b)


@settings(max_examples=40)
@given(st.one_of(pfas(max_states=3, max_symbols=2), pdfas(max_states=3, max_symbols=2),
                 markov_chains(max_symbols=2)))
def test_equivalent_rebuilds_and_deep_differences(a):
    doubled = split_states(a)
    assert am.equivalent(a, doubled) and am.equivalent(doubled, a)
    assert brute_witness(a, doubled, len(a.states) * 3 - 1) is None
    for state in range(len(a.states)):  # a change in a state far from the start shows late
        check_witness(doubled, perturbed(a, state))


def check_witness(a: am.Automaton, b: am.Automaton) -> None:
    """Two automata with n states in all that agree on every string shorter than n are equal,
    so the enumeration up to n - 1 decides, and its shortest witness has the right length."""
    witness = am.distinguishing_string(a, b, atol=ATOL)
    expected = brute_witness(a, b, len(a.states) + len(b.states) - 1)
    assert (witness is None) == (expected is None)
    assert am.equivalent(a, b, atol=ATOL) == (witness is None)
    if witness is not None:
        assert len(witness) == len(expected)
        assert abs(am.probability(a, witness) - am.probability(b, witness)) > ATOL


@settings(max_examples=40)
@given(over_one_alphabet(pdfas(max_states=3, max_symbols=2),
                         lambda n: pdfas(max_states=3, min_symbols=n, max_symbols=n)))
def test_deterministic_pairs_find_the_shortest_differing_prefix(pair):
    a, b = pair
    witness = am.distinguishing_string(a, b, atol=ATOL)
    # pairs of states are at most 9, so a difference shows up within 9 symbols
    assert (witness is None) == (brute_witness(a, b, len(a.states) * len(b.states)) is None)
    if witness is None:
        return
    assert not np.allclose(am.next_symbol_distribution(a, witness),
                           am.next_symbol_distribution(b, witness), rtol=0, atol=ATOL)
    shorter = [w for w in all_strings(a.alphabet, len(witness) - 1)
               if am.prefix_probability(a, w) > 0]
    if shorter:
        assert np.allclose(am.next_symbol_distribution(a, shorter),
                           am.next_symbol_distribution(b, shorter), rtol=0, atol=ATOL)


@given(over_one_alphabet(
    st.one_of(dfas(max_states=3, max_symbols=2), nfas(max_states=3, max_symbols=2)),
    lambda n: st.one_of(dfas(max_states=3, min_symbols=n, max_symbols=n),
                        nfas(max_states=3, min_symbols=n, max_symbols=n))))
def test_language_equivalence_agrees_with_brute_force(pair):
    a, b = pair
    witness = am.distinguishing_string(a, b)
    expected = brute_witness(a, b, 6)
    if expected is not None:
        assert witness is not None and len(witness) == len(expected)
    if witness is not None:
        assert am.accepts(a, witness) != am.accepts(b, witness)
    else:
        assert expected is None


@given(dfas(max_states=4))
def test_a_dfa_equals_itself_as_an_nfa(dfa):
    data = am.to_dict(dfa) | {"kind": "nfa"}
    nfa = am.from_dict(data)
    assert am.equivalent(dfa, nfa) and am.distinguishing_string(nfa, dfa) is None


def test_witness_by_hand(examples_dir):
    a = am.load(examples_dir / "abe_markov.yaml")
    data = am.to_dict(a)
    data["next"]["B"] = {"E": 0.5, "A": 0.5}  # only differs after a B
    b = am.from_dict(data)
    assert am.distinguishing_string(a, b) == ("A", "B")
    pfa = split_states(a)
    assert am.equivalent(pfa, a)
    assert len(am.distinguishing_string(pfa, b)) == 3  # P(ABE) is where the PFA test sees it


def test_mismatched_automata_raise(examples_dir):
    chain = am.load(examples_dir / "abe_markov.yaml")
    fsm = am.load(examples_dir / "abe_fsm.yaml")
    with pytest.raises(am.AutomatonError, match="one defines a distribution"):
        am.equivalent(chain, fsm)
    with pytest.raises(am.AutomatonError, match="alphabets differ"):
        am.equivalent(fsm, am.load(examples_dir / "i_before_e.yaml"))
