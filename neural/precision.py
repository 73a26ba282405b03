"""Mixed precision: the autocast of a training step, and whether a device can train in it."""

from __future__ import annotations

import contextlib
from dataclasses import replace

import torch

from neural.model import RNNConfig, RNNLanguageModel


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """The context of a forward pass: bf16 autocast for ``"bf16"``, nothing for ``"fp32"``.

    Examples
    --------
    >>> with autocast("bf16", torch.device("cpu")):
    ...     torch.ones(2, 2).mm(torch.ones(2, 2)).dtype
    torch.bfloat16
    """
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def check_precision(precision: str, device: torch.device, model_config: RNNConfig) -> None:
    """Raise ValueError (one line) where ``precision`` cannot train this kind of model on
    ``device``: a tiny model of the same cell tries one forward and backward pass.

    Examples
    --------
    >>> check_precision("fp32", torch.device("cpu"), RNNConfig())
    >>> check_precision("bf16", torch.device("cpu"), RNNConfig(cell="gru"))
    """
    if precision == "fp32":
        return
    with torch.random.fork_rng(devices=[]):  # the caller's random stream stays as it was
        tiny = RNNLanguageModel(replace(model_config, hidden_size=2, embedding_dim=2), 3).to(device)
    codes = torch.zeros((1, 2), dtype=torch.long, device=device)
    try:
        if device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise RuntimeError(f"{torch.cuda.get_device_name(device)} has no bf16 support")
        with autocast(precision, device):
            _, loss = tiny(codes, codes)
        loss.backward()
    except RuntimeError as error:
        reason = str(error).strip().split(". ")[0].splitlines()[0] if str(error).strip() else "refused"
        raise ValueError(f"precision {precision} cannot train the {model_config.cell} cell on "
                         f"{device.type} with torch {torch.__version__} ({reason}); use fp32") from None
