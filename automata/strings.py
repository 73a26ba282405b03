"""Strings as sequences of symbols, and their integer encoding in fixed-size chunks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .core import Automaton
from .errors import UnknownSymbolError

Symbols = tuple[str, ...]
StringLike = str | Sequence[str]
CHUNK = 1024  # at most this many strings per encoded chunk
CHUNK_CELLS = 1 << 20  # and at most this many padded cells, so arrays stay far below ~32 MiB


def is_single(strings: object) -> bool:
    """True when ``strings`` is one string (a ``str`` or a tuple of symbols), not a batch."""
    return isinstance(strings, str | tuple)


def single_characters(alphabet: Sequence[str]) -> bool:
    """True when every symbol is one character, so a ``str`` is read character by character."""
    return all(len(symbol) == 1 for symbol in alphabet)


def to_symbols(a: Automaton, string: StringLike) -> Symbols:
    """The symbols of ``string``: a ``str`` is split into characters when every symbol is one
    character, else on whitespace; any other sequence is taken as its symbols.

    Examples
    --------
    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [the, cat]\\nstart: s\\nstates: {s: {final: true}}")
    >>> to_symbols(a, "the cat")
    ('the', 'cat')
    """
    if isinstance(string, str):
        return tuple(string) if single_characters(a.alphabet) else tuple(string.split())
    return tuple(str(symbol) for symbol in string)


def format_string(alphabet: Sequence[str], symbols: Sequence[str]) -> str:
    """Join symbols for display: no separator for one-character alphabets, else spaces.

    >>> format_string(("a", "b"), ("a", "b", "b"))
    'abb'
    """
    return ("" if single_characters(alphabet) else " ").join(symbols)


def symbol_index(a: Automaton, symbol: str) -> int:
    """Index of ``symbol`` in the alphabet of ``a``."""
    try:
        return a._index["symbol"][symbol]
    except KeyError:
        raise UnknownSymbolError(
            f"unknown symbol {symbol!r}; the alphabet is {list(a.alphabet)}"
        ) from None


def encode(a: Automaton, string: StringLike) -> np.ndarray:
    """The symbol indices of one string (raises UnknownSymbolError naming the position)."""
    table = a._index["symbol"]
    symbols = to_symbols(a, string)
    try:
        return np.fromiter((table[s] for s in symbols), dtype=np.int64, count=len(symbols))
    except KeyError:
        position = next(i for i, s in enumerate(symbols) if s not in table)
        raise UnknownSymbolError(
            f"unknown symbol {symbols[position]!r} at position {position} of "
            f"{format_string(a.alphabet, symbols)!r}; the alphabet is {list(a.alphabet)}"
        ) from None


@dataclass(frozen=True)
class Chunk:
    """Strings encoded as a padded matrix, sorted by decreasing length.

    ``codes[i, t]`` is the t-th symbol of string ``order[i]`` (-1 past its end), so at step t the
    strings still running are exactly the first ``active[t]`` rows.
    """

    codes: np.ndarray  # (n, T) int64, -1 = padding
    lengths: np.ndarray  # (n,) int64, decreasing
    order: np.ndarray  # (n,) positions of the rows in the caller's batch

    def at_least(self, t: int) -> int:
        """How many rows have length ≥ t (they are the first rows)."""
        return int(np.searchsorted(-self.lengths, -t, side="right"))


def encode_chunks(a: Automaton, strings: Iterable[StringLike], size: int = CHUNK) -> Iterator[Chunk]:
    """Encode ``strings`` into chunks of similar lengths; ``order`` indexes the whole batch."""
    encoded = [encode(a, s) for s in strings]
    lengths = np.array([len(e) for e in encoded], dtype=np.int64)
    by_length = np.argsort(-lengths, kind="stable")
    begin = 0
    while begin < len(encoded):
        rows = max(1, min(size, CHUNK_CELLS // max(1, int(lengths[by_length[begin]]))))
        order = by_length[begin : begin + rows]
        begin += rows
        chunk_lengths = lengths[order]
        codes = np.full((len(order), int(chunk_lengths.max(initial=0))), -1, dtype=np.int64)
        for row, i in enumerate(order):
            codes[row, : lengths[i]] = encoded[i]
        yield Chunk(codes=codes, lengths=chunk_lengths, order=order)
