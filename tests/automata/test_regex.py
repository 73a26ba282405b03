"""Regular expressions → NFA, checked against Python's `re` on every short string."""

from __future__ import annotations

import re

import pytest
from strategies import all_strings

import automata as am

PATTERNS = ["a", "ab|b", "(a|b)*abb", "a+b?", "(ab)*|b+", "a(b|)c?", "((a|b)(a|b))*",
            "(a*)*", "(a?)+b", "ε|a", "()", "(a|b)*a(a|b)(a|b)"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_regex_matches_python_re(pattern):
    n = am.regex_to_nfa(pattern, alphabet=["a", "b", "c"])
    python = re.compile(pattern.replace("ε", ""))
    for x in all_strings(n.alphabet, 6):
        assert am.accepts(n, x) == bool(python.fullmatch("".join(x))), (pattern, x)


def test_multi_character_symbols_escapes_and_whitespace():
    n = am.regex_to_nfa("<the> (<big> )* <cat> \\*")
    assert n.alphabet == ("the", "big", "cat", "*")
    assert am.accepts(n, ("the", "big", "big", "cat", "*"))
    assert not am.accepts(n, ("the", "cat"))
    assert am.accepts(am.regex_to_nfa("a b | c"), "ab")


@pytest.mark.parametrize("pattern, message", [
    ("(a", "missing"), ("a)", "unexpected"), ("*a", "before it"), ("a\\", "escapes"),
    ("<>", "name"), ("", "no symbols"),
])
def test_bad_patterns_say_where(pattern, message):
    with pytest.raises(am.AutomatonError, match=message):
        am.regex_to_nfa(pattern)


def test_alphabet_must_cover_the_pattern():
    with pytest.raises(am.AutomatonError, match="not in the alphabet"):
        am.regex_to_nfa("ab", alphabet=["a"])
    assert am.regex_to_nfa("", alphabet=["a"]).final.tolist() == [1.0]
