"""NADE against the definition, computed the slow way (Larochelle & Murray 2011, eq. 1-3):

    p(x) = prod_k p(x_o(k) | x_o(<k)),  h_k = sigmoid(b + W[:, o(<k)] x_o(<k)),
    p(x_o(k) = 1 | x_o(<k)) = sigmoid(c_o(k) + V[o(k)] . h_k)

one conditional at a time, each with its own matrix-vector product over the pixels before it
(O(D^2 H), no running sum, no cumulative sum). The model's one-pass O(DH) form must give the
same log-likelihood and the same gradients, on 28x28 images too.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cheatsheet.models.nade import NADE, NADEExperiment


def naive_log_likelihood(x, W, b, V, c, order):
    """numpy, float64: sum over k of log p(x_o(k) | x_o(<k)), a fresh sum per conditional."""
    total = np.zeros(len(x))
    for k, d in enumerate(order):
        before = order[:k]
        h = 1 / (1 + np.exp(-(b + x[:, before] @ W[:, before].T)))  # (B, H)
        logit = c[d] + h @ V[d]
        p_one = 1 / (1 + np.exp(-logit))
        total += np.where(x[:, d] == 1, np.log(p_one), np.log1p(-p_one))
    return total


def randomised(dims, hidden, order, seed):
    model = NADE(dims, hidden, order=order, seed=seed).double()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=torch.float64))
    return model


def as_numpy(model):
    return [getattr(model, name).detach().numpy() for name in ("W", "b", "V", "c")]


@pytest.mark.parametrize(
    ("dims", "hidden", "order"), [(9, 4, "raster"), (13, 6, "random"), (784, 3, "random")]
)
def test_log_likelihood_equals_the_per_dimension_loop(dims, hidden, order):
    model = randomised(dims, hidden, order, seed=dims)
    x = torch.bernoulli(torch.full((7, dims), 0.3, dtype=torch.float64))
    expected = naive_log_likelihood(
        x.numpy(), *as_numpy(model), model.permutation.tolist()
    )  # fmt: skip
    np.testing.assert_allclose(model(x).detach().numpy(), expected, rtol=1e-10, atol=1e-9)


def test_gradients_equal_those_of_the_per_dimension_loop():
    """Autograd through the cumulative sum (the paper's O(DH) backward) against autograd
    through the loop."""
    model = randomised(11, 5, "random", seed=3)
    x = torch.bernoulli(torch.full((6, 11), 0.4, dtype=torch.float64))
    model(x).sum().backward()
    fast = [p.grad.clone() for p in (model.W, model.b, model.V, model.c)]
    W, b, V, c = (p.detach().clone().requires_grad_() for p in (model.W, model.b, model.V, model.c))
    total = x.new_zeros(len(x))
    order = model.permutation.tolist()
    for k, d in enumerate(order):
        h = torch.sigmoid(b + x[:, order[:k]] @ W[:, order[:k]].T)
        logit = c[d] + h @ V[d]
        total = total - torch.nn.functional.binary_cross_entropy_with_logits(
            logit, x[:, d], reduction="none"
        )
    total.sum().backward()
    for got, want in zip(fast, (W.grad, b.grad, V.grad, c.grad)):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


def test_chunked_scoring_equals_one_pass():
    """The experiment scores in cache-sized chunks; the numbers are those of one big pass."""
    experiment = NADEExperiment.__new__(NADEExperiment)  # only the model is needed to score
    experiment.model = NADE(784, 700)
    x = torch.bernoulli(torch.full((23, 784), 0.2))
    chunk = NADEExperiment.ACTIVATIONS_PER_CHUNK // (784 * 700)
    assert 1 <= chunk < len(x)  # more than one chunk
    with torch.no_grad():
        torch.testing.assert_close(experiment.test_log_prob(x), experiment.model(x))


def test_untrained_output_layer_scores_d_ln2():
    model = NADE(784, 8)
    with torch.no_grad():
        model.V.zero_()
    x = torch.bernoulli(torch.full((3, 784), 0.5))
    torch.testing.assert_close(-model(x), torch.full((3,), 784 * math.log(2)))
