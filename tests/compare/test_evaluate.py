"""evaluate() and the breakdowns: the oracle, exact values, hand-computed cases, laws."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import automata as am
import compare
from compare.evaluate import DEFAULT_ALPHAS
from compare.models import PrefixModel, column_order
from tests.strategies import pdfas, probabilistic_automata

COIN = """
kind: pdfa
name: coin
alphabet: [a, b]
start: q
states:
  q: {final: 0.2, next: {a: {q: 0.5}, b: {r: 0.3}}}
  r: {final: 0.5, next: {a: {q: 0.25}, b: {r: 0.25}}}
"""
BENT = """
kind: pdfa
name: bent
alphabet: [a, b]
start: q
states:
  q: {final: 0.3, next: {a: {q: 0.4}, b: {r: 0.3}}}
  r: {final: 0.4, next: {a: {q: 0.4}, b: {r: 0.2}}}
"""
NFA_PFA = """
kind: pfa
alphabet: [a, b]
start: {q0: 0.6, q1: 0.4}
states:
  q0: {final: 0.2, next: {a: {q0: 0.3, q1: 0.3}, b: {q1: 0.2}}}
  q1: {final: 0.5, next: {b: {q0: 0.5}}}
"""


def _finished(truth, n: int, seed: int) -> list[tuple[str, ...]]:
    """Sampled strings that ended by themselves (a cut string may have probability 0)."""
    drawn = am.sample(truth, n, seed=seed, max_length=100)
    return [s for s, cut in zip(drawn, drawn.cut, strict=True) if not cut]


def _oracle_checks(truth, result):
    values = result.metrics
    assert values["kl_bits_per_symbol"] == 0.0
    assert values["kl_bits_per_string"] == 0.0
    assert values["mean_tv"] == 0.0 and values["max_tv"] == 0.0
    assert values["wer"] == 0.0
    assert values["ndcg5"] == 1.0
    assert values["pautomac_perplexity"] == values["true_perplexity"]
    assert values["cross_entropy_bits_per_symbol"] == values["entropy_bits_per_symbol"]


@pytest.mark.parametrize("name", ["i_before_e_pfa.yaml", "long_memory.yaml", "abe_markov.yaml",
                                  "abe_fsm.yaml"])
def test_oracle_on_the_examples(examples_dir, name):
    truth = am.load(examples_dir / name)
    result = compare.evaluate(truth, truth, am.sample(truth, 400, seed=1), n_samples=200, seed=2)
    _oracle_checks(truth, result)
    assert result.metrics["illegal_sample_fraction"] == 0.0
    assert all(row.kl_bits_per_symbol == 0.0 for row in result.sweep if row.alpha == 1.0)


@given(probabilistic_automata(max_states=4, max_symbols=3), st.integers(0, 2**16))
@settings(max_examples=25)
def test_oracle_on_random_automata(truth, seed):
    result = compare.evaluate(truth, truth, _finished(truth, 30, seed), n_samples=0)
    _oracle_checks(truth, result)


def test_estimated_kl_agrees_with_the_exact_value():
    truth, model = am.loads(COIN), am.loads(BENT)
    exact = compare.exact_distances(truth, model)
    result = compare.evaluate(truth, model, am.sample(truth, 4000, seed=3), n_samples=0)
    for key in ("kl_bits_per_string", "kl_bits_per_symbol"):
        error = abs(result.metrics[key] - exact[key])
        assert error <= 3 * result.stderr[key], (key, result.metrics[key], exact[key])
    assert exact["kl_bits_per_string"] > 0.05  # the test is not trivially about zeros


def _perturbed(a: am.Automaton, weights: list[float]) -> am.Automaton:
    """Same support, other probabilities: a model whose KL from ``a`` is finite."""
    table = np.column_stack([a.symbol_prob, a.final])
    noise = np.resize(np.asarray(weights), table.shape)
    table = np.where(table > 0, table * noise, 0.0)
    table /= table.sum(axis=1, keepdims=True)
    return am.Automaton(kind=a.kind, alphabet=a.alphabet, states=a.states, initial=a.initial,
                        final=table[:, -1], next_state=a.next_state, symbol_prob=table[:, :-1])


@given(pdfas(max_states=4, max_symbols=3), st.lists(st.floats(0.2, 5), min_size=1, max_size=12),
       st.integers(0, 2**16))
@settings(max_examples=25)
def test_kl_is_nonnegative_up_to_its_error_and_tv_ndcg_are_bounded(truth, weights, seed):
    model = _perturbed(truth, weights)
    result = compare.evaluate(truth, model, _finished(truth, 200, seed), n_samples=0)
    values, errors = result.metrics, result.stderr
    for key in ("kl_bits_per_symbol", "kl_bits_per_string"):
        assert values[key] >= -4 * np.nan_to_num(errors[key]) - 1e-12
    assert 0.0 <= values["mean_tv"] <= values["max_tv"] + 1e-12 <= 1.0 + 2e-12
    assert 0.0 <= values["ndcg5"] <= 1.0 + 1e-12
    assert (result.scores.kl >= -1e-12).all()


def test_a_next_symbol_only_model_scores_like_the_automaton():
    truth, model = am.loads(COIN), am.loads(BENT)
    test = am.sample(truth, 100, seed=4)
    wrapped = PrefixModel(compare.AutomatonModel(model))
    direct = compare.evaluate(truth, model, test, n_samples=0).metrics
    indirect = compare.evaluate(truth, wrapped, test, n_samples=0).metrics
    for key, value in direct.items():
        assert indirect[key] == pytest.approx(value, nan_ok=True)


class _Swapped:
    """The truth itself with its alphabet in the other order: columns must be realigned."""

    def __init__(self, truth):
        self.truth = truth
        self.alphabet = truth.alphabet[::-1]

    def prefix_distributions(self, strings):
        rows = am.prefix_distributions(self.truth, strings)
        return [r[:, [1, 0, 2]] for r in rows]


def test_columns_follow_the_model_alphabet():
    truth = am.loads(COIN)
    result = compare.evaluate(truth, _Swapped(truth), am.sample(truth, 50, seed=5), n_samples=0)
    assert result.metrics["kl_bits_per_symbol"] == 0.0
    assert column_order(("a", "b"), ("b", "a")).tolist() == [1, 0, 2]
    with pytest.raises(ValueError, match="alphabet differs"):
        column_order(("a", "b"), ("a", "c"))


def test_a_test_string_outside_the_truth_is_an_error():
    truth = am.loads(
        "kind: pdfa\nalphabet: [a, b]\nstart: q\nstates: {q: {final: 0.5, next: {a: {q: 0.5}}}}")
    with pytest.raises(ValueError, match="probability 0"):
        compare.evaluate(truth, truth, [("a",), ("b",)], n_samples=0)


def test_per_state_means_are_the_state_divergences():
    truth, model = am.loads(COIN), am.loads(BENT)
    scores = compare.score_prefixes(truth, model, am.sample(truth, 300, seed=6))
    rows = {row.state: row for row in compare.per_state(truth, scores)}
    p = np.column_stack([truth.symbol_prob, truth.final])
    q = np.column_stack([model.symbol_prob, model.final])
    expected = compare.metrics.conditional_kl(p, q)  # same structure: each prefix is in s in both
    assert rows["q"].mean_kl == pytest.approx(expected[0])
    assert rows["r"].mean_kl == pytest.approx(expected[1])
    assert rows["q"].visits + rows["r"].visits == len(scores.kl)
    assert rows["r"].q == pytest.approx(q[1].tolist())
    terms = compare.metrics.kl_terms(p, q)
    columns = truth.alphabet + ("$",)
    for s, state in enumerate(truth.states):
        assert rows[state].worst_symbol == columns[int(np.argmax(terms[s]))]
        assert rows[state].worst_symbol_kl == pytest.approx(terms[s].max())


def test_per_state_of_a_pfa_spreads_prefixes_by_belief():
    truth = am.loads(NFA_PFA)
    scores = compare.score_prefixes(truth, truth, am.sample(truth, 200, seed=7))
    rows = compare.per_state(truth, scores)
    assert sum(row.visits for row in rows) == pytest.approx(len(scores.kl))
    assert all(row.mean_kl == 0.0 for row in rows)


def test_per_position_counts_and_means():
    truth, model = am.loads(COIN), am.loads(BENT)
    test = [("a",), ("a", "b"), ()]
    scores = compare.score_prefixes(truth, model, test)
    rows = compare.per_position(scores)
    assert [row.count for row in rows] == [3, 2, 1]
    first = compare.metrics.conditional_kl(am.next_symbol_distribution(truth, [()]),
                                           am.next_symbol_distribution(model, [()]))[0]
    assert rows[0].mean_kl == pytest.approx(first)


def test_worst_prefixes_are_grouped_by_state_worst_first_with_both_distributions():
    truth, model = am.loads(COIN), am.loads(BENT)
    scores = compare.score_prefixes(truth, model, am.sample(truth, 200, seed=8))
    groups = compare.worst_prefixes(truth, model, scores)
    worst_in = {s: scores.kl[scores.states == i].max() for i, s in enumerate(truth.states)}
    assert [g.state for g in groups] == sorted(worst_in, key=lambda s: -worst_in[s])
    for group in groups:
        head = group.examples[0]
        assert group.kl[0] == pytest.approx(worst_in[group.state]) and group.kl[0] == max(group.kl)
        assert am.prefix_states(truth, [head])[0][-1] == truth.states.index(group.state)
        assert group.p == pytest.approx(am.next_symbol_distribution(truth, head).tolist())
        assert group.q == pytest.approx(am.next_symbol_distribution(model, head).tolist())
        state = truth.states.index(group.state)
        similar = (scores.states == state) & (scores.kl >= compare.breakdown.SIMILAR * group.kl[0])
        assert group.occurrences == similar.sum() >= group.prefixes >= len(group.examples)
    # the two automata share their structure, so every prefix in a state errs alike and one row
    # holds all of that state's distinct prefixes, with the suffix they share (r: after a b)
    prefixes = [s[:t] for s in scores.strings for t in range(len(s) + 1)]
    for group in groups:
        state = truth.states.index(group.state)
        assert group.prefixes == len({p for p, s in zip(prefixes, scores.states, strict=True)
                                      if s == state})
    assert next(g for g in groups if g.state == "r").suffix == ("b",)


def test_length_distribution_against_enumeration():
    truth = am.loads(NFA_PFA)
    exact = compare.length_distribution(truth, 4)
    for n in range(5):
        strings = list(itertools.product(truth.alphabet, repeat=n))
        assert exact[n] == pytest.approx(float(np.sum(am.probability(truth, strings)))
                                         if strings else am.probability(truth, ""))


def test_illegal_samples_and_the_alpha_sweep():
    truth = am.loads("kind: dfa\nalphabet: [a, b]\nstart: s\nstates:\n"
                     "  s: {final: true, next: {a: s, b: t}}\n  t: {final: false, next: {a: s}}")
    # a model that may end right after b, which the DFA rejects
    loose = am.loads("kind: pdfa\nalphabet: [a, b]\nstart: s\nstates:\n"
                     "  s: {final: 0.4, next: {a: {s: 0.3}, b: {t: 0.3}}}\n"
                     "  t: {final: 0.5, next: {a: {s: 0.5}}}")
    result = compare.evaluate(truth, loose, am.sample(truth, 300, seed=9), n_samples=2000,
                              seed=1)
    # P(the string ends right after a b) under the model, exactly: visits of t × 0.5
    from automata.analysis import expected_visits

    expected = expected_visits(loose)[1] * 0.5
    fraction = result.metrics["illegal_sample_fraction"]
    assert abs(fraction - expected) <= 4 * result.stderr["illegal_sample_fraction"]
    assert math.isinf(result.metrics["kl_bits_per_symbol"]) or \
        result.metrics["kl_bits_per_symbol"] > 0
    alphas = [row.alpha for row in result.sweep]
    assert alphas == list(DEFAULT_ALPHAS)
    summary = compare.sample_summary(truth, result.samples, result.sample_log_p)
    assert summary.illegal_fraction == fraction
    assert sum(summary.model_lengths) == pytest.approx(1.0)


def test_no_test_strings_is_a_clear_error():
    truth = am.loads(COIN)
    with pytest.raises(ValueError, match="no test strings"):
        compare.evaluate(truth, truth, [])


def test_results_read_well_in_a_terminal_and_in_jupyter():
    from compare.comparison import compare_models

    truth = am.loads("kind: markov\nalphabet: [x]\nstart: {x: 1.0}\nnext: {x: {x: 0.5, $: 0.5}}")
    other = am.loads("kind: markov\nalphabet: [x]\nstart: {x: 1.0}\nnext: {x: {x: 0.6, $: 0.4}}")
    comparison = compare_models(truth, other, am.sample(truth, 200, seed=0), label="guess",
                                n_samples=10)
    evaluation = comparison.evaluations["model"]
    kl = evaluation.metrics["kl_bits_per_symbol"]
    assert repr(evaluation).startswith(f"<Evaluation on 200 test strings: KL {kl:.4f} ± ")
    assert repr(comparison).startswith("<Comparison of guess with the truth: The guess ")
    page = comparison._repr_html_()
    assert "<th>guess</th><th>truth (oracle)</th>" in page
    assert f"<td class=\"l\">KL bits/symbol</td><td>{kl:.4f} ± " in page
    assert evaluation._repr_html_().startswith("<p>Evaluation on 200 test strings</p><table>")
