"""The one size guard for dense tables: refuse before allocating what would exhaust memory."""

from __future__ import annotations

from .errors import SizeLimitError

MAX_DENSE_CELLS = 50_000_000  # symbols × states² of a dense table (400 MB of floats)


def check_dense_size(kind: str, n_symbols: int, n_states: int) -> None:
    """Raise :class:`SizeLimitError` when a dense (symbols × states × states) table of a ``kind``
    would exceed :data:`MAX_DENSE_CELLS`, before it is allocated.

    >>> check_dense_size("pfa", 20, 100)
    >>> check_dense_size("pfa", 20, 10_000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    automata.errors.SizeLimitError: a pfa with 10000 states and 20 symbols needs a dense table ...
    """
    cells = n_symbols * n_states * n_states
    if cells > MAX_DENSE_CELLS:
        raise SizeLimitError(f"a {kind} with {n_states} states and {n_symbols} symbols needs a "
                             f"dense table of {cells:.3g} entries (limit {MAX_DENSE_CELLS:.3g}); "
                             "large automata must be deterministic (dfa, pdfa, markov)")
