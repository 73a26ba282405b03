"""A trained run used where an automaton could be: ``score`` and ``complete`` on a run folder.

Kept apart from the command modules, which never import each other.
"""

from __future__ import annotations

import sys
from pathlib import Path

from automimic.errors import CliError
from automimic.printing import print_completions, print_scores
from automimic_io import symbols_of

STREAM_COMPLETION = 20  # characters a completion adds, for a model of one text


def note(text: str) -> None:
    """A note on stderr, beside the command's output."""
    print(f"automimic: note: {text}", file=sys.stderr)


def is_run(path: str) -> bool:
    """A run folder, or a model file saved by ``automimic train``."""
    return Path(path).is_dir() or Path(path).suffix == ".pt"


def load_run(run: str):
    """The trained model of a run folder or model file (imports torch)."""
    import neural

    return neural.load(run)


def parse_string(text: str, alphabet: tuple[str, ...]) -> tuple[str, ...]:
    """A command-line string: characters for one-character alphabets, else words; a symbol
    outside ``alphabet`` is a CliError naming it and the string.

    Examples
    --------
    >>> parse_string("AB", ("A", "B")), parse_string("the cat", ("the", "cat"))
    (('A', 'B'), ('the', 'cat'))
    >>> parse_string("AZ", ("A", "B"))
    Traceback (most recent call last):
    ...
    automimic.errors.CliError: unknown symbol 'Z' at position 1 in string 'AZ' (alphabet: A B)
    """
    symbols = symbols_of(text, alphabet)
    known = set(alphabet)
    for position, symbol in enumerate(symbols):
        if symbol not in known:
            raise CliError(f"unknown symbol {symbol!r} at position {position} in string {text!r} "
                           f"(alphabet: {' '.join(alphabet)})")
    return symbols


def score_run(run_dir: str, strings: list[str], as_json: bool) -> int:
    """``automimic score RUN STRING...``: probabilities under the RNN, most probable first."""
    model = load_run(run_dir)
    if model.stream:
        note("a model of one text has no end of string: each probability is that of the text "
             "beginning with the string")
    logs = model.log_probability([parse_string(s, model.alphabet) for s in strings])
    print_scores(list(strings), logs, as_json)
    return 0


def complete_run(run_dir: str, prefix: str, k: int, *, as_json: bool = False) -> int:
    """``automimic complete RUN PREFIX``: the k most probable completions under the RNN."""
    model = load_run(run_dir)
    symbols = parse_string(prefix, model.alphabet)
    if model.stream:
        note(f"a model of one text has no end of string: the {k} most probable next "
             f"{STREAM_COMPLETION} characters")
        completions = model.complete(symbols, k=k, max_length=STREAM_COMPLETION) if k else []
    else:
        completions = model.complete(symbols, k=k) if k else []
    print_completions(model.alphabet, symbols, completions, as_json=as_json)
    return 0
