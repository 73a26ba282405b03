"""Graphviz DOT: write automata losslessly, read them back, and read AALpy's DOT.

:func:`to_dot` draws like :func:`automata.to_graphviz` and also stores the exact data in
attributes: ``automimic_kind``, ``automimic_alphabet`` (JSON) on the graph; ``state``, ``initial``,
``final`` on nodes; ``symbol`` and ``weight`` on edges (one edge per move, floats written with
``repr`` so they read back bit for bit).

:func:`from_dot` reads those files, and the DOT that AALpy's ``save_automaton_to_file`` writes:

- a DFA: nodes ``s0 [label="s0", shape=doublecircle]`` (double circle = accepting), edges
  ``s0 -> s1 [label="a"]``, and ``__start0 -> s0`` for the start;
- a Markov chain: nodes labelled by their output, edges labelled by a probability only. The
  string of a run is the outputs of the states it visits, starting with the initial state's;
  probability that a state's edges leave to 1 is its stop probability (a state without edges
  stops), so the chain becomes a PDFA (or a PFA when two successors share an output) with an
  extra start state.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from .core import Automaton
from .errors import AutomatonError, FormatError
from .rendering import moves
from .validation import markov_start_state

_TOKEN = re.compile(r"""
    (?P<space>\s+|//[^\n]*|/\*.*?\*/|^\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<html><[^<>]*(?:<[^<>]*>[^<>]*)*>)
  | (?P<arrow>->|--)
  | (?P<punct>[{}\[\];,=:])
  | (?P<id>[A-Za-z_\x80-\U0010ffff][\w\x80-\U0010ffff]*|-?(?:\.\d+|\d+(?:\.\d*)?)(?:[eE][-+]?\d+)?)
""", re.VERBOSE | re.DOTALL | re.MULTILINE)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(a: Automaton) -> str:
    """DOT text of ``a`` that :func:`from_dot` reads back exactly.

    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a]\\nstart: s\\nstates: {s: {final: true, next: {a: s}}}")
    >>> am.equivalent(from_dot(to_dot(a)), a)
    True
    """
    lines = [f"digraph {_quote(a.name or 'automaton')} {{",
             "  rankdir=LR;",
             f"  automimic_kind={_quote(a.kind)};",
             f"  automimic_alphabet={_quote(json.dumps(list(a.alphabet), ensure_ascii=False))};"]
    if a.name:
        lines.append(f"  automimic_name={_quote(a.name)};")
    if a.description:
        lines.append(f"  automimic_description={_quote(a.description)};")
    for s, state in enumerate(a.states):
        shape = "doublecircle" if a.final[s] > 0 else "circle"
        label = state if not (a.is_probabilistic and a.final[s] > 0) else \
            f"{state}\n{a.final[s]:.3g}"
        lines.append(f"  s{s} [label={_quote(label)}, shape={shape}, state={_quote(state)}, "
                     f"initial={_quote(repr(float(a.initial[s])))}, "
                     f"final={_quote(repr(float(a.final[s])))}];")
        if a.initial[s] > 0:
            lines.append(f'  __start{s} [label="", shape=none, width=0, height=0];')
            lines.append(f"  __start{s} -> s{s};")
    for source, symbol, target, weight in moves(a):
        name = a.alphabet[symbol]
        label = name if not a.is_probabilistic else f"{name} {weight:.3g}"
        lines.append(f"  s{source} -> s{target} [label={_quote(label)}, symbol={_quote(name)}, "
                     f"weight={_quote(repr(weight))}];")
    return "\n".join(lines + ["}"]) + "\n"


@dataclass
class _Graph:
    attributes: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)  # in order of appearance
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


def _unquote(kind: str, text: str) -> str:
    if kind == "string":
        return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nlr" else m.group(1),
                      text[1:-1])
    if kind == "html":
        return text[1:-1]
    return text


def _tokens(text: str, file: str) -> list[tuple[str, str, int]]:
    out, at = [], 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if not match:
            line = text.count("\n", 0, at) + 1
            raise FormatError(f"unexpected character {text[at]!r} in DOT", file=file, line=line,
                              column=at - text.rfind("\n", 0, at))
        kind = match.lastgroup
        if kind != "space":
            out.append((kind, _unquote(kind, match.group()), text.count("\n", 0, at) + 1))
        at = match.end()
    return out


class _Reader:
    def __init__(self, text: str, file: str) -> None:
        self.tokens, self.at, self.file = _tokens(text, file), 0, file
        self.graph = _Graph()

    def error(self, problem: str) -> FormatError:
        line = self.tokens[min(self.at, len(self.tokens) - 1)][2] if self.tokens else 1
        return FormatError(problem, file=self.file, line=line, column=1)

    def peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        if self.at >= len(self.tokens):
            raise self.error(f"the DOT text ends early (expected {expected or 'more'})")
        kind, value, _ = self.tokens[self.at]
        if expected is not None and (value != expected or kind == "string"):
            raise self.error(f"expected {expected!r} (got {value!r})")
        self.at += 1
        return value

    def read(self) -> _Graph:
        if self.peek() == "strict":
            self.take()
        if self.take() != "digraph":
            raise self.error("only directed graphs (digraph) describe automata")
        if self.peek() != "{":
            self.take()
        self.take("{")
        while self.peek() != "}":
            self.statement()
            if self.peek() == ";":
                self.take()
        self.take("}")
        return self.graph

    def attributes(self) -> dict[str, str]:
        found: dict[str, str] = {}
        while self.peek() == "[":
            self.take()
            while self.peek() != "]":
                key = self.take()
                self.take("=")
                found[key] = self.take()
                if self.peek() in (",", ";"):
                    self.take()
            self.take("]")
        return found

    def statement(self) -> None:
        first = self.take()
        if first in ("subgraph", "{"):
            raise self.error("subgraphs are not supported in automaton DOT files")
        if first in ("graph", "node", "edge"):
            found = self.attributes()
            if first == "graph":
                self.graph.attributes.update(found)
            return
        if self.peek() == "=":
            self.take()
            self.graph.attributes[first] = self.take()
            return
        if self.peek() == ":":  # a port: node:port
            self.take()
            self.take()
        chain = [first]
        while self.peek() in ("->", "--"):
            self.take()
            chain.append(self.take())
        found = self.attributes()
        if len(chain) == 1:
            self.graph.nodes.setdefault(first, {}).update(found)
            return
        for node in chain:
            self.graph.nodes.setdefault(node, {})
        self.graph.edges.extend((s, t, dict(found)) for s, t in zip(chain[:-1], chain[1:], strict=True))


def _number(text: str, where: str, file: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise FormatError(f"{where}: not a number (got {text!r})", file=file) from None


def _from_own(graph: _Graph, file: str) -> Automaton:
    kind = graph.attributes["automimic_kind"]
    alphabet = json.loads(graph.attributes.get("automimic_alphabet", "[]"))
    nodes = {n: attrs for n, attrs in graph.nodes.items() if "state" in attrs}
    index = {n: i for i, n in enumerate(nodes)}
    n_states, n_symbols = len(nodes), len(alphabet)
    symbols = {s: i for i, s in enumerate(alphabet)}
    initial = np.array([_number(a.get("initial", "0"), f"node {n}", file)
                        for n, a in nodes.items()])
    final = np.array([_number(a.get("final", "0"), f"node {n}", file) for n, a in nodes.items()])
    arrays: dict[str, np.ndarray] = {}
    if kind in ("dfa", "pdfa", "markov"):
        arrays["next_state"] = np.full((n_states, n_symbols), -1, dtype=np.int64)
        arrays["symbol_prob"] = np.zeros((n_states, n_symbols))
    else:
        arrays["transition"] = np.zeros((n_symbols, n_states, n_states))
    for source, target, attrs in graph.edges:
        if source not in index:
            continue  # the start arrows
        if target not in index or attrs.get("symbol") not in symbols:
            raise FormatError(f"edge {source} -> {target}: needs a known target and symbol "
                              f"(got symbol {attrs.get('symbol')!r})", file=file)
        s, t, i = index[source], index[target], symbols[attrs["symbol"]]
        weight = _number(attrs.get("weight", "1"), f"edge {source} -> {target}", file)
        if "next_state" in arrays:
            arrays["next_state"][s, i], arrays["symbol_prob"][s, i] = t, weight
        else:
            arrays["transition"][i, s, t] = weight
    return Automaton(kind=kind, alphabet=tuple(alphabet),
                     states=tuple(a["state"] for a in nodes.values()), initial=initial,
                     final=final, name=graph.attributes.get("automimic_name", ""),
                     description=graph.attributes.get("automimic_description", ""), **arrays)


def _start_edges(graph: _Graph) -> tuple[list[str], list[tuple[str, str, dict]]]:
    starts = [t for s, t, _ in graph.edges if s.startswith("__start")]
    rest = [(s, t, a) for s, t, a in graph.edges if not s.startswith("__start")]
    return starts, rest


def _is_probability(label: str) -> bool:
    try:
        float(label)
    except ValueError:
        return False
    return True


def _from_aalpy_dfa(graph: _Graph, file: str) -> Automaton:
    starts, edges = _start_edges(graph)
    names = [n for n in graph.nodes if not n.startswith("__start")]
    index = {n: i for i, n in enumerate(names)}
    alphabet = list(dict.fromkeys(a.get("label", "") for _, _, a in edges))
    next_state = np.full((len(names), len(alphabet)), -1, dtype=np.int64)
    for source, target, attrs in edges:
        s, i = index[source], alphabet.index(attrs.get("label", ""))
        if next_state[s, i] >= 0 and next_state[s, i] != index[target]:
            raise FormatError(f"state {source!r} has two moves on {alphabet[i]!r}: not a DFA",
                              file=file)
        next_state[s, i] = index[target]
    initial = np.zeros(len(names))
    initial[index[starts[0]]] = 1.0
    final = np.array([float("doublecircle" in graph.nodes[n].get("shape", "")) for n in names])
    states = [graph.nodes[n].get("label") or n for n in names]
    if len(set(states)) != len(states):
        states = names
    return Automaton(kind="dfa", alphabet=tuple(alphabet), states=tuple(states), initial=initial,
                     final=final, next_state=next_state,
                     symbol_prob=(next_state >= 0).astype(float))


def _from_aalpy_chain(graph: _Graph, file: str) -> Automaton:
    starts, edges = _start_edges(graph)
    names = [n for n in graph.nodes if not n.startswith("__start")]
    outputs = [graph.nodes[n].get("label", n) for n in names]
    alphabet = list(dict.fromkeys(outputs))
    start_name = markov_start_state(names)
    index = {n: i + 1 for i, n in enumerate(names)}  # state 0 is the new start state
    n_states = len(names) + 1
    transition = np.zeros((len(alphabet), n_states, n_states))
    leaving = defaultdict(float)
    for source, target, attrs in edges:
        p = _number(attrs.get("label", ""), f"edge {source} -> {target}", file)
        transition[alphabet.index(outputs[index[target] - 1]), index[source], index[target]] += p
        leaving[source] += p
    begin = index[starts[0]]
    transition[alphabet.index(outputs[begin - 1]), 0, begin] = 1.0
    final = np.zeros(n_states)
    for n in names:
        if leaving[n] > 1 + 1e-6:
            raise FormatError(f"state {n!r}: its edges leave with probability {leaving[n]:.6g} "
                              "> 1", file=file)
        final[index[n]] = max(0.0, 1.0 - leaving[n])
    initial = np.zeros(n_states)
    initial[0] = 1.0
    states = (start_name, *names)
    targets_per_move = (transition > 0).sum(axis=2)
    if targets_per_move.max() <= 1:
        symbol_prob = transition.sum(axis=2).T
        next_state = np.where(symbol_prob > 0, transition.argmax(axis=2).T, -1)
        return Automaton(kind="pdfa", alphabet=tuple(alphabet), states=states, initial=initial,
                         final=final, next_state=next_state, symbol_prob=symbol_prob)
    return Automaton(kind="pfa", alphabet=tuple(alphabet), states=states, initial=initial,
                     final=final, transition=transition)


def from_dot(text: str, *, file: str = "<string>", kind: str | None = None) -> Automaton:
    """An automaton from DOT text: ours (:func:`to_dot`), or AALpy's DFA or Markov chain DOT.

    ``kind`` forces the reading of an AALpy file: ``"dfa"`` or ``"mc"``; by default edges labelled
    by numbers only make a Markov chain.

    >>> a = from_dot('''digraph g {
    ... s0 [label="s0", shape=doublecircle];
    ... s1 [label="s1"];
    ... s0 -> s1 [label="a"];
    ... s1 -> s0 [label="a"];
    ... __start0 [label="", shape=none];
    ... __start0 -> s0 [label=""];
    ... }''')
    >>> a.kind, a.states, a.final.tolist()
    ('dfa', ('s0', 's1'), [1.0, 0.0])
    """
    graph = _Reader(text, file).read()
    if "automimic_kind" in graph.attributes:
        return _from_own(graph, file)
    starts, edges = _start_edges(graph)
    if len(starts) != 1:
        raise FormatError(f"expected one start arrow '__start0 -> state' (got {len(starts)})",
                          file=file)
    if kind is None:
        numeric = [_is_probability(a.get("label", "")) for _, _, a in edges]
        kind = "mc" if numeric and all(numeric) else "dfa"
    if kind == "mc":
        return _from_aalpy_chain(graph, file)
    if kind == "dfa":
        return _from_aalpy_dfa(graph, file)
    raise AutomatonError(f"unknown DOT kind {kind!r}; expected 'dfa' or 'mc'")
