"""Corpus files: one string a line (an empty line is the empty string), written as
:func:`automimic_io.symbols.join_symbols` writes a string.

Read back with a known alphabet, the alphabet decides how a line splits into symbols; read to
learn from (the alphabet unknown), the file decides: whitespace-separated symbols when some line
holds two, else characters (surrounding whitespace dropped). ``chars=True`` always reads
characters.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from .files import read_text, write_atomic
from .symbols import separator, split_symbols

MAX_CORPUS_BYTES = 1 << 30  # corpora are larger than automaton files, but still bounded


def _lines(text: str) -> list[str]:
    lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    if lines[-1] == "":
        lines.pop()
    return lines


def characters_by_default(text: str) -> bool:
    """The file's own rule: True (characters) unless some line holds two symbols separated by
    whitespace.

    >>> characters_by_default("ab\\nb\\n"), characters_by_default("a b\\nb a\\n")
    (True, False)
    """
    return not any(len(line.split()) > 1 for line in text.split("\n"))


def parse_corpus(text: str, *, chars: bool | None = None) -> list[tuple[str, ...]]:
    """The strings of a corpus text, one a line; ``chars`` None lets the text decide.

    >>> parse_corpus("a b\\nb a\\n"), parse_corpus("ab\\n\\nb\\n")
    ([('a', 'b'), ('b', 'a')], [('a', 'b'), (), ('b',)])
    >>> parse_corpus("the cat\\n", chars=True)[0][:4]
    ('t', 'h', 'e', ' ')
    """
    if chars is None:
        chars = characters_by_default(text)
    return [split_symbols(line.strip() if chars else line, chars=chars) for line in _lines(text)]


def read_corpus(path: str | os.PathLike, *, chars: bool | None = None,
                limit: int = MAX_CORPUS_BYTES) -> list[tuple[str, ...]]:
    """The strings of a corpus file (:class:`InputError` naming the file if it cannot be one).

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "c.txt"
    >>> write_corpus(path, [("a", "b"), ()], ("a", "b"))
    >>> path.read_text(), read_corpus(path, chars=True)
    ('ab\\n\\n', [('a', 'b'), ()])
    """
    return parse_corpus(read_text(path, limit=limit, what="corpus"), chars=chars)


def write_corpus(path: str | os.PathLike, strings: Iterable[Sequence[str]],
                 alphabet: Sequence[str]) -> None:
    """Write ``strings`` one a line, atomically."""
    between = separator(alphabet)
    write_atomic(path, "".join(between.join(string) + "\n" for string in strings))
