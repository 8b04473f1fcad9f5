"""Flow layers tested by what defines them (zuko's pattern): the inverse undoes the forward to
1e-5, and each layer's log|det J| equals slogdet of the autograd Jacobian on small inputs.

Every layer starts near the identity (zero-initialised last convs), which would make these
checks trivial, so the parameters are perturbed first.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cheatsheet.models.conditional_flow import (  # noqa: E402
    AffineInjector,
    ConditionalAffineCoupling,
    ConditionalSplit,
)
from cheatsheet.models.glow import (  # noqa: E402
    ActNorm,
    GlowCoupling,
    InvertibleConv1x1,
    Shift,
    Split,
)
from cheatsheet.models.realnvp import (  # noqa: E402
    AffineCoupling,
    LogitTransform,
    Squeeze,
    channel_mask,
    checkerboard_mask,
)


def perturb(module, scale: float = 0.1, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            noise = torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype)
            parameter.add_(scale * noise.to(parameter.device))
    return module


def autograd_log_det(function, x):
    """log|det d function(x) / dx| for ONE example x of shape (1, ...), by autograd."""
    flat = x.flatten()
    jacobian = torch.autograd.functional.jacobian(lambda v: function(v.view_as(x)).flatten(), flat)
    sign, log_abs_det = torch.linalg.slogdet(jacobian)
    assert sign != 0
    return log_abs_det


def unconditional_layers(device):
    """(name, layer, input) with float64 inputs of shape (2, C, H, W)."""
    generator = torch.Generator().manual_seed(1)

    def data(*shape, unit=False):
        x = torch.rand(*shape, generator=generator, dtype=torch.float64)
        return (x if unit else 2 * x - 1).to(device)

    actnorm = ActNorm(4).double().to(device)
    actnorm.initialize(data(16, 4, 2, 2))
    return [
        ("coupling-checkerboard", AffineCoupling(checkerboard_mask(2, 4, 4), 8), data(2, 2, 4, 4)),
        (
            "coupling-checkerboard-odd",
            AffineCoupling(checkerboard_mask(1, 4, 4, 1), 8),
            data(2, 1, 4, 4),
        ),
        ("coupling-channel", AffineCoupling(channel_mask(4, 2, 2), 8), data(2, 4, 2, 2)),
        ("coupling-vector", AffineCoupling(channel_mask(2, 1, 1, 1), 8), data(2, 2, 1, 1)),
        ("squeeze", Squeeze(), data(2, 2, 4, 4)),
        ("logit", LogitTransform(), data(2, 1, 4, 4, unit=True)),
        ("actnorm", actnorm, data(2, 4, 2, 2)),
        ("conv1x1-lu", InvertibleConv1x1(4), data(2, 4, 3, 3)),
        ("glow-coupling", GlowCoupling(4, 8, (2, 2)), data(2, 4, 2, 2)),
        ("glow-coupling-vector", GlowCoupling(2, 8, (1, 1)), data(2, 2, 1, 1)),
        ("shift", Shift(-0.5), data(2, 1, 4, 4)),
    ]


LAYER_NAMES = [name for name, _, _ in unconditional_layers("cpu")]


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_layer_round_trip_and_log_det(name, device):
    layer, x = next((lay, inp) for n, lay, inp in unconditional_layers(device) if n == name)
    layer = perturb(layer.double().to(device))
    z, log_det = layer(x)
    assert z.numel() == x.numel() and log_det.shape == (x.shape[0],)  # dimension kept
    # x -> z -> x and z -> x -> z
    assert torch.allclose(layer.inverse(z), x, atol=1e-5, rtol=0)
    assert torch.allclose(layer(layer.inverse(z))[0], z, atol=1e-5, rtol=0)
    for index in range(x.shape[0]):
        expected = autograd_log_det(lambda v: layer(v)[0], x[index : index + 1])
        assert torch.allclose(log_det[index], expected, atol=1e-7), name


@pytest.mark.parametrize("kind", ["coupling", "injector"])
def test_conditional_layers(kind, device):
    generator = torch.Generator().manual_seed(2)
    x = torch.randn(2, 4, 2, 2, generator=generator, dtype=torch.float64).to(device)
    u = torch.randn(2, 3, 2, 2, generator=generator, dtype=torch.float64).to(device)
    layer = ConditionalAffineCoupling(4, 3, 8) if kind == "coupling" else AffineInjector(4, 3, 8)
    layer = perturb(layer.double().to(device))
    y, log_det = layer(x, u)
    assert torch.allclose(layer.inverse(y, u), x, atol=1e-5, rtol=0)
    for index in range(2):
        expected = autograd_log_det(
            lambda v, i=index: layer(v, u[i : i + 1])[0], x[index : index + 1]
        )
        assert torch.allclose(log_det[index], expected, atol=1e-7)
    # The condition matters: another u gives another output.
    assert not torch.allclose(layer(x, u.flip(0))[0], y)


def test_affine_injector_is_the_sheets_equation():
    """h^{n+1} = exp(beta_s(u)) h^n + beta_b(u), log-det = sum beta_s(u) (SRFlow eq. 5)."""
    layer = perturb(AffineInjector(2, 3, 8).double())
    h = torch.randn(1, 2, 2, 2, dtype=torch.float64)
    u = torch.randn(1, 3, 2, 2, dtype=torch.float64)
    beta_s, beta_b = layer.net(u).chunk(2, dim=1)
    out, log_det = layer(h, u)
    assert torch.allclose(out, torch.exp(beta_s) * h + beta_b)
    assert torch.allclose(log_det, beta_s.sum().reshape(1))


@pytest.mark.parametrize("conditional", [False, True])
def test_split_with_learned_prior_is_a_bijection(conditional, device):
    generator = torch.Generator().manual_seed(3)
    h = torch.randn(2, 4, 2, 2, generator=generator, dtype=torch.float64).to(device)
    u = torch.randn(2, 3, 2, 2, generator=generator, dtype=torch.float64).to(device)
    split = ConditionalSplit(4, 3) if conditional else Split(4, (2, 2))
    split = perturb(split.double().to(device))
    args = (u,) if conditional else ()

    def as_bijection(v, i=0):
        extra = (u[i : i + 1],) if conditional else ()
        kept, out, _ = split(v, *extra)
        return torch.cat([kept, out], dim=1)

    kept, out, log_det = split(h, *args)
    assert torch.allclose(split.inverse(kept, out, *args), h, atol=1e-5, rtol=0)
    for index in range(2):
        expected = autograd_log_det(lambda v, i=index: as_bijection(v, i), h[index : index + 1])
        assert torch.allclose(log_det[index], expected, atol=1e-7)


def test_actnorm_data_dependent_init_standardises_its_first_batch(device):
    generator = torch.Generator().manual_seed(4)
    x = (3.0 + 2.5 * torch.randn(64, 3, 4, 4, generator=generator)).to(device)
    x[:, 1] = x[:, 1] * 0.1 - 7  # channels on different scales
    actnorm = ActNorm(3).to(device)
    assert not bool(actnorm.initialized)
    y, _ = actnorm(x)
    assert bool(actnorm.initialized)
    assert torch.allclose(y.mean(dim=(0, 2, 3)), torch.zeros(3, device=device), atol=1e-4)
    assert torch.allclose(
        y.std(dim=(0, 2, 3), unbiased=False), torch.ones(3, device=device), atol=1e-4
    )
    # Later batches do not re-initialise.
    scale = actnorm.log_scale.detach().clone()
    actnorm(x * 5)
    assert torch.equal(actnorm.log_scale.detach(), scale)


def test_conv1x1_lu_form_and_log_det():
    """W = P L (U + diag(s)): L unit lower, U strictly upper, P a permutation; log|det W| =
    sum log|s| equals torch's slogdet (times H W for a feature map)."""
    torch.manual_seed(5)
    conv = perturb(InvertibleConv1x1(5).double())
    weight = conv.weight().detach()
    lower = conv.lower.detach() * conv.lower_mask + conv.eye
    upper = conv.upper.detach() * conv.lower_mask.T
    s = conv.sign_s * torch.exp(conv.log_s.detach())
    assert torch.allclose(weight, conv.permutation @ lower @ (upper + torch.diag(s)))
    assert torch.equal(conv.permutation @ conv.permutation.T, torch.eye(5, dtype=torch.float64))
    _, log_abs_det = torch.linalg.slogdet(weight)
    x = torch.randn(1, 5, 3, 4, dtype=torch.float64)
    _, log_det = conv(x)
    assert torch.allclose(log_det, 12 * log_abs_det.reshape(1))
    # At initialisation W is a rotation: |det W| = 1.
    fresh = InvertibleConv1x1(5)
    assert abs(float(torch.linalg.slogdet(fresh.weight())[1])) < 1e-5


def _registry_formula(formula_id: str):
    """The registry formula (a missing id fails the test: a rename must not hide it)."""
    import formulas

    return formulas.get(formula_id)


def test_conv1x1_log_det_equals_registry_formula():
    formula = _registry_formula("conv1x1-logdet")
    conv = perturb(InvertibleConv1x1(4).double())
    x = torch.randn(1, 4, 3, 5, dtype=torch.float64)
    _, log_det = conv(x)
    expected = formula.evaluate(W=conv.weight().detach().numpy(), height=3, width=5)
    assert float(log_det) == pytest.approx(float(expected), rel=1e-9)


def test_actnorm_log_det_equals_registry_formula():
    formula = _registry_formula("actnorm-logdet")
    actnorm = ActNorm(3).double()
    actnorm.initialize(torch.randn(32, 3, 4, 4, dtype=torch.float64) * 3)
    _, log_det = actnorm(torch.randn(1, 3, 6, 2, dtype=torch.float64))
    s = torch.exp(actnorm.log_scale.detach()).flatten().numpy()
    expected = formula.evaluate(s=s, height=6, width=2)
    assert float(log_det) == pytest.approx(float(expected), rel=1e-9)


@given(
    channels=st.sampled_from([1, 2, 3]),
    size=st.sampled_from([2, 4]),
    parity=st.integers(0, 1),
    mask_kind=st.sampled_from(["checkerboard", "channel"]),
    seed=st.integers(0, 1000),
)
def test_coupling_round_trip_over_shapes(channels, size, parity, mask_kind, seed):
    if mask_kind == "channel" and channels == 1:
        channels = 2  # a channel mask needs two halves
    make_mask = checkerboard_mask if mask_kind == "checkerboard" else channel_mask
    torch.manual_seed(seed)
    layer = perturb(AffineCoupling(make_mask(channels, size, size, parity), 8).double(), 0.3, seed)
    x = torch.randn(3, channels, size, size, dtype=torch.float64)
    y, log_det = layer(x)
    assert torch.allclose(layer.inverse(y), x, atol=1e-5, rtol=0)
    # The conditioning half passes through unchanged: y^B = x^B.
    assert torch.equal(y * layer.mask, x * layer.mask)


def test_squeeze_moves_each_2x2_block_into_channels():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    y, _ = Squeeze()(x)
    assert y.shape == (1, 4, 2, 2)
    # The top-left 2x2 block of x is the first spatial position of the four channels.
    assert sorted(y[0, :, 0, 0].tolist()) == [0.0, 1.0, 4.0, 5.0]
