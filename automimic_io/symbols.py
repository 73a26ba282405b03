"""Text and symbols: a string of an alphabet whose symbols are all one character is written as
its characters, any other as its symbols separated by whitespace."""

from __future__ import annotations

from collections.abc import Sequence


def split_symbols(text: str, *, chars: bool) -> tuple[str, ...]:
    """The symbols of ``text``: its characters with ``chars``, else its whitespace-separated words.

    >>> split_symbols("the  cat", chars=False), split_symbols("ab", chars=True)
    (('the', 'cat'), ('a', 'b'))
    """
    return tuple(text) if chars else tuple(text.split())


def single_characters(alphabet: Sequence[str]) -> bool:
    """True when every symbol is one character, so a text is read character by character.

    >>> single_characters(("a", "b")), single_characters(("a", "bc"))
    (True, False)
    """
    return all(len(symbol) == 1 for symbol in alphabet)


def symbols_of(text: str, alphabet: Sequence[str]) -> tuple[str, ...]:
    """The symbols of ``text`` written in ``alphabet``'s way (see the module's rule).

    >>> symbols_of("ab", ("a", "b")), symbols_of("the cat", ("the", "cat"))
    (('a', 'b'), ('the', 'cat'))
    """
    return split_symbols(text, chars=single_characters(alphabet))


def separator(alphabet: Sequence[str]) -> str:
    """What separates the symbols of a string of ``alphabet`` written as text.

    >>> separator(("a", "b")), separator(("the", "cat"))
    ('', ' ')
    """
    return "" if single_characters(alphabet) else " "


def join_symbols(symbols: Sequence[str], alphabet: Sequence[str]) -> str:
    """``symbols`` as text in ``alphabet``'s way: the inverse of :func:`symbols_of`.

    >>> join_symbols(("a", "b"), ("a", "b")), join_symbols(("the", "cat"), ("the", "cat"))
    ('ab', 'the cat')
    """
    return separator(alphabet).join(symbols)


def visible(symbol: str) -> str:
    """A symbol as displayed (graph edges, tables, summaries): white space becomes visible.

    >>> visible(" "), visible("\\n"), visible("ab")
    ('␣', '↵', 'ab')
    """
    return symbol.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥")
