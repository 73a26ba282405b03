"""automimic_io: the file and text helpers that ``automata``, ``neural``, ``compare`` and the
command line share (standard library and numpy only; it imports none of them).

- :mod:`automimic_io.files`: read an input file with a bound (regular files only), write a file
  atomically;
- :mod:`automimic_io.symbols`: split a text into symbols and join symbols back;
- :mod:`automimic_io.corpus`: corpus files, one string a line.
"""

from .corpus import MAX_CORPUS_BYTES, characters_by_default, parse_corpus, read_corpus, write_corpus
from .files import (
    MAX_INPUT_BYTES,
    InputError,
    decode,
    read_bytes,
    read_text,
    same_file,
    write_atomic,
)
from .symbols import (
    join_symbols,
    separator,
    single_characters,
    split_symbols,
    symbols_of,
    visible,
)

__all__ = [
    "MAX_CORPUS_BYTES", "MAX_INPUT_BYTES", "InputError", "characters_by_default", "decode",
    "join_symbols", "parse_corpus", "read_bytes", "read_corpus", "read_text", "same_file", "separator",
    "single_characters",
    "split_symbols", "symbols_of", "visible", "write_atomic", "write_corpus",
]
