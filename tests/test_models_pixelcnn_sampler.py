"""The raster sampler of PixelCNN, Gated PixelCNN and PixelRNN, which feeds the model only the
rows drawn so far, against the textbook sampler that runs the whole image for every pixel.

Oracles: the whole-image forward pass (the logits of row r must not change when the rows
below are cut off) and a reference sampler written here, run on the same random stream.
"""

from __future__ import annotations

import pytest
import torch

from cheatsheet.models.pixelcnn import GatedPixelCNN, PixelCNN
from cheatsheet.models.pixelrnn import PixelRNN

HEIGHT, WIDTH = 6, 5
MODELS = {
    "pixelcnn": lambda c: PixelCNN(c, HEIGHT, WIDTH, features=12, blocks=2, first_kernel=5),
    "gated-pixelcnn": lambda c: GatedPixelCNN(c, HEIGHT, WIDTH, features=12, layers=3),
    "pixelrnn": lambda c: PixelRNN(c, HEIGHT, WIDTH, features=12, layers=2, first_kernel=5),
}


def randomised(model: torch.nn.Module) -> torch.nn.Module:
    """Weights large enough that the conditionals are far from 1/2 and differ per pixel."""
    torch.manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.3)
    return model.double().eval()


@torch.no_grad()
def whole_image_sample(model, n: int) -> torch.Tensor:
    """Van den Oord et al.'s sampler as written: every conditional from the full image."""
    x = torch.zeros(n, model.channels, model.height, model.width, dtype=torch.float64)
    for row in range(model.height):
        for col in range(model.width):
            for colour in range(model.channels):
                probability = torch.sigmoid(model.logits(x)[:, colour, row, col])
                x[:, colour, row, col] = torch.bernoulli(probability)
    return x


@pytest.mark.parametrize("channels", [1, 3], ids=["grey", "rgb"])
@pytest.mark.parametrize("name", MODELS)
def test_rows_below_do_not_change_the_logits_of_a_row(name, channels):
    model = randomised(MODELS[name](channels))
    x = torch.bernoulli(torch.full((4, channels, HEIGHT, WIDTH), 0.4, dtype=torch.float64))
    full = model.logits(x)
    for row in range(HEIGHT):
        cropped = model.logits(x[:, :, : row + 1])
        torch.testing.assert_close(cropped[:, :, row], full[:, :, row], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("channels", [1, 3], ids=["grey", "rgb"])
@pytest.mark.parametrize("name", MODELS)
def test_sampler_draws_what_the_whole_image_sampler_draws(name, channels):
    model = randomised(MODELS[name](channels))
    torch.manual_seed(7)
    samples = model.sample(64)
    torch.manual_seed(7)
    reference = whole_image_sample(model, 64)
    assert torch.equal(samples, reference)
    # not vacuous: most pixels vary between samples (draws from probabilities, no threshold)
    assert (samples.std(0) > 0).float().mean() > 0.5
