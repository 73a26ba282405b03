"""Alignment of hidden states with true states: the row of prefix x[:t] on both sides."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import automata as am
from compare.inside import align, group_mass, parse_group
from neural import RNNConfig, TrainedModel

QUOTES = """
kind: pdfa
name: quotes
alphabet: [a, '"']
start: out
states:
  out: {final: 0.2, next: {a: {out: 0.5}, '"': {in: 0.3}}}
  in:  {final: 0.0, next: {a: {in: 0.6}, '"': {out: 0.4}}}
"""
PFA = """
kind: pfa
alphabet: [a, b]
start: {q0: 0.6, q1: 0.4}
states:
  q0: {final: 0.2, next: {a: {q0: 0.3, q1: 0.3}, b: {q1: 0.2}}}
  q1: {final: 0.5, next: {b: {q0: 0.5}}}
"""


class OneHotModel:
    """An "RNN" that wraps the truth: its hidden state is the one-hot (or belief) true state,
    plus optional Gaussian noise, and its next-symbol distributions are the truth's."""

    def __init__(self, truth: am.Automaton, *, noise: float = 0.0, seed: int = 0) -> None:
        self.truth, self.noise, self.seed = truth, noise, seed
        self.alphabet = truth.alphabet

    def hidden_states(self, strings):
        rng = np.random.default_rng(self.seed)
        result = []
        for states in am.prefix_states(self.truth, list(strings)):
            n_states = len(self.truth.states)  # index n_states: the string left the automaton
            h = np.eye(n_states + 1)[states, :n_states] if states.ndim == 1 else states
            result.append({"h": (h + self.noise * rng.normal(size=h.shape))[None]})
        return result

    def prefix_distributions(self, strings):
        return am.prefix_distributions(self.truth, list(strings))


class RandomModel(OneHotModel):
    """Hidden states of pure noise: nothing about the true state can be read from them."""

    def __init__(self, truth: am.Automaton, *, width: int = 8, seed: int = 0) -> None:
        super().__init__(truth, seed=seed)
        self.width = width

    def hidden_states(self, strings):
        rng = np.random.default_rng(self.seed)
        return [{"h": rng.normal(size=(1, len(s) + 1, self.width))} for s in strings]


def test_rows_follow_the_prefixes_by_hand():
    a = am.loads(QUOTES)
    alignment = align(a, OneHotModel(a), ['a"a"', ""])
    names = [a.states[s] for s in alignment.states]
    assert names == ["out", "out", "in", "in", "out", "out"]  # ε a a" a"a a"a" | ε
    assert alignment.offsets.tolist() == [0, 5, 6]
    assert alignment.positions.tolist() == [0, 1, 2, 3, 4, 0]
    assert alignment.string_index.tolist() == [0, 0, 0, 0, 0, 1]
    hidden = alignment.matrix()
    assert hidden.shape == (6, 2)
    assert hidden.argmax(axis=1).tolist() == alignment.states.tolist()
    assert alignment.units() == ["h0:0", "h0:1"]


def test_trained_model_hidden_row_t_predicts_the_symbol_after_x_t():
    """The hidden vector aligned with prefix x[:t] is the one the output layer reads to give
    P(· | x[:t]): softmax(W h_t + b) equals the model's own row t."""
    a = am.loads(QUOTES)
    model = TrainedModel.untrained(a.alphabet, RNNConfig(cell="lstm", hidden_size=6), seed=3)
    strings = [tuple(s) for s in am.sample(a, 20, seed=1)]
    alignment = align(a, model, strings)
    assert set(alignment.features) == {"h0", "c0"}
    head = model.model.head
    with torch.no_grad():
        logits = head(torch.from_numpy(alignment.features["h0"]).float()).double()
    expected = torch.softmax(logits, dim=-1).numpy()
    rows = np.concatenate(model.prefix_distributions(strings))
    assert np.allclose(expected, rows, atol=1e-5)


def test_two_layer_features_are_named_by_layer():
    a = am.loads(QUOTES)
    model = TrainedModel.untrained(a.alphabet, RNNConfig(cell="gru", hidden_size=3,
                                                         num_layers=2), seed=0)
    alignment = align(a, model, ["a", '"a"'])
    assert list(alignment.features) == ["h0", "h1"]
    assert alignment.matrix().shape == (6, 6)
    assert alignment.units(["h1"]) == ["h1:0", "h1:1", "h1:2"]


def test_nondeterministic_truth_gives_beliefs():
    a = am.loads(PFA)
    alignment = align(a, OneHotModel(a), ["ab", "b"])
    assert alignment.states.shape == (5, 2)
    assert np.allclose(alignment.states.sum(axis=1), 1)
    assert np.allclose(alignment.states[0], [0.6, 0.4])
    # after "a" only q0 can have moved: weight 0.6·0.3 on q0 and 0.6·0.3 on q1 → (½, ½)
    assert np.allclose(alignment.states[1], [0.5, 0.5])
    assert alignment.labels().shape == (5,)
    mass = group_mass(alignment, {"second": frozenset({"q1"})})
    assert np.allclose(mass[:, 0], alignment.states[:, 1])


def test_a_string_the_truth_cannot_read_is_refused():
    a = am.loads("kind: dfa\nalphabet: [a, b]\nstart: s\nstates: {s: {final: true, next: {a: s}}}")
    with pytest.raises(ValueError, match="cannot read"):
        align(a, OneHotModel(am.as_probabilistic(a)), ["ab"])


def test_hidden_states_of_the_wrong_length_are_refused():
    a = am.loads(QUOTES)

    class Short:
        def hidden_states(self, strings):
            return [{"h": np.zeros((1, len(s), 2))} for s in strings]

    with pytest.raises(ValueError, match="one per prefix"):
        align(a, Short(), ["aa"])


def test_parse_group_by_names_and_by_pattern():
    states = ["p0", "p1", "p10", "first"]
    assert parse_group("a = p0, p1", states) == ("a", frozenset({"p0", "p1"}))
    assert parse_group("tens=~p1\\d", states) == ("tens", frozenset({"p10"}))
    for bad, message in (("nogroup", "NAME=state1"), ("x=p7", "unknown states"),
                         ("x=~z.*", "matches no state"), ("x=~(", "bad regular expression")):
        with pytest.raises(ValueError, match=message):
            parse_group(bad, states)
