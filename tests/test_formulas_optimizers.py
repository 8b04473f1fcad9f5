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


# ------------------------------------------------------------------------------------------
# proofs, definitions, errata and claims of section 10.2

from formulas.core import REGISTRY  # noqa: E402
from formulas.proof import build_report, prove  # noqa: E402

OPTIMIZER_IDS = [f.id for f in formulas.all() if f.topic == TOPIC]


def test_every_optimizer_formula_is_proved_or_an_honest_definition():
    for formula_id in OPTIMIZER_IDS:
        formula = formulas.get(formula_id)
        assert formula.kind in ("derived", "definition"), formula_id
        if formula.kind == "derived":
            proof = prove(formula)
            assert proof.passed is True, (formula_id, proof.failures)
        else:
            report = build_report(formula)
            assert report["properties"] and report["passed"] is True, report["failures"]


def test_adam_erratum_shows_numbers_and_torch_agrees_with_the_right_form():
    erratum = formulas.get("adam-update").erratum
    evidence = erratum.evidence()
    assert evidence.state == "confirmed" and "sheet's form [" in evidence.detail
    assert erratum.severity == "error" and erratum.sheet_lines == (309, 309)


def test_rmsprop_statement_is_torchs_step_from_zero_state():
    # independent: one torch.optim.RMSprop step from r = 0 equals the one-line statement
    import sympy as sp

    theta0, g = np.array([0.3, -1.2]), np.array([0.5, 2.0])
    param = torch.tensor(theta0, requires_grad=True)
    optimizer = torch.optim.RMSprop([param], lr=0.01, alpha=0.9, eps=1e-8)
    param.grad = torch.tensor(g)
    optimizer.step()
    statement = formulas.get("rmsprop-update").statement
    values = {s.name: s for s in statement.rhs.free_symbols}
    for k in range(2):
        expected = statement.rhs.subs(
            {
                values["theta"]: theta0[k],
                values["g"]: g[k],
                values["r"]: 0,
                values["rho"]: sp.Rational(9, 10),
                values["epsilon"]: sp.Rational(1, 100),
                values["delta"]: sp.Float(1e-8),
            }
        )
        assert abs(float(expected) - param.detach().numpy()[k]) < 1e-12


def test_optimizer_claims_are_borne_out():
    claims = [c for c in REGISTRY.claims() if c.topic == TOPIC]
    assert {"rmsprop-step-omitted", "sgd-minibatch", "momentum-faster"} <= {c.id for c in claims}
    for claim in claims:
        if claim.check is None:
            continue
        evidence = claim.check()
        assert evidence.sheet_fails is False and evidence.correct_passes is True, claim.id
