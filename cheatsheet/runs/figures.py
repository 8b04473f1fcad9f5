"""Shared plotting for runs (matplotlib, Agg backend, imported lazily): loss curve, image grid,
2D scatter. Every experiment's `save_figures` can use these so all runs look alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_loss_curve(losses: list[float], path: Path, title: str = "training loss") -> Path:
    """Per-step loss (faint) and its moving average (bold) against the step."""
    import numpy as np

    plt = _pyplot()
    values = np.asarray(losses, dtype=np.float64)
    figure, axis = plt.subplots(figsize=(6, 3.5), dpi=100)
    if values.size:
        steps = np.arange(1, values.size + 1)
        axis.plot(steps, values, color="tab:blue", alpha=0.3, linewidth=0.8, label="per step")
        window = max(1, values.size // 50)
        if window > 1:
            kernel = np.ones(window) / window
            smooth = np.convolve(values, kernel, mode="valid")
            axis.plot(steps[window - 1 :], smooth, color="tab:blue", label=f"mean of {window}")
        finite = values[np.isfinite(values)]
        if finite.size and finite.min() > 0 and finite.max() / finite.min() > 50:
            axis.set_yscale("log")  # losses that fall by orders of magnitude
        axis.legend(loc="upper right", fontsize=8)
    axis.set_xlabel("step")
    axis.set_ylabel("loss")
    axis.set_title(title)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path)
    plt.close(figure)
    return path


def save_image_grid(
    images: Any, path: Path, title: str = "", nrow: int | None = None, cmap: str = "gray"
) -> Path:
    """Images (N, C, H, W) with values in [0, 1] as one grid (C = 1 grey, C = 3 colour)."""
    import math

    import numpy as np

    plt = _pyplot()
    array = (
        images.detach().float().cpu().clamp(0, 1).numpy() if hasattr(images, "detach") else images
    )
    array = np.asarray(array, dtype=np.float32)
    n, channels, height, width = array.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    ncol = math.ceil(n / nrow)
    pad = 1
    grid = np.ones((ncol * (height + pad) + pad, nrow * (width + pad) + pad, channels))
    for index in range(n):
        row, col = divmod(index, nrow)
        top, left = pad + row * (height + pad), pad + col * (width + pad)
        grid[top : top + height, left : left + width] = array[index].transpose(1, 2, 0)
    # At least 8 inches (800 px) wide so a grid of a few renders is not a thumbnail; the height
    # follows the grid's aspect, plus room for a title of up to three lines.
    width = max(8.0, nrow * 0.8)
    title_room = 0.3 + 0.25 * title.count("\n") if title else 0.1
    figsize = (width, width * grid.shape[0] / grid.shape[1] + title_room)
    figure, axis = plt.subplots(figsize=figsize, dpi=100)
    if channels == 1:
        axis.imshow(grid[..., 0], cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    else:
        axis.imshow(grid, interpolation="nearest")
    axis.set_axis_off()
    if title:
        axis.set_title(title, fontsize=12)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path)
    plt.close(figure)
    return path


def save_scatter(points: Any, path: Path, reference: Any = None, title: str = "") -> Path:
    """2D samples (and optionally the data they imitate, in grey) as a scatter plot."""
    import numpy as np

    plt = _pyplot()

    def as_array(value):
        return np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)

    figure, axis = plt.subplots(figsize=(4, 4), dpi=100)
    if reference is not None:
        ref = as_array(reference)
        axis.scatter(ref[:, 0], ref[:, 1], s=2, color="0.7", label="data")
    pts = as_array(points)
    axis.scatter(pts[:, 0], pts[:, 1], s=2, color="tab:red", label="samples")
    axis.set_aspect("equal")
    axis.legend(loc="upper right", fontsize=8, markerscale=4)
    if title:
        axis.set_title(title, fontsize=9)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path)
    plt.close(figure)
    return path
