"""Pieces of the main job that need no training."""

import automata as am
from automimic.pipeline import sample_corpus


def test_sample_corpus_says_when_strings_were_cut():
    endless = am.loads("kind: markov\nalphabet: [x]\nstart: {x: 1.0}\nnext: {x: {x: 0.99999, $: 0.00001}}")
    said: list[str] = []
    strings = sample_corpus(endless, 3, 0, said.append)
    assert [len(s) for s in strings] == [am.DEFAULT_MAX_LENGTH] * 3
    assert said == [f"note: 3 of 3 sampled strings reached {am.DEFAULT_MAX_LENGTH} symbols and "
                    "were cut there"]


def test_sample_corpus_is_quiet_when_nothing_was_cut():
    short = am.loads("kind: markov\nalphabet: [x]\nstart: {x: 1.0}\nnext: {x: {x: 0.5, $: 0.5}}")
    said: list[str] = []
    assert len(sample_corpus(short, 50, 1, said.append)) == 50 and said == []
