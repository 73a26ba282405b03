"""Hidden states of a model side by side with the true automaton's states, one row per prefix.

Row ``offsets[i] + t`` of every array belongs to the prefix ``x_i[:t]`` (t = 0..|x_i|): the hidden
vector the model holds after reading it (the one that predicts the next symbol) and the state the
truth is in after it (``automata.prefix_states``: an index for deterministic automata, otherwise
the normalised forward distribution over states).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

import automata as am

Strings = Sequence[tuple[str, ...]]


@dataclass(frozen=True)
class Alignment:
    """Per-prefix hidden vectors and true states of test strings.

    ``features`` maps a name such as ``"h0"`` (layer 0's hidden state) or ``"c0"`` (an LSTM's
    cell state) to an (N, H) array; ``units`` labels the columns of :meth:`matrix`.
    """

    strings: tuple[tuple[str, ...], ...]
    offsets: np.ndarray  # (n+1,) first row of each string; offsets[-1] = N
    features: dict[str, np.ndarray]  # name -> (N, H)
    states: np.ndarray  # (N,) true state index, or (N, S) forward distributions
    state_names: tuple[str, ...]

    @property
    def n_rows(self) -> int:
        return int(self.offsets[-1])

    @property
    def deterministic(self) -> bool:
        """True when every row has one true state (a deterministic truth)."""
        return self.states.ndim == 1

    @property
    def positions(self) -> np.ndarray:
        """(N,) t, the length of each row's prefix."""
        lengths = np.diff(self.offsets) - 1
        return np.arange(self.n_rows) - np.repeat(self.offsets[:-1], lengths + 1)

    @property
    def string_index(self) -> np.ndarray:
        """(N,) the index of the string each row belongs to."""
        return np.repeat(np.arange(len(self.strings)), np.diff(self.offsets))

    def matrix(self, names: Sequence[str] | None = None) -> np.ndarray:
        """The chosen features (default: all, in order) side by side, (N, D)."""
        names = list(self.features) if names is None else list(names)
        return np.hstack([self.features[name] for name in names])

    def units(self, names: Sequence[str] | None = None) -> list[str]:
        """Labels ``"h0:12"`` (feature h0, unit 12) of the columns of :meth:`matrix`."""
        names = list(self.features) if names is None else list(names)
        return [f"{name}:{j}" for name in names for j in range(self.features[name].shape[1])]

    def labels(self) -> np.ndarray:
        """(N,) one true state per row: the state, or the most probable one of the belief."""
        return self.states if self.deterministic else self.states.argmax(axis=1)

    def rows_of(self, string_mask: np.ndarray) -> np.ndarray:
        """(N,) bool: the rows of the strings selected by ``string_mask`` (n,)."""
        return np.asarray(string_mask, dtype=bool)[self.string_index]


def hidden_features(model, strings: Strings) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every layer's hidden (and LSTM cell) vectors after every prefix, stacked over strings.

    ``model.hidden_states(strings)`` gives per string ``{"h": (L, n+1, H), "c": ...}``; returns
    ``({"h0": (N, H), ..., "c0": ...}, offsets)``.
    """
    per_string = model.hidden_states(list(strings))
    lengths = np.array([len(s) for s in strings], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths + 1)])
    features: dict[str, np.ndarray] = {}
    if not per_string:
        return features, offsets
    for kind, first in per_string[0].items():
        for layer in range(first.shape[0]):
            rows = [states[kind][layer] for states in per_string]  # (n+1, H) each
            features[f"{kind}{layer}"] = np.concatenate(rows).astype(np.float64)
    for name, values in features.items():
        if len(values) != offsets[-1]:
            raise ValueError(f"the model's hidden states {name!r} have {len(values)} rows for "
                             f"{offsets[-1]} prefixes: one per prefix (empty prefix included) "
                             "is expected")
    return features, offsets


def align(truth: am.Automaton, model, strings: Sequence) -> Alignment:
    """Run ``strings`` through ``model`` and ``truth`` together and align them prefix by prefix.

    ``model`` needs ``hidden_states(strings)`` (as :class:`neural.TrainedModel`). Strings the
    truth cannot read (a deterministic truth left without a move) are refused.

    Examples
    --------
    >>> a = am.loads("kind: markov\\nalphabet: [x]\\nstart: {x: 1.0}\\nnext: {x: {x: 0.5, $: 0.5}}")
    >>> class Ones:
    ...     def hidden_states(self, strings):
    ...         return [{"h": np.ones((1, len(s) + 1, 2))} for s in strings]
    >>> alignment = align(a, Ones(), ["xx"])
    >>> alignment.matrix().shape, [alignment.state_names[s] for s in alignment.states]
    ((3, 2), ['^', 'x', 'x'])
    """
    symbols = tuple(am.to_symbols(truth, s) for s in strings)
    features, offsets = hidden_features(model, symbols)
    states = am.prefix_states(truth, list(symbols))
    width = (len(truth.states),) if not truth.is_deterministic else ()
    stacked = np.concatenate(states) if states else np.zeros((0,) + width)
    if truth.is_deterministic:
        stacked = stacked.astype(np.int64)
        if np.any(stacked >= len(truth.states)):
            bad = symbols[int(np.repeat(np.arange(len(symbols)), np.diff(offsets))[
                np.argmax(stacked >= len(truth.states))])]
            raise ValueError(f"the truth cannot read the string "
                             f"{am.format_string(truth.alphabet, bad)!r}")
    return Alignment(strings=symbols, offsets=offsets, features=features, states=stacked,
                     state_names=tuple(truth.states))


def parse_group(text: str, state_names: Sequence[str]) -> tuple[str, frozenset[str]]:
    """A group of states from ``NAME=state1,state2`` or ``NAME=~REGEX`` (states it matches).

    >>> parse_group("inside=inside", ["outside", "inside"])
    ('inside', frozenset({'inside'}))
    >>> sorted(parse_group("late=~p1[01]", ["p1", "p10", "p11"])[1])
    ['p10', 'p11']
    """
    name, sep, spec = text.partition("=")
    name, spec = name.strip(), spec.strip()
    if not sep or not name or not spec:
        raise ValueError(f"a group is NAME=state1,state2 or NAME=~REGEX, got {text!r}")
    if spec.startswith("~"):
        try:
            pattern = re.compile(spec[1:])
        except re.error as err:
            raise ValueError(f"group {name!r}: bad regular expression {spec[1:]!r} ({err})") \
                from None
        members = frozenset(s for s in state_names if pattern.fullmatch(s))
        if not members:
            raise ValueError(f"group {name!r}: the pattern {spec[1:]!r} matches no state; states "
                             f"are {list(state_names)}")
        return name, members
    members = frozenset(s.strip() for s in spec.split(",") if s.strip())
    unknown = sorted(members - set(state_names))
    if unknown:
        raise ValueError(f"group {name!r}: unknown states {unknown}; states are "
                         f"{list(state_names)}")
    return name, members


def group_mass(alignment: Alignment, groups: Mapping[str, frozenset[str]]) -> np.ndarray:
    """(N, G) the probability that each row's true state lies in each group (0/1 when
    deterministic).

    >>> a = Alignment(strings=(("x",),), offsets=np.array([0, 2]), features={},
    ...               states=np.array([0, 1]), state_names=("s", "t"))
    >>> group_mass(a, {"t": frozenset({"t"})}).tolist()
    [[0.0], [1.0]]
    """
    index = {s: i for i, s in enumerate(alignment.state_names)}
    members = np.zeros((len(alignment.state_names), len(groups)))
    for g, states in enumerate(groups.values()):
        members[[index[s] for s in states], g] = 1.0
    if alignment.deterministic:
        return members[alignment.states]
    return alignment.states @ members
