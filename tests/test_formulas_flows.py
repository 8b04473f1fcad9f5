"""Flow log-determinants against torch.linalg.slogdet of autograd Jacobians, and the linear
flow's density against torch.distributions.MultivariateNormal."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch.autograd.functional import jacobian

import formulas

TOPIC = "flows"
TESTED_EVALUATORS = {
    "change-of-variables",
    "triangular-determinant",
    "affine-coupling-logdet",
    "actnorm-logdet",
    "conv1x1-logdet",
    "conv1x1-lu-parametrisation",
    "conv1x1-lu-layer-logdet",
    "srflow-affine-injector-logdet",
}


def test_every_evaluator_has_an_oracle_test():
    assert {f.id for f in formulas.by_topic(TOPIC) if f.evaluator} == TESTED_EVALUATORS


def _t(array, device):
    return torch.as_tensor(np.asarray(array), dtype=torch.float64, device=device)


def _slogdet_of_jacobian(fn, x):
    J = jacobian(fn, x)
    J = J.reshape(x.numel(), x.numel())
    return torch.linalg.slogdet(J).logabsdet.item()


@given(st.integers(0, 2**16), st.integers(1, 4))
def test_linear_flow_density_matches_multivariate_normal(device, seed, n):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n)) + 2 * np.eye(n)
    b, x = rng.normal(size=n), rng.normal(size=(5, n))
    ours = formulas.get("change-of-variables").evaluate(x=x, A=A, b=b)
    At = _t(A, device)
    reference = torch.distributions.MultivariateNormal(_t(b, device), covariance_matrix=At @ At.T)
    np.testing.assert_allclose(ours, reference.log_prob(_t(x, device)).cpu().numpy(), rtol=1e-9)


@given(st.integers(0, 2**16), st.integers(1, 6))
def test_triangular_logdet_matches_slogdet(device, seed, n):
    rng = np.random.default_rng(seed)
    J = np.tril(rng.normal(size=(2, n, n)))
    ours = formulas.get("triangular-determinant").evaluate(J=J)
    reference = torch.linalg.slogdet(_t(J, device)).logabsdet
    np.testing.assert_allclose(ours, reference.cpu().numpy(), rtol=1e-10)


@given(st.integers(0, 2**16), st.integers(1, 3), st.integers(1, 3))
def test_affine_coupling_logdet_matches_autograd_jacobian(device, seed, d_a, d_b):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(d_b, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2 * d_a)
    ).double()
    net = net.to(device)

    def coupling(x):  # RealNVP: y_A = x_A exp(s(x_B)) + t(x_B), y_B = x_B
        x_a, x_b = x[:d_a], x[d_a:]
        s, t = net(x_b).split(d_a)
        return torch.cat([x_a * torch.exp(s) + t, x_b])

    x = torch.randn(d_a + d_b, dtype=torch.float64, device=device)
    log_scale = net(x[d_a:])[:d_a].detach().cpu().numpy()
    ours = formulas.get("affine-coupling-logdet").evaluate(log_scale=log_scale)
    np.testing.assert_allclose(ours, _slogdet_of_jacobian(coupling, x), rtol=1e-9, atol=1e-12)


@given(st.integers(0, 2**16), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
def test_actnorm_logdet_matches_autograd_jacobian(device, seed, channels, height, width):
    rng = np.random.default_rng(seed)
    s = rng.uniform(0.2, 2.0, size=channels) * rng.choice([-1, 1], size=channels)
    b = rng.normal(size=channels)
    st_, bt = _t(s, device)[:, None, None], _t(b, device)[:, None, None]
    x = _t(rng.normal(size=(channels, height, width)), device)
    reference = _slogdet_of_jacobian(lambda v: st_ * v + bt, x)
    ours = formulas.get("actnorm-logdet").evaluate(s=s, height=height, width=width)
    np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-12)


@given(st.integers(0, 2**16), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3))
def test_conv1x1_logdet_matches_autograd_jacobian(device, seed, channels, height, width):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(channels, channels))
    Wt = _t(W, device)[:, :, None, None]
    x = _t(rng.normal(size=(1, channels, height, width)), device)
    reference = _slogdet_of_jacobian(lambda v: F.conv2d(v, Wt), x)
    ours = formulas.get("conv1x1-logdet").evaluate(W=W, height=height, width=width)
    np.testing.assert_allclose(ours, reference, rtol=1e-8, atol=1e-10)


@given(st.integers(0, 2**16), st.integers(1, 5))
def test_lu_logdet_matches_slogdet_of_the_assembled_matrix(device, seed, channels):
    rng = np.random.default_rng(seed)
    P = np.eye(channels)[rng.permutation(channels)]
    L = np.tril(rng.normal(size=(channels, channels)), -1) + np.eye(channels)
    U = np.triu(rng.normal(size=(channels, channels)), 1)
    s = rng.uniform(0.2, 2.0, size=channels) * rng.choice([-1, 1], size=channels)
    W = _t(P, device) @ _t(L, device) @ (_t(U, device) + torch.diag(_t(s, device)))
    reference = torch.linalg.slogdet(W).logabsdet.item()
    ours = formulas.get("conv1x1-lu-parametrisation").evaluate(s=s)
    np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-12)


@given(st.integers(0, 2**16), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3))
def test_lu_layer_logdet_matches_autograd_jacobian_of_the_conv(device, seed, channels, h, w):
    rng = np.random.default_rng(seed)
    P = np.eye(channels)[rng.permutation(channels)]
    L = np.tril(rng.normal(size=(channels, channels)), -1) + np.eye(channels)
    U = np.triu(rng.normal(size=(channels, channels)), 1)
    s = rng.uniform(0.2, 2.0, size=channels) * rng.choice([-1, 1], size=channels)
    kernel = _t(P, device) @ _t(L, device) @ (_t(U, device) + torch.diag(_t(s, device)))
    x = _t(rng.normal(size=(1, channels, h, w)), device)
    reference = _slogdet_of_jacobian(lambda v: F.conv2d(v, kernel[:, :, None, None]), x)
    ours = formulas.get("conv1x1-lu-layer-logdet").evaluate(s=s, height=h, width=w)
    np.testing.assert_allclose(ours, reference, rtol=1e-8, atol=1e-10)
    # the sheet's sum log|s_i| (without H W) is the layer's log det only for a 1 x 1 image
    if h * w > 1 and abs(reference) > 1e-6:
        assert not np.isclose(np.log(np.abs(s)).sum(), reference, rtol=1e-6)


@given(st.integers(0, 2**16), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
def test_srflow_injector_logdet_matches_autograd_jacobian(device, seed, channels, height, width):
    torch.manual_seed(seed)
    cond = torch.nn.Conv2d(2, 2 * channels, 3, padding=1).double().to(device)
    u = torch.randn(1, 2, height, width, dtype=torch.float64, device=device)  # low-res features
    scale, shift = cond(u).detach().split(channels, dim=1)

    def injector(h):  # h^{n+1} = exp(beta_s(u)) h^n + beta_b(u)
        return torch.exp(scale) * h + shift

    h = torch.randn(1, channels, height, width, dtype=torch.float64, device=device)
    ours = formulas.get("srflow-affine-injector-logdet").evaluate(log_scale=scale.cpu().numpy())
    np.testing.assert_allclose(ours[0], _slogdet_of_jacobian(injector, h), rtol=1e-9, atol=1e-12)


def test_contract_keywords_dtypes_and_broadcasting():
    assert formulas.get("actnorm-logdet").parameters == ["s", "height", "width"]
    assert formulas.get("conv1x1-logdet").parameters == ["W", "height", "width"]
    s = np.array([[0.5, 2.0, -3.0], [1.0, 1.0, 1.0]])
    out = formulas.get("actnorm-logdet").evaluate(s=s, height=4, width=5)
    assert out.dtype == np.float64 and out.shape == (2,)
    np.testing.assert_allclose(out[1], 0.0)
    Ws = np.stack([np.eye(3), 2 * np.eye(3)])
    out = formulas.get("conv1x1-logdet").evaluate(W=Ws, height=2, width=3)
    assert out.dtype == np.float64 and out.shape == (2,)
    np.testing.assert_allclose(out, [0.0, 6 * 3 * np.log(2)])
    assert isinstance(
        formulas.get("conv1x1-logdet").evaluate(W=np.eye(2), height=1, width=1), np.float64
    )


def test_old_lu_id_still_resolves_and_errata_carry_severity_and_lines():
    assert formulas.get("conv1x1-lu-logdet").id == "conv1x1-lu-parametrisation"
    expected = {
        "flow-composition": ("error", (84, 84)),
        "coupling-jacobian": ("error", (80, 80)),
        "conv1x1-lu-parametrisation": ("typo", (97, 97)),
        "conv1x1-lu-layer-logdet": ("error", (97, 97)),
    }
    found = {
        f.id: (f.erratum.severity, f.erratum.sheet_lines)
        for f in formulas.by_topic(TOPIC)
        if f.erratum
    }
    assert found == expected


def test_every_flows_formula_is_proved_or_an_honest_definition():
    from formulas.proof import prove

    for formula in formulas.by_topic(TOPIC):
        if formula.kind == "derived":
            proof = prove(formula)
            assert proof.passed is True, (formula.id, proof.failures)
        else:
            assert formula.kind == "definition", formula.id
            assert formula.properties and all(s.check().passed for s in formula.properties)


def test_flows_claim_checks_bear_out_the_correct_claims():
    from formulas.core import REGISTRY

    claims = [c for c in REGISTRY.claims() if c.topic == TOPIC]
    assert {c.id for c in claims if c.verdict == "typo"} == {"glow-multiscale-pipeline"}
    for claim in claims:
        if claim.check is not None:
            evidence = claim.check()
            assert claim.verdict == "correct"
            assert evidence.sheet_fails is False and evidence.correct_passes is True, claim.id


def test_lu_layer_erratum_sentence_follows_the_numbers():
    from formulas.core import compare_forms

    same = compare_forms(reference=1.0, sheet=1.0, correct=1.0, reference_name="r")
    assert "agrees" in same.detail and same.sheet_fails is False
    evidence = formulas.get("conv1x1-lu-layer-logdet").erratum.evidence()
    assert evidence.sheet_fails is True and evidence.correct_passes is True
    assert "sheet's form" in evidence.detail and "differs" in evidence.detail
