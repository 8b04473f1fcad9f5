"""ML-basics formulas against torch losses/autograd, sklearn estimators and torch.distributions."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import formulas

TOPIC = "ml"


@given(st.integers(0, 1000))
def test_perceptron_epoch_matches_sklearn(device, seed):
    from sklearn.linear_model import Perceptron

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, 3))
    y = np.where(X @ rng.normal(size=3) > 0, 1, -1)
    w = np.zeros(3)
    for x_i, y_i in zip(X, y):
        w = formulas.get("perceptron-update").evaluate(w=w, x=x_i, y=y_i)
    clf = Perceptron(fit_intercept=False, shuffle=False, max_iter=1, tol=None, eta0=1.0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "max_iter reached" is the point here
        clf.fit(X, y)
    np.testing.assert_allclose(w, clf.coef_[0], atol=1e-12)


@given(st.integers(0, 1000), st.floats(0.1, 2.0), st.floats(0.1, 5.0))
def test_mle_and_map_against_sklearn(device, seed, noise_var, prior_var):
    from sklearn.linear_model import LinearRegression, Ridge

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(20, 3))
    y = X @ rng.normal(size=3) + rng.normal(size=20) * np.sqrt(noise_var)
    mle = formulas.get("mle-estimate").evaluate(X=X, y=y)
    np.testing.assert_allclose(
        mle, LinearRegression(fit_intercept=False).fit(X, y).coef_, atol=1e-10
    )
    map_ = formulas.get("map-estimate").evaluate(X=X, y=y, noise_var=noise_var, prior_var=prior_var)
    ridge = Ridge(alpha=noise_var / prior_var, fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(map_, ridge.coef_, atol=1e-10)
    # and the MAP maximises the log posterior: autograd gradient vanishes there
    theta = torch.tensor(map_, device=device, requires_grad=True)
    Xt, yt = torch.tensor(X, device=device), torch.tensor(y, device=device)
    log_post = -((yt - Xt @ theta) ** 2).sum() / (2 * noise_var) - (theta**2).sum() / (
        2 * prior_var
    )
    (grad,) = torch.autograd.grad(log_post, theta)
    assert grad.abs().max().item() < 1e-8


@given(st.integers(0, 1000))
def test_bce_and_cross_entropy_against_torch(device, seed):
    rng = np.random.default_rng(seed)
    y, y_hat = rng.uniform(size=8), rng.uniform(0.01, 0.99, size=8)
    bce = formulas.get("binary-cross-entropy").evaluate(y=y, y_hat=y_hat)
    ref = F.binary_cross_entropy(
        torch.tensor(y_hat, device=device), torch.tensor(y, device=device), reduction="none"
    )
    np.testing.assert_allclose(bce, ref.cpu().numpy(), atol=1e-12)
    p, q = rng.dirichlet(np.ones(5), size=3), rng.dirichlet(np.ones(5), size=3)
    H = formulas.get("cross-entropy-decomposition").evaluate(p=p, q=q)
    P = torch.distributions.Categorical(probs=torch.tensor(p, device=device))
    Q = torch.distributions.Categorical(probs=torch.tensor(q, device=device))
    ref = P.entropy() + torch.distributions.kl_divergence(P, Q)
    np.testing.assert_allclose(H, ref.cpu().numpy(), atol=1e-12)
    # and torch's soft-label cross_entropy on log q
    soft = F.cross_entropy(
        torch.log(torch.tensor(q, device=device)), torch.tensor(p, device=device), reduction="none"
    )
    np.testing.assert_allclose(H, soft.cpu().numpy(), atol=1e-12)


@given(st.lists(st.floats(-30, 30), min_size=1, max_size=8))
def test_activations_and_derivatives_against_torch_autograd(device, values):
    x = np.array(values)
    for name, fn in (("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("relu", torch.relu)):
        xt = torch.tensor(x, device=device, requires_grad=True)
        y = fn(xt)
        (grad,) = torch.autograd.grad(y.sum(), xt)
        out = formulas.get(name).evaluate(x=x)
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, y.detach().cpu().numpy(), atol=1e-12)
        np.testing.assert_allclose(
            formulas.get(f"{name}-derivative").evaluate(x=x), grad.cpu().numpy(), atol=1e-12
        )


@given(st.integers(0, 1000), st.integers(1, 5), st.integers(1, 5), st.integers(1, 5))
def test_mlp_backprop_against_autograd(device, seed, n_in, n_hidden, n_out):
    rng = np.random.default_rng(seed)
    W1, b1 = rng.normal(size=(n_hidden, n_in)), rng.normal(size=n_hidden)
    W2, b2 = rng.normal(size=(n_out, n_hidden)), rng.normal(size=n_out)
    x, target = rng.normal(size=n_in), rng.normal(size=n_out)
    params = [torch.tensor(a, device=device, requires_grad=True) for a in (W1, b1, W2, b2)]
    a1 = params[0] @ torch.tensor(x, device=device) + params[1]
    z1 = torch.tanh(a1)
    z1.retain_grad()
    a2 = params[2] @ z1 + params[3]
    z2 = torch.sigmoid(a2)
    z2.retain_grad()
    (0.5 * ((z2 - torch.tensor(target, device=device)) ** 2).sum()).backward()
    fprime2 = formulas.get("sigmoid-derivative").evaluate(x=a2.detach().cpu().numpy())
    fprime1 = formulas.get("tanh-derivative").evaluate(x=a1.detach().cpu().numpy())
    delta2 = z2.grad.cpu().numpy()
    delta1 = formulas.get("mlp-backward-delta").evaluate(
        delta_next=delta2, W_next=W2, fprime_next=fprime2
    )
    np.testing.assert_allclose(delta1, z1.grad.cpu().numpy(), atol=1e-12)
    z1_np = z1.detach().cpu().numpy()
    grads = [p.grad.cpu().numpy() for p in params]
    np.testing.assert_allclose(
        formulas.get("mlp-backward-weights").evaluate(delta=delta2, fprime=fprime2, z_prev=z1_np),
        grads[2],
        atol=1e-12,
    )
    np.testing.assert_allclose(
        formulas.get("mlp-backward-weights").evaluate(delta=delta1, fprime=fprime1, z_prev=x),
        grads[0],
        atol=1e-12,
    )
    np.testing.assert_allclose(
        formulas.get("mlp-backward-bias").evaluate(delta=delta1, fprime=fprime1),
        grads[1],
        atol=1e-12,
    )


# ------------------------------------------------------------------------------------------
# proofs, definitions, errata and claims of section 10 / 10.1

from formulas.core import REGISTRY  # noqa: E402
from formulas.proof import build_report, prove  # noqa: E402

ML_IDS = [f.id for f in formulas.all() if f.topic == "ml"]


def test_every_ml_formula_is_proved_or_an_honest_definition():
    for formula_id in ML_IDS:
        formula = formulas.get(formula_id)
        assert formula.kind in ("derived", "definition"), formula_id
        if formula.kind == "derived":
            proof = prove(formula)
            assert proof.passed is True, (formula_id, proof.failures)
        else:
            report = build_report(formula)
            assert report["properties"] and report["passed"] is True, report["failures"]


def test_relu_derivative_is_a_definition_not_a_derivation():
    assert formulas.get("relu-derivative").kind == "definition"
    assert formulas.get("sigmoid-derivative").kind == "derived"


def test_backprop_statements_keep_the_transpose_on_the_left():
    rhs = formulas.get("mlp-backward-delta").statement.rhs
    assert str(rhs).startswith("W^(l+1).T*")
    assert str(formulas.get("mlp-backward-weights").statement.rhs).endswith("*z^(l-1).T")


def test_weight_gradient_erratum_against_autograd():
    # torch autograd, independent of the finite differences inside the evidence
    rng = np.random.default_rng(0)
    W1, W2 = (torch.tensor(m, requires_grad=True) for m in rng.normal(size=(2, 3, 3)))
    x, target = (torch.tensor(v) for v in rng.normal(size=(2, 3)))
    z1 = torch.sigmoid(W1 @ x)
    a2 = W2 @ z1
    z2 = torch.sigmoid(a2)
    (0.5 * ((z2 - target) ** 2).sum()).backward()
    delta, fprime = (z2 - target).detach().numpy(), (z2 * (1 - z2)).detach().numpy()
    right = formulas.get("mlp-backward-weights").evaluate(
        delta=delta, fprime=fprime, z_prev=z1.detach().numpy()
    )
    np.testing.assert_allclose(right, W2.grad.numpy(), atol=1e-12)
    sheet = np.outer(delta * fprime, z2.detach().numpy())
    assert np.max(np.abs(sheet - W2.grad.numpy())) > 1e-3
    evidence = formulas.get("mlp-backward-weights").erratum.evidence()
    assert evidence.state == "confirmed" and "sheet's form [" in evidence.detail


def test_polynomial_activation_cannot_approximate():
    # independent of the claim's code: span{(w x + b)^2} is the quadratics (rank 3)
    x = np.linspace(-1, 1, 50)
    rng = np.random.default_rng(3)
    features = np.square(np.outer(x, rng.normal(size=40)) + rng.normal(size=40))
    assert np.linalg.matrix_rank(features) == 3
    assert REGISTRY.claim("universal-approximation-conditions").check().state == "confirmed"


def test_ml_claims_are_borne_out():
    for claim in REGISTRY.claims():
        if claim.topic != "ml" or claim.check is None:
            continue
        evidence = claim.check()
        if claim.verdict == "correct":
            assert evidence.sheet_fails is False and evidence.correct_passes is True, claim.id
        else:
            assert evidence.state == "confirmed", (claim.id, evidence.detail)
