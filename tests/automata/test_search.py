"""The k most probable completions against brute-force enumeration."""

from __future__ import annotations

import tracemalloc

import numpy as np
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


@pytest.mark.parametrize("limits", [{"max_expansions": 2}, {"max_frontier": 1}])
def test_a_cut_search_says_so(examples_dir, limits):
    a = am.load(examples_dir / "abe_markov.yaml")
    exact = am.complete(a, "", k=5)
    found = am.complete(a, "", k=5, **limits)
    assert exact.cut == 0.0 and found != exact
    assert found.cut >= max([p for w, p in exact if (w, p) not in found], default=0.0)


def _wide_pfa(n_symbols: int = 1000) -> am.Automaton:
    """5 states that stop with probability 0.3 and spread the rest over ``n_symbols`` symbols."""
    weights = np.random.default_rng(0).random((n_symbols, 5, 5))
    weights *= 0.7 / weights.sum(axis=(0, 2))[None, :, None]
    return am.Automaton(kind="pfa", alphabet=tuple(f"w{i}" for i in range(n_symbols)),
                        states=tuple("abcde"), initial=np.full(5, 0.2), final=np.full(5, 0.3),
                        transition=weights)


def test_candidates_that_cannot_make_the_top_k_are_not_kept():
    a = _wide_pfa()
    tracemalloc.start()
    found = am.complete(a, "", k=5)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # every string of two symbols or more is less probable than the 5th best of one symbol
    short = [()] + [(w,) for w in a.alphabet]
    best = sorted(zip(am.probability(a, short), short, strict=True), reverse=True)[:5]
    assert found.cut == 0.0 and [p for _, p in found] == pytest.approx([p for p, _ in best])
    assert peak < 20e6  # keeping every candidate (10⁶ of them) takes over 200 MB


def test_a_dropped_frontier_bounds_what_is_missing():
    a = _wide_pfa()
    exact = am.complete(a, "", k=5)
    found = am.complete(a, "", k=5, max_frontier=100)
    assert found.cut > 0.0
    assert all(p <= found.cut for w, p in exact if (w, p) not in found)
