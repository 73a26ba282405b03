"""A hostile but realistic user of the command line.

A user error prints one line ``automimic: error: ...`` naming the file (and the line or field where
it applies) and the bad value, and exits with 2; other failures exit with 1; never a traceback;
outputs are written atomically. ``xfail(strict=True)`` marks problems in modules owned by others,
reported to them; each turns into a failure once fixed, so the mark can go.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from interrupting import interrupt_at_first_epoch

import automata as am
from automata.shipped import example_path
from automimic.cli import main
from automimic.training_options import OPTIONS, config_class

EXAMPLES = example_path().parent
MARKOV = EXAMPLES / "abe_markov.yaml"
PFA = EXAMPLES / "i_before_e_pfa.yaml"
DFA = EXAMPLES / "abe_fsm.yaml"
NFA_TEXT = """kind: nfa
alphabet: [a, b]
start: [n0]
states:
  n0: {final: false, next: {a: [n0, n1], b: n0}}
  n1: {final: true}
"""
TINY = ("--n-train", "200", "--n-val", "50", "--epochs", "1", "--hidden", "8", "--quiet")
RUN_FILES = ("model.pt", "training.pt", "history.json", "train.txt", "val.txt", "corpus.json")
EXE = [sys.executable, "-m", "automimic"]


def cli(capsys, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(code: int, err: str, *needles: str) -> None:
    """Exit code 2 and one line ``automimic: error: ...`` holding every needle, last on stderr
    (progress lines may come before it)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert "Traceback" not in err
    assert [line for line in lines if "error" in line] == lines[-1:], err
    assert lines[-1].startswith("automimic: error: "), err
    for needle in needles:
        assert needle in lines[-1], (needle, lines[-1])


def argparse_error(capsys, *argv: object) -> str:
    """Argument errors go through argparse: exit code 2, usage and one error line."""
    with pytest.raises(SystemExit) as exit_:
        main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "Traceback" not in err
    return err.strip().splitlines()[-1]


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bad_input")


@pytest.fixture(scope="module")
def nfa(folder) -> Path:
    return write(folder / "nfa.yaml", NFA_TEXT)


# ------------------------------------------------------------------ bad automaton files, any command

def _pdfa(*states: str) -> str:
    """A one-symbol PDFA file whose states start on line 5."""
    return "kind: pdfa\nalphabet: [a]\nstart: s\nstates:\n" + "".join(f"  {s}\n" for s in states)


ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefg", "bcdefgh", strict=True))
BAD_FILES = {
    "missing": (None, "no such file"),
    "directory": ("DIR", "is a directory"),
    "empty": ("", "the file is empty"),
    "binary": (b"\x00\x01\xfe\xff" * 50, "binary file"),
    "latin-1": (b"kind: dfa\nname: caf\xe9\n", "not UTF-8 text (byte 19)"),
    "syntax": ("kind: [\n", "invalid YAML"),
    "top-level list": ("- a\n- b\n", "expected a mapping"),
    "not fields": ("SQLite format 3 secret rows\n", "(got a single value, not fields)"),
    "duplicate key": ("kind: dfa\nkind: nfa\n", ":2:1: kind: duplicate key 'kind'"),
    "python tag": ("kind: !!python/object:os.system dfa\n", ":1:7: kind: cannot read 'dfa'"),
    "python tag on a key": ("kind: dfa\n!!python/name:os.system x: 1\n", ":2:1: cannot read 'x'"),
    "bad int tag": ("kind: dfa\nalphabet: [!!int abc]\n", ":2:12: alphabet.0: cannot read 'abc'"),
    "alias bomb": (ALIAS_BOMB, "too large or too deep after alias expansion"),
    # each state sums to 1 within 1e-6, but not the whole: a long expected length adds it up
    "total 0.001": (_pdfa("s: {final: 0.000000001, next: {a: {s: 0.999999}}}"),
                    ":5:3: states.s: state 's': the strings' total probability is 0.001, not 1"),
    "total 2.5": (_pdfa("s: {final: 0.0000015, next: {a: {s: 0.9999994}}}"),
                  "total probability is 2.5, not 1"),
    "never stops": (_pdfa("s: {final: 0.0000005, next: {a: {s: 1.0}}}"),
                    ":5:3: states.s: state 's': stopping is impossible or numerically negligible"),
    "negligible stop": (_pdfa("s: {final: 0.00000000001, next: {a: {s: 0.99999999999}}}"),
                        "it moves back to itself with probability 0.99999999999"),
    "cycle never stops": (_pdfa("s: {final: 0.5, next: {a: {t: 0.5}}}",
                                "t: {final: 0.0000001, next: {a: {u: 1.0}}}",
                                "u: {final: 0.0, next: {a: {t: 1.0}}}"),
                          ":6:3: states.t: state 't': stopping is impossible or numerically "
                          "negligible here (each of the 2 states of its cycle"),
    "markov total": ("kind: markov\nalphabet: [a]\nstart: {a: 1.0}\n"
                     "next: {a: {a: 0.999999, $: 0.000000001}}\n",
                     ":4:8: next.a: state 'a': the strings' total probability is 0.001"),
}
COMMANDS = [
    ("validate", "{f}"), ("render", "{f} -o {d}/x.svg"), ("accepts", "{f} ab"),
    ("score", "{f} ab"), ("sample", "{f}"), ("complete", "{f} a"), ("analyze", "{f}"),
    ("minimize", "{f} -o {d}/m.yaml"), ("determinize", "{f} -o {d}/d.yaml"),
    ("convert", "{f} {d}/c.json"), ("distance", "{f} {f}"),
]


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_automaton_file_is_one_located_error_for_every_command(capsys, tmp_path, case):
    content, needle = BAD_FILES[case]
    path = tmp_path / "bad.yaml"
    if content == "DIR":
        path.mkdir()
    elif content is not None:
        write(path, content)
    for command, args in COMMANDS:
        argv = args.format(f=path, d=tmp_path).split()
        code, _, err = cli(capsys, command, *argv)
        if case == "directory" and command in ("score", "complete"):  # a folder is a RUN there
            assert_user_error(code, err, str(path), "no checkpoint there")
        else:
            assert_user_error(code, err, str(path), needle)
    assert not (tmp_path / "m.yaml").exists() and not (tmp_path / "c.json").exists()


TAGGED = """kind: dfa
alphabet: [a]
start: s
states:
  s: {final: true, next: {a: s}}
"""
TAG_PLACES = {  # where a tag goes: (the line as written, the line with "{tag}" in it)
    "kind": ("kind: dfa", "kind: {tag} dfa"),
    "top-level key": ("kind: dfa", "{tag} kind: dfa"),
    "alphabet": ("alphabet: [a]", "alphabet: [{tag} a]"),
    "start": ("start: s", "start: {tag} s"),
    "state name": ("  s: {", "  {tag} s: {"),
    "final": ("final: true", "final: {tag} x"),
    "target": ("{a: s}", "{a: {tag} s}"),
}
TAG_CASES = [(tag, place) for tag in ("!!bool", "!!timestamp", "!!map", "!!seq", "!!set",
                                      "!!python/object:os.system") for place in TAG_PLACES]


@pytest.mark.parametrize(("tag", "place"), TAG_CASES, ids=[f"{t} {p}" for t, p in TAG_CASES])
def test_an_explicit_yaml_tag_anywhere_is_one_located_error(capsys, tmp_path, tag, place):
    plain, tagged = TAG_PLACES[place]
    text = TAGGED.replace(plain, tagged.replace("{tag}", tag), 1)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if tag in row)
    column = text.splitlines()[line - 1].index(tag) + 1
    path = write(tmp_path / "tagged.yaml", text)
    code, _, err = cli(capsys, "validate", path)
    assert_user_error(code, err, f"{path}:{line}:{column}: ", f"tagged '{tag}'")


CONTROL_CODES = (0x01, 0x07, 0x08, 0x0B, 0x0C, 0x0E, 0x1B, 0x1F, 0x7F, 0x80, 0x9B, 0x9F, 0xFFFE)
CONTROL_PLACES = {"plain value": "name: é{c}x\n", "quoted value": 'name: "é{c}x"\n',
                  "key": "é{c}x: 1\n", "comment": "# é{c}x\n"}
CONTROL_CASES = [(code, place) for code in CONTROL_CODES for place in CONTROL_PLACES]


@pytest.mark.parametrize(("code", "place"), CONTROL_CASES,
                         ids=[f"U+{c:04X} {p}" for c, p in CONTROL_CASES])
def test_a_control_character_is_one_located_error(capsys, tmp_path, code, place):
    line = CONTROL_PLACES[place].format(c=chr(code))
    path = write(tmp_path / "control.yaml", "kind: dfa\nalphabet: [a]\n" + line)
    code_, _, err = cli(capsys, "validate", path)
    assert_user_error(code_, err, f"{path}:3:{line.index(chr(code)) + 1}: invalid YAML: "
                      f"control character U+{code:04X} is not allowed")


BAD_INTERCHANGE = [
    ("dup.json", '{"kind": "dfa", "alphabet": ["a"], "start": "s", "kind": "nfa"}',
     "duplicate key 'kind'"),
    ("bad.json", '{"kind": ', "invalid JSON"),
    ("bin.json", b"\xff\xfe{}", "not UTF-8 text"),
    ("bad.dot", "digraph {", "the DOT text ends early"),
    ("bad.pautomac", "garbage\n", ":1:1: expected a header"),
    ("neg.pautomac", "I: (state)\n(0) 5\n", "initial must hold probabilities"),
    ("empty.pautomac", "", "at least one state"),
    # a dense 2 × 100000² table would need 149 GiB: refused before allocating
    ("huge.pautomac", "I: (state)\n(0) 1\nT: (state,symbol,state)\n(0,1,99999) 1\n",
     "needs a dense table"),
    ("x.txt", "kind: dfa\n", "unknown automaton format '.txt'"),
    ("leaky.json", '{"kind": "pdfa", "alphabet": ["a"], "start": "s", "states": {"s": '
     '{"final": 1e-9, "next": {"a": {"s": 0.999999}}}}}', "total probability is 0.001, not 1"),
]


@pytest.mark.parametrize(("name", "content", "needle"), BAD_INTERCHANGE,
                         ids=[row[0] for row in BAD_INTERCHANGE])
def test_bad_files_in_other_formats_name_the_file(capsys, tmp_path, name, content, needle):
    path = write(tmp_path / name, content)
    for command in (["analyze", path], ["convert", path, tmp_path / "out.yaml"]):
        code, _, err = cli(capsys, *command)
        assert_user_error(code, err, str(path), needle)


def test_a_nondeterministic_automaton_too_large_for_memory_is_refused(capsys, tmp_path):
    symbols = ", ".join(f"s{i}" for i in range(600))
    states = "".join(f"  q{i}: {{final: true}}\n" for i in range(300))  # 600 × 300² > 5e7
    path = write(tmp_path / "big.yaml",
                 f"kind: nfa\nalphabet: [{symbols}]\nstart: q0\nstates:\n{states}")
    code, _, err = cli(capsys, "validate", path)
    assert_user_error(code, err, str(path), "300 states and 600 symbols needs a dense table")


def test_a_large_deterministic_file_loads(capsys, tmp_path):
    n = 10_000  # (membership in lists once made this quadratic: 6 min for 60k states)
    states = "".join(f"  q{i}: {{final: true, next: {{a: q{(i + 1) % n}}}}}\n" for i in range(n))
    path = write(tmp_path / "big.yaml", f"kind: dfa\nalphabet: [a]\nstart: q0\nstates:\n{states}")
    code, out, _ = cli(capsys, "validate", path)
    assert code == 0 and f"{n} states" in out


def test_an_unknown_state_among_many_is_named_without_listing_them_all(capsys, tmp_path):
    states = "".join(f"  q{i}: {{final: true}}\n" for i in range(500))
    path = write(tmp_path / "many.yaml",
                 f"kind: dfa\nalphabet: [a]\nstart: q0\nstates:\n{states}"
                 "  z: {final: true, next: {a: nowhere}}\n")
    code, _, err = cli(capsys, "validate", path)
    assert_user_error(code, err, "states.z.next.a: unknown state (got 'nowhere'", "(501 in all)")
    assert len(err) < 500


# ------------------------------------------------------------------ pictures: names, size, time

HOSTILE_NAMES = r"""kind: pdfa
name: "<a>x</a>"
alphabet: ['"', '\']
start: "<b>"
states:
  "<b>": {final: 0.5, next: {'"': {"end\\": 0.25}, '\': {"<b>": 0.25}}}
  "end\\": {final: 1.0}
"""
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is missing")


def large_pdfa(n_states: int = 40, n_symbols: int = 4) -> str:
    """A YAML PDFA with n_states × n_symbols arrows: more than Graphviz lays out quickly."""
    lines = [f"kind: pdfa\nalphabet: [{', '.join(f'x{i}' for i in range(n_symbols))}]\n"
             "start: q0\nstates:"]
    for s in range(n_states):
        moves = ", ".join(f"x{i}: {{q{(s + i + 1) % n_states}: {0.5 / n_symbols}}}"
                          for i in range(n_symbols))
        lines.append(f"  q{s}: {{final: 0.5, next: {{{moves}}}}}")
    return "\n".join(lines) + "\n"


@needs_dot
@pytest.mark.parametrize("picture", ["h.svg", "h.png", "h.pdf"])
def test_names_that_look_like_html_or_escapes_are_drawn_as_text(capsys, tmp_path, picture):
    path = write(tmp_path / "h.yaml", HOSTILE_NAMES)
    code, out, err = cli(capsys, "render", path, "-o", tmp_path / picture)
    assert (code, out, err) == (0, f"wrote {tmp_path / picture}\n", "")
    if picture.endswith(".svg"):
        svg = (tmp_path / picture).read_text()
        assert "<title>&lt;a&gt;x&lt;/a&gt;</title>" in svg and ">end\\</text>" in svg


@needs_dot
def test_the_report_draws_hostile_names_and_says_when_an_automaton_is_too_large(capsys,
                                                                             tmp_path):
    for name, text, drawn in (("h", HOSTILE_NAMES, True), ("big", large_pdfa(), False)):
        path = write(tmp_path / f"{name}.yaml", text)
        code, _, err = cli(capsys, "compare", path, "--model", path, "--n-test", "20",
                           "--n-samples", "0", "--out", tmp_path / name)
        assert code == 0, err
        page = (tmp_path / name / "report.html").read_text()
        assert ('data-figure="automaton"' in page) == drawn
        assert ("the automaton is not drawn: 160 arrows between 40 states" in page) != drawn


@needs_dot
def test_render_stops_a_slow_layout_with_one_line(capsys, tmp_path):
    path = write(tmp_path / "big.yaml", large_pdfa(80, 5))
    code, _, err = cli(capsys, "render", path, "-o", tmp_path / "big.svg", "--timeout", "1")
    assert err.startswith("automimic: note: 400 arrows between 80 states are more than 150")
    assert_user_error(code, err, str(path), "did not finish the layout within 1 s", "--timeout")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.yaml"]


def test_run_draws_no_automaton_too_large_and_says_so(tmp_path):
    from automimic.pipeline import _render

    said = _render(am.loads(large_pdfa()), tmp_path)
    assert said == ("not drawn: 160 arrows between 40 states are more than 150, which Graphviz "
                    "lays out in reasonable time; wrote automaton.dot")
    assert [p.name for p in tmp_path.iterdir()] == ["automaton.dot"]


# ------------------------------------------------------------------ the wrong kind for a command

WRONG_KINDS = [
    (["score", DFA, "AB"], "a dfa has no probabilities"),
    (["score", "NFA", "ab"], "an nfa has no probabilities"),
    (["minimize", PFA, "-o", "OUT/m.yaml"], "a pdfa is a distribution"),
    (["determinize", MARKOV, "-o", "OUT/d.yaml"], "a markov is a distribution"),
    (["distance", DFA, PFA], "cannot compare a dfa with a pdfa"),
    (["convert", DFA, "OUT/m.pautomac"], "a PAutomaC model holds a distribution"),
    (["distance", PFA, MARKOV], "the alphabets differ"),
]


@pytest.mark.parametrize(("argv", "needle"), WRONG_KINDS, ids=[" ".join(
    str(a) if not isinstance(a, Path) else a.stem for a in row[0][:2]) for row in WRONG_KINDS])
def test_the_wrong_kind_for_a_command_is_a_clear_error(capsys, tmp_path, nfa, argv, needle):
    argv = [nfa if a == "NFA" else str(a).replace("OUT", str(tmp_path)) for a in argv]
    code, _, err = cli(capsys, *argv)
    assert_user_error(code, err, needle)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("argv", "needle"), [
    (["score", PFA, "zzz"], "unknown symbol 'z' at position 0 of 'zzz'"),
    (["score", MARKOV, "A$"], "unknown symbol '$' at position 1"),
    (["complete", PFA, "zz"], "unknown symbol 'z'"),
    (["render", PFA, "-o", "OUT/x.dot", "--highlight", "zz"], "unknown symbol 'z'"),
], ids=["score", "score-end", "complete", "render-highlight"])
def test_unknown_symbols_and_impossible_requests(capsys, tmp_path, argv, needle):
    argv = [str(a).replace("OUT", str(tmp_path)) for a in argv]
    code, _, err = cli(capsys, *argv)
    assert_user_error(code, err, needle)


def test_a_huge_k_gives_what_the_bounded_search_found_and_says_it_was_cut(capsys):
    code, out, err = cli(capsys, "complete", PFA, "", "-k", "1000000000")
    assert code == 0 and 0 < len(out.splitlines()) < 1000000000
    assert err.startswith("automimic: note: the search stopped at its limits after ")
    assert "a missing one could have probability up to" in err


# ------------------------------------------------------------------ numbers out of range

@pytest.mark.parametrize(("argv", "needle"), [
    (["sample", PFA, "-n", "-1"], "argument -n: expected a number ≥ 0 (got -1)"),
    (["sample", PFA, "-n", "ten"], "argument -n: expected a whole number (got 'ten')"),
    (["sample", PFA, "--alpha", "nan"], "argument --alpha: expected a number ≥ 0 or inf"),
    (["sample", PFA, "--alpha", "-1"], "argument --alpha: expected a number ≥ 0 or inf"),
    (["sample", PFA, "--seed", "-1"], "argument --seed: expected a number ≥ 0 (got -1)"),
    (["sample", PFA, "--max-length", "-3"], "argument --max-length: expected a number ≥ 0"),
    (["complete", PFA, "a", "-k", "-1"], "argument -k: expected a number ≥ 0 (got -1)"),
    (["render", PFA, "-o", "x.svg", "--precision", "0"], "argument --precision: expected a "
                                                         "number ≥ 1 (got 0)"),
    (["render", PFA, "-o", "x.svg", "--precision", "-3"], "argument --precision"),
    (["determinize", "NFA", "-o", "d.yaml", "--max-states", "0"], "argument --max-states: "
                                                                  "expected a number ≥ 1"),
    (["minimize", "NFA", "-o", "d.yaml", "--max-states", "-5"], "argument --max-states"),
    (["train", PFA, "--out", "r", "--n-val", "0"], "argument --n-val: expected a number ≥ 1"),
    (["train", PFA, "--out", "r", "--n-train", "-5"], "argument --n-train: expected a number ≥ 1"),
    (["generate", "r", "-n", "-1"], "argument -n: expected a number ≥ 0 (got -1)"),
    (["generate", "r", "--alpha", "nan"], "argument --alpha: expected a number ≥ 0 or inf"),
    (["gradients", "r", "-o", "g.png", "-n", "-1"], "argument -n: expected a number ≥ 1"),
    (["compare", PFA, "r", "--n-samples", "-1"], "argument --n-samples: expected a number ≥ 0"),
    (["compare", PFA, "r", "--n-test", "0"], "argument --n-test: expected a number ≥ 1"),
    (["inspect", PFA, "r", "--n-strings", "0"], "argument --n-strings: expected a number ≥ 1"),
], ids=lambda v: " ".join(map(str, v[2:])) if isinstance(v, list) else "")
def test_numbers_out_of_range_are_refused_by_the_parser(capsys, nfa, argv, needle):
    line = argparse_error(capsys, *[nfa if a == "NFA" else a for a in argv])
    assert needle in line


FLOAT_OPTIONS = [option.name for option in OPTIONS  # the fields whose default is a float
                 if isinstance(getattr(config_class(option.group)(), option.field), float)]


@pytest.mark.parametrize("command", ["train", "run"])
@pytest.mark.parametrize("flag", FLOAT_OPTIONS)
@pytest.mark.parametrize("value", ["inf", "nan", "1e999"])
def test_non_finite_numbers_are_refused_by_the_parser(capsys, tmp_path, command, flag, value):
    out = tmp_path / "r"
    line = argparse_error(capsys, command, PFA, "--out", out, f"{flag}={value}")
    assert f"argument {flag}: expected a finite number" in line and f"(got '{value}')" in line
    assert not out.exists()


@pytest.mark.parametrize(("argv", "needle"), [
    (["fit", "CORPUS", "--order", "-1", "-o", "f.yaml"], "--order must be ≥ 0 (got -1)"),
    (["fit", "CORPUS", "--order", "1", "--smoothing", "nan", "-o", "f.yaml"], "(got nan)"),
    (["fit", "CORPUS", "--order", "1", "--smoothing", "-1", "-o", "f.yaml"], "(got -1.0)"),
    (["fit", "CORPUS", "--order", "1", "--alphabet", ",", "-o", "f.yaml"],
     "--alphabet ',': expected symbols"),
], ids=["order", "smoothing-nan", "smoothing-negative", "empty-alphabet"])
def test_fit_refuses_bad_settings(capsys, tmp_path, argv, needle):
    corpus = write(tmp_path / "c.txt", "ab\nba\n")
    argv = [corpus if a == "CORPUS" else tmp_path / a if a == "f.yaml" else a for a in argv]
    code, _, err = cli(capsys, *argv)
    assert_user_error(code, err, needle)
    assert not (tmp_path / "f.yaml").exists()


# ------------------------------------------------------------------ bad corpora for fit

BAD_CORPORA = [
    ("dollar", "ab\na$b\n", [], ":2: unknown symbol '$' in 'a$b'"),
    ("unknown", "ab\nzz\n", ["--alphabet", "a,b"], ":2: unknown symbol 'z' in 'zz'"),
    ("empty", "", [], "no symbols seen; give --alphabet"),
    ("blank", "\n\n\n", [], "no symbols seen"),
    ("latin-1", b"ab\xff\n", [], "not UTF-8 text (byte 2)"),
    ("binary", b"\x00\x01ab", [], "binary file"),
    ("pautomac", "2 3\n2 0 5\n0\n", [], ":2:1: expected 'length symbol"),
    ("pautomac count", "3 3\n2 0 1\n0\n", [], ":1:1: the header announces 3 strings"),
]


@pytest.mark.parametrize(("content", "extra", "needle"), [row[1:] for row in BAD_CORPORA],
                         ids=[row[0] for row in BAD_CORPORA])
def test_a_bad_corpus_for_fit_names_the_file_and_line(capsys, tmp_path, content, extra, needle):
    corpus = write(tmp_path / "corpus.txt", content)
    code, _, err = cli(capsys, "fit", corpus, "--order", "1", *extra, "-o", tmp_path / "f.yaml")
    assert_user_error(code, err, str(corpus), needle)
    assert not (tmp_path / "f.yaml").exists()


@pytest.mark.parametrize("missing", ["nope.txt", "DIR"])
def test_a_missing_corpus_for_fit(capsys, tmp_path, missing):
    corpus = tmp_path / missing
    if missing == "DIR":
        corpus.mkdir()
    code, _, err = cli(capsys, "fit", corpus, "--order", "1", "-o", tmp_path / "f.yaml")
    assert_user_error(code, err, str(corpus))


# ------------------------------------------------------------------ output paths

OUTPUT_COMMANDS = [
    ["render", DFA, "-o", "{out}"], ["sample", PFA, "-n", "3", "-o", "{out}"],
    ["minimize", DFA, "-o", "{out}"], ["determinize", DFA, "-o", "{out}"],
    ["convert", DFA, "{out}"], ["fit", "CORPUS", "--order", "1", "-o", "{out}"],
]


def _output_argv(argv: list, out: Path, corpus: Path) -> list[str]:
    return [str(out) if a == "{out}" else str(corpus) if a == "CORPUS" else str(a) for a in argv]


@pytest.mark.parametrize("argv", OUTPUT_COMMANDS, ids=[a[0] for a in OUTPUT_COMMANDS])
def test_outputs_go_into_new_folders_atomically_with_normal_permissions(capsys, tmp_path, argv):
    corpus = write(tmp_path / "c.txt", "AB\nBA\n")
    out = tmp_path / "new" / "folder" / ("out.dot" if argv[0] == "render" else "out.yaml")
    code, _, err = cli(capsys, *_output_argv(argv, out, corpus))
    assert code == 0, err
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0o600
    assert [p.name for p in out.parent.iterdir()] == ["out" + out.suffix]  # no temporary left


BAD_OUTPUT_PATHS = [(argv, where) for argv in OUTPUT_COMMANDS
                    for where in ("file in the way", "a directory", "unknown suffix")
                    if not (where == "unknown suffix" and argv[0] == "sample")]  # plain text


@pytest.mark.parametrize(("argv", "where"), BAD_OUTPUT_PATHS,
                         ids=[f"{argv[0]}-{where}" for argv, where in BAD_OUTPUT_PATHS])
def test_a_bad_output_path_is_one_error_naming_it(capsys, tmp_path, argv, where):
    corpus = write(tmp_path / "c.txt", "AB\nBA\n")
    blocker = write(tmp_path / "blocker.yaml", "keep me")
    out = {"file in the way": blocker / "x.yaml", "a directory": tmp_path,
           "unknown suffix": tmp_path / "out.xyz"}[where]
    code, _, err = cli(capsys, *_output_argv(argv, out, corpus))
    assert_user_error(code, err, str(out))
    assert ".tmp" not in err
    assert blocker.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker.yaml", "c.txt"]


def test_piping_into_a_closed_pipe_prints_no_traceback(tmp_path):
    read, write_end = os.pipe()
    os.close(read)
    try:
        result = subprocess.run([*EXE, "sample", str(PFA), "-n", "20000", "--seed", "0"],
                                stdout=write_end, stderr=subprocess.PIPE, text=True, check=False,
                                timeout=60)
    finally:
        os.close(write_end)
    assert result.returncode == 0
    assert result.stderr == ""


def test_a_file_that_is_not_an_automaton_is_not_echoed(capsys, tmp_path):
    for content in (b"SQLite format 3 secret rows\n", b"\x89PNG\r\n\x1a\n secret", b"\x01secret"):
        path = write(tmp_path / "x.yaml", content)
        code, _, err = cli(capsys, "validate", path)
        assert code == 2 and str(path) in err
        assert "secret" not in err


@pytest.mark.parametrize(("argv", "source"), [
    (["sample", "{in}", "-n", "3", "-o", "{same}"], PFA),
    (["convert", "{in}", "{same}"], PFA),
    (["minimize", "{in}", "-o", "{same}"], DFA),
    (["determinize", "{in}", "-o", "{same}"], DFA),
    (["render", "{in}", "-o", "{same}"], DFA),
    (["fit", "{in}", "--order", "1", "-o", "{same}"], PFA),  # a corpus named .yaml, why not
], ids=lambda v: v[0] if isinstance(v, list) else "")
def test_an_output_that_is_the_input_is_refused_and_the_input_kept(capsys, tmp_path, argv, source):
    (tmp_path / "sub").mkdir()
    original = shutil.copy(source, tmp_path / "m.yaml")
    before = original.read_bytes()
    same = tmp_path / "sub" / ".." / "m.yaml"  # the same file, spelled otherwise
    argv = [str(original) if a == "{in}" else str(same) if a == "{same}" else a for a in argv]
    code, _, err = cli(capsys, *argv)
    assert_user_error(code, err, f"{same}: is the input file {original}")
    assert original.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.yaml", "sub"]


def _limit_file_size() -> None:
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))


def test_a_failed_write_names_the_file_not_its_temporary(tmp_path):
    out = tmp_path / "samples.txt"
    result = subprocess.run([*EXE, "sample", str(PFA), "-n", "2000", "--seed", "0", "-o", str(out)],
                            capture_output=True, text=True, timeout=60,
                            preexec_fn=_limit_file_size)
    assert result.returncode != 0
    assert result.stderr == f"automimic: error: {out}: File too large\n"
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ devices, pipes and folders

NOT_FILES = {"device": "/dev/zero", "stdin": "/dev/stdin", "fifo": "FIFO", "folder": "DIR"}
INPUT_COMMANDS = [
    ["validate", "{f}"], ["score", "{f}", "ab"], ["convert", "{f}", "{d}/c.json"],
    ["convert", "{y}", "{d}/c.json"], ["fit", "{f}", "--order", "1", "-o", "{d}/f.yaml"],
    ["train", "--data", "{f}", "--out", "{d}/r", "--epochs", "1", "--quiet"],
]
PROBE = """
import contextlib, io, json, sys
from automimic.cli import main
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    print(json.dumps([code, err.getvalue()]), flush=True)
"""


def _not_a_file(tmp_path: Path, case: str) -> Path:
    if case == "fifo":
        os.mkfifo(tmp_path / "pipe")
        return tmp_path / "pipe"
    if case == "folder":
        (tmp_path / "folder").mkdir()
        return tmp_path / "folder"
    return Path(NOT_FILES[case])


def test_devices_pipes_and_folders_are_refused_at_once_never_read(tmp_path):
    rows, argvs = [], []
    for case in NOT_FILES:
        path = _not_a_file(tmp_path, case)
        (tmp_path / f"{case}.yaml").symlink_to(path)  # convert goes by the suffix
        for argv in INPUT_COMMANDS:
            rows.append((case, path, argv[0]))
            argvs.append([a.format(f=path, y=tmp_path / f"{case}.yaml", d=tmp_path / f"out-{case}")
                          for a in argv])
    # one interpreter for all (torch loads once); stdin is a pipe that is never closed early
    probe = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argvs)], input="abc " * 1000,
                           capture_output=True, text=True, timeout=120)
    results = [json.loads(line) for line in probe.stdout.splitlines()]
    assert len(results) == len(rows), probe.stderr
    for (case, path, command), argv, (code, err) in zip(rows, argvs, results, strict=True):
        named = argv[1] if command in ("validate", "score", "convert", "fit") else str(path)
        kind = {"device": "is a device", "stdin": "is a pipe", "fifo": "is a pipe",
                "folder": "is a directory"}[case]
        if command == "score" and case == "folder":  # a folder is a RUN for score
            kind = "no checkpoint there"
        elif command == "convert" and argv[1] == str(path):
            kind = "unknown automaton format"  # no suffix: refused before reading
        assert code == 2, (case, command, err)
        assert_user_error(code, err, named, kind)
    assert not any((tmp_path / f"out-{case}").exists() for case in NOT_FILES)


# ------------------------------------------------------------------ trained runs

@pytest.fixture(scope="module")
def trained(folder) -> Path:
    """A tiny trained run (a second or two)."""
    out = folder / "run"
    assert main(["train", str(MARKOV), "--out", str(out), *TINY]) == 0
    return out


def _copy_run(trained: Path, target: Path) -> Path:
    target.mkdir()
    for name in RUN_FILES:
        (target / name).write_bytes((trained / name).read_bytes())
    return target


RUN_COMMANDS = [["generate", "{run}", "-n", "2"], ["score", "{run}", "AB"],
                ["complete", "{run}", "A"], ["gradients", "{run}", "-o", "{tmp}/g.png"],
                ["compare", MARKOV, "{run}", "--n-test", "5", "--out", "{tmp}/cmp"],
                ["inspect", MARKOV, "{run}", "--n-strings", "8", "--out", "{tmp}/ins"]]


def _run_argv(argv: list, run: Path, tmp: Path) -> list[str]:
    return [str(a).replace("{run}", str(run)).replace("{tmp}", str(tmp)) for a in argv]


def _corrupt(run: Path, how: str) -> None:
    import torch

    model = run / "model.pt"
    if how == "truncated":
        model.write_bytes(model.read_bytes()[:1000])
    elif how == "other version":
        checkpoint = torch.load(model, weights_only=True)
        torch.save({**checkpoint, "format_version": 999}, model)
    elif how == "not ours":
        torch.save({"a": 1}, model)
    elif how == "pickled code":
        torch.save({"f": print}, model)
    elif how == "random bytes":  # these bytes read as a pickle's first opcodes
        model.write_bytes(b"\x87\x1c\x15b" + bytes(100))
    elif how == "text":
        model.write_text("hello\n")
    elif how == "another alphabet":
        checkpoint = torch.load(model, weights_only=True)
        torch.save({**checkpoint, "alphabet": ["x"]}, model)


RUN_FOLDERS = [
    pytest.param("missing", "no such file|no checkpoint there", id="missing"),
    pytest.param("empty", "no checkpoint there", id="empty"),
    pytest.param("another tool's folder", "no checkpoint there", id="another tool's folder"),
    pytest.param("truncated", "not a readable checkpoint", id="truncated"),
    pytest.param("other version", "checkpoint format version 999", id="other version"),
    pytest.param("not ours", "not an automimic neural checkpoint", id="not ours"),
    pytest.param("pickled code", "refused to load", id="pickled code"),
    pytest.param("random bytes", "model.pt: not a readable checkpoint", id="random bytes"),
    pytest.param("text", "model.pt: not a readable checkpoint", id="text"),
    pytest.param("another alphabet", "model.pt: corrupt checkpoint .*alphabet of 1 symbols",
                 id="another alphabet"),
]


@pytest.mark.parametrize(("how", "needle"), RUN_FOLDERS)
def test_a_bad_run_folder_is_one_clear_error(capsys, tmp_path, trained, how, needle):
    run = tmp_path / "run"
    if how == "empty":
        run.mkdir()
    elif how == "another tool's folder":
        run.mkdir()
        write(run / "README.md", "not a run")
    elif how != "missing":
        _corrupt(_copy_run(trained, run), how)
    for argv in RUN_COMMANDS[:4] + RUN_COMMANDS[4:] * (how in ("missing", "truncated")):
        code, _, err = cli(capsys, *_run_argv(argv, run, tmp_path))
        assert_user_error(code, err, str(run))
        assert re.search(needle, err), err
    assert not (tmp_path / "g.png").exists()


@pytest.mark.parametrize("command", ["score", "complete"])
def test_score_and_complete_accept_a_model_file_as_generate_does(capsys, trained, command):
    code, out, err = cli(capsys, command, trained / "model.pt", "AB")
    assert code == 0, err
    assert "'AB" in out


def test_training_again_into_a_run_asks_for_resume_or_force_and_changes_nothing(capsys,
                                                                                 trained):
    before = {name: (trained / name).read_bytes() for name in RUN_FILES}
    code, _, err = cli(capsys, "train", PFA, "--out", trained, *TINY)
    assert_user_error(code, err, str(trained), "--resume", "--force")
    code, _, err = cli(capsys, "train", PFA, "--out", trained, "--resume", "--force", *TINY)
    assert_user_error(code, err, "contradict")
    assert {name: (trained / name).read_bytes() for name in RUN_FILES} == before


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.parametrize(("options", "needle"), [
    (["--hidden", "0"], "hidden"),
    (["--epochs", "-1"], "epochs"),
    (["--cell", "foo"], "cell"),
    (["--lr", "0"], "--lr must be positive"),
    pytest.param(["--device", "cuda"], "CUDA is not available on this machine; use --device "
                 "cpu or auto", marks=pytest.mark.skipif(_has_cuda(),
                                                         reason="needs a machine without CUDA")),
    (["--device", "foo"], "--device foo: unknown device 'foo'"),
], ids=["hidden", "epochs", "cell", "lr", "device", "device-unknown"])
def test_bad_training_options_are_refused(capsys, tmp_path, options, needle):
    code, _, err = cli(capsys, "train", MARKOV, "--out", tmp_path / "r", *TINY, *options)
    assert_user_error(code, err, needle)


@pytest.mark.parametrize("options", [["--hidden", "0"], ["--n-train", "0"], ["--device", "foo"],
                                     ["--lr", "0"]], ids=["hidden", "n-train", "device", "lr"])
def test_a_refused_training_leaves_nothing_that_blocks_the_corrected_command(capsys, tmp_path,
                                                                             options):
    out = tmp_path / "r"
    try:
        code, _, _ = cli(capsys, "train", MARKOV, "--out", out, *TINY, *options)
    except SystemExit as refused_by_the_parser:
        code = refused_by_the_parser.code
    assert code == 2
    assert not out.exists()
    if options[0] == "--hidden":  # the corrected command runs
        code, _, err = cli(capsys, "train", MARKOV, "--out", out, *TINY)
        assert code == 0, err


BAD_TRAINING_CORPORA = [
    pytest.param("", [], "the corpus is empty", id="empty"),
    pytest.param(b"ab\xff\n", [], "not UTF-8 text (byte 2)", id="latin-1"),
    pytest.param("\n\n", [], "train.txt: no symbols", id="blank"),
    pytest.param("ab\nba\n", ["--val", "VAL"], "val.txt:2: unknown symbol 'z'",
                 id="unknown in val"),
    pytest.param("ab\n", [], "train.txt: too short to hold out", id="no validation left"),
]


@pytest.mark.parametrize(("content", "extra", "needle"), BAD_TRAINING_CORPORA)
def test_a_bad_training_corpus_is_one_error_naming_the_file(capsys, tmp_path, content, extra,
                                                            needle):
    corpus = write(tmp_path / "train.txt", content)
    write(tmp_path / "val.txt", "ab\nzz\n")
    extra = [str(tmp_path / "val.txt") if a == "VAL" else a for a in extra]
    code, _, err = cli(capsys, "train", "--data", corpus, *extra, "--out", tmp_path / "r",
                       "--epochs", "1", "--hidden", "8", "--quiet")
    assert_user_error(code, err, needle)


def test_run_files_have_normal_permissions(trained):
    umask = os.umask(0o022)
    os.umask(umask)
    for name in RUN_FILES:
        assert stat.S_IMODE((trained / name).stat().st_mode) == 0o666 & ~umask, name


@pytest.mark.parametrize(("argv", "needle"), [
    (["gradients", "{run}", "-o", "{tmp}"], "-o {tmp}: is a directory"),
    (["gradients", "{run}", "-o", "{tmp}/g.xyz"], "g.xyz: the name must end in .png"),
    (["gradients", "{run}", "-o", "{tmp}/blocker/g.png"], "{tmp}/blocker is a file"),
    (["compare", MARKOV, "{run}", "--n-test", "5", "--out", "{tmp}/blocker/x"],
     "{tmp}/blocker is a file"),
    (["inspect", MARKOV, "{run}", "--out", "{tmp}/blocker"],
     "{tmp}/blocker is a file, expected a folder"),
    (["compare", PFA, "{run}", "--n-test", "5"], "alphabet"),
    (["inspect", MARKOV, "{run}", "--n-strings", "2"], "--n-strings"),
    (["inspect", PFA, "{run}"], "alphabet"),
    (["inspect", MARKOV, "{run}", "--n-strings", "8", "--group", "g=zz"], "unknown states"),
    (["score", "{run}", "ZZ"], "unknown symbol 'Z' at position 0 in string 'ZZ'"),
    (["complete", "{run}", "Z"], "unknown symbol 'Z'"),
], ids=["gradients-dir", "gradients-suffix", "gradients-under-a-file",
        "compare-out-under-a-file", "inspect-out-file",
        "compare-alphabet", "inspect-n-strings", "inspect-alphabet", "inspect-group",
        "score-symbol", "complete-symbol"])
def test_bad_requests_on_a_trained_run(capsys, tmp_path, trained, argv, needle):
    write(tmp_path / "blocker", "keep me")
    argv = _run_argv(argv, trained, tmp_path)
    code, _, err = cli(capsys, *argv)
    assert_user_error(code, err, needle.replace("{tmp}", str(tmp_path)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]  # nothing written


READ_ONLY = Path("/sys")  # no one, root included, may create files there


@pytest.mark.skipif(not READ_ONLY.is_dir(), reason="no /sys here: a Linux folder no one can write")
@pytest.mark.parametrize("argv", [
    ["compare", MARKOV, "{run}", "--n-test", "5", "--out", "{ro}/cmp"],
    ["gradients", "{run}", "-o", "{ro}/g.png"],
    ["train", MARKOV, "--out", "{ro}/run", *TINY],
    ["run", MARKOV, "--out", "{ro}/run", "--epochs", "1"],
], ids=lambda argv: argv[0])
def test_an_output_folder_that_cannot_be_written_is_refused_before_any_work(capsys, monkeypatch,
                                                                            trained, argv):
    import automata

    def no_work(*args, **kwargs):
        raise AssertionError("the command started working before checking its output folder")

    monkeypatch.setattr(automata, "load", no_work)
    monkeypatch.setattr("neural.load", no_work)
    argv = [str(a).replace("{run}", str(trained)).replace("{ro}", str(READ_ONLY)) for a in argv]
    code, _, err = cli(capsys, *argv)
    assert_user_error(code, err, f"cannot write in {READ_ONLY}")


def test_gradients_creates_the_folder_and_writes_the_plot_atomically(capsys, tmp_path, trained):
    out = tmp_path / "new" / "g.svg"
    code, stdout, err = cli(capsys, "gradients", trained, "-o", out, "-n", "3")
    assert code == 0, err
    assert stdout == f"wrote {out}\n"
    assert out.read_text().lstrip().startswith("<?xml")
    assert [p.name for p in out.parent.iterdir()] == ["g.svg"]  # no temporary left


# ------------------------------------------------------------------ automimic run

RUN_TINY = ("--n-train", "1500", "--n-val", "30", "--n-test", "20", "--n-samples", "10",
            "--epochs", "3", "--hidden", "8", "--patience", "100")


@pytest.fixture(scope="module")
def pipeline(folder) -> tuple[Path, str, str]:
    """``automimic run`` interrupted by Ctrl-C during training, then run again to the end:
    (folder, stderr of the interrupted run, stdout of the resumed one)."""
    out = folder / "pipeline"
    command = [*EXE, "run", str(MARKOV), "--out", str(out), *RUN_TINY]
    code, interrupted = interrupt_at_first_epoch(command, signal.SIGINT)
    assert code == 130, interrupted
    resumed = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    return out, interrupted, resumed.stdout


@pytest.mark.slow  # the interrupted and resumed run: ~11 s, once for the module
def test_ctrl_c_during_run_saves_and_running_again_resumes(pipeline):
    out, interrupted, resumed = pipeline
    assert "Traceback" not in interrupted
    assert f"automimic: interrupted; the run is saved in {out}" in interrupted
    assert "resuming the run" in resumed and "reusing the sampled corpora" in resumed
    assert (out / "report.html").exists()


@pytest.mark.slow  # the interrupted and resumed run: ~11 s, once for the module
@pytest.mark.parametrize(("change", "needle"), [
    (["--n-train", "1499"], "n_train: 1500 → 1499"),
    (["--hidden", "9"], "model.hidden_size: 8 → 9"),
], ids=["n-train", "hidden"])
def test_running_again_with_other_settings_asks_for_force_and_loses_nothing(capsys, pipeline,
                                                                            change, needle):
    out = pipeline[0]
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    options = list(RUN_TINY)
    flag = options.index(change[0])
    options[flag + 1] = change[1]
    code, _, err = cli(capsys, "run", MARKOV, "--out", out, *options, "--quiet")
    assert_user_error(code, err, str(out), needle, "--force")
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_run_refuses_a_training_folder_it_did_not_write(capsys, trained):
    code, _, err = cli(capsys, "run", MARKOV, "--out", trained, "--quiet")
    assert_user_error(code, err, str(trained), "already holds files", "--force")


@pytest.mark.parametrize(("file", "needle"), [
    ("nope.yaml", "no such file"), ("DIR", "is a directory"), ("BIN", "binary file")])
def test_run_refuses_a_bad_automaton_before_writing_anything(capsys, tmp_path, file, needle):
    path = {"DIR": tmp_path, "BIN": write(tmp_path / "b.yaml", b"\x00\x01")}.get(
        file, tmp_path / file)
    code, _, err = cli(capsys, "run", path, "--out", tmp_path / "r", "--quiet")
    assert_user_error(code, err, needle)
    assert not (tmp_path / "r").exists()


def test_run_into_a_file_is_a_user_error(capsys, tmp_path):
    blocker = write(tmp_path / "blocker", "keep me")
    code, _, err = cli(capsys, "run", MARKOV, "--out", blocker, *RUN_TINY, "--quiet")
    assert_user_error(code, err, f"{blocker} is a file, expected a folder")
    assert blocker.read_text() == "keep me"


@pytest.mark.parametrize(("options", "needle"), [
    (["--device", "foo"], "--device foo: unknown device"),
    pytest.param(["--device", "cuda"], "CUDA is not available on this machine", marks=(
        pytest.mark.skipif(_has_cuda(), reason="needs a machine without CUDA"))),
    (["--hidden", "0"], "--hidden must be at least 1, got 0"),
    (["--lr", "-1"], "--lr must be positive"),
], ids=["device-unknown", "device-cuda", "hidden", "lr"])
def test_run_refuses_bad_options_before_writing_anything(capsys, tmp_path, options, needle):
    code, _, err = cli(capsys, "run", MARKOV, "--out", tmp_path / "r", *RUN_TINY, *options)
    assert_user_error(code, err, needle)
    assert not (tmp_path / "r").exists()


# ------------------------------------------------------------------ a bug is one line, exit 1

def test_an_unexpected_failure_is_one_line_exit_1_and_the_traceback_on_demand(capsys, monkeypatch):
    from automimic.commands import automata_cmds

    def broken(path):
        raise RuntimeError("boom")

    monkeypatch.setattr(automata_cmds, "summary", broken)
    code, _, err = cli(capsys, "validate", DFA)
    assert code == 1
    assert err == ("automimic: internal error: RuntimeError: boom (set AUTOMIMIC_DEBUG=1 for the "
                   "traceback)\n")
    monkeypatch.setenv("AUTOMIMIC_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        main(["validate", str(DFA)])
