"""``automimic inspect``, run through ``automimic.cli.main`` as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import automata as am
from automata.shipped import example_path
from automimic.cli import main
from neural import RNNConfig, TrainConfig, TrainedModel, train

EXAMPLES = example_path().parent
QUOTES = str(EXAMPLES / "quotes.yaml")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def quotes_run(tmp_path_factory) -> Path:
    """A small LSTM trained for a few seconds on the quotes automaton: enough to see inside."""
    truth = am.load(QUOTES)
    strings = [tuple(s) for s in am.sample(truth, 600, seed=0)]
    folder = tmp_path_factory.mktemp("quotes_run")
    model = train(strings[:500], strings[500:], truth.alphabet, RNNConfig(hidden_size=16),
                  TrainConfig(epochs=3, batch_size=32), seed=0, device="cpu", quiet=True)
    model.save(folder / "model.pt")
    return folder


def test_inspect_writes_json_and_html(capsys, quotes_run, tmp_path):
    code, out, err = run(capsys, "inspect", QUOTES, str(quotes_run), "--group", "inside=inside",
                         "--units", "h0:3,5", "--n-strings", "200", "--out", str(tmp_path),
                         "--seed", "1")
    assert code == 0, err
    assert "probe accuracy" in out and "group inside" in out and "inspect.html" in out
    document = json.loads((tmp_path / "inspect.json").read_text())
    probe = document["probe"]
    counts = np.array(probe["confusion"]["counts"])
    assert probe["accuracy"] == pytest.approx(np.trace(counts) / counts.sum())
    assert counts.sum() == probe["n_test"] > 0
    assert document["settings"]["seed"] == 1
    assert list(document["groups"]) == ["inside"]
    assert document["groups"]["inside"]["states"] == ["inside"]
    assert [u["unit"] for u in document["shown_units"]][:2] == ["h0:3", "h0:5"]
    assert document["extraction"]["distances"]["extracted"]["exact_l2"] >= 0
    am.from_dict(document["extraction"]["automaton"])  # a valid automaton
    page = (tmp_path / "inspect.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "Extracted automaton" in page


def test_inspect_defaults_to_a_folder_in_the_run_and_prints_json(capsys, quotes_run):
    code, out, err = run(capsys, "inspect", QUOTES, str(quotes_run), "--n-strings", "80",
                         "--k", "2", "--json", "--clustering", "agglomerative")
    assert code == 0, err
    assert "extracting an automaton (agglomerative" in err  # progress on stderr, JSON on stdout
    document = json.loads(out)
    assert document["extraction"]["k"] <= 2
    assert document["extraction"]["clustering"] == "agglomerative"
    assert set(document["groups"]) <= {"outside", "inside"}  # one group per visited state
    assert (quotes_run / "inspect" / "inspect.json").exists()


@pytest.mark.parametrize(("extra", "message"), [
    (["--group", "q=nowhere"], "unknown states"),
    (["--group", "q=~("], "bad regular expression"),
    (["--group", "justaname"], "NAME=state1"),
    (["--units", "z9"], "unknown unit"),
    (["--n-strings", "2"], "--n-strings"),
])
def test_bad_options_are_one_line_errors(capsys, quotes_run, tmp_path, extra, message):
    code, out, err = run(capsys, "inspect", QUOTES, str(quotes_run), "--n-strings", "40",
                         "--out", str(tmp_path), *extra)
    assert code == 2
    assert err.count("automimic: error:") == 1 and message in err.splitlines()[-1]
    assert err.splitlines()[-1].startswith("automimic: error:") and "Traceback" not in err
    assert not (tmp_path / "inspect.json").exists()


def test_missing_run_and_other_alphabet_are_errors(capsys, tmp_path):
    code, _, err = run(capsys, "inspect", QUOTES, str(tmp_path / "nothing"))
    assert code == 2 and "automimic: error:" in err
    other = tmp_path / "other.pt"
    TrainedModel.untrained(("x", "y"), RNNConfig(hidden_size=4), seed=0).save(other)
    code, _, err = run(capsys, "inspect", QUOTES, str(other))
    assert code == 2 and "alphabet" in err


def test_a_bad_k_is_refused_by_the_parser(capsys, quotes_run):
    with pytest.raises(SystemExit) as refused:
        run(capsys, "inspect", QUOTES, str(quotes_run), "--k", "0")
    assert refused.value.code == 2
    assert "argument --k: expected a number ≥ 1 (got 0)" in capsys.readouterr().err
