"""The verdict: one sentence on the model against the truth and the baseline, what a DFA is
assumed to mean, and why two metrics may rank the models otherwise."""

from __future__ import annotations

import copy
import json

import pytest
from markupsafe import escape

import automata as am
from compare.comparison import compare_models
from compare.report import metrics_document, render_html
from compare.verdict import verdict

PFA = "i_before_e_pfa.yaml"


@pytest.fixture(scope="module")
def corpora(examples_dir):
    truth = am.load(examples_dir / PFA)
    train = [tuple(s) for s in am.sample(truth, 400, seed=1)]
    val = [tuple(s) for s in am.sample(truth, 100, seed=2)]
    return truth, train, val, [tuple(s) for s in am.sample(truth, 300, seed=3)]


@pytest.fixture(scope="module")
def unigram(corpora):
    """An order-0 model against an order-≥1 baseline: the baseline is closer."""
    truth, train, val, test = corpora
    model = am.fit_markov(train, alphabet=truth.alphabet, order=0, smoothing=1.0)
    return compare_models(truth, model, test, label="unigram", train=train, val=val,
                          n_samples=100)


def test_the_verdict_says_the_baseline_is_closer_and_by_how_much(unigram):
    judged = verdict(unigram)
    model = unigram.evaluations["model"].metrics["kl_bits_per_symbol"]
    baseline = unigram.evaluations["baseline"].metrics["kl_bits_per_symbol"]
    assert baseline < model
    assert judged.closer == "baseline" and judged.kl_ratio == pytest.approx(model / baseline)
    assert not judged.matched and "does not match the truth" in judged.text
    order = unigram.baseline_info["order"]
    assert f"order-{order} n-gram baseline is {judged.kl_ratio:.1f}× closer" in judged.text
    document = json.loads(json.dumps(metrics_document(unigram)))
    assert document["verdict"]["text"] == judged.text
    assert document["verdict"]["closer"] == "baseline"
    assert document["verdict"]["kl_ratio"] == pytest.approx(model / baseline)
    page = render_html(unigram)
    assert page.index("data-verdict") < page.index("Headline metrics")  # the answer comes first


def test_a_model_that_is_the_truth_matches_and_is_closer(corpora):
    truth, train, val, test = corpora
    judged = verdict(compare_models(truth, truth, test, label="copy", train=train, val=val,
                                    n_samples=50))
    assert judged.matched and judged.closer == "model" and judged.kl_ratio == 0.0
    assert judged.text.startswith("The copy matches the truth (KL 0.0000 bits/symbol).")
    assert "infinitely closer" in judged.text


def test_illegal_samples_are_part_of_the_verdict(corpora):
    truth, _, _, test = corpora
    loose = am.fit_markov(test, alphabet=truth.alphabet, order=0, smoothing=1.0)
    judged = verdict(compare_models(truth, loose, test, label="loose", n_samples=200))
    assert judged.closer is None and judged.kl_ratio is None  # no baseline without training data
    assert "of its samples are illegal" in judged.text


def test_metrics_that_rank_otherwise_than_kl_are_explained(unigram):
    changed = copy.deepcopy(unigram)
    model, baseline = (changed.evaluations[r].metrics for r in ("model", "baseline"))
    model["pautomac_perplexity"], baseline["pautomac_perplexity"] = 41.76, 42.03
    (disagreement,) = [d for d in verdict(changed).disagreements
                       if d.metric == "pautomac_perplexity"]
    assert disagreement.favours == "model"
    assert "PAutomaC perplexity favours the unigram (41.760 against 42.030)" in disagreement.text
    assert f"over the {len(set(unigram.evaluations['oracle'].scores.strings))} distinct test " \
        "strings, so the few most probable (short) strings decide it" in disagreement.text
    assert escape(disagreement.text) in render_html(changed)
    model["pautomac_perplexity"] = 42.0301  # prints as a tie: it ranks nothing
    baseline["pautomac_perplexity"] = 42.0299
    assert "pautomac_perplexity" not in [d.metric for d in verdict(changed).disagreements]


@pytest.mark.parametrize(("file", "noticed"), [("abe_fsm.yaml", True), (PFA, False)])
def test_a_dfa_is_compared_as_the_uniform_distribution_and_says_so(examples_dir, file, noticed):
    truth = am.load(examples_dir / file)
    test = [tuple(s) for s in am.sample(truth, 100, seed=0)]
    comparison = compare_models(truth, truth, test, n_samples=0)
    said = [n for n in comparison.notices if "uniform distribution over each state's moves" in n]
    assert len(said) == noticed  # once, though the model is that same DFA
    if noticed:
        assert said[0].startswith(f"{truth.name} is a dfa")
        assert escape(said[0]) in render_html(comparison)
        assert metrics_document(comparison)["notices"] == said


FORGETFUL = """
kind: pdfa
name: forgetful
alphabet: [x, y, a, b]
start: start
states:
  start: {final: 0.0, next: {x: {noise: 0.5}, y: {noise: 0.5}}}
  noise: {final: 0.0, next: {a: {noise: 0.475}, b: {noise: 0.475}, x: {end: 0.025}, y: {end: 0.025}}}
  end:   {final: 1.0}
"""


def test_a_model_that_forgets_the_first_symbol_is_said_to_merge_the_states(examples_dir):
    truth = am.load(examples_dir / "long_memory.yaml")
    test = [tuple(s) for s in am.sample(truth, 300, seed=0)]
    judged = verdict(compare_models(truth, am.loads(FORGETFUL), test, label="forgetful",
                                    n_samples=300))
    assert "half (" in judged.text and "of its samples are illegal" in judged.text
    assert "it does not tell states noise_x and noise_y apart (the truth's next-symbol " \
           "distributions there differ by TV 0.05, its own by 0)" in judged.text
