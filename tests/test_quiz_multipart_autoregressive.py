"""Autoregressive multipart problems, all five (ar-parameter-counts, ar-vq-vae, ar-wavenet,
ar-made-masks, ar-chain-rule-bits; each "-multipart"): every part recomputed from the values the
problem drew (`drawn`) by an independent route (tables enumerated and torch.nn.Linear parameters
counted, torch cdist for the nearest code and the loss's two terms with detach, the
receptive field found by gradients through stacked dilated convolutions, masks written from the
degree rule and checked on a masked torch MLP whose Jacobian must be strictly lower triangular,
the full joint table of three pixels enumerated and summed), and each part marked on its own."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from multipart_topic_checks import check_problem, close, option_letter, right_option

from quizzes.catalog import load_templates

load_templates()


def _jacobian(mask_w, mask_v):
    """d outputs / d inputs of a masked 4-5-4 tanh MLP with random weights."""
    import torch

    gen = torch.Generator().manual_seed(0)
    W = torch.randn(5, 4, generator=gen, dtype=torch.float64) * torch.tensor(mask_w)
    V = torch.randn(4, 5, generator=gen, dtype=torch.float64) * torch.tensor(mask_v)
    x = torch.randn(4, generator=gen, dtype=torch.float64)
    return torch.autograd.functional.jacobian(lambda v: V @ torch.tanh(W @ v), x).numpy()


def check_ar_counts(q):
    import itertools

    import torch

    n, hidden = q.drawn["n"], q.parts[2].drawn["d"]
    # tables: one Bernoulli parameter per configuration of the preceding variables
    tables = sum(len(list(itertools.product((0, 1), repeat=i))) for i in range(n))
    assert int(q.parts[0].answer) == tables
    # x_1's conditional is a bias alone; x_i's a logistic regression on i - 1 inputs
    fvsbn = 1 + sum(p.numel() for i in range(1, n) for p in torch.nn.Linear(i, 1).parameters())
    assert int(q.parts[1].answer) == fvsbn
    nade = hidden * n + hidden + n * hidden + n  # W, b, V, c as NADE's paper lists them
    assert int(q.parts[2].answer) == nade
    assert right_option(q.parts[3]).startswith("the hidden layer's weights W are shared")


def check_vq_vae(q):
    import torch

    codebook = torch.tensor(q.drawn["e_1, e_2, e_3"], dtype=torch.float64)
    z_e = torch.tensor(q.drawn["z_e"], dtype=torch.float64)
    beta = float(q.parts[2].drawn["beta"])
    distances = torch.cdist(z_e[None], codebook)[0] ** 2
    k = int(torch.argmin(distances))
    assert int(q.parts[0].answer) == k + 1
    close(q.parts[1].answer, distances[k].item())
    e = codebook[k]
    loss = ((z_e.detach() - e) ** 2).sum() + beta * ((z_e - e.detach()) ** 2).sum()
    close(q.parts[2].answer, loss.item())
    assert right_option(q.parts[3]).startswith("the straight-through estimator")


def check_wavenet(q):
    import torch

    layers, kernel = q.drawn["layers"], q.drawn["kernel size"]
    target = q.parts[2].drawn["target"]

    def field(k, dilations):
        """Receptive field by gradients: which inputs move the last output of the stack."""
        length = 1 + (k - 1) * sum(dilations) + 5
        x = torch.zeros(1, 1, length, requires_grad=True)
        h = x
        for d in dilations:
            h = torch.nn.functional.conv1d(
                torch.nn.functional.pad(h, ((k - 1) * d, 0)), torch.ones(1, 1, k), dilation=d
            )
        h[0, 0, -1].backward()
        return int((x.grad[0, 0] != 0).sum())

    assert int(q.parts[0].answer) == field(kernel, [2**i for i in range(layers)])
    assert int(q.parts[1].answer) == field(kernel, [1] * layers)
    needed = int(q.parts[2].answer)
    assert field(2, [2**i for i in range(needed)]) >= target
    assert field(2, [2**i for i in range(needed - 1)]) < target
    assert right_option(q.parts[3]).startswith("the receptive field grows exponentially")


def check_made(q):
    degrees = q.drawn["m(1), ..., m(5)"]
    j, d = q.parts[2].drawn["j"], q.parts[2].drawn["d"]
    # from the definition: unit k sees x_1..x_m(k); output d may see x_1..x_{d-1} only
    mask_w = np.array([[1.0 if i <= m else 0.0 for i in range(1, 5)] for m in degrees])
    mask_v = np.array([[1.0 if m <= out - 1 else 0.0 for m in degrees] for out in range(1, 5)])
    jac = _jacobian(mask_w, mask_v)
    assert np.allclose(np.triu(jac), 0.0)  # output d depends on x_<d only
    assert int(q.parts[0].answer) == int(mask_w.sum())
    assert int(q.parts[1].answer) == int(mask_v.sum())
    routes = sum(1 for m in degrees if j <= m and m <= d - 1)
    assert int(q.parts[2].answer) == routes
    # the non-strict output mask lets x_d reach output d through a unit of degree d
    loose = np.array([[1.0 if m <= out else 0.0 for m in degrees] for out in range(1, 5)])
    if any(m in degrees for m in (1, 2, 3)):
        assert not np.allclose(np.diag(_jacobian(mask_w, loose)), 0.0)
    assert right_option(q.parts[3]).startswith("d > m(k), strictly")
    return {
        0: str(sum(m - 1 for m in degrees)),  # m(k) > d in the hidden mask
        1: str(int(loose.sum())),  # d >= m(k) in the output mask
        3: option_letter(q.parts[3], "d >= m(k), as in the hidden layers"),
    }


def check_chain_rule(q):
    a = q.drawn["p(x_1 = 1)"]
    b0, b1 = q.drawn["p(x_2 = 1 | x_1 = 0)"], q.drawn["p(x_2 = 1 | x_1 = 1)"]
    c = q.drawn["p(x_3 = 1 | x_1, x_2)"]  # for (x_1, x_2) = (0, 0), (0, 1), (1, 0), (1, 1)
    x = tuple(q.parts[0].drawn["x"])
    joint = {}
    for x1, x2, x3 in itertools.product((0, 1), repeat=3):
        p1 = a if x1 else 1 - a
        p2 = (b1 if x1 else b0) if x2 else 1 - (b1 if x1 else b0)
        p3 = c[2 * x1 + x2] if x3 else 1 - c[2 * x1 + x2]
        joint[x1, x2, x3] = p1 * p2 * p3
    assert math.isclose(sum(joint.values()), 1.0)
    close(q.parts[0].answer, joint[x])
    close(q.parts[1].answer, -math.log2(joint[x]) / 3)
    close(q.parts[2].answer, sum(p for k, p in joint.items() if k[1] == 1))
    nll = q.parts[3].drawn["NLL"]
    close(q.parts[3].answer, nll * math.log2(math.e) / 3072)
    assert right_option(q.parts[4]).startswith("sampling: each pixel's conditional")
    return {
        1: repr(-math.log(joint[x]) / 3),  # nats, not bits
        2: repr((b0 + b1) / 2),  # the conditionals averaged without p(x_1)
        3: repr(nll / 3072),
        4: option_letter(q.parts[4], "computing log p(x)"),
    }


CHECKS = {
    "ar-parameter-counts-multipart": check_ar_counts,
    "ar-vq-vae-multipart": check_vq_vae,
    "ar-wavenet-multipart": check_wavenet,
    "ar-made-masks-multipart": check_made,
    "ar-chain-rule-bits-multipart": check_chain_rule,
}


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_and_marked_one_by_one(template_id):
    check_problem(CHECKS, template_id)
