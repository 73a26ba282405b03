"""Encoded corpora and their batches: length-bucketed whole strings, or one stream cut for
truncated BPTT. Everything that does not change between epochs is computed once, with numpy."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view

from neural.vocab import CorpusError, Symbols, Vocabulary

HASH_BLOCK = 1 << 16  # entries of the framed corpus hashed (and tokens counted) at a time
MIN_STREAM_STEPS = 20  # optimiser steps an epoch on a stream, by default (short texts need them)


@dataclass(frozen=True)
class Batch:
    """Input tokens and targets, both (B, T); targets equal to ``pad`` are masked."""

    inputs: torch.Tensor  # (B, T)
    targets: torch.Tensor  # (B, T)
    tokens: int  # number of predicted (unmasked) targets


@dataclass(frozen=True, eq=False)
class Corpus:
    """Encoded strings end to end: string ``i`` is ``tokens[starts[i] : starts[i] + lengths[i]]``.

    Examples
    --------
    >>> c = Corpus.encode(Vocabulary(("a", "b")), ["ab", "", "b"])
    >>> len(c), c.tokens.tolist(), c.starts.tolist()
    (3, [0, 1, 1], [0, 2, 2])
    """

    tokens: np.ndarray  # (total,) symbol indices (Vocabulary.token_dtype when encoded)
    lengths: np.ndarray  # (n,) int64

    @classmethod
    def encode(cls, vocabulary: Vocabulary, strings: Iterable[Symbols], name: str = "") -> Corpus:
        """Encode ``strings``; an unknown symbol raises CorpusError naming the corpus and line."""
        try:
            return cls(*vocabulary.encode_flat(strings))
        except CorpusError as err:
            raise CorpusError(f"{name} corpus: {err}" if name else str(err)) from None

    def __len__(self) -> int:
        return len(self.lengths)

    @property
    def tokens_per_epoch(self) -> int:
        """The tokens an epoch predicts: every symbol, and every string's end."""
        return len(self.tokens) + len(self)

    @cached_property
    def starts(self) -> np.ndarray:
        """Where each string begins in ``tokens``, shape (n,)."""
        return np.cumsum(self.lengths) - self.lengths

    @cached_property
    def sha256(self) -> str:
        """SHA-256 of the corpus, string boundaries included: each length, then its symbols
        (as int64), hashed a block at a time.

        Examples
        --------
        >>> import hashlib
        >>> c = Corpus(np.array([1, 0]), np.array([2]))
        >>> c.sha256 == hashlib.sha256(np.array([2, 1, 0], dtype=np.int64).tobytes()).hexdigest()
        True
        >>> Corpus(np.array([1, 0, 1]), np.array([2, 0, 1]))._framed(0, 6).tolist()
        [2, 1, 0, 0, 1, 1]
        """
        digest = hashlib.sha256()
        size = len(self.tokens) + len(self)
        for start in range(0, size, HASH_BLOCK):
            digest.update(self._framed(start, min(start + HASH_BLOCK, size)).tobytes())
        return digest.hexdigest()

    @cached_property
    def heads(self) -> np.ndarray:
        """Where each string's head goes when every string gets one entry before its symbols
        (its length when hashing, ``$`` in the stream), shape (n,)."""
        return self.starts + np.arange(len(self))

    def _framed(self, start: int, stop: int) -> np.ndarray:
        """Entries ``start:stop`` of the framed corpus: each string's length, then its symbols."""
        heads = self.heads
        position = np.arange(start, stop)
        before = np.searchsorted(heads, position, side="right")  # lengths up to each position
        is_head = heads[np.maximum(before - 1, 0)] == position
        framed = np.empty(stop - start, dtype=np.int64)
        framed[is_head] = self.lengths[before[is_head] - 1]
        framed[~is_head] = self.tokens[(position - before)[~is_head]]
        return framed

    def rows(self, indices: np.ndarray, length: int) -> np.ndarray:
        """The strings ``indices``, all of length ``length``, as a (B, length) matrix."""
        return self.tokens[self.starts[indices][:, None] + np.arange(length)]

    def pad(self, indices: np.ndarray, eos: int, pad: int) -> Batch:
        """Inputs ``$ x1..xn`` and targets ``x1..xn $`` of strings ``indices``, padded.

        Examples
        --------
        >>> c = Corpus(np.array([0, 1, 1]), np.array([2, 1]))
        >>> b = c.pad(np.array([0, 1]), eos=2, pad=3)
        >>> b.inputs.tolist(), b.targets.tolist(), b.tokens
        ([[2, 0, 1], [2, 1, 2]], [[0, 1, 2], [1, 2, 3]], 5)
        """
        lengths = self.lengths[indices]
        B, T = len(indices), int(lengths.max()) + 1
        row = np.repeat(np.arange(B), lengths)
        column = np.arange(len(row)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        symbols = self.tokens[np.repeat(self.starts[indices], lengths) + column]
        inputs = np.full((B, T), eos, dtype=np.int64)
        targets = np.full((B, T), pad, dtype=np.int64)
        inputs[row, column + 1] = symbols
        targets[row, column] = symbols
        targets[np.arange(B), lengths] = eos
        return Batch(torch.from_numpy(inputs), torch.from_numpy(targets), int(lengths.sum()) + B)

    def stream(self, eos: int) -> np.ndarray:
        """All strings as one stream ``$ x $ y $ ...``, the way char-rnn reads a text.

        Examples
        --------
        >>> Corpus(np.array([0, 1, 1]), np.array([2, 0, 1])).stream(eos=2).tolist()
        [2, 0, 1, 2, 2, 1, 2]
        """
        stream = np.full(len(self.tokens) + len(self) + 1, eos, dtype=self.tokens.dtype)
        is_symbol = np.ones(len(stream), dtype=bool)
        is_symbol[self.heads] = is_symbol[-1] = False
        stream[is_symbol] = self.tokens
        return stream


def unigram_bits(train: Corpus, val: Corpus, eos: int) -> float:
    """Bits per symbol on ``val`` (ends of string included) of the unigram model of ``train``,
    add-one smoothed: the baseline that any model worth training beats.

    Examples
    --------
    >>> corpus = Corpus(np.array([0, 0, 0, 1]), np.array([4]))  # a a a b $
    >>> round(unigram_bits(corpus, corpus, eos=2), 3)  # p = (4, 2, 2) / 8
    1.4
    """
    def counts(corpus: Corpus) -> np.ndarray:
        result = np.zeros(eos + 1)
        for start in range(0, len(corpus.tokens), HASH_BLOCK):  # bincount copies to int64
            result += np.bincount(corpus.tokens[start : start + HASH_BLOCK], minlength=eos + 1)
        result[eos] += len(corpus)
        return result

    model = counts(train) + 1
    observed = counts(val)
    return float(-(observed * np.log2(model / model.sum())).sum() / max(observed.sum(), 1))


def bucketed_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Index batches of strings of similar length, in random order.

    Strings are shuffled, stably sorted by length (so equal lengths stay shuffled), cut into
    batches, and the batches shuffled: padding waste stays small and every epoch differs.

    Examples
    --------
    >>> batches = bucketed_batches(np.array([3, 1, 2, 1]), 2, np.random.default_rng(0))
    >>> sorted(len(b) for b in batches)
    [2, 2]
    """
    order = rng.permutation(len(lengths))
    order = order[np.argsort(lengths[order], kind="stable")]
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def shard(batches: list, rank: int, world_size: int) -> list:
    """This rank's batches; every rank gets the same number (the list is cycled)."""
    per_rank = -(-len(batches) // world_size)
    return [batches[(rank + i * world_size) % len(batches)] for i in range(per_rank)]


def stream_columns(stream: np.ndarray, columns: int, rank: int, world_size: int) -> np.ndarray:
    """Cut a stream into ``columns * world_size`` parallel streams; this rank's (columns, n+1).

    Column ``i`` continues where column ``i`` of the previous chunk stopped, so the hidden state
    is carried across chunks. Too short a stream gets fewer columns. The columns are a view of
    the stream (consecutive columns share one token), not a copy.

    Examples
    --------
    >>> stream_columns(np.arange(7), 2, 0, 1).tolist()
    [[0, 1, 2, 3], [3, 4, 5, 6]]
    """
    total = max(1, min(columns * world_size, (len(stream) - 1) // 2))
    n = (len(stream) - 1) // total
    all_columns = sliding_window_view(stream, n + 1)[::n][:total]  # (total, n + 1)
    per_rank = -(-total // world_size)
    mine = all_columns[rank * per_rank : (rank + 1) * per_rank]
    return mine if len(mine) else all_columns[:1]


def stream_batch_size(length: int, bptt: int, *, largest: int = 64, steps: int = MIN_STREAM_STEPS) -> int:
    """Parallel streams for a stream of ``length`` tokens: at most ``largest``, and few enough
    that an epoch makes at least ``steps`` optimiser steps of ``bptt`` tokens (when it can).

    Examples
    --------
    >>> stream_batch_size(5_900, 100), stream_batch_size(10_000_000, 100), stream_batch_size(50, 100)
    (2, 64, 1)
    """
    return max(1, min(largest, length // (bptt * steps)))


class StreamChunks(Sequence):
    """Consecutive (B, ≤bptt) chunks of parallel streams: inputs and next-token targets, made
    (as int64 tensors) when read, so the streams stay as compact as the corpus.

    Examples
    --------
    >>> chunks = StreamChunks(np.arange(8).reshape(2, 4), bptt=2)
    >>> len(chunks), chunks[1].inputs.tolist(), chunks[1].targets.tolist(), chunks[1].tokens
    (2, [[2], [6]], [[3], [7]], 2)
    """

    def __init__(self, columns: np.ndarray, bptt: int) -> None:
        self.columns, self.bptt = columns, bptt
        self.length = columns.shape[1] - 1

    def __len__(self) -> int:
        return -(-self.length // self.bptt)

    def __getitem__(self, step: int) -> Batch:  # type: ignore[override]
        if not 0 <= step < len(self):
            raise IndexError(step)
        start = step * self.bptt
        stop = min(start + self.bptt, self.length)
        window = torch.from_numpy(self.columns[:, start : stop + 1].astype(np.int64))
        inputs, targets = window[:, :-1], window[:, 1:]
        return Batch(inputs, targets, targets.numel())


class _PaddedBatches(Sequence):
    """Index batches of a corpus, padded when read: an epoch never holds all of them at once."""

    def __init__(self, corpus: Corpus, indices: list[np.ndarray], vocabulary: Vocabulary) -> None:
        self.corpus, self.indices, self.vocabulary = corpus, indices, vocabulary

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, step: int) -> Batch:  # type: ignore[override]
        return self.corpus.pad(self.indices[step], self.vocabulary.eos, self.vocabulary.pad)


class Batches:
    """The batches of one training run on one rank: each epoch's, and the validation batches.

    Whole strings (``bptt`` None) are length-bucketed in an order fixed by ``(seed, epoch)``;
    with ``bptt`` the corpus is one stream in ``batch_size`` parallel columns, the same every
    epoch. Under DistributedDataParallel every rank gets its share and the same number of steps.
    """

    def __init__(
        self,
        vocabulary: Vocabulary,
        train: Corpus,
        val: Corpus,
        *,
        batch_size: int,
        eval_batch_size: int,
        bptt: int | None,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.vocabulary, self.train, self.batch_size = vocabulary, train, batch_size
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.has_validation = len(val) > 0  # on some rank: a rank's own share may be empty
        if bptt is None:
            self.streams = None
            self.validation = self._validation_strings(val, eval_batch_size)
        else:
            self.streams = self._stream_chunks(train, bptt)
            self.validation = self._stream_chunks(val, bptt)

    def epoch(self, epoch: int) -> Sequence[Batch]:
        """This rank's batches of ``epoch``."""
        if self.streams is not None:
            return self.streams
        rng = np.random.default_rng([self.seed, epoch])
        indices = bucketed_batches(self.train.lengths, self.batch_size, rng)
        return _PaddedBatches(self.train, shard(indices, self.rank, self.world_size), self.vocabulary)

    def _stream_chunks(self, corpus: Corpus, bptt: int) -> StreamChunks:
        stream = corpus.stream(self.vocabulary.eos)
        return StreamChunks(stream_columns(stream, self.batch_size, self.rank, self.world_size), bptt)

    def _validation_strings(self, val: Corpus, size: int) -> list[Batch]:
        """Length-sorted batches of validation strings; rank r takes every world_size-th."""
        order = np.argsort(val.lengths, kind="stable")
        groups = [order[i : i + size] for i in range(0, len(order), size)]
        mine = groups[self.rank :: self.world_size]
        return [val.pad(group, self.vocabulary.eos, self.vocabulary.pad) for group in mine]
