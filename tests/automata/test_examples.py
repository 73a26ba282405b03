"""The shipped examples do what the README says, and every file satisfies the JSON Schema."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml
from hypothesis import given
from strategies import all_strings, any_automata

import automata as am
from automata.analysis import expected_length, total_probability
from automata.shipped import example_names, example_path, json_schema

I_BEFORE_E_VIOLATION = re.compile(r"cie|(?<!c)ei")


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def example_paths() -> list[Path]:
    return [example_path(name) for name in example_names()]


def load(examples_dir: Path, name: str) -> am.Automaton:
    return am.load(examples_dir / f"{name}.yaml")


def test_the_examples_are_all_there(examples_dir):
    names = {p.stem for p in examples_dir.glob("*.yaml")}
    assert names >= {"abe_fsm", "abe_markov", "i_before_e", "i_before_e_pfa", "long_memory",
                     "quotes", "line_position"}


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_every_example_satisfies_the_schema_and_loads(validator, path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(data)]
    assert errors == []
    a = am.load(path)
    assert a.name and a.description
    if a.is_probabilistic:
        assert total_probability(a) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize(("text", "why"), [
    ("kind: moore\nalphabet: [a]\nstart: s\nstates: {s: {}}", "unknown kind"),
    ("kind: dfa\nalphabet: [a, yes]\nstart: s\nstates: {s: {final: true}}", "boolean symbol"),
    ("kind: dfa\nalphabet: [a, 1.5]\nstart: s\nstates: {s: {final: true}}", "float symbol"),
    ("kind: dfa\nalphabet: [a, $]\nstart: s\nstates: {s: {final: true}}", "$ as a symbol"),
    ("kind: dfa\nalphabet: [a]\nstart: s", "no states"),
    ("kind: dfa\nalphabet: [a]\nstart: s\nstates: {s: {final: 1.0}}", "dfa final not boolean"),
    ("kind: dfa\nalphabet: [a]\nstart: s\nstates: {s: {next: {a: [s, t]}}}", "dfa with a list"),
    ("kind: pdfa\nalphabet: [a]\nstart: s\nstates: {s: {final: 1.5}}", "probability over 1"),
    ("kind: pdfa\nalphabet: [a]\nstart: s\nstates: {s: {final: -0.5}}", "negative"),
    ("kind: pdfa\nalphabet: [a]\nstart: s\nstates: {s: {final: 0.5, next: {a: {s: 0.25, t: 0.25}}}}",
     "nondeterministic pdfa"),
    ("kind: pfa\nalphabet: [a]\nstart: s\nstates: {s: {final: 1, colour: red}}", "unknown field"),
    ("kind: markov\nalphabet: [a]\nstart: a\nnext: {a: {$: 1.5}}", "markov over 1"),
    ("kind: markov\nalphabet: [a]\nstart: a\nstates: {a: {}}", "markov with states"),
    ("kind: dfa\nalphabet: [a]\nstart: s\nstates: {s: {}}\ncolour: red", "unknown top field"),
])
def test_the_schema_rejects_malformed_documents(validator, text, why):
    assert not validator.is_valid(yaml.safe_load(text)), why


def test_the_schema_allows_weights_over_one_when_normalizing(validator):
    data = yaml.safe_load("kind: pfa\nalphabet: [a]\nnormalize: true\nstart: {s: 3}\n"
                          "states: {s: {final: 2, next: {a: {s: 5}}}}")
    assert validator.is_valid(data)
    am.from_dict(data)


@given(any_automata(tricky_symbols=True))
def test_dumped_automata_satisfy_the_schema(validator, a):
    assert validator.is_valid(yaml.safe_load(am.dumps(a)))


def test_abe_fsm(examples_dir):
    a = load(examples_dir, "abe_fsm")
    assert a.kind == "dfa"
    assert am.accepts(a, "AABEA")
    assert not am.accepts(a, "ABBA")
    assert not am.accepts(a, "ABAEEAAEABEEEEAAABEEAAB")
    strings = all_strings(a.alphabet, 6)
    # every B is immediately followed by an E
    assert [am.accepts(a, w) for w in strings] == \
        [re.search(r"B(?!E)", "".join(w)) is None for w in strings]


def test_abe_markov(examples_dir):
    a = load(examples_dir, "abe_markov")
    assert a.kind == "markov" and a.columns == ("A", "B", "E", "$")
    assert am.next_symbol_distribution(a, "E")[0] == pytest.approx(0.8)
    assert am.next_symbol_distribution(a, "AABE")[0] == pytest.approx(0.8)
    after_b = am.next_symbol_distribution(a, ["AB", "EAB", "AAEAB"])
    assert (after_b[:, 1] == 0).all() and np.allclose(after_b[:, 2], 1.0)
    assert am.probability(a, "ABBE") == 0.0
    assert am.probability(a, "ABE") == pytest.approx(0.6 * 0.3 * 1.0 * 0.1)


def test_i_before_e_rejects_exactly_the_violations(examples_dir):
    a = load(examples_dir, "i_before_e")
    strings = ["".join(w) for w in all_strings(a.alphabet, 6)]  # 19,531 strings
    accepted = [am.accepts(a, s) for s in strings]
    expected = [I_BEFORE_E_VIOLATION.search(s) is None for s in strings]
    assert accepted == expected
    assert am.accepts(a, "ceiling") is False  # 'l', 'n', 'g' are not in the alphabet
    assert am.accepts(a, "cei") and am.accepts(a, "bie")
    assert not am.accepts(a, "cie") and not am.accepts(a, "bei") and not am.accepts(a, "ei")


def test_i_before_e_pfa_has_that_language_as_support(examples_dir):
    a = load(examples_dir, "i_before_e_pfa")
    assert a.kind == "pdfa"
    strings = ["".join(w) for w in all_strings(a.alphabet, 6)]
    positive = am.probability(a, strings) > 0
    assert positive.tolist() == [I_BEFORE_E_VIOLATION.search(s) is None for s in strings]
    for s in am.sample(a, 500, seed=0):
        assert I_BEFORE_E_VIOLATION.search("".join(s)) is None


def test_long_memory(examples_dir):
    a = load(examples_dir, "long_memory")
    assert expected_length(a) >= 20
    assert expected_length(a) == pytest.approx(1 + 0.95 / 0.05 + 1)  # first, noise, last
    samples = am.sample(a, 300, seed=1)
    assert not samples.cut.any()
    assert all(w[0] in ("x", "y") and w[-1] == w[0] and set(w[1:-1]) <= {"a", "b"}
               for w in samples)
    for w in all_strings(a.alphabet, 5):
        if am.probability(a, w) > 0:
            assert w[0] == w[-1] and len(w) >= 2
    # after a long stretch of noise the last symbol still depends only on the first
    x_noise, y_noise = "x" + "ab" * 30, "y" + "ab" * 30
    assert am.next_symbol_distribution(a, x_noise).tolist() == \
        pytest.approx([0.05, 0.0, 0.475, 0.475, 0.0])
    assert am.next_symbol_distribution(a, y_noise).tolist() == \
        pytest.approx([0.0, 0.05, 0.475, 0.475, 0.0])


def test_quotes(examples_dir):
    a = load(examples_dir, "quotes")
    a_, b_ = a.symbol_index("a"), a.symbol_index("b")
    outside = am.next_symbol_distribution(a, ["", 'a"b"a', 'ab ""'])
    inside = am.next_symbol_distribution(a, ['"', 'a"b b', '"a"" '])
    assert (outside[:, a_] > outside[:, b_]).all() and (outside[:, -1] > 0).all()
    assert (inside[:, b_] > inside[:, a_]).all() and (inside[:, -1] == 0).all()
    assert np.allclose(outside, outside[0]) and np.allclose(inside, inside[0])
    for w in all_strings(a.alphabet, 5):  # strings end outside quotes
        assert (am.probability(a, w) > 0) == (w.count('"') % 2 == 0)


def test_line_position(examples_dir):
    a = load(examples_dir, "line_position")
    for w in am.sample(a, 300, seed=2):
        lines = "".join(w).split("|")
        assert lines[-1] == "" and len(lines) >= 2  # stops at the start of a line
        assert all(len(line) == 12 and set(line) <= {"a", "b"} for line in lines[:-1])
    assert am.prefix_probability(a, "a" * 11 + "|") == 0.0
    assert am.prefix_probability(a, "a" * 13) == 0.0
    assert am.probability(a, "a" * 12) == 0.0
    assert am.probability(a, "a" * 12 + "|") > 0
    assert am.probability(a, "ab" * 6 + "|" + "ba" * 6 + "|") > 0
    assert am.next_symbol_distribution(a, "b" * 12).tolist() == [0.0, 0.0, 1.0, 0.0]
