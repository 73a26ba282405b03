"""Strings as sequences of symbols, and their integer encoding in fixed-size chunks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np

from automimic_io import join_symbols, single_characters, split_symbols, symbols_of

from .core import Automaton
from .errors import UnknownSymbolError

Symbols = tuple[str, ...]
StringLike = str | Sequence[str]
CHUNK = 1024  # at most this many strings per encoded chunk
CHUNK_CELLS = 1 << 20  # and at most this many padded cells, so arrays stay far below ~32 MiB


def is_single(strings: object) -> bool:
    """True when ``strings`` is one string (a ``str`` or a tuple of symbols), not a batch."""
    return isinstance(strings, str | tuple)


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
        return symbols_of(string, a.alphabet)
    return tuple(str(symbol) for symbol in string)


def format_string(alphabet: Sequence[str], symbols: Sequence[str]) -> str:
    """Join symbols for display: no separator for one-character alphabets, else spaces.

    >>> format_string(("a", "b"), ("a", "b", "b"))
    'abb'
    """
    return join_symbols(symbols, alphabet)


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

    codes: np.ndarray  # (n, T) int64, -1 = padding; column-major, so codes[:k, t] is contiguous
    lengths: np.ndarray  # (n,) int64, decreasing
    order: np.ndarray  # (n,) positions of the rows in the caller's batch
    active: tuple[int, ...] = ()  # (T+2,) active[t] = how many rows have length ≥ t

    def at_least(self, t: int) -> int:
        """How many rows have length ≥ t (they are the first rows)."""
        if t < len(self.active):
            return self.active[t]
        return int(np.searchsorted(-self.lengths, -t, side="right"))


def _lookup_table(a: Automaton) -> np.ndarray | None:
    """Symbol index by character code (-1 = not a symbol) for one-character alphabets of small
    code points, else None."""
    if not a.alphabet or not single_characters(a.alphabet):
        return None
    points = [ord(symbol) for symbol in a.alphabet]
    if max(points) >= 1 << 16:
        return None
    table = np.full(max(points) + 2, -1, dtype=np.int64)  # the last entry: every larger code
    table[points] = np.arange(len(points))
    return table


def _encode_text(table: np.ndarray, strings: list) -> np.ndarray:
    """Codes of the concatenated ``str`` strings of a one-character alphabet, in one pass."""
    text = "".join(strings).encode("utf-32-le")
    points = np.frombuffer(text, dtype=np.uint32)
    return table[np.minimum(points, len(table) - 1)]


def _encode_all(a: Automaton, strings: list) -> tuple[np.ndarray, np.ndarray]:
    """The codes of all strings end to end, and the length of each string."""
    table = _lookup_table(a)
    if table is not None and all(type(s) is str for s in strings):
        lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
        flat = _encode_text(table, strings)
    else:
        chars = single_characters(a.alphabet)
        pieces = [split_symbols(s, chars=chars) if isinstance(s, str) else s for s in strings]
        lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
        index = a._index["symbol"]
        try:
            flat = np.fromiter(map(index.get, chain.from_iterable(pieces), repeat(-1)),
                               dtype=np.int64, count=int(lengths.sum()))
        except TypeError:  # unhashable symbols: see to_symbols
            flat = np.full(1, -1)
    if flat.size and flat.min() < 0:  # unknown symbols, or ones that need str() (see to_symbols)
        flat = np.concatenate([encode(a, s) for s in strings])  # or raises, naming the symbol
    return flat, lengths


def encode_chunks(a: Automaton, strings: Iterable[StringLike], size: int = CHUNK) -> Iterator[Chunk]:
    """Encode ``strings`` into chunks of similar lengths; ``order`` indexes the whole batch."""
    strings = list(strings)
    flat, lengths = _encode_all(a, strings)
    starts = np.cumsum(lengths) - lengths
    by_length = np.argsort(-lengths, kind="stable")
    begin = 0
    while begin < len(strings):
        rows = max(1, min(size, CHUNK_CELLS // max(1, int(lengths[by_length[begin]]))))
        order = by_length[begin : begin + rows]
        begin += rows
        chunk_lengths = lengths[order]
        steps = np.arange(int(chunk_lengths.max(initial=0)))[:, None]
        inside = steps < chunk_lengths  # (T, n)
        codes = np.full(inside.shape, -1, dtype=np.int64)  # (T, n), transposed below
        codes[inside] = flat[(starts[order] + steps)[inside]]
        active = np.searchsorted(-chunk_lengths, -np.arange(len(steps) + 2), side="right")
        yield Chunk(codes=codes.T, lengths=chunk_lengths, order=order,
                    active=tuple(active.tolist()))
