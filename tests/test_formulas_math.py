"""Appendix formulas against numpy/torch references, autograd and Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

import formulas

TOPIC = "math"


finite = st.floats(-10, 10)


@given(finite, finite, finite, finite)
def test_secant_step_is_root_of_fitted_line(device, x0, x1, f0, f1):
    assume(abs(x1 - x0) > 1e-3 and abs(f1 - f0) > 1e-3)
    slope, intercept = np.polyfit([x0, x1], [f0, f1], 1)
    x2 = formulas.get("secant-step").evaluate(x0=x0, x1=x1, f0=f0, f1=f1)
    assert x2 == pytest.approx(-intercept / slope, rel=1e-6, abs=1e-6)


@given(st.integers(0, 1000))
def test_cross_product_and_planes_against_torch(device, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(2, 5, 3))
    n = formulas.get("cross-product").evaluate(a=a, b=b)
    ref = torch.linalg.cross(torch.tensor(a, device=device), torch.tensor(b, device=device))
    np.testing.assert_allclose(n, ref.cpu().numpy(), atol=1e-12)
    p = rng.normal(size=(3, 3))
    plane = formulas.get("plane-from-points").evaluate(p1=p[0], p2=p[1], p3=p[2])
    # independent: the plane is the null space of [p_i, 1] (SVD)
    _, _, vt = np.linalg.svd(np.hstack([p, np.ones((3, 1))]))
    null = vt[-1]
    np.testing.assert_allclose(
        plane / np.linalg.norm(plane) * np.sign(plane @ null), null, atol=1e-8
    )
    x1, y1, z1 = rng.uniform(0.5, 3, 3)
    on = np.array([[x1, 0, 0], [0, y1, 0], [0, 0, z1], [x1 / 2, y1 / 2, 0]])
    np.testing.assert_allclose(
        formulas.get("plane-intercept-form").evaluate(point=on, x1=x1, y1=y1, z1=z1), 0, atol=1e-12
    )


@given(st.integers(0, 1000), st.floats(2.0, 4.0), st.floats(0.1, 1.5))
def test_torus_points_and_distance(device, seed, R, r):
    rng = np.random.default_rng(seed)
    u, v = rng.uniform(0, 2 * np.pi, (2, 50))
    x, y, z = (R + r * np.cos(v)) * np.cos(u), (R + r * np.cos(v)) * np.sin(u), r * np.sin(v)
    torus = formulas.get("torus-equation")
    np.testing.assert_allclose(torus.evaluate(x=x, y=y, z=z, R=R, r=r), 0, atol=1e-10)
    # the centre circle is inside (negative), a point far away is outside
    assert torus.evaluate(x=R, y=0.0, z=0.0, R=R, r=r) < 0
    assert torus.evaluate(x=0.0, y=0.0, z=R + r + 1, R=R, r=r) > 0


@given(st.integers(0, 1000), st.integers(1, 5))
def test_matrix_determinant_lemma_against_torch_det(device, seed, n):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n)) + 3 * np.eye(n)
    u, v = rng.normal(size=(2, n))
    out = formulas.get("matrix-determinant-lemma").evaluate(A=A, u=u, v=v)
    ref = torch.linalg.det(torch.tensor(A + np.outer(u, v), device=device)).item()
    assert out == pytest.approx(ref, rel=1e-9, abs=1e-9)


@given(st.integers(0, 1000))
def test_gaussian_sum_and_scaling_monte_carlo(device, seed):
    gen = torch.Generator(device=device).manual_seed(seed)
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.normal(size=(2, 2))
    L1, L2 = rng.normal(size=(2, 2, 2))
    cov1, cov2 = L1 @ L1.T + 0.1 * np.eye(2), L2 @ L2.T + 0.1 * np.eye(2)
    n = 100_000

    def sample(mu, L):
        eps = torch.randn(n, 2, generator=gen, dtype=torch.float64, device=device)
        return torch.tensor(mu, device=device) + eps @ torch.tensor(L, device=device).T

    s = sample(mu1, np.linalg.cholesky(cov1)) + sample(mu2, np.linalg.cholesky(cov2))
    mean, cov = formulas.get("gaussian-sum").evaluate(mu1=mu1, cov1=cov1, mu2=mu2, cov2=cov2)
    scale = np.abs(cov).max()
    # 1e5 samples: standard errors ~ sqrt(cov/n) ~ 0.3% of the scale; 3% is > 5 sigma
    np.testing.assert_allclose(s.mean(0).cpu().numpy(), mean, atol=0.03 * np.sqrt(scale))
    np.testing.assert_allclose(np.cov(s.cpu().numpy().T), cov, atol=0.03 * scale)
    a = rng.uniform(-3, 3)
    m, c = formulas.get("gaussian-scaling").evaluate(a=a, mu=mu1, cov=cov1)
    scaled = a * sample(mu1, np.linalg.cholesky(cov1))
    np.testing.assert_allclose(np.cov(scaled.cpu().numpy().T), c, atol=0.03 * np.abs(c).max())
    np.testing.assert_allclose(
        scaled.mean(0).cpu().numpy(), m, atol=0.03 * np.sqrt(np.abs(c).max())
    )


@given(st.integers(0, 1000))
def test_bayes_rule_from_a_joint_table(device, seed):
    joint = np.random.default_rng(seed).dirichlet(np.ones(12)).reshape(3, 4)  # P(A=i, B=j)
    p_a, p_b = joint.sum(1), joint.sum(0)
    p_b_given_a = joint / p_a[:, None]
    posterior = formulas.get("bayes-rule").evaluate(
        p_b_given_a=p_b_given_a, p_a=p_a[:, None], p_b=p_b[None, :]
    )
    np.testing.assert_allclose(posterior, joint / p_b[None, :], atol=1e-12)


@given(st.integers(0, 1000))
def test_volume_change_of_additive_coupling_by_autograd(device, seed):
    rng = np.random.default_rng(seed)
    W = torch.tensor(rng.normal(size=(2, 2)), device=device)

    def coupling(x):  # NICE additive coupling: volume preserving
        return torch.cat([x[:2], x[2:] + torch.tanh(W @ x[:2])])

    def affine(x):  # scales the second half by 2: volume x4
        return torch.cat([x[:2], 2 * x[2:] + torch.tanh(W @ x[:2])])

    x = torch.tensor(rng.normal(size=4), device=device)
    f = formulas.get("volume-preservation")
    J = torch.autograd.functional.jacobian(coupling, x).cpu().numpy()
    assert f.evaluate(jacobian=J) == pytest.approx(1.0, abs=1e-12)
    J2 = torch.autograd.functional.jacobian(affine, x).cpu().numpy()
    assert f.evaluate(jacobian=J2) == pytest.approx(4.0, abs=1e-12)


def test_gaussian_sum_erratum_numbers():
    evidence = formulas.get("gaussian-sum").erratum.evidence()
    assert evidence.sheet_fails is True and evidence.correct_passes is True, evidence.detail
    assert formulas.get("gaussian-sum").erratum.severity == "error"


def test_secant_claim_measures_superlinear_order():
    from formulas.core import REGISTRY

    formulas.all()
    evidence = REGISTRY.claim("secant-approximates-newton").check()
    assert evidence.sheet_fails is False and evidence.correct_passes is True, evidence.detail


@given(st.integers(0, 1000))
def test_gaussian_scaling_density_matches_scipy(device, seed):
    """The statement's density at a point, against scipy's N(a mu, a^2 sigma^2)."""
    import sympy as sp
    from scipy.stats import norm

    rng = np.random.default_rng(seed)
    a, mu, sigma, y = (
        rng.uniform(0.2, 3) * rng.choice([-1, 1]),
        rng.normal(),
        rng.uniform(0.3, 2),
        rng.normal(),
    )
    rhs = formulas.get("gaussian-scaling").statement.rhs
    values = {s: v for s, v in zip(sorted(rhs.free_symbols, key=str), (a, mu, sigma, y))}
    assert sorted(map(str, values)) == ["a", "mu", "sigma", "y"]
    assert float(rhs.subs(values)) == pytest.approx(norm(a * mu, abs(a) * sigma).pdf(y), rel=1e-10)
    assert not isinstance(
        formulas.get("matrix-determinant-lemma").statement, sp.logic.boolalg.BooleanAtom
    )
