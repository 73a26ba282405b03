"""Sampling: frequencies against exact probabilities (chi-square, fixed seeds), temperature, cuts."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from strategies import (
    all_strings,
    any_automata,
    dfas,
    markov_chains,
    nfas,
    pdfas,
    pfas,
    probabilistic_automata,
)

import automata as am
from automata.sampling import sample_codes

P_VALUE = 1e-4  # fixed seeds make every test deterministic; this only guards against bad luck


def chi_square_p_value(samples, exact: dict[tuple[str, ...], float]) -> float:
    """p-value of the sampled frequencies against ``exact`` probabilities: strings expected at
    least 5 times get a bin each, every other string (longer ones included) shares one bin."""
    n = len(samples)
    counts = Counter(samples)
    binned = [w for w, p in exact.items() if n * p >= 5]
    observed = [counts[w] for w in binned]
    expected = [n * exact[w] for w in binned]
    rest_observed, rest_expected = n - sum(observed), n - sum(expected)
    if rest_expected > 1e-9 * n:
        observed.append(rest_observed)
        expected.append(rest_expected)
    else:
        assert rest_observed == 0
    if len(observed) < 2:
        return 1.0
    expected = np.array(expected) * (n / sum(expected))  # rounding of the exact sum
    return float(stats.chisquare(observed, expected).pvalue)


def exact_probabilities(a: am.Automaton, max_length: int) -> dict[tuple[str, ...], float]:
    strings = all_strings(a.alphabet, max_length)
    return dict(zip(strings, am.probability(am.as_probabilistic(a), strings), strict=True))


def tempered(row: np.ndarray, alpha: float) -> np.ndarray:
    """P(σ)^α renormalised over the positive entries (α = 0: uniform over them)."""
    positive = row > 0
    if np.isinf(alpha):
        weights = positive & (row == row.max())
    else:
        weights = np.where(positive, np.where(positive, row, 1.0) ** alpha, 0.0)
    return weights / weights.sum()


def tempered_probabilities(a: am.Automaton, alpha: float,
                           max_length: int) -> dict[tuple[str, ...], float]:
    """The exact distribution of α-tempered sampling, string by string, from the next-symbol
    distributions after each prefix."""
    strings = [w for w, p in exact_probabilities(a, max_length).items() if p > 0]
    result = {}
    for string, table in zip(strings, am.prefix_distributions(a, strings), strict=True):
        codes = [a.alphabet.index(s) for s in string] + [len(a.alphabet)]  # the last is $
        result[string] = float(np.prod([tempered(row, alpha)[c]
                                        for row, c in zip(table, codes, strict=True)]))
    return result


def _max_length_for(a: am.Automaton) -> int:
    return 6 if len(a.alphabet) <= 2 else 5


@settings(max_examples=25)
@given(probabilistic_automata(max_states=4, max_symbols=3))
def test_sample_frequencies_match_exact_probabilities(a):
    samples = am.sample(a, 2000, seed=0)
    assert chi_square_p_value(list(samples), exact_probabilities(a, _max_length_for(a))) > P_VALUE


@pytest.mark.parametrize("name", ["abe_markov", "i_before_e_pfa", "quotes"])
def test_example_sample_frequencies_match_exact_probabilities(examples_dir, name):
    a = am.load(examples_dir / f"{name}.yaml")
    samples = am.sample(a, 20_000, seed=1)
    assert chi_square_p_value(list(samples), exact_probabilities(a, 4)) > P_VALUE


@settings(max_examples=25)
@given(st.one_of(dfas(max_symbols=3), nfas(max_symbols=3)))
def test_dfa_and_nfa_sampling_is_uniform_over_moves_that_can_still_accept(a):
    # as_probabilistic is exactly that distribution; check it by hand on the first step too
    p = am.as_probabilistic(a)
    samples = am.sample(a, 2000, seed=2)
    assert chi_square_p_value(list(samples), exact_probabilities(p, _max_length_for(a))) > P_VALUE


def test_dfa_sampling_by_hand(examples_dir):
    # abe: from s the moves A, B, E and the stop are all allowed: 1/4 each
    a = am.load(examples_dir / "abe_fsm.yaml")
    exact = {(): 0.25, ("A",): 1 / 16, ("E",): 1 / 16, ("B", "E"): 1 / 16}
    exact |= {("A", "A"): 1 / 64, ("B", "E", "A"): 1 / 64}
    samples = am.sample(a, 20_000, seed=3)
    assert chi_square_p_value(list(samples), exact) > P_VALUE


@given(any_automata(max_states=4, max_symbols=3), st.integers(0, 2**32 - 1))
def test_every_sampled_string_is_accepted_and_has_positive_probability(a, seed):
    samples = am.sample(a, 100, seed=seed, max_length=200)
    finished = [w for w, cut in zip(samples, samples.cut, strict=True) if not cut]
    assert all(am.accepts(a, w) for w in finished)
    if a.is_probabilistic and finished:
        assert np.isfinite(am.log_probability(a, finished)).all()


@given(any_automata(max_states=4, max_symbols=3), st.integers(0, 5))
def test_strings_are_cut_exactly_at_max_length(a, max_length):
    samples = am.sample(a, 50, seed=4, max_length=max_length)
    lengths = np.array([len(w) for w in samples])
    assert (lengths <= max_length).all()
    assert samples.cut.dtype == bool
    assert samples.cut.tolist() == (lengths == max_length).tolist()


def test_greedy_loop_is_cut_at_the_default_max_length():
    a = am.loads("kind: markov\nalphabet: [x]\nstart: {x: 1.0}\nnext: {x: {x: 0.6, $: 0.4}}")
    samples = am.sample(a, 3, seed=0, alpha=float("inf"))
    assert am.DEFAULT_MAX_LENGTH == 1000
    assert [len(w) for w in samples] == [1000] * 3 and samples.cut.all()


def test_cut_strings_are_reported(examples_dir):
    a = am.load(examples_dir / "line_position.yaml")  # every string has at least 13 symbols
    samples = am.sample(a, 20, seed=5, max_length=5)
    assert samples.cut.all() and all(len(w) == 5 for w in samples)
    samples = am.sample(a, 20, seed=5, max_length=100)
    assert [len(w) for w, cut in zip(samples, samples.cut, strict=True) if not cut]


@settings(max_examples=20)
@given(probabilistic_automata(max_states=4, max_symbols=3))
def test_alpha_one_is_plain_sampling(a):
    plain = am.sample(a, 2000, seed=6)
    assert list(am.sample(a, 2000, seed=6, alpha=1.0)) == list(plain)
    # the belief-state sampler (any α ≠ 1) agrees with the automaton itself at α → 1
    near = am.sample(a, 2000, seed=7, alpha=1 - 1e-12)
    assert chi_square_p_value(list(near), exact_probabilities(a, _max_length_for(a))) > P_VALUE
    observed = Counter(plain) + Counter(near)
    common = [w for w, c in observed.items() if c >= 20]
    if len(common) >= 2:
        table = [[Counter(plain)[w] for w in common], [Counter(near)[w] for w in common]]
        assert stats.chi2_contingency(table).pvalue > P_VALUE


@settings(max_examples=20)
@given(probabilistic_automata(max_states=4, max_symbols=2), st.sampled_from([0.0, 0.5, 2.0]))
def test_tempered_sampling_follows_powered_next_symbol_distributions(a, alpha):
    samples = am.sample(a, 2000, seed=8, alpha=alpha)
    exact = tempered_probabilities(a, alpha, 6)
    assert chi_square_p_value(list(samples), exact) > P_VALUE


def test_alpha_zero_is_uniform_over_allowed_symbols_by_hand(examples_dir):
    # abe_markov: first symbol A or E (1/2 each); after A: A, B, E, $ (1/4); after E: A, E, $
    a = am.load(examples_dir / "abe_markov.yaml")
    exact = {("A",): 1 / 8, ("E",): 1 / 6, ("A", "B", "E"): 1 / 2 * 1 / 4 * 1 * 1 / 3,
             ("E", "E"): 1 / 18, ("E", "A"): 1 / 24}
    samples = am.sample(a, 20_000, seed=9, alpha=0)
    assert chi_square_p_value(list(samples), exact) > P_VALUE


@given(st.one_of(pdfas(max_states=4), markov_chains(), pfas(max_states=3)),
       st.integers(0, 2**32 - 1))
def test_alpha_infinity_is_greedy(a, seed):
    samples = am.sample(a, 20, seed=seed, alpha=float("inf"), max_length=30)
    tables = am.prefix_distributions(a, list(samples))
    for string, table, cut in zip(samples, tables, samples.cut, strict=True):
        chosen = [a.alphabet.index(s) for s in string] + ([] if cut else [len(a.alphabet)])
        for row, c in zip(table, chosen, strict=False):
            assert row[c] == row.max()


def test_alpha_infinity_with_unique_maxima_gives_one_string():
    a = am.loads("kind: markov\nalphabet: [x, y]\nstart: {x: 0.7, y: 0.3}\n"
                 "next: {x: {y: 0.9, $: 0.1}, y: {x: 0.2, $: 0.8}}")
    assert set(am.sample(a, 50, seed=11, alpha=float("inf"))) == {("x", "y")}


@given(any_automata(max_states=3, max_symbols=2))
def test_seeds_make_sampling_reproducible(a):
    first = am.sample(a, 30, seed=12)
    assert list(am.sample(a, 30, seed=12)) == list(first)
    assert list(am.sample(a, 30, seed=np.random.default_rng(12))) == list(first)
    assert am.sample(a, 30, seed=12).cut.tolist() == first.cut.tolist()


def test_samples_are_tuples_of_symbols(examples_dir):
    a = am.load(examples_dir / "abe_markov.yaml")
    samples = am.sample(a, 5, seed=13)
    assert len(samples) == 5 and isinstance(samples[0], tuple)
    assert all(isinstance(s, str) and s in a.alphabet for w in samples for s in w)
    assert list(samples) == [samples[i] for i in range(5)]
    assert len(am.sample(a, 0, seed=1)) == 0
    different = {tuple(am.sample(a, 5, seed=s)) for s in range(5)}
    assert len(different) > 1


@pytest.mark.parametrize("arguments", [
    {"n": -1}, {"n": 1.5}, {"n": True}, {"alpha": -1.0}, {"alpha": float("nan")},
    {"alpha": "hot"}, {"max_length": -1}, {"max_length": 2.5},
])
def test_bad_arguments_raise_typed_errors(examples_dir, arguments):
    a = am.load(examples_dir / "abe_markov.yaml")
    with pytest.raises(am.AutomatonError):
        am.sample(a, **({"n": 3} | arguments))


def test_temper_by_hand():
    row = np.array([0.5, 0.25, 0.25, 0.0])
    assert am.temper(row, 1.0) is row
    assert am.temper(row, 0.0).tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3, 0.0])
    assert am.temper(row, 2.0).tolist() == pytest.approx([4 / 6, 1 / 6, 1 / 6, 0.0])
    assert am.temper(row, float("inf")).tolist() == [1.0, 0.0, 0.0, 0.0]
    ties = am.temper(np.array([[0.4, 0.4, 0.2]]), float("inf"))
    assert ties.tolist() == [[0.5, 0.5, 0.0]]
    tiny = am.temper(np.array([1e-300, 1e-310, 0.0]), 50.0)  # no overflow, no NaN
    assert np.isfinite(tiny).all() and tiny[0] == pytest.approx(1.0)


@pytest.mark.parametrize("alphabet", [["a", "é", "😀", "\ud800"], ["the", "c", "a t"]])
def test_samples_are_the_sampled_codes_as_symbols(alphabet):
    # one-character alphabets are built through one str, others through a tuple of symbols
    a = am.from_dict({"kind": "markov", "alphabet": alphabet, "normalize": True,
                      "start": dict.fromkeys(alphabet, 1),
                      "next": {s: dict.fromkeys([*alphabet, "$"], 1) for s in alphabet}})
    codes, _ = sample_codes(a, 200, seed=5)
    expected = [tuple(alphabet[c] for c in string) for string in codes]
    assert list(am.sample(a, 200, seed=5)) == expected
    assert sum(map(len, expected)) > 500
