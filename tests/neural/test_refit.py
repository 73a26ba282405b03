"""A refit: trained again on the training and validation strings, for the epochs validation chose."""

import json
import os
import signal

import numpy as np
import pytest
import torch
from conftest import ALPHABET

import neural
import neural.training
from automimic.cli import main
from neural import CheckpointError, CorpusError, Ensemble, RNNConfig, TrainConfig, TrainingInterrupted
from neural.data import Corpus
from neural.vocab import Vocabulary

SMALL = RNNConfig(hidden_size=8)


def _data(chain_corpus):
    return chain_corpus["train"][:120], chain_corpus["val"][:30], ALPHABET


def _lr_per_step(config, data, monkeypatch):
    """The learning rate of every step of a run of ``config``."""
    rates, original = [], neural.training._train_step

    def step(session, inputs, targets, tokens, lr):
        rates.append(lr)
        return original(session, inputs, targets, tokens, lr)

    monkeypatch.setattr(neural.training, "_train_step", step)
    neural.train(*data, SMALL, config, seed=0, quiet=True)
    monkeypatch.undo()
    return rates


def test_schedule_epochs_stops_a_schedule_part_way(chain_corpus, monkeypatch):
    data = _data(chain_corpus)
    whole = _lr_per_step(TrainConfig(epochs=4, batch_size=16, max_tokens=None), data, monkeypatch)
    half = _lr_per_step(TrainConfig(epochs=2, schedule_epochs=4, batch_size=16, max_tokens=None), data, monkeypatch)
    assert half == whole[: len(half)] and len(half) == len(whole) // 2
    assert half[-1] > whole[-1]  # the cosine had not come down yet


def test_without_validation_the_last_epoch_is_kept(chain_corpus):
    strings, _, alphabet = _data(chain_corpus)
    model = neural.train(strings, None, alphabet, SMALL, TrainConfig(epochs=4, batch_size=16, lr=0.5),
                         seed=0, quiet=True)
    bits = model.history["train_bits"]
    assert bits[-1] > min(bits)  # the training loss would choose an earlier epoch
    assert model.history["best_epoch"] == 3


def test_a_refit_trains_on_all_strings_for_the_epochs_validation_chose(tmp_path, chain_corpus):
    train, val, alphabet = _data(chain_corpus)
    config = TrainConfig(epochs=4, batch_size=16, max_tokens=None, refit=True)
    model = neural.train(train, val, alphabet, SMALL, config, seed=2, quiet=True, run_dir=tmp_path)
    validated = neural.load(tmp_path / "validated")
    chosen = validated.history["best_epoch"] + 1
    assert len(model.history["refit_train_bits"]) == chosen
    assert model.history["val_bits"] == validated.history["val_bits"]  # what chose it
    everything = Corpus.encode(Vocabulary(ALPHABET), [*train, *val])
    assert model.data_sha256 == everything.sha256 != validated.data_sha256
    saved = neural.load(tmp_path)
    np.testing.assert_array_equal(saved.log_probability(val), model.log_probability(val))
    refit_run = neural.load(tmp_path / "refit")
    np.testing.assert_array_equal(refit_run.log_probability(val), model.log_probability(val))
    assert not np.allclose(model.log_probability(val), validated.log_probability(val))


def test_a_refit_resumes_and_refuses_a_resume_without_refit(tmp_path, chain_corpus, monkeypatch):
    data = _data(chain_corpus)
    config = TrainConfig(epochs=3, batch_size=16, max_tokens=None, refit=True)
    straight = neural.train(*data, SMALL, config, seed=1, quiet=True, run_dir=tmp_path / "a")
    steps_before_refit = len(straight.history["step_bits"])
    original, count = neural.training._train_step, [0]

    def step(*args, **kwargs):
        count[0] += 1
        if count[0] == steps_before_refit + 2:  # in the refit's first epoch
            os.kill(os.getpid(), signal.SIGINT)
        return original(*args, **kwargs)

    monkeypatch.setattr(neural.training, "_train_step", step)
    with pytest.raises(TrainingInterrupted):
        neural.train(*data, SMALL, config, seed=1, quiet=True, run_dir=tmp_path / "b")
    monkeypatch.undo()
    assert (tmp_path / "b" / "refit" / "training.pt").exists()
    with pytest.raises(CheckpointError, match="holds a refit run"):
        neural.train(*data, seed=1, quiet=True, run_dir=tmp_path / "b", resume=True)
    steps = []
    monkeypatch.setattr(neural.training, "_train_step", lambda *a, **k: steps.append(1) or original(*a, **k))
    resumed = neural.train(*data, SMALL, config, seed=1, quiet=True, run_dir=tmp_path / "b", resume=True)
    monkeypatch.undo()
    refit_steps = len(json.loads((tmp_path / "a" / "refit" / "history.json").read_text())["step_bits"])
    assert 0 < len(steps) < refit_steps  # it went on from the checkpoint, not from the start
    for key, value in straight.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[key], value, rtol=0, atol=1e-6)


def test_an_ensemble_is_refit_member_by_member(chain_corpus):
    data = _data(chain_corpus)
    model = neural.train(*data, SMALL, TrainConfig(epochs=2, batch_size=16, ensemble=2, refit=True),
                         seed=0, quiet=True)
    assert isinstance(model, Ensemble) and len(model.members) == 2
    assert all("refit_train_bits" in member.history for member in model.members)


def test_a_refit_needs_validation_strings(chain_corpus):
    train, _, alphabet = _data(chain_corpus)
    with pytest.raises(CorpusError, match="refit needs validation strings"):
        neural.train(train, [], alphabet, SMALL, TrainConfig(epochs=1, refit=True), seed=0, quiet=True)


def test_a_refit_refuses_the_plateau_schedule_it_cannot_repeat(tmp_path, capsys):
    with pytest.raises(ValueError, match="plateau schedule cannot do without validation"):
        TrainConfig(refit=True, schedule="plateau")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("ab\n" * 20)
    assert main(["train", "--data", str(corpus), "--out", str(tmp_path / "run"), "--refit",
                 "--schedule", "plateau"]) == 2
    assert "plateau schedule cannot" in capsys.readouterr().err and not (tmp_path / "run").exists()
