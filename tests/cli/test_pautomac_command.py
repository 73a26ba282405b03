"""``automimic pautomac`` on small problems written by the tests with the project's PAutomaC writers:
the true perplexity is the hand-computed one, finished problems are skipped, other settings need
--force, parallel processes and a Dask cluster give the results of one process, bad folders are
one line naming the file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import automata as am
import neural
from automata import pautomac
from automata.pautomac import pautomac_perplexity
from automimic.cli import main
from automimic.pautomac_suite import holdout
from automimic.pipeline import stage_seeds
from neural.tuning import tuned_choice

# one state: stop 1/4, "0" with 1/2, "1" with 1/4, so P(x) = 2^(-#0) 4^(-#1) / 4
PFA = """kind: pfa
alphabet: ["0", "1"]
start: q
states:
  q: {final: 0.25, next: {"0": {q: 0.5}, "1": {q: 0.25}}}
"""
TEST = [(), ("0",), ("1",), ("0", "0"), ("0", "1"), ("1", "0"), ("1", "1", "0")]
TINY = ("--hidden", "4", "--epochs", "2", "--batch-size", "16", "--quiet")


def hand_probability(x: tuple[str, ...]) -> float:
    return 0.5 ** x.count("0") * 0.25 ** x.count("1") * 0.25


def write_problem(folder: Path, number: int, *, n_train: int = 60) -> None:
    """Problem ``number``: the model, sampled training strings, the test strings, the solution."""
    truth = am.loads(PFA)
    folder.mkdir(parents=True, exist_ok=True)
    pautomac.write_model(truth, folder / f"{number}.pautomac_model.txt")
    train = list(am.sample(truth, n_train, seed=number).strings)
    pautomac.write_strings(train, truth.alphabet, folder / f"{number}.pautomac.train")
    pautomac.write_strings(TEST, truth.alphabet, folder / f"{number}.pautomac.test")
    pautomac.write_solution([hand_probability(x) for x in TEST],
                            folder / f"{number}.pautomac_solution.txt")


def run(capsys, data: Path, out: Path, *options: str) -> tuple[int, str]:
    code = main(["pautomac", str(data), "--out", str(out), *TINY, *options])
    return code, capsys.readouterr().err


def results(out: Path) -> list[dict]:
    """The results without the timings (which differ from run to run)."""
    problems = json.loads((out / "results.json").read_text())["problems"]
    return [{k: v for k, v in r.items() if k != "seconds"} for r in problems]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pautomac")
    for number in (1, 2):
        write_problem(folder, number)
    return folder


@pytest.fixture(scope="module")
def solved(data, tmp_path_factory) -> Path:
    """Both problems solved in one process."""
    out = tmp_path_factory.mktemp("solved")
    assert main(["pautomac", str(data), "--out", str(out), "--jobs", "1", *TINY]) == 0
    return out


def test_the_true_perplexity_is_the_hand_computed_one(solved):
    p = np.array([hand_probability(x) for x in TEST])
    p_hat = p / p.sum()
    hand = 2 ** -np.sum(p_hat * np.log2(p_hat))
    for result in json.loads((solved / "results.json").read_text())["problems"]:
        assert result["true_perplexity"] == pytest.approx(hand, rel=1e-9)
        assert result["solution_perplexity"] == pytest.approx(hand, rel=1e-9)
        assert result["model_perplexity"] > hand and result["baseline_perplexity"] >= hand * 0.999


def test_a_model_file_that_does_not_give_the_solution_is_noted(capsys, tmp_path):
    write_problem(tmp_path / "data", 1, n_train=10)
    other = [hand_probability(x) * (2 if i == 0 else 1) for i, x in enumerate(TEST)]
    pautomac.write_solution(other, tmp_path / "data" / "1.pautomac_solution.txt")
    code, err = run(capsys, tmp_path / "data", tmp_path / "out")
    assert code == 0 and "note: problem 1: the true model's perplexity" in err, err


def test_an_infinite_perplexity_is_written_and_read_back(capsys, tmp_path):
    write_problem(tmp_path / "data", 1, n_train=10)
    never_one = am.loads(PFA.replace('"0": {q: 0.5}, "1": {q: 0.25}', '"0": {q: 0.75}'))
    pautomac.write_model(never_one, tmp_path / "data" / "1.pautomac_model.txt")
    for _ in range(2):  # solved, then read back
        code, err = run(capsys, tmp_path / "data", tmp_path / "out")
        assert code == 0, err
    result = json.loads((tmp_path / "out" / "results.json").read_text())["problems"][0]
    assert result["true_perplexity"] == "inf" and "already solved" in err


def test_every_output_is_written_and_the_saved_model_gives_the_result(solved):
    document = json.loads((solved / "results.json").read_text())
    assert [r["problem"] for r in document["problems"]] == [1, 2]
    assert document["settings"]["model"]["hidden_size"] == 4  # a train option applied
    assert document["settings"]["training"]["epochs"] == 2
    first = document["problems"][0]
    assert (first["n_train"], first["n_val"], first["n_test"]) == (54, 6, len(TEST))
    csv_lines = (solved / "results.csv").read_text().splitlines()
    assert len(csv_lines) == 3 and csv_lines[0].startswith("problem,true_perplexity,")
    page = (solved / "report.html").read_text()
    assert '<figure data-figure="ratios"><svg' in page and page.count("<tr>") == 3
    model = neural.load(solved / "1")
    p = np.log([hand_probability(x) for x in TEST])
    assert model.config.hidden_size == 4
    assert min(model.history["val_bits"]) == model.history["val_bits"][first["best_epoch"] - 1]
    assert first["val_bits"] == neural.validation_bits(model, None)  # its output layer fitted again, or the epoch's
    assert first["val_bits"] <= model.history["val_bits"][first["best_epoch"] - 1]
    assert pautomac_perplexity(p, model.log_probability(TEST), TEST) == pytest.approx(
        first["model_perplexity"], rel=1e-12)


def test_a_refit_records_the_validated_models_perplexity_beside_the_refit_ones(capsys, data, tmp_path):
    assert run(capsys, data, tmp_path, "--problems", "1", "--refit")[0] == 0
    (result,) = results(tmp_path)
    p = np.log([hand_probability(x) for x in TEST])
    for folder, key in ((tmp_path / "1", "model_perplexity"), (tmp_path / "1" / "validated", "validated_perplexity")):
        model = neural.load(folder)
        assert pautomac_perplexity(p, model.log_probability(TEST), TEST) == pytest.approx(result[key], rel=1e-12)
    assert result["model_perplexity"] != result["validated_perplexity"]
    validated = neural.load(tmp_path / "1" / "validated")
    assert result["val_bits"] == neural.validation_bits(validated, None)  # the validated model's
    assert "validated_perplexity" in (tmp_path / "results.csv").read_text().splitlines()[0]
    assert run(capsys, data, tmp_path, "--problems", "1", "--force")[0] == 0  # no refit now
    assert not (tmp_path / "1" / "validated").exists() and "validated_perplexity" not in results(tmp_path)[0]


def test_an_ensembles_validation_loss_is_its_own_not_its_first_members(capsys, data, tmp_path):
    assert run(capsys, data, tmp_path, "--problems", "1", "--ensemble", "2")[0] == 0
    (result,) = results(tmp_path)
    _, val = holdout(pautomac.read_strings(data / "1.pautomac.train").strings, 0.1, stage_seeds(0)["val"])
    assert len(val) == result["n_val"]
    model = neural.load(tmp_path / "1")
    bits = -model.log_probability(val).sum() / np.log(2) / sum(len(x) + 1 for x in val)
    assert result["val_bits"] == pytest.approx(bits, rel=1e-12)
    assert result["val_bits"] not in [min(member.history["val_bits"]) for member in model.members]


def test_a_tuned_run_says_what_tune_chose_for_each_problem(capsys, data, solved, tmp_path):
    code = main(["pautomac", str(data), "--out", str(tmp_path), *TINY, "--problems", "1", "--tune", "600"])
    printed = capsys.readouterr()
    assert code == 0
    err = printed.err
    (result,) = results(tmp_path)
    assert result["tuned"] == tuned_choice(json.loads((tmp_path / "1" / "tuning.json").read_text()))
    assert f"tune chose {result['tuned']}" in err
    assert "solving 1 problem here" in err
    table = printed.out.splitlines()
    assert table[0].endswith("  tune chose") and table[1].endswith(f"  {result['tuned']}")
    assert "tuned" in (tmp_path / "results.csv").read_text().splitlines()[0]
    page, untuned = (tmp_path / "report.html").read_text(), (solved / "report.html").read_text()
    assert "tune chose" in page and "tune chose" not in untuned  # an untuned run has no such column
    assert ">1 problem. " in page and ">2 problems. " in untuned


def test_a_second_run_skips_the_finished_problems(capsys, data, solved):
    before = (solved / "1" / "result.json").read_bytes()
    code, err = run(capsys, data, solved, "--jobs", "1")
    assert code == 0, err
    assert f"2 of 2 problems already solved in {solved} (problems 1, 2): skipped" in err
    assert "training" not in err
    assert (solved / "1" / "result.json").read_bytes() == before


def test_other_settings_ask_for_force(capsys, data, tmp_path):
    out = tmp_path / "out"
    assert run(capsys, data, out, "--problems", "1")[0] == 0
    code, err = run(capsys, data, out, "--problems", "1", "--lr", "0.02")
    assert code == 2 and err.strip().splitlines()[-1] == (
        f"automimic: error: {out} holds results of other settings (training.lr differ): "
        "replace them with --force or choose another --out")
    code, err = run(capsys, data, out, "--problems", "1", "--lr", "0.02", "--force")
    assert code == 0, err
    assert json.loads((out / "results.json").read_text())["settings"]["training"]["lr"] == 0.02


def test_settings_written_before_a_field_existed_mean_what_the_code_then_did(capsys, data, tmp_path):
    out = tmp_path / "out"
    assert run(capsys, data, out, "--problems", "1")[0] == 0
    settings = json.loads((out / "settings.json").read_text())
    del settings["training"]["tune_average"]  # before --tune-average: no averaging, today's default
    (out / "settings.json").write_text(json.dumps(settings))
    code, err = run(capsys, data, out, "--problems", "1")
    assert code == 0 and "already solved" in err, err
    del settings["training"]["refit_head"]  # before the fit: none, which is no longer the default
    (out / "settings.json").write_text(json.dumps(settings))
    code, err = run(capsys, data, out, "--problems", "1")
    assert code == 2 and "(training.refit_head differ)" in err


def test_parallel_processes_give_the_results_of_one(capsys, data, solved, tmp_path):
    code, err = run(capsys, data, tmp_path / "parallel", "--jobs", "2")
    assert code == 0, err
    assert "in 2 processes" in err and err.count(": training (process ") == 2
    assert results(tmp_path / "parallel") == results(solved)


@pytest.mark.parametrize("available", [False, True])
def test_workers_that_may_use_cuda_are_spawned(monkeypatch, available):
    import torch

    from automimic.pautomac_suite import process_context

    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    assert process_context("cpu").get_start_method() == "fork"  # they start with torch imported
    expected = "spawn" if available else "fork"  # a forked child cannot initialise CUDA
    assert process_context("auto").get_start_method() == expected
    assert process_context("cuda:0").get_start_method() == expected
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    assert process_context("cpu").get_start_method() == "spawn"


def test_a_dask_cluster_gives_the_results_of_one_process(capsys, data, solved, tmp_path):
    distributed = pytest.importorskip("distributed")
    import dask

    # forked workers start with torch imported (spawned ones would import it again: ~10 s each)
    with dask.config.set({"distributed.worker.multiprocessing-method": "fork"}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     host="127.0.0.1", dashboard_address=":0") as cluster:
        code, err = run(capsys, data, tmp_path / "dask", "--scheduler", cluster.scheduler_address)
    assert code == 0, err
    assert "on the Dask cluster" in err
    assert results(tmp_path / "dask") == results(solved)


def test_a_bad_scheduler_is_one_line_and_writes_nothing(capsys, data, tmp_path):
    pytest.importorskip("distributed")
    code, err = run(capsys, data, tmp_path / "out", "--scheduler", "nonsense")
    assert code == 2 and err.startswith("automimic: error: --scheduler nonsense: cannot reach a "
                                        "Dask scheduler there"), err
    assert len(err.splitlines()) == 1 and not (tmp_path / "out").exists()


def test_without_dask_the_scheduler_option_says_what_to_install(capsys, data, tmp_path,
                                                                monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    code, err = run(capsys, data, tmp_path / "out", "--scheduler", "tcp://127.0.0.1:8786")
    assert code == 2 and "pip install 'automimic[cluster]'" in err, err


def _missing_test(folder: Path) -> Path:
    (folder / "1.pautomac.test").unlink()
    return folder / "1.pautomac.test"


def _short_solution(folder: Path) -> Path:
    pautomac.write_solution([0.1] * (len(TEST) - 1), folder / "1.pautomac_solution.txt")
    return folder / "1.pautomac_solution.txt"


def _other_alphabet(folder: Path) -> Path:
    pautomac.write_strings(TEST, ["0", "1", "2"], folder / "1.pautomac.test")
    return folder / "1.pautomac.test"


def _bad_model(folder: Path) -> Path:
    (folder / "1.pautomac_model.txt").write_text("I: (state)\n(0) one\n")
    return folder / "1.pautomac_model.txt"


def _bad_train_header(folder: Path) -> Path:
    (folder / "1.pautomac.train").write_text("sixty\n1 0\n")
    return folder / "1.pautomac.train"


@pytest.mark.parametrize("spoil, needle", [
    (_missing_test, "no such file (problem 1 needs"),
    (_short_solution, f"{len(TEST) - 1} probabilities for {len(TEST)} test strings"),
    (_other_alphabet, "3 symbols, but"),
    (_bad_model, "not a number: 'one'"),
    (_bad_train_header, "the first line must be 'count alphabet-size'"),
])
def test_a_bad_folder_is_one_line_naming_the_file(capsys, tmp_path, spoil, needle):
    write_problem(tmp_path / "data", 1, n_train=10)
    path = spoil(tmp_path / "data")
    code, err = run(capsys, tmp_path / "data", tmp_path / "out")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"automimic: error: {path}") and needle in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv, needle", [
    (["--problems", "3"], "no problem 3 (no file 3.pautomac.*)"),
    (["--problems", "2-1"], "argument --problems: expected a range low-high (got '2-1')"),
])
def test_an_unknown_problem_is_refused(capsys, data, tmp_path, argv, needle):
    try:
        code, err = run(capsys, data, tmp_path / "out", *argv)
    except SystemExit as exit_:
        code, err = exit_.code, capsys.readouterr().err
    assert code == 2 and needle in err.strip().splitlines()[-1], err


def test_a_folder_without_problems_is_refused(capsys, tmp_path):
    code, err = run(capsys, tmp_path, tmp_path / "out")
    assert code == 2 and err == f"automimic: error: {tmp_path}: no PAutomaC problem (no file " \
                                "N.pautomac.train)\n"
