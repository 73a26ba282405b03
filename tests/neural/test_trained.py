"""Using a model: consistent probabilities, faithful sampling, beam search, states, gradients."""

import math
from collections import Counter

import numpy as np
import pytest
from scipy import stats

from neural import CorpusError, RNNConfig, TrainedModel

STRINGS = ["", "a", "ab", "bba", "abab", "b"]


@pytest.fixture(scope="module", params=["elman", "lstm", "gru"])
def model(request):
    config = RNNConfig(cell=request.param, hidden_size=6, num_layers=2)
    return TrainedModel.untrained(("a", "b"), config, seed=5)


def test_distributions_agree_with_each_other(model):
    prefix_rows = model.prefix_distributions(STRINGS)
    for string, rows in zip(STRINGS, prefix_rows, strict=True):
        assert rows.shape == (len(string) + 1, 3)
        np.testing.assert_allclose(rows.sum(axis=1), 1, atol=1e-12)
        prefixes = [string[:t] for t in range(len(string) + 1)]
        np.testing.assert_allclose(model.next_symbol_distribution(prefixes), rows, atol=1e-6)
        targets = [model.alphabet.index(s) for s in string] + [2]
        expected = np.log(rows[np.arange(len(targets)), targets]).sum()
        np.testing.assert_allclose(model.log_probability([string])[0], expected, atol=1e-6)


def test_columns_are_alphabet_then_end_of_string():
    model = TrainedModel.untrained(("z", "y", "x"), RNNConfig(hidden_size=4), seed=0)
    assert model.vocabulary.columns == ("z", "y", "x", "$")
    assert model.next_symbol_distribution([("z", "x")]).shape == (1, 4)
    with pytest.raises(CorpusError, match="unknown symbol 'q'"):
        model.log_probability(["zq"])


def test_sampling_at_alpha_1_matches_the_model(model):
    samples = model.sample(4000, seed=11, max_length=50)
    first = Counter(s[0] if s else "$" for s in samples)
    expected = model.next_symbol_distribution([()])[0] * len(samples)
    observed = [first["a"], first["b"], first["$"]]
    assert stats.chisquare(observed, expected).pvalue > 0.001
    after_a = Counter(s[1] if len(s) > 1 else "$" for s in samples if s[:1] == ("a",))
    expected = model.next_symbol_distribution([("a",)])[0] * sum(after_a.values())
    observed = [after_a["a"], after_a["b"], after_a["$"]]
    assert stats.chisquare(observed, expected).pvalue > 0.001


def test_alpha_extremes():
    model = TrainedModel.untrained(("a", "b"), RNNConfig(hidden_size=4), seed=0)
    greedy = model.sample(5, alpha=math.inf, seed=1, max_length=8)
    assert len(set(greedy)) == 1
    first = model.next_symbol_distribution([()])[0]
    expected_first = ("a", "b", None)[int(np.argmax(first))]
    assert (greedy[0][:1] or (None,))[0] == expected_first
    uniform = model.sample(3000, alpha=0.0, seed=2, max_length=1)
    counts = Counter(s[0] if s else "$" for s in uniform)
    assert stats.chisquare([counts["a"], counts["b"], counts["$"]]).pvalue > 0.001
    assert all(len(s) <= 1 for s in uniform)
    assert model.sample(4, seed=3) == model.sample(4, seed=3)


def test_complete_is_ranked_and_exact(model):
    completions = model.complete("a", k=4, beam_width=8, max_length=6)
    assert len(completions) == 4
    probabilities = [p for _, p in completions]
    assert probabilities == sorted(probabilities, reverse=True)
    prefix_log = np.log(model.prefix_distributions(["a"])[0][0, 0])
    for completion, probability in completions:
        whole = model.log_probability([("a", *completion)])[0]
        assert probability == pytest.approx(math.exp(whole - prefix_log), rel=1e-6)


def test_hidden_states(model):
    states = model.hidden_states(STRINGS)
    names = {"h", "c"} if model.config.cell == "lstm" else {"h"}
    for string, state in zip(STRINGS, states, strict=True):
        assert set(state) == names
        assert state["h"].shape == (2, len(string) + 1, 6)


def test_gradient_flow(model):
    flow = model.gradient_flow(["abab", "ba"], max_distance=6)
    assert flow.shape == (7,)
    assert flow[0] == 1.0
    assert np.all(flow[1:5] > 0) and np.all(np.isnan(flow[5:]))


def test_gradient_flow_matches_the_exact_norms_of_every_pair(model):
    from neural.data import Corpus
    from neural.diagnostics import _step_jacobians

    strings = ["abab", "ba", "aabbab"]
    flow = model.gradient_flow(strings)
    sums, counts = np.zeros(7), np.zeros(7)
    for string in strings:  # the reference: every product, one string at a time, exact norms
        corpus = Corpus.encode(model.vocabulary, [string])
        inputs = corpus.pad(np.array([0]), eos=model.vocabulary.eos, pad=model.vocabulary.eos)
        steps = _step_jacobians(model.model, inputs.inputs)[0].double().numpy()  # (n, S, S)
        pairs = [(k, t) for k in range(len(string)) for t in range(k + 1, len(string) + 1)]
        for k, t in pairs:  # ∂s_t/∂s_k = J_t ... J_{k+1}, J_j = steps[j - 1]
            jacobians = [steps[j - 1] for j in range(t, k, -1)]
            product = jacobians[0] if len(jacobians) == 1 else np.linalg.multi_dot(jacobians)
            sums[t - k] += np.linalg.norm(product, 2)
            counts[t - k] += 1
    assert np.allclose(flow[1:], sums[1:] / counts[1:], rtol=1e-3)


def test_gradient_flow_bounds_its_work_and_reports_progress():
    model = TrainedModel.untrained(("a", "b"), RNNConfig(cell="gru", hidden_size=8), seed=0)
    for max_pairs, measured in ((300, 4), (100, 1)):  # 60 pairs from each string's start
        seen: list[tuple[int, int]] = []
        flow = model.gradient_flow(["ab" * 30] * 4, max_pairs=max_pairs,
                                   progress=lambda done, total, seen=seen: seen.append((done, total)))
        assert seen[-1] == (measured, measured)
        assert np.all(np.isfinite(flow)) and flow.shape == (61,)


def test_sigmoid_elman_gradients_vanish():
    model = TrainedModel.untrained(("a", "b"), RNNConfig(cell="elman", nonlinearity="sigmoid",
                                                        hidden_size=8), seed=0)
    flow = model.gradient_flow(["ab" * 8])
    assert flow[10] < 1e-3 * flow[1]


def test_sample_flags_the_strings_cut_at_max_length(model):
    samples = model.sample(300, seed=4, max_length=2)
    assert isinstance(samples, list) and samples.cut.dtype == bool and len(samples.cut) == 300
    assert samples.cut.tolist() == [len(s) == 2 for s in samples]
    assert 0 < samples.cut.sum() < 300
    longer = model.sample(300, seed=4, max_length=50)
    cut_here = [s for s, c in zip(samples, samples.cut, strict=True) if not c]
    assert cut_here == [s for s, c in zip(longer, samples.cut, strict=True) if not c]
    assert not model.sample(0, seed=4).cut.size


def test_a_model_reads_well_in_a_terminal_and_in_jupyter():
    model = TrainedModel.untrained(("a", " "), RNNConfig(cell="lstm", hidden_size=4), seed=0)
    weights = sum(p.numel() for p in model.model.parameters())
    assert repr(model) == (f"<TrainedModel lstm, 1 layer of 4 units, {weights} weights, "
                           "alphabet a ␣ (+ $); untrained>")
    model.history = {"val_bits": [1.5, 1.2, 1.3]}
    assert repr(model).endswith("; trained 3 epochs, best epoch 2: validation 1.2000 bits/symbol>")
    page = model._repr_html_()
    assert page.startswith("<p><b>TrainedModel</b>: lstm") and "<td>hidden_size</td><td>4</td>" in page
