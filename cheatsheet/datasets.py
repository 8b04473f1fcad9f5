"""Embedded datasets: nothing is downloaded.

- `digits`: scikit-learn's bundled 8x8 handwritten digits (1797 images, 16 grey levels),
  scaled to [0, 1]. `digits-binary` thresholds them at 0.5 for Bernoulli models.
- 2D toy densities: `two-moons`, `eight-gaussians`, `checkerboard`.
- `audio`: synthetic 1D "audio" (sums of decaying sinusoids, mu-law quantised to 256 levels).

Every loader returns a `Split` with `train`, `test` (torch tensors, float32) and optional
labels; the split is fixed by `seed` so a run and its evaluation see the same test set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DATASETS = ("digits", "digits-binary", "two-moons", "eight-gaussians", "checkerboard", "audio")


@dataclass
class Split:
    name: str
    train: Any  # torch.Tensor
    test: Any
    train_labels: Any = None
    test_labels: Any = None
    shape: tuple[int, ...] = ()  # one example's shape, e.g. (1, 8, 8)
    discrete_levels: int | None = None  # 2 for binary data, 256 for mu-law audio, None = continuous


def _split(n: int, seed: int, test_fraction: float):
    import numpy as np

    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    return order[n_test:], order[:n_test]


def digits(seed: int = 0, binary: bool = False, test_fraction: float = 0.2) -> Split:
    import numpy as np
    import torch
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = bunch.images.astype(np.float32) / 16.0  # grey levels 0..16 -> [0, 1]
    if binary:
        images = (images > 0.5).astype(np.float32)
    train_index, test_index = _split(len(images), seed, test_fraction)
    x = torch.from_numpy(images).unsqueeze(1)  # (N, 1, 8, 8)
    y = torch.from_numpy(bunch.target.astype(np.int64))
    return Split(
        name="digits-binary" if binary else "digits",
        train=x[train_index],
        test=x[test_index],
        train_labels=y[train_index],
        test_labels=y[test_index],
        shape=(1, 8, 8),
        discrete_levels=2 if binary else None,
    )


def toy_2d(name: str, n: int = 4000, seed: int = 0, test_fraction: float = 0.2) -> Split:
    import numpy as np
    import torch

    rng = np.random.default_rng(seed)
    if name == "two-moons":
        t = rng.uniform(0, np.pi, n)
        upper = rng.random(n) < 0.5
        x = np.where(upper, np.cos(t), 1 - np.cos(t))
        y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
        points = np.stack([x, y], axis=1) + rng.normal(0, 0.08, (n, 2))
        points = (points - [0.5, 0.25]) * 2.0
    elif name == "eight-gaussians":
        angles = rng.integers(0, 8, n) * (np.pi / 4)
        centres = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        points = centres + rng.normal(0, 0.1, (n, 2))
    elif name == "checkerboard":
        x1 = rng.uniform(-2, 2, n)
        x2 = rng.uniform(0, 1, n) + rng.integers(0, 2, n) * 2 - 2
        x2 = x2 + (np.floor(x1) % 2)
        points = np.stack([x1, x2], axis=1)
    else:
        raise ValueError(f"unknown toy density {name}")
    train_index, test_index = _split(n, seed, test_fraction)
    tensor = torch.from_numpy(points.astype(np.float32))
    return Split(name, tensor[train_index], tensor[test_index], shape=(2,))


def audio(n: int = 512, length: int = 256, seed: int = 0, test_fraction: float = 0.2) -> Split:
    """Decaying sinusoid chords, mu-law quantised to 256 levels (as in WaveNet), as integers."""
    import numpy as np
    import torch

    rng = np.random.default_rng(seed)
    t = np.arange(length) / length
    waves = np.zeros((n, length))
    for _ in range(3):
        frequency = rng.uniform(2, 12, (n, 1))
        phase = rng.uniform(0, 2 * np.pi, (n, 1))
        decay = rng.uniform(0.5, 3.0, (n, 1))
        waves += np.sin(2 * np.pi * frequency * t + phase) * np.exp(-decay * t)
    waves /= np.abs(waves).max(axis=1, keepdims=True) + 1e-8
    mu = 255.0
    companded = np.sign(waves) * np.log1p(mu * np.abs(waves)) / np.log1p(mu)
    levels = np.clip(np.round((companded + 1) / 2 * mu), 0, 255).astype(np.int64)
    train_index, test_index = _split(n, seed, test_fraction)
    tensor = torch.from_numpy(levels).unsqueeze(1)  # (N, 1, length), integer levels 0..255
    return Split(
        "audio", tensor[train_index], tensor[test_index], shape=(1, length), discrete_levels=256
    )


def load(name: str, seed: int = 0) -> Split:
    """Load an embedded dataset by name (see DATASETS)."""
    if name == "digits":
        return digits(seed)
    if name == "digits-binary":
        return digits(seed, binary=True)
    if name in ("two-moons", "eight-gaussians", "checkerboard"):
        return toy_2d(name, seed=seed)
    if name == "audio":
        return audio(seed=seed)
    from cheatsheet.errors import CheatsheetError
    from formulas.core import did_you_mean

    raise CheatsheetError(f"unknown dataset '{name}'{did_you_mean(name, DATASETS)}")
