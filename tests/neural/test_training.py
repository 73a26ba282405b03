"""Training: it learns, it resumes exactly, it refuses bad corpora, it runs under DDP."""

import json
import math
import os
import re
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from conftest import ALPHABET, chain_log2prob
from interrupting import interrupt_at_first_epoch

import neural
import neural.training
from neural import CheckpointError, CorpusError, RNNConfig, TrainConfig, TrainingInterrupted

TINY = RNNConfig(cell="gru", hidden_size=8, dropout=0.2, num_layers=2)


def _bits_per_symbol(model, strings) -> float:
    tokens = sum(len(s) + 1 for s in strings)
    return float(-model.log_probability(strings).sum() / math.log(2) / tokens)


@pytest.mark.slow
def test_lstm_learns_the_markov_chain(chain_corpus):
    model = neural.train(
        chain_corpus["train"], chain_corpus["val"], ALPHABET,
        RNNConfig(cell="lstm", hidden_size=16),
        TrainConfig(epochs=10, lr=0.005, batch_size=32, patience=None),
        seed=0, quiet=True,
    )
    test = chain_corpus["test"]
    entropy = -sum(chain_log2prob(s) for s in test) / sum(len(s) + 1 for s in test)
    assert _bits_per_symbol(model, test) - entropy < 0.02
    assert model.history["train_bits"][-1] < model.history["train_bits"][0]


def test_truncated_bptt_on_one_stream():
    text = tuple("abcabcabcabc" * 40)
    model = neural.train(
        [text], [text[:60]], ("a", "b", "c"), RNNConfig(hidden_size=16, dropout=0, weight_dropout=0),
        TrainConfig(epochs=6, bptt=20, batch_size=4, lr=0.02, schedule="constant", patience=None),
        seed=0, quiet=True,
    )
    bits = model.history["val_bits"]
    assert bits[-1] < 0.5 * bits[0]
    assert model.next_symbol_distribution([("a", "b")])[0, 2] > 0.8


def _interrupt_after(monkeypatch, calls: int) -> None:
    original, count = neural.training._train_step, [0]

    def step(*args, **kwargs):
        count[0] += 1
        if count[0] == calls:
            os.kill(os.getpid(), signal.SIGINT)  # the handler only sets a flag
        return original(*args, **kwargs)

    monkeypatch.setattr(neural.training, "_train_step", step)


@pytest.mark.parametrize("bptt", [None, 7])
def test_resume_equals_uninterrupted(tmp_path, chain_corpus, monkeypatch, bptt):
    data = (chain_corpus["train"][:150], chain_corpus["val"][:30], ALPHABET)
    config = TrainConfig(epochs=3, batch_size=16, bptt=bptt, patience=None, schedule="cosine")
    straight = neural.train(*data, TINY, config, seed=3, quiet=True, run_dir=tmp_path / "a")
    _interrupt_after(monkeypatch, calls=13)
    with pytest.raises(TrainingInterrupted):
        neural.train(*data, TINY, config, seed=3, quiet=True, run_dir=tmp_path / "b")
    assert (tmp_path / "b" / "training.pt").exists()
    monkeypatch.undo()
    resumed = neural.train(*data, seed=3, quiet=True, run_dir=tmp_path / "b", resume=True)
    for key, value in straight.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[key], value, rtol=0, atol=1e-6)
    assert resumed.history["step_bits"] == pytest.approx(straight.history["step_bits"], abs=1e-6)
    last = [torch.load(tmp_path / d / "training.pt", weights_only=True)["state_dict"]
            for d in "ab"]
    for key in last[0]:
        torch.testing.assert_close(last[1][key], last[0][key], rtol=0, atol=1e-6)


def test_resume_refuses_other_data_or_config(tmp_path, chain_corpus):
    data = (chain_corpus["train"][:40], chain_corpus["val"][:10], ALPHABET)
    config = TrainConfig(epochs=1, batch_size=16)
    neural.train(*data, TINY, config, seed=0, quiet=True, run_dir=tmp_path)
    with pytest.raises(FileExistsError, match="--resume"):
        neural.train(*data, TINY, config, seed=0, quiet=True, run_dir=tmp_path)
    with pytest.raises(CheckpointError, match="training data differs"):
        neural.train(chain_corpus["train"][:41], *data[1:], seed=0, quiet=True,
                     run_dir=tmp_path, resume=True)
    with pytest.raises(CheckpointError, match="the seed differs .checkpoint: 0; given: 1."):
        neural.train(*data, seed=1, quiet=True, run_dir=tmp_path, resume=True)
    with pytest.raises(CheckpointError, match="the alphabet differs .checkpoint: A B E; given: A B E Z."):
        neural.train(*data[:2], (*ALPHABET, "Z"), seed=0, quiet=True, run_dir=tmp_path, resume=True)
    with pytest.raises(CheckpointError, match="hidden_size: 8 → 9"):
        neural.train(*data, RNNConfig(cell="gru", hidden_size=9, dropout=0.2, num_layers=2),
                     seed=0, quiet=True, run_dir=tmp_path, resume=True)


def test_early_stopping_keeps_the_best_model(tmp_path, chain_corpus):
    model = neural.train(
        chain_corpus["train"][:200], chain_corpus["val"][:50], ALPHABET,
        RNNConfig(hidden_size=8), TrainConfig(epochs=30, lr=0.3, patience=2, batch_size=8, refit_head=False),
        seed=0, quiet=True, run_dir=tmp_path,
    )
    history = model.history
    assert len(history["val_bits"]) < 30
    best = history["best_epoch"]
    assert history["val_bits"][best] == min(history["val_bits"])
    assert _bits_per_symbol(model, chain_corpus["val"][:50]) == pytest.approx(
        history["val_bits"][best], abs=1e-4
    )
    assert len(history["grad_norm"]) == len(history["step_bits"]) > 0


@pytest.mark.parametrize(
    "train_strings, val_strings, message",
    [
        ([("A", "X")], [], r"training corpus: unknown symbol 'X' on line 1"),
        ([("A",), ("B",)], [("A",), ("A", "Q")], r"validation corpus: unknown symbol 'Q' on line 2"),
        ([], [("A",)], "training corpus is empty"),
    ],
)
def test_bad_corpus(train_strings, val_strings, message):
    with pytest.raises(CorpusError, match=message):
        neural.train(train_strings, val_strings, ALPHABET, seed=0, quiet=True)


@pytest.mark.parametrize("alphabet", [(), ("a", ""), ("a", "a")])
def test_bad_alphabet(alphabet):
    with pytest.raises(CorpusError):
        neural.train([("a",)], [], alphabet, seed=0, quiet=True)


@pytest.mark.slow
def test_ddp_with_two_gloo_processes(tmp_path):
    script = tmp_path / "ddp_train.py"
    script.write_text(textwrap.dedent(f"""
        import torch
        import neural
        torch.set_num_threads(1)
        strings = [tuple("ab" * (i % 5 + 1)) for i in range(64)]
        neural.train(strings, strings[:8], ("a", "b"), neural.RNNConfig(hidden_size=8),
                     neural.TrainConfig(epochs=2, batch_size=8), seed=0, quiet=True,
                     run_dir={str(tmp_path / "run")!r})
    """))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.getcwd()}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         str(script)],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    model = neural.load(tmp_path / "run")
    assert len(model.history["val_bits"]) == 2
    assert "refit_head" in model.history  # each process fitted its output layer again, rank 0's saved
    assert np.allclose(model.next_symbol_distribution([()]).sum(), 1)


def test_a_checkpoint_of_the_old_layout_resumes(tmp_path, chain_corpus, capsys):
    """Checkpoints written before progress became a record (with a ``scheduler`` key and a
    progress dict) resume; a progress field this version does not know is one clear line."""
    data = (chain_corpus["train"][:40], chain_corpus["val"][:10], ALPHABET)
    neural.train(*data, TINY, TrainConfig(epochs=1, batch_size=16), seed=0, quiet=True,
                 run_dir=tmp_path)
    path = tmp_path / "training.pt"
    saved = torch.load(path, weights_only=True)
    assert "scheduler" not in saved and saved["progress"]["epoch"] == 1
    old = {**saved, "scheduler": {"lr_scale": 1.0},
           "progress": {**saved["progress"], "finished": False},
           "train_config": {**saved["train_config"], "epochs": 2}}
    torch.save(old, path)
    resumed = neural.train(*data, seed=0, quiet=False, run_dir=tmp_path, resume=True)
    assert len(resumed.history["val_bits"]) == 2
    assert "resuming at epoch 2\n" in capsys.readouterr().err  # it says from where
    torch.save({**old, "progress": {**old["progress"], "speed": 1}}, path)
    with pytest.raises(CheckpointError, match="corrupt checkpoint .unknown progress field speed"):
        neural.train(*data, seed=0, quiet=True, run_dir=tmp_path, resume=True)


class _Killed(BaseException):
    """A kill: nothing after it runs (no except clause of the code catches it)."""


def test_a_kill_between_the_checkpoint_writes_leaves_a_run_that_resumes_consistent(
        tmp_path, chain_corpus, monkeypatch):
    """Killed after training.pt of the last epoch and before model.pt and history.json: the
    resumed run rewrites both from training.pt (and drops the killed writes' temporaries)."""
    data = (chain_corpus["train"][:60], chain_corpus["val"][:20], ALPHABET)
    config = TrainConfig(epochs=2, batch_size=16, lr=0.02, patience=None)
    straight = neural.train(*data, TINY, config, seed=1, quiet=True, run_dir=tmp_path / "a")
    original = neural.session.save_checkpoint

    def save(path, payload):
        if path.name == "model.pt" and len(payload["history"]["val_bits"]) == 2:
            raise _Killed
        original(path, payload)

    monkeypatch.setattr(neural.session, "save_checkpoint", save)
    run = tmp_path / "b"
    with pytest.raises(_Killed):
        neural.train(*data, TINY, config, seed=1, quiet=True, run_dir=run)
    monkeypatch.undo()
    assert len(neural.load(run).history["val_bits"]) == 1  # stale: the kill's damage
    (run / ".model.pt.k1ll3d_x.tmp").write_bytes(b"half a model")
    resumed = neural.train(*data, seed=1, quiet=True, run_dir=run, resume=True)
    saved = neural.load(run)
    history = json.loads((run / "history.json").read_text())
    assert saved.history == resumed.history
    assert saved.history["val_bits"] == history["val_bits"] == straight.history["val_bits"]
    assert history["progress"]["finished"]
    for key, value in straight.model.state_dict().items():
        torch.testing.assert_close(saved.model.state_dict()[key], value, rtol=0, atol=1e-6)
    assert not list(run.glob(".*.tmp"))


@pytest.mark.slow
def test_sigterm_saves_and_exits_143(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("ab\naab\nb\n\nabb\n" * 40)
    out = tmp_path / "run"
    command = [sys.executable, "-m", "automimic", "train", "--data", str(corpus), "--out",
               str(out), "--hidden", "4", "--epochs", "400", "--patience", "400",
               "--batch-size", "8"]
    code, output = interrupt_at_first_epoch(command, signal.SIGTERM)
    assert code == 143, output
    assert "Traceback" not in output and f"saved in {out}: continue with --resume" in output
    progress = json.loads((out / "history.json").read_text())["progress"]
    assert progress["epoch"] >= 1 and not progress["finished"]
    assert (out / "training.pt").exists() and not list(out.glob(".*.tmp"))


def test_a_non_finite_loss_stops_training_and_keeps_the_last_finite_checkpoint(
        tmp_path, chain_corpus, monkeypatch):
    data = (chain_corpus["train"][:48], chain_corpus["val"][:10], ALPHABET)
    original, calls = neural.training._train_step, [0]

    def step(*args):  # epoch 1 has 3 steps: the 5th is in epoch 2
        calls[0] += 1
        loss, norm = original(*args)
        return (math.nan if calls[0] == 5 else loss), norm

    monkeypatch.setattr(neural.training, "_train_step", step)
    line = (r"^training diverged in epoch 2: the loss is nan and the gradient norm \S+ at step 2 "
            r"\(try a smaller learning rate or gradient clipping\); the last finite checkpoint "
            rf"is kept in {re.escape(str(tmp_path))}$")
    with pytest.raises(neural.TrainingDiverged, match=line):
        neural.train(*data, TINY, TrainConfig(epochs=3, batch_size=16), seed=0, quiet=True,
                     run_dir=tmp_path)
    progress = torch.load(tmp_path / "training.pt", weights_only=True)["progress"]
    assert (progress["epoch"], progress["step"]) == (1, 0)
    history = neural.load(tmp_path).history
    assert len(history["val_bits"]) == 1 and math.isfinite(history["val_bits"][0])
    assert all(map(math.isfinite, history["step_bits"]))


def test_bf16_precision_autocasts_the_training_steps():
    # where the CPU trains the cell in bf16 (GRU: yes), the steps differ from fp32 ones
    strings, alphabet = [tuple("abcab"), tuple("cab")] * 8, ("a", "b", "c")
    runs = {precision: neural.train(strings, [], alphabet, RNNConfig(cell="gru", hidden_size=8),
                                    TrainConfig(epochs=1, batch_size=4, precision=precision),
                                    seed=0, quiet=True, device="cpu")
            for precision in ("fp32", "bf16")}
    fp32, bf16 = (runs[p].history["step_bits"] for p in ("fp32", "bf16"))
    assert len(fp32) == len(bf16) and fp32 != bf16
    assert bf16 == pytest.approx(fp32, abs=0.05)
    with pytest.raises(ValueError, match="precision must be one of fp32, bf16, got 'fp16'"):
        TrainConfig(precision="fp16")


def test_a_steps_loss_is_read_only_after_the_next_step_is_queued(chain_corpus, monkeypatch):
    # reading a loss waits for a GPU; read at once, the GPU would idle while Python prepares a step
    original, events = neural.training._train_step, []

    class Logged:
        def __init__(self, loss, step):
            self.loss, self.step = loss, step

        def __float__(self):
            events.append(("read", self.step))
            return float(self.loss)

    def step(*args):
        events.append(("step", len([e for e in events if e[0] == "step"]) + 1))
        loss, norm = original(*args)
        return Logged(loss, events[-1][1]), norm

    monkeypatch.setattr(neural.training, "_train_step", step)
    model = neural.train(chain_corpus["train"][:48], [], ALPHABET, TINY, TrainConfig(epochs=1, batch_size=16),
                         seed=0, quiet=True)
    assert events == [("step", 1), ("step", 2), ("read", 1), ("step", 3), ("read", 2), ("read", 3)]
    assert len(model.history["step_bits"]) == 3
