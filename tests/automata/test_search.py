"""The k most probable completions against brute-force enumeration."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import all_strings, dfas, probabilistic_automata, strings_over

import automata as am

LENGTH = 5  # completions enumerated up to this many symbols


def enumerated_completions(a: am.Automaton, prefix: tuple[str, ...]) -> dict[tuple, float]:
    """P(prefix·w·$ | prefix) for every w of at most LENGTH symbols."""
    suffixes = all_strings(a.alphabet, LENGTH)
    probabilities = am.probability(a, [prefix + w for w in suffixes])
    return dict(zip(suffixes, probabilities / am.prefix_probability(a, prefix), strict=True))


def check_against_enumeration(a: am.Automaton, prefix: tuple[str, ...], k: int) -> None:
    exact = enumerated_completions(a, prefix)
    tail = 1.0 - sum(exact.values())  # mass of the completions longer than LENGTH
    found = am.complete(a, prefix, k)
    assert len(found) <= k
    probabilities = [p for _, p in found]
    assert probabilities == sorted(probabilities, reverse=True)
    assert len({w for w, _ in found}) == len(found)
    for w, p in found:
        assert p > 0
        if len(w) <= LENGTH:
            assert p == pytest.approx(exact[w], rel=1e-9)
    best = sorted((p for p in exact.values() if p > 0), reverse=True)
    if len(found) < k:  # fewer than k: the language after the prefix has no more strings
        assert len(best) == len(found) and tail < 1e-9
    elif found[-1][1] > tail + 1e-12:  # the top k all lie within the enumeration
        assert probabilities == pytest.approx(best[:k], rel=1e-9)
    else:  # nothing enumerated and left out beats what was found
        assert all(p <= found[-1][1] * (1 + 1e-9) for w, p in exact.items()
                   if w not in dict(found))


@settings(max_examples=40)
@given(probabilistic_automata(max_states=4, max_symbols=2).flatmap(
    lambda a: st.tuples(st.just(a), strings_over(a.alphabet, max_length=3), st.integers(1, 6))))
def test_completions_are_the_most_probable_ones(case):
    a, prefix, k = case
    if am.prefix_probability(a, prefix) == 0:
        with pytest.raises(am.ImpossiblePrefixError):
            am.complete(a, prefix, k)
        return
    check_against_enumeration(a, prefix, k)


@settings(max_examples=20)
@given(dfas(max_states=4, max_symbols=2), st.integers(1, 6))
def test_dfa_completions_use_the_uniform_view(dfa, k):
    found = am.complete(dfa, "", k)
    assert all(am.accepts(dfa, w) for w, _ in found)
    check_against_enumeration(am.as_probabilistic(dfa), (), k)
    assert [p for _, p in found] == [p for _, p in am.complete(am.as_probabilistic(dfa), "", k)]


def test_completions_by_hand(examples_dir):
    a = am.load(examples_dir / "abe_markov.yaml")
    # after E: stop 0.1; A then stop 0.8 · 0.1; then AA, AE and ABE tie at 0.8 · 0.3 · 0.1
    found = am.complete(a, "E", k=4)
    assert [w for w, _ in found[:2]] == [(), ("A",)]
    assert [p for _, p in found] == pytest.approx([0.1, 0.08, 0.024, 0.024])
    assert {w for w, _ in found[2:]} < {("A", "A"), ("A", "E"), ("A", "B", "E")}


def test_finite_language_gives_fewer_completions():
    a = am.loads("kind: pdfa\nalphabet: [a, b]\nstart: q\nstates:\n"
                 "  q: {final: 0.0, next: {a: {r: 1.0}}}\n  r: {final: 0.75, next: {b: {s: 0.25}}}\n"
                 "  s: {final: 1.0}\n")
    assert am.complete(a, "", k=5) == [(("a",), 0.75), (("a", "b"), 0.25)]
    assert am.complete(a, "ab", k=5) == [((), 1.0)]


def test_bad_requests_raise_typed_errors(examples_dir):
    a = am.load(examples_dir / "abe_markov.yaml")
    with pytest.raises(am.ImpossiblePrefixError, match="'BB' has probability 0"):
        am.complete(a, "BB")
    for k in (0, -1, True, 2.0):
        with pytest.raises(am.AutomatonError, match="k must be a positive integer"):
            am.complete(a, "", k=k)
    with pytest.raises(am.UnknownSymbolError):
        am.complete(a, "AX")
    with pytest.raises(am.SizeLimitError, match="raise max_expansions"):
        am.complete(a, "", k=5, max_expansions=2)
