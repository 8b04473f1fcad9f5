"""A vanilla RNN over T steps and backpropagation through time (sheet section 12).

    a_t = W_hh h_{t-1} + W_xh x_t,  h_t = tanh(a_t),  y_hat_t = W_hy h_t,  h_0 = 0
    L = sum_t L_t,  L_t = 1/2 ||y_hat_t - y_t||^2
    dh_t/dh_k = prod_{i=k+1}^{t} dh_i/dh_{i-1},   dh_i/dh_{i-1} = diag(1 - h_i^2) W_hh
    BPTT:  dL/dh_t = W_hy^T (y_hat_t - y_t) + W_hh^T dL/da_{t+1},   dL/da_t = dL/dh_t * (1 - h_t^2)
           dL/dW_hh = sum_t dL/da_t h_{t-1}^T,  dL/dW_xh = sum_t dL/da_t x_t^T,
           dL/dW_hy = sum_t (y_hat_t - y_t) h_t^T
Truncated BPTT (--truncate K), as the sheet puts it: "take the sum only over the last K steps":
each L_t sends gradient back to a_t, ..., a_{t-K+1} only (autograd: L_t on a graph detached at
h_{t-K}). Clipping (--clip): if the total gradient norm exceeds
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
    window = truncate or T  # each L_t reaches back over its last `window` steps

    title = f"vanilla RNN over T={T} steps, BPTT"
    if truncate:
        title += f", truncated to the last {truncate} steps"
    ex = WorkedExample(
        "rnn",
        title,
        [],
        options={"seed": seed, "T": T, "truncate": truncate, "clip": clip, "max_norm": max_norm},
    )
    for name, v, what in (
        ("x", xs, "inputs x_1..x_T (rows)"),
        ("y", ys, "targets"),
        ("W_xh", W_xh, "input weights"),
        ("W_hh", W_hh, "recurrent weights"),
        ("W_hy", W_hy, "output weights"),
    ):
        ex.add(name, v, what, "input")
    h = [np.zeros(D_H)]
    a = [None]
    y_hat = [None]
    for t in range(1, T + 1):
        a.append(
            ex.add(
                f"a_{t}", W_hh @ h[t - 1] + W_xh @ xs[t - 1], f"a_{t} = W_hh h_{t - 1} + W_xh x_{t}"
            )
        )
        h.append(ex.add(f"h_{t}", np.tanh(a[t]), f"h_{t} = tanh(a_{t})"))
        y_hat.append(ex.add(f"y_hat_{t}", W_hy @ h[t], f"y_hat_{t} = W_hy h_{t}"))
    ex.add(
        "L",
        sum(float(((y_hat[t] - ys[t - 1]) ** 2).sum()) / 2 for t in range(1, T + 1)),
        "L = sum_t 1/2 ||y_hat_t - y_t||^2",
    )

    # The Jacobians dh_t/dh_k: BPTT's products, shown for the pairs the (truncated) sum uses.
    step = {i: np.diag(1 - h[i] ** 2) @ W_hh for i in range(2, T + 1)}
    sheet_step = {i: W_hh.T @ np.diag(1 - np.tanh(h[i - 1]) ** 2) for i in range(2, T + 1)}
    sheet_differs = False
    for t in range(2, T + 1):
        J = np.eye(D_H)
        S = np.eye(D_H)
        for k in range(t - 1, max(0, t - window), -1):
            J = J @ step[k + 1]
            S = S @ sheet_step[k + 1]
            factors = " ".join(f"diag(1-h_{i}^2) W_hh" for i in range(t, k, -1))
            ex.add(f"dh_{t}/dh_{k}", J, f"dh_{t}/dh_{k} = {factors}", "backward", quiz=False)
            sheet_differs |= not np.allclose(J.T, S)
    if sheet_differs:
        ex.notes.append(
            "The sheet writes dh_t/dh_k = prod W_hh^T diag f'(h_{i-1}); checked "
            "against autograd, the factor is diag f'(a_i) = diag(1 - h_i^2) (the "
            "derivative at step i's pre-activation, not at h_{i-1}); with W_hh^T on "
            "the left it is the transpose, the form that multiplies gradients."
        )

    dy = [None] + [y_hat[t] - ys[t - 1] for t in range(1, T + 1)]
    for t in range(T, 0, -1):
        ex.add(f"dL/dy_hat_{t}", dy[t], f"y_hat_{t} - y_{t}", "backward", quiz=False)
    # da[k]: the gradient at a_k that the weight gradients collect.
    da: list = [None] * (T + 2)
    if truncate is None:
        dh: list = [None] * (T + 2)
        for t in range(T, 0, -1):
            upstream = W_hy.T @ dy[t]
            rule = f"W_hy^T dL/dy_hat_{t}"
            if t < T:
                upstream = upstream + W_hh.T @ da[t + 1]
                rule += f" + W_hh^T dL/da_{t + 1}"
            dh[t] = ex.add(
                f"dL/dh_{t}",
                upstream,
                rule,
                "backward",
                mistakes=[
                    Mistake(
                        W_hy.T @ dy[t], f"missing the path through time: + W_hh^T dL/da_{t + 1}"
                    )
                ]
                if t < T
                else [],
            )
            da[t] = ex.add(
                f"dL/da_{t}",
                dh[t] * (1 - h[t] ** 2),
                f"dL/dh_{t} * (1 - h_{t}^2)",
                "backward",
                mistakes=[Mistake(dh[t], "missing the factor tanh'(a) = 1 - h^2")],
            )
    else:
        # Sheet 12: "take the sum only over the last kappa steps": L_t reaches a_k for
        # t - K < k <= t only; each loss term has its own backward pass.
        for k in range(1, T + 1):
            da[k] = np.zeros(D_H)
        for t in range(T, 0, -1):
            g = W_hy.T @ dy[t]
            rule = f"W_hy^T dL/dy_hat_{t}"
            for k in range(t, max(0, t - window), -1):
                ex.add(f"dL_{t}/dh_{k}", g, rule, "backward", quiz=k == t)
                dak = ex.add(
                    f"dL_{t}/da_{k}",
                    g * (1 - h[k] ** 2),
                    f"dL_{t}/dh_{k} * (1 - h_{k}^2)",
                    "backward",
                    mistakes=[Mistake(g, "missing the factor tanh'(a) = 1 - h^2")],
                )
                da[k] = da[k] + dak
                g = W_hh.T @ dak
                rule = f"W_hh^T dL_{t}/da_{k}"
            if t - window >= 1:
                ex.notes.append(
                    f"L_{t} stops at a_{t - window + 1}: nothing flows into "
                    f"h_{t - window} (the truncation point)."
                )
        for k in range(T, 0, -1):
            ex.add(
                f"dL/da_{k}",
                da[k],
                f"sum over t of dL_t/da_{k} (t - {window} < {k} <= t)",
                "backward",
                quiz=False,
            )
    grads = {
        "dL/dW_xh": sum(np.outer(da[t], xs[t - 1]) for t in range(1, T + 1)),
        "dL/dW_hh": sum(np.outer(da[t], h[t - 1]) for t in range(1, T + 1)),
        "dL/dW_hy": sum(np.outer(dy[t], h[t]) for t in range(1, T + 1)),
    }
    ex.add("dL/dW_xh", grads["dL/dW_xh"], "sum_t dL/da_t x_t^T", "backward")
    ex.add(
        "dL/dW_hh",
        grads["dL/dW_hh"],
        "sum_t dL/da_t h_{t-1}^T",
        "backward",
        mistakes=[
            Mistake(
                sum(np.outer(da[t], h[t]) for t in range(1, T + 1)),
                "the factor is h_{t-1} (the previous state), not h_t",
            )
        ],
    )
    ex.add("dL/dW_hy", grads["dL/dW_hy"], "sum_t (y_hat_t - y_t) h_t^T", "backward")
    if clip:
        norm = float(np.sqrt(sum((g**2).sum() for g in grads.values())))
        ex.add("grad norm", norm, "sqrt of the sum of all squared gradient entries", "backward")
        scale = min(1.0, max_norm / (norm + 1e-6))
        ex.add("clip scale", scale, f"min(1, {max_norm} / (norm + 1e-6))", "backward")
        for name, g in grads.items():
            ex.add(f"clipped {name}", g * scale, f"{name} * clip scale", "backward")
    return check(ex, *reference(xs, ys, W_xh, W_hh, W_hy, truncate, clip, max_norm))


def _unroll(xs, W, T: int, detach_at: int | None = None):
    """Forward pass in torch; h_{detach_at} is detached (the truncation point)."""
    import torch

    Wxh, Whh, Why = W
    hs = [torch.zeros(D_H, dtype=torch.float64)]
    a_s, yhs = [None], [None]
    for t in range(1, T + 1):
        prev = hs[t - 1].detach() if detach_at == t - 1 else hs[t - 1]
        a_t = Whh @ prev + Wxh @ torch.tensor(xs[t - 1])
        h_t = torch.tanh(a_t)
        y_t = Why @ h_t
        for v in (a_t, h_t, y_t):
            v.retain_grad()
        a_s.append(a_t)
        hs.append(h_t)
        yhs.append(y_t)
    return a_s, hs, yhs


def reference(xs, ys, W_xh, W_hh, W_hy, truncate, clip, max_norm):
    import torch

    T = len(xs)
    W = [torch.tensor(w).requires_grad_(True) for w in (W_xh, W_hh, W_hy)]
    a_s, hs, yhs = _unroll(xs, W, T)
    ref: dict = {}
    for t in range(1, T + 1):
        ref |= {f"a_{t}": a_s[t], f"h_{t}": hs[t], f"y_hat_{t}": yhs[t]}
    losses = [None] + [
        0.5 * ((yhs[t] - torch.tensor(ys[t - 1])) ** 2).sum() for t in range(1, T + 1)
    ]
    ref["L"] = sum(losses[1:])
    window = truncate or T
    if truncate is None:
        ref["L"].backward(retain_graph=True)
        for t in range(1, T + 1):
            ref |= {
                f"dL/dy_hat_{t}": yhs[t].grad.clone(),
                f"dL/dh_{t}": hs[t].grad.clone(),
                f"dL/da_{t}": a_s[t].grad.clone(),
            }
    else:
        # One graph per loss term, detached at its truncation point h_{t-K}; grads summed.
        for p in W:
            p.grad = None
        da_total = [torch.zeros(D_H, dtype=torch.float64) for _ in range(T + 1)]
        for t in range(1, T + 1):
            cut = t - window if t - window >= 1 else None
            a_c, h_c, y_c = _unroll(xs, W, t, cut)
            (0.5 * ((y_c[t] - torch.tensor(ys[t - 1])) ** 2).sum()).backward()
            ref[f"dL/dy_hat_{t}"] = y_c[t].grad
            for k in range(t, max(0, t - window), -1):
                ref[f"dL_{t}/dh_{k}"] = h_c[k].grad
                ref[f"dL_{t}/da_{k}"] = a_c[k].grad
                da_total[k] = da_total[k] + a_c[k].grad
        for k in range(1, T + 1):
            ref[f"dL/da_{k}"] = da_total[k]
    for t in range(2, T + 1):  # Jacobians, row by row (after the backward pass: autograd.grad
        # also feeds the retain_grad() hooks)
        for k in range(t - 1, max(0, t - window), -1):
            rows = [torch.autograd.grad(hs[t][c], hs[k], retain_graph=True)[0] for c in range(D_H)]
            ref[f"dh_{t}/dh_{k}"] = torch.stack(rows)
    ref |= {
        "dL/dW_xh": W[0].grad.clone(),
        "dL/dW_hh": W[1].grad.clone(),
        "dL/dW_hy": W[2].grad.clone(),
    }
    labels = {}
    if clip:
        total = torch.nn.utils.clip_grad_norm_(W, max_norm)
        before = torch.cat([ref[k].flatten() for k in ("dL/dW_xh", "dL/dW_hh", "dL/dW_hy")])
        after = torch.cat([p.grad.flatten() for p in W])
        ref |= {
            "grad norm": total,
            "clip scale": after.norm() / before.norm() if before.norm() > 0 else torch.tensor(1.0),
            "clipped dL/dW_xh": W[0].grad,
            "clipped dL/dW_hh": W[1].grad,
            "clipped dL/dW_hy": W[2].grad,
        }
        labels = {k: "torch.nn.utils.clip_grad_norm_" for k in ref if "clip" in k or "norm" in k}
    if truncate:
        labels |= {
            k: "autograd on a graph detached at h_{t-K}"
            for k in ref
            if k.startswith("dL_") or k.startswith("dL/dW") or k.startswith("dL/da")
        }
    return {k: v.detach() if hasattr(v, "detach") else v for k, v in ref.items()}, labels


EXACT_OK = False


def options_for(kind: str) -> set[str]:
    return {"size", "truncate", "clip"}


def from_options(kind: str, o) -> WorkedExample:
    T = (o.size or (3,))[0]
    if o.truncate is not None and o.truncate >= T:
        raise ValueError(f"--truncate {o.truncate} must be below the number of steps T={T}")
    return build(o.seed, T, o.truncate, o.clip, o.max_norm)
