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


# ------------------------------------------------------------------------------------------
# proofs, definitions, errata and claims of section 11

from formulas.core import REGISTRY  # noqa: E402
from formulas.proof import build_report, prove  # noqa: E402

CNN_IDS = [f.id for f in formulas.all() if f.topic == TOPIC]


def test_every_cnn_formula_is_proved_or_an_honest_definition():
    for formula_id in CNN_IDS:
        formula = formulas.get(formula_id)
        assert formula.kind in ("derived", "definition"), formula_id
        if formula.kind == "derived":
            proof = prove(formula)
            assert proof.passed is True, (formula_id, proof.failures)
        else:
            report = build_report(formula)
            assert report["properties"] and report["passed"] is True, report["failures"]


def test_conv_backward_statements_are_convolutions_not_products():
    import sympy as sp

    for formula_id, head in (
        ("conv-backward-input", "conv_full"),
        ("conv-backward-kernel", "conv"),
    ):
        rhs = formulas.get(formula_id).statement.rhs
        assert not isinstance(rhs, sp.Mul) and rhs.func.__name__ == head
        assert "ROT180" in sp.srepr(rhs)
    for formula_id in CNN_IDS:
        assert str(formulas.get(formula_id).statement) not in ("True", "False")


@pytest.mark.parametrize(
    "formula_id, values",
    [
        ("conv-backward-input", {"delta": 2, "w": 3}),
        ("conv-backward-kernel", {"delta": np.ones((3, 3)), "z_prev": np.ones((2, 2))}),
        ("conv-forward", {"z_prev": np.ones((2, 2)), "w": np.ones((3, 3))}),
    ],
)
def test_bad_shapes_raise_a_one_line_value_error(formula_id, values):
    with pytest.raises(ValueError, match="expected .* of shape") as error:
        formulas.get(formula_id).evaluate(**values)
    assert "\n" not in str(error.value)


def test_cli_eval_with_scalars_is_a_one_line_error(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "cheatsheet", "eval", "conv-backward-input", "delta=2", "w=3"],
        capture_output=True,
        text=True,
        env={"CHEATSHEET_HOME": str(tmp_path), "PATH": ""},
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "expected delta of shape" in result.stderr


def test_worked_example_entry_matches_the_backprop_command():
    # cheatsheet.backprop computes the sheet's example with torch autograd: same wrong entry
    from cheatsheet.backprop.conv import sheet_example

    found = [row for row in sheet_example().errata if row["block"] == "Y"]
    assert [(row["row"], row["col"], row["printed"], row["right"]) for row in found] == [
        (2, 1, 3, 4)
    ]
    claim = REGISTRY.claim("cnn-sheet-example-forward-entry")
    assert claim.verdict == "error" and claim.sheet_lines == (319, 319)
    evidence = claim.check()
    assert evidence.state == "confirmed" and "[2, 3, 3]" in evidence.detail


def test_worked_example_forward_against_torch():
    X = torch.tensor(
        [[0, 0, 1, 1, 0], [0, 1, 0, 1, 1], [1, 1, 1, 1, 0], [1, 0, 1, 1, 0], [1, 1, 0, 1, 1]],
        dtype=torch.float64,
    )
    K = torch.tensor([[1, 0, 1], [0, 1, 0], [0, 1, 0]], dtype=torch.float64)
    Y = F.conv2d(X[None, None], torch.flip(K, (0, 1))[None, None])[0, 0]
    assert Y.tolist() == [[3, 3, 3], [4, 2, 3], [2, 4, 3]]


def test_cnn_errata_and_claims_show_numbers_for_both_forms():
    for formula_id in ("conv-toeplitz-matrix", "max-pool-gradient"):
        erratum = formulas.get(formula_id).erratum
        evidence = erratum.evidence()
        assert evidence.state == "confirmed", evidence.detail
        assert "sheet's form [" in evidence.detail and "right form [" in evidence.detail
        assert erratum.severity == "typo" and erratum.sheet_lines
    for claim in REGISTRY.claims():
        if claim.topic != TOPIC or claim.check is None:
            continue
        evidence = claim.check()
        if claim.verdict == "correct":
            assert evidence.sheet_fails is False and evidence.correct_passes is True, claim.id
        else:
            assert evidence.state == "confirmed", (claim.id, evidence.detail)
