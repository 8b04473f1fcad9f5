"""Implicit-representation formulas against explicit loops, autograd, torch.distributions,
scipy's rotations and Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import formulas

TOPIC = "implicit"


ray = st.tuples(st.integers(0, 10_000), st.integers(1, 12))


def _ray(seed, n):
    rng = np.random.default_rng(seed)
    return rng, rng.exponential(2.0, size=(3, n)), rng.uniform(0.01, 0.5, size=(3, n))


@given(ray)
def test_nerf_weights_transmittance_alpha_by_explicit_loop(device, spec):
    rng, sigma, delta = _ray(*spec)
    s, d = torch.tensor(sigma, device=device), torch.tensor(delta, device=device)
    weights = formulas.get("nerf-weights").evaluate(sigma=sigma, delta=delta)
    T_f = formulas.get("nerf-transmittance").evaluate(sigma=sigma, delta=delta)
    alpha_f = formulas.get("nerf-alpha").evaluate(sigma=sigma, delta=delta)
    assert weights.dtype == np.float64 and weights.shape == sigma.shape
    for r in range(sigma.shape[0]):
        T = torch.tensor(1.0, dtype=torch.float64, device=device)
        for i in range(sigma.shape[1]):  # the sheet's loop: alpha, T_i = prod_{j<i} (1 - alpha_j)
            alpha = 1 - torch.exp(-s[r, i] * d[r, i])
            assert alpha_f[r, i] == pytest.approx(float(alpha), abs=1e-12)
            assert T_f[r, i] == pytest.approx(float(T), abs=1e-12)
            assert weights[r, i] == pytest.approx(float(T * alpha), abs=1e-12)
            T = T * (1 - alpha)
    colors = rng.uniform(size=sigma.shape + (3,))
    c = formulas.get("nerf-color").evaluate(sigma=sigma, delta=delta, colors=colors)
    np.testing.assert_allclose(c, np.einsum("rn,rnk->rk", weights, colors), atol=1e-12)


def test_nerf_weights_contract_broadcast():
    f = formulas.get("nerf-weights")
    assert f.parameters == ["sigma", "delta"]
    out = f.evaluate(sigma=[[1.0, 2.0, 3.0]], delta=0.1)
    assert out.shape == (1, 3) and out.dtype == np.float64


@given(st.integers(0, 1000), st.floats(0.2, 3.0))
def test_sphere_sdf_against_brute_force_distance(device, seed, radius):
    rng = np.random.default_rng(seed)
    center, points = rng.normal(size=3), rng.normal(size=(20, 3)) * 2
    u, v = np.meshgrid(np.linspace(0, 2 * np.pi, 400), np.linspace(0, np.pi, 200))
    surface = center + radius * np.stack(
        [np.cos(u) * np.sin(v), np.sin(u) * np.sin(v), np.cos(v)], -1
    ).reshape(-1, 3)
    dist = torch.cdist(torch.tensor(points, device=device), torch.tensor(surface, device=device))
    unsigned = dist.min(1).values.cpu().numpy()
    inside = np.linalg.norm(points - center, axis=1) < radius
    sdf = formulas.get("implicit-surface").evaluate(x=points, center=center, radius=radius)
    np.testing.assert_allclose(sdf, np.where(inside, -unsigned, unsigned), atol=0.03 * radius)


@given(st.integers(0, 1000))
def test_occupancy_loss_is_bce_with_logits(device, seed):
    rng = np.random.default_rng(seed)
    logits, occ = rng.normal(size=10) * 5, rng.integers(0, 2, 10).astype(float)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(logits, device=device), torch.tensor(occ, device=device), reduction="none"
    )
    out = formulas.get("occupancy-loss").evaluate(logits=logits, occupancy=occ)
    np.testing.assert_allclose(out, ref.cpu().numpy(), atol=1e-12)


@given(st.integers(0, 1000), st.floats(0.3, 3.0), st.floats(0.0, 1.0))
def test_igr_loss_with_autograd_gradients(device, seed, scale, lam):
    """f = scale * SDF(sphere): zero on the surface, ||grad f|| = scale, loss = lam (scale-1)^2."""
    rng = np.random.default_rng(seed)
    dirs = rng.normal(size=(16, 3))
    surface = dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
    space = torch.tensor(rng.normal(size=(32, 3)) * 2, device=device, requires_grad=True)
    f = scale * (space.norm(dim=1) - 1.0)
    (grads,) = torch.autograd.grad(f.sum(), space)
    on_surface = scale * (np.linalg.norm(surface, axis=1) - 1.0)
    loss = formulas.get("igr-eikonal-loss").evaluate(
        surface_values=on_surface, gradients=grads.cpu().numpy(), lam=lam
    )
    assert loss == pytest.approx(lam * (scale - 1) ** 2, abs=1e-10)


@given(st.integers(0, 1000), st.integers(1, 6))
def test_positional_encoding_by_loop(device, seed, L):
    x = np.random.default_rng(seed).uniform(-1, 1, size=(4, 3))
    out = formulas.get("nerf-positional-encoding").evaluate(x=x, num_frequencies=L)
    assert out.shape == (4, 3 * 2 * L)
    xt = torch.tensor(x, device=device)
    for d in range(3):
        for k in range(L):
            ref_sin = torch.sin(2**k * torch.pi * xt[:, d]).cpu().numpy()
            ref_cos = torch.cos(2**k * torch.pi * xt[:, d]).cpu().numpy()
            np.testing.assert_allclose(out[:, d * 2 * L + 2 * k], ref_sin, atol=1e-12)
            np.testing.assert_allclose(out[:, d * 2 * L + 2 * k + 1], ref_cos, atol=1e-12)


@given(st.integers(0, 1000), st.floats(0.05, 1.0))
def test_splat_opacity_is_scaled_unnormalised_gaussian(device, seed, opacity):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(2, 2))
    cov, mean, x = M @ M.T + 0.1 * np.eye(2), rng.normal(size=2), rng.normal(size=(5, 2))
    dist = torch.distributions.MultivariateNormal(
        torch.tensor(mean, device=device), torch.tensor(cov, device=device)
    )
    log_norm = dist.log_prob(dist.loc)  # log density at the mean = -log(2 pi sqrt det)
    ref = opacity * torch.exp(dist.log_prob(torch.tensor(x, device=device)) - log_norm)
    out = formulas.get("splat-opacity").evaluate(x=x, mean=mean, cov=cov, opacity=opacity)
    np.testing.assert_allclose(out, ref.cpu().numpy(), rtol=1e-10)


@given(st.integers(0, 1000))
def test_projected_covariance_against_autograd_jacobian_and_monte_carlo(device, seed):
    rng = np.random.default_rng(seed)
    # a view transform (rotation) and a Gaussian in front of the camera, small enough that the
    # projection is close to its linearisation
    q = rng.normal(size=4)
    from scipy.spatial.transform import Rotation

    R = Rotation.from_quat(q[[1, 2, 3, 0]]).as_matrix()  # scipy is (x, y, z, w)
    mean_world = R.T @ np.array([rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(4, 6)])
    A = rng.normal(size=(3, 3)) * 0.02
    cov = A @ A.T + 1e-5 * np.eye(3)
    t = torch.tensor(R @ mean_world, device=device)
    J_ref = torch.autograd.functional.jacobian(lambda p: p[:2] / p[2], t).cpu().numpy()
    J = formulas.get("splat-projection-jacobian").evaluate(t=R @ mean_world)
    np.testing.assert_allclose(J, J_ref, atol=1e-12)
    sigma2d = formulas.get("splat-covariance-2d").evaluate(cov3d=cov, W=R, J=J)
    samples = rng.multivariate_normal(mean_world, cov, size=40_000) @ R.T
    projected = samples[:, :2] / samples[:, 2:]
    mc = np.cov(projected.T)
    # Monte Carlo with 40k samples: relative standard error ~ 1/sqrt(20000) ~ 0.7%; 5% allows
    # for the linearisation error of the projection as well
    np.testing.assert_allclose(sigma2d, mc, atol=0.05 * np.abs(mc).max())


@given(st.integers(0, 1000))
def test_covariance_from_scale_rotation_against_scipy(device, seed):
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(seed)
    q, scale = rng.normal(size=4), rng.uniform(0.1, 2.0, 3)
    R = torch.tensor(Rotation.from_quat(q[[1, 2, 3, 0]]).as_matrix(), device=device)
    S = torch.diag(torch.tensor(scale, device=device))
    ref = (R @ S @ S.T @ R.T).cpu().numpy()
    out = formulas.get("covariance-from-scale-rotation").evaluate(scale=scale, quaternion=q)
    np.testing.assert_allclose(out, ref, atol=1e-12)


@given(st.integers(0, 1000))
def test_dvr_gradient_against_autograd_of_ray_sphere_hit(device, seed):
    """Surface f_theta(p) = ||p|| - theta_0 - theta_1 p_z, two parameters. The hit point is
    found by Newton along the ray, then autograd differentiates through a few more Newton
    steps (at the root they carry the exact implicit derivative): an independent route."""
    rng = np.random.default_rng(seed)
    theta = torch.tensor(
        [1.0 + rng.uniform(0, 0.5), 0.0], dtype=torch.float64, device=device, requires_grad=True
    )
    r0 = torch.tensor(
        [rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), -5.0], dtype=torch.float64, device=device
    )
    w = torch.tensor(rng.normal(size=3) * 0.05 + np.array([0, 0, 1.0]), device=device)
    w = w / w.norm()

    def f(p, th):
        return p.norm() - th[0] - th[1] * p[2]

    d = torch.tensor(4.0, dtype=torch.float64, device=device)
    with torch.no_grad():
        for _ in range(50):  # Newton on the ray
            p = r0 + d * w
            grad = (
                p / p.norm()
                - torch.tensor([0, 0, 1.0], device=device, dtype=torch.float64) * theta[1]
            )
            d = d - f(p, theta) / (grad @ w)
    # a few differentiable Newton steps from the converged point: autograd through the solve
    for _ in range(3):
        p = r0 + d * w
        p_ = p.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(f(p_, theta), p_)
        d = d - f(p, theta) / (g @ w)
    p_hat = r0 + d * w
    jac = (
        torch.stack([torch.autograd.grad(p_hat[i], theta, retain_graph=True)[0] for i in range(3)])
        .cpu()
        .numpy()
    )
    p_np = p_hat.detach().requires_grad_(True)
    th = theta.detach().requires_grad_(True)
    df_dp, df_dth = torch.autograd.grad(f(p_np, th), (p_np, th))
    out = formulas.get("dvr-implicit-gradient").evaluate(
        df_dp=df_dp.cpu().numpy(), w=w.cpu().numpy(), df_dtheta=df_dth.cpu().numpy()
    )
    np.testing.assert_allclose(out, jac, atol=1e-8)


@given(st.floats(-0.99, 0.99), st.sampled_from([1.0, -1.0]))
def test_implicit_derivative_circle_against_autograd(device, x, branch):
    xt = torch.tensor(x, dtype=torch.float64, device=device, requires_grad=True)
    y = branch * torch.sqrt(1 - xt**2)
    (dy,) = torch.autograd.grad(y, xt)
    out = formulas.get("implicit-differentiation").evaluate(x=x, y=y.item())
    assert out == pytest.approx(float(dy), rel=1e-10)


def test_nerf_color_equals_a_fine_riemann_sum_of_the_rendering_integral(device):
    """C = int T(t) sigma(t) c(t) dt by a 2e5-point midpoint sum in torch (independent of the
    quadrature used by the derivation) against sum_i T_i alpha_i c_i."""
    rng = np.random.default_rng(7)
    sigma, delta, colors = rng.exponential(2.0, 6), rng.uniform(0.05, 0.5, 6), rng.uniform(size=6)
    edges = torch.tensor(np.concatenate([[0.0], np.cumsum(delta)]), device=device)
    n = 200_000
    t = (torch.arange(n, device=device, dtype=torch.float64) + 0.5) * edges[-1] / n
    segment = torch.bucketize(t, edges[1:-1])
    density = torch.tensor(sigma, device=device)[segment]
    optical = torch.cumsum(density, 0) * edges[-1] / n - density * edges[-1] / (2 * n)
    integrand = torch.exp(-optical) * density * torch.tensor(colors, device=device)[segment]
    reference = float(integrand.sum() * edges[-1] / n)
    out = formulas.get("nerf-color").evaluate(sigma=sigma, delta=delta, colors=colors[:, None])
    assert out[0] == pytest.approx(reference, abs=1e-6)


@pytest.mark.parametrize("formula_id", ["nerf-alpha", "splat-opacity", "dvr-color-gradient"])
def test_implicit_errata_show_numbers_for_both_forms(formula_id):
    evidence = formulas.get(formula_id).erratum.evidence()
    assert evidence.sheet_fails is True and evidence.correct_passes is True, evidence.detail
    assert "sheet's form" in evidence.detail and "right form" in evidence.detail


def test_implicit_claim_checks_compute_their_verdicts():
    from formulas.core import REGISTRY

    formulas.all()
    checked = [c for c in REGISTRY.claims() if c.topic == "implicit" and c.check is not None]
    assert checked
    for claim in checked:
        evidence = claim.check()
        assert evidence.sheet_fails is False and evidence.correct_passes is True
    wrong = REGISTRY.claim("splatting-adaptive-density-control")
    assert wrong.verdict == "error" and "merg" in wrong.explanation


def test_implicit_statements_print_as_formulas_and_keep_matrix_order():
    import sympy as sp

    for formula in formulas.all():
        if formula.topic == "implicit":
            assert formula.statement not in (sp.true, sp.false), formula.id
    cov = sp.sstr(formulas.get("splat-covariance-2d").statement.rhs)
    assert cov == "J*W*Sigma*W.T*J.T"
    dvr = sp.sstr(formulas.get("dvr-implicit-gradient").statement.rhs)
    assert dvr.index("w") < dvr.index("∂f/∂theta")  # w first, the Jacobian df/dtheta last
