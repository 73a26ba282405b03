"""Ensembles: the average of the members' distributions, a language model like any other."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

import neural
from neural import Ensemble, RNNConfig, TrainedModel

CONFIG = RNNConfig(hidden_size=6)
STRINGS = [(), ("a",), ("a", "b"), ("b", "b", "a")]


def _members(*seeds):
    return [TrainedModel.untrained("ab", CONFIG, seed=s) for s in seeds]


def test_ensemble_of_identical_models_equals_the_model():
    (member,) = _members(0)
    ensemble = Ensemble([member, member, member])
    # float32 logits, made float64 by two different kernels: equal to ~1e-9
    np.testing.assert_allclose(ensemble.log_probability(STRINGS), member.log_probability(STRINGS), rtol=1e-7)
    for ours, theirs in zip(ensemble.prefix_distributions(STRINGS), member.prefix_distributions(STRINGS), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    ours, theirs = ensemble.complete(("a",), k=3), member.complete(("a",), k=3)
    assert [c for c, _ in ours] == [c for c, _ in theirs]
    assert [p for _, p in ours] == pytest.approx([p for _, p in theirs], rel=1e-12)
    assert ensemble.sample(20, seed=3) == member.sample(20, seed=3)


def test_ensemble_distributions_are_the_mean_and_sum_to_one():
    members = _members(0, 1, 2)
    ensemble = Ensemble(members)
    mean = np.mean([m.next_symbol_distribution(STRINGS) for m in members], axis=0)
    np.testing.assert_allclose(ensemble.next_symbol_distribution(STRINGS), mean)
    for rows in ensemble.prefix_distributions(STRINGS):
        np.testing.assert_allclose(rows.sum(axis=1), 1.0)
    logp, _ = ensemble.step(torch.tensor([[2], [2]]), None)
    np.testing.assert_allclose(logp.exp().sum(dim=1).numpy(), 1.0)


def test_ensemble_log_probability_multiplies_the_averaged_steps():
    members = _members(0, 1)
    ensemble = Ensemble(members)
    rows = np.mean([m.prefix_distributions([("a", "b")])[0] for m in members], axis=0)
    expected = np.log(rows[0, 0]) + np.log(rows[1, 1]) + np.log(rows[2, 2])
    assert ensemble.log_probability([("a", "b")])[0] == pytest.approx(expected, rel=1e-12)


def test_ensemble_save_and_load_round_trip(tmp_path):
    ensemble = Ensemble(_members(0, 1))
    ensemble.save(tmp_path / "e.pt")
    loaded = neural.load(tmp_path / "e.pt")
    assert isinstance(loaded, Ensemble) and len(loaded.members) == 2
    np.testing.assert_allclose(loaded.log_probability(STRINGS), ensemble.log_probability(STRINGS))


def test_ensemble_refuses_members_over_different_alphabets():
    with pytest.raises(ValueError, match="one alphabet"):
        Ensemble([TrainedModel.untrained("ab", CONFIG, seed=0), TrainedModel.untrained("abc", CONFIG, seed=0)])


def test_train_with_ensemble_trains_members_and_resumes(tmp_path):
    strings = [("a",), ("a", "b"), ("b",)] * 20
    config = neural.TrainConfig(epochs=2, batch_size=8, ensemble=2)
    ensemble = neural.train(strings, strings[:6], "ab", RNNConfig(hidden_size=6), config, seed=3,
                            run_dir=tmp_path, quiet=True)
    assert isinstance(ensemble, Ensemble) and len(ensemble.members) == 2
    assert sorted(p.name for p in (tmp_path / "members").iterdir()) == ["0", "1"]
    alone = neural.train(strings, strings[:6], "ab", RNNConfig(hidden_size=6),
                         neural.TrainConfig(epochs=2, batch_size=8), seed=4, quiet=True)
    np.testing.assert_allclose(ensemble.members[1].log_probability(STRINGS), alone.log_probability(STRINGS))
    resumed = neural.train(strings, strings[:6], "ab", None, None, seed=3, run_dir=tmp_path, resume=True, quiet=True)
    np.testing.assert_allclose(resumed.log_probability(STRINGS), ensemble.log_probability(STRINGS))
    np.testing.assert_allclose(neural.load(tmp_path).log_probability(STRINGS), ensemble.log_probability(STRINGS))


def test_tune_tries_the_grid_records_it_and_keeps_the_best(tmp_path):
    import json

    strings = [("a",), ("a", "b"), ("b",)] * 20
    config = neural.TrainConfig(epochs=1, batch_size=8, tune=600.0)
    model = neural.train(strings, strings[:6], "ab", RNNConfig(hidden_size=4), config, seed=0,
                         run_dir=tmp_path, quiet=True)
    record = json.loads((tmp_path / "tuning.json").read_text())
    bits = [t["val_bits"] for t in record["trials"]]
    assert len(bits) == 6 and None not in bits
    assert record["chosen"] == bits.index(min(bits))
    assert [t["model"]["hidden_size"] for t in record["trials"]] == [4, 2, 4, 4, 8, 4]
    assert [t["model"]["dropout"] for t in record["trials"]] == [0.3, 0.3, 0.5, 0.1, 0.3, 0.5]
    assert [t["training"]["epochs"] for t in record["trials"]] == [1, 1, 1, 1, 1, 3]  # the costliest last
    assert record["trials"][5]["training"]["max_tokens"] == 3 * config.max_tokens
    assert neural.validation_bits(model, None) == min(bits)  # the kept model's, its output layer fitted again
    np.testing.assert_allclose(neural.load(tmp_path).log_probability(STRINGS), model.log_probability(STRINGS))
    runner_up = sorted(range(6), key=bits.__getitem__)[1]
    margin = record["margin"]  # how far the choice leads the next best trial, string by string
    assert margin["over"] == runner_up
    assert margin["bits"] == pytest.approx(bits[runner_up] - min(bits), abs=1e-6)
    assert margin["standard_error"] > 0


def test_the_validation_margin_is_the_paired_difference_and_its_standard_error():
    from neural import validation_margin

    models = [TrainedModel.untrained("ab", RNNConfig(hidden_size=4), seed=s) for s in (0, 1)]
    val = [("a",), ("a", "b"), ("b", "b", "a"), ()]
    lower, error = validation_margin(models[0], models[1], val)
    each = [[-m.log_probability([x])[0] / math.log(2) for x in val] for m in models]  # one string at a time
    saved = np.subtract(each[1], each[0])  # bits each string saves under the first model
    symbols = 2 + 3 + 4 + 1
    assert lower == pytest.approx(saved.sum() / symbols, rel=1e-9)
    assert error == pytest.approx(math.sqrt(sum((d - saved.mean()) ** 2 for d in saved) / 3 * 4) / symbols, rel=1e-9)
    assert validation_margin(models[1], models[0], val)[0] == pytest.approx(-lower, rel=1e-12)
    assert validation_margin(*models, val[:1]) is None and validation_margin(*models, None) is None  # no spread


def test_a_networks_validation_loss_is_the_kept_epochs_not_the_lowest():
    strings = [("a",), ("a", "b"), ("b",), ("a", "a", "b")] * 10
    val = strings[:8]
    config = neural.TrainConfig(epochs=4, batch_size=8, min_delta=10.0, refit_head=False)  # the first epoch counts
    model = neural.train(strings, val, "ab", RNNConfig(hidden_size=8), config, seed=0, quiet=True)
    history = model.history
    assert history["best_epoch"] == 0 and min(history["val_bits"]) < history["val_bits"][0]
    own = -model.log_probability(val).sum() / np.log(2) / sum(len(x) + 1 for x in val)
    assert neural.validation_bits(model, val) == history["val_bits"][0]
    assert neural.validation_bits(model, val) == pytest.approx(own, rel=1e-5)  # the kept model's loss


def test_tune_with_an_ensemble_scores_each_trial_by_the_ensembles_own_loss(tmp_path):
    import json

    strings = [("a",), ("a", "b"), ("b",)] * 20
    # without the output layer's second fit, which makes these tiny members nearly equal
    config = neural.TrainConfig(epochs=1, batch_size=8, tune=600.0, ensemble=2, refit_head=False)
    model = neural.train(strings, strings[:6], "ab", RNNConfig(hidden_size=4), config, seed=0,
                         run_dir=tmp_path, quiet=True)
    record = json.loads((tmp_path / "tuning.json").read_text())
    assert isinstance(model, Ensemble)
    own = -model.log_probability(strings[:6]).sum() / np.log(2) / sum(len(x) + 1 for x in strings[:6])
    assert record["trials"][record["chosen"]]["val_bits"] == pytest.approx(own, rel=1e-12)
    first = model.members[0].history
    first_member = first["val_bits"][first["best_epoch"]]
    assert own != pytest.approx(first_member, rel=1e-6)  # what the trial was scored by before
    assert neural.validation_bits(model.members[0], strings[:6]) == first_member


def _two_symbol_strings(n, seed=0):
    """Strings of a and b whose next symbol depends on the last: enough for trials to differ."""
    import random

    rng, strings = random.Random(seed), []
    for _ in range(n):
        string = []
        while rng.random() > 0.25:
            string.append("a" if rng.random() < (0.7 if not string or string[-1] == "b" else 0.3) else "b")
        strings.append(tuple(string))
    return strings


# four epochs at a high learning rate: the trials end in different places, and the average of
# the best two is lower on validation than either (found by trying; the run is deterministic)
AVERAGED = neural.TrainConfig(epochs=4, lr=0.1, batch_size=8, tune=600.0, tune_average=True, refit_head=False)


def test_tune_keeps_the_average_of_the_trials_that_lower_the_validation_loss_together(tmp_path):
    import json

    from neural.tuning import tuned_choice

    strings = _two_symbol_strings(80)
    train, val = strings[:60], strings[60:]
    model = neural.train(train, val, "ab", RNNConfig(hidden_size=4), AVERAGED, seed=0, run_dir=tmp_path, quiet=True)
    record = json.loads((tmp_path / "tuning.json").read_text())
    bits = [t["val_bits"] for t in record["trials"]]
    chosen = record["average"]["trials"]
    assert chosen[0] == record["chosen"] == bits.index(min(bits)) and len(chosen) == 2
    assert isinstance(model, Ensemble) and len(model.members) == 2
    trials = [neural.load(tmp_path / "trials" / str(k)) for k in chosen]
    mean = np.mean([[np.exp(t.log_probability([x])[0]) for x in STRINGS] for t in trials], axis=0)
    # not the mean of whole-string probabilities: the mean of the next-symbol distributions
    assert not np.allclose(np.exp(model.log_probability(STRINGS)), mean, rtol=1e-6)
    for ours, *theirs in zip(model.prefix_distributions(STRINGS), *(t.prefix_distributions(STRINGS) for t in trials),
                             strict=True):
        np.testing.assert_allclose(ours, np.mean(theirs, axis=0), rtol=1e-12)
    assert neural.validation_bits(model, val) == pytest.approx(record["average"]["val_bits"], rel=1e-12)
    assert record["average"]["val_bits"] < min(bits) - AVERAGED.min_delta
    tried = record["averages_tried"]  # every trial offered to the average, from the lowest loss up
    assert [t["trials"][-1] for t in tried] == sorted(range(6), key=bits.__getitem__)[1:]
    assert {"trials": chosen, "val_bits": record["average"]["val_bits"]} in tried
    assert tuned_choice(record).startswith("the average of 2 trials (")
    margin = record["margin"]  # the average against the best trial alone
    assert margin["over"] == chosen[0]
    assert margin["bits"] == pytest.approx(min(bits) - record["average"]["val_bits"], abs=1e-6)  # history: float32
    np.testing.assert_allclose(neural.load(tmp_path).log_probability(STRINGS), model.log_probability(STRINGS))
    again = neural.train(train, val, "ab", RNNConfig(hidden_size=4), AVERAGED, seed=0, run_dir=tmp_path,
                         resume=True, quiet=True)
    np.testing.assert_allclose(again.log_probability(STRINGS), model.log_probability(STRINGS))
    resumed = json.loads((tmp_path / "tuning.json").read_text())
    assert resumed["average"] == record["average"]
    for first, second in zip(record["trials"], resumed["trials"], strict=True):  # the time they took to train
        assert first["seconds"] <= second["seconds"] < first["seconds"] + 5


def test_a_tuned_average_is_refit_trial_by_trial_with_each_trials_settings(tmp_path):
    import json

    strings = _two_symbol_strings(80)
    config = replace(AVERAGED, refit=True)
    model = neural.train(strings[:60], strings[60:], "ab", RNNConfig(hidden_size=4), config, seed=0,
                         run_dir=tmp_path, quiet=True)
    record = json.loads((tmp_path / "validated" / "tuning.json").read_text())
    chosen = record["average"]["trials"]
    assert isinstance(model, Ensemble) and len(model.members) == len(chosen)
    for k, (trial, member) in enumerate(zip(chosen, model.members, strict=True)):
        validated = neural.load(tmp_path / "validated" / "trials" / str(trial))
        assert member.config == validated.config  # the trial's own settings
        assert len(member.history["refit_train_bits"]) == validated.history["best_epoch"] + 1
        refitted = neural.load(tmp_path / "refit" / "trials" / str(k))
        np.testing.assert_allclose(refitted.log_probability(STRINGS), member.log_probability(STRINGS))
    np.testing.assert_allclose(neural.load(tmp_path).log_probability(STRINGS), model.log_probability(STRINGS))


def test_tune_within_a_spent_budget_tries_only_the_given_settings(tmp_path):
    import json

    strings = [("a",), ("a", "b"), ("b",)] * 20
    config = neural.TrainConfig(epochs=1, batch_size=8, tune=1e-9)
    neural.train(strings, strings[:6], "ab", RNNConfig(hidden_size=4), config, seed=0, run_dir=tmp_path, quiet=True)
    trials = json.loads((tmp_path / "tuning.json").read_text())["trials"]
    assert [t["val_bits"] is not None for t in trials] == [True, False, False, False, False, False]


def test_a_tuned_run_resumes_only_as_tuned(tmp_path):
    strings = [("a",), ("a", "b"), ("b",)] * 20
    tuned = neural.TrainConfig(epochs=1, batch_size=8, tune=1e-9)
    first = neural.train(strings, strings[:6], "ab", RNNConfig(hidden_size=4), tuned, seed=0, run_dir=tmp_path,
                         quiet=True)
    with pytest.raises(neural.CheckpointError, match="holds a tuned run"):
        neural.train(strings, strings[:6], "ab", None, None, seed=0, run_dir=tmp_path, resume=True, quiet=True)
    again = neural.train(strings, strings[:6], "ab", RNNConfig(hidden_size=4), tuned, seed=0, run_dir=tmp_path,
                         resume=True, quiet=True)
    np.testing.assert_allclose(again.log_probability(STRINGS), first.log_probability(STRINGS))


def test_remove_nested_runs_clears_members_trials_and_the_tuning_record(tmp_path):
    from neural.checkpoint import remove_nested_runs

    for folder in ("members/0", "trials/1"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "tuning.json").write_text("{}")
    (tmp_path / "train.txt").write_text("a\n")
    remove_nested_runs(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["train.txt"]
