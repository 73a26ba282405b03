"""``automimic compare`` and ``automimic run``, through ``automimic.cli.main`` as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from automata.shipped import example_path
from automimic.cli import main
from automimic.pipeline import RUN_TRAINING_DEFAULTS
from neural.checkpoint import load_checkpoint

EXAMPLES = example_path().parent
TINY = """
kind: pdfa
name: tiny
alphabet: [a, b]
start: q
states:
  q: {final: 0.3, next: {a: {r: 0.7}}}
  r: {final: 0.2, next: {b: {q: 0.8}}}
"""
LOOSE = """
kind: pdfa
name: loose
alphabet: [a, b]
start: q
states:
  q: {final: 0.3, next: {a: {r: 0.6}, b: {q: 0.1}}}
  r: {final: 0.2, next: {b: {q: 0.8}}}
"""
QUICK = ["--n-train", "300", "--n-val", "60", "--n-test", "200", "--n-samples", "100",
         "--hidden", "8", "--epochs", "2", "--quiet"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def tiny(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def test_compare_two_automata_prints_estimates_and_exact_values(capsys, tiny, tmp_path):
    other = tmp_path / "loose.yaml"
    other.write_text(LOOSE)
    code, out, err = run(capsys, "compare", tiny, "--model", other, "--n-test", 500,
                         "--out", tmp_path / "cmp")
    assert code == 0, err
    assert "KL bits/symbol" in out and "exact" in out
    document = json.loads((tmp_path / "cmp" / "metrics.json").read_text())
    # the loose model gives probability to strings the truth never makes: illegal samples
    assert document["metrics"]["illegal_sample_fraction"] > 0
    assert document["exact"]["kl_bits_per_string"] > 0
    estimate, error = document["metrics"]["kl_bits_per_string"], \
        document["stderr"]["kl_bits_per_string"]
    assert abs(estimate - document["exact"]["kl_bits_per_string"]) <= 4 * error
    assert (tmp_path / "cmp" / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_compare_json_of_the_truth_against_itself(capsys, tiny):
    code, out, _ = run(capsys, "compare", tiny, "--model", tiny, "--json", "--n-test", 100)
    assert code == 0
    document = json.loads(out)
    assert document["metrics"]["kl_bits_per_symbol"] == 0.0
    assert document["metrics"]["ndcg5"] == 1.0
    assert document["exact"]["kl_bits_per_string"] == 0.0


@pytest.mark.parametrize("extra", [[], ["RUN", "--model", "x.yaml"]])
def test_compare_needs_exactly_one_model(capsys, tiny, extra):
    code, _, err = run(capsys, "compare", tiny, *extra)
    assert code == 2 and "one of them" in err


def test_compare_with_a_missing_run_is_a_clear_error(capsys, tiny, tmp_path):
    code, _, err = run(capsys, "compare", tiny, tmp_path / "nothing")
    assert code == 2 and "automimic: error:" in err and "Traceback" not in err


def test_run_without_a_file_uses_the_shipped_default_in_any_folder(capsys, tmp_path, monkeypatch):
    import automimic.pipeline
    import neural

    seen = []

    def stop_at_once(path, out, options, **_):
        seen.append(path)
        raise neural.TrainingInterrupted(None)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(automimic.pipeline, "run", stop_at_once)
    code, _, _ = run(capsys, "run")
    assert code == 130 and seen == [example_path("i_before_e_pfa")] and seen[0].is_file()


@pytest.mark.slow
def test_run_end_to_end_then_resume_force_and_compare(capsys, tiny, tmp_path):
    out = tmp_path / "run"
    code, stdout, err = run(capsys, "run", tiny, "--out", out, *QUICK)
    assert code == 0, err
    for stage in ("[1/7]", "[2/7]", "[3/7]", "[4/7]", "[5/7]", "[6/7]", "[7/7]"):
        assert stage in stdout
    inside, writing = stdout.split("[6/7]")[1].split("[7/7]")
    assert "      reading the hidden states" in inside and "      extracting" in inside
    assert "      drawing the report's figures" in writing
    assert f"report: {out / 'report.html'}" in stdout
    for name in ("metrics.json", "inspect.json", "report.html", "model.pt", "train.txt",
                 "val.txt", "test.txt", "run.json", "automaton.yaml"):
        assert (out / name).exists(), name
    assert "Inside the RNN" in (out / "report.html").read_text()
    probe = json.loads((out / "inspect.json").read_text())["probe"]
    assert probe["n_test"] == sum(map(sum, probe["confusion"]["counts"])) > 0
    document = json.loads((out / "metrics.json").read_text())
    assert document["oracle"]["kl_bits_per_symbol"] == 0.0
    assert document["baseline"]["kl_bits_per_symbol"] is not None
    trained = load_checkpoint(out / "training.pt", kind="training")["train_config"]
    assert trained["max_tokens"] == RUN_TRAINING_DEFAULTS["max_tokens"]  # run's own, not TrainConfig's
    first = (out / "train.txt").read_text()

    code, stdout, _ = run(capsys, "run", tiny, "--out", out, *QUICK)  # same settings: resumes
    assert code == 0 and "resuming" in stdout and "reusing the sampled corpora" in stdout
    assert (out / "train.txt").read_text() == first

    code, _, err = run(capsys, "run", tiny, "--out", out, *QUICK[:-1], "--seed", "5", "--quiet")
    assert code == 2 and "--force" in err and "seed" in err  # other settings: nothing replaced
    assert (out / "train.txt").read_text() == first

    code, _, err = run(capsys, "compare", tiny, out, "--n-test", 100, "--n-samples", 50)
    assert code == 0, err
    assert (out / "compare" / "report.html").exists()
    assert "trained on this automaton" in err
    earlier = (out / "compare" / "report.html").read_text()
    code, _, err = run(capsys, "compare", tiny, out, "--n-test", 100, "--n-samples", 50)
    assert code == 2 and "already holds metrics.json and report.html" in err and "--force" in err
    assert (out / "compare" / "report.html").read_text() == earlier  # nothing replaced
    loose = tmp_path / "loose.yaml"
    loose.write_text(LOOSE)  # the same alphabet, another automaton
    code, stdout, err = run(capsys, "compare", loose, out, "--n-test", 100, "--n-samples", 50,
                            "--force")
    assert code == 0, err
    warning = f"{out} was trained on another automaton ({tiny}"
    assert warning in " ".join(stdout.split())
    assert json.loads((out / "compare" / "metrics.json").read_text())["notices"][0].startswith(
        warning)

    code, _, err = run(capsys, "run", tiny, "--out", out, *QUICK, "--seed", "5", "--force")
    assert code == 0, err
    assert (out / "train.txt").read_text() != first


def test_run_refuses_a_folder_with_other_files(capsys, tiny, tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "metrics.json").write_text("{}")
    code, _, err = run(capsys, "run", tiny, "--out", out, *QUICK)
    assert code == 2 and "--force" in err
    assert (out / "metrics.json").read_text() == "{}"


def test_run_rejects_bad_options(capsys, tiny, tmp_path):
    with pytest.raises(SystemExit) as refused_by_the_parser:
        run(capsys, "run", tiny, "--out", tmp_path / "x", "--n-train", 0)
    assert refused_by_the_parser.value.code == 2
    assert "argument --n-train: expected a number ≥ 1 (got 0)" in capsys.readouterr().err
    code, _, err = run(capsys, "run", tmp_path / "missing.yaml", "--out", tmp_path / "y")
    assert code == 2 and "missing.yaml" in err
    code, _, err = run(capsys, "run", tiny, "--out", tmp_path / "z", "--cell", "transformer")
    assert code == 2 and "cell" in err
    assert not (tmp_path / "z").exists()  # bad options fail before anything is written


def test_run_with_a_corrupt_run_file_asks_for_force(capsys, tiny, tmp_path):
    out = tmp_path / "broken"
    out.mkdir()
    (out / "run.json").write_text("{not json")
    code, _, err = run(capsys, "run", tiny, "--out", out, *QUICK)
    assert code == 2 and "corrupt run file" in err and "--force" in err


def test_compare_on_a_dfa_says_what_it_assumes_and_gives_a_verdict(capsys, tmp_path):
    code, out, err = run(capsys, "compare", EXAMPLES / "abe_fsm.yaml", "--model",
                         EXAMPLES / "abe_markov.yaml", "--n-test", 300, "--n-samples", 50,
                         "--out", tmp_path / "cmp")
    assert code == 0, err
    flat = " ".join(out.split())  # rich wraps long lines
    assert "note: abe is a dfa, not a distribution: it is compared as the uniform distribution" \
        in flat
    document = json.loads((tmp_path / "cmp" / "metrics.json").read_text())
    assert document["verdict"]["text"] in flat
    # abe_markov gives probability 0 to some of abe's strings: its KL is infinite, not undefined
    assert "(KL ∞ bits/symbol)" in document["verdict"]["text"]
    assert flat.index(document["verdict"]["text"]) < flat.index("KL bits/symbol")


def test_run_and_compare_an_ensemble_name_it_as_the_average_it_is(capsys, tiny, tmp_path):
    out = tmp_path / "run"
    code, _, err = run(capsys, "run", tiny, "--out", out, *QUICK, "--ensemble", "2")
    assert code == 0, err
    labels = json.loads((out / "metrics.json").read_text())["labels"]
    assert "average of 2 RNNs (lstm 8)" in json.dumps(labels)
    assert "average of 2 RNNs (lstm 8)" in (out / "report.html").read_text()
    code, stdout, err = run(capsys, "compare", tiny, out, "--n-test", "50", "--n-samples", "20")
    assert code == 0, err
    assert "average of 2 RNNs (lstm 8)" in stdout
