"""Optimizer updates against torch.optim, step for step (several steps, state carried over)."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

import formulas

TOPIC = "optimizers"


def quadratic(seed, n):
    """A random convex quadratic L(x) = 1/2 x^T A x + b^T x; its gradient in numpy and torch."""
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(n, n))
    A = M @ M.T / n + np.eye(n)
    b = rng.normal(size=n)
    return rng, A, b


def torch_trajectory(optimizer_cls, x0, A, b, steps, device, **kwargs):
    param = torch.tensor(x0, device=device, requires_grad=True)
    At, bt = torch.tensor(A, device=device), torch.tensor(b, device=device)
    optimizer = optimizer_cls([param], **kwargs)
    points = []
    for _ in range(steps):
        optimizer.zero_grad()
        (0.5 * param @ At @ param + bt @ param).backward()
        optimizer.step()
        points.append(param.detach().cpu().numpy().copy())
    return points


settings_args = (st.integers(0, 10_000), st.integers(1, 5), st.floats(1e-3, 0.3))


@given(*settings_args)
def test_sgd_matches_torch(device, seed, n, lr):
    rng, A, b = quadratic(seed, n)
    x = rng.normal(size=n)
    reference = torch_trajectory(torch.optim.SGD, x, A, b, 5, device, lr=lr)
    for expected in reference:
        x = formulas.get("sgd-update").evaluate(theta=x, grad=A @ x + b, lr=lr)
        assert x.dtype == np.float64
        np.testing.assert_allclose(x, expected, atol=1e-12)


@given(*settings_args, st.floats(0.0, 0.95))
def test_polyak_momentum_matches_torch_with_v_equal_minus_lr_buf(device, seed, n, lr, mu):
    rng, A, b = quadratic(seed, n)
    x = rng.normal(size=n)
    reference = torch_trajectory(torch.optim.SGD, x, A, b, 6, device, lr=lr, momentum=mu)
    v = np.zeros(n)
    for expected in reference:
        new = formulas.get("polyak-momentum-update").evaluate(
            theta=x, grad=A @ x + b, v=v, lr=lr, momentum=mu
        )
        x, v = new, new - x
        np.testing.assert_allclose(x, expected, atol=1e-12)


@given(*settings_args, st.floats(0.0, 0.95))
def test_nesterov_matches_torch_in_the_lookahead_variable(device, seed, n, lr, mu):
    mu = max(mu, 0.01)  # torch refuses nesterov with momentum 0
    rng, A, b = quadratic(seed, n)
    x = rng.normal(size=n)
    # torch's parameter is p = theta + mu v; with v_0 = 0 both start at the same point
    reference = torch_trajectory(
        torch.optim.SGD, x, A, b, 6, device, lr=lr, momentum=mu, nesterov=True
    )
    v = np.zeros(n)
    for expected in reference:
        lookahead = x + mu * v
        new = formulas.get("nesterov-update").evaluate(
            theta=x, grad=A @ lookahead + b, v=v, lr=lr, momentum=mu
        )
        x, v = new, new - x
        np.testing.assert_allclose(x + mu * v, expected, atol=1e-11)


@given(*settings_args)
def test_adagrad_matches_torch(device, seed, n, lr):
    rng, A, b = quadratic(seed, n)
    x = rng.normal(size=n)
    reference = torch_trajectory(torch.optim.Adagrad, x, A, b, 5, device, lr=lr)
    r = np.zeros(n)
    for expected in reference:
        g = A @ x + b
        x = formulas.get("adagrad-update").evaluate(theta=x, grad=g, r=r, lr=lr)
        r = r + g * g
        np.testing.assert_allclose(x, expected, atol=1e-12)


@given(*settings_args, st.floats(0.5, 0.999))
def test_rmsprop_matches_torch(device, seed, n, lr, rho):
    rng, A, b = quadratic(seed, n)
    x = rng.normal(size=n)
    reference = torch_trajectory(torch.optim.RMSprop, x, A, b, 5, device, lr=lr, alpha=rho)
    r = np.zeros(n)
    for expected in reference:
        g = A @ x + b
        x = formulas.get("rmsprop-update").evaluate(theta=x, grad=g, r=r, lr=lr, rho=rho)
        r = rho * r + (1 - rho) * g * g
        np.testing.assert_allclose(x, expected, atol=1e-12)


@given(*settings_args, st.floats(0.5, 0.99), st.floats(0.9, 0.9999), st.sampled_from([1e-8, 1e-3]))
def test_adam_matches_torch_step_for_step(device, seed, n, lr, beta1, beta2, eps):
    rng, A, b = quadratic(seed, n)
    x = rng.normal(size=n)
    reference = torch_trajectory(
        torch.optim.Adam, x, A, b, 6, device, lr=lr, betas=(beta1, beta2), eps=eps
    )
    m, v = np.zeros(n), np.zeros(n)
    for t, expected in enumerate(reference, start=1):
        g = A @ x + b
        x = formulas.get("adam-update").evaluate(
            theta=x, grad=g, m=m, v=v, t=t, lr=lr, beta1=beta1, beta2=beta2, eps=eps
        )
        m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
        np.testing.assert_allclose(x, expected, atol=1e-11)


def test_adam_contract_keywords_and_broadcasting():
    f = formulas.get("adam-update")
    assert f.parameters == ["theta", "grad", "m", "v", "t", "lr", "beta1", "beta2", "eps"]
    theta = np.zeros((2, 3))
    out = f.evaluate(theta=theta, grad=np.ones(3), m=0.0, v=0.0, t=1)
    assert out.shape == (2, 3) and out.dtype == np.float64
    # first step of Adam moves every coordinate by ~lr in the gradient's sign
    np.testing.assert_allclose(out, -1e-3 * np.ones((2, 3)), rtol=1e-6)
