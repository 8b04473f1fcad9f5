"""NeRF's volume rendering against the registry and explicit loops; sampling by Monte Carlo;
the hash grid's trilinear interpolation; the encodings against the registry; training."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import formulas
from cheatsheet.implicit import nerf
from cheatsheet.implicit.scene import AnalyticScene, look_at


def _ray(seed: int, rays: int = 4, n: int = 12):
    g = torch.Generator().manual_seed(seed)
    sigma = torch.rand(rays, n, generator=g, dtype=torch.float64) * 5
    t = torch.sort(torch.rand(rays, n, generator=g, dtype=torch.float64) * 3 + 1, -1).values
    colors = torch.rand(rays, n, 3, generator=g, dtype=torch.float64)
    return sigma, t, colors


@given(st.integers(0, 10_000))
def test_weights_match_registry_and_an_explicit_loop(seed):
    sigma, t, _ = _ray(seed)
    delta = nerf.segment_lengths(t, 4.5)
    ours = nerf.volume_rendering_weights(sigma, delta)
    registry = formulas.get("nerf-weights").evaluate(sigma=sigma.numpy(), delta=delta.numpy())
    np.testing.assert_allclose(ours.numpy(), registry, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        nerf.alpha_from_density(sigma, delta).numpy(),
        formulas.get("nerf-alpha").evaluate(sigma=sigma.numpy(), delta=delta.numpy()),
        atol=1e-14,
    )
    np.testing.assert_allclose(
        nerf.transmittance(sigma, delta).numpy(),
        formulas.get("nerf-transmittance").evaluate(sigma=sigma.numpy(), delta=delta.numpy()),
        atol=1e-14,
    )
    for r in range(sigma.shape[0]):  # T_i = prod_{j<i} (1 - alpha_j), w_i = T_i alpha_i
        T = 1.0
        for i in range(sigma.shape[1]):
            alpha = 1 - math.exp(-float(sigma[r, i] * delta[r, i]))
            assert abs(float(ours[r, i]) - T * alpha) < 1e-12
            T *= 1 - alpha


@given(st.integers(0, 10_000))
def test_composite_colour_is_the_registry_colour_plus_background(seed):
    sigma, t, colors = _ray(seed)
    color, weights, opacity = nerf.composite(sigma, colors, t, far=4.5, background=0.25)
    delta = nerf.segment_lengths(t, 4.5).numpy()
    registry = formulas.get("nerf-color").evaluate(
        sigma=sigma.numpy(), delta=delta, colors=colors.numpy()
    )
    expected = registry + (1 - opacity.numpy())[:, None] * 0.25
    np.testing.assert_allclose(color.numpy(), expected, atol=1e-12)
    assert torch.all(opacity <= 1 + 1e-12)


def test_positional_encoding_matches_the_registry():
    x = torch.rand(7, 3, dtype=torch.float64) * 2 - 1
    encoding = nerf.PositionalEncoding(3, 5, include_input=False).double()
    registry = formulas.get("nerf-positional-encoding").evaluate(x=x.numpy(), num_frequencies=5)
    np.testing.assert_allclose(encoding(x).numpy(), registry, atol=1e-12)
    with_input = nerf.PositionalEncoding(3, 5)(x.float())
    assert with_input.shape == (7, 3 + 30) and torch.allclose(with_input[:, :3], x.float())


def test_random_fourier_features_give_a_shift_invariant_kernel():
    # gamma(x) . gamma(y) = sum_k cos(2 pi b_k (x - y)): depends on x - y only
    rff = nerf.RandomFourierFeatures(3, 32, scale=2.0).double()
    x, y, shift = (torch.rand(10, 3, dtype=torch.float64) for _ in range(3))
    k1 = (rff(x) * rff(y)).sum(-1)
    k2 = (rff(x + shift) * rff(y + shift)).sum(-1)
    assert torch.allclose(k1, k2, atol=1e-9)
    expected = torch.cos(2 * math.pi * (x - y) @ rff.B.T).sum(-1)
    assert torch.allclose(k1, expected, atol=1e-9)


def test_stratified_samples_lie_in_their_bins(device):
    t = nerf.stratified_samples(500, 16, near=1.0, far=3.0, device=device)
    edges = torch.linspace(1.0, 3.0, 17, device=device)
    assert torch.all(t >= edges[:-1]) and torch.all(t <= edges[1:])
    assert torch.all(t[:, 1:] > t[:, :-1])
    # uniform inside each bin: the mean offset within the bin is 1/2
    offset = (t - edges[:-1]) / (edges[1] - edges[0])
    assert abs(offset.mean().item() - 0.5) < 0.01
    assert torch.allclose(
        nerf.stratified_samples(2, 4, 1.0, 3.0, perturb=False),
        torch.tensor([1.25, 1.75, 2.25, 2.75]).expand(2, 4),
    )


def test_hierarchical_samples_follow_the_weights_cdf():
    bins = torch.tensor([[0.0, 1.0, 1.5, 3.0, 4.0]])
    weights = torch.tensor([[0.1, 0.5, 0.3, 0.1]])
    torch.manual_seed(0)
    n = 100_000
    samples = nerf.sample_pdf(bins, weights, n)[0]
    counts = torch.histogram(samples, bins=bins[0]).hist / n
    expected = (weights + 1e-5) / (weights + 1e-5).sum()
    assert torch.all((counts - expected[0]).abs() < 4 * torch.sqrt(expected[0] / n) + 1e-4)
    # within a bin the density is uniform: the mean of samples in bin 3 is its midpoint
    inside = samples[(samples > 1.5) & (samples < 3.0)]
    assert abs(inside.mean().item() - 2.25) < 0.01


def _single_level_grid(resolution: int, log2_table: int) -> nerf.HashGridEncoding:
    grid = nerf.HashGridEncoding(
        levels=1,
        features=2,
        log2_table_size=log2_table,
        base_resolution=resolution,
        max_resolution=resolution,
    )
    with torch.no_grad():
        grid.tables.normal_()
    return grid


@pytest.mark.parametrize("log2_table", [14, 6])  # dense indexing, then the spatial hash
def test_hash_grid_is_exact_at_corners_and_linear_along_edges(log2_table):
    resolution = 8
    grid = _single_level_grid(resolution, log2_table)
    assert (resolution + 1) ** 3 > 2**log2_table or log2_table == 14
    g = torch.Generator().manual_seed(0)
    vertex = torch.randint(0, resolution, (20, 3), generator=g)
    x = vertex.float() / resolution * 2 - 1  # world coordinates of the grid vertices
    table = grid.tables[0][grid.vertex_index(vertex, resolution)]
    assert torch.allclose(grid(x), table, atol=1e-6)
    # along the x edge from vertex to vertex + e_x: (1 - s) f(v) + s f(v + e_x)
    neighbour = vertex + torch.tensor([1, 0, 0])
    s = torch.rand(20, 1, generator=g)
    between = (vertex.float() + s * torch.tensor([1.0, 0, 0])) / resolution * 2 - 1
    expected = (1 - s) * table + s * grid.tables[0][grid.vertex_index(neighbour, resolution)]
    assert torch.allclose(grid(between), expected, atol=1e-5)


def test_hash_grid_levels_and_gradients(device):
    grid = nerf.HashGridEncoding(
        levels=4, features=2, log2_table_size=10, base_resolution=4, max_resolution=32
    ).to(device)
    assert grid.resolutions == [4, 8, 16, 32]
    out = grid(torch.rand(64, 3, device=device) * 2 - 1)
    assert out.shape == (64, 8)
    out.sum().backward()
    assert grid.tables.grad.abs().sum() > 0


def test_analytic_scene_camera_rays_hit_the_pixel_they_come_from():
    camera = look_at([2.0, 1.0, 0.5], focal=20.0, size=16)
    origins, directions = camera.rays()
    points = origins + 2.3 * directions
    camera_points = points @ camera.rotation.T + camera.translation
    u = camera.focal * camera_points[:, 0] / camera_points[:, 2] + camera.width / 2
    v = camera.focal * camera_points[:, 1] / camera_points[:, 2] + camera.height / 2
    j, i = torch.meshgrid(torch.arange(16.0), torch.arange(16.0), indexing="xy")
    assert torch.allclose(u, j.reshape(-1) + 0.5, atol=1e-4)
    assert torch.allclose(v, i.reshape(-1) + 0.5, atol=1e-4)


@pytest.mark.parametrize("encoding", ["positional", "fourier", "hashgrid"])
def test_nerf_trains_on_a_fixed_batch(device, encoding):
    torch.manual_seed(0)
    model = nerf.make_nerf(encoding, device)
    scene = AnalyticScene()
    camera = look_at([2.6, 0.3, 0.8], focal=14.0, size=8).to(device)
    from cheatsheet.implicit.scene import render_analytic

    target = render_analytic(scene, camera, samples=128).reshape(3, -1).T
    origins, directions = camera.rays()
    losses = []
    for _ in range(25):
        out = nerf.render_rays(model.coarse, model.fine, origins, directions, 16, 16)
        loss = torch.nn.functional.mse_loss(out.coarse, target) + torch.nn.functional.mse_loss(
            out.fine, target
        )
        model.optimizer.zero_grad()
        loss.backward()
        model.optimizer.step()
        losses.append(loss.item())
    assert all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:3])
