"""Batches for training: length-bucketed whole strings, or one stream cut for truncated BPTT."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Batch:
    """Input tokens and targets, both (B, T); targets equal to ``pad`` are masked."""

    inputs: torch.Tensor  # (B, T)
    targets: torch.Tensor  # (B, T)
    tokens: int  # number of predicted (unmasked) targets


def pad_strings(encoded: Sequence[np.ndarray], eos: int, pad: int) -> Batch:
    """Inputs ``$ x1..xn`` and targets ``x1..xn $`` of whole strings, padded to the longest.

    Examples
    --------
    >>> b = pad_strings([np.array([0, 1]), np.array([1])], eos=2, pad=3)
    >>> b.inputs.tolist(), b.targets.tolist(), b.tokens
    ([[2, 0, 1], [2, 1, 2]], [[0, 1, 2], [1, 2, 3]], 5)
    """
    lengths = np.fromiter((len(s) for s in encoded), dtype=np.int64, count=len(encoded))
    T = int(lengths.max()) + 1
    inputs = np.full((len(encoded), T), eos, dtype=np.int64)
    targets = np.full((len(encoded), T), pad, dtype=np.int64)
    for row, seq in enumerate(encoded):
        inputs[row, 1 : len(seq) + 1] = seq
        targets[row, : len(seq)] = seq
        targets[row, len(seq)] = eos
    tokens = int(lengths.sum() + len(encoded))
    return Batch(torch.from_numpy(inputs), torch.from_numpy(targets), tokens)


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


def shard(batches: list[np.ndarray], rank: int, world_size: int) -> list[np.ndarray]:
    """This rank's batches; every rank gets the same number (the list is cycled)."""
    per_rank = -(-len(batches) // world_size)
    return [batches[(rank + i * world_size) % len(batches)] for i in range(per_rank)]


def stream_tokens(encoded: Sequence[np.ndarray], eos: int) -> np.ndarray:
    """All strings as one stream ``$ x $ y $ ...``, the way char-rnn reads a text."""
    parts = [np.array([eos], dtype=np.int64)]
    for seq in encoded:
        parts.extend((seq, parts[0]))
    return np.concatenate(parts)


def stream_columns(stream: np.ndarray, columns: int, rank: int, world_size: int) -> np.ndarray:
    """Cut a stream into ``columns * world_size`` parallel streams; this rank's (columns, n+1).

    Column ``i`` continues where column ``i`` of the previous chunk stopped, so the hidden state
    is carried across chunks. Too short a stream gets fewer columns.
    """
    total = max(1, min(columns * world_size, (len(stream) - 1) // 2))
    n = (len(stream) - 1) // total
    data = stream[: total * n + 1]
    starts = np.arange(total) * n
    all_columns = np.stack([data[s : s + n + 1] for s in starts])  # (total, n + 1)
    per_rank = -(-total // world_size)
    mine = all_columns[rank * per_rank : (rank + 1) * per_rank]
    return mine if len(mine) else all_columns[:1]


def stream_chunks(columns: np.ndarray, bptt: int) -> Iterator[Batch]:
    """Consecutive (B, ≤bptt) chunks of parallel streams: inputs and next-token targets."""
    data = torch.from_numpy(columns)
    length = data.shape[1] - 1
    for start in range(0, length, bptt):
        stop = min(start + bptt, length)
        inputs, targets = data[:, start:stop], data[:, start + 1 : stop + 1]
        yield Batch(inputs, targets, targets.numel())


def count_stream_chunks(columns: np.ndarray, bptt: int) -> int:
    """Number of chunks :func:`stream_chunks` yields."""
    return -(-(columns.shape[1] - 1) // bptt)
