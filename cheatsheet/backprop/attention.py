"""Single-head scaled dot-product attention with a causal mask (sheet section 3.1), backward
through the softmax.

    Q = X W_Q,  K = X W_K,  V = X W_V,  S = Q K^T / sqrt(D),  S[i,j] = -inf for j > i (causal)
    A = softmax over each row of S,  O = A V
    dV = A^T G,  dA = G V^T,  dS = A * (dA - rowsum(dA * A))   (softmax backward, row by row;
                                                              masked entries get 0)
    dQ = dS K / sqrt(D),  dK = dS^T Q / sqrt(D),  dW_Q = X^T dQ,  dW_K = X^T dK,  dW_V = X^T dV
    dX = dQ W_Q^T + dK W_K^T + dV W_V^T
"""

from __future__ import annotations

import math

import numpy as np

from cheatsheet.backprop.core import Draw, Mistake, WorkedExample, check


def build(seed: int, T: int, D: int) -> WorkedExample:
    draw = Draw(seed)
    X = draw.ints((T, D), -2, 2)
    W_Q, W_K, W_V = (draw.decimals((D, D), -1, 1) for _ in range(3))
    G = draw.ints((T, D), -2, 2)
    ex = WorkedExample(
        "attention",
        f"causal single-head attention, T={T}, D={D}",
        [],
        options={"seed": seed, "T": T, "D": D},
    )
    for name, v, what in (
        ("X", X, "tokens, one row per step"),
        ("W_Q", W_Q, "query weights"),
        ("W_K", W_K, "key weights"),
        ("W_V", W_V, "value weights"),
    ):
        ex.add(name, v, what, "input")
    mask = np.tril(np.ones((T, T)))
    ex.add("mask", mask, "causal mask: step i sees j <= i", "input")
    Q = ex.add("Q", X @ W_Q, "Q = X W_Q")
    K = ex.add("K", X @ W_K, "K = X W_K")
    V = ex.add("V", X @ W_V, "V = X W_V")
    root = math.sqrt(D)
    S = ex.add("S", Q @ K.T / root, f"S = Q K^T / sqrt({D})")
    shifted = np.where(mask > 0, S, -np.inf)
    e = np.exp(shifted - shifted.max(axis=1, keepdims=True))
    A = ex.add("A", e / e.sum(axis=1, keepdims=True), "A = row softmax of S, masked entries 0")
    ex.add("O", A @ V, "O = A V")
    ex.add("G", G, "upstream gradient dE/dO (given)", "input")
    dV = ex.add(
        "dE/dV",
        A.T @ G,
        "dV = A^T G",
        "backward",
        mistakes=[Mistake(A @ G, "the factor is A^T (transpose), not A")],
    )
    dA = ex.add("dE/dA", G @ V.T, "dA = G V^T", "backward")
    dS = A * (dA - (dA * A).sum(axis=1, keepdims=True))
    ex.add(
        "dE/dS",
        dS,
        "dS = A * (dA - rowsum(dA * A)): the softmax Jacobian diag(a) - a a^T",
        "backward",
        mistakes=[
            Mistake(
                A * dA,
                "missing the - rowsum(dA * A) term of the softmax Jacobian (the -a a^T part)",
            ),
            Mistake(dA, "missing the softmax Jacobian factor"),
        ],
    )
    dQ = ex.add(
        "dE/dQ",
        dS @ K / root,
        f"dQ = dS K / sqrt({D})",
        "backward",
        mistakes=[Mistake(dS @ K, f"missing the factor 1/sqrt({D})")],
    )
    dK = ex.add(
        "dE/dK",
        dS.T @ Q / root,
        f"dK = dS^T Q / sqrt({D})",
        "backward",
        mistakes=[Mistake(dS @ Q / root, "the factor is dS^T (transpose), not dS")],
    )
    ex.add("dE/dW_Q", X.T @ dQ, "X^T dQ", "backward")
    ex.add("dE/dW_K", X.T @ dK, "X^T dK", "backward")
    ex.add("dE/dW_V", X.T @ dV, "X^T dV", "backward")
    ex.add(
        "dE/dX",
        dQ @ W_Q.T + dK @ W_K.T + dV @ W_V.T,
        "dX = dQ W_Q^T + dK W_K^T + dV W_V^T (X feeds all three)",
        "backward",
        mistakes=[Mistake(dV @ W_V.T, "X also reaches E through Q and K: add all three paths")],
    )

    import torch
    import torch.nn.functional as F

    t = torch.tensor
    X_t = t(X).requires_grad_(True)
    Wq, Wk, Wv = (t(w).requires_grad_(True) for w in (W_Q, W_K, W_V))
    Q_t, K_t, V_t = X_t @ Wq, X_t @ Wk, X_t @ Wv
    S_t = Q_t @ K_t.T / root
    A_t = torch.softmax(S_t.masked_fill(t(mask) == 0, float("-inf")), dim=1)
    O_t = A_t @ V_t
    for v in (Q_t, K_t, V_t, S_t, A_t):
        v.retain_grad()
    (O_t * t(G)).sum().backward()
    sdpa = F.scaled_dot_product_attention(
        Q_t.detach()[None], K_t.detach()[None], V_t.detach()[None], is_causal=True
    )[0]
    return check(
        ex,
        {
            "Q": Q_t.detach(),
            "K": K_t.detach(),
            "V": V_t.detach(),
            "S": S_t.detach(),
            "A": A_t.detach(),
            "O": sdpa,
            "dE/dV": V_t.grad,
            "dE/dA": A_t.grad,
            "dE/dS": S_t.grad,
            "dE/dQ": Q_t.grad,
            "dE/dK": K_t.grad,
            "dE/dW_Q": Wq.grad,
            "dE/dW_K": Wk.grad,
            "dE/dW_V": Wv.grad,
            "dE/dX": X_t.grad,
        },
        {"O": "F.scaled_dot_product_attention(is_causal=True)"},
    )


EXACT_OK = False


def options_for(kind: str) -> set[str]:
    return {"size"}


def from_options(kind: str, o) -> WorkedExample:
    size = o.size or (3,)
    return build(o.seed, size[0], size[1] if len(size) > 1 else 2)
