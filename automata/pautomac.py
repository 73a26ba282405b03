"""Files of the PAutomaC competition (Verwer, Eyraud & de la Higuera, ICGI 2012).

A model file lists, one ``(indices) value`` line each, under four headers::

    I: (state)                  start probability
    F: (state)                  stop probability
    S: (state,symbol)           P(symbol | state, not stopping): Σ over symbols = 1
    T: (state,symbol,state)     P(next state | state, symbol)

so in state q the automaton stops with probability F(q), and otherwise emits a with S(q, a) and
moves to r with T(q, a, r): the probability of a string is the forward sum over paths of
I(q₀) Π (1 − F(qₜ)) S(qₜ, xₜ) T(qₜ, xₜ, qₜ₊₁) · F(qₙ), i.e.
``transition[a, q, r] = (1 − F(q)) S(q, a) T(q, a, r)``.
States and symbols are numbered from 0; states are named by their numbers, and symbol ``i`` maps
to ``alphabet[i]`` (by default the string ``"i"``).

A string file (``N.pautomac.train``, ``N.pautomac.test``) starts with ``count alphabet-size``
and then holds one string per line, ``length s₁ s₂ …``. A solution file starts with the count
and then holds one probability per line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from automimic_io import write_atomic

from .core import Automaton, dense_transition
from .errors import AutomatonError, FormatError
from .files import read_text
from .limits import check_dense_size

PathLike = str | os.PathLike
_HEADERS = {"I": 1, "F": 1, "S": 2, "T": 3}  # header letter → number of indices per line
_LINE = re.compile(r"\(\s*(\d+(?:\s*,\s*\d+)*)\s*\)\s+(\S+)")
_HEADER = re.compile(r"([IFST])\s*:")


@dataclass(frozen=True)
class Strings:
    """The strings of a PAutomaC string file and the alphabet size its header declares."""

    strings: list[tuple[str, ...]]
    n_symbols: int

    def __iter__(self):
        return iter(self.strings)

    def __len__(self) -> int:
        return len(self.strings)


def _read_text(source: PathLike | str) -> tuple[str, str]:
    if isinstance(source, str) and "\n" in source:
        return source, "<string>"
    return read_text(source, "PAutomaC"), str(source)


def _parse_model(text: str, file: str) -> dict[str, list[tuple[tuple[int, ...], float]]]:
    sections: dict[str, list[tuple[tuple[int, ...], float]]] = {key: [] for key in _HEADERS}
    current = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        header = _HEADER.match(line)
        if header:
            current = header.group(1)
            continue
        match = _LINE.fullmatch(line)
        if current is None or not match:
            raise FormatError(f"expected a header (I:, F:, S:, T:) or a line '(i,...) value' "
                              f"(got {line!r})", file=file, line=number, column=1)
        indices = tuple(int(i) for i in match.group(1).split(","))
        if len(indices) != _HEADERS[current]:
            raise FormatError(f"{current}: lines have {_HEADERS[current]} indices (got {line!r})",
                              file=file, line=number, column=1)
        try:
            value = float(match.group(2))
        except ValueError:
            raise FormatError(f"not a number: {match.group(2)!r}", file=file, line=number,
                              column=raw.index(match.group(2)) + 1) from None
        sections[current].append((indices, value))
    return sections


def read_model(source: PathLike | str, *, alphabet: Sequence[str] | None = None,
               n_symbols: int | None = None, name: str = "") -> Automaton:
    """Read a PAutomaC model file (a path, or the text itself) as a ``pfa``.

    ``alphabet`` names the symbols ``0..n-1``; without it symbol ``i`` is ``"i"`` and there are
    ``n_symbols`` of them (default: the largest symbol used + 1).

    Examples
    --------
    >>> import automata as am
    >>> text = "I: (state)\\n(0) 1\\nF: (state)\\n(0) 0.5\\nS: (state,symbol)\\n(0,1) 1\\n"
    >>> text += "T: (state,symbol,state)\\n(0,1,0) 1\\n"
    >>> a = read_model(text)
    >>> a.alphabet, am.probability(a, ("1",))
    (('0', '1'), 0.25)
    """
    text, file = _read_text(source)
    sections = _parse_model(text, file)
    lines = [i for rows in sections.values() for i, _ in rows]
    n_states = 1 + max((i[0] for i in lines), default=-1)
    n_states = max([n_states] + [i[2] + 1 for i, _ in sections["T"]])
    used = 1 + max((i[1] for i, _ in sections["S"] + sections["T"]), default=-1)
    if alphabet is None:
        alphabet = [str(i) for i in range(max(used, n_symbols or 0))]
    if len(alphabet) < used:
        raise FormatError(f"the model uses {used} symbols but the alphabet has {len(alphabet)}",
                          file=file)
    try:
        check_dense_size("pfa", len(alphabet), n_states)
    except AutomatonError as error:
        raise FormatError(str(error), file=file) from None
    emit = np.zeros((n_states, len(alphabet)))
    move = np.zeros((len(alphabet), n_states, n_states))
    initial, final = np.zeros(n_states), np.zeros(n_states)
    for (q,), value in sections["I"]:
        initial[q] = value
    for (q,), value in sections["F"]:
        final[q] = value
    for (q, a), value in sections["S"]:
        emit[q, a] = value
    for (q, a, r), value in sections["T"]:
        move[a, q, r] = value
    transition = ((1 - final)[:, None] * emit).T[:, :, None] * move
    try:
        return Automaton(kind="pfa", alphabet=tuple(alphabet),
                         states=tuple(map(str, range(n_states))), initial=initial, final=final,
                         transition=transition, name=name)
    except FormatError:
        raise
    except AutomatonError as error:
        raise FormatError(str(error), file=file) from None


def model_text(a: Automaton, *, digits: int = 12) -> str:
    """The PAutomaC model text of a probabilistic automaton (symbols numbered by position).

    ``T`` holds P(next state | state, symbol), so a (state, symbol) pair with probability 0 has no
    ``T`` lines; :func:`read_model` gives back an equivalent automaton.
    """
    if not a.is_probabilistic:
        raise AutomatonError(f"a PAutomaC model is probabilistic; convert the {a.kind} first "
                             "(am.as_probabilistic)")
    transition = dense_transition(a)
    moving = 1 - a.final
    # (S, A) P(symbol | state, not stopping); rows of states that always stop stay 0
    emit = np.divide(transition.sum(axis=2).T, moving[:, None], out=np.zeros(
        (len(a.states), len(a.alphabet))), where=moving[:, None] > 0)
    value = f"{{:.{digits}g}}".format
    out = ["I: (state)"] + [f"\t({q}) {value(p)}" for q, p in enumerate(a.initial) if p > 0]
    out += ["F: (state)"] + [f"\t({q}) {value(p)}" for q, p in enumerate(a.final) if p > 0]
    out += ["S: (state,symbol)"]
    out += [f"\t({q},{s}) {value(emit[q, s])}" for q, s in zip(*np.nonzero(emit), strict=True)]
    out += ["T: (state,symbol,state)"]
    for s, q, r in zip(*np.nonzero(transition), strict=True):
        out.append(f"\t({q},{s},{r}) {value(transition[s, q, r] / emit[q, s] / moving[q])}")
    return "\n".join(out) + "\n"


def write_model(a: Automaton, path: PathLike) -> None:
    """Write :func:`model_text` of ``a`` to ``path`` atomically."""
    write_atomic(Path(path), model_text(a))


def read_strings(source: PathLike | str, *,
                 alphabet: Sequence[str] | None = None) -> Strings:
    """Read a PAutomaC train or test file: the strings as tuples of symbols (``"0"``, ``"1"`` …,
    or ``alphabet[i]``).

    >>> read_strings("2 3\\n2 0 2\\n0\\n").strings
    [('0', '2'), ()]
    """
    text, file = _read_text(source)
    lines = text.splitlines()
    header = lines[0].split() if lines else []
    if len(header) != 2 or not all(h.isdigit() for h in header):
        raise FormatError("the first line must be 'count alphabet-size'", file=file, line=1,
                          column=1)
    count, n_symbols = int(header[0]), int(header[1])
    names = list(alphabet) if alphabet is not None else [str(i) for i in range(n_symbols)]
    strings = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split()
        if not fields:
            continue
        codes = [int(f) if f.isdigit() else -1 for f in fields]
        if codes[0] != len(codes) - 1 or any(c < 0 or c >= len(names) for c in codes[1:]):
            raise FormatError(f"expected 'length symbol…' with symbols below {len(names)} "
                              f"(got {line!r})", file=file, line=number, column=1)
        strings.append(tuple(names[c] for c in codes[1:]))
    if len(strings) != count:
        raise FormatError(f"the header announces {count} strings but the file has "
                          f"{len(strings)}", file=file, line=1, column=1)
    return Strings(strings=strings, n_symbols=n_symbols)


def strings_text(strings: Iterable[Sequence[str]], alphabet: Sequence[str]) -> str:
    """The PAutomaC string-file text of ``strings`` over ``alphabet`` (symbol = its position).

    >>> strings_text([("b", "a"), ()], ["a", "b"])
    '2 2\\n2 1 0\\n0\\n'
    """
    index = {symbol: i for i, symbol in enumerate(alphabet)}
    rows = [" ".join(str(v) for v in [len(x)] + [index[s] for s in x]) for x in strings]
    return "\n".join([f"{len(rows)} {len(alphabet)}"] + rows) + "\n"


def write_strings(strings: Iterable[Sequence[str]], alphabet: Sequence[str],
                  path: PathLike) -> None:
    """Write :func:`strings_text` to ``path`` atomically."""
    write_atomic(Path(path), strings_text(strings, alphabet))


def read_solution(source: PathLike | str) -> np.ndarray:
    """The probabilities of a PAutomaC solution file, in the order of the test strings.

    >>> read_solution("2\\n0.25\\n1e-3\\n").tolist()
    [0.25, 0.001]
    """
    text, file = _read_text(source)
    fields = text.split()
    try:
        values = np.array([float(f) for f in fields[1:]])
    except ValueError:
        raise FormatError("a solution file holds a count and then numbers", file=file) from None
    if not fields or not fields[0].isdigit() or int(fields[0]) != len(values):
        raise FormatError("the first line must give the number of probabilities that follow",
                          file=file, line=1, column=1)
    return values


def write_solution(probabilities: Sequence[float], path: PathLike) -> None:
    """Write a solution file (count, then one probability per line) atomically."""
    lines = [str(len(probabilities))] + [f"{p:.12g}" for p in probabilities]
    write_atomic(Path(path), "\n".join(lines) + "\n")


def pautomac_perplexity(log_p: Sequence[float], log_q: Sequence[float],
                        strings: Sequence[Sequence[str]]) -> float:
    """The PAutomaC score 2^(−Σ_{x∈T} P̂(x) log₂ Q̂(x)) over the distinct test strings T, with P̂
    and Q̂ the truth's and the model's probabilities normalised over T.

    ``log_p`` and ``log_q`` are natural logs, one per entry of ``strings``; a string repeated in
    the test set counts once.

    >>> round(pautomac_perplexity(np.log([0.5, 0.25]), np.log([0.5, 0.25]), ["a", "b"]), 4)
    1.8899
    >>> round(pautomac_perplexity(np.log([0.5, 0.5, 0.5]), np.log([0.1] * 3), ["a", "a", "b"]), 12)
    2.0
    """
    first = _first_occurrences(strings)
    p_hat = _normalised_logs(np.asarray(log_p, dtype=float)[first])
    q_hat = _normalised_logs(np.asarray(log_q, dtype=float)[first])
    weights = np.exp(p_hat)
    with np.errstate(invalid="ignore"):
        terms = np.where(weights > 0, weights * q_hat / np.log(2), 0.0)
    return float(2.0 ** -terms.sum())


def _first_occurrences(strings: Sequence[Sequence[str]]) -> np.ndarray:
    seen: dict[tuple[str, ...], int] = {}
    for i, string in enumerate(strings):
        seen.setdefault(tuple(string), i)
    return np.fromiter(seen.values(), dtype=np.int64, count=len(seen))


def _normalised_logs(logs: np.ndarray) -> np.ndarray:
    """log(x / Σ x) from log x, stable; all -inf stays -inf."""
    top = logs.max(initial=-np.inf)
    if not np.isfinite(top):
        return np.full_like(logs, -np.inf)
    return logs - (top + np.log(np.exp(logs - top).sum()))
