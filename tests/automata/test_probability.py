"""Exact probabilities against brute-force enumeration and independently written algorithms."""

from __future__ import annotations

import importlib
import itertools
import math
import pickle
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    all_strings,
    dfas,
    markov_chains,
    pdfas,
    pfas,
    probabilistic_automata,
    strings_over,
)

import automata as am
from automata.analysis import expected_length, expected_visits, total_probability

engine = importlib.import_module("automata.probability")  # the name `probability` is a function


def forward_probability(a: am.Automaton, string: tuple[str, ...]) -> float:
    """P(string) by the unscaled forward algorithm on a dense tensor built here from the tables."""
    n_states = len(a.states)
    if a.is_deterministic:
        tensor = np.zeros((len(a.alphabet), n_states, n_states))
        for s in range(n_states):
            for i in range(len(a.alphabet)):
                if a.next_state[s, i] >= 0:
                    tensor[i, s, a.next_state[s, i]] += a.symbol_prob[s, i]
    else:
        tensor = a.transition
    vector = np.asarray(a.initial, dtype=float)
    for symbol in string:
        vector = vector @ tensor[a.alphabet.index(symbol)]
    return float(vector @ a.final)


def path_sum_probability(a: am.Automaton, string: tuple[str, ...]) -> float:
    """P(string) as the sum over every state path of the product of its weights (PFA)."""
    codes = [a.alphabet.index(symbol) for symbol in string]
    total = 0.0
    for path in itertools.product(range(len(a.states)), repeat=len(string) + 1):
        weight = a.initial[path[0]] * a.final[path[-1]]
        for t, code in enumerate(codes):
            weight *= a.transition[code, path[t], path[t + 1]]
        total += weight
    return total


def trace_probability(a: am.Automaton, string: tuple[str, ...]) -> float:
    """P(string) of a deterministic automaton: the product of the symbol probabilities along
    the states that ``trace`` visits, times the stop probability of the last one."""
    states = [a.state_index(s) for s in am.trace(a, string)]
    if len(states) < len(string) + 1:
        return 0.0
    product = a.final[states[-1]]
    for state, symbol in zip(states, string, strict=False):
        product *= a.symbol_prob[state, a.symbol_index(symbol)]
    return float(product)


@settings(max_examples=40)
@given(probabilistic_automata(max_states=4, max_symbols=3), st.integers(0, 4))
def test_string_probabilities_plus_tail_mass_sum_to_one(a, length):
    strings = all_strings(a.alphabet, length)
    longer = all_strings(a.alphabet, length + 1, min_length=length + 1)
    # every string longer than `length` starts with exactly one string of length `length` + 1
    total = am.probability(a, strings).sum() + am.prefix_probability(a, longer).sum()
    assert total == pytest.approx(1.0, abs=1e-9)


@given(probabilistic_automata(max_states=4, max_symbols=3))
def test_next_symbol_distributions_are_ratios_of_prefix_probabilities(a):
    strings = all_strings(a.alphabet, 3)
    mass = dict(zip(strings, am.prefix_probability(a, strings), strict=True))
    stop = dict(zip(strings, am.probability(a, strings), strict=True))
    possible = [p for p in all_strings(a.alphabet, 2) if mass[p] > 0]
    distributions = am.next_symbol_distribution(a, possible)
    assert distributions.shape == (len(possible), len(a.alphabet) + 1)
    assert np.allclose(distributions.sum(axis=1), 1.0, atol=1e-12)
    for prefix, row in zip(possible, distributions, strict=True):
        expected = np.array([mass[prefix + (s,)] for s in a.alphabet] + [stop[prefix]])
        assert np.allclose(row, expected / mass[prefix], rtol=1e-9, atol=1e-12)
    single = am.next_symbol_distribution(a, possible[-1])
    assert single.shape == (len(a.alphabet) + 1,)
    assert np.allclose(single, distributions[-1], rtol=1e-12, atol=1e-15)


@given(st.one_of(pdfas(), markov_chains()).flatmap(
    lambda a: st.tuples(st.just(a), st.lists(strings_over(a.alphabet), max_size=8))))
def test_log_probability_is_the_product_along_trace(case):
    a, strings = case
    expected = np.array([trace_probability(a, w) for w in strings])
    result = am.log_probability(a, strings)
    assert result.shape == (len(strings),)
    with np.errstate(divide="ignore"):
        assert np.allclose(result, np.log(expected), rtol=1e-12, atol=1e-12)
    assert np.array_equal(np.isneginf(result), expected == 0)


@given(pfas(max_states=4).flatmap(
    lambda a: st.tuples(st.just(a), st.lists(strings_over(a.alphabet), max_size=8))))
def test_pfa_probability_matches_an_independent_forward_algorithm(case):
    a, strings = case
    expected = np.array([forward_probability(a, w) for w in strings])
    assert np.allclose(am.probability(a, strings), expected, rtol=1e-9, atol=1e-300)


@settings(max_examples=40)
@given(pfas(max_states=4).flatmap(
    lambda a: st.tuples(st.just(a), st.lists(strings_over(a.alphabet, max_length=12), min_size=1,
                                             max_size=6))),
       st.sampled_from([2.0, 1e-3]))
def test_rescaled_forward_vectors_keep_every_probability(case, rescale):
    # 2.0: every step rescales (a mass never exceeds 1); 1e-3: some steps do, after a few symbols
    a, strings = case
    expected = np.array([forward_probability(a, w) for w in strings])
    with mock.patch.object(engine, "RESCALE", rescale):
        assert np.allclose(am.probability(a, strings), expected, rtol=1e-9, atol=1e-300)
        possible = [w for w, p in zip(strings, expected, strict=True) if p > 0]
        if possible:
            rows = [table[-1] for table in am.prefix_distributions(a, possible)]
            assert np.allclose(am.next_symbol_distribution(a, possible), rows, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("n_symbols", [127, 300])
def test_pfa_probability_over_wide_alphabets(n_symbols):
    # the forward pass sorts the codes of each step on the narrowest integer type holding them
    alphabet = [f"s{i}" for i in range(n_symbols)]
    rng = np.random.default_rng(n_symbols)
    weights = rng.dirichlet(np.ones(2 * n_symbols + 1), size=2)
    states = {name: {"final": float(w[-1]), "next": {
        symbol: {"p": float(w[2 * i]), "q": float(w[2 * i + 1])} for i, symbol in enumerate(alphabet)}}
        for name, w in zip("pq", weights, strict=True)}
    a = am.from_dict({"kind": "pfa", "alphabet": alphabet, "start": {"p": 0.5, "q": 0.5},
                      "states": states})
    strings = [tuple(alphabet[i] for i in rng.integers(n_symbols, size=length))
               for length in rng.integers(0, 6, size=40)]
    expected = [forward_probability(a, w) for w in strings]
    assert np.allclose(am.probability(a, strings), expected, rtol=1e-12, atol=0)


@settings(max_examples=20)
@given(pfas(max_states=3, max_symbols=2))
def test_pfa_probability_is_the_sum_over_state_paths(a):
    strings = all_strings(a.alphabet, 3)
    expected = [path_sum_probability(a, w) for w in strings]
    assert np.allclose(am.probability(a, strings), expected, rtol=1e-9, atol=1e-300)


@given(probabilistic_automata(max_states=4, max_symbols=3).flatmap(
    lambda a: st.tuples(st.just(a), strings_over(a.alphabet, max_length=5))))
def test_prefix_probability_sums_probability_over_extensions_and_stop(case):
    a, prefix = case
    # P(pΣ*) = P(p) + Σ_σ P(pσΣ*)
    parts = am.probability(a, prefix) + sum(am.prefix_probability(a, prefix + (s,))
                                            for s in a.alphabet)
    assert am.prefix_probability(a, prefix) == pytest.approx(parts, rel=1e-9, abs=1e-300)


def test_batches_of_mixed_lengths_match_single_strings(examples_dir):
    a = am.load(examples_dir / "i_before_e_pfa.yaml")
    strings = list(am.sample(a, 2500, seed=3)) + [(), ("e", "i"), tuple("cie")]  # > one chunk
    batch = am.log_probability(a, strings)
    singles = np.array([am.log_probability(a, w) for w in strings])
    assert np.array_equal(batch, singles)
    assert np.isneginf(batch[-2:]).all() and np.isfinite(batch[:-2]).all()


ONE_STRING_FUNCTIONS = (am.log_probability, am.probability, am.prefix_probability,
                        am.next_symbol_distribution)


@settings(max_examples=60)
@given(st.one_of(probabilistic_automata(max_states=5, max_symbols=3),
                 pdfas(max_symbols=3, tricky_symbols=True)).flatmap(
    lambda a: st.tuples(st.just(a), st.lists(strings_over(a.alphabet, max_length=8),
                                             min_size=1, max_size=engine.SMALL_BATCH))))
def test_one_string_and_small_batches_answer_exactly_as_the_batched_engine(case):
    # Deterministic kinds walk plain-Python tables for one string or a small batch; every
    # answer must be the batched engine's, bit for bit (the same float64 logs added in the same
    # order). Nondeterministic kinds answer them with the batched engine too, whose BLAS matrix
    # products may sum a row in another order in a batch of another size: 1e-13 relative there.
    a, strings = case
    texts = [am.format_string(a.alphabet, x) for x in strings]
    forms = (strings,) if any(" " in s for s in a.alphabet) else (strings, texts)  # "- x"
    for function, batch in itertools.product(ONE_STRING_FUNCTIONS, forms):
        if function is am.next_symbol_distribution:
            batch = [x for x in batch if am.prefix_probability(a, x) > 0]  # others raise
        if not batch:
            continue
        padding = [batch[0]] * (engine.SMALL_BATCH + 1 - len(batch))  # past SMALL_BATCH: chunks
        batched = function(a, batch + padding)[: len(batch)].tolist()
        for result in (function(a, batch).tolist(), [np.asarray(function(a, x)).tolist()
                                                     for x in batch]):
            if a.is_deterministic:
                assert result == batched
            else:
                assert np.allclose(result, batched, rtol=1e-13, atol=0)


def test_one_string_errors_and_zeros_are_the_batched_ones():
    a = am.loads("kind: pdfa\nalphabet: [a, b]\nstart: p\nstates: {p: {final: 0.5, "
                 "next: {a: {p: 0.5}}}}")
    for function, string in itertools.product(ONE_STRING_FUNCTIONS, ("az", ("a", 1))):
        single = pytest.raises(am.UnknownSymbolError, function, a, string)
        batched = pytest.raises(am.UnknownSymbolError, function, a, [string] * 20)
        assert str(single.value) == str(batched.value)
    assert am.log_probability(a, "ab") == -math.inf == am.log_probability(a, ["ab"] * 20)[0]
    assert am.accepts(a, ("a", "a")) and am.accepts(a, ("a", 1)) is False
    with pytest.raises(am.ImpossiblePrefixError, match="'ab' has probability 0"):
        am.next_symbol_distribution(a, "ab")


def test_large_automata_build_their_walk_rows_on_first_visit(monkeypatch):
    monkeypatch.setattr(engine, "EAGER_MOVES", 0)
    a = am.loads("kind: pdfa\nalphabet: [a, b]\nstart: p\nstates:\n"
                 "  p: {final: 0.5, next: {a: {q: 0.25}, b: {p: 0.25}}}\n"
                 "  q: {final: 0.5, next: {a: {p: 0.5}}}\n")
    assert am.log_probability(a, "b") == math.log(0.25 * 0.5)
    moves = a._derived[engine._walk_tables].moves
    assert isinstance(moves, engine._LazyMoves) and sorted(moves) == [0]  # q not visited yet
    log = am.log_probability(a, "aa")
    assert sorted(moves) == [0, 1] and log == math.log(0.25 * 0.5 * 0.5)
    assert log == am.log_probability(a, ["aa"] * (engine.SMALL_BATCH + 1))[0]
    copy = pickle.loads(pickle.dumps(a))  # the tables (a closure inside) stay behind
    assert copy._derived == {} and am.log_probability(copy, "aa") == log


def test_one_string_gives_a_float_and_a_list_an_array():
    a = am.loads("kind: pdfa\nalphabet: [a, b]\nstart: q\n"
                 "states: {q: {final: 0.5, next: {a: {q: 0.25}, b: {q: 0.25}}}}")
    assert isinstance(am.log_probability(a, "ab"), float)
    assert isinstance(am.probability(a, ("a", "b")), float)
    assert am.probability(a, "ab") == pytest.approx(0.25 * 0.25 * 0.5)
    assert am.probability(a, ["ab", "", ["a"]]).tolist() == pytest.approx([1 / 32, 0.5, 1 / 8])
    assert am.prefix_probability(a, "") == 1.0
    assert am.next_symbol_distribution(a, ["a", "b"]).shape == (2, 3)


def test_ten_thousand_symbols_do_not_underflow(examples_dir):
    chain = am.load(examples_dir / "abe_markov.yaml")
    string = "AE" * 5000
    expected = math.log(0.6) + 5000 * math.log(0.3) + 4999 * math.log(0.8) + math.log(0.1)
    assert 0.6 * 0.3**5000 == 0.0  # the plain product underflows
    assert am.log_probability(chain, string) == pytest.approx(expected, rel=1e-12)
    # a PFA whose paths all carry the same weight: P(a^n) = 0.9^n · 0.1 along every path
    pfa = am.loads("kind: pfa\nalphabet: [a]\nstart: {p: 0.5, q: 0.5}\nstates:\n"
                   "  p: {final: 0.1, next: {a: {p: 0.45, q: 0.45}}}\n"
                   "  q: {final: 0.1, next: {a: {p: 0.45, q: 0.45}}}\n")
    for n in (0, 1, 10_000):
        log = am.log_probability(pfa, "a" * n)
        assert np.isfinite(log)
        assert log == pytest.approx(n * math.log(0.9) + math.log(0.1), rel=1e-12)
    assert am.prefix_probability(pfa, "a" * 10_000) == 0.9**10_000  # underflows to 0 honestly


@settings(max_examples=15)
@given(pdfas(max_symbols=2).flatmap(
    lambda a: st.tuples(st.just(a), st.lists(strings_over(a.alphabet, max_length=3), min_size=1,
                                             max_size=4))))
def test_long_repeated_strings_equal_the_sum_of_logs(case):
    a, pieces = case
    string = tuple(itertools.chain.from_iterable(pieces)) * (10_000 // max(1, sum(map(len, pieces))))
    states = [a.state_index(s) for s in am.trace(a, string)]
    expected = -math.inf
    if len(states) == len(string) + 1 and a.final[states[-1]] > 0:
        expected = math.log(a.final[states[-1]]) + sum(
            math.log(a.symbol_prob[s, a.symbol_index(x)]) for s, x in zip(states, string,
                                                                          strict=False))
    assert am.log_probability(a, string) == pytest.approx(expected, rel=1e-9)


@given(probabilistic_automata(max_states=4, max_symbols=3).flatmap(
    lambda a: st.tuples(st.just(a), st.lists(strings_over(a.alphabet), max_size=6))))
def test_prefix_distributions_rows_are_next_symbol_distributions(case):
    a, strings = case
    tables = am.prefix_distributions(a, strings)
    assert len(tables) == len(strings)
    for string, table in zip(strings, tables, strict=True):
        assert table.shape == (len(string) + 1, len(a.alphabet) + 1)
        for t in range(len(string) + 1):
            if am.prefix_probability(a, string[:t]) > 0:
                assert np.allclose(table[t], am.next_symbol_distribution(a, string[:t]),
                                   rtol=1e-12, atol=1e-15)
            else:
                assert np.isnan(table[t]).all()


@given(st.one_of(pdfas(), markov_chains()).flatmap(
    lambda a: st.tuples(st.just(a), st.lists(strings_over(a.alphabet), max_size=6))))
def test_prefix_states_follow_trace(case):
    a, strings = case
    for string, states in zip(strings, am.prefix_states(a, strings), strict=True):
        visited = [a.state_index(s) for s in am.trace(a, string)]
        dead = [len(a.states)] * (len(string) + 1 - len(visited))
        assert states.tolist() == visited + dead


def test_errors_are_typed_and_clear():
    dfa = am.loads("kind: dfa\nalphabet: [a]\nstart: s\nstates: {s: {final: true}}")
    with pytest.raises(am.AutomatonError, match="as_probabilistic"):
        am.probability(dfa, "a")
    a = am.as_probabilistic(dfa)
    with pytest.raises(am.UnknownSymbolError, match="'b' at position 1"):
        am.log_probability(a, "ab")
    with pytest.raises(am.ImpossiblePrefixError, match="'a' has probability 0"):
        am.next_symbol_distribution(a, ["", "a"])
    assert am.probability(a, "a") == 0.0 and am.prefix_probability(a, "a") == 0.0


@given(probabilistic_automata(max_states=5, max_symbols=3))
def test_total_probability_is_one(a):
    assert total_probability(a) == pytest.approx(1.0, abs=1e-9)


@given(dfas())
def test_a_dfa_as_a_pdfa_gives_positive_probability_exactly_to_its_language(dfa):
    p = am.as_probabilistic(dfa)
    assert p.kind == "pdfa" and total_probability(p) == pytest.approx(1.0)
    strings = all_strings(dfa.alphabet, 5 if len(dfa.alphabet) < 3 else 4)
    positive = am.probability(p, strings) > 0
    assert positive.tolist() == [am.accepts(dfa, w) for w in strings]


def test_expected_length_and_visits_by_hand():
    # geometric: stay with probability 0.75, so 3 symbols on average
    a = am.loads("kind: pdfa\nalphabet: [a]\nstart: q\nstates: {q: {final: 0.25, "
                 "next: {a: {q: 0.75}}}}")
    assert expected_length(a) == pytest.approx(3.0)
    assert expected_visits(a).tolist() == pytest.approx([4.0])
