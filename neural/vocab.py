"""Vocabulary: the alphabet, the end-of-string symbol ``$`` and padding, as integer indices."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np

from automimic_io import separator, single_characters, split_symbols

EOS = "$"
TEXT_BLOCK = 1 << 16  # characters encoded at a time (a block's code points: 256 KiB)

# One string: a tuple of symbols, or a plain str, read as ``automimic_io.symbols_of`` reads it.
Symbols = Sequence[str]


class CorpusError(ValueError):
    """A corpus or an alphabet that cannot be used for training or scoring."""


@dataclass(frozen=True)
class Vocabulary:
    """Map symbols to indices: the alphabet in its order, then ``$``, then padding.

    Output columns of every next-symbol distribution are ``alphabet + ("$",)``; padding is
    never predicted. ``$`` is also the input token before the first symbol, so the first
    distribution is predicted from the empty prefix. The end of string is an index, not a
    character: a text that contains the character ``$`` keeps it as a symbol of its alphabet
    (automata reserve ``$``, so a model trained on an automaton never has it).

    Examples
    --------
    >>> v = Vocabulary(("A", "B"))
    >>> v.encode("BA").tolist(), v.eos, v.pad, v.size
    ([1, 0], 2, 3, 3)
    >>> Vocabulary(("$", "a")).encode("a$").tolist(), Vocabulary(("$", "a")).eos
    ([1, 0], 2)
    """

    alphabet: tuple[str, ...]

    def __post_init__(self) -> None:
        alphabet = tuple(self.alphabet)
        object.__setattr__(self, "alphabet", alphabet)
        if not alphabet:
            raise CorpusError("the alphabet is empty")
        for symbol in alphabet:
            if not isinstance(symbol, str) or not symbol:
                raise CorpusError(f"alphabet symbols must be non-empty strings, got {symbol!r}")
        if len(set(alphabet)) != len(alphabet):
            raise CorpusError(f"the alphabet has duplicate symbols: {list(alphabet)}")
        object.__setattr__(self, "_index", {s: i for i, s in enumerate(alphabet)})
        object.__setattr__(self, "_single", single_characters(alphabet))
        object.__setattr__(self, "_separator", separator(alphabet))

    @property
    def eos(self) -> int:
        """Index of ``$``: the last output column and the start-of-string input token."""
        return len(self.alphabet)

    @property
    def pad(self) -> int:
        """Index of padding in targets (ignored by the loss, never an output column)."""
        return len(self.alphabet) + 1

    @property
    def token_dtype(self) -> np.dtype:
        """The integer type of encoded corpora: the smallest that holds every index and -1.

        Examples
        --------
        >>> Vocabulary(("a", "b")).token_dtype, Vocabulary(tuple(map(str, range(40_000)))).token_dtype
        (dtype('int16'), dtype('int32'))
        """
        return np.dtype(np.int16 if self.pad < 2**15 else np.int32)

    @property
    def size(self) -> int:
        """Number of output columns (and of input tokens): ``|alphabet| + 1``."""
        return len(self.alphabet) + 1

    @property
    def columns(self) -> tuple[str, ...]:
        """Labels of the output columns: ``alphabet + ("$",)``."""
        return (*self.alphabet, EOS)

    def encode(self, string: Symbols, *, line: int | None = None) -> np.ndarray:
        """Indices of the symbols of one string; unknown symbols raise :class:`CorpusError`.

        Examples
        --------
        >>> Vocabulary(("a", "b")).encode(("b", "b")).tolist()
        [1, 1]
        >>> Vocabulary(("the", "cat")).encode("the cat").tolist()
        [0, 1]
        """
        index = self._index  # type: ignore[attr-defined]
        string = self._symbols(string)
        try:
            return np.fromiter((index[s] for s in string), dtype=np.int64, count=len(string))
        except KeyError as err:
            where = f" on line {line}" if line is not None else ""
            raise CorpusError(f"unknown symbol {err.args[0]!r}{where} (alphabet: {' '.join(self.alphabet)})") from None

    def encode_flat(self, strings: Iterable[Symbols]) -> tuple[np.ndarray, np.ndarray]:
        """The indices of all symbols of all strings end to end (as :attr:`token_dtype`: 2 bytes
        a symbol for alphabets under 32,767 symbols), and each string's length. Plain ``str``
        strings over one-character symbols (a text) are encoded by numpy from their code points,
        without a Python object per character.

        Examples
        --------
        >>> tokens, lengths = Vocabulary(("a", "b")).encode_flat(["ab", "", "b"])
        >>> tokens.tolist(), lengths.tolist(), tokens.dtype.name
        ([0, 1, 1], [2, 0, 1], 'int16')
        >>> Vocabulary(("a", "b")).encode_flat([("a", "b"), ("b",)])[0].tolist()
        [0, 1, 1]
        """
        strings = [self._symbols(s) for s in strings]
        lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
        total = int(lengths.sum())
        if self._single and all(isinstance(s, str) for s in strings):  # type: ignore[attr-defined]
            tokens = self._encode_text("".join(strings), total)
        else:  # one flat pass is much faster than one numpy call per string
            symbols = map(self._index.get, chain.from_iterable(strings), repeat(-1))  # type: ignore[attr-defined]
            tokens = np.fromiter(symbols, dtype=self.token_dtype, count=total)
        if total and tokens.min() < 0:
            for line, string in enumerate(strings, start=1):
                self.encode(string, line=line)  # raises, naming the line
        return tokens, lengths

    def _encode_text(self, text: str, length: int) -> np.ndarray:
        """The indices of the characters of ``text`` (-1 for a character not in the alphabet),
        looked up by code point a block at a time."""
        codes = [ord(symbol) for symbol in self.alphabet]
        table = np.full(max(codes) + 2, -1, dtype=self.token_dtype)  # the last: any other code
        table[codes] = np.arange(len(codes))
        tokens = np.empty(length, dtype=self.token_dtype)
        for start in range(0, length, TEXT_BLOCK):
            block = np.frombuffer(text[start : start + TEXT_BLOCK].encode("utf-32-le"), dtype="<u4")
            tokens[start : start + len(block)] = table.take(block, mode="clip")
        return tokens

    def _symbols(self, string: Symbols) -> Symbols:
        """The symbols of a string: a ``str`` over one-character symbols is kept as it is (a
        sequence of its characters: no tuple of a million characters), one over words split."""
        if isinstance(string, str) and not self._single:  # type: ignore[attr-defined]
            return split_symbols(string, chars=False)
        return string

    def decode(self, indices: Iterable[int]) -> tuple[str, ...]:
        """Symbols of alphabet indices (``$`` and padding are not symbols of a string)."""
        return tuple(self.alphabet[i] for i in indices)

    def format(self, string: Symbols) -> str:
        """A string for display: no separator for one-character alphabets, else spaces.

        Examples
        --------
        >>> Vocabulary(("a", "b")).format(("a", "b")), Vocabulary(("x", "yy")).format(("x", "yy"))
        ('ab', 'x yy')
        """
        return self._separator.join(string)  # type: ignore[attr-defined]


def infer_alphabet(strings: Iterable[Symbols]) -> tuple[str, ...]:
    """The sorted set of symbols used in a corpus.

    Examples
    --------
    >>> infer_alphabet(["ba", "ac"])
    ('a', 'b', 'c')
    """
    return tuple(sorted(set(chain.from_iterable(strings))))

