"""Whole flows (RealNVP, Glow, conditional Glow / SRFlow): inverse, log-det against autograd,
the direction convention checked both ways against a closed-form Gaussian, the registry's
log-det formulas, and a few training steps that lower the loss on a fixed batch."""

from __future__ import annotations

import math

import pytest
import torch

from cheatsheet.models.conditional_flow import (  # noqa: E402
    AffineInjector,
    class_conditional_flow,
    downsample,
    srflow,
)
from cheatsheet.models.glow import InvertibleConv1x1, glow  # noqa: E402
from cheatsheet.models.realnvp import (  # noqa: E402
    AffineCoupling,
    checkerboard_mask,
    discrete_nll,
    realnvp,
    standard_normal_log_prob,
)


def perturb(module, scale: float = 0.1, seed: int = 0):
    """Move every parameter off its (often identity-making) initial value."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            noise = torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype)
            parameter.add_(scale * noise.to(parameter.device))
    return module


def autograd_log_det(function, x):
    """log|det d function(x) / dx| for ONE example x of shape (1, ...), by autograd."""
    jacobian = torch.autograd.functional.jacobian(
        lambda v: function(v.view_as(x)).flatten(), x.flatten()
    )
    return torch.linalg.slogdet(jacobian)[1]


def _flows():
    torch.manual_seed(0)
    return {
        "realnvp-image": (realnvp((1, 4, 4), hidden=8), (1, 4, 4), True),
        "realnvp-vector": (realnvp((2, 1, 1), hidden=8), (2, 1, 1), False),
        "glow-image": (glow((1, 4, 4), hidden=8, steps_per_level=2), (1, 4, 4), True),
        "glow-vector": (glow((2, 1, 1), hidden=8, steps_per_level=3), (2, 1, 1), False),
    }


@pytest.mark.parametrize("name", list(_flows()))
def test_whole_flow_inverse_and_log_det(name, device):
    model, shape, unit = _flows()[name]
    model = model.double().to(device)
    generator = torch.Generator().manual_seed(1)
    x = torch.rand(8, *shape, generator=generator, dtype=torch.float64).to(device)
    x = x if unit else 3 * x - 1.5
    model(x)  # ActNorm's data-dependent init
    perturb(model)
    z, log_det = model(x)
    assert z.shape == (8, math.prod(shape))
    assert torch.allclose(model.inverse(z), x, atol=1e-5, rtol=0)  # x -> z -> x
    z_new = torch.randn(5, math.prod(shape), dtype=torch.float64, device=device) * 0.5
    assert torch.allclose(model(model.inverse(z_new))[0], z_new, atol=1e-5, rtol=0)  # z -> x -> z
    for index in range(2):
        expected = autograd_log_det(lambda v: model(v)[0], x[index : index + 1])
        assert torch.allclose(log_det[index], expected, atol=1e-6), name


@pytest.mark.parametrize("kind", ["srflow", "class"])
def test_conditional_flow_inverse_and_log_det(kind, device):
    torch.manual_seed(2)
    model = (
        (
            srflow(hidden=8, steps_per_level=2)
            if kind == "srflow"
            else class_conditional_flow(hidden=8)
        )
        .double()
        .to(device)
    )
    x = torch.rand(4, 1, 8, 8, dtype=torch.float64, device=device)
    condition = downsample(x) if kind == "srflow" else torch.tensor([0, 3, 7, 9], device=device)
    model(x, condition)
    perturb(model, 0.05)
    z, log_det = model(x, condition)
    assert torch.allclose(model.inverse(z, condition), x, atol=1e-5, rtol=0)
    expected = autograd_log_det(lambda v: model(v, condition[:1])[0], x[:1])
    assert torch.allclose(log_det[0], expected, atol=1e-6)
    # Sampling direction: samples for a condition come from inverse(z, condition).
    torch.manual_seed(3)
    samples = model.sample(condition, 4)
    torch.manual_seed(3)
    z = torch.randn(4, 64, device=device, dtype=torch.float64)
    assert torch.allclose(samples, model.inverse(z, condition))


def test_direction_both_ways_against_a_closed_form_gaussian():
    """With identity couplings (their last conv is zero at init) a Glow on vectors is affine:
    z = A x + c. So p_x = N(-A^{-1} c, (A^T A)^{-1}) exactly. The density direction
    (`log_prob`, x -> z) must give that Gaussian's log-density, and the sampling direction
    (`sample`, z -> x) must produce its mean and covariance."""
    torch.manual_seed(4)
    model = glow((2, 1, 1), hidden=8, steps_per_level=3).double()
    model(
        torch.randn(256, 2, 1, 1, dtype=torch.float64) * torch.tensor([2.0, 0.3]).view(1, 2, 1, 1)
    )
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, InvertibleConv1x1):
                module.lower.add_(0.7)
                module.upper.add_(-0.4)
    origin = torch.zeros(1, 2, 1, 1, dtype=torch.float64)
    c = model(origin)[0][0]
    a = torch.autograd.functional.jacobian(
        lambda v: model(v.view(1, 2, 1, 1))[0][0], origin.flatten()
    )
    mean = -torch.linalg.solve(a, c)
    covariance = torch.linalg.inv(a.T @ a)
    gaussian = torch.distributions.MultivariateNormal(mean, covariance)
    x = torch.randn(50, 2, dtype=torch.float64) * 2
    assert torch.allclose(model.log_prob(x.view(50, 2, 1, 1)), gaussian.log_prob(x), atol=1e-8)
    torch.manual_seed(5)
    samples = model.sample(200_000).flatten(1)
    assert torch.allclose(samples.mean(0), mean, atol=0.02)
    assert torch.allclose(torch.cov(samples.T), covariance, rtol=0.03, atol=0.01)


def test_2d_flow_density_integrates_to_one():
    """The density direction gives a normalised density: a perturbed RealNVP on R^2,
    integrated on a grid (midpoint rule), has mass 1 (minus what lies outside the box)."""
    torch.manual_seed(6)
    model = perturb(realnvp((2, 1, 1), hidden=8).double(), 0.05)
    grid = torch.linspace(-9, 9, 451, dtype=torch.float64)
    cell = (grid[1] - grid[0]) ** 2
    xx, yy = torch.meshgrid(grid, grid, indexing="ij")
    points = torch.stack([xx.flatten(), yy.flatten()], 1).view(-1, 2, 1, 1)
    with torch.no_grad():
        mass = float(torch.exp(model.log_prob(points)).sum() * cell)
    assert mass == pytest.approx(1.0, abs=5e-3)


def _registry(formula_id: str):
    """The registry formula (a missing id fails the test: a rename must not hide it)."""
    import formulas

    return formulas.get(formula_id)


def test_log_dets_equal_the_registry_formulas():
    affine = _registry("affine-coupling-logdet")
    lu = _registry("conv1x1-lu-logdet")
    injector = _registry("srflow-affine-injector-logdet")
    torch.manual_seed(7)
    coupling = perturb(AffineCoupling(checkerboard_mask(1, 4, 4), 8).double(), 0.3)
    x = torch.randn(1, 1, 4, 4, dtype=torch.float64)
    s, _ = coupling._s_t(x * coupling.mask)  # zero where the mask keeps x^B
    s = s.detach().flatten().numpy()
    assert float(coupling(x)[1]) == pytest.approx(float(affine.evaluate(log_scale=s)))
    conv = perturb(InvertibleConv1x1(4).double())
    s = (conv.sign_s * torch.exp(conv.log_s)).detach().numpy()
    log_det = conv(torch.randn(1, 4, 1, 1, dtype=torch.float64))[1]  # H = W = 1
    assert float(log_det) == pytest.approx(float(lu.evaluate(s=s)))
    layer = perturb(AffineInjector(2, 3, 8).double())
    u = torch.randn(1, 3, 2, 2, dtype=torch.float64)
    beta_s = layer.net(u).chunk(2, dim=1)[0].detach()[0].numpy()  # one (C, H, W) map
    log_det = layer(torch.randn(1, 2, 2, 2, dtype=torch.float64), u)[1]
    assert float(log_det) == pytest.approx(float(injector.evaluate(log_scale=beta_s)))


def test_discrete_nll_accounts_for_the_unit_scaling():
    """A uniform density on [0, 1]^D (log p = 0) puts mass 1/17 on every one of the 17 levels:
    exactly log2(17) bits/dim; the continuous NLL alone would say 0."""
    nats, bits = discrete_nll(torch.zeros(10), dim=64)
    assert nats == pytest.approx(64 * math.log(17))
    assert bits == pytest.approx(math.log2(17))


def _fixed_digits(n=64):
    from cheatsheet.datasets import load
    from cheatsheet.models.realnvp import dequantise_digits

    split = load("digits", seed=0)
    return dequantise_digits(split.train[:n], torch.Generator().manual_seed(0)), split


@pytest.mark.parametrize("kind", ["realnvp", "glow", "srflow", "class"])
def test_training_lowers_the_nll_on_a_fixed_batch(kind, device):
    torch.manual_seed(8)
    x, split = _fixed_digits()
    x = x.to(device)
    labels = split.train_labels[:64].to(device)
    if kind == "realnvp":
        model = realnvp((1, 8, 8), hidden=16)
    elif kind == "glow":
        model = glow((1, 8, 8), hidden=16, steps_per_level=2)
    elif kind == "srflow":
        model = srflow(hidden=16, steps_per_level=2)
    else:
        model = class_conditional_flow(hidden=16)
    model = model.to(device)
    condition = (
        () if kind in ("realnvp", "glow") else ((downsample(x),) if kind == "srflow" else (labels,))
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def nll():
        z, log_det = model(x, *condition)
        return -(standard_normal_log_prob(z) + log_det).mean()

    first = float(nll())
    for _ in range(15):
        loss = nll()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        assert torch.isfinite(loss)
    assert float(nll()) < first - 5.0  # nats per image
