"""Graphs of automata: Graphviz source, highlighted paths, files, networkx."""

from __future__ import annotations

import html
import re
import shutil

import numpy as np
import pytest
from hypothesis import given
from strategies import any_automata

import automata as am

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def node_lines(source: str) -> dict[str, str]:
    """Graphviz node statements by node name (state nodes are s0, s1, ...)."""
    return {m.group(1): m.group(2)
            for m in re.finditer(r"^\t(s\d+) \[(.*?)\]$", source, re.M | re.S)}


def edge_lines(source: str) -> dict[tuple[str, str], str]:
    return {(m.group(1), m.group(2)): m.group(3)
            for m in re.finditer(r"^\t(\S+) -> (\S+) \[(.*?)\]$", source, re.M | re.S)}


def move_count(a: am.Automaton) -> int:
    if a.is_deterministic:
        return int((a.next_state >= 0).sum())
    return int(np.count_nonzero(a.transition))


@given(any_automata(tricky_symbols=True))
def test_stopping_states_are_double_circles(a):
    source = am.to_graphviz(a).source
    nodes = node_lines(source)
    assert len(nodes) == len(a.states)
    doubles = {name for name, attributes in nodes.items() if "shape=doublecircle" in attributes}
    assert doubles == {f"s{s}" for s in np.flatnonzero(a.final > 0)}
    assert source.count("__start__") == 2 * np.count_nonzero(a.initial)  # node and arrow


@given(any_automata(tricky_symbols=True))
def test_networkx_graph_has_every_move(a):
    graph = am.to_networkx(a)
    assert set(graph.nodes) == set(a.states)
    assert graph.number_of_edges() == move_count(a)
    for s, state in enumerate(a.states):
        assert graph.nodes[state]["final"] == a.final[s]
        assert graph.nodes[state]["initial"] == a.initial[s]
    for source, target, data in graph.edges(data=True):
        i, s, t = a.symbol_index(data["symbol"]), a.state_index(source), a.state_index(target)
        weight = am.dense_transition(a)[i, s, t]
        assert data["probability"] == (1.0 if not a.is_probabilistic else weight)


def test_probabilities_on_edges_and_states(examples_dir):
    a = am.load(examples_dir / "abe_markov.yaml")
    source = am.to_graphviz(a, precision=2).source
    edges = edge_lines(source)
    e, A = f"s{a.state_index('E')}", f"s{a.state_index('A')}"
    assert "A 0.8" in edges[e, A]
    assert "0.1" in node_lines(source)[e]  # stop probability of E
    assert "shape=doublecircle" in node_lines(source)[e]
    b = f"s{a.state_index('B')}"
    assert "shape=circle" in node_lines(source)[b]  # B never stops


def test_highlight_colours_the_path(examples_dir):
    a = am.load(examples_dir / "i_before_e.yaml")
    source = am.to_graphviz(a, highlight="aci").source
    index = {name: f"s{a.state_index(name)}" for name in a.states}
    path = {(index["other"], index["other"]), (index["other"], index["c"]),
            (index["c"], index["ci"])}
    red = {pair for pair, attributes in edge_lines(source).items()
           if attributes and "color=red" in attributes}
    assert red == path
    nodes = node_lines(source)
    assert {n for n, attributes in nodes.items() if "color=red" in attributes} == \
        {index["other"], index["c"], index["ci"]}
    plain = am.to_graphviz(a).source
    assert "color=red" not in plain


def test_highlight_of_an_unreadable_string_is_an_error(examples_dir):
    a = am.load(examples_dir / "abe_fsm.yaml")
    with pytest.raises(am.AutomatonError, match="cannot highlight"):
        am.to_graphviz(a, highlight="ABB")
    with pytest.raises(am.UnknownSymbolError):
        am.to_graphviz(a, highlight="AXA")


def test_state_colours_and_edge_labels(examples_dir):
    a = am.load(examples_dir / "abe_fsm.yaml")
    source = am.to_graphviz(a, state_colors={"b": "#ff0000"},
                            edge_labels={("s", "B", "b"): "B!"}).source
    assert 'fillcolor="#ff0000"' in node_lines(source)["s1"]
    assert 'label="B!"' in edge_lines(source)["s0", "s1"]


def test_render_dot_needs_no_graphviz_program(tmp_path, monkeypatch, examples_dir):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    a = am.load(examples_dir / "abe_fsm.yaml")
    am.render(a, str(tmp_path / "abe.dot"), highlight="AB")
    assert (tmp_path / "abe.dot").read_text() == am.to_graphviz(a, highlight="AB").source
    with pytest.raises(am.AutomatonError, match="`dot` program is not installed"):
        am.render(a, str(tmp_path / "abe.svg"))
    assert not (tmp_path / "abe.svg").exists()
    assert a._repr_svg_() is None


def test_render_unknown_format(tmp_path, examples_dir):
    a = am.load(examples_dir / "abe_fsm.yaml")
    with pytest.raises(am.AutomatonError, match="unknown picture format '.jpeg'"):
        am.render(a, str(tmp_path / "abe.jpeg"))


@needs_dot
def test_render_svg_and_png(tmp_path, examples_dir):
    a = am.load(examples_dir / "i_before_e_pfa.yaml")
    am.render(a, str(tmp_path / "a.svg"), highlight="cei")
    svg = (tmp_path / "a.svg").read_text()
    assert "<svg" in svg and "i_before_e_pfa" in svg
    am.render(a, str(tmp_path / "a.png"))
    assert (tmp_path / "a.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "<svg" in a._repr_svg_()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "a.svg"]  # no temporaries


def test_jupyter_drawing_raises_what_is_not_a_missing_program(monkeypatch, examples_dir):
    def broken(*args, **kwargs):
        raise ValueError("a bug in the drawing")

    monkeypatch.setattr(am.rendering, "to_graphviz", broken)
    with pytest.raises(ValueError, match="a bug in the drawing"):
        am.load(examples_dir / "abe_fsm.yaml")._repr_svg_()


HOSTILE_TEXTS = ["<a>x</a>", 'say "hi"', "ends in \\", "\\N", "node", "two\nlines", "{x; y}"]


@needs_dot
@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_names_and_labels_are_quoted_as_text(text):
    a = am.from_dict({"kind": "dfa", "name": text, "alphabet": ["a"], "start": text,
                      "states": {text: {"final": True, "next": {"a": text}}}})
    svg = am.rendering.layout(am.to_graphviz(a).source, "svg").decode()
    shown = [html.unescape(t) for t in re.findall(r"<(?:text|title)[^>]*>([^<]*)<", svg)]
    for line in text.split("\n"):
        assert line in shown, (line, shown)


def complete_pdfa(n_states: int, n_symbols: int) -> am.Automaton:
    """Every state moves on every symbol to a different state: n_states × n_symbols arrows."""
    symbols = [f"x{i}" for i in range(n_symbols)]
    states = {f"q{s}": {"final": 0.5, "next": {x: {f"q{(s + i + 1) % n_states}": 0.5 / n_symbols}
                                               for i, x in enumerate(symbols)}}
              for s in range(n_states)}
    return am.from_dict({"kind": "pdfa", "alphabet": symbols, "start": "q0", "states": states})


def test_a_graph_too_large_to_lay_out_says_why():
    from automata.rendering import MAX_DRAWN_EDGES, drawing_problem, drawn_edges

    small, large = complete_pdfa(30, 5), complete_pdfa(40, 4)
    assert drawn_edges(small) == MAX_DRAWN_EDGES and drawn_edges(large) > MAX_DRAWN_EDGES
    assert drawing_problem(small) in (None, "Graphviz's `dot` program is not installed")
    assert drawing_problem(large) == (f"160 arrows between 40 states are more than "
                                      f"{MAX_DRAWN_EDGES}, which Graphviz lays out in "
                                      "reasonable time")
    with pytest.raises(am.AutomatonError, match="160 arrows"):
        am.rendering.svg_markup(large)
    assert large._repr_svg_() is None


@needs_dot
def test_layout_stops_at_its_time_limit(tmp_path):
    with pytest.raises(am.TimeLimitError, match="did not finish the layout within 0.01 s"):
        am.render(complete_pdfa(60, 4), str(tmp_path / "big.svg"), timeout=0.01)
    assert list(tmp_path.iterdir()) == []


@needs_dot
def test_png_resolution_follows_dpi(tmp_path, examples_dir):
    a = am.load(examples_dir / "abe_fsm.yaml")
    sizes = {}
    for dpi in (96, 192):
        am.render(a, str(tmp_path / f"{dpi}.png"), dpi=dpi)
        header = (tmp_path / f"{dpi}.png").read_bytes()[16:24]
        sizes[dpi] = (int.from_bytes(header[:4], "big"), int.from_bytes(header[4:], "big"))
    assert sizes[192][0] >= 2 * sizes[96][0] - 2 and sizes[192][1] >= 2 * sizes[96][1] - 2
    assert sizes[am.rendering.DEFAULT_DPI][0] >= 400  # readable: not 227 pixels wide
