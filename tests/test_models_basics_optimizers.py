"""The sheet's optimizers step for step against torch.optim (and the registry formulas), over
hypothesis-generated shapes, hyperparameters and gradient sequences; the momentum forms' stated
equivalences (velocity v = -lr * torch's buffer; Nesterov's look-ahead parametrisation)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from cheatsheet.models.optimizers import (
    SGD,
    AdaGrad,
    Adam,
    Nesterov,
    PolyakMomentum,
    RMSProp,
    nesterov_sheet_step,
)

shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple)
learning_rates = st.floats(1e-3, 0.5)
momenta = st.floats(0.0, 0.99)
positive_momenta = st.floats(0.01, 0.99)  # torch keeps no buffer (and no Nesterov) at 0


def _pair(ours_class, torch_class, our_kwargs, torch_kwargs, shape, seed, device, steps=6):
    """Run both optimizers on the same parameters with the same gradient sequence."""
    generator = torch.Generator().manual_seed(seed)
    start = torch.randn(shape, generator=generator, dtype=torch.float64)
    ours = start.clone().to(device).requires_grad_()
    theirs = start.clone().to(device).requires_grad_()
    our_optimizer = ours_class([ours], **our_kwargs)
    torch_optimizer = torch_class([theirs], **torch_kwargs)
    for _ in range(steps):
        gradient = torch.randn(shape, generator=generator, dtype=torch.float64).to(device)
        gradient = gradient * torch.rand((), generator=generator, dtype=torch.float64).item() * 3
        ours.grad, theirs.grad = gradient.clone(), gradient.clone()
        our_optimizer.step()
        torch_optimizer.step()
        torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-12)
    return our_optimizer, torch_optimizer, ours, theirs


@given(shape=shapes, seed=st.integers(0, 1000), lr=learning_rates)
def test_sgd_matches_torch(device, shape, seed, lr):
    _pair(SGD, torch.optim.SGD, {"lr": lr}, {"lr": lr}, shape, seed, device)


@given(shape=shapes, seed=st.integers(0, 1000), lr=learning_rates, momentum=positive_momenta)
def test_polyak_momentum_matches_torch_and_velocity_is_minus_lr_buffer(
    device, shape, seed, lr, momentum
):
    ours, theirs, p, q = _pair(PolyakMomentum, torch.optim.SGD,
                               {"lr": lr, "momentum": momentum},
                               {"lr": lr, "momentum": momentum}, shape, seed, device)  # fmt: skip
    torch.testing.assert_close(ours.state[p]["velocity"], -lr * theirs.state[q]["momentum_buffer"])


@given(shape=shapes, seed=st.integers(0, 1000), lr=learning_rates, momentum=positive_momenta)
def test_nesterov_matches_torch(device, shape, seed, lr, momentum):
    _pair(Nesterov, torch.optim.SGD, {"lr": lr, "momentum": momentum},
          {"lr": lr, "momentum": momentum, "nesterov": True}, shape, seed, device)  # fmt: skip


@given(seed=st.integers(0, 1000), lr=st.floats(1e-3, 0.1), momentum=momenta)
def test_nesterov_lookahead_form_equals_the_sheets_literal_form(device, seed, lr, momentum):
    # A non-quadratic loss, so the gradient's evaluation point matters.
    generator = torch.Generator().manual_seed(seed)
    A = torch.randn(4, 4, generator=generator, dtype=torch.float64).to(device)
    start = torch.randn(4, generator=generator, dtype=torch.float64).to(device)

    def loss(x):
        return (A @ x).pow(2).sum() / 8 + torch.sin(3 * x).sum()

    def gradient_at(point):
        point = point.detach().requires_grad_()
        return torch.autograd.grad(loss(point), point)[0]

    theta, velocity = start.clone(), torch.zeros_like(start)
    phi = start.clone().requires_grad_()  # v0 = 0, so phi0 = theta0
    optimizer = Nesterov([phi], lr=lr, momentum=momentum)
    for _ in range(8):
        theta, velocity = nesterov_sheet_step(theta, velocity, gradient_at, lr, momentum)
        optimizer.zero_grad()
        loss(phi).backward()
        optimizer.step()
        torch.testing.assert_close(optimizer.theta_of(phi), theta, rtol=1e-9, atol=1e-11)
        torch.testing.assert_close(phi.detach(), theta + momentum * velocity)


@given(shape=shapes, seed=st.integers(0, 1000), lr=learning_rates,
       delta=st.sampled_from([1e-10, 1e-6, 1e-2]))  # fmt: skip
def test_adagrad_matches_torch(device, shape, seed, lr, delta):
    _pair(AdaGrad, torch.optim.Adagrad, {"lr": lr, "delta": delta},
          {"lr": lr, "eps": delta}, shape, seed, device)  # fmt: skip


@given(shape=shapes, seed=st.integers(0, 1000), lr=learning_rates, rho=st.floats(0.5, 0.999),
       delta=st.sampled_from([1e-8, 1e-3]))  # fmt: skip
def test_rmsprop_matches_torch(device, shape, seed, lr, rho, delta):
    _pair(RMSProp, torch.optim.RMSprop, {"lr": lr, "rho": rho, "delta": delta},
          {"lr": lr, "alpha": rho, "eps": delta}, shape, seed, device)  # fmt: skip


@given(shape=shapes, seed=st.integers(0, 1000), lr=learning_rates, beta1=st.floats(0.0, 0.99),
       beta2=st.floats(0.5, 0.9999), eps=st.sampled_from([1e-8, 1e-3, 0.1]))  # fmt: skip
def test_adam_matches_torch(device, shape, seed, lr, beta1, beta2, eps):
    _pair(Adam, torch.optim.Adam, {"lr": lr, "betas": (beta1, beta2), "eps": eps},
          {"lr": lr, "betas": (beta1, beta2), "eps": eps}, shape, seed, device)  # fmt: skip


def test_adam_sheet_erratum_differs_from_torch():
    # The sheet's lr / sqrt(v_hat + eps) is not what torch (or Kingma and Ba) compute: with a
    # large eps on a small gradient the two steps differ visibly, and ours matches torch.
    start = torch.tensor([1.0, -2.0], dtype=torch.float64)
    g = torch.tensor([1e-3, 2e-3], dtype=torch.float64)
    eps, lr = 1e-4, 0.1
    p = start.clone().requires_grad_()
    p.grad = g.clone()
    Adam([p], lr=lr, eps=eps).step()
    # First step: m_hat = g, v_hat = g^2.
    right = start - lr * g / (g.abs() + eps)
    sheet = start - lr * g / torch.sqrt(g * g + eps)
    torch.testing.assert_close(p.detach(), right)
    assert (right - sheet).abs().max() > 1e-2


@pytest.mark.parametrize(
    ("formula_id", "ours", "kwargs", "state_key", "formula_kwargs"),
    [
        ("sgd-update", SGD, {"lr": 0.1}, None, {"lr": 0.1}),
        ("polyak-momentum-update", PolyakMomentum, {"lr": 0.1, "momentum": 0.9}, "velocity",
         {"lr": 0.1, "momentum": 0.9}),
        ("adagrad-update", AdaGrad, {"lr": 0.1, "delta": 1e-10}, "r", {"lr": 0.1, "eps": 1e-10}),
        ("rmsprop-update", RMSProp, {"lr": 0.1, "rho": 0.9, "delta": 1e-8}, "r",
         {"lr": 0.1, "rho": 0.9, "eps": 1e-8}),
    ],
)  # fmt: skip
def test_second_step_matches_the_registry_formula(formula_id, ours, kwargs, state_key,
                                                  formula_kwargs):  # fmt: skip
    import formulas

    formula = formulas.get(formula_id)
    generator = torch.Generator().manual_seed(3)
    theta = torch.randn(5, generator=generator, dtype=torch.float64).requires_grad_()
    optimizer = ours([theta], **kwargs)
    theta.grad = torch.randn(5, generator=generator, dtype=torch.float64)
    optimizer.step()  # a first step, so the state is non-trivial
    before = theta.detach().clone()
    state = {state_key[0] if state_key == "velocity" else state_key:
             optimizer.state[theta][state_key].clone().numpy()} if state_key else {}  # fmt: skip
    theta.grad = torch.randn(5, generator=generator, dtype=torch.float64)
    expected = formula.evaluate(theta=before.numpy(), grad=theta.grad.numpy(), **state,
                                **formula_kwargs)  # fmt: skip
    optimizer.step()
    np.testing.assert_allclose(theta.detach().numpy(), np.asarray(expected, float), rtol=1e-12)


def test_adam_matches_the_registry_formula():
    import formulas

    generator = torch.Generator().manual_seed(4)
    theta = torch.randn(5, generator=generator, dtype=torch.float64).requires_grad_()
    optimizer = Adam([theta], lr=0.05)
    for _ in range(3):
        theta.grad = torch.randn(5, generator=generator, dtype=torch.float64)
        state = optimizer.state[theta]
        m = state["m"].clone().numpy() if state else np.zeros(5)
        v = state["v"].clone().numpy() if state else np.zeros(5)
        t = state.get("t", 0) + 1
        expected = formulas.get("adam-update").evaluate(
            theta=theta.detach().numpy().copy(), grad=theta.grad.numpy(), m=m, v=v, t=t, lr=0.05
        )
        optimizer.step()
        np.testing.assert_allclose(theta.detach().numpy(), np.asarray(expected, float), rtol=1e-12)
