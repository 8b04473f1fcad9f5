"""GAN formulas against torch: BCE, brute-force suprema over D, Categorical KL, autograd."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import formulas

TOPIC = "gan"
TESTED_EVALUATORS = {
    "gan-value-function",
    "gan-optimal-discriminator",
    "jsd",
    "gan-value-at-optimum",
    "gan-saturating-gradient",
    "gan-non-saturating-gradient",
    "fid",
    "stylegan-adain",
}


def test_every_evaluator_has_an_oracle_test():
    assert {f.id for f in formulas.by_topic(TOPIC) if f.evaluator} == TESTED_EVALUATORS


def _distributions(seed, batch, size):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(size), size=batch)
    q = rng.dirichlet(np.ones(size), size=batch)
    return p, q


def _t(array, device):
    return torch.as_tensor(np.asarray(array), dtype=torch.float64, device=device)


@given(st.integers(0, 2**16), st.integers(1, 4), st.integers(2, 7))
def test_value_function_matches_torch_bce(device, seed, batch, size):
    p, q = _distributions(seed, batch, size)
    D = np.random.default_rng(seed + 1).uniform(0.01, 0.99, size=(batch, size))
    ours = formulas.get("gan-value-function").evaluate(p_data=p, p_model=q, D=D)
    Dt = _t(D, device)
    reference = -(
        F.binary_cross_entropy(Dt, torch.ones_like(Dt), weight=_t(p, device), reduction="none")
        + F.binary_cross_entropy(Dt, torch.zeros_like(Dt), weight=_t(q, device), reduction="none")
    ).sum(-1)
    np.testing.assert_allclose(ours, reference.cpu().numpy(), rtol=1e-12)


@given(st.integers(0, 2**16), st.integers(2, 6))
def test_optimal_discriminator_is_the_argmax_of_v_by_grid_search(device, seed, size):
    p, q = _distributions(seed, 1, size)
    ours = formulas.get("gan-optimal-discriminator").evaluate(p_data=p[0], p_model=q[0])
    grid = torch.linspace(1e-6, 1 - 1e-6, 200001, dtype=torch.float64, device=device)
    a, b = _t(p[0], device)[:, None], _t(q[0], device)[:, None]
    values = a * torch.log(grid) + b * torch.log1p(-grid)
    argmax = grid[values.argmax(dim=1)].cpu().numpy()
    np.testing.assert_allclose(ours, argmax, atol=2e-5)


@given(st.integers(0, 2**16), st.integers(1, 4), st.integers(2, 7))
def test_jsd_matches_torch_categorical_kl(device, seed, batch, size):
    p, q = _distributions(seed, batch, size)
    ours = formulas.get("jsd").evaluate(p=p, q=q)
    P = torch.distributions.Categorical(probs=_t(p, device))
    Q = torch.distributions.Categorical(probs=_t(q, device))
    M = torch.distributions.Categorical(probs=(_t(p, device) + _t(q, device)) / 2)
    kl = torch.distributions.kl_divergence
    reference = 0.5 * kl(P, M) + 0.5 * kl(Q, M)
    np.testing.assert_allclose(ours, reference.cpu().numpy(), rtol=1e-10, atol=1e-14)
    assert np.all(ours >= -1e-15) and np.all(ours <= np.log(2) + 1e-12)


@given(st.integers(0, 2**16), st.integers(2, 6))
def test_value_at_optimum_equals_brute_force_sup_over_d(device, seed, size):
    p, q = _distributions(seed, 1, size)
    ours = formulas.get("gan-value-at-optimum").evaluate(p_data=p[0], p_model=q[0])
    grid = torch.linspace(1e-7, 1 - 1e-7, 400001, dtype=torch.float64, device=device)
    a, b = _t(p[0], device)[:, None], _t(q[0], device)[:, None]
    brute = (a * torch.log(grid) + b * torch.log1p(-grid)).max(dim=1).values.sum().item()
    # the grid maximum is below the true supremum by O(spacing^2)
    assert brute - 1e-9 <= ours <= brute + 1e-5
    M = torch.distributions.Categorical(probs=(_t(p[0], device) + _t(q[0], device)) / 2)
    kl = torch.distributions.kl_divergence
    jsd = 0.5 * kl(torch.distributions.Categorical(probs=_t(p[0], device)), M) + 0.5 * kl(
        torch.distributions.Categorical(probs=_t(q[0], device)), M
    )
    np.testing.assert_allclose(ours, -np.log(4) + 2 * jsd.item(), rtol=1e-10)


def test_value_at_optimum_is_minus_log_4_when_equal_and_handles_zeros():
    p = np.array([0.2, 0.3, 0.5, 0.0])
    f = formulas.get("gan-value-at-optimum")
    np.testing.assert_allclose(f.evaluate(p_data=p, p_model=p), -np.log(4), rtol=1e-14)
    disjoint = f.evaluate(p_data=np.array([1.0, 0.0]), p_model=np.array([0.0, 1.0]))
    np.testing.assert_allclose(disjoint, -np.log(4) + 2 * np.log(2), atol=1e-14)  # JSD = log 2


@given(st.integers(0, 2**16))
def test_generator_gradients_match_autograd(device, seed):
    logits = torch.as_tensor(
        np.random.default_rng(seed).normal(0, 4, size=7), dtype=torch.float64, device=device
    ).requires_grad_()
    (saturating,) = torch.autograd.grad(torch.log1p(-torch.sigmoid(logits)).sum(), logits)
    (non_saturating,) = torch.autograd.grad(F.logsigmoid(logits).sum(), logits)
    values = logits.detach().cpu().numpy()
    np.testing.assert_allclose(
        formulas.get("gan-saturating-gradient").evaluate(logit=values),
        saturating.cpu().numpy(),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        formulas.get("gan-non-saturating-gradient").evaluate(logit=values),
        non_saturating.cpu().numpy(),
        rtol=1e-10,
    )


@given(st.integers(0, 2**16), st.integers(1, 5))
def test_fid_matches_torch_symmetric_square_root(device, seed, dim):
    rng = np.random.default_rng(seed)
    A, B = rng.normal(size=(dim, dim)), rng.normal(size=(dim, dim))
    S1, S2 = A @ A.T + 0.1 * np.eye(dim), B @ B.T + 0.1 * np.eye(dim)
    m1, m2 = rng.normal(size=dim), rng.normal(size=dim)
    ours = formulas.get("fid").evaluate(mu1=m1, sigma1=S1, mu2=m2, sigma2=S2)

    def sqrt_psd(M):
        vals, vecs = torch.linalg.eigh(M)
        return vecs @ torch.diag(vals.clamp(min=0).sqrt()) @ vecs.T

    S1t, S2t = _t(S1, device), _t(S2, device)
    root = sqrt_psd(S1t)
    # Tr (S1 S2)^{1/2} = Tr (S1^{1/2} S2 S1^{1/2})^{1/2} (similar matrices)
    cross = torch.trace(sqrt_psd(root @ S2t @ root))
    reference = ((_t(m1, device) - _t(m2, device)) ** 2).sum() + torch.trace(S1t + S2t) - 2 * cross
    np.testing.assert_allclose(ours, reference.item(), rtol=1e-7, atol=1e-9)


@given(st.integers(0, 2**16), st.integers(1, 4), st.integers(2, 4))
def test_adain_matches_torch_instance_norm(device, seed, channels, size):
    rng = np.random.default_rng(seed)
    x = rng.normal(2, 3, size=(2, channels, size, size))
    scale, bias = rng.normal(size=channels), rng.normal(size=channels)
    ours = formulas.get("stylegan-adain").evaluate(x=x, scale=scale, bias=bias)
    reference = F.instance_norm(
        _t(x, device), weight=_t(scale, device), bias=_t(bias, device), eps=1e-5
    )
    np.testing.assert_allclose(ours, reference.cpu().numpy(), rtol=1e-9, atol=1e-12)


def test_contract_ids_keywords_dtypes_broadcasting():
    assert formulas.get("gan-optimal-discriminator").parameters == ["p_data", "p_model"]
    assert formulas.get("gan-value-at-optimum").parameters == ["p_data", "p_model"]
    p, q = _distributions(0, 3, 5)
    d_star = formulas.get("gan-optimal-discriminator").evaluate(p_data=p, p_model=q)
    assert d_star.dtype == np.float64 and d_star.shape == (3, 5)
    value = formulas.get("gan-value-at-optimum").evaluate(p_data=p, p_model=q)
    assert value.dtype == np.float64 and value.shape == (3,)
    single = formulas.get("gan-value-at-optimum").evaluate(p_data=p[0], p_model=q[0])
    assert isinstance(single, np.float64)
    np.testing.assert_allclose(value[0], single)
    # broadcasting one data distribution against several models
    many = formulas.get("gan-value-at-optimum").evaluate(p_data=p[0], p_model=q)
    assert many.shape == (3,)


def test_minus_log_4_at_the_optimum_is_not_flagged_and_errata_carry_severity_and_lines():
    from formulas.core import REGISTRY

    assert formulas.get("gan-value-at-optimum").erratum is None  # correct at p_m = p_d
    assert REGISTRY.claim("gan-global-optimum").verdict == "correct"
    found = {
        f.id: (f.erratum.severity, f.erratum.sheet_lines)
        for f in formulas.by_topic(TOPIC)
        if f.erratum
    }
    assert found == {
        "gan-convexity": ("error", (125, 125)),
        "pix2pix-objective": ("error", (147, 147)),
    }
    wrong = {c.id: c.verdict for c in REGISTRY.claims() if c.topic == TOPIC and c.severity}
    assert wrong == {
        "unrolled-gan": "error",
        "stylegan-normalisation": "error",
        "mode-collapse-name": "typo",
        "dstar-proof-measure": "typo",
    }


def test_every_gan_formula_is_proved_defined_or_cross_checked():
    from formulas.proof import prove

    for formula in formulas.by_topic(TOPIC):
        if formula.kind == "derived":
            proof = prove(formula)
            assert proof.passed is True, (formula.id, proof.failures)
        elif formula.kind == "definition":
            assert formula.properties and all(s.check().passed for s in formula.properties)
        else:
            assert formula.kind == "cross-checked" and formula.id in TESTED_EVALUATORS


def test_gan_claim_checks_agree_with_their_verdicts():
    from formulas.core import REGISTRY

    for claim in REGISTRY.claims():
        if claim.topic != TOPIC or claim.check is None:
            continue
        evidence = claim.check()
        if claim.verdict == "correct":
            assert evidence.sheet_fails is False and evidence.correct_passes is True, claim.id
        else:
            assert evidence.sheet_fails is True and evidence.correct_passes is True, claim.id


def test_value_at_optimum_statement_keeps_the_jsd_term():
    import sympy as sp

    rhs = formulas.get("gan-value-at-optimum").statement.rhs
    jsd_term = sp.Function("D_JS")(sp.Symbol("p_d"), sp.Symbol("p_m"))
    assert sp.simplify(rhs.subs(jsd_term, 0) + sp.log(4)) == 0
    assert sp.simplify(rhs.diff(jsd_term) - 2) == 0


def test_batchnorm_claim_evidence_sentence_follows_the_numbers():
    from formulas.core import REGISTRY

    evidence = REGISTRY.claim("stylegan-normalisation").check()
    assert evidence.sheet_fails is True and "depends on the batch" in evidence.detail
