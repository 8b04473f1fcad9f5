"""Autoregressive formulas against brute-force counts, direct torch loops, module parameter
counts, and autograd Jacobians of masked networks (the autoregressive property itself)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch.autograd.functional import jacobian

import formulas

TOPIC = "autoregressive"
TESTED_EVALUATORS = {
    "tabular-param-count",
    "tabular-total-param-count",
    "fvsbn-conditional",
    "fvsbn-param-count",
    "nade-conditionals",
    "nade-param-count",
    "made-mask",
    "pixelcnn-mask",
    "wavenet-receptive-field",
    "vq-vae-quantisation",
    "vq-vae-loss",
    "bits-per-dim",
}


def test_every_evaluator_has_an_oracle_test():
    assert {f.id for f in formulas.by_topic(TOPIC) if f.evaluator} == TESTED_EVALUATORS


def _t(array, device):
    return torch.as_tensor(np.asarray(array), dtype=torch.float64, device=device)


@given(st.integers(1, 10))
def test_tabular_counts_match_brute_force_enumeration(n):
    contexts = [len(list(itertools.product((0, 1), repeat=i - 1))) for i in range(1, n + 1)]
    assert formulas.get("tabular-param-count").evaluate(i=n) == contexts[-1]
    assert formulas.get("tabular-total-param-count").evaluate(n=n) == sum(contexts)


@given(st.integers(0, 2**16), st.integers(1, 7))
def test_fvsbn_conditionals_match_a_direct_loop(device, seed, n):
    rng = np.random.default_rng(seed)
    alpha0, alpha = rng.normal(size=n), rng.normal(size=(n, n))
    x = rng.integers(0, 2, size=(3, n)).astype(float)
    ours = formulas.get("fvsbn-conditional").evaluate(alpha0=alpha0, alpha=alpha, x=x)
    a0, a, xt = _t(alpha0, device), _t(alpha, device), _t(x, device)
    for i in range(n):  # f_i = sigmoid(alpha0_i + alpha_{i, <i} . x_{<i})
        f_i = torch.sigmoid(a0[i] + xt[:, :i] @ a[i, :i])
        np.testing.assert_allclose(ours[:, i], f_i.cpu().numpy(), rtol=1e-12)


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
@given(st.integers(1, 12))
def test_fvsbn_param_count_matches_torch_modules(device, n):
    modules = torch.nn.ModuleList(torch.nn.Linear(i - 1, 1) for i in range(1, n + 1)).to(device)
    assert formulas.get("fvsbn-param-count").evaluate(n=n) == sum(
        p.numel() for p in modules.parameters()
    )


@given(st.integers(0, 2**16), st.integers(1, 6), st.integers(1, 5))
def test_nade_conditionals_match_a_direct_loop(device, seed, n, d):
    rng = np.random.default_rng(seed)
    W, b, V, c = (rng.normal(size=s) for s in ((d, n), (d,), (n, d), (n,)))
    x = rng.integers(0, 2, size=(2, n)).astype(float)
    ours = formulas.get("nade-conditionals").evaluate(W=W, b=b, V=V, c=c, x=x)
    Wt, bt, Vt, ct, xt = (_t(a, device) for a in (W, b, V, c, x))
    for i in range(n):  # h_i = sigmoid(b + W_{<i} x_{<i}), x_hat_i = sigmoid(c_i + V_i h_i)
        h = torch.sigmoid(bt + xt[:, :i] @ Wt[:, :i].T)
        x_hat = torch.sigmoid(ct[i] + h @ Vt[i])
        np.testing.assert_allclose(ours[:, i], x_hat.cpu().numpy(), rtol=1e-12)


@given(st.integers(1, 20), st.integers(1, 20))
def test_nade_param_count_matches_torch_modules(device, n, d):
    encoder = torch.nn.Linear(n, d, device=device)  # (W, b)
    decoder = torch.nn.Linear(d, n, device=device)  # (V, c)
    total = sum(p.numel() for p in [*encoder.parameters(), *decoder.parameters()])
    assert formulas.get("nade-param-count").evaluate(n=n, hidden=d) == total


@given(st.integers(0, 2**16), st.integers(2, 6), st.integers(4, 16))
def test_made_masks_give_an_autoregressive_jacobian(device, seed, D, H):
    rng = np.random.default_rng(seed)
    m_in = rng.permutation(D) + 1  # any fixed ordering
    m_h1, m_h2 = rng.integers(1, D, size=H), rng.integers(1, D, size=H)
    f = formulas.get("made-mask")
    masks = [
        _t(f.evaluate(m_in=m_in, m_out=m_h1), device),
        _t(f.evaluate(m_in=m_h1, m_out=m_h2), device),
        _t(f.evaluate(m_in=m_h2, m_out=m_in, output=True), device),
    ]
    torch.manual_seed(seed)
    weights = [torch.randn(M.shape, dtype=torch.float64, device=device) for M in masks]

    def made(x):  # F.linear(x, mask * W), as in karpathy/pytorch-made
        h = torch.tanh(F.linear(x, masks[0] * weights[0]))
        h = torch.tanh(F.linear(h, masks[1] * weights[1]))
        return F.linear(h, masks[2] * weights[2])

    J = jacobian(made, torch.randn(D, dtype=torch.float64, device=device)).cpu().numpy()
    order = np.asarray(m_in)
    for out in range(D):
        for inp in range(D):
            if order[inp] >= order[out]:  # x_hat_d must not see x_d, ..., x_D
                assert J[out, inp] == 0.0


def _raster_allowed(k_out_group, pos_out, pos_in, group_in, mask_type, width):
    before = pos_in[0] * width + pos_in[1] < pos_out[0] * width + pos_out[1]
    if before:
        return True
    if pos_in == pos_out:
        return group_in < k_out_group if mask_type == "A" else group_in <= k_out_group
    return False


@given(st.integers(0, 2**16), st.sampled_from([3, 5]))
def test_pixelcnn_masks_respect_raster_and_rgb_order(device, seed, kernel):
    f = formulas.get("pixelcnn-mask")
    torch.manual_seed(seed)
    size, hidden = 5, 6
    layers = [(3, hidden, "A"), (hidden, hidden, "B"), (hidden, 3, "B")]
    params = []
    for c_in, c_out, kind in layers:
        mask = _t(
            f.evaluate(kernel=kernel, in_channels=c_in, out_channels=c_out, mask_type=kind), device
        )
        params.append(
            (mask, torch.randn(c_out, c_in, kernel, kernel, dtype=torch.float64, device=device))
        )

    def net(x):
        for index, (mask, weight) in enumerate(params):
            x = F.conv2d(x, mask * weight, padding=kernel // 2)
            if index < len(params) - 1:
                x = torch.tanh(x)
        return x

    x = torch.randn(1, 3, size, size, dtype=torch.float64, device=device)
    J = jacobian(net, x).reshape(3, size, size, 3, size, size).cpu().numpy()
    for g_out in range(3):
        for r, c in [(2, 2), (0, 3), (4, 1)]:
            for g_in in range(3):
                for r2 in range(size):
                    for c2 in range(size):
                        if not _raster_allowed(g_out, (r, c), (r2, c2), g_in, "A", size):
                            assert J[g_out, r, c, g_in, r2, c2] == 0.0
    # and it is not vacuous: B at the centre pixel sees R and G there
    assert J[2, 2, 2, 0, 2, 2] != 0.0 and J[2, 2, 2, 1, 2, 2] != 0.0


def test_wavenet_doubling_stack_has_no_holes(device):
    dilations = [1, 2, 4, 8]
    x = torch.randn(1, 1, 40, dtype=torch.float64, device=device, requires_grad=True)
    h = x
    for d in dilations:
        h = F.conv1d(
            F.pad(h, (d, 0)), torch.ones(1, 1, 2, dtype=torch.float64, device=device), dilation=d
        )
    h[0, 0, -1].backward()
    assert (
        int((x.grad != 0).sum())
        == 16
        == formulas.get("wavenet-receptive-field").evaluate(kernel=2, dilations=dilations)
    )


@given(st.integers(1, 3), st.lists(st.sampled_from([1, 2, 4, 8]), min_size=1, max_size=4))
def test_wavenet_receptive_field_counts_autograd_dependencies(device, extra, dilations):
    kernel = extra + 1
    length = 1 + sum((kernel - 1) * d for d in dilations) + 5
    convs = []
    for d in dilations:
        convs.append((torch.ones(1, 1, kernel, dtype=torch.float64, device=device), d))

    def net(x):  # causal: pad on the left only
        for weight, d in convs:
            x = F.conv1d(F.pad(x, ((kernel - 1) * d, 0)), weight, dilation=d)
        return x

    x = torch.randn(1, 1, length, dtype=torch.float64, device=device, requires_grad=True)
    net(x)[0, 0, -1].backward()
    # the receptive field is the span of inputs the output depends on (a lone dilated layer
    # leaves holes inside the span; a doubling stack fills them)
    touched = torch.nonzero(x.grad[0, 0]).flatten()
    seen = int(touched.max() - touched.min() + 1)
    assert (
        formulas.get("wavenet-receptive-field").evaluate(kernel=kernel, dilations=dilations) == seen
    )


@given(st.integers(0, 2**16), st.integers(1, 8), st.integers(1, 4))
def test_vq_quantisation_and_loss_match_torch(device, seed, K, D):
    rng = np.random.default_rng(seed)
    z_e, codebook = rng.normal(size=(5, D)), rng.normal(size=(K, D))
    ze, cb = _t(z_e, device).requires_grad_(), _t(codebook, device).requires_grad_()
    index = torch.cdist(ze, cb).argmin(dim=1)
    e = cb[index]
    np.testing.assert_allclose(
        formulas.get("vq-vae-quantisation").evaluate(z_e=z_e, codebook=codebook),
        e.detach().cpu().numpy(),
    )
    beta = 0.25
    codebook_loss = ((ze.detach() - e) ** 2).sum(-1)  # ||sg[z_e] - e||^2
    commitment = beta * ((ze - e.detach()) ** 2).sum(-1)  # beta ||z_e - sg[e]||^2
    ours = formulas.get("vq-vae-loss").evaluate(z_e=z_e, codebook=codebook, beta=beta)
    np.testing.assert_allclose(
        ours, (codebook_loss + commitment).detach().cpu().numpy(), rtol=1e-12
    )
    # the stop-gradients route each term to one side (derivation steps of vq-vae-loss)
    (codebook_loss + commitment).sum().backward()
    np.testing.assert_allclose(
        ze.grad.cpu().numpy(), (2 * beta * (ze - e)).detach().cpu().numpy(), rtol=1e-12
    )


@given(st.integers(0, 2**16), st.integers(1, 10))
def test_bits_per_dim_matches_log2_probabilities(device, seed, dims):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(4), size=dims)
    symbols = rng.integers(0, 4, size=dims)
    dist = torch.distributions.Categorical(probs=_t(probs, device))
    nll_nats = -dist.log_prob(torch.as_tensor(symbols, device=device)).sum().item()
    bits = -torch.log2(_t(probs[np.arange(dims), symbols], device)).sum().item()
    np.testing.assert_allclose(
        formulas.get("bits-per-dim").evaluate(nll=nll_nats, dims=dims), bits / dims, rtol=1e-12
    )


def test_vq_pipeline_typo_evidence_matches_torch_cdist():
    erratum = formulas.get("vq-vae-quantisation").erratum
    assert erratum.severity == "typo"
    evidence = erratum.evidence()
    assert evidence.sheet_fails is True and evidence.correct_passes is True
    rng = np.random.default_rng(0)  # the evidence's encoder and codebook
    x, encoder, codebook = rng.standard_normal(4), rng.standard_normal((2, 4)), None
    codebook = rng.standard_normal((8, 2))
    z_e = torch.as_tensor(encoder @ x)[None]
    nearest = torch.as_tensor(codebook)[torch.cdist(z_e, torch.as_tensor(codebook)).argmin()]
    assert f"{nearest[0].item():.4g}" in evidence.detail


def test_pixelcnn_blind_spot_claim_matches_an_autograd_jacobian():
    from formulas.core import REGISTRY

    formulas.all()
    evidence = REGISTRY.claim("pixelcnn-needs-stacks").check()
    assert evidence.sheet_fails is False and evidence.correct_passes is True
    # 5 stacked masked 3x3 convolutions (A, then B): which earlier pixels reach the centre?
    f = formulas.get("pixelcnn-mask")
    size, centre = 15, 7
    torch.manual_seed(0)
    layers = [
        _t(f.evaluate(kernel=3, in_channels=1, out_channels=1, mask_type=kind), "cpu")
        * torch.rand(1, 1, 3, 3, dtype=torch.float64)
        + 0.0
        for kind in "ABBBB"
    ]
    x = torch.randn(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    h = x
    for weight in layers:
        h = F.conv2d(h, weight, padding=1)
    h[0, 0, centre, centre].backward()
    seen = x.grad[0, 0] != 0
    earlier = torch.zeros(size, size, dtype=torch.bool)
    earlier[:centre] = True
    earlier[centre, :centre] = True
    near = (torch.arange(size) - centre).abs() <= 5
    blind = earlier & near[:, None] & near[None, :] & ~seen
    assert f"{int(blind.sum())} earlier pixels" in evidence.detail
    assert bool(blind[centre - 1, centre + 2])  # up one row, two columns right: never seen


def test_simulated_receptive_fields_match_autograd():
    from formulas.autoregressive import _simulated_fields

    for kernel, dilations in [(2, [1, 2, 4]), (3, [1, 3]), (4, [2, 1, 8])]:
        fields = _simulated_fields(kernel, dilations)
        for count in range(len(dilations) + 1):
            x = torch.randn(1, 1, 80, dtype=torch.float64, requires_grad=True)
            h = x
            for d in dilations[:count]:
                weight = torch.ones(1, 1, kernel, dtype=torch.float64)
                h = F.conv1d(F.pad(h, ((kernel - 1) * d, 0)), weight, dilation=d)
            h[0, 0, -1].backward()
            touched = torch.nonzero(x.grad[0, 0]).flatten()
            assert fields[count] == int(touched.max() - touched.min() + 1)
