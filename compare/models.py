"""One protocol for every model compared with the truth: an RNN, an automaton, anything else.

A model has ``alphabet`` and ``prefix_distributions(strings)`` (per string, the (|x|+1, |Σ|+1)
next-symbol distributions after each of its prefixes), or at least
``next_symbol_distribution(prefixes) -> (N, |Σ|+1)``; sampling needs ``sample(n, *, alpha,
max_length, seed)``. :func:`as_model` wraps automata and next-symbol-only models so the rest of
``compare`` sees one shape, with the columns in the truth's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

import automata as am

Strings = Sequence[tuple[str, ...]]


@runtime_checkable
class LanguageModel(Protocol):
    """What :func:`compare.evaluate` needs of a model (a trained RNN has all of it)."""

    alphabet: tuple[str, ...]

    def prefix_distributions(self, strings: Strings) -> list[np.ndarray]: ...


class AutomatonModel:
    """An automaton seen as a language model (DFA and NFA as uniform distributions).

    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> AutomatonModel(a).prefix_distributions([("x",)])[0].tolist()
    [[1.0, 0.0], [0.5, 0.5]]
    """

    def __init__(self, automaton: am.Automaton) -> None:
        self.automaton = am.as_probabilistic(automaton)
        self.alphabet = automaton.alphabet
        self.name = automaton.name or automaton.kind

    def next_symbol_distribution(self, prefixes: Strings) -> np.ndarray:
        return am.next_symbol_distribution(self.automaton, list(prefixes))

    def prefix_distributions(self, strings: Strings) -> list[np.ndarray]:
        return am.prefix_distributions(self.automaton, list(strings))

    def log_probability(self, strings: Strings) -> np.ndarray:
        return am.log_probability(self.automaton, list(strings))

    def sample(self, n: int, *, alpha: float = 1.0, max_length: int = 1000,
               seed: int | None = None) -> list[tuple[str, ...]]:
        return list(am.sample(self.automaton, n, alpha=alpha, max_length=max_length, seed=seed))


class PrefixModel:
    """Adds ``prefix_distributions`` to a model that only has ``next_symbol_distribution``."""

    def __init__(self, model) -> None:
        self.model = model
        self.alphabet = tuple(model.alphabet)
        self.name = getattr(model, "name", type(model).__name__)

    def prefix_distributions(self, strings: Strings) -> list[np.ndarray]:
        prefixes = [s[:t] for s in strings for t in range(len(s) + 1)]
        rows = np.asarray(self.model.next_symbol_distribution(prefixes), dtype=float)
        return np.split(rows, np.cumsum([len(s) + 1 for s in strings])[:-1])

    def sample(self, n: int, **kwargs) -> list[tuple[str, ...]]:
        return self.model.sample(n, **kwargs)


def as_model(model) -> LanguageModel:
    """The model behind the one protocol: automata and next-symbol-only models are wrapped.

    >>> a = am.loads("kind: dfa\\nalphabet: [a]\\nstart: s\\nstates: {s: {final: true, next: {a: s}}}")
    >>> as_model(a).alphabet
    ('a',)
    """
    if isinstance(model, am.Automaton):
        return AutomatonModel(model)
    if not hasattr(model, "alphabet"):
        raise TypeError(f"a model needs an `alphabet` attribute ({type(model).__name__} has none)")
    if hasattr(model, "prefix_distributions"):
        return model
    if hasattr(model, "next_symbol_distribution"):
        return PrefixModel(model)
    raise TypeError(f"{type(model).__name__} has neither prefix_distributions nor "
                    "next_symbol_distribution")


def column_order(truth_alphabet: Sequence[str], model_alphabet: Sequence[str]) -> np.ndarray:
    """Indices that put the model's columns in the truth's order (``$`` stays last).

    >>> column_order(("a", "b"), ("b", "a")).tolist()
    [1, 0, 2]
    """
    truth, model = tuple(truth_alphabet), tuple(model_alphabet)
    if set(truth) != set(model):
        missing = sorted(set(truth) - set(model))
        extra = sorted(set(model) - set(truth))
        raise ValueError(f"the model's alphabet differs from the truth's (missing {missing}, "
                         f"extra {extra})")
    position = {symbol: i for i, symbol in enumerate(model)}
    return np.array([position[s] for s in truth] + [len(model)])
