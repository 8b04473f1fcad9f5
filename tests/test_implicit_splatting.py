"""3D Gaussian splatting: covariance and projection against the registry, autograd and Monte
Carlo; rasterisation against a per-pixel loop; density control bookkeeping; training."""

from __future__ import annotations

import io
import math

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

import formulas
from cheatsheet.implicit import splatting
from cheatsheet.implicit.scene import look_at


def _gaussians(seed: int, n: int = 6, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    means = (torch.rand(n, 3, generator=g, dtype=dtype) * 2 - 1) * 0.5
    scales = torch.rand(n, 3, generator=g, dtype=dtype) * 0.2 + 0.02
    quats = torch.randn(n, 4, generator=g, dtype=dtype)
    return means, scales, quats


@given(st.integers(0, 10_000))
def test_covariance_matches_the_registry_and_is_positive_definite(seed):
    _, scales, quats = _gaussians(seed)
    ours = splatting.covariance_from_scale_rotation(scales, quats)
    registry = formulas.get("covariance-from-scale-rotation").evaluate(
        scale=scales.numpy(), quaternion=quats.numpy()
    )
    np.testing.assert_allclose(ours.numpy(), registry, atol=1e-12)
    eig = torch.linalg.eigvalsh(ours)
    assert torch.allclose(torch.sort(eig, -1).values, torch.sort(scales**2, -1).values, atol=1e-12)


@given(st.integers(0, 10_000))
def test_projected_covariance_is_the_linearised_projection(seed):
    # J W is the autograd Jacobian of x -> pixel(x) at the mean; Sigma' = (J W) Sigma (J W)^T
    means, scales, quats = _gaussians(seed)
    camera = look_at([2.0, -1.0, 1.2], focal=30.0, size=32)
    camera = splatting.Camera(camera.rotation.double(), camera.translation.double(), 30.0, 32, 32)
    cov3d = splatting.covariance_from_scale_rotation(scales, quats)
    projected = splatting.project_gaussians(means, cov3d, camera)

    def pixel(x):
        return splatting.project_gaussians(x[None], cov3d[:1], camera).means[0]

    for k in range(len(means)):
        JW = torch.autograd.functional.jacobian(pixel, means[k])
        assert torch.allclose(projected.covariances[k], JW @ cov3d[k] @ JW.T, atol=1e-10)
        # and the registry's J W Sigma W^T J^T with its own J at the camera-space mean
        t = (camera.rotation @ means[k] + camera.translation).numpy()
        J = formulas.get("splat-projection-jacobian").evaluate(t=t, focal=30.0)
        registry = formulas.get("splat-covariance-2d").evaluate(
            cov3d=cov3d[k].numpy(), W=camera.rotation.numpy(), J=J
        )
        np.testing.assert_allclose(projected.covariances[k].numpy(), registry, atol=1e-10)


def test_projected_covariance_against_monte_carlo():
    # small Gaussians: the covariance of exactly projected samples is J W Sigma W^T J^T
    camera = look_at([2.5, 0.5, 0.8], focal=40.0, size=32)
    camera = splatting.Camera(camera.rotation.double(), camera.translation.double(), 40.0, 32, 32)
    mean = torch.tensor([0.1, -0.2, 0.15], dtype=torch.float64)
    cov3d = splatting.covariance_from_scale_rotation(
        torch.tensor([0.02, 0.01, 0.005], dtype=torch.float64),
        torch.tensor([0.9, 0.2, -0.3, 0.1], dtype=torch.float64),
    )
    predicted = splatting.project_gaussians(mean[None], cov3d[None], camera)
    g = torch.Generator().manual_seed(0)
    samples = (
        mean
        + torch.randn(200_000, 3, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov3d).T
    )
    pixels = splatting.project_gaussians(samples, cov3d.expand(len(samples), 3, 3), camera).means
    empirical = torch.cov(pixels.T)
    assert torch.allclose(
        empirical,
        predicted.covariances[0],
        rtol=0.03,
        atol=1e-3 * predicted.covariances[0].abs().max(),
    )
    assert torch.allclose(pixels.mean(0), predicted.means[0], atol=0.01)


def test_rasteriser_matches_a_per_pixel_loop():
    means, scales, quats = _gaussians(3, n=5, dtype=torch.float32)
    camera = look_at([2.5, 0.0, 0.6], focal=10.0, size=6)
    cov3d = splatting.covariance_from_scale_rotation(scales * 2, quats)
    colors = torch.rand(5, 3, generator=torch.Generator().manual_seed(1))
    opacities = torch.rand(5, generator=torch.Generator().manual_seed(2)) * 0.9 + 0.05
    projected = splatting.project_gaussians(means, cov3d, camera)
    image = splatting.rasterise(projected, colors, opacities, 6, 6, background=0.3)
    order = np.argsort(projected.depths.numpy())
    opacity_formula = formulas.get("splat-opacity")
    for i in range(6):
        for j in range(6):
            x = np.array([j + 0.5, i + 0.5])
            T, color = 1.0, np.zeros(3)
            for k in order:  # front to back
                cov = projected.covariances[k].numpy() + 0.3 * np.eye(2)
                alpha = min(
                    0.99,
                    float(
                        opacity_formula.evaluate(
                            x=x,
                            mean=projected.means[k].numpy(),
                            cov=cov,
                            opacity=float(opacities[k]),
                        )
                    ),
                )
                if alpha < 1 / 255:
                    continue
                color += T * alpha * colors[k].numpy()
                T *= 1 - alpha
            color += T * 0.3
            np.testing.assert_allclose(image[:, i, j].numpy(), color, atol=1e-5)


def test_depth_order_decides_occlusion():
    # two opaque splats on the same pixel: the nearer one's colour wins whatever the order
    camera = look_at([3.0, 0.0, 0.0], focal=10.0, size=4)
    means = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    cov3d = torch.eye(3).expand(2, 3, 3) * 0.5
    colors = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    opacities = torch.tensor([0.99, 0.99])
    for perm in ([0, 1], [1, 0]):
        projected = splatting.project_gaussians(means[perm], cov3d, camera)
        center = splatting.rasterise(projected, colors[perm], opacities, 4, 4)[:, 2, 2]
        assert center[2] > 0.95 and center[0] < 0.05  # blue (x = 1) is nearer to the camera


def test_density_control_clones_splits_prunes_and_keeps_adam_in_step(device):
    torch.manual_seed(0)
    model = splatting.random_initialisation(20, 0.5, device, torch.Generator().manual_seed(0))
    optimizer = splatting.make_optimizer(model, 1e-3)
    camera = look_at([2.5, 0.3, 0.5], focal=16.0, size=8).to(device)
    image, _ = model.render(camera)
    image.sum().backward()
    optimizer.step()
    control = splatting.DensityControl(grad_threshold=0.5, percent_dense=0.0, extent=1.0)
    control.reset(model.count, device)
    with torch.no_grad():
        model.log_scales[:4] = math.log(1e-4)  # small: cloned
        model.opacity_logits[10:12] = -10.0  # transparent: pruned
    gradient = torch.zeros(20, 2, device=device)
    gradient[:8] = 1.0  # over the threshold: 0-3 cloned (small), 4-7 split (large)
    control.percent_dense = 0.001
    control.accumulate(gradient, torch.ones(20, device=device))
    events = control.densify_and_prune(model, optimizer)
    assert events == {"cloned": 4, "split": 4, "pruned": 2}
    assert model.count == 20 - 4 - 2 + 4 + 2 * 4
    for group in optimizer.param_groups:
        parameter = group["params"][0]
        assert parameter is getattr(model, group["name"])
        state = optimizer.state[parameter]
        assert state["exp_avg"].shape == parameter.shape
    image, _ = model.render(camera)  # still renders and trains
    image.sum().backward()
    optimizer.step()


def test_a_densified_checkpoint_loads_into_a_fresh_model_and_optimizer(device):
    # --resume builds the model at its initial size, then loads a checkpoint whose N changed:
    # the model must take the saved N, the optimizer must still own the model's parameters,
    # and the next Adam step must be the one the original model/optimizer would take.
    torch.manual_seed(0)
    camera = look_at([2.5, 0.3, 0.5], focal=16.0, size=8).to(device)

    def fresh():
        model = splatting.random_initialisation(20, 0.5, device, torch.Generator().manual_seed(0))
        return model, splatting.make_optimizer(model, 1e-3)

    def step(model, optimizer):
        image, _ = model.render(camera)
        optimizer.zero_grad()
        image.square().sum().backward()
        optimizer.step()

    model, optimizer = fresh()
    step(model, optimizer)
    control = splatting.DensityControl(grad_threshold=0.0, percent_dense=0.05, extent=1.0)
    control.reset(model.count, device)
    control.accumulate(torch.ones(20, 2, device=device), torch.ones(20, device=device))
    control.densify_and_prune(model, optimizer)
    assert model.count != 20
    step(model, optimizer)  # moments of old and new rows differ

    # through bytes as in checkpoint.pt (a live optimizer state_dict shares Adam's step tensors)
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, map_location="cpu", weights_only=True)
    restored, restored_optimizer = fresh()
    restored.load_state_dict(saved["model"])
    restored_optimizer.load_state_dict(saved["optimizer"])
    assert restored.count == model.count
    for group in restored_optimizer.param_groups:
        assert group["params"][0] is getattr(restored, group["name"])
    step(model, optimizer)
    step(restored, restored_optimizer)
    for name in splatting.PARAMETER_NAMES:
        assert torch.equal(getattr(restored, name), getattr(model, name)), name


def test_splatting_fits_a_view(device):
    from cheatsheet.implicit.scene import AnalyticScene, render_analytic

    torch.manual_seed(0)
    camera = look_at([2.6, 0.3, 0.8], focal=14.0, size=8).to(device)
    target = render_analytic(AnalyticScene(), camera, samples=128)
    model = splatting.random_initialisation(60, 0.7, device, torch.Generator().manual_seed(0))
    optimizer = splatting.make_optimizer(model, 5e-3)
    losses = []
    for _ in range(40):
        image, _ = model.render(camera)
        loss = splatting.splatting_loss(image, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:3])


def test_ssim_of_identical_images_is_one():
    x = torch.rand(3, 16, 16)
    assert abs(splatting.ssim(x, x).item() - 1) < 1e-6
    assert splatting.ssim(x, torch.rand(3, 16, 16)).item() < 0.5
