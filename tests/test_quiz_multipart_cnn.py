"""CNN multipart problems, all five (cnn-layer-shapes, cnn-conv-vs-correlation,
cnn-transposed, cnn-conv-backprop, cnn-overlapping-pool; each "-multipart"): every part
recomputed from the values the problem drew (`drawn`) by an independent route (torch Conv2d
shapes and parameter counts, torch conv2d and conv_transpose2d, conv2d on the flipped kernel and
autograd, the prompt's own index formula looped, torch max_pool2d with its indices and
autograd), and each part marked on its own."""

from __future__ import annotations

import pytest
from multipart_topic_checks import (
    check_problem,
    close,
    option_letter,
    right_option,
)

from quizzes.catalog import load_templates

load_templates()


def _unless_right(part, text: str) -> str | None:
    """A typical wrong answer, or None (the engine's perturbed answer) where it happens to be
    right for this draw."""
    return None if float(text) == float(part.answer) else text


def _cell(part) -> tuple[int, int]:
    """The (row, column) a part asks about, 0-based (the prompt counts from 1)."""
    return part.drawn["row"] - 1, part.drawn["column"] - 1


def t64(rows):
    import torch

    return torch.tensor(rows, dtype=torch.float64)


def check_conv_vs_correlation(q):
    import torch.nn.functional as F

    image = t64(q.drawn["I"])
    kernel = t64(q.drawn["K"])
    cell = q.parts[0].drawn
    assert q.parts[1].drawn == cell  # (b) asks about the same entry
    i, j = cell["row"] - 1, cell["column"] - 1
    correlated = F.conv2d(image[None, None], kernel[None, None])[0, 0]  # torch correlates
    convolved = F.conv2d(image[None, None], kernel.flip(0, 1)[None, None])[0, 0]
    close(q.parts[0].answer, correlated[i, j].item())
    close(q.parts[1].answer, convolved[i, j].item())
    assert right_option(q.parts[2]).startswith("nothing: the learned kernels")


def check_cnn(q):
    import torch

    channels_in, size = q.drawn["channels"], q.drawn["size"]
    channels_out, kernel = q.drawn["filters"], q.drawn["kernel"]
    stride, padding = q.drawn["stride"], q.drawn["padding"]
    conv = torch.nn.Conv2d(channels_in, channels_out, kernel, stride=stride, padding=padding)
    with torch.no_grad():
        once = conv(torch.zeros(1, channels_in, size, size))
        twice = torch.nn.functional.conv2d(
            once[:, :1].expand(1, channels_in, -1, -1), conv.weight, stride=stride, padding=padding
        )
    assert int(q.parts[0].answer) == once.shape[-1]
    assert int(q.parts[1].answer) == twice.shape[-1]
    assert int(q.parts[2].answer) == sum(p.numel() for p in conv.parameters())
    assert right_option(q.parts[3]).startswith(f"p = {(kernel - 1) // 2}:")


def check_transposed(q):
    import torch.nn.functional as F

    stride = q.drawn["stride"]
    kernel, x = t64(q.drawn["K"]), t64(q.drawn["x"])
    out = F.conv_transpose2d(x[None, None], kernel[None, None], stride=stride)[0, 0]
    assert int(q.parts[0].answer) == out.shape[-1]
    p, c = q.parts[1].drawn["row"] - 1, q.parts[1].drawn["column"] - 1
    close(q.parts[1].answer, out[p, c].item())
    assert right_option(q.parts[2]).startswith("it is the transpose of the convolution's matrix")


def check_conv_backprop(q):
    import torch
    import torch.nn.functional as F

    def t(name):
        return torch.tensor(q.drawn[name], dtype=torch.float64)

    x, w, delta = t("x").requires_grad_(True), t("w").requires_grad_(True), t("delta")
    z = F.conv2d(x[None, None], w.flip(0, 1)[None, None])[0, 0]  # conv2d correlates: flip w
    (z * delta).sum().backward()
    # the prompt's own formula, looped (0-based: x[i + 1 - m][j + 1 - n])
    xd, wd = x.detach(), w.detach()
    looped = [
        [
            sum(wd[m, n] * xd[i + 1 - m, j + 1 - n] for m in range(2) for n in range(2))
            for j in range(2)
        ]
        for i in range(2)
    ]
    assert torch.allclose(z.detach(), torch.tensor(looped, dtype=torch.float64))
    (zi, zj), (wi, wj), (xi, xj) = (_cell(part) for part in q.parts[:3])
    close(q.parts[0].answer, z[zi, zj].item())
    close(q.parts[1].answer, w.grad[wi, wj].item())
    close(q.parts[2].answer, x.grad[xi, xj].item())
    assert right_option(q.parts[3]).startswith("the full convolution of delta with ROT180(w)")
    # the typical slip: correlating instead of convolving
    xc, wc = x.detach().clone().requires_grad_(True), w.detach().clone().requires_grad_(True)
    zc = F.conv2d(xc[None, None], wc[None, None])[0, 0]
    (zc * delta).sum().backward()
    return {
        0: _unless_right(q.parts[0], repr(zc[zi, zj].item())),
        1: _unless_right(q.parts[1], repr(wc.grad[wi, wj].item())),
        2: _unless_right(q.parts[2], repr(xc.grad[xi, xj].item())),
        3: option_letter(q.parts[3], "the valid convolution of delta with w"),
    }


def check_overlapping_pool(q):
    import torch
    import torch.nn.functional as F

    X = torch.tensor(q.drawn["X"], dtype=torch.float64, requires_grad=True)
    G = torch.tensor(q.drawn["dL/dY"], dtype=torch.float64)
    Y, indices = F.max_pool2d(X[None, None], 3, stride=1, return_indices=True)
    (Y[0, 0] * G).sum().backward()
    r, c = _cell(q.parts[0])
    close(q.parts[0].answer, Y[0, 0, r, c].item())
    top = int(torch.argmax(X))
    close(q.parts[1].answer, X.grad.reshape(-1)[top].item())
    assert int(q.parts[2].answer) == len(set(indices.reshape(-1).tolist()))
    assert right_option(q.parts[3]).startswith("convolution is shift-equivariant")
    return {
        1: _unless_right(q.parts[1], repr(G.abs().max().item())),  # one window only
        3: option_letter(q.parts[3], "convolution is shift-invariant"),
    }


CHECKS = {
    "cnn-conv-vs-correlation-multipart": check_conv_vs_correlation,
    "cnn-layer-shapes-multipart": check_cnn,
    "cnn-transposed-multipart": check_transposed,
    "cnn-conv-backprop-multipart": check_conv_backprop,
    "cnn-overlapping-pool-multipart": check_overlapping_pool,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)  # a None answer: the engine's perturbed one
