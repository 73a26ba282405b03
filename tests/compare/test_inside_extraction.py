"""Extraction: clustering (k-means, Ward), the PDFA built from cluster moves, and recovery of the truth."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import automata as am
from compare.exact import exact_distances
from compare.inside import (
    align,
    bits_per_symbol,
    build_pdfa,
    contingency,
    cut_tree,
    extract,
    kmeans,
    next_codes,
    purity,
    ward_tree,
)
from compare.inside.extraction import DRAWN_BELOW, drawn_like_truth
from tests.compare.test_inside_alignment import QUOTES, OneHotModel


@pytest.fixture(scope="module")
def abe(examples_dir):
    return am.load(examples_dir / "abe_markov.yaml")


def _extract(truth, strings, *, ks, distributions: bool, noise: float = 0.0, seed: int = 0,
             method: str = "kmeans"):
    alignment = align(truth, OneHotModel(truth, noise=noise, seed=seed), strings)
    split = np.arange(len(strings)) % 4
    rows = np.concatenate(am.prefix_distributions(truth, list(alignment.strings)))
    return alignment, extract(alignment.matrix(), alignment.strings, alignment.offsets,
                              truth.alphabet, train=split < 2, validation=split == 2, ks=ks,
                              distributions=rows if distributions else None, seed=seed,
                              method=method)


def test_kmeans_finds_separated_blobs_and_is_seeded():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [5.0, 5.0], [0.0, 5.0]])
    x = np.concatenate([c + 0.1 * rng.normal(size=(50, 2)) for c in centres])
    result = kmeans(x, 3, seed=1)
    assert len(np.unique(result.labels)) == 3
    for block in range(3):  # each blob is one cluster
        assert len(np.unique(result.labels[block * 50:(block + 1) * 50])) == 1
    assert np.allclose(np.sort(result.centers, axis=0), np.sort(centres, axis=0), atol=0.05)
    again = kmeans(x, 3, seed=1)
    assert np.array_equal(again.labels, result.labels)
    assert np.array_equal(result.assign(x), result.labels)


def test_kmeans_with_fewer_distinct_rows_than_k():
    x = np.array([[1.0], [1.0], [2.0]])
    result = kmeans(x, 5, seed=0)
    labels = result.assign(x)
    assert len(result.centers) == 2 and labels[0] == labels[1] != labels[2]
    with pytest.raises(ValueError):
        kmeans(np.zeros((0, 2)), 2)


def test_the_ward_tree_cut_at_k_gives_the_blobs_and_their_means():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [5.0, 5.0], [0.0, 5.0]])
    x = np.concatenate([c + 0.1 * rng.normal(size=(20, 2)) for c in centres])
    tree = ward_tree(x)
    for k in (1, 3, 7, 60):
        result = cut_tree(x, tree, k)
        assert len(result.centers) == k == len(np.unique(result.labels))
        for j, centre in enumerate(result.centers):
            assert np.allclose(centre, x[result.labels == j].mean(axis=0))
    blobs = cut_tree(x, tree, 3).labels
    assert all(len(np.unique(blobs[b * 20:(b + 1) * 20])) == 1 for b in range(3))


def test_next_codes():
    assert next_codes([("b",), (), ("a", "a")], ("a", "b")).tolist() == [1, 2, 2, 0, 0, 2]


def test_build_pdfa_counts_by_hand():
    """Strings "ab", "a": clusters c0 -a-> c1 -b-> c0 | c0 -a-> c1; counted moves: c0 emits
    a twice and stops once, c1 emits b once and stops once."""
    clusters = np.array([0, 1, 0, 0, 1])
    offsets = np.array([0, 3, 5])
    following = next_codes([("a", "b"), ("a",)], ("a", "b"))
    a, determinism = build_pdfa(clusters, offsets, following, ("a", "b"), 2, smoothing=0.0)
    assert determinism == 1.0
    assert np.allclose(a.symbol_prob, [[2 / 3, 0], [0, 0.5]])
    assert np.allclose(a.final, [1 / 3, 0.5])
    assert am.probability(a, "ab") == pytest.approx(2 / 3 * 0.5 * 1 / 3)
    smoothed, _ = build_pdfa(clusters, offsets, following, ("a", "b"), 2, smoothing=1.0)
    # (counts + 1) / (visits + 3): c1 emits a with 1/5; its target is the one a-move seen: c1
    assert np.allclose(smoothed.symbol_prob[1], [1 / 5, 2 / 5])
    assert smoothed.next_state[1, 0] == 1


def test_build_pdfa_majority_target_and_determinism():
    # c0 -a-> c1 twice, c0 -a-> c2 once (three strings "a")
    clusters = np.array([0, 1, 0, 1, 0, 2])
    offsets = np.array([0, 2, 4, 6])
    following = next_codes([("a",)] * 3, ("a",))
    a, determinism = build_pdfa(clusters, offsets, following, ("a",), 3, smoothing=0.1)
    assert a.states == ("c0", "c1")  # c2 is never the chosen target: cut as unreachable
    assert determinism == pytest.approx(2 / 3)


@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.booleans())
def test_build_pdfa_always_gives_a_valid_automaton(seed, k, use_distributions):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 5, size=6)
    strings = [tuple(rng.choice(["x", "y"], size=n)) for n in lengths]
    offsets = np.concatenate([[0], np.cumsum(lengths + 1)])
    clusters = rng.integers(0, k, size=offsets[-1])
    following = next_codes(strings, ("x", "y"))
    distributions = rng.dirichlet(np.ones(3), size=offsets[-1]) if use_distributions else None
    a, determinism = build_pdfa(clusters, offsets, following, ("x", "y"), k,
                                distributions=distributions)
    assert 0 < determinism <= 1
    assert np.allclose(a.symbol_prob.sum(axis=1) + a.final, 1)
    assert np.all(a.final > 0)  # smoothing: every string stays possible
    assert am.probability(a, "xyyx") > 0


def test_extraction_from_a_model_that_wraps_the_truth_recovers_it(abe):
    strings = [tuple(s) for s in am.sample(abe, 2000, seed=0)]
    alignment, result = _extract(abe, strings, ks=range(1, 8), distributions=True)
    assert result.k == len(abe.states)  # the minimal number of states wins the validation
    assert result.determinism == 1.0
    assert am.equivalent(result.automaton, abe, atol=1e-3)
    assert exact_distances(abe, result.automaton)["l2"] < 1e-3
    table = contingency(result.clustering.assign(alignment.matrix()), alignment.labels(), result.k,
                        len(abe.states))
    assert purity(table) == 1.0
    assert np.all((table > 0).sum(axis=1) == 1)  # each cluster is one true state


@pytest.mark.parametrize("method", ["kmeans", "agglomerative"])
def test_both_clusterings_recover_the_truth_and_report_each_k(abe, method):
    strings = [tuple(s) for s in am.sample(abe, 400, seed=3)]
    lines = []
    alignment, result = _extract(abe, strings, ks=range(1, 8), distributions=True, method=method)
    assert result.k == len(abe.states) and result.method == method
    assert list(result.validation) == list(range(1, 8))
    assert am.equivalent(result.automaton, abe, atol=1e-3)
    split = np.arange(400) % 4
    extract(alignment.matrix(), alignment.strings, alignment.offsets, abe.alphabet,
            train=split < 2, validation=split == 2, ks=[1, 2], method=method,
            progress=lines.append)
    assert len(lines) == 2 and lines[0].startswith("k = 1: ")


def test_an_unknown_clustering_method_is_refused(abe):
    with pytest.raises(ValueError, match="method must be one of kmeans, agglomerative"):
        _extract(abe, [("E",)] * 4, ks=1, distributions=False, method="dbscan")


def test_extraction_with_counts_estimates_the_truth(abe):
    strings = [tuple(s) for s in am.sample(abe, 4000, seed=1)]
    _, result = _extract(abe, strings, ks=4, distributions=False, noise=0.05)
    assert am.equivalent(result.automaton, abe, atol=0.05)
    assert not am.equivalent(result.automaton, abe, atol=1e-6)  # sampling noise, not a copy
    assert exact_distances(abe, result.automaton)["l2"] < 0.01


def test_extraction_of_quotes_with_too_few_clusters_is_worse():
    truth = am.loads(QUOTES)
    strings = [tuple(s) for s in am.sample(truth, 1000, seed=2)]
    split = np.arange(1000) % 4 == 2
    held_out = [s for s, keep in zip(strings, split, strict=True) if keep]
    _, one = _extract(truth, strings, ks=1, distributions=True)
    _, two = _extract(truth, strings, ks=2, distributions=True)
    assert bits_per_symbol(two.automaton, held_out) < bits_per_symbol(one.automaton, held_out)
    assert am.equivalent(two.automaton, truth, atol=1e-3)


def test_bits_per_symbol_by_hand(abe):
    # "E": start→E 0.4, then $ 0.1 → −log₂ 0.04 over 2 steps
    assert bits_per_symbol(abe, [("E",)]) == pytest.approx(-np.log2(0.04) / 2)


def test_equivalence_within_tolerance_ignores_a_tiny_move_the_other_lacks():
    """Regression: a smoothed copy of a PDFA has tiny moves the truth lacks; the table walk
    must not follow them into a missing state (it used to index the last state)."""
    truth = am.loads("kind: pdfa\nalphabet: [a, b]\nstart: s\nstates:\n"
                     "  s: {final: 0.5, next: {a: {t: 0.5}}}\n  t: {final: 1.0}\n")
    smoothed = am.loads("kind: pdfa\nalphabet: [a, b]\nstart: s\nstates:\n"
                        "  s: {final: 0.4999, next: {a: {t: 0.5}, b: {u: 0.0001}}}\n"
                        "  t: {final: 1.0}\n  u: {final: 0.5, next: {a: {u: 0.5}}}\n")
    assert am.equivalent(smoothed, truth, atol=1e-3)
    assert not am.equivalent(smoothed, truth, atol=1e-5)


def test_the_drawn_automaton_is_pruned_and_named_and_ordered_like_the_truth(abe):
    strings = [tuple(s) for s in am.sample(abe, 1000, seed=4)]
    alignment, result = _extract(abe, strings, ks=len(abe.states), distributions=False)
    table = contingency(result.clustering.assign(alignment.matrix()), alignment.labels(),
                        result.k, len(abe.states))
    drawn, truth_of = drawn_like_truth(result.automaton, table, abe.states)
    assert drawn.states == abe.states and truth_of == {s: s for s in abe.states}
    assert np.all(result.automaton.symbol_prob > 0)  # smoothed: every move is there
    moves = drawn.symbol_prob[drawn.next_state >= 0]
    assert moves.min() >= DRAWN_BELOW and np.array_equal(drawn.next_state >= 0,
                                                         abe.next_state >= 0)
    assert np.allclose(drawn.symbol_prob.sum(axis=1) + drawn.final, 1.0)
    assert am.equivalent(drawn, abe, atol=0.05)


def test_clusters_of_one_true_state_keep_their_own_names():
    a = am.loads("kind: pdfa\nalphabet: [a]\nstart: c0\nstates:\n"
                 "  c0: {final: 0.5, next: {a: {c1: 0.5}}}\n  c1: {final: 1.0}")
    drawn, truth_of = drawn_like_truth(a, np.array([[4, 0], [3, 0]]), ["q", "r"])
    assert drawn.states == ("q (c0)", "q (c1)") and set(truth_of.values()) == {"q"}
