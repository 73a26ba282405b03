"""The output layer fitted again with dropout off after training (neural.head)."""

import json
import os
import signal

import numpy as np
import pytest
import torch
from conftest import ALPHABET
from hypothesis import given, settings
from hypothesis import strategies as st

import neural
import neural.head
import neural.training
from neural import RNNConfig, TrainConfig, TrainingInterrupted
from neural.data import Corpus
from neural.head import fit_head
from neural.model import RNNLanguageModel

DROPPED = RNNConfig(hidden_size=16, dropout=0.5, weight_dropout=0.5)
QUICK = TrainConfig(epochs=2, batch_size=16, max_tokens=None)


def _bits(model, strings):
    """The model's own validation loss, bits per symbol (the ends counted)."""
    return -model.log_probability(strings).sum() / np.log(2) / sum(len(s) + 1 for s in strings)


def _data(chain_corpus):
    return chain_corpus["train"][:300], chain_corpus["val"][:60], ALPHABET


def test_a_network_trained_with_dropout_has_its_output_layer_fitted_again(tmp_path, chain_corpus):
    train, val, alphabet = _data(chain_corpus)
    model = neural.train(train, val, alphabet, DROPPED, QUICK, seed=0, quiet=True, run_dir=tmp_path)
    record = model.history["refit_head"]
    kept_epoch = model.history["val_bits"][model.history["best_epoch"]]
    assert record["val_bits_before"] == pytest.approx(kept_epoch, rel=1e-5)  # the kept model's, as trained
    assert record["rounds"] > 0 and record["val_bits_after"] < record["val_bits_before"] - 1e-4
    assert record["strings"] == len(train)
    assert neural.validation_bits(model, val) == record["val_bits_after"]
    saved = neural.load(tmp_path)
    assert _bits(saved, val) == pytest.approx(record["val_bits_after"], rel=1e-5)  # what is saved is fitted
    assert json.loads((tmp_path / "history.json").read_text())["refit_head"] == record
    unfitted = neural.train(train, val, alphabet, DROPPED, TrainConfig(**{**QUICK.__dict__, "refit_head": False}),
                            seed=0, quiet=True)
    assert "refit_head" not in unfitted.history
    assert _bits(unfitted, val) == pytest.approx(record["val_bits_before"], rel=1e-5)  # the same training


def test_the_layer_is_kept_when_no_round_lowers_the_validation_loss():
    torch.manual_seed(0)
    model = RNNLanguageModel(RNNConfig(hidden_size=8), vocab_size=3)
    only_a = Corpus(np.zeros(60, dtype=np.int64), np.full(20, 3))  # "a a a", twenty times
    only_b = Corpus(np.ones(60, dtype=np.int64), np.full(20, 3))  # "b b b": the fit on a's makes b unlikely
    fit = fit_head(model, only_a, only_b, eos=2, min_delta=1e-4, seed=0)
    assert fit.record["rounds"] == 0
    assert fit.record["val_bits_after"] == fit.record["val_bits_before"]
    assert torch.equal(fit.weight, model.head.weight) and torch.equal(fit.bias, model.head.bias)
    better = fit_head(model, only_a, only_a, eos=2, min_delta=1e-4, seed=0)
    assert better.record["rounds"] > 0 and not torch.equal(better.weight, model.head.weight)


def test_too_many_strings_are_fitted_on_a_seeded_sample(chain_corpus, monkeypatch):
    train, val, alphabet = _data(chain_corpus)
    monkeypatch.setattr(neural.head, "MAX_CELLS", 200 * (16 + 4))  # room for 200 tokens
    first = neural.train(train, val, alphabet, DROPPED, QUICK, seed=0, quiet=True).history["refit_head"]
    again = neural.train(train, val, alphabet, DROPPED, QUICK, seed=0, quiet=True).history["refit_head"]
    assert 0 < first["strings"] < len(train) and first["tokens"] <= 200
    assert first == again


def test_an_interrupted_fit_is_done_again_on_resume(tmp_path, chain_corpus, monkeypatch, capsys):
    train, val, alphabet = _data(chain_corpus)
    straight = neural.train(train, val, alphabet, DROPPED, QUICK, seed=0, quiet=True)
    original = neural.training.fit_head

    def interrupted_fit(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # the handler only sets a flag: the fit stops after a round
        return original(*args, **kwargs)

    monkeypatch.setattr(neural.training, "fit_head", interrupted_fit)
    with pytest.raises(TrainingInterrupted):
        neural.train(train, val, alphabet, DROPPED, QUICK, seed=0, quiet=True, run_dir=tmp_path)
    monkeypatch.undo()
    assert "refit_head" not in json.loads((tmp_path / "history.json").read_text())
    capsys.readouterr()
    resumed = neural.train(train, val, alphabet, DROPPED, QUICK, seed=0, quiet=False, run_dir=tmp_path, resume=True)
    assert "the epochs had finished (finished 2 epochs)" in capsys.readouterr().err  # not "nothing to resume"
    assert resumed.history["refit_head"] == straight.history["refit_head"]
    np.testing.assert_array_equal(resumed.log_probability(val), straight.log_probability(val))
    calls = []
    monkeypatch.setattr(neural.training, "fit_head", lambda *a, **k: calls.append(1))
    finished = neural.train(train, val, alphabet, DROPPED, QUICK, seed=0, quiet=True, run_dir=tmp_path, resume=True)
    assert not calls  # a finished run is not fitted twice
    np.testing.assert_array_equal(finished.log_probability(val), straight.log_probability(val))


def test_a_run_saved_before_the_fit_existed_resumes_without_it(tmp_path, chain_corpus):
    train, val, alphabet = _data(chain_corpus)
    config = TrainConfig(**{**QUICK.__dict__, "epochs": 1})
    neural.train(train, val, alphabet, DROPPED, config, seed=0, quiet=True, run_dir=tmp_path)
    saved = torch.load(tmp_path / "training.pt", weights_only=False)
    old = {**saved, "progress": {**saved["progress"], "finished": False},
           "train_config": {k: v for k, v in {**saved["train_config"], "epochs": 2}.items() if k != "refit_head"}}
    old["history"] = {k: v for k, v in old["history"].items() if k != "refit_head"}
    torch.save(old, tmp_path / "training.pt")
    resumed = neural.train(train, val, alphabet, seed=0, quiet=True, run_dir=tmp_path, resume=True)
    assert len(resumed.history["val_bits"]) == 2 and "refit_head" not in resumed.history


def test_a_refit_fits_its_output_layer_for_the_rounds_validation_chose(tmp_path, chain_corpus, monkeypatch):
    train, val, alphabet = _data(chain_corpus)
    rounds, original = [], neural.training.fit_head_rounds

    def counted(model, strings, n, **kwargs):
        rounds.append((n, len(strings)))
        return original(model, strings, n, **kwargs)

    monkeypatch.setattr(neural.training, "fit_head_rounds", counted)
    config = TrainConfig(**{**QUICK.__dict__, "refit": True})
    model = neural.train(train, val, alphabet, DROPPED, config, seed=0, quiet=True, run_dir=tmp_path)
    validated = neural.load(tmp_path / "validated")
    assert rounds == [(validated.history["refit_head"]["rounds"], len(train) + len(val))]
    np.testing.assert_array_equal(neural.load(tmp_path).log_probability(val), model.log_probability(val))
    as_trained = torch.load(tmp_path / "refit" / "training.pt", weights_only=False)["best_state_dict"]
    assert not torch.equal(as_trained["head.weight"], model.model.head.weight)  # the layer was fitted


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2), max_size=6), min_size=1, max_size=12))
def test_grouping_the_tokens_by_prefix_keeps_the_loss_of_every_token(strings):
    from neural.head import head_data

    torch.manual_seed(0)
    model = RNNLanguageModel(RNNConfig(hidden_size=5), vocab_size=4).eval()  # symbols 0-2, then $ (3)
    lengths = np.array([len(s) for s in strings])
    codes = np.array([c for s in strings for c in s], dtype=np.int64)
    tokens = head_data(model, Corpus(codes, lengths), eos=3)
    prefixes = {tuple(s[:t]) for s in strings for t in range(len(s) + 1)}
    assert len(tokens.hidden) == len(prefixes) and tokens.tokens == int(lengths.sum()) + len(strings)
    nats = 0.0  # string by string, every token: the loss the grouping must equal
    with torch.no_grad():
        for s in strings:
            inputs = torch.tensor([[3, *s]])
            hidden, _ = model.hidden(inputs)
            nats += torch.nn.functional.cross_entropy(model.head(hidden[0]), torch.tensor([*s, 3]),
                                                      reduction="sum").item()
    expected = nats / tokens.tokens / np.log(2)
    assert tokens.bits(model.head.weight, model.head.bias) == pytest.approx(expected, rel=1e-5)
    loss = tokens.loss(model.head.weight, model.head.bias).item()
    assert loss / np.log(2) == pytest.approx(expected, rel=1e-5)
