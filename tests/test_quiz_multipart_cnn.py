"""CNN multipart problems (cnn-conv-backprop-multipart, cnn-overlapping-pool-multipart): every
part recomputed by an independent route (torch conv2d on the flipped kernel and autograd, the
prompt's own index formula looped, torch max_pool2d with its indices and autograd), and each
part marked on its own."""

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
    "cnn-conv-backprop-multipart": check_conv_backprop,
    "cnn-overlapping-pool-multipart": check_overlapping_pool,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)  # a None answer: the engine's perturbed one
