"""Proof on real data: the 48 PAutomaC problems (Verwer, Eyraud & de la Higuera, 2014).

Skipped when ../shared/data/pautomac (or $AUTOMIMIC_DATA/pautomac) is absent; the data is never
copied into the repository.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import automata as am
from automata import pautomac

DATA = Path(os.environ.get("AUTOMIMIC_DATA", Path(__file__).resolve().parents[2] / ".." /
                           "shared" / "data")) / "pautomac"
needs_data = pytest.mark.skipif(not (DATA / "1.pautomac_model.txt").is_file(),
                                reason=f"PAutomaC data not found in {DATA}")
PROBLEMS = range(1, 49)


def load(problem: int):
    test = pautomac.read_strings(DATA / f"{problem}.pautomac.test")
    model = pautomac.read_model(DATA / f"{problem}.pautomac_model.txt",
                                n_symbols=test.n_symbols)
    return model, test, pautomac.read_solution(DATA / f"{problem}.pautomac_solution.txt")


@needs_data
def test_all_48_problems_match_the_solutions():
    started = time.perf_counter()
    for problem in PROBLEMS:
        model, test, solution = load(problem)
        assert len(test) == len(solution) == 1000
        ours = np.asarray(am.probability(model, test.strings))
        # the solution files are normalised over the test set; so are ours
        relative = np.abs(ours / ours.sum() - solution / solution.sum()) / (solution / solution.sum())
        assert relative.max() <= 1e-6, (problem, relative.max())
        logs = np.log(solution), np.log(ours)
        perplexity = pautomac.pautomac_perplexity(logs[0], logs[1], test.strings)
        assert perplexity == pytest.approx(
            pautomac.pautomac_perplexity(logs[0], logs[0], test.strings), rel=1e-9)
        if problem == 1:
            assert perplexity == pytest.approx(29.8978935527, abs=1e-9)
    assert time.perf_counter() - started < 30  # batched forward algorithm: seconds in all


@needs_data
def test_samples_match_the_training_length_distribution():
    model, test, _ = load(1)
    train = pautomac.read_strings(DATA / "1.pautomac.train", alphabet=model.alphabet)
    sampled = am.sample(model, 20_000, seed=12, max_length=None)
    bins = [0, 2, 4, 6, 8, 11, 15, 20, 30, 45, 10_000]
    ours = np.histogram([len(x) for x in sampled], bins)[0]
    theirs = np.histogram([len(x) for x in train], bins)[0]
    _, p_value, _, _ = stats.chi2_contingency(np.vstack([ours, theirs]))
    assert p_value > 1e-3


@needs_data
def test_read_write_round_trip_and_analysis_of_a_real_model(tmp_path):
    model, test, solution = load(7)
    pautomac.write_model(model, tmp_path / "7.pautomac_model.txt")
    back = pautomac.read_model(tmp_path / "7.pautomac_model.txt", n_symbols=len(model.alphabet))
    assert am.equivalent(model, back, atol=1e-9)
    pautomac.write_strings(test.strings, model.alphabet, tmp_path / "t.test")
    assert pautomac.read_strings(tmp_path / "t.test").strings == test.strings
    pautomac.write_solution(solution, tmp_path / "s.txt")
    assert np.allclose(pautomac.read_solution(tmp_path / "s.txt"), solution, rtol=1e-11)
    assert am.total_probability(model) == pytest.approx(1.0)
    # the product of two 60-state PFAs: exact (GMRES, matrix-free) in well under a second
    other, _, _ = load(1)
    started = time.perf_counter()
    assert am.l2_distance(other, other) < 1e-6
    assert time.perf_counter() - started < 1.0


@needs_data
def test_bad_files_are_located(tmp_path):
    with pytest.raises(am.FormatError, match="header"):
        pautomac.read_model("I: (state)\n(0) 1\nnonsense\n")
    with pytest.raises(am.FormatError, match="announces"):
        pautomac.read_strings("3 2\n1 0\n")
    with pytest.raises(am.FormatError, match="below 2"):
        pautomac.read_strings("1 2\n1 5\n")


def test_pautomac_perplexity_by_hand():
    log_p = np.log([0.2, 0.1, 0.2])  # the third string repeats the first: counted once
    log_q = np.log([0.1, 0.1, 0.1])
    strings = [("a",), ("b",), ("a",)]
    p_hat, q_hat = np.array([2 / 3, 1 / 3]), np.array([0.5, 0.5])
    expected = 2 ** -(p_hat @ np.log2(q_hat))
    assert pautomac.pautomac_perplexity(log_p, log_q, strings) == pytest.approx(expected)
    assert pautomac.pautomac_perplexity(log_p, log_p, strings) == pytest.approx(2 ** -(p_hat @ np.log2(p_hat)))
