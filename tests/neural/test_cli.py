"""The neural commands: train, generate, score, complete, gradients; clear errors."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import neural
import neural.precision
from automimic.cli import main
from automimic.commands.neural_cmds import read_data
from automimic.provenance import trained_on
from automimic.trained_runs import complete_run, score_run

FAST = ["--hidden", "8", "--epochs", "2", "--batch-size", "16", "--quiet"]
MARKOV = """\
kind: markov
alphabet: [A, B, E]
start: {A: 0.6, E: 0.4}
next:
  A: {A: 0.3, B: 0.3, E: 0.3, $: 0.1}
  B: {E: 1.0}
  E: {A: 0.8, E: 0.1, $: 0.1}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    corpus = folder / "corpus.txt"
    corpus.write_text("ab\naab\nb\n\nabb\n" * 20)
    assert main(["train", "--data", str(corpus), "--out", str(folder / "run"), *FAST]) == 0
    return folder / "run"


def test_train_on_a_corpus_writes_the_run(run):
    names = {p.name for p in run.iterdir()}
    assert {"model.pt", "training.pt", "history.json", "train.txt", "val.txt"} <= names
    assert len(json.loads((run / "history.json").read_text())["val_bits"]) == 2
    assert not (run / "source.json").exists()  # a corpus run has no automaton to record


def test_existing_run_needs_resume_or_force(run, capsys):
    corpus = run / "train.txt"
    before = (run / "model.pt").read_bytes()
    assert main(["train", "--data", str(corpus), "--out", str(run), *FAST]) == 2
    assert "--resume" in capsys.readouterr().err
    assert (run / "model.pt").read_bytes() == before
    assert main(["train", "--data", str(corpus), "--out", str(run), "--resume", "--quiet"]) == 0


def test_a_refit_run_resumes_with_refit_and_names_it(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("ab\naab\nb\n\nabb\n" * 20)
    train = ["train", "--data", str(corpus), "--out", str(tmp_path / "run")]
    assert main([*train, *FAST, "--refit"]) == 0
    assert "then refit on all strings for" in capsys.readouterr().out
    before = (tmp_path / "run" / "model.pt").read_bytes()
    assert main([*train, "--resume", "--quiet"]) == 2
    assert "holds a refit run (validated/): resume it with the same --refit" in capsys.readouterr().err
    assert main([*train, "--resume", "--refit", "--quiet"]) == 0  # the settings read from validated/
    assert (tmp_path / "run" / "model.pt").read_bytes() == before


def test_an_ensemble_run_reports_the_validation_loss_of_its_average(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("ab\naab\nb\n\nabb\n" * 20)
    assert main(["train", "--data", str(corpus), "--out", str(tmp_path / "run"), *FAST, "--ensemble", "2"]) == 0
    out = capsys.readouterr().out
    model = neural.load(tmp_path / "run")
    val = read_data(tmp_path / "run" / "val.txt")
    own = -model.log_probability(val).sum() / np.log(2) / sum(len(x) + 1 for x in val)
    assert f"trained 2 models of 2 epochs; validation of their average {own:.4f} bits/symbol (the first alone: " in out


def test_a_tuned_run_says_what_tune_chose(tmp_path, capsys):
    import json

    from neural.tuning import tuned_choice

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("ab\naab\nb\n\nabb\n" * 20)
    assert main(["train", "--data", str(corpus), "--out", str(tmp_path / "run"), *FAST]) == 0
    assert "tune chose" not in capsys.readouterr().out
    assert main(["train", "--data", str(corpus), "--out", str(tmp_path / "tuned"), *FAST, "--tune", "600"]) == 0
    out = capsys.readouterr().out
    chose = tuned_choice(json.loads((tmp_path / "tuned" / "tuning.json").read_text()))
    assert f"; tune chose {chose}, tuning.json has every trial; model saved in " in out
    assert " bits/symbol below trial " in chose  # how far the choice leads the next best trial


def test_train_says_what_fitting_the_output_layer_again_did_and_no_refit_head_skips_it(tmp_path, capsys):
    import json

    import neural

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("ab\naab\nb\n\nabb\n" * 20)
    assert main(["train", "--data", str(corpus), "--out", str(tmp_path / "run"), *FAST]) == 0
    record = json.loads((tmp_path / "run" / "history.json").read_text())["refit_head"]
    assert record["rounds"] > 0  # two epochs of a tiny model leave the output layer far from its best
    assert f", {record['val_bits_after']:.4f} with its output layer fitted again" in capsys.readouterr().out
    assert neural.load(tmp_path / "run").history["refit_head"] == record
    assert main(["train", "--data", str(corpus), "--out", str(tmp_path / "plain"), *FAST, "--no-refit-head"]) == 0
    assert "output layer" not in capsys.readouterr().out
    assert "refit_head" not in json.loads((tmp_path / "plain" / "history.json").read_text())


def test_force_and_resume_remove_what_killed_writes_left(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("ab\naab\nb\n" * 10)
    out = tmp_path / "run"
    train = ["train", "--data", str(corpus), "--out", str(out), *FAST]
    assert main(train) == 0
    for again in (["--force"], ["--resume"]):
        for name in ("train.txt", "model.pt"):
            (out / f".{name}.k1ll3d_x.tmp").write_bytes(b"half a file")
        (out / ".notes.txt.k1ll3d_x.tmp").write_bytes(b"not ours")
        assert main([*train, *again]) == 0
        assert sorted(p.name for p in out.glob(".*.tmp")) == [".notes.txt.k1ll3d_x.tmp"]


def test_generate_score_complete(run, capsys):
    assert main(["generate", str(run), "-n", "5", "--seed", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and all(set(line) <= {"a", "b"} for line in lines)
    assert score_run(str(run), ["ab", "b"], True) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [set(r) for r in rows] == [{"string", "probability", "log2_probability"}] * 2
    assert complete_run(str(run), "a", 3) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_generate_json_keeps_each_sample_one_record_even_with_newlines(tmp_path, capsys):
    model = neural.TrainedModel.untrained(("a", "\n", " "), neural.RNNConfig(hidden_size=4), seed=0)
    model.save(tmp_path / "m.pt")
    assert main(["generate", str(tmp_path / "m.pt"), "-n", "40", "--seed", "1", "--json",
                 "--max-length", "30"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 40 and any("\n" in r["string"] for r in records)
    for record in records:
        assert record["string"] == "".join(record["symbols"])
        assert record["cut"] == (len(record["symbols"]) == 30)
    assert main(["generate", str(tmp_path / "m.pt"), "-n", "40", "--seed", "1",
                 "--max-length", "30"]) == 0
    assert capsys.readouterr().out == "".join(r["string"] + "\n" for r in records)


def test_complete_json_on_a_run(run, capsys):
    assert main(["complete", str(run), "a", "-k", "3", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 3 and all(r["symbols"] == ["a", *r["completion"]] for r in records)
    assert [r["probability"] for r in records] == sorted((r["probability"] for r in records),
                                                        reverse=True)


def test_generate_notes_the_strings_cut_at_max_length(run, capsys):
    assert main(["generate", str(run), "-n", "200", "--seed", "2", "--max-length", "1"]) == 0
    captured = capsys.readouterr()
    cut = sum(len(line) == 1 for line in captured.out.splitlines())
    assert 0 < cut < 200
    assert captured.err == (
        f"automimic: note: {cut} of 200 strings reached --max-length 1 and were cut there\n"
    )
    assert main(["generate", str(run), "-n", "5", "--seed", "2", "--max-length", "100"]) == 0
    assert capsys.readouterr().err == ""


def test_gradients_plot_says_what_it_measures(run, tmp_path, capsys):
    assert main(["gradients", str(run), "-o", str(tmp_path / "g.png"), "-n", "5"]) == 0
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "automimic: sampling 5 strings from the model"
    assert lines[1].startswith("automimic: measuring the gradient flow on the samples (")
    assert lines[-1].startswith("automimic: gradient flow: ") and lines[-1].endswith(" measured")


def test_bad_corpus_and_bad_run(tmp_path, capsys):
    (tmp_path / "empty.txt").write_text("")
    assert main(["train", "--data", str(tmp_path / "empty.txt"), "--out", str(tmp_path / "r")]) == 2
    assert "empty" in capsys.readouterr().err
    (tmp_path / "val.txt").write_text("c\n")
    (tmp_path / "t.txt").write_text("ab\n")
    args = ["--data", str(tmp_path / "t.txt"), "--val", str(tmp_path / "val.txt")]
    assert main(["train", *args, "--out", str(tmp_path / "r2"), *FAST]) == 2
    assert f"{tmp_path / 'val.txt'}:1: unknown symbol 'c'" in capsys.readouterr().err
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "model.pt").write_bytes(b"not a checkpoint")
    assert main(["generate", str(tmp_path / "broken")]) == 2
    assert "not a readable checkpoint" in capsys.readouterr().err


def test_a_text_is_read_as_one_str_not_a_tuple_of_characters(tmp_path):
    (tmp_path / "text.txt").write_text("to be\nor not\n")
    strings = read_data(tmp_path / "text.txt", chars=True)
    assert strings == ["to be\nor not\n"] and type(strings[0]) is str


def test_a_short_text_trains_several_steps_an_epoch_and_a_poor_result_is_named(tmp_path, capsys):
    """6 KB of text in 64 streams of 100 would make one step an epoch: the default streams
    come from the text's length; a result no better than the unigram model gets a warning."""
    (tmp_path / "text.txt").write_text("to be or not to be, that is the question\n" * 150)
    out = tmp_path / "run"
    args = ["train", "--data", str(tmp_path / "text.txt"), "--chars", "--hidden", "4", "--quiet"]
    assert main([*args, "--out", str(out), "--epochs", "4", "--lr", "0.02"]) == 0
    err = capsys.readouterr().err
    assert "automimic: training on one stream of 5,535 characters: 2 parallel streams in chunks " \
           "of 100 (28 steps an epoch)" in err
    assert "warning: the validation loss" not in err
    assert main([*args, "--out", str(out), "--epochs", "1", "--batch-size", "64", "--force"]) == 0
    err = capsys.readouterr().err
    assert "64 parallel streams in chunks of 100 (1 step an epoch)" in err
    warning = [line for line in err.splitlines() if "warning" in line]
    assert len(warning) == 1 and "is no better than a unigram model of the training data" in \
        warning[0] and "--epochs" in warning[0]


def test_train_chars_stream(tmp_path):
    (tmp_path / "text.txt").write_text("to be or not to be\n" * 30)
    out = tmp_path / "run"
    args = ["train", "--data", str(tmp_path / "text.txt"), "--chars", "--bptt", "16"]
    assert main([*args, "--out", str(out), *FAST]) == 0
    assert (out / "val.txt").read_text().endswith("to be\n")


@pytest.mark.slow
def test_train_from_an_automaton_in_a_subprocess(tmp_path):
    (tmp_path / "abe.yaml").write_text(MARKOV)
    out = tmp_path / "run"
    command = [sys.executable, "-m", "automimic", "train", str(tmp_path / "abe.yaml"),
               "--out", str(out), "--n-train", "300", "--n-val", "50", *FAST]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len((out / "train.txt").read_text().splitlines()) == 300
    assert "validation" in result.stdout
    assert trained_on(out, tmp_path / "abe.yaml")[0]  # the run records its automaton


def test_a_text_with_dollar_signs_keeps_them_as_characters(tmp_path, capsys):
    # tiny-shakespeare has "$": the end of string is an index, not that character
    text = tmp_path / "text.txt"
    text.write_text("costs $5 and $6.\n" * 40)
    out = tmp_path / "run"
    code = main(["train", "--data", str(text), "--chars", "--out", str(out), "--epochs", "1",
                 "--hidden", "8", "--quiet", "--bptt", "20"])
    capsys.readouterr()
    assert code == 0
    model = neural.load(out)
    assert "$" in model.alphabet and model.vocabulary.eos == len(model.alphabet)
    distribution = model.next_symbol_distribution([tuple("costs $")])
    assert distribution.shape == (1, len(model.alphabet) + 1)
    assert abs(distribution.sum() - 1) < 1e-6


def test_ctrl_c_while_the_commands_load_is_one_line(capsys, monkeypatch):
    import automimic.cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(automimic.cli, "build_parser", interrupted)
    assert automimic.cli.main(["validate", "x.yaml"]) == 130
    assert capsys.readouterr().err == "automimic: interrupted\n"


def test_a_precision_the_cell_cannot_train_in_is_refused_before_anything_is_written(tmp_path, capsys, monkeypatch):
    def refused(*args, **kwargs):
        raise RuntimeError("no bf16 kernel for this cell here. More detail")

    monkeypatch.setattr(neural.precision, "autocast", refused)
    (tmp_path / "t.txt").write_text("ab\n" * 20)
    out = tmp_path / "r"
    code = main(["train", "--data", str(tmp_path / "t.txt"), "--out", str(out), "--cell", "elman",
                 "--precision", "bf16", "--device", "cpu", *FAST])
    error = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert error.startswith("automimic: error: --precision bf16 cannot train the elman cell on cpu")
    assert error.endswith("(no bf16 kernel for this cell here); use fp32\n") and error.count("\n") == 1


def test_a_model_of_one_text_does_not_pretend_the_text_has_an_end(tmp_path, capsys, run):
    (tmp_path / "text.txt").write_text("to be or not to be\n" * 30)
    out = tmp_path / "text"
    assert main(["train", "--data", str(tmp_path / "text.txt"), "--chars", "--out", str(out),
                 "--epochs", "1", "--hidden", "4", "--quiet"]) == 0
    model = neural.load(out)
    assert model.stream and not neural.load(run).stream
    capsys.readouterr()
    assert main(["generate", str(out), "-n", "3", "--max-length", "15", "--seed", "0"]) == 0
    captured = capsys.readouterr()
    assert [len(s) for s in model.sample(3, max_length=15, seed=0)] == [15, 15, 15]
    assert "no end of string: each sample is --max-length 15 characters" in captured.err
    assert "cut there" not in captured.err
    rows = model.prefix_distributions(["to"])[0]  # after "", "t", "to"
    piece = np.log(rows[0, model.alphabet.index("t")] * rows[1, model.alphabet.index("o")])
    assert model.log_probability(["to"])[0] == pytest.approx(piece)  # no end-of-string term
    assert score_run(str(out), ["to"], as_json=False) == 0
    assert "each probability is that of the text beginning with the string" in \
        capsys.readouterr().err
    assert complete_run(str(out), "to b", 2) == 0
    captured = capsys.readouterr()
    assert "the 2 most probable next 20 characters" in captured.err
    lines = captured.out.strip().splitlines()
    assert len(lines) == 2 and all(len(ast.literal_eval(line.split(None, 1)[1])) == 24 for line in lines)


@pytest.mark.parametrize("stream", [False, True], ids=["strings", "one text"])
def test_an_ensemble_run_answers_score_complete_and_generate_as_its_average(tmp_path, capsys, stream):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("ab\naab\nb\nabb\n" * 20)
    options = ["--chars", "--bptt", "8"] if stream else []
    out = tmp_path / "run"
    assert main(["train", "--data", str(corpus), "--out", str(out), *FAST, *options, "--ensemble", "2"]) == 0
    model = neural.load(out)
    assert isinstance(model, neural.Ensemble) and model.stream is stream
    capsys.readouterr()
    assert main(["score", str(out), "ab", "--json"]) == 0
    log2 = json.loads(capsys.readouterr().out)[0]["log2_probability"]
    assert log2 == pytest.approx(float(model.log_probability([("a", "b")])[0]) / np.log(2), rel=1e-9)
    members = [m.prefix_distributions([("a", "b")])[0] for m in model.members]
    targets = [*model.vocabulary.encode(("a", "b"))]
    targets += [] if stream else [model.vocabulary.eos]  # one text: the probability the text begins "ab"
    expected = np.log(np.mean(members, axis=0)[np.arange(len(targets)), targets]).sum() / np.log(2)
    assert log2 == pytest.approx(expected, rel=1e-9)
    assert main(["complete", str(out), "a", "-k", "2"]) == 0
    assert main(["generate", str(out), "-n", "3", "--seed", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) >= 3
