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

from . import shipped
from .conversions import as_probabilistic
from .core import END, KINDS, Automaton, coreachable_states, dense_transition, reachable_states
from .dumping import dumps, to_dict
from .equivalence import distinguishing_string, equivalent
from .errors import (
    AutomatonError,
    FormatError,
    ImpossiblePrefixError,
    SizeLimitError,
    TimeLimitError,
    UnknownSymbolError,
)
from .loading import dump, from_dict, load, loads
from .probability import (
    log_probability,
    next_symbol_distribution,
    prefix_distributions,
    prefix_probability,
    prefix_states,
    probability,
)
from .rendering import jupyter_svg, render, to_graphviz, to_networkx
from .running import Rejection, accepts, rejection, trace
from .sampling import DEFAULT_MAX_LENGTH, Samples, sample, temper
from .search import Completions, complete
from .strings import format_string, to_symbols

# Jupyter draws automata inline; set here because rendering builds on core, not the reverse
Automaton._repr_svg_ = jupyter_svg

__all__ = [
    "DEFAULT_MAX_LENGTH", "END", "KINDS", "Automaton", "AutomatonError", "Completions",
    "FormatError",
    "ImpossiblePrefixError", "Rejection", "Samples", "SizeLimitError", "TimeLimitError",
    "UnknownSymbolError",
    "accepts", "as_probabilistic", "complete", "coreachable_states", "dense_transition",
    "distinguishing_string", "dump", "dumps", "equivalent", "format_string", "from_dict", "load",
    "loads", "log_probability", "next_symbol_distribution", "prefix_distributions",
    "prefix_probability", "prefix_states", "probability", "reachable_states", "rejection",
    "render", "sample", "shipped", "temper", "to_dict", "to_graphviz", "to_networkx", "to_symbols",
    "trace",
]

# --- issue 5: analysis, operations, interchange, fitting ---
from .analysis import (  # noqa: E402
    check_distribution,
    entropy,
    entropy_rate,
    expected_length,
    expected_visits,
    inner_product,
    kl_divergence,
    kl_witness,
    l2_distance,
    most_probable_string,
    total_probability,
)
from .conversions import dfa_to_pdfa, markov_to_pdfa  # noqa: E402
from .dot import from_dot, to_dot  # noqa: E402
from .fitting import fit_markov, select_markov  # noqa: E402
from .interchange import from_json, read_automaton, to_json, write_automaton  # noqa: E402
from .operations import (  # noqa: E402
    complement,
    count_accepted,
    determinize,
    difference,
    intersection,
    language_witness,
    make_complete,
    minimize,
    same_language,
    support,
    trim,
    union,
)
from .regex import regex_to_nfa  # noqa: E402

__all__ += [
    "check_distribution", "complement", "count_accepted", "determinize", "dfa_to_pdfa", "difference", "entropy",
    "entropy_rate", "expected_length", "expected_visits", "fit_markov", "from_dot", "from_json",
    "inner_product", "intersection", "kl_divergence", "kl_witness", "l2_distance",
    "language_witness", "make_complete", "markov_to_pdfa", "minimize", "most_probable_string",
    "read_automaton", "regex_to_nfa", "same_language", "select_markov", "support", "to_dot",
    "to_json", "total_probability", "trim", "union", "write_automaton",
]
