"""Encoded corpora and batches against plain per-string loops."""

import hashlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from neural import CorpusError, Vocabulary
from neural.data import Batches, Corpus

VOCABULARY = Vocabulary(("a", "b", "c"))
EOS, PAD = VOCABULARY.eos, VOCABULARY.pad
strings = st.lists(st.text(alphabet="abc", max_size=12), max_size=20)


def _per_string_hash(strings) -> str:
    digest = hashlib.sha256()
    for string in strings:
        digest.update(np.int64(len(string)).tobytes())
        digest.update(np.array(["abc".index(s) for s in string], dtype=np.int64).tobytes())
    return digest.hexdigest()


@given(strings)
def test_corpus_against_per_string_loops(corpus_strings):
    corpus = Corpus.encode(VOCABULARY, corpus_strings)
    assert len(corpus) == len(corpus_strings)
    assert corpus.sha256 == _per_string_hash(corpus_strings)
    stream = [EOS]
    for string in corpus_strings:
        stream += ["abc".index(s) for s in string] + [EOS]
    assert corpus.stream(EOS).tolist() == stream


@given(strings.filter(len), st.data())
def test_pad_against_a_loop(corpus_strings, data):
    corpus = Corpus.encode(VOCABULARY, corpus_strings)
    rows = data.draw(st.lists(st.integers(0, len(corpus_strings) - 1), min_size=1, max_size=8))
    batch = corpus.pad(np.array(rows), EOS, PAD)
    T = max(len(corpus_strings[i]) for i in rows) + 1
    for r, i in enumerate(rows):
        codes = ["abc".index(s) for s in corpus_strings[i]]
        assert batch.inputs[r].tolist() == [EOS, *codes] + [EOS] * (T - 1 - len(codes))
        assert batch.targets[r].tolist() == [*codes, EOS] + [PAD] * (T - 1 - len(codes))
    assert batch.tokens == sum(len(corpus_strings[i]) + 1 for i in rows)


def test_unknown_symbol_names_the_corpus_and_line():
    with pytest.raises(CorpusError, match="validation corpus: unknown symbol 'x' on line 2"):
        Corpus.encode(VOCABULARY, ["ab", "axb"], "validation")


@pytest.mark.parametrize("world_size", [1, 2, 3])
def test_every_rank_gets_its_share_and_the_same_number_of_steps(world_size):
    corpus = Corpus.encode(VOCABULARY, ["a" * (i % 7) for i in range(50)])
    seen, steps = [], set()
    for rank in range(world_size):
        batches = Batches(VOCABULARY, corpus, corpus, batch_size=4, eval_batch_size=8, bptt=None,
                          seed=1, rank=rank, world_size=world_size)
        epoch = batches.epoch(0)
        steps.add(len(epoch))
        seen += [int(b.tokens) for b in epoch]
        assert [b.tokens for b in batches.epoch(0)] == [b.tokens for b in epoch]  # (seed, epoch)
    assert len(steps) == 1
    assert sum(seen) >= sum(len(s) + 1 for s in ["a" * (i % 7) for i in range(50)])


def test_streams_are_the_same_every_epoch_and_cover_the_text():
    corpus = Corpus.encode(VOCABULARY, ["abcab" * 20])
    batches = Batches(VOCABULARY, corpus, corpus, batch_size=3, eval_batch_size=8, bptt=7, seed=0)
    assert batches.epoch(0) is batches.epoch(5)
    columns = np.concatenate([b.inputs for b in batches.epoch(0)], axis=1)  # (3, n)
    stream = corpus.stream(EOS)
    assert np.array_equal(columns.ravel(), stream[: columns.size])
    targets = np.concatenate([b.targets for b in batches.epoch(0)], axis=1)
    assert np.array_equal(targets[:, :-1], columns[:, 1:])


def test_a_text_is_encoded_and_cut_into_streams_compactly():
    """A text costs a few bytes a character (2-byte tokens, a 2-byte stream, its mask and
    blocks of work), not a Python object or an int64 array per character: 10 MB of text must
    train in well under a gigabyte."""
    import tracemalloc

    text = "abcabcbca\n" * 200_000  # 2 million characters
    vocabulary = Vocabulary(("\n", "a", "b", "c"))
    tracemalloc.start()
    try:
        corpus = Corpus.encode(vocabulary, [text])
        Batches(vocabulary, corpus, corpus, batch_size=64, eval_batch_size=8, bptt=100, seed=0)
        digest = corpus.sha256
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak / len(text) < 10, f"{peak / len(text):.1f} bytes a character"
    assert corpus.tokens.dtype == np.int16
    tokens = np.array(["\nabc".index(c) for c in text[:1000]])
    assert np.array_equal(corpus.tokens[:1000], tokens)
    assert digest == Corpus.encode(vocabulary, [tuple(text)]).sha256
