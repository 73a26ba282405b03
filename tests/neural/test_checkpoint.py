"""Checkpoints: identical after a round trip; crafted, corrupt, foreign and missing files refused."""

import pickle

import numpy as np
import pytest
import torch

import neural
from neural import CheckpointError, RNNConfig, TrainedModel
from neural.checkpoint import FORMAT, FORMAT_VERSION


@pytest.fixture
def model():
    return TrainedModel.untrained(("x", "y", "z"), RNNConfig(cell="lstm", hidden_size=5), seed=0)


def test_save_load_gives_identical_outputs(tmp_path, model):
    model.save(tmp_path / "m.pt")
    loaded = neural.load(tmp_path / "m.pt")
    strings = ["", "x", "xyz", "zzzy"]
    assert loaded.alphabet == model.alphabet and loaded.config == model.config
    np.testing.assert_array_equal(loaded.log_probability(strings), model.log_probability(strings))
    assert loaded.sample(5, seed=1) == model.sample(5, seed=1)


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_crafted_checkpoint_is_refused(tmp_path, model):
    marker = tmp_path / "pwned"
    payload = {**model.payload(), "format": FORMAT, "format_version": FORMAT_VERSION,
               "history": {"evil": _RunsCode(marker)}}
    torch.save(payload, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="refused to load"):
        neural.load(tmp_path / "evil.pt")
    assert not marker.exists()
    torch.load(tmp_path / "evil.pt", weights_only=False)  # a plain load would run the code
    assert marker.exists()


def test_other_format_version_is_refused(tmp_path, model):
    payload = {**model.payload(), "format": FORMAT, "format_version": FORMAT_VERSION + 1}
    torch.save(payload, tmp_path / "new.pt")
    with pytest.raises(CheckpointError, match="format version 2"):
        neural.load(tmp_path / "new.pt")


@pytest.mark.parametrize(
    "content, message",
    [(b"", "not a readable checkpoint"), (b"garbage" * 10, "not a readable checkpoint"),
     (pickle.dumps({"a": 1}, protocol=2), "not a readable checkpoint|not an automimic")],
)
def test_corrupt_file_is_refused(tmp_path, content, message):
    (tmp_path / "bad.pt").write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        neural.load(tmp_path / "bad.pt")


def test_truncated_and_missing(tmp_path, model):
    model.save(tmp_path / "m.pt")
    data = (tmp_path / "m.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError):
        neural.load(tmp_path / "cut.pt")
    with pytest.raises(CheckpointError, match="not found"):
        neural.load(tmp_path / "nothing.pt")
    with pytest.raises(CheckpointError, match="not found"):
        neural.load(tmp_path)  # a folder without model.pt


def test_wrong_weights_are_refused(tmp_path, model):
    payload = {**model.payload(), "model_config": {**model.payload()["model_config"],
                                                   "hidden_size": 6}}
    torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, **payload},
               tmp_path / "m.pt")
    with pytest.raises(CheckpointError, match="corrupt"):
        neural.load(tmp_path / "m.pt")
