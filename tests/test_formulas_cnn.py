"""CNN formulas against torch.nn.functional (shapes, conv2d, conv_transpose2d) and autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

import formulas

TOPIC = "cnn"


@given(
    st.integers(1, 20), st.integers(1, 5), st.integers(1, 4), st.integers(0, 3), st.integers(1, 3)
)
def test_conv_output_size_matches_torch_conv_and_pool(device, size, kernel, stride, pad, dil):
    extent = dil * (kernel - 1) + 1
    assume(size + 2 * pad >= extent)
    f = formulas.get("conv-output-size")
    out = f.evaluate(size=size, kernel=kernel, stride=stride, padding=pad, dilation=dil)
    assert isinstance(out, int)
    x = torch.zeros(1, 1, size, size + 1, device=device)
    w = torch.zeros(1, 1, kernel, kernel, device=device)
    y = F.conv2d(x, w, stride=stride, padding=pad, dilation=dil)
    assert y.shape[-2] == out
    assert y.shape[-1] == f.evaluate(
        size=size + 1, kernel=kernel, stride=stride, padding=pad, dilation=dil
    )
    if pad <= kernel // 2:  # torch's pooling restriction
        pooled = F.max_pool2d(x, kernel, stride=stride, padding=pad, dilation=dil)
        assert pooled.shape[-2] == out
        if dil == 1:
            assert F.avg_pool2d(x, kernel, stride=stride, padding=pad).shape[-2] == out


def test_conv_output_size_contract_defaults():
    f = formulas.get("conv-output-size")
    assert f.parameters == ["size", "kernel", "stride", "padding", "dilation"]
    assert f.evaluate(size=32, kernel=3) == 30
    assert f.evaluate(size=32, kernel=3, padding=1) == 32
    assert f.evaluate(size=7, kernel=2, stride=2) == 3


arrays = st.tuples(
    st.integers(0, 10_000),
    st.integers(3, 8),
    st.integers(3, 8),
    st.integers(1, 3),
    st.integers(1, 3),
)


def _data(seed, h, w, kh, kw):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(2, h, w)), rng.normal(size=(kh, kw))


@given(arrays)
def test_correlation_and_convolution_against_torch_conv2d(device, spec):
    image, kernel = _data(*spec)
    x = torch.tensor(image, device=device)[:, None]
    k = torch.tensor(kernel, device=device)[None, None]
    corr = formulas.get("correlation-2d").evaluate(image=image, kernel=kernel)
    np.testing.assert_allclose(corr, F.conv2d(x, k)[:, 0].cpu().numpy(), atol=1e-12)
    conv = formulas.get("convolution-2d").evaluate(image=image, kernel=kernel)
    flipped = torch.flip(k, dims=(-2, -1))
    np.testing.assert_allclose(conv, F.conv2d(x, flipped)[:, 0].cpu().numpy(), atol=1e-12)
    # the sheet's centred definition, evaluated literally at one interior pixel (3x3 kernels)
    if kernel.shape == (3, 3):
        i, j = 1, 1
        literal = sum(
            kernel[1 - m, 1 - n] * image[0, m + i, n + j] for m in (-1, 0, 1) for n in (-1, 0, 1)
        )
        assert conv[0, i - 1, j - 1] == pytest.approx(literal, abs=1e-12)


@given(arrays, st.floats(-2, 2))
def test_conv_backward_passes_against_autograd(device, spec, bias):
    image, kernel = _data(*spec)
    forward = formulas.get("conv-forward").evaluate(z_prev=image, w=kernel, b=bias)
    x = torch.tensor(image, device=device, requires_grad=True)
    k = torch.tensor(kernel, device=device, requires_grad=True)
    z = F.conv2d(x[:, None], torch.flip(k, dims=(0, 1))[None, None])[:, 0] + bias
    np.testing.assert_allclose(forward, z.detach().cpu().numpy(), atol=1e-12)
    delta = torch.randn(z.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    (z * delta.to(device)).sum().backward()
    dx = formulas.get("conv-backward-input").evaluate(delta=delta.numpy(), w=kernel)
    np.testing.assert_allclose(dx, x.grad.cpu().numpy(), atol=1e-12)
    dw = formulas.get("conv-backward-kernel").evaluate(delta=delta.numpy(), z_prev=image)
    np.testing.assert_allclose(dw, k.grad.cpu().numpy(), atol=1e-11)


@given(st.integers(0, 1000), st.integers(1, 6), st.integers(1, 9))
def test_toeplitz_matrix_is_conv1d(device, seed, K, n):
    rng = np.random.default_rng(seed)
    kernel, x = rng.normal(size=K), rng.normal(size=n)
    M = formulas.get("conv-toeplitz-matrix").evaluate(kernel=kernel, n=n)
    assert M.shape == (n + K - 1, n)
    # full convolution = torch conv1d (a correlation) with the flipped kernel and K-1 padding
    ref = F.conv1d(
        torch.tensor(x, device=device)[None, None],
        torch.tensor(kernel[::-1].copy(), device=device)[None, None],
        padding=K - 1,
    )
    np.testing.assert_allclose(M @ x, ref[0, 0].cpu().numpy(), atol=1e-12)


@given(st.integers(0, 1000), st.integers(2, 4), st.integers(1, 3))
def test_max_pool_gradient_against_max_pool2d_autograd(device, seed, k, blocks):
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(k * blocks, k * blocks))
    x = torch.tensor(image, device=device, requires_grad=True)
    y = F.max_pool2d(x[None, None], k)[0, 0]
    upstream = rng.normal(size=y.shape)
    (y * torch.tensor(upstream, device=device)).sum().backward()
    # each pooling window flattened along the last axis
    windows = image.reshape(blocks, k, blocks, k).transpose(0, 2, 1, 3).reshape(blocks, blocks, -1)
    grad = formulas.get("max-pool-gradient").evaluate(z_prev=windows, delta=upstream)
    grad = grad.reshape(blocks, blocks, k, k).transpose(0, 2, 1, 3).reshape(image.shape)
    np.testing.assert_allclose(grad, x.grad.cpu().numpy(), atol=0)


@given(
    st.integers(0, 1000), st.integers(1, 5), st.integers(1, 5), st.integers(1, 3), st.integers(1, 3)
)
def test_transposed_conv_against_conv_transpose2d(device, seed, h, w, k, stride):
    rng = np.random.default_rng(seed)
    x, kernel = rng.normal(size=(2, h, w)), rng.normal(size=(k, k + 1))
    out = formulas.get("transposed-conv").evaluate(x=x, kernel=kernel, stride=stride)
    ref = F.conv_transpose2d(
        torch.tensor(x, device=device)[:, None],
        torch.tensor(kernel, device=device)[None, None],
        stride=stride,
    )
    np.testing.assert_allclose(out, ref[:, 0].cpu().numpy(), atol=1e-12)
