"""Every block of every worked example equals torch autograd (hypothesis over seeds and shapes),
and the sheet's conv example is reproduced with its misprints located by an independent torch
computation."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cheatsheet.backprop import Options, build_example, conv

seeds = st.integers(0, 10_000)


def _assert_checked(example):
    bad = [(b.name, b.max_error) for b in example.blocks if b.phase != "input" and not b.checked]
    assert not bad, bad
    assert any(b.phase == "backward" for b in example.blocks)


@given(
    seeds,
    st.integers(1, 4),
    st.sampled_from(["sigmoid", "tanh", "relu"]),
    st.sampled_from(["mse", "bce", "ce"]),
)
def test_mlp(device, seed, hidden, activation, loss):
    o = Options(seed=seed, size=(hidden,), activation=activation, loss=loss, device=device)
    _assert_checked(build_example("mlp", o))


@given(seeds, st.integers(1, 4))
def test_mlp_exact_relu_mse(device, seed, hidden):
    o = Options(seed=seed, size=(hidden,), activation="relu", loss="mse", exact=True, device=device)
    _assert_checked(build_example("mlp", o))


@given(
    seeds,
    st.integers(3, 7),
    st.integers(3, 7),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(0, 2),
    st.booleans(),
)
def test_conv(device, seed, H, W, k, s, p, exact):
    o = Options(seed=seed, size=(H, W), kernel=k, stride=s, padding=p, exact=exact, device=device)
    _assert_checked(build_example("conv", o))


@given(
    seeds,
    st.sampled_from(["maxpool", "avgpool"]),
    st.integers(2, 6),
    st.integers(1, 3),
    st.integers(1, 3),
    st.booleans(),
)
def test_pooling(device, seed, kind, size, k, s, exact):
    o = Options(
        seed=seed, size=(size, size + 1), kernel=min(k, size), stride=s, exact=exact, device=device
    )
    _assert_checked(build_example(kind, o))


@given(seeds, st.integers(1, 3), st.integers(1, 3), st.integers(2, 3), st.booleans())
def test_unpool(device, seed, h, w, k, exact):
    o = Options(seed=seed, size=(h, w), kernel=k, exact=exact, device=device)
    _assert_checked(build_example("unpool", o))


@given(
    seeds,
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(0, 1),
)
def test_transposed_conv(device, seed, h, w, k, s, p):
    o = Options(seed=seed, size=(h, w), kernel=k, stride=s, padding=p, device=device)
    try:
        example = build_example("transposed-conv", o)
    except ValueError:
        assert (h - 1) * s + k - 2 * p < 1 or (w - 1) * s + k - 2 * p < 1
        return
    _assert_checked(example)


@given(
    seeds,
    st.integers(2, 5),
    st.one_of(st.none(), st.integers(1, 4)),
    st.booleans(),
    st.sampled_from([0.1, 1.0, 100.0]),
)
def test_rnn(device, seed, T, truncate, clip, max_norm):
    if truncate is not None and truncate >= T:
        truncate = T - 1
    o = Options(
        seed=seed, size=(T,), truncate=truncate, clip=clip, max_norm=max_norm, device=device
    )
    _assert_checked(build_example("rnn", o))


@given(seeds, st.integers(1, 3))
def test_lstm(device, seed, hidden):
    _assert_checked(build_example("lstm", Options(seed=seed, size=(hidden,), device=device)))


@given(seeds, st.integers(1, 4), st.integers(1, 3))
def test_attention(device, seed, T, D):
    o = Options(seed=seed, size=(T, D), device=device)
    _assert_checked(build_example("attention", o))


@given(seeds, st.integers(2, 5), st.integers(1, 3))
def test_batchnorm(device, seed, N, D):
    o = Options(seed=seed, size=(N, D), device=device)
    _assert_checked(build_example("batchnorm", o))


@given(seeds, st.integers(2, 5), st.integers(1, 3))
def test_softmax_ce(device, seed, C, N):
    o = Options(seed=seed, size=(C, N), device=device)
    _assert_checked(build_example("softmax-ce", o))


def test_truncated_rnn_differs_from_full_bptt():
    full = build_example("rnn", Options(seed=1, size=(4,)))
    cut = build_example("rnn", Options(seed=1, size=(4,), truncate=1))
    assert not np.allclose(full.block("dL/dW_hh").tensor, cut.block("dL/dW_hh").tensor)


def test_clipping_bounds_the_norm():
    ex = build_example("rnn", Options(seed=2, size=(3,), clip=True, max_norm=0.1))
    clipped = [ex.block(f"clipped dL/dW_{n}").tensor for n in ("xh", "hh", "hy")]
    norm = np.sqrt(sum((g**2).sum() for g in clipped))
    assert norm <= 0.1 + 1e-6 or ex.block("clip scale").tensor == 1.0


# --------------------------------------------------------------------------- the sheet's example
def test_sheet_example_values_and_errata_against_torch(device):
    ex = build_example("conv", Options(device=device), example="sheet")
    assert ex.all_checked
    X = torch.tensor(conv.SHEET_PRINTED["X"], dtype=torch.float64)
    K = torch.tensor(conv.SHEET_PRINTED["K"], dtype=torch.float64).requires_grad_(True)
    X.requires_grad_(True)
    # "rotate K": the sheet slides rot180(K), i.e. a true convolution with K.
    Y = F.conv2d(X[None, None], torch.flip(K, (0, 1))[None, None])
    Y.retain_grad()
    F.max_pool2d(Y, 3).sum().backward()
    printed_Y = np.array(conv.SHEET_PRINTED["Y"], dtype=float)
    wrong = {(int(i), int(j)) for i, j in zip(*np.nonzero(Y[0, 0].detach().numpy() != printed_Y))}
    errata_Y = {(e["row"], e["col"]) for e in ex.errata if e["block"] == "Y"}
    assert errata_Y == wrong and wrong  # the misprint in Y is found, and only it
    for e in ex.errata:
        if e["block"] == "Y":
            assert e["right"] == Y[0, 0, e["row"], e["col"]].item()
    # dE/dK and dE/dY as printed agree with torch; dE/dX agrees except for the garbled row.
    assert np.array_equal(conv.SHEET_PRINTED["dE/dK"], K.grad.numpy())
    assert np.array_equal(conv.SHEET_PRINTED["dE/dY"], Y.grad[0, 0].numpy())
    garbled = [e for e in ex.errata if e["block"] == "dE/dX"]
    assert [e["row"] for e in garbled] == [
        i for i, row in enumerate(conv.SHEET_PRINTED["dE/dX"]) if len(row) != 5
    ]
    assert garbled[0]["right"] == X.grad[garbled[0]["row"]].tolist()
    for i, row in enumerate(conv.SHEET_PRINTED["dE/dX"]):
        if len(row) == 5:
            assert row == X.grad[i].tolist()
    assert np.array_equal(ex.block("dE/dX").tensor, X.grad.numpy())
