"""The one progress bar: a rich bar with the step count, the loss, it/s and the ETA.

It draws on stderr, so `--json` output on stdout stays a single clean document, and only on
rank 0 under DDP (other ranks pass `enabled=False`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StepBar:
    """Handle returned by `step_bar`: call `advance(loss=...)` once per step."""

    progress: Any = None
    task: Any = None
    smoothing: float = 0.9
    loss_ema: float | None = None
    extras: dict[str, float] = field(default_factory=dict)
    start: int = 0  # the step the bar started at (a resumed run)

    def advance(self, loss: float | None = None, **extras: float) -> None:
        if loss is not None and math.isfinite(loss):
            # An exponential moving average: the raw per-batch loss flickers too much to read.
            if self.loss_ema is None:
                self.loss_ema = loss
            else:
                self.loss_ema = self.smoothing * self.loss_ema + (1 - self.smoothing) * loss
        self.extras.update(extras)
        if self.progress is not None:
            self.progress.update(self.task, advance=1, loss=self._loss_text())

    def finish(self, reason: str) -> None:
        """An early stop: the bar ends at the steps done (total = completed, so it reads
        N/N at 100%) and says why, e.g. "stopped: solved at step 50555 (budget 80000)"."""
        if self.progress is None:
            return
        task = self.progress.tasks[self.progress.task_ids.index(self.task)]
        budget = int(task.total or 0)
        done = int(task.completed)
        self.progress.update(
            self.task,
            total=done,
            loss=f"{self._loss_text()}  stopped: {reason} (budget {budget})".strip(),
        )
        if task.elapsed:  # a new total resets rich's rate: show the mean rate of the steps done
            task.finished_speed = (done - self.start) / task.elapsed

    def _loss_text(self) -> str:
        return "" if self.loss_ema is None else f"loss {self.loss_ema:.4g}"


@contextmanager
def step_bar(
    total: int, description: str = "training", start: int = 0, enabled: bool = True
) -> Iterator[StepBar]:
    """A progress bar over steps `start..total`; a no-op handle when `enabled` is False."""
    if not enabled:
        yield StepBar()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    class RateColumn(TextColumn):
        """Iterations per second, from rich's own speed estimate."""

        def __init__(self) -> None:
            super().__init__("")

        def render(self, task):  # type: ignore[override]
            from rich.text import Text

            speed = task.finished_speed or task.speed
            return Text("? it/s" if speed is None else f"{speed:.1f} it/s", style="cyan")

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[loss]}"),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    with progress:
        task = progress.add_task(description, total=total, completed=start, loss="")
        yield StepBar(progress=progress, task=task, start=start)


@dataclass
class TimeBar:
    """Handle returned by `time_bar`: call `update(elapsed_s, steps, loss)` as work goes on."""

    progress: Any = None
    task: Any = None

    def update(self, elapsed_s: float, steps: int, loss: float | None = None) -> None:
        if self.progress is not None:
            text = f"step {steps}" + ("" if loss is None else f"  loss {loss:.4g}")
            self.progress.update(self.task, completed=elapsed_s, loss=text)

    def finish(self, elapsed_s: float, reason: str = "") -> None:
        """The work ended before the budget (early stopping, or a model with nothing to train):
        the bar ends at the seconds actually used and says why, instead of reading budget/budget."""
        if self.progress is not None:
            task = self.progress.tasks[self.progress.task_ids.index(self.task)]
            text = str(task.fields.get("loss", "")) + (f"  stopped: {reason}" if reason else "")
            self.progress.update(self.task, total=elapsed_s, completed=elapsed_s, loss=text)


@contextmanager
def time_bar(budget_s: float, description: str, enabled: bool = True) -> Iterator[TimeBar]:
    """The same bar over a wall-clock budget (the density bench trains each model for
    `budget_s` seconds): seconds done, steps and loss, ETA."""
    if not enabled:
        yield TimeBar()
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
        TextColumn("{task.fields[loss]}"),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    with progress:
        task = progress.add_task(description, total=budget_s, loss="")
        yield TimeBar(progress=progress, task=task)
