"""automata: define, run, sample, analyse and draw finite and probabilistic automata.

>>> import automata as am
>>> a = am.loads('''
... kind: pdfa
... alphabet: [a, b]
... start: q
... states:
...   q: {final: 0.5, next: {a: {q: 0.25}, b: {r: 0.25}}}
...   r: {final: 1.0}
... ''')
>>> am.probability(a, "ab")
0.0625
>>> am.next_symbol_distribution(a, "a").tolist()
[0.25, 0.25, 0.5]
"""

from .conversions import as_probabilistic
from .core import END, KINDS, Automaton, coreachable_states, dense_transition, reachable_states
from .equivalence import distinguishing_string, equivalent
from .errors import (
    AutomatonError,
    FormatError,
    ImpossiblePrefixError,
    SizeLimitError,
    UnknownSymbolError,
)
from .loading import dump, dumps, from_dict, load, loads, to_dict
from .probability import (
    log_probability,
    next_symbol_distribution,
    prefix_distributions,
    prefix_probability,
    prefix_states,
    probability,
)
from .rendering import render, to_graphviz, to_networkx
from .running import Rejection, accepts, rejection, trace
from .sampling import DEFAULT_MAX_LENGTH, Samples, sample, temper
from .search import complete
from .strings import format_string, to_symbols

__all__ = [
    "DEFAULT_MAX_LENGTH", "END", "KINDS", "Automaton", "AutomatonError", "FormatError",
    "ImpossiblePrefixError", "Rejection", "Samples", "SizeLimitError", "UnknownSymbolError",
    "accepts", "as_probabilistic", "complete", "coreachable_states", "dense_transition",
    "distinguishing_string", "dump", "dumps", "equivalent", "format_string", "from_dict", "load",
    "loads", "log_probability", "next_symbol_distribution", "prefix_distributions",
    "prefix_probability", "prefix_states", "probability", "reachable_states", "rejection",
    "render", "sample", "temper", "to_dict", "to_graphviz", "to_networkx", "to_symbols", "trace",
]
