"""Automata as graphs: networkx for analysis, Graphviz for pictures."""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from collections.abc import Mapping

import networkx as nx
import numpy as np

from automimic_io import visible

from .core import Automaton, dense_transition
from .errors import AutomatonError, TimeLimitError
from .strings import StringLike, format_string, to_symbols

START_NODE = "__start__"
MAX_DRAWN_EDGES = 150  # dot's layout time grows steeply: 120 edges ~1 s, 240 edges ~60 s
DOT_TIMEOUT = 60.0  # seconds one layout by dot may take
DEFAULT_DPI = 192  # PNG resolution: twice Graphviz's 96, sharp on high-density screens


def to_networkx(a: Automaton) -> nx.MultiDiGraph:
    """A MultiDiGraph: nodes are state names with ``initial`` and ``final`` weights; one edge per
    (symbol, target) move with its ``symbol`` and ``probability`` (1.0 for DFA/NFA moves).

    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a]\\nstart: s\\nstates: {s: {final: true, next: {a: s}}}")
    >>> list(to_networkx(a).edges(data="symbol"))
    [('s', 's', 'a')]
    """
    graph = nx.MultiDiGraph(kind=a.kind, name=a.name, alphabet=a.alphabet)
    for s, state in enumerate(a.states):
        graph.add_node(state, initial=float(a.initial[s]), final=float(a.final[s]))
    for source, symbol, target, weight in moves(a):
        graph.add_edge(a.states[source], a.states[target], key=a.alphabet[symbol],
                       symbol=a.alphabet[symbol], probability=weight)
    return graph


def moves(a: Automaton) -> list[tuple[int, int, int, float]]:
    """Every move as (source, symbol, target, weight), weight > 0 or a DFA's explicit move."""
    if a.is_deterministic:
        source, symbol = np.nonzero(a.next_state >= 0)
        return [(int(s), int(i), int(a.next_state[s, i]), float(a.symbol_prob[s, i]))
                for s, i in zip(source, symbol, strict=True)]
    symbol, source, target = np.nonzero(a.transition)
    return [(int(s), int(i), int(t), float(a.transition[i, s, t]))
            for i, s, t in zip(symbol, source, target, strict=True)]


def _number(value: float, precision: int) -> str:
    return f"{value:.{precision}g}"


def _path(a: Automaton, string: StringLike) -> list[tuple[int, int, int]]:
    """The most probable (Viterbi) path of ``string`` as (source, symbol, target) moves."""
    symbols = [a.symbol_index(s) for s in to_symbols(a, string)]
    shown = format_string(a.alphabet, to_symbols(a, string))
    weights = dense_transition(a)
    with np.errstate(divide="ignore"):
        log_weights, score = np.log(weights), np.log(a.initial)
        log_final = np.log(a.final)
    back = []
    for i in symbols:
        candidates = score[:, None] + log_weights[i]  # (S, S): from s to t
        back.append(candidates.argmax(axis=0))
        score = candidates.max(axis=0)
    if np.isneginf(score).all():
        raise AutomatonError(f"cannot highlight {shown!r}: the automaton cannot read it to its end")
    # an accepted string ends in a stopping state; a rejected one is drawn as far as it goes
    ending = score + log_final if np.isfinite(score + log_final).any() else score
    state = int(np.argmax(ending))
    path = []
    for i, pointers in zip(reversed(symbols), reversed(back), strict=True):
        previous = int(pointers[state])
        path.append((previous, i, state))
        state = previous
    return path[::-1]


def to_graphviz(a: Automaton, *, highlight: StringLike | None = None, precision: int = 3,
                state_colors: Mapping[str, str] | None = None,
                edge_labels: Mapping[tuple[str, str, str], str] | None = None):
    """A ``graphviz.Digraph`` of ``a``: probabilities on edges, stop probabilities on states,
    accepting (stopping) states as double circles, an arrow into each start state.

    ``highlight`` draws the (most probable) path of a string in red; ``state_colors`` fills
    states (``{state: "#rrggbb"}``); ``edge_labels`` replaces the label of a move
    ``(source, symbol, target)``.

    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a]\\nstart: s\\nstates: {s: {final: true, next: {a: s}}}")
    >>> "doublecircle" in to_graphviz(a).source
    True
    """
    import graphviz

    graph = graphviz.Digraph(name=_text(a.name or "automaton"), graph_attr={"rankdir": "LR"},
                             node_attr={"fontname": "Helvetica"},
                             edge_attr={"fontname": "Helvetica", "fontsize": "11"})
    path = _path(a, highlight) if highlight is not None else []
    on_path = {(s, t) for s, _, t in path}
    visited = {s for s, _, _ in path} | {t for _, _, t in path}
    _add_states(graph, a, precision, visited, state_colors or {})
    labels: dict[tuple[int, int], list[str]] = defaultdict(list)
    for source, symbol, target, weight in moves(a):
        key = (a.states[source], a.alphabet[symbol], a.states[target])
        shown = visible(a.alphabet[symbol])
        default = shown if not a.is_probabilistic else f"{shown} {_number(weight, precision)}"
        labels[source, target].append((edge_labels or {}).get(key, default))
    for (source, target), texts in labels.items():
        style = {"color": "red", "penwidth": "2.5"} if (source, target) in on_path else {}
        graph.edge(_node(source), _node(target), label=_text("\n".join(texts)), **style)
    return graph


def jupyter_svg(a: Automaton) -> str | None:
    """The SVG that Jupyter shows for ``a``; None (Jupyter shows the repr) when Graphviz's ``dot``
    program is not installed, or ``a`` is too large to lay out in reasonable time. Other
    failures are raised: they are bugs, not a missing program.

    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a]\\nstart: s\\nstates: {s: {final: true}}")
    >>> svg = jupyter_svg(a)
    >>> svg is None or svg.startswith("<svg")
    True
    """
    if drawing_problem(a) is not None:
        return None
    try:
        return svg_markup(a)
    except TimeLimitError:
        return None


def _node(s: int) -> str:
    return f"s{s}"


def _text(text: str) -> str:
    """``text`` as a quoted DOT string shown as is: never HTML, no backslash escapes."""
    import graphviz

    return graphviz.escape(text)


def _add_states(graph, a: Automaton, precision: int, visited: set[int],
                colors: Mapping[str, str]) -> None:
    for s, state in enumerate(a.states):
        label = state
        if a.is_probabilistic and a.final[s] > 0:
            label += f"\n{_number(float(a.final[s]), precision)}"
        attributes = {"shape": "doublecircle" if a.final[s] > 0 else "circle"}
        if state in colors:
            attributes |= {"style": "filled", "fillcolor": colors[state]}
        if s in visited:
            attributes |= {"color": "red", "penwidth": "2.5"}
        graph.node(_node(s), label=_text(label), **attributes)
        if a.initial[s] > 0:
            start = f"{START_NODE}{s}"
            graph.node(start, label="", shape="none", width="0", height="0")
            weight = float(a.initial[s])
            label = _number(weight, precision) if a.is_probabilistic and weight < 1 else ""
            graph.edge(start, _node(s), label=_text(label))


def has_dot() -> bool:
    """True when Graphviz's ``dot`` program is on the PATH (needed for svg/png/pdf)."""
    return shutil.which("dot") is not None


def drawn_edges(a: Automaton) -> int:
    """The number of arrows a picture of ``a`` has (moves between the same states share one).

    >>> import automata as am
    >>> drawn_edges(am.loads("kind: dfa\\nalphabet: [a, b]\\nstart: s\\n"
    ...                      "states: {s: {final: true, next: {a: s, b: s}}}"))
    1
    """
    return len({(source, target) for source, _, target, _ in moves(a)})


def drawing_problem(a: Automaton, *, max_edges: int = MAX_DRAWN_EDGES) -> str | None:
    """Why ``a`` is not laid out as a picture (one sentence), or None when it can be.

    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a]\\nstart: s\\nstates: {s: {final: true, next: {a: s}}}")
    >>> drawing_problem(a) is None or "not installed" in drawing_problem(a)
    True
    >>> drawing_problem(a, max_edges=0)
    '1 arrows between 1 states are more than 0, which Graphviz lays out in reasonable time'
    """
    edges = drawn_edges(a)
    if edges > max_edges:
        return (f"{edges} arrows between {len(a.states)} states are more than {max_edges}, which "
                "Graphviz lays out in reasonable time")
    if not has_dot():
        return "Graphviz's `dot` program is not installed"
    return None


def layout(source: str, fmt: str, *, timeout: float = DOT_TIMEOUT, dpi: int | None = None) -> bytes:
    """The picture of a DOT graph ``source`` in format ``fmt`` (svg, png, pdf), laid out by
    Graphviz's ``dot`` within ``timeout`` seconds (TimeLimitError beyond); ``dpi`` sets the
    resolution of raster formats.

    >>> svg = layout("digraph { a -> b }", "svg") if has_dot() else b"<svg"
    >>> b"<svg" in svg
    True
    """
    if not has_dot():
        raise AutomatonError("Graphviz's `dot` program is not installed; install it (Debian: "
                             "apt-get install graphviz; macOS: brew install graphviz) or write .dot")
    command = ["dot", f"-T{fmt}"] + ([f"-Gdpi={dpi}"] if dpi and fmt == "png" else [])
    try:
        done = subprocess.run(command, input=source.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise TimeLimitError(f"Graphviz's dot did not finish the layout within {timeout:g} s "
                             "(a graph too large to draw)") from None
    if done.returncode != 0:
        problem = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AutomatonError(f"Graphviz's dot failed: {problem[-1] if problem else done.returncode}")
    return done.stdout


def svg_markup(a: Automaton, **options) -> str:
    """Inline SVG of ``a`` (from ``<svg``) drawn by :func:`to_graphviz` with ``options``;
    AutomatonError saying why when it is not drawn (no Graphviz, too large, too slow).

    >>> import automata as am
    >>> a = am.loads("kind: dfa\\nalphabet: [a]\\nstart: s\\nstates: {s: {final: true, next: {a: s}}}")
    >>> svg_markup(a).startswith("<svg") if has_dot() else True
    True
    """
    problem = drawing_problem(a)
    if problem is not None:
        raise AutomatonError(problem)
    svg = layout(to_graphviz(a, **options).source, "svg").decode("utf-8")
    return svg[svg.index("<svg"):]


def render(a: Automaton, path: str, *, highlight: StringLike | None = None,
           precision: int = 3, dpi: int = DEFAULT_DPI, timeout: float = DOT_TIMEOUT) -> None:
    """Write a picture of ``a`` to ``path``; the format comes from the suffix (svg, png, pdf, dot).

    The file is written atomically. ``dot`` files need no Graphviz program; the others do, and
    its layout stops after ``timeout`` seconds (TimeLimitError). ``dpi`` is the PNG resolution.
    """
    from pathlib import Path

    from automimic_io import write_atomic

    target = Path(path)
    fmt = target.suffix.lstrip(".").lower()
    if fmt not in ("svg", "png", "pdf", "dot", "gv"):
        raise AutomatonError(f"{path}: unknown picture format {target.suffix!r} "
                             "(expected .svg, .png, .pdf or .dot)")
    graph = to_graphviz(a, highlight=highlight, precision=precision)
    if fmt in ("dot", "gv"):
        write_atomic(target, graph.source)
        return
    write_atomic(target, layout(graph.source, fmt, timeout=timeout, dpi=dpi))
