"""A vanilla RNN over T steps and backpropagation through time (sheet section 12).

    a_t = W_hh h_{t-1} + W_xh x_t,  h_t = tanh(a_t),  y_hat_t = W_hy h_t,  h_0 = 0
    L = sum_t L_t,  L_t = 1/2 ||y_hat_t - y_t||^2
    dh_t/dh_k = prod_{i=k+1}^{t} dh_i/dh_{i-1},   dh_i/dh_{i-1} = diag(1 - h_i^2) W_hh
    BPTT:  dL/dh_t = W_hy^T (y_hat_t - y_t) + W_hh^T dL/da_{t+1},   dL/da_t = dL/dh_t * (1 - h_t^2)
           dL/dW_hh = sum_t dL/da_t h_{t-1}^T,  dL/dW_xh = sum_t dL/da_t x_t^T,
           dL/dW_hy = sum_t (y_hat_t - y_t) h_t^T
Truncated BPTT (--truncate K): the hidden state is detached every K steps (after h_K, h_2K, ...),
so no gradient crosses those points. Clipping (--clip): if the total gradient norm exceeds
max_norm, every gradient is scaled by max_norm / (norm + 1e-6), as clip_grad_norm_ does.
"""

from __future__ import annotations

import numpy as np

from cheatsheet.backprop.core import Draw, Mistake, WorkedExample, check

D_X, D_H, D_Y = 2, 2, 1


def build(seed: int, T: int, truncate: int | None, clip: bool, max_norm: float) -> WorkedExample:
    draw = Draw(seed)
    xs = draw.ints((T, D_X), -1, 1)
    ys = draw.decimals((T, D_Y), -1, 1)
    W_xh = draw.decimals((D_H, D_X), -1, 1)
    W_hh = draw.decimals((D_H, D_H), -1, 1)
    W_hy = draw.decimals((D_Y, D_H), -1, 1)
    cut = truncate or T + 1  # gradient does not flow from step t to t-1 when (t-1) % cut == 0

    def flows(t: int) -> bool:  # does dL/dh_{t-1} receive gradient from step t?
        return (t - 1) % cut != 0 or t - 1 == 0

    title = f"vanilla RNN over T={T} steps, BPTT"
    if truncate:
        title += f", truncated every {truncate} steps"
    ex = WorkedExample("rnn", title, [], options={"seed": seed, "T": T, "truncate": truncate,
                                                   "clip": clip, "max_norm": max_norm})
    for name, v, what in (("x", xs, "inputs x_1..x_T (rows)"), ("y", ys, "targets"),
                          ("W_xh", W_xh, "input weights"), ("W_hh", W_hh, "recurrent weights"),
                          ("W_hy", W_hy, "output weights")):
        ex.add(name, v, what, "input")
    h = [np.zeros(D_H)]
    a = [None]
    y_hat = [None]
    for t in range(1, T + 1):
        a.append(ex.add(f"a_{t}", W_hh @ h[t - 1] + W_xh @ xs[t - 1], f"a_{t} = W_hh h_{t - 1} "
                        f"+ W_xh x_{t}"))
        h.append(ex.add(f"h_{t}", np.tanh(a[t]), f"h_{t} = tanh(a_{t})"))
        y_hat.append(ex.add(f"y_hat_{t}", W_hy @ h[t], f"y_hat_{t} = W_hy h_{t}"))
    ex.add("L", sum(float(((y_hat[t] - ys[t - 1]) ** 2).sum()) / 2 for t in range(1, T + 1)),
           "L = sum_t 1/2 ||y_hat_t - y_t||^2")

    # The Jacobians dh_t/dh_k (BPTT's products), zero across a truncation point.
    step = {i: np.diag(1 - h[i] ** 2) @ W_hh for i in range(2, T + 1)}
    sheet_step = {i: W_hh.T @ np.diag(1 - np.tanh(h[i - 1]) ** 2) for i in range(2, T + 1)}
    sheet_differs = False
    for t in range(2, T + 1):
        J = np.eye(D_H)
        S = np.eye(D_H)
        for k in range(t - 1, 0, -1):
            J = J @ step[k + 1] if flows(k + 1) else J * 0
            S = S @ sheet_step[k + 1]
            factors = " ".join(f"diag(1-h_{i}^2) W_hh" for i in range(t, k, -1))
            ex.add(f"dh_{t}/dh_{k}", J, f"dh_{t}/dh_{k} = {factors}"
                   + ("" if np.any(J) or all(flows(i) for i in range(k + 1, t + 1))
                      else "  (0: truncated)"), "backward", quiz=False)
            sheet_differs |= not np.allclose(J.T, S) and np.any(J)
    if sheet_differs:
        ex.notes.append("The sheet writes dh_t/dh_k = prod W_hh^T diag f'(h_{i-1}); checked "
                        "against autograd, the factor is diag f'(a_i) = diag(1 - h_i^2) (the "
                        "derivative at step i's pre-activation, not at h_{i-1}); with W_hh^T on "
                        "the left it is the transpose, the form that multiplies gradients.")

    dy = [None] + [y_hat[t] - ys[t - 1] for t in range(1, T + 1)]
    dh: list = [None] * (T + 2)
    da: list = [None] * (T + 2)
    for t in range(T, 0, -1):
        ex.add(f"dL/dy_hat_{t}", dy[t], f"y_hat_{t} - y_{t}", "backward", quiz=False)
        upstream = W_hy.T @ dy[t]
        rule = f"W_hy^T dL/dy_hat_{t}"
        if t < T and flows(t + 1):
            upstream = upstream + W_hh.T @ da[t + 1]
            rule += f" + W_hh^T dL/da_{t + 1}"
        elif t < T:
            rule += f"  (truncated: nothing from step {t + 1})"
        dh[t] = ex.add(f"dL/dh_{t}", upstream, rule, "backward",
                       mistakes=[Mistake(W_hy.T @ dy[t], "missing the path through time: "
                                         f"+ W_hh^T dL/da_{t + 1}")] if t < T and flows(t + 1)
                       else [])
        da[t] = ex.add(f"dL/da_{t}", dh[t] * (1 - h[t] ** 2), f"dL/dh_{t} * (1 - h_{t}^2)",
                       "backward", mistakes=[Mistake(dh[t], "missing the factor tanh'(a) = "
                                                            "1 - h^2")])
    grads = {
        "dL/dW_xh": sum(np.outer(da[t], xs[t - 1]) for t in range(1, T + 1)),
        "dL/dW_hh": sum(np.outer(da[t], h[t - 1]) for t in range(1, T + 1)),
        "dL/dW_hy": sum(np.outer(dy[t], h[t]) for t in range(1, T + 1)),
    }
    ex.add("dL/dW_xh", grads["dL/dW_xh"], "sum_t dL/da_t x_t^T", "backward")
    ex.add("dL/dW_hh", grads["dL/dW_hh"], "sum_t dL/da_t h_{t-1}^T", "backward",
           mistakes=[Mistake(sum(np.outer(da[t], h[t]) for t in range(1, T + 1)),
                             "the factor is h_{t-1} (the previous state), not h_t")])
    ex.add("dL/dW_hy", grads["dL/dW_hy"], "sum_t (y_hat_t - y_t) h_t^T", "backward")
    if clip:
        norm = float(np.sqrt(sum((g**2).sum() for g in grads.values())))
        ex.add("grad norm", norm, "sqrt of the sum of all squared gradient entries", "backward")
        scale = min(1.0, max_norm / (norm + 1e-6))
        ex.add("clip scale", scale, f"min(1, {max_norm} / (norm + 1e-6))", "backward")
        for name, g in grads.items():
            ex.add(f"clipped {name}", g * scale, f"{name} * clip scale", "backward")

    import torch

    t_ = torch.tensor
    Wxh, Whh, Why = (t_(w).requires_grad_(True) for w in (W_xh, W_hh, W_hy))
    h_t = [torch.zeros(D_H, dtype=torch.float64)]
    ref: dict = {}
    a_list, loss = [None], 0
    for t in range(1, T + 1):
        prev = h_t[t - 1] if flows(t) else h_t[t - 1].detach()
        a_t = Whh @ prev + Wxh @ t_(xs[t - 1])
        hh = torch.tanh(a_t)
        yh = Why @ hh
        for v in (a_t, hh, yh):
            v.retain_grad()
        a_list.append(a_t)
        h_t.append(hh)
        ref |= {f"a_{t}": a_t, f"h_{t}": hh, f"y_hat_{t}": yh}
        loss = loss + 0.5 * ((yh - t_(ys[t - 1])) ** 2).sum()
    ref["L"] = loss
    loss.backward(retain_graph=True)
    for t in range(1, T + 1):
        ref |= {f"dL/dy_hat_{t}": ref[f"y_hat_{t}"].grad.clone(),
                f"dL/dh_{t}": h_t[t].grad.clone(), f"dL/da_{t}": a_list[t].grad.clone()}
    # Jacobians after the backward pass: autograd.grad also feeds retain_grad() hooks.
    for t in range(2, T + 1):
        for k in range(t - 1, 0, -1):
            rows = []
            for c in range(D_H):
                (g,) = torch.autograd.grad(h_t[t][c], h_t[k], retain_graph=True,
                                           allow_unused=True)
                rows.append(torch.zeros(D_H, dtype=torch.float64) if g is None else g)
            ref[f"dh_{t}/dh_{k}"] = torch.stack(rows)
    ref |= {"dL/dW_xh": Wxh.grad.clone(), "dL/dW_hh": Whh.grad.clone(),
            "dL/dW_hy": Why.grad.clone()}
    labels = {}
    if clip:
        total = torch.nn.utils.clip_grad_norm_([Wxh, Whh, Why], max_norm)
        ref |= {"grad norm": total, "clip scale": Wxh.grad.norm() / ref["dL/dW_xh"].norm()
                if ref["dL/dW_xh"].norm() > 0 else torch.tensor(min(1.0, max_norm / (
                    float(total) + 1e-6))),
                "clipped dL/dW_xh": Wxh.grad, "clipped dL/dW_hh": Whh.grad,
                "clipped dL/dW_hy": Why.grad}
        labels = {k: "torch.nn.utils.clip_grad_norm_" for k in ref if "clip" in k or "norm" in k}
    ref = {k: v.detach() if hasattr(v, "detach") else v for k, v in ref.items()}
    return check(ex, ref, labels)


EXACT_OK = False


def options_for(kind: str) -> set[str]:
    return {"size", "truncate", "clip"}


def from_options(kind: str, o) -> WorkedExample:
    T = (o.size or (3,))[0]
    if o.truncate is not None and o.truncate >= T:
        raise ValueError(f"--truncate {o.truncate} must be below the number of steps T={T}")
    return build(o.seed, T, o.truncate, o.clip, o.max_norm)
