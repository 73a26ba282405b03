"""The strategies explore: every declared state is reachable, and sizes spread up to the maximum."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from strategies import dfas, markov_chains, nfas, pdfas, pfas

import automata as am

STRATEGIES = {"dfa": dfas, "nfa": nfas, "pfa": pfas, "pdfa": pdfas}


def _drawn(strategy, n: int) -> list[am.Automaton]:
    found = []

    @settings(max_examples=n, database=None)
    @given(strategy)
    def collect(a):
        found.append(a)

    collect()
    return found


@pytest.mark.parametrize("kind", STRATEGIES)
def test_every_state_is_reachable_and_sizes_spread(kind):
    drawn = _drawn(STRATEGIES[kind](max_states=5), 60)
    reachable = [int(am.reachable_states(a).sum()) for a in drawn]
    assert reachable == [len(a.states) for a in drawn]
    assert sum(n >= 3 for n in reachable) >= len(drawn) / 2
    assert max(reachable) == 5


def test_every_symbol_of_a_markov_chain_can_occur():
    for a in _drawn(markov_chains(max_symbols=4), 40):
        assert am.reachable_states(a).all()
