"""Regular expressions → NFA (Glushkov's position automaton: no ε-moves, one state per symbol
occurrence plus a start state).

Syntax, from loosest to tightest binding:

=================  =====================================================================
``r|s``            either
``rs``             concatenation (whitespace between items is ignored)
``r*`` ``r+``      zero or more, one or more
``r?``             optional
``(r)``            grouping; ``()`` and ``ε`` are the empty string
``a``              a symbol: any one character except ``( ) | * + ? \\ < >`` and whitespace
``<word>``         a multi-character symbol (e.g. ``<the> <cat>+``)
``\\c``             the character ``c`` taken literally (``\\*``, ``\\(``, ``\\ `` …)
=================  =====================================================================

The alphabet is the symbols in order of first appearance, unless given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .core import Automaton
from .errors import AutomatonError

OPERATORS = set("()|*+?\\<>")


class RegexError(AutomatonError):
    """A regular expression is malformed; the message shows the position."""


@dataclass
class _Node:
    """Glushkov sets of a sub-expression: can it match ε, its first and last positions."""

    nullable: bool
    first: frozenset[int]
    last: frozenset[int]


@dataclass
class _Parser:
    pattern: str
    at: int = 0
    symbols: list[str] = field(default_factory=list)  # symbol of each position
    follow: list[set[int]] = field(default_factory=list)

    def error(self, problem: str) -> RegexError:
        return RegexError(f"regex {self.pattern!r} at position {self.at}: {problem}\n"
                          f"  {self.pattern}\n  {' ' * self.at}^")

    def peek(self) -> str | None:
        while self.at < len(self.pattern) and self.pattern[self.at].isspace():
            self.at += 1
        return self.pattern[self.at] if self.at < len(self.pattern) else None

    def alternation(self) -> _Node:
        node = self.concatenation()
        while self.peek() == "|":
            self.at += 1
            other = self.concatenation()
            node = _Node(node.nullable or other.nullable, node.first | other.first,
                         node.last | other.last)
        return node

    def concatenation(self) -> _Node:
        node = _Node(True, frozenset(), frozenset())
        while self.peek() not in (None, "|", ")"):
            other = self.repetition()
            for p in node.last:
                self.follow[p] |= other.first
            node = _Node(node.nullable and other.nullable,
                         node.first | other.first if node.nullable else node.first,
                         other.last | node.last if other.nullable else other.last)
        return node

    def repetition(self) -> _Node:
        node = self.atom()
        while self.peek() in ("*", "+", "?"):
            operator = self.pattern[self.at]
            self.at += 1
            if operator in "*+":
                for p in node.last:
                    self.follow[p] |= node.first
            node = _Node(node.nullable or operator in "*?", node.first, node.last)
        return node

    def atom(self) -> _Node:
        char = self.peek()
        if char == "(":
            self.at += 1
            node = self.alternation()
            if self.peek() != ")":
                raise self.error("missing ')'")
            self.at += 1
            return node
        if char in ("*", "+", "?"):
            raise self.error(f"{char!r} needs something before it to repeat")
        if char in (")", ">"):
            raise self.error(f"unexpected {char!r}")
        if char == "ε":
            self.at += 1
            return _Node(True, frozenset(), frozenset())
        return self.position(self.symbol())

    def symbol(self) -> str:
        char = self.pattern[self.at]
        if char == "\\":
            if self.at + 1 >= len(self.pattern):
                raise self.error("'\\' at the end escapes nothing")
            self.at += 2
            return self.pattern[self.at - 1]
        if char == "<":
            end = self.pattern.find(">", self.at + 1)
            if end <= self.at + 1:
                raise self.error("'<' opens a symbol that needs a name and a closing '>'")
            word, self.at = self.pattern[self.at + 1:end], end + 1
            return word
        self.at += 1
        return char

    def position(self, symbol: str) -> _Node:
        self.symbols.append(symbol)
        self.follow.append(set())
        p = len(self.symbols) - 1
        return _Node(False, frozenset([p]), frozenset([p]))


def regex_to_nfa(pattern: str, *, alphabet: Sequence[str] | None = None,
                 name: str = "") -> Automaton:
    """The NFA of a regular expression (see the module docstring for the syntax).

    State ``0`` is the start; state ``i`` is the i-th symbol occurrence in the pattern (a
    Glushkov automaton: it has no ε-moves and one state more than the pattern has symbols).

    Examples
    --------
    >>> import automata as am
    >>> n = regex_to_nfa("(a|b)*a(a|b)")  # the second symbol from the end is a
    >>> n.alphabet, len(n.states)
    (('a', 'b'), 6)
    >>> am.accepts(n, "bab"), am.accepts(n, "bba")
    (True, False)
    >>> am.accepts(regex_to_nfa("<the> (<big> )? <cat>"), ("the", "cat"))
    True
    """
    parser = _Parser(pattern)
    node = parser.alternation()
    if parser.peek() is not None:
        raise parser.error("unexpected ')'")
    symbols = list(dict.fromkeys(parser.symbols)) if alphabet is None else list(alphabet)
    unknown = [s for s in parser.symbols if s not in symbols]
    if unknown:
        raise RegexError(f"regex {pattern!r} uses {unknown[0]!r}, which is not in the alphabet "
                         f"{symbols}")
    if not symbols:
        raise RegexError(f"regex {pattern!r} has no symbols; give the alphabet")
    index = {s: i for i, s in enumerate(symbols)}
    n_states = len(parser.symbols) + 1
    transition = np.zeros((len(symbols), n_states, n_states))
    for p in node.first:
        transition[index[parser.symbols[p]], 0, p + 1] = 1.0
    for p, targets in enumerate(parser.follow):
        for q in targets:
            transition[index[parser.symbols[q]], p + 1, q + 1] = 1.0
    final = np.zeros(n_states)
    final[[p + 1 for p in node.last]] = 1.0
    final[0] = float(node.nullable)
    initial = np.zeros(n_states)
    initial[0] = 1.0
    return Automaton(kind="nfa", alphabet=tuple(symbols), states=tuple(map(str, range(n_states))),
                     initial=initial, final=final, transition=transition,
                     name=name or pattern)
