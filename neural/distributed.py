"""Processes and devices: this process's place among DistributedDataParallel ranks, and Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

DEVICES = "auto, cpu, cuda or cuda:N"


def resolve_device(device: str) -> torch.device:
    """The torch device ``device`` names ("auto": CUDA when there is one), or ValueError when
    it names no device this machine has.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("tpu")
    Traceback (most recent call last):
    ...
    ValueError: unknown device 'tpu' (expected auto, cpu, cuda or cuda:N)
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        resolved = None
    if resolved is None or resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r} (expected {DEVICES})")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("CUDA is not available on this machine")
    if resolved.type == "cuda" and (resolved.index or 0) >= torch.cuda.device_count():
        raise ValueError(f"no CUDA device {resolved.index}: this machine has "
                         f"{torch.cuda.device_count()}")
    return resolved


@dataclass
class Context:
    """The device, and this process's place among the DistributedDataParallel ranks."""

    device: torch.device
    rank: int = 0
    world_size: int = 1
    owns_group: bool = False

    @classmethod
    def start(cls, device: str) -> Context:
        """Read torchrun's environment; start the process group (gloo on CPU, nccl on CUDA)."""
        resolved = resolve_device(device)
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size <= 1:
            return cls(resolved)
        rank = int(os.environ["RANK"])
        if resolved.type == "cuda":
            resolved = torch.device("cuda", int(os.environ.get("LOCAL_RANK", rank)))
            torch.cuda.set_device(resolved)
        owns = not dist.is_initialized()
        if owns:
            dist.init_process_group("nccl" if resolved.type == "cuda" else "gloo")
        return cls(resolved, rank, world_size, owns)

    @property
    def rng_devices(self) -> list[int]:
        """The CUDA devices whose random state training uses (for ``torch.random.fork_rng``)."""
        return [self.device.index or 0] if self.device.type == "cuda" else []

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """The model, wrapped in DistributedDataParallel when there are several ranks."""
        if self.world_size == 1:
            return model
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def sum(self, values: list[float]) -> list[float]:
        """Sum numbers over all ranks."""
        if self.world_size == 1:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def any(self, flag: bool) -> bool:
        """True on every rank when any rank's flag is set."""
        return bool(self.sum([float(flag)])[0]) if self.world_size > 1 else flag

    def close(self) -> None:
        if self.owns_group:
            dist.destroy_process_group()


class Interrupt:
    """Which stopping signal arrived (None: none yet); the training loop reads it between steps."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def is_set(self) -> bool:
        return self.signum is not None


@contextmanager
def interrupt_flag() -> Iterator[Interrupt]:
    """An :class:`Interrupt` set by Ctrl-C (SIGINT) or SIGTERM, so the loop stops between steps
    and saves; a second signal stops at once (KeyboardInterrupt)."""
    interrupt = Interrupt()
    if threading.current_thread() is not threading.main_thread():
        yield interrupt
        return

    def handler(signum, frame):
        if interrupt.is_set():
            raise KeyboardInterrupt
        interrupt.signum = signum

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield interrupt
    finally:
        for signum, action in previous.items():
            signal.signal(signum, action)
