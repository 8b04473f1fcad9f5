"""Occupancy network, DeepSDF and IGR: losses against the registry, the eikonal term against
finite differences, the defining invariances, and a few training steps on a fixed batch."""

from __future__ import annotations

import math

import numpy as np
import torch

import formulas
from cheatsheet.implicit import deepsdf, igr, occupancy, shapes


def _decreases(losses: list[float], factor: float = 0.8) -> bool:
    return all(math.isfinite(v) for v in losses) and np.mean(losses[-3:]) < factor * np.mean(
        losses[:3]
    )


def test_occupancy_loss_matches_the_registry():
    logits, labels = torch.randn(100, dtype=torch.float64) * 3, (torch.rand(100) < 0.5).double()
    registry = formulas.get("occupancy-loss").evaluate(
        logits=logits.numpy(), occupancy=labels.numpy()
    )
    assert abs(occupancy.occupancy_loss(logits, labels).item() - registry.mean()) < 1e-12


def test_pointnet_encoder_ignores_the_order_of_the_points(device):
    torch.manual_seed(0)
    encoder = occupancy.ResnetPointNet(c_dim=8, hidden=16).to(device).double()
    cloud = torch.randn(2, 50, 3, dtype=torch.float64, device=device)
    permuted = cloud[:, torch.randperm(50, device=device)]
    assert torch.allclose(encoder(cloud), encoder(permuted), atol=1e-12)


def test_occupancy_network_trains_on_a_fixed_batch(device):
    torch.manual_seed(0)
    data = occupancy.make_shape_set(shapes.shape_family("mixed", 3), cloud_size=64, pool=512)
    model = occupancy.OccupancyNetwork(c_dim=16, hidden=32).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    p, o, cloud = data.points.to(device), data.occupancy.to(device), data.clouds.to(device)
    losses = []
    for _ in range(30):
        loss = occupancy.occupancy_loss(model(p, cloud), o)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert _decreases(losses, 0.7)


def test_clamped_l1_and_deepsdf_trains(device):
    prediction = torch.tensor([0.5, -0.05, 0.02])
    target = torch.tensor([0.2, 0.3, 0.0])
    # |clamp(f) - clamp(s)| with delta 0.1: |0.1 - 0.1|, |-0.05 - 0.1|, |0.02 - 0|
    assert torch.allclose(
        deepsdf.clamped_l1(prediction, target, 0.1), torch.tensor((0 + 0.15 + 0.02) / 3)
    )
    torch.manual_seed(0)
    family = shapes.shape_family("mixed", 3)
    samples = deepsdf.make_sdf_samples(family, pool=512)
    model = deepsdf.DeepSDF(3, latent_size=8, hidden=64, layers=4).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    index = torch.arange(3).repeat_interleave(512).to(device)
    x, s = samples.points.reshape(-1, 3).to(device), samples.sdf.reshape(-1).to(device)
    losses = []
    for _ in range(30):
        loss = deepsdf.clamped_l1(model(index, x), s)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert _decreases(losses, 0.7)
    # inference of a code for one of the shapes with the decoder frozen lowers its loss
    before = deepsdf.clamped_l1(
        model.decoder(torch.zeros(512, 8, device=device), x[:512]), s[:512]
    ).item()
    code = deepsdf.infer_code(model.decoder, x[:512], s[:512], steps=30)
    after = deepsdf.clamped_l1(model.decoder(code.expand(512, -1), x[:512]), s[:512]).item()
    assert after < before


def test_deepsdf_decoder_has_the_skip_connection():
    decoder = deepsdf.DeepSDFDecoder(latent_size=4, hidden=32, layers=6)
    # the layer before the skip outputs hidden - (latent + 3) so the concatenation is `hidden`
    assert decoder.linears[decoder.skip_at - 1].weight.shape[0] == 32 - 7
    assert decoder.linears[decoder.skip_at].weight.shape[1] == 32
    assert decoder(torch.zeros(5, 4), torch.zeros(5, 3)).shape == (5,)


def test_eikonal_term_autograd_equals_finite_differences():
    torch.manual_seed(0)
    model = igr.IGRNetwork(hidden=32).double()
    x = torch.rand(20, 3, dtype=torch.float64) * 2 - 1
    grad = igr.gradient(model, x.clone(), create_graph=False)
    eps = 1e-6
    finite = torch.stack(
        [
            (model(x + eps * e) - model(x - eps * e)) / (2 * eps)
            for e in torch.eye(3, dtype=torch.float64)
        ],
        -1,
    )
    assert torch.allclose(grad, finite, atol=1e-6)
    assert (
        abs(igr.eikonal_term(grad).item() - ((finite.norm(dim=-1) - 1) ** 2).mean().item()) < 1e-6
    )


def test_igr_loss_with_the_sheets_square_matches_the_registry():
    torch.manual_seed(0)
    model = igr.IGRNetwork(hidden=32).double()
    surface = torch.rand(30, 3, dtype=torch.float64) - 0.5
    space = torch.rand(40, 3, dtype=torch.float64) * 2 - 1
    loss, _ = igr.igr_loss(model, surface, space, lam=0.3, surface_power=2)
    grads = igr.gradient(model, space.clone(), create_graph=False)
    registry = formulas.get("igr-eikonal-loss").evaluate(
        surface_values=model(surface).detach().numpy(), gradients=grads.numpy(), lam=0.3
    )
    assert abs(loss.item() - float(registry)) < 1e-10


def test_geometric_initialisation_starts_near_a_sphere_sdf():
    torch.manual_seed(0)
    model = igr.IGRNetwork(hidden=128, init_radius=0.5)
    x = torch.randn(500, 3)
    x = x / x.norm(dim=-1, keepdim=True) * torch.rand(500, 1) * 0.9 + 0.05
    assert (model(x) - (x.norm(dim=-1) - 0.5)).abs().mean() < 0.1


def test_igr_trains_on_a_fixed_cloud(device):
    torch.manual_seed(0)
    cloud = shapes.SHAPES["torus"].surface_points(256, device, torch.Generator().manual_seed(0))
    model = igr.IGRNetwork(hidden=32).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    space = igr.sample_eikonal_points(cloud, 256)
    losses = []
    for _ in range(30):
        loss, parts = igr.igr_loss(model, cloud, space, 0.1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert _decreases(losses, 0.7)
