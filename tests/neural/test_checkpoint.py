"""Checkpoints: identical after a round trip; crafted, corrupt, foreign and missing files refused."""

import os
import pickle
import random
import stat

import numpy as np
import pytest
import torch

import neural
from neural import CheckpointError, RNNConfig, TrainedModel
from neural.checkpoint import FORMAT, FORMAT_VERSION, one_line


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


def _one_line_error(path, err: CheckpointError) -> str:
    text = str(err)
    assert "\n" not in text and text.startswith(f"{path}: ") and len(text) < 250, text
    return text


def test_garbage_of_every_kind_is_one_short_checkpoint_error(tmp_path, model):
    """torch.load raises IndexError, KeyError, OSError, EOFError, RuntimeError ... on garbage:
    each must come out as one CheckpointError line naming the file."""
    model.save(tmp_path / "m.pt")
    good = (tmp_path / "m.pt").read_bytes()
    rng = random.Random(0)
    contents = [b"\x87\x1c\x15b" + bytes(100), b"hello\n", bytes(1000), good[:1000],
                good[:-10], good[: len(good) // 2], b"PK\x03\x04" + bytes(50)]
    contents += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
                 for _ in range(40)]
    contents += [good[:i] + bytes([good[i] ^ 0xFF]) + good[i + 1:]
                 for i in rng.sample(range(len(good)), 20)]
    path = tmp_path / "bad.pt"
    for content in contents:
        path.write_bytes(content)
        try:
            neural.load(path)
        except CheckpointError as err:
            _one_line_error(path, err)
        # a flipped byte in a tensor's data can leave a loadable file: that is fine


def test_a_truncated_file_is_one_short_line(tmp_path, model):
    model.save(tmp_path / "m.pt")
    (tmp_path / "cut.pt").write_bytes((tmp_path / "m.pt").read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="not a readable checkpoint") as err:
        neural.load(tmp_path / "cut.pt")
    assert "miniz" not in _one_line_error(tmp_path / "cut.pt", err.value)


def test_weights_that_do_not_fit_the_alphabet_are_one_line(tmp_path, model):
    payload = {**model.payload(), "alphabet": ["x"]}
    torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, **payload},
               tmp_path / "m.pt")
    with pytest.raises(CheckpointError) as err:
        neural.load(tmp_path / "m.pt")
    text = _one_line_error(tmp_path / "m.pt", err.value)
    assert "alphabet of 1 symbols" in text and "expected (20, 2)" in text  # 4 gates × 5, 1 + $


def test_missing_weights_are_named(tmp_path, model):
    payload = model.payload()
    payload["state_dict"] = dict(list(payload["state_dict"].items())[1:])
    torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, **payload},
               tmp_path / "m.pt")
    with pytest.raises(CheckpointError, match="no weights") as err:
        neural.load(tmp_path / "m.pt")
    _one_line_error(tmp_path / "m.pt", err.value)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_get_the_usual_permissions(tmp_path, model, umask):
    before = os.umask(umask)
    try:
        model.save(tmp_path / "m.pt")
    finally:
        os.umask(before)
    assert stat.S_IMODE((tmp_path / "m.pt").stat().st_mode) == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]  # no temporary left


def test_a_replaced_file_keeps_its_permissions(tmp_path, model):
    path = tmp_path / "m.pt"
    path.write_bytes(b"old")
    path.chmod(0o640)
    model.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert neural.load(path).alphabet == model.alphabet


def test_one_line_keeps_the_first_sentence():
    long = RuntimeError("PytorchStreamReader failed. This is an internal miniz error.\nMore")
    assert one_line(long) == "PytorchStreamReader failed"
    cut = one_line(KeyError("x" * 500))
    assert cut.endswith("…") and len(cut) == 120
    assert one_line(EOFError()) == "EOFError"


def test_devices_are_checked_before_use():
    assert neural.resolve_device("cpu") == torch.device("cpu")
    assert neural.resolve_device("auto").type in ("cpu", "cuda")
    for name in ("foo", "", "meta", "cpu:x"):
        with pytest.raises(ValueError, match="unknown device"):
            neural.resolve_device(name)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            neural.resolve_device("cuda:0")
