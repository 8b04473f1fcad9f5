"""The conv rules as identities against torch's conv2d / conv_transpose2d gradients.

The hand rules (numpy, no torch) say: dE/dK = corr(pad(X), dilate(G, s)); dE/dX = full
convolution of dilate(G, s) with K (= correlation with rot180(K)), cropped by the padding. Here
they are compared with autograd through F.conv2d on random shapes, strides, paddings and inputs.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cheatsheet.backprop import conv
from cheatsheet.backprop.conv import (
    correlate,
    dilate,
    full_convolution,
    input_gradient,
    kernel_gradient,
    pad,
    rot180,
)


@st.composite
def conv_case(draw):
    k = draw(st.integers(1, 4))
    p = draw(st.integers(0, 2))
    s = draw(st.integers(1, 3))
    H = draw(st.integers(max(1, k - 2 * p), 7))
    W = draw(st.integers(max(1, k - 2 * p), 7))
    seed = draw(st.integers(0, 2**16))
    return H, W, k, s, p, seed


@given(conv_case())
def test_conv_rules_equal_conv2d_gradients(device, case):
    H, W, k, s, p, seed = case
    rng = np.random.default_rng(seed)
    X = rng.integers(-3, 4, (H, W)).astype(np.float64)
    K = rng.integers(-2, 3, (k, k)).astype(np.float64)
    X_t = torch.tensor(X, device=device).requires_grad_(True)
    K_t = torch.tensor(K, device=device).requires_grad_(True)
    Y_t = F.conv2d(X_t[None, None], K_t[None, None], stride=s, padding=p)[0, 0]
    G = rng.integers(-2, 3, tuple(Y_t.shape)).astype(np.float64)
    (Y_t * torch.tensor(G, device=device)).sum().backward()

    Xp = pad(X, p)
    np.testing.assert_allclose(correlate(Xp, K, s), Y_t.detach().cpu().numpy(), atol=1e-12)
    np.testing.assert_allclose(
        kernel_gradient(Xp, G, (k, k), s), K_t.grad.cpu().numpy(), atol=1e-12
    )
    _, dX = input_gradient(G, K, (H, W), s, p)
    np.testing.assert_allclose(dX, X_t.grad.cpu().numpy(), atol=1e-12)


@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 4), st.integers(0, 999))
def test_full_convolution_is_the_input_gradient_of_a_valid_correlation(h, w, k, seed):
    """Stride 1, no padding: dE/dX = full_conv(G, K) = corr(pad(G, k-1), rot180(K))."""
    rng = np.random.default_rng(seed)
    K = rng.integers(-2, 3, (k, k)).astype(np.float64)
    G = rng.integers(-2, 3, (h, w)).astype(np.float64)
    X_t = torch.zeros(h + k - 1, w + k - 1, dtype=torch.float64, requires_grad=True)
    Y = F.conv2d(X_t[None, None], torch.tensor(K)[None, None])[0, 0]
    (Y * torch.tensor(G)).sum().backward()
    np.testing.assert_allclose(full_convolution(G, K), X_t.grad.numpy())
    np.testing.assert_allclose(correlate(pad(G, k - 1), rot180(K)), X_t.grad.numpy())


def test_sheet_convolution_is_correlation_with_the_rotated_kernel():
    rng = np.random.default_rng(0)
    X, K = rng.integers(-3, 4, (6, 6)).astype(float), rng.integers(-2, 3, (3, 3)).astype(float)
    # The sheet's convolution I'(i,j) = sum K(-m,-n) I(i+m, j+n), centred kernel, computed
    # directly from its definition.
    ours = np.zeros((4, 4))
    for i in range(1, 5):
        for j in range(1, 5):
            ours[i - 1, j - 1] = sum(
                K[1 - m, 1 - n] * X[i + m, j + n] for m in (-1, 0, 1) for n in (-1, 0, 1)
            )
    np.testing.assert_allclose(conv.convolve(X, K), ours)


@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 5), st.integers(0, 999))
def test_dilate_matches_conv_transpose_with_a_unit_kernel(h, s, w, seed):
    G = np.random.default_rng(seed).integers(-3, 4, (h, w)).astype(float)
    ref = F.conv_transpose2d(
        torch.tensor(G)[None, None], torch.ones(1, 1, 1, 1, dtype=torch.float64), stride=s
    )
    np.testing.assert_allclose(dilate(G, s), ref[0, 0].numpy())


def test_rule_without_rotation_is_caught(monkeypatch):
    """The autograd check can fail: an unrotated kernel in dE/dX is flagged."""

    def unrotated(G, K):
        kh, kw = K.shape
        return correlate(pad(G, kh - 1), K)

    monkeypatch.setattr(conv, "full_convolution", unrotated)
    # seed chosen so that K is not symmetric under rotation
    for seed in range(20):
        K = conv.build(seed=seed).block("K").tensor
        if not np.array_equal(K, rot180(K)):
            break
    example = conv.build(seed=seed)
    assert example.block("dE/dX").checked is False
    assert example.block("dE/dK").checked is True
    assert not example.all_checked


@pytest.mark.parametrize("exact", [False, True])
def test_exact_conv_gives_fractions_equal_to_float(exact):
    example = conv.build(seed=3, size=(5, 4), kernel=3, stride=2, padding=1, exact=exact)
    assert example.all_checked
    dX = example.block("dE/dX").tensor
    assert (dX.dtype == object) is exact
