"""The training display: a rich progress bar and one summary line per epoch, on stderr."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from neural.progress import Progress as RunProgress


class Bar:
    """The progress bar and the per-epoch summary lines; silent when quiet."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.task = None
        self.last = 0.0

    def start_epoch(self, epoch: int, epochs: int, total: int, done: int) -> None:
        if self.progress is None:
            return
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(f"epoch {epoch + 1}/{epochs}", total=total, completed=done, info="")

    def advance(self, progress: RunProgress, world_size: int) -> None:
        if self.progress is None:
            return
        now = time.perf_counter()
        if now - self.last < 0.1:  # formatting every step would cost more than a tiny model
            self.progress.advance(self.task)
            return
        self.last = now
        speed = progress.tokens * world_size / max(progress.seconds, 1e-9)
        info = f"{progress.train_bits():.3f} bits/symbol  {speed / 1000:.1f}k tokens/s"
        self.progress.update(self.task, advance=1, info=info)

    def end_epoch(self, history: dict[str, list[float]], epoch: int, epochs: int) -> None:
        self.message(
            f"epoch {epoch + 1}/{epochs}  train {history['train_bits'][-1]:.4f}  "
            f"val {history['val_bits'][-1]:.4f} bits/symbol  "
            f"{history['tokens_per_s'][-1] / 1000:.1f}k tokens/s  "
            f"grad norm {history['grad_norm'][-1]:.2f}"
        )

    def message(self, text: str) -> None:
        if self.progress is not None:
            self.progress.console.print(text)


@contextmanager
def progress_bar(quiet: bool) -> Iterator[Bar]:
    """A live progress bar on stderr (removed when done), or a silent one."""
    if quiet:
        yield Bar(None)
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        yield Bar(progress)
