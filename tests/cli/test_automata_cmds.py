"""The automaton commands, run through ``automimic.cli.main`` as a user would."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys

import pytest

import automata as am
from automata.shipped import example_path
from automimic.cli import main

EXAMPLES = example_path().parent
PFA = str(EXAMPLES / "i_before_e_pfa.yaml")
FSM = str(EXAMPLES / "abe_fsm.yaml")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version_and_help_for_every_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert "automimic 0.1.0" in capsys.readouterr().out
    for command in ("validate", "render", "accepts", "score", "sample", "complete"):
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0
        assert "usage: automimic " + command in capsys.readouterr().out


@pytest.mark.parametrize(("command", "opening"), [
    ("generate", "Sample strings from the RNN of a run folder"),
    ("gradients", "Plot how far back gradients reach in the RNN of a run"),
])
def test_generate_and_gradients_describe_themselves(capsys, command, opening):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert opening in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("argv", [["sample", "x"], ["generate", "x"], ["gradients", "x", "-o", "g.png"],
                                  ["run"], ["compare", "x", "y"]], ids=lambda argv: argv[0])
def test_an_unknown_option_shows_the_usage_of_its_command(capsys, argv):
    command = argv[0]
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--bogus"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.startswith(f"usage: automimic {command} ")
    assert err.splitlines()[-1] == f"automimic {command}: error: unrecognized arguments: --bogus"


def test_python_dash_m_runs_the_command_line():
    result = subprocess.run([sys.executable, "-m", "automimic", "validate", FSM],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "dfa, 2 states, 3 symbols, deterministic" in result.stdout


def test_validate_json_has_the_documented_keys(capsys):
    code, out, _ = run(capsys, "validate", "--json", FSM, PFA)
    rows = json.loads(out)
    assert code == 0
    assert [set(r) for r in rows] == [{"file", "kind", "states", "symbols", "deterministic",
                                       "total_probability", "expected_length"}] * 2
    assert rows[0]["total_probability"] is None
    assert rows[1]["total_probability"] == pytest.approx(1.0, abs=1e-12)
    assert rows[1]["expected_length"] == pytest.approx(am.analysis.expected_length(am.load(PFA)))


def test_validate_reports_each_bad_file_and_exits_2(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: pdfa\nalphabet: [a]\nstart: q\nstates:\n  q: {final: 0.5}\n")
    code, out, err = run(capsys, "validate", FSM, str(bad))
    assert code == 2
    assert "abe_fsm.yaml: ok" in out
    assert f"{bad}:5:3: states.q: state 'q': outgoing probabilities plus final must sum to 1 " \
           "(got 0.5)" in err
    assert "Traceback" not in err


def test_accepts_names_position_and_state(capsys):
    code, out, _ = run(capsys, "accepts", "--json", FSM, "AABEA", "ABBA",
                       "ABAEEAAEABEEEEAAABEEAAB")
    rows = json.loads(out)
    assert code == 0
    assert [r["accepted"] for r in rows] == [True, False, False]
    assert (rows[1]["position"], rows[1]["state"]) == (2, "b")
    assert {"string", "accepted", "position", "state"} <= set(rows[0])


def test_score_ranks_by_probability_with_exact_values(capsys):
    code, out, _ = run(capsys, "score", "--json", PFA, "ceiba", "", "cieba")
    rows = json.loads(out)
    assert code == 0
    assert [r["string"] for r in rows] == ["", "ceiba", "cieba"]
    # P("") = final(other); P(ceiba) = .2 * .35 * .5 * .2 * .2 * final(other) .1, by hand
    assert rows[0]["probability"] == pytest.approx(0.1, rel=1e-12)
    assert rows[1]["probability"] == pytest.approx(0.2 * 0.35 * 0.5 * 0.2 * 0.2 * 0.1, rel=1e-12)
    assert rows[2]["probability"] == 0 and rows[2]["log2_probability"] is None


def test_score_refuses_a_dfa_and_unknown_symbols(capsys):
    code, _, err = run(capsys, "score", FSM, "AB")
    assert code == 2 and "has no probabilities" in err
    code, _, err = run(capsys, "score", PFA, "xyz")
    assert code == 2 and "unknown symbol 'x' at position 0" in err


def test_sample_writes_one_string_a_line_atomically(capsys, tmp_path):
    out_file = tmp_path / "corpus.txt"
    code, _, _ = run(capsys, "sample", PFA, "-n", "50", "--seed", "3", "-o", str(out_file))
    lines = out_file.read_text().split("\n")[:-1]
    assert code == 0 and len(lines) == 50
    a = am.load(PFA)
    assert all(am.probability(a, line) > 0 for line in lines)
    assert list(tmp_path.iterdir()) == [out_file]  # no temporary file left behind


def test_sample_json_round_trips_every_string(capsys, tmp_path):
    words = am.from_dict({"kind": "markov", "alphabet": ["the", "cat", "\n"], "start": {"the": 1.0},
                          "next": {"the": {"cat": 0.5, "\n": 0.5}, "cat": {"$": 1.0},
                                   "\n": {"the": 0.4, "$": 0.6}}})
    path = tmp_path / "words.yaml"
    am.dump(words, path)
    code, out, err = run(capsys, "sample", str(path), "-n", "30", "--seed", "3", "--json")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(records) == 30 and any("\n" in r["symbols"] for r in records)
    samples = am.sample(words, 30, seed=3)
    assert [tuple(r["symbols"]) for r in records] == list(samples)
    assert [r["string"] for r in records] == [am.format_string(words.alphabet, s) for s in samples]
    assert not any(r["cut"] for r in records)
    code, _, _ = run(capsys, "sample", str(path), "-n", "30", "--seed", "3", "--json", "-o",
                     str(tmp_path / "s.jsonl"))
    assert (tmp_path / "s.jsonl").read_text() == out


def test_complete_json_lists_the_ranked_completions(capsys):
    code, out, _ = run(capsys, "complete", PFA, "c", "-k", "3", "--json")
    records = [json.loads(line) for line in out.splitlines()]
    expected = am.complete(am.load(PFA), "c", k=3)
    assert code == 0 and [(tuple(r["completion"]), r["probability"]) for r in records] == \
        [(tuple(suffix), p) for suffix, p in expected]
    assert all(r["symbols"] == ["c", *r["completion"]] for r in records)


def test_sample_reports_cut_strings(capsys):
    code, out, err = run(capsys, "sample", str(EXAMPLES / "abe_markov.yaml"), "-n", "3",
                         "--alpha", "inf", "--max-length", "4")
    assert code == 0
    assert [len(line) for line in out.splitlines()] == [4, 4, 4]
    assert "3 of 3 strings reached --max-length 4" in err


def test_sample_rejects_bad_arguments(capsys):
    for argv in (["-n", "-1"], ["--alpha", "-2"], ["--alpha", "nan"], ["--max-length", "x"]):
        with pytest.raises(SystemExit) as exit_:
            main(["sample", PFA, *argv])
        assert exit_.value.code == 2
        assert "error" in capsys.readouterr().err


def test_complete_lists_most_probable_completions(capsys):
    code, out, err = run(capsys, "complete", PFA, "ce", "-k", "2")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    # after "ce": stop (0.1) beats "i" then stop (0.5 * 0.15 = 0.075)
    assert lines[0].split() == ["0.1", "'ce'"]
    assert lines[1].split() == ["0.075", "'cei'"]
    assert "note" not in err


def test_complete_says_when_its_search_was_cut(capsys, monkeypatch):
    monkeypatch.setattr(am, "complete", functools.partial(am.complete, max_expansions=2))
    code, out, err = run(capsys, "complete", PFA, "", "-k", "5")
    assert code == 0 and len(out.splitlines()) < 5
    assert "search stopped at its limits" in err and "probability up to" in err


def test_render_dot_without_graphviz_and_svg_with_it(capsys, tmp_path):
    code, _, _ = run(capsys, "render", FSM, "-o", str(tmp_path / "abe.dot"), "--highlight", "AB")
    source = (tmp_path / "abe.dot").read_text()
    assert code == 0 and "doublecircle" in source and "red" in source
    code, _, err = run(capsys, "render", FSM, "-o", str(tmp_path / "abe.bmp"))
    assert code == 2 and "unknown picture format" in err
    if shutil.which("dot"):
        code, _, _ = run(capsys, "render", FSM, "-o", str(tmp_path / "abe.svg"))
        assert code == 0 and (tmp_path / "abe.svg").read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "binary file"),
    (b"- just\n- a list\n", "expected a mapping"),
])
def test_bad_files_get_one_line_and_exit_2(capsys, tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    for command in (["validate"], ["sample"], ["render", "-o", str(tmp_path / "x.svg")]):
        code, _, err = run(capsys, command[0], str(path), *command[1:])
        assert code == 2
        assert err.count("\n") == 1 and message in err and str(path) in err


def test_missing_file_exits_2(capsys, tmp_path):
    code, _, err = run(capsys, "sample", str(tmp_path / "nope.yaml"))
    assert code == 2 and "no such file" in err
