"""Loading a saved language model: one network or an ensemble, from a file or a run folder."""

from __future__ import annotations

import os

from neural.checkpoint import load_checkpoint, resolve_model_path
from neural.ensemble import Ensemble
from neural.trained import TrainedModel


def load(path: str | os.PathLike, *, device: str = "cpu") -> TrainedModel | Ensemble:
    """Load a trained model (or ensemble) from a ``.pt`` file or a run folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from neural.model import RNNConfig
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.pt"
    >>> TrainedModel.untrained("ab", RNNConfig(hidden_size=4), seed=0).save(path)
    >>> load(path).config.hidden_size
    4
    """
    path = resolve_model_path(path)
    payload = load_checkpoint(path, kind=("model", "ensemble"))
    if payload["kind"] == "ensemble":
        return Ensemble.from_payload(payload, path=path).to(device)
    return TrainedModel.from_payload(payload, path=path).to(device)
