"""DVR: secant root finding against closed-form ray-sphere hits, the implicit surface gradient
against finite differences and the registry's dvr-implicit-gradient, training."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

import formulas
from cheatsheet.implicit import dvr
from cheatsheet.implicit.shapes import sphere_sdf, torus_sdf


def _rays(n: int, seed: int = 0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    origins = torch.tensor([0.0, 0.0, -3.0], dtype=dtype).expand(n, 3).clone()
    origins[:, :2] += (torch.rand(n, 2, generator=g, dtype=dtype) - 0.5) * 0.4
    target = (torch.rand(n, 3, generator=g, dtype=dtype) - 0.5) * 0.8
    directions = target - origins
    return origins, directions / directions.norm(dim=-1, keepdim=True)


def test_secant_finds_the_closed_form_sphere_hit(device):
    origins, directions = (t.to(device) for t in _rays(200))
    radius = 0.5
    depth, hit = dvr.find_surface(
        lambda p: -sphere_sdf(p, radius),
        origins,
        directions,
        near=1.0,
        far=5.0,
        steps=32,
        secant_iterations=12,
    )
    # |o + d w|^2 = r^2: d = -(o.w) - sqrt((o.w)^2 - |o|^2 + r^2)
    ow = (origins * directions).sum(-1)
    disc = ow**2 - (origins**2).sum(-1) + radius**2
    assert torch.equal(hit, disc > 0)
    exact = -ow - torch.sqrt(disc.clamp(min=0))
    error = (depth[hit] - exact[hit]).abs()
    assert error.max() < 1e-6 and error.median() < 1e-12  # regula falsi: slowest on grazing rays
    # and the bracket shrinks with the iterations (convergence, not luck)
    coarse, _ = dvr.find_surface(
        lambda p: -sphere_sdf(p, radius),
        origins,
        directions,
        near=1.0,
        far=5.0,
        steps=32,
        secant_iterations=2,
    )
    assert (coarse[hit] - exact[hit]).abs().median() > 10 * error.median()


def test_secant_converges_on_the_torus_to_the_first_crossing():
    origins = torch.tensor([[0.0, -3.0, 0.05]], dtype=torch.float64).expand(50, 3).clone()
    origins[:, 0] = torch.linspace(-0.75, 0.75, 50, dtype=torch.float64)
    directions = torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64).expand(50, 3)
    depth, hit = dvr.find_surface(
        lambda p: -torus_sdf(p, 0.5, 0.2),
        origins,
        directions,
        near=1.0,
        far=5.0,
        steps=64,
        secant_iterations=20,
    )
    points = origins + depth[:, None] * directions
    assert torus_sdf(points[hit], 0.5, 0.2).abs().max() < 1e-9
    # first crossing: a dense march finds the same entry point (no later hit was chosen)
    dense_t = torch.linspace(1.0, 5.0, 40_001, dtype=torch.float64)
    for k in torch.nonzero(hit)[:, 0]:
        values = torus_sdf(origins[k] + dense_t[:, None] * directions[k], 0.5, 0.2)
        first = dense_t[torch.nonzero(values < 0)[0, 0]]
        assert abs(float(depth[k] - first)) < 2e-4


class _Field(nn.Module):
    """A small occupancy-like field with parameters theta: MLP + a sphere term."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1)).double()

    def forward(self, p):
        return 0.3 * self.net(p).squeeze(-1) + 5 * (0.5 - p.norm(dim=-1))


def _depths(field, origins, directions):
    return dvr.find_surface(
        field, origins, directions, near=1.0, far=5.0, steps=64, secant_iterations=30
    )


def test_implicit_surface_gradient_matches_finite_differences():
    field = _Field()
    origins, directions = _rays(6, seed=1)
    depth, hit = _depths(field, origins, directions)
    assert hit.all()
    surface = dvr.surface_points(field, origins, directions, depth)
    assert torch.allclose(surface, origins + depth[:, None] * directions, atol=1e-10)
    parameter = field.net[0].weight
    grads = [
        torch.autograd.grad(surface[ray, 2], parameter, retain_graph=True)[0] for ray in range(3)
    ]
    for ray, grad in enumerate(grads):  # dp_z/dtheta against central differences of the root
        for index in [(0, 0), (3, 1), (7, 2)]:
            eps = 1e-6
            values = []
            for sign in (1, -1):
                with torch.no_grad():
                    parameter[index] += sign * eps
                d, _ = _depths(field, origins[ray : ray + 1], directions[ray : ray + 1])
                values.append(float((origins[ray] + d[0] * directions[ray])[2]))
                with torch.no_grad():
                    parameter[index] -= sign * eps
            finite = (values[0] - values[1]) / (2 * eps)
            assert abs(float(grad[index]) - finite) < 1e-5 * max(1.0, abs(finite)), (ray, index)


def test_implicit_surface_gradient_matches_the_registry():
    field = _Field()
    origins, directions = _rays(4, seed=2)
    depth, _ = _depths(field, origins, directions)
    surface = dvr.surface_points(field, origins, directions, depth)
    bias = field.net[2].bias
    p = (origins + depth[:, None] * directions).requires_grad_(True)
    value = field(p)
    df_dp = torch.autograd.grad(value.sum(), p, retain_graph=True)[0]
    for ray in range(4):
        df_dtheta = torch.autograd.grad(value[ray], bias, retain_graph=True)[0]
        registry = formulas.get("dvr-implicit-gradient").evaluate(
            df_dp=df_dp[ray].detach().numpy(),
            w=directions[ray].numpy(),
            df_dtheta=df_dtheta.numpy(),
        )
        ours = torch.stack(
            [torch.autograd.grad(surface[ray, c], bias, retain_graph=True)[0] for c in range(3)]
        )
        np.testing.assert_allclose(ours.numpy(), registry, atol=1e-10)


def test_dvr_trains_on_a_fixed_batch(device):
    from cheatsheet.implicit.scene import AnalyticScene, look_at

    torch.manual_seed(0)
    camera = look_at([2.6, 0.3, 0.8], focal=14.0, size=10).to(device)
    rgb, mask = dvr.render_surface_truth(AnalyticScene(), camera)
    origins, directions = camera.rays()
    model = dvr.OccupancyTextureField(hidden=32).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss, _ = dvr.dvr_loss(model, origins, directions, rgb.reshape(3, -1).T, mask.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:3])
