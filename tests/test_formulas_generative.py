"""Generative-modelling formulas against torch cross-entropy, sklearn PCA, a linear
autoencoder trained by gradient descent, and torch mixture distributions."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import formulas

TOPIC = "generative"
TESTED_EVALUATORS = {"mle-kl", "linear-autoencoder-pca", "likelihood-noise-mixture"}


def test_every_evaluator_has_an_oracle_test():
    assert {f.id for f in formulas.by_topic(TOPIC) if f.evaluator} == TESTED_EVALUATORS


def _t(array, device):
    return torch.as_tensor(np.asarray(array), dtype=torch.float64, device=device)


@given(st.integers(0, 2**16), st.integers(2, 7))
def test_cross_entropy_matches_torch_and_splits_into_entropy_plus_kl(device, seed, size):
    rng = np.random.default_rng(seed)
    p_data, p_model = rng.dirichlet(np.ones(size), size=3), rng.dirichlet(np.ones(size), size=3)
    ours = formulas.get("mle-kl").evaluate(p_data=p_data, p_model=p_model)
    reference = F.cross_entropy(
        torch.log(_t(p_model, device)), _t(p_data, device), reduction="none"
    )
    np.testing.assert_allclose(ours, reference.cpu().numpy(), rtol=1e-12)
    C = torch.distributions.Categorical
    data = C(probs=_t(p_data, device))
    split = data.entropy() + torch.distributions.kl_divergence(data, C(probs=_t(p_model, device)))
    np.testing.assert_allclose(ours, split.cpu().numpy(), rtol=1e-10)


@given(st.integers(0, 2**16), st.integers(2, 6), st.data())
def test_linear_autoencoder_error_matches_sklearn_pca(seed, D, data):
    from sklearn.decomposition import PCA

    k = data.draw(st.integers(1, D - 1))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, D)) @ rng.normal(size=(D, D)) + rng.normal(size=D)
    pca = PCA(n_components=k).fit(X)
    reconstruction = pca.inverse_transform(pca.transform(X))
    reference = ((X - reconstruction) ** 2).sum()
    ours = formulas.get("linear-autoencoder-pca").evaluate(X=X, k=k)
    np.testing.assert_allclose(ours, reference, rtol=1e-8, atol=1e-10)


def test_trained_linear_autoencoder_reaches_but_never_beats_the_pca_bound(device):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4)) @ np.diag([3.0, 2.0, 0.5, 0.2]) + 1.0
    bound = formulas.get("linear-autoencoder-pca").evaluate(X=X, k=2)
    torch.manual_seed(0)
    encoder = torch.nn.Linear(4, 2).double().to(device)
    decoder = torch.nn.Linear(2, 4).double().to(device)
    params = [*encoder.parameters(), *decoder.parameters()]
    optimiser = torch.optim.Adam(params, lr=0.05)
    Xt = _t(X, device)
    for _ in range(1500):
        optimiser.zero_grad()
        loss = ((decoder(encoder(Xt)) - Xt) ** 2).sum()
        loss.backward()
        optimiser.step()
    final = loss.item()
    assert final >= bound * (1 - 1e-9)
    assert final <= bound * 1.01


@given(st.integers(0, 2**16), st.floats(0.01, 0.99))
def test_noise_mixture_matches_torch_mixture_and_the_bound(device, seed, weight):
    rng = np.random.default_rng(seed)
    x = _t(rng.normal(0, 2, size=6), device)
    model = torch.distributions.Normal(_t(0.5, device), _t(0.7, device))
    noise = torch.distributions.Normal(_t(0.0, device), _t(5.0, device))
    mixture = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(probs=_t([weight, 1 - weight], device)),
        torch.distributions.Normal(_t([0.5, 0.0], device), _t([0.7, 5.0], device)),
    )
    p_model = model.log_prob(x).exp().cpu().numpy()
    ours = formulas.get("likelihood-noise-mixture").evaluate(
        p_model=p_model, p_noise=noise.log_prob(x).exp().cpu().numpy(), weight=weight
    )
    np.testing.assert_allclose(ours, mixture.log_prob(x).cpu().numpy(), rtol=1e-10)
    assert np.all(ours >= np.log(p_model) + np.log(weight) - 1e-12)


def test_overcomplete_claim_and_pca_lemmas_agree_with_sklearn():
    from sklearn.decomposition import PCA

    from formulas.core import REGISTRY
    from formulas.generative import _scatter

    formulas.all()
    evidence = REGISTRY.claim("overcomplete-autoencoder-needs-a-task").check()
    assert evidence.sheet_fails is False and evidence.correct_passes is True
    # the Ky Fan lemma's optimum is sklearn's explained variance (times n - 1)
    X, _, S = _scatter(1)
    pca = PCA(n_components=2).fit(X)
    top = np.sort(np.linalg.eigvalsh(S))[-2:].sum()
    np.testing.assert_allclose(pca.explained_variance_.sum() * (len(X) - 1), top, rtol=1e-10)
