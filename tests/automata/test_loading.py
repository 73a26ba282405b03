"""YAML loading: the table of bad files with their located messages, labels, and lossless round trips."""

from __future__ import annotations

import io
import re
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from strategies import any_automata

import automata as am

PDFA = "kind: pdfa\nalphabet: [a, b]\nstart: q\nstates:\n"
DFA = "kind: dfa\nalphabet: [a]\nstart: s\nstates:\n"
MARKOV = "kind: markov\nalphabet: [a, b]\nstart: {a: 0.5, b: 0.5}\nnext:\n"

# (id, file text, expected line, expected field path (None: not checked), part of the message)
BAD_FILES = [
    ("syntax error", "kind: dfa\nalphabet: [a, b\nstart: s\n", 3, "", "invalid YAML"),
    ("mapping value in flow", "kind: dfa\nalphabet: a: b\n", 2, "", "invalid YAML"),
    ("top level is a list", "- kind\n- dfa\n", 1, "", "expected a mapping"),
    ("top level is a scalar", "hello\n", 1, "", "expected a mapping"),
    ("unknown kind", "kind: dfb\nalphabet: [a]\nstart: s\nstates: {s: {final: true}}\n", 1,
     "kind", "unknown kind (got 'dfb'"),
    ("missing kind", "alphabet: [a]\nstart: s\nstates: {s: {final: true}}\n", 1, "",
     "missing field 'kind'"),
    ("missing start", "kind: dfa\nalphabet: [a]\nstates:\n  s: {final: true}\n", 1, "",
     "missing field 'start'"),
    ("missing states", "kind: dfa\nalphabet: [a]\nstart: s\n", 1, "", "missing field 'states'"),
    ("unknown top-level field", DFA + "  s: {final: true}\ncolour: red\n", 6, "colour",
     "unknown field"),
    ("unknown target state", DFA + "  s:\n    final: true\n    next: {a: t}\n", 7,
     "states.s.next.a", "unknown state (got 't'"),
    ("unknown start state", "kind: dfa\nalphabet: [a]\nstart: t\nstates:\n  s: {final: true}\n",
     3, "start", "unknown state (got 't'"),
    ("unknown symbol", DFA + "  s:\n    final: true\n    next: {b: s}\n", 7, "states.s.next.b",
     "unknown symbol (got 'b'"),
    ("unknown state field", DFA + "  s: {final: true, nxt: {a: s}}\n", 5, "states.s.nxt",
     "unknown field"),
    ("duplicate state", DFA + "  s: {final: true}\n  s: {final: false}\n", 6, "states.s",
     "duplicate key 's'"),
    ("duplicate top-level key", "kind: dfa\nkind: nfa\nalphabet: [a]\n", 2, "kind",
     "duplicate key 'kind'"),
    ("duplicate symbol", "kind: dfa\nalphabet: [a, a]\nstart: s\nstates: {s: {final: true}}\n",
     2, "alphabet.1", "duplicate symbol 'a'"),
    ("NaN probability", PDFA + "  q: {final: .nan, next: {a: {q: 0.5}}}\n", 5, "states.q.final",
     "invalid probability (got nan"),
    ("negative probability", PDFA + "  q: {final: 0.5, next: {a: {q: -0.5}, b: {q: 1.0}}}\n", 5,
     "states.q.next.a.q", "invalid probability (got -0.5"),
    ("probability over 1", PDFA + "  q: {final: 0.5, next: {a: {q: 1.5}}}\n", 5,
     "states.q.next.a.q", "invalid probability (got 1.5"),
    ("probability as text", PDFA + "  q: {final: half}\n", 5, "states.q.final",
     "expected a probability (got 'half')"),
    ("row does not sum to 1", PDFA + "  q: {final: 0.5, next: {a: {q: 0.25}, b: {q: 0.15}}}\n", 5,
     "states.q", "state 'q': outgoing probabilities plus final must sum to 1 (got 0.9)"),
    ("markov row does not sum to 1", MARKOV + "  a: {a: 0.5, $: 0.4}\n  b: {$: 1.0}\n", 5,
     "next.a", "state 'a': outgoing probabilities plus final must sum to 1 (got 0.9)"),
    ("markov unknown symbol", MARKOV + "  a: {c: 0.5, $: 0.5}\n  b: {$: 1.0}\n", 5, "next.a.c",
     "unknown symbol (got 'c'"),
    ("markov row missing", MARKOV + "  a: {$: 1.0}\n", 4, "next", "no row for symbol 'b'"),
    ("nondeterministic pdfa", PDFA + "  q: {final: 0.5, next: {a: {q: 0.25, r: 0.25}}}\n"
     "  r: {final: 1.0}\n", 5, "states.q.next.a", "exactly one state per symbol"),
    ("boolean symbol yes", "kind: dfa\nalphabet: [a, yes]\nstart: s\nstates: {s: {final: true}}\n",
     2, "alphabet.1", "(got yes, expected a string)"),
    ("boolean symbol on", "kind: dfa\nalphabet: [on, a]\nstart: s\nstates: {s: {final: true}}\n",
     2, "alphabet.0", "(got on, expected a string)"),
    ("boolean symbol as a move", DFA + "  s: {final: true, next: {yes: s}}\n", 5, None,
     "(got yes, expected a string): YAML reads yes/no/on/off/true/false as booleans, so quote it"),
    ("float symbol", "kind: dfa\nalphabet: [a, 1.5]\nstart: s\nstates: {s: {final: true}}\n", 2,
     "alphabet.1", "read as a number (got 1.5, expected a string): quote it"),
    ("$ as a symbol", "kind: dfa\nalphabet: [a, $]\nstart: s\nstates: {s: {final: true}}\n", 2,
     "alphabet.1", "'$' is reserved"),
    ("$ as a move", PDFA + "  q: {final: 0.5, next: {$: {q: 0.5}}}\n", 5, "states.q.next.$",
     "unknown symbol (got '$'"),
    ("state cannot reach a stop", PDFA + "  q: {final: 0.5, next: {a: {r: 0.5}}}\n"
     "  r: {final: 0.0, next: {b: {r: 1.0}}}\n", 6, "states.r",
     "state 'r' is reachable but can never reach a stop"),
    ("markov symbol cannot reach a stop", MARKOV + "  a: {$: 1.0}\n  b: {b: 1.0}\n", 6, "next.b",
     "state 'b' is reachable but can never reach a stop"),
    ("dfa final not a boolean", DFA + "  s: {final: maybe}\n", 5, "states.s.final",
     "expected true or false (got 'maybe')"),
    ("normalize on a dfa", DFA + "  s: {final: true}\nnormalize: true\n", 6, "normalize",
     "only probabilistic kinds"),
    ("normalize an all-zero row", "normalize: true\n" + MARKOV + "  a: {a: 1, $: 1}\n"
     "  b: {$: 0}\n", 7, "next.b", "all weights are 0, cannot normalize"),
]


def _load_file(tmp_path, content: str | bytes):
    path = tmp_path / "bad.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(am.FormatError) as caught:
        am.load(path)
    return path, caught.value


@pytest.mark.parametrize(("text", "line", "field", "fragment"),
                         [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES])
def test_bad_file_gives_located_message(tmp_path, text, line, field, fragment):
    path, error = _load_file(tmp_path, text)
    message = str(error)
    assert isinstance(error, ValueError)
    assert error.line == line
    located = re.match(rf"^{re.escape(str(path))}:{line}:(\d+): ", message)
    assert located, message
    assert int(located.group(1)) == error.column >= 1
    rest = message[located.end():]
    if field:
        assert error.field == field
        assert rest.startswith(f"{field}: "), message
    elif field == "":
        assert error.field == ""
    assert fragment in message


def test_bad_file_messages_name_the_line_of_the_problem():
    # the field path points at the right line even deep inside flow mappings
    error = pytest.raises(am.FormatError, am.loads, PDFA + "  q: {final: 1.0}\n"
                          "  r: {final: 0.5, next: {b: {q: 0.5, s: 0.5}}}\n").value
    assert (error.line, error.field) == (6, "states.r.next.b")


@pytest.mark.parametrize(("content", "fragment"), [
    ("", "empty"),
    ("   \n\n", "empty"),
    ("# only a comment\n", "no YAML document"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (b"kind: dfa\n\xff\xfe\n", "not UTF-8"),
])
def test_empty_and_binary_files(tmp_path, content, fragment):
    path, error = _load_file(tmp_path, content)
    assert str(error).startswith(f"{path}: ")
    assert fragment in str(error)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(am.FormatError, match="no such file"):
        am.load(tmp_path / "absent.yaml")
    with pytest.raises(am.FormatError, match="is a directory"):
        am.load(tmp_path)


def _alias_bomb(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "kind: dfa\nalphabet: [x]\nstart: s\nstates: {s: {final: true}}\n" + "\n".join(lines)


def test_alias_bomb_fails_fast_in_bounded_memory():
    text = _alias_bomb()  # 9^9 ≈ 387 million strings once expanded
    tracemalloc.start()
    began = time.perf_counter()
    try:
        with pytest.raises(am.FormatError, match="too large or too deep after alias expansion"):
            am.loads(text)
        elapsed = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 2.0
    assert peak < 50 * 2**20


@pytest.mark.parametrize("text", [
    "a: &a [*a]\n",  # an alias inside its own anchor
    "[" * 800 + "]" * 800,  # deeper than the parser's recursion
    "kind: dfa\nalphabet: &x [a, *x]\nstart: s\nstates: {s: {final: true}}\n",
])
def test_recursive_and_deep_documents_are_refused(text):
    with pytest.raises(am.FormatError, match="too deep|nested too deeply"):
        am.loads(text)


def test_small_aliases_are_fine():
    text = ("kind: pdfa\nalphabet: [a]\nstart: q\nstates:\n  q: &row {final: 0.5, next: {a: {r: 0.5}}}\n"
            "  r: *row\n")
    a = am.loads(text)
    assert a.next_state.tolist() == [[1], [1]]


def test_integer_symbols_are_read_as_their_text():
    a = am.loads("kind: dfa\nalphabet: [0, 1, 010]\nstart: 0\nstates:\n"
                 "  0: {final: true, next: {0: 0, 1: 1}}\n  1: {final: false, next: {010: 0}}\n")
    assert a.alphabet == ("0", "1", "010")
    assert a.states == ("0", "1")
    assert am.accepts(a, ("0", "1", "010", "0")) and not am.accepts(a, ("0", "1"))


def test_quoted_tricky_symbols_are_accepted():
    a = am.loads("kind: dfa\nalphabet: ['yes', 'on', '1.5']\nstart: s\n"
                 "states: {s: {final: true, next: {'yes': s}}}\n")
    assert a.alphabet == ("yes", "on", "1.5")


def test_normalize_rescales_weights():
    a = am.loads("kind: pfa\nalphabet: [a]\nnormalize: true\nstart: {q: 3, r: 1}\nstates:\n"
                 "  q: {final: 1, next: {a: {q: 2, r: 1}}}\n  r: {final: 2}\n")
    assert a.initial.tolist() == [0.75, 0.25]
    assert a.final.tolist() == [0.25, 1.0]
    assert a.transition[0, 0].tolist() == [0.5, 0.25]


def test_markov_chain_has_a_start_state_before_the_first_symbol():
    a = am.loads(MARKOV + "  a: {b: 0.5, $: 0.5}\n  b: {$: 1.0}\n")
    start = am.validation.markov_start_state(a.alphabet)
    assert a.states == (start, "a", "b")
    assert am.probability(a, "ab") == pytest.approx(0.5 * 0.5 * 1.0)


def _same(a: am.Automaton, b: am.Automaton) -> None:
    assert (b.kind, b.alphabet, b.states, b.name, b.description) == \
        (a.kind, a.alphabet, a.states, a.name, a.description)
    for name in ("initial", "final", "next_state", "symbol_prob", "transition"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            assert x.shape == y.shape and np.array_equal(x, y), name


@given(any_automata(tricky_symbols=True))
def test_yaml_round_trip_is_lossless(a):
    _same(a, am.loads(am.dumps(a)))
    _same(a, am.from_dict(am.to_dict(a)))


def test_round_trip_through_files_keeps_name_and_description(tmp_path, examples_dir):
    for source in sorted(examples_dir.glob("*.yaml")):
        a = am.load(source)
        assert a.name and a.description
        am.dump(a, tmp_path / "out" / source.name)
        _same(a, am.load(tmp_path / "out" / source.name))
        buffer = io.StringIO()
        am.dump(a, buffer)
        _same(a, am.loads(buffer.getvalue()))
    assert not list((tmp_path / "out").glob(".*.tmp"))  # no temporary files left behind


def test_load_from_open_files(examples_dir):
    path = examples_dir / "abe_fsm.yaml"
    with open(path, encoding="utf-8") as text, open(path, "rb") as binary:
        _same(am.load(text), am.load(binary))


def test_errors_from_open_files_name_the_file(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("kind: dfb\n")
    with open(path, encoding="utf-8") as handle, pytest.raises(am.FormatError) as caught:
        am.load(handle)
    assert str(caught.value).startswith(f"{path}:1:")


def test_from_dict_reports_field_paths_without_lines():
    with pytest.raises(am.FormatError, match=r"^<dict>: states\.s\.next\.a: unknown state"):
        am.from_dict({"kind": "dfa", "alphabet": ["a"], "start": "s",
                      "states": {"s": {"final": True, "next": {"a": "t"}}}})


def test_a_whole_that_is_not_a_distribution_is_rescaled_only_when_asked():
    text = "kind: pdfa\nalphabet: [a]\nstart: s\nstates:\n  s: {final: 0.0000001, next: {a: {s: 0.9999991}}}\n"
    with pytest.raises(am.FormatError, match="total probability is 0.111111"):
        am.loads(text)
    rescaled = am.loads("normalize: true\n" + text)
    assert am.total_probability(rescaled) == pytest.approx(1.0, abs=1e-9)
    assert am.expected_length(rescaled) == pytest.approx(0.9999991 / 0.0000001)
