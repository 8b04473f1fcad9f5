"""Generated templates of the course's second half (rl, implicit, body, ml, optimizers, cnn,
rnn, math).

Every template's answer is recomputed from its prompt by a route independent of the registry
formula that produced it: torch.optim for the optimizer steps, F.conv2d / max_pool2d /
conv_transpose2d and autograd for the CNN questions, nn.RNN and nn.LSTMCell for the recurrent
ones, torch.distributions for the splat opacity, autograd Jacobians for the projection and the
RNN step, scipy rotations for skinning, scipy.stats for the KL, explicit loops for value
iteration and the TD updates, numpy linear algebra for the math. Plus: same seed same
question, `bank check` on every variant drawn, `cheatsheet check` on variant ids, the banks of
these topics, and the question counts per topic through the catalog.
"""

from __future__ import annotations

import ast
import math
import re

import numpy as np
import pytest
import quiz_helpers

from quizzes.catalog import load_templates
from quizzes.questions import TEMPLATES

TOPICS = ("rl", "implicit", "body", "ml", "optimizers", "cnn", "rnn", "math")
for _topic in TOPICS:
    load_templates(_topic)
OURS = sorted(
    tid
    for tid, t in TEMPLATES.items()
    if t.make.__module__ in {f"quizzes.templates.{topic}" for topic in TOPICS}
    and t.kind != "multipart"  # multipart problems: tests/test_quiz_multipart*.py
)
VARIANTS = (0, 1, 2, 3, 5, 8, 13, 4242)


# --------------------------------------------------------------------------------------------
# Reading the drawn parameters back from the prompt


def value(text: str, name: str):
    """The first literal after `name = ` (a number, or a [..] list, nested or not)."""
    for match in re.finditer(r"(?<![\w^'])" + re.escape(name) + r" = ", text):
        rest = text[match.end() :]
        if rest.startswith("diag("):
            inner = rest[len("diag(") : rest.index(")")]
            return np.diag([float(part) for part in inner.split(",")])
        literal = quiz_helpers.leading_literal(rest)
        if literal is not None:
            return literal
    raise AssertionError(f"no literal after '{name} = ' in: {text}")


integer = quiz_helpers.integer


def close(answer: str, truth: float, rel: float = 1e-5, abs_: float = 1e-7) -> None:
    assert math.isclose(float(answer), float(truth), rel_tol=rel, abs_tol=abs_), (answer, truth)


def check_ordering(question) -> None:
    import formulas

    (formula_id,) = question.formulas
    claims = [step.claim for step in formulas.get(formula_id).derivation]
    chosen = [question.steps[ord(letter) - ord("A")] for letter in question.answer.split()]
    positions = [claims.index(step) for step in chosen]
    assert positions == sorted(positions), "the answer does not follow the derivation's order"
    assert list(question.steps) != chosen, "shown already in order"


def t64(values):
    import torch

    return torch.tensor(np.asarray(values, dtype=float), dtype=torch.float64)


# --------------------------------------------------------------------------------------------
# rl: explicit loops over the MDP as the prompt states it


def _mdp(prompt: str):
    rows = re.findall(
        r"from s(\d) action a(\d): reward r = (-?[\d.]+), P\(s' \| s\d, a\d\) = (\[[^\]]*\])",
        prompt,
    )
    table = {(int(s), int(a)): (float(r), ast.literal_eval(p)) for s, a, r, p in rows}
    return table, value(prompt, "gamma"), value(prompt, "V")


def _action_values(table, gamma, V, state):
    q = {}
    for (s, a), (r, probabilities) in table.items():
        if s == state:
            q[a] = r + gamma * sum(p * v for p, v in zip(probabilities, V))
    return q


def check_value_iteration(q):
    table, gamma, V = _mdp(q.prompt)
    state = integer(q.prompt, r"\(T\*V\)\(s(\d)\)")
    close(q.answer, max(_action_values(table, gamma, V, state).values()))


def check_greedy(q):
    table, gamma, V = _mdp(q.prompt)
    state = integer(q.prompt, r"choose in s(\d)")
    values = _action_values(table, gamma, V, state)
    best = max(values, key=values.get)
    assert q.choices[ord(q.answer) - ord("A")] == f"a{best}"


def check_discounted_return(q):
    rewards = value(q.prompt, "R_1, ..., R_" + str(integer(q.prompt, r"R_1, \.\.\., R_(\d)")))
    gamma = value(q.prompt, "gamma")
    t = integer(q.prompt, r"the return G_(\d)")
    G = 0.0
    for reward in reversed(rewards[t:]):  # G_t = R_{t+1} + gamma G_{t+1}
        G = reward + gamma * G
    close(q.answer, G)


def check_td_control(q):
    Q = {
        (int(s), int(a)): float(v)
        for s, a, v in re.findall(r"Q\(s(\d), a(\d)\) = (-?[\d.]+)", q.prompt.split(". It")[0])
    }
    a = integer(q.prompt, r"takes action a(\d) in s1")
    a_next = integer(q.prompt, r"the action a(\d)\.")
    r = value(q.prompt, "r")
    alpha, gamma = value(q.prompt, "alpha"), value(q.prompt, "gamma")
    if "SARSA" in q.prompt.split("after one")[1]:
        bootstrap = Q[(2, a_next)]
    else:
        bootstrap = max(Q[(2, 1)], Q[(2, 2)])
    old = Q[(1, a)]
    close(q.answer, old + alpha * (r + gamma * bootstrap - old))


def check_td0(q):
    V = value(q.prompt, "V")
    s, s_next = (int(x) for x in re.search(r"from s(\d) to s(\d)", q.prompt).groups())
    r, alpha, gamma = value(q.prompt, "r"), value(q.prompt, "alpha"), value(q.prompt, "gamma")
    target = r + gamma * V[s_next - 1]
    close(q.answer, (1 - alpha) * V[s - 1] + alpha * target)


def check_actor_critic(q):
    r = value(q.prompt, "r(s,a)")
    v, v_next, gamma = value(q.prompt, "V(s)"), value(q.prompt, "V(s')"), value(q.prompt, "gamma")
    close(q.answer, r + gamma * v_next - v)


# --------------------------------------------------------------------------------------------
# implicit: torch, exclusive cumulative sums, autograd, torch.distributions


def _ray(q):
    return t64(value(q.prompt, "sigma")), t64(value(q.prompt, "delta"))


def _weights_by_optical_depth(sigma, delta):
    import torch

    depth = sigma * delta
    before = torch.cat([torch.zeros(1, dtype=depth.dtype), torch.cumsum(depth, 0)[:-1]])
    transmittance = torch.exp(-before)
    return transmittance, transmittance * -torch.expm1(-depth)


def check_nerf_weight(q):
    i = integer(q.prompt, r"weight w_(\d)")
    _, weights = _weights_by_optical_depth(*_ray(q))
    close(q.answer, weights[i - 1].item())


def check_nerf_transmittance(q):
    i = integer(q.prompt, r"transmittance T_(\d)")
    transmittance, _ = _weights_by_optical_depth(*_ray(q))
    close(q.answer, transmittance[i - 1].item())


def check_nerf_colour(q):
    # the absorption probabilities of a photon walking the ray segment by segment
    sigma, delta = value(q.prompt, "sigma"), value(q.prompt, "delta")
    grey = value(q.prompt, "c")
    alive, colour = 1.0, 0.0
    for s, d, c in zip(sigma, delta, grey):
        absorbed = alive * (1 - math.exp(-s * d))
        colour += absorbed * c
        alive -= absorbed
    close(q.answer, colour)


def check_positional_encoding(q):
    import torch

    levels = integer(q.prompt, r"L = (\d+) frequencies")
    p = value(q.prompt, "p")
    entry = integer(q.prompt, r"entry number (\d+)")
    freqs = (2.0 ** torch.arange(levels, dtype=torch.float64)) * math.pi * p
    features = torch.stack([torch.sin(freqs), torch.cos(freqs)], dim=1).reshape(-1)
    close(q.answer, features[entry - 1].item())


def check_eikonal(q):
    import torch

    surface = t64(value(q.prompt, "f"))
    gradients = t64(ast.literal_eval(re.search(r"gradients are (\[\[.*?\]\])", q.prompt).group(1)))
    lam = value(q.prompt, "lambda")
    loss = (surface**2).mean() + lam * (
        (torch.linalg.vector_norm(gradients, dim=1) - 1) ** 2
    ).mean()
    close(q.answer, loss.item())


def check_splat_covariance(q):
    import torch

    t = t64(value(q.prompt, "t"))
    focal = value(q.prompt, "f")
    sigma = t64(value(q.prompt, "Sigma"))
    row, col = (int(x) - 1 for x in re.search(r"entry \((\d), (\d)\)", q.prompt).groups())

    def project(point):
        return torch.stack([focal * point[0] / point[2], focal * point[1] / point[2]])

    J = torch.autograd.functional.jacobian(project, t)
    close(q.answer, (J @ sigma @ J.T)[row, col].item())


def check_splat_opacity(q):
    import torch
    from torch.distributions import MultivariateNormal

    mean, cov = t64(value(q.prompt, "mu'")), t64(value(q.prompt, "Sigma'"))
    pixel, opacity = t64(value(q.prompt, "x")), value(q.prompt, "o")
    density = MultivariateNormal(mean, covariance_matrix=cov)
    # the unnormalised Gaussian: density times its normaliser 2 pi sqrt(det)
    unnormalised = density.log_prob(pixel) + math.log(2 * math.pi) + 0.5 * torch.logdet(cov)
    close(q.answer, opacity * math.exp(unnormalised.item()))


# --------------------------------------------------------------------------------------------
# body: scipy rotations and plain numpy


def _bone_transform(text: str):
    """(rotation, translation) from 'rotates by D degrees about the z axis, then translates by
    [..]' or 'translates by [..]'."""
    from scipy.spatial.transform import Rotation

    degrees = re.match(r"rotates by (\d+) degrees", text)
    rotation = Rotation.from_euler("z", float(degrees.group(1)) if degrees else 0.0, degrees=True)
    translation = np.array(
        ast.literal_eval(re.search(r"translates by (\[[^\]]*\])", text).group(1))
    )
    return rotation, translation


def _bones(prompt: str):
    first = re.search(r"G_1 (.*?); G_2", prompt).group(1)
    second = re.search(r"G_2 (.*?\])", prompt).group(1)
    weights = [float(w) for w in re.findall(r"with weight (\d+(?:\.\d+)?)", prompt)]
    return [_bone_transform(first), _bone_transform(second)], weights


def _skin(vertex, bones, weights):
    return sum(
        w * (rotation.apply(vertex) + translation)
        for (rotation, translation), w in zip(bones, weights)
    )


def check_lbs_vertex(q):
    vertex = np.array(value(q.prompt, "t"), float)
    bones, weights = _bones(q.prompt)
    axis = "xyz".index(re.search(r"What is the (\w) coordinate", q.prompt).group(1))
    close(q.answer, _skin(vertex, bones, weights)[axis])


def check_candy_wrapper(q):
    from scipy.spatial.transform import Rotation

    vertex = np.array(value(q.prompt, "t"), float)
    phi = integer(q.prompt, r"twists by (\d+) degrees")
    w1, w2 = (
        float(x) for x in re.search(r"weights ([\d.]+) \(bone 1\) and ([\d.]+)", q.prompt).groups()
    )
    blended = w1 * vertex + w2 * Rotation.from_euler("z", phi, degrees=True).apply(vertex)
    close(q.answer, np.linalg.norm(blended[:2]))


def check_pca_shape(q):
    S, mu, beta = (np.array(value(q.prompt, n), float) for n in ("S", "mu", "beta"))
    index = integer(q.prompt, r"entry (\d) of T, counting from 1")
    close(q.answer, (mu + np.einsum("ik,k->i", S, beta))[index - 1])


def check_pca_coefficients(q):
    S, mu, T = (np.array(value(q.prompt, n), float) for n in ("S", "mu", "T"))
    k = integer(q.prompt, r"beta_(\d)\?")
    beta, *_ = np.linalg.lstsq(S, T - mu, rcond=None)
    close(q.answer, beta[k - 1], abs_=1e-9)


def check_smpl_vertex(q):
    t, S, beta = (np.array(value(q.prompt, n), float) for n in ("t", "S", "beta"))
    P, feature = (
        np.array(value(q.prompt, "P"), float),
        np.array(value(q.prompt, "(R(theta) - R(theta*))")),
    )
    rest = t + S @ beta + P @ feature
    w1, w2 = (
        float(x) for x in re.search(r"weights ([\d.]+) \(bone 1\) and ([\d.]+)", q.prompt).groups()
    )
    first = re.search(r"G_1 (.*?); G_2", q.prompt).group(1)
    second = re.search(r"G_2 (.*?\])", q.prompt).group(1)
    bones = [_bone_transform(first), _bone_transform(second)]
    axis = "xyz".index(re.search(r"What is the (\w) coordinate", q.prompt).group(1))
    close(q.answer, _skin(rest, bones, [w1, w2])[axis])


def check_smpl_joint(q):
    row = np.array(ast.literal_eval(re.search(r"regressor row is (\[[^\]]*\])", q.prompt).group(1)))
    template = np.array(
        ast.literal_eval(re.search(r"template positions (\[\[.*?\]\])", q.prompt).group(1))
    )
    offsets = np.array(ast.literal_eval(re.search(r"offsets (\[\[.*?\]\])", q.prompt).group(1)))
    beta = value(q.prompt, "beta")
    axis = "xyz".index(re.search(r"joint's (\w) coordinate", q.prompt).group(1))
    shaped = template + beta * offsets
    close(q.answer, sum(row[v] * shaped[v, axis] for v in range(3)))


# --------------------------------------------------------------------------------------------
# ml: torch functions, autograd, scipy.stats


def check_activation(q):
    import torch

    x = torch.tensor(value(q.prompt, "x"), dtype=torch.float64, requires_grad=True)
    name = re.search(r"What is (?:the derivative )?(\w+)", q.prompt).group(1)
    y = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[name](x)
    if "derivative" in q.prompt:
        (grad,) = torch.autograd.grad(y, x)
        close(q.answer, grad.item())
    else:
        close(q.answer, y.item())


def check_bce(q):
    import torch.nn.functional as F

    y_hat, y = t64(value(q.prompt, "y_hat")), t64(value(q.prompt, "y"))
    close(q.answer, F.binary_cross_entropy(y_hat, y).item())


def check_cross_entropy_kl(q):
    from scipy.stats import entropy

    p, m = value(q.prompt, "p_d"), value(q.prompt, "p_m")
    kl = entropy(p, m)
    close(q.answer, kl if "KL" in q.prompt.split("What is")[1] else entropy(p) + kl)


def check_perceptron(q):
    w, x, y = np.array(value(q.prompt, "w")), np.array(value(q.prompt, "x")), value(q.prompt, "y")
    j = integer(q.prompt, r"weight w_(\d) after")
    if np.sign(w @ x) != y or w @ x == 0:  # wrong side (or on the boundary): move towards y x
        w = w + y * x
    close(q.answer, w[j - 1])


def check_mlp_delta(q):
    import torch

    W, delta_next, fprime = (
        t64(value(q.prompt, "W^(l+1)")),
        t64(value(q.prompt, "dL/dz^(l+1)")),
        t64(value(q.prompt, "f'(a^(l+1))")),
    )
    j = integer(q.prompt, r"entry (\d) of")
    z = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    # f linearised at a^(l+1): z^(l+1) = f(a) changes by f'(a) da
    loss = (delta_next * fprime * (W @ z)).sum()
    (grad,) = torch.autograd.grad(loss, z)
    close(q.answer, grad[j - 1].item())


def check_mlp_weight(q):
    import torch

    z_prev, fprime = t64(value(q.prompt, "z^(l-1)")), t64(value(q.prompt, "f'(a^(l))"))
    delta = t64(value(q.prompt, "dL/dz^(l)"))
    i, j = (int(c) for c in re.search(r"dL/dw_(\d)(\d)", q.prompt).groups())
    W = torch.zeros(2, 2, dtype=torch.float64, requires_grad=True)
    loss = (delta * fprime * (W @ z_prev)).sum()
    (grad,) = torch.autograd.grad(loss, W)
    close(q.answer, grad[i - 1, j - 1].item())


def check_activation_symbolic(q):
    import torch

    from quizzes.parser import parse

    expr = parse(q.answer, q.symbols)
    (symbol,) = expr.free_symbols
    function = torch.sigmoid if "sigmoid" in q.prompt else torch.tanh
    for x0 in (-2.0, -0.3, 0.7, 1.9):
        x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        y = function(x)
        (grad,) = torch.autograd.grad(y, x)
        close(float(expr.subs(symbol, y.item())), grad.item(), rel=1e-9)


# --------------------------------------------------------------------------------------------
# optimizers: torch.optim with the state the prompt gives


def _torch_step(optimizer_factory, theta, grad, state=None):
    import torch

    p = torch.nn.Parameter(t64([theta]))
    optimizer = optimizer_factory([p])
    if state is not None:
        optimizer.state[p].update(state)
    p.grad = t64([grad])
    optimizer.step()
    return p.item()


def check_sgd(q):
    import torch

    pairs = ast.literal_eval(re.search(r"mini-batch \(x, y\) = (\[.*?\])\.", q.prompt).group(1))
    w0, lr = value(q.prompt, "w"), value(q.prompt, "epsilon")
    w = torch.nn.Parameter(t64([w0]))
    optimizer = torch.optim.SGD([w], lr=lr)
    xs, ys = t64([x for x, _ in pairs]), t64([y for _, y in pairs])
    loss = (0.5 * (w * xs - ys) ** 2).mean()
    loss.backward()
    optimizer.step()
    close(q.answer, w.item())


def check_momentum(q):
    import torch

    theta, v, grad = value(q.prompt, "theta"), value(q.prompt, "v"), value(q.prompt, "g")
    lr, mu = value(q.prompt, "epsilon"), value(q.prompt, "alpha")
    # torch keeps buf = -v / lr: buf <- mu buf + g, theta <- theta - lr buf
    new = _torch_step(
        lambda ps: torch.optim.SGD(ps, lr=lr, momentum=mu),
        theta,
        grad,
        {"momentum_buffer": t64([-v / lr])},
    )
    close(q.answer, new)


def check_nesterov(q):
    import torch

    theta, v = value(q.prompt, "theta"), value(q.prompt, "v")
    lr, mu = value(q.prompt, "epsilon"), value(q.prompt, "alpha")
    a = integer(q.prompt, r"L\(theta\) = (\d)/2")
    # torch's Nesterov runs on the look-ahead variable p = theta + mu v (buf = -v / lr)
    p = torch.nn.Parameter(t64([theta + mu * v]))
    optimizer = torch.optim.SGD([p], lr=lr, momentum=mu, nesterov=True)
    optimizer.state[p]["momentum_buffer"] = t64([-v / lr])
    loss = (a / 2 * p**2).sum()
    loss.backward()
    optimizer.step()
    v_new = -lr * optimizer.state[p]["momentum_buffer"].item()
    close(q.answer, p.item() - mu * v_new)


def check_adagrad(q):
    import torch

    theta, r, grad, lr = (value(q.prompt, n) for n in ("theta", "r", "g", "epsilon"))
    new = _torch_step(
        lambda ps: torch.optim.Adagrad(ps, lr=lr, eps=1e-10, initial_accumulator_value=r),
        theta,
        grad,
    )
    close(q.answer, new)


def check_rmsprop(q):
    import torch

    theta, r, grad, lr, rho = (value(q.prompt, n) for n in ("theta", "r", "g", "epsilon", "rho"))
    new = _torch_step(
        lambda ps: torch.optim.RMSprop(ps, lr=lr, alpha=rho, eps=1e-8),
        theta,
        grad,
        {"step": torch.tensor(0.0), "square_avg": t64([r])},
    )
    close(q.answer, new)


def check_adam(q):
    import torch

    theta, grad, lr = value(q.prompt, "theta"), value(q.prompt, "g"), value(q.prompt, "eta")
    beta1, beta2, eps = (
        value(q.prompt, "beta_1"),
        value(q.prompt, "beta_2"),
        value(q.prompt, "epsilon"),
    )
    t = integer(q.prompt, r"step t = (\d)")
    m = 0.0 if t == 1 else value(q.prompt, "m")
    v = 0.0 if t == 1 else value(q.prompt, "v")
    new = _torch_step(
        lambda ps: torch.optim.Adam(ps, lr=lr, betas=(beta1, beta2), eps=eps),
        theta,
        grad,
        {"step": torch.tensor(float(t - 1)), "exp_avg": t64([m]), "exp_avg_sq": t64([v])},
    )
    close(q.answer, new)


# --------------------------------------------------------------------------------------------
# cnn: torch.nn.functional shapes, values and gradients


def check_dilated_size(q):
    import torch
    import torch.nn.functional as F

    n, k = (
        int(x)
        for x in re.search(r"A (\d+)x\d+ feature map goes through a (\d+)x", q.prompt).groups()
    )
    d, s, p = (
        integer(q.prompt, pattern)
        for pattern in (r"dilation (\d+)", r"stride (\d+)", r"padding (\d+)")
    )
    out = F.conv2d(
        torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d
    )
    assert q.answer == str(out.shape[-1])


def check_stack_size(q):
    import torch
    import torch.nn.functional as F

    n = integer(q.prompt, r"A (\d+)x")
    (k1, s1, p1), (k2, s2, p2) = (
        tuple(int(x) for x in m)
        for m in re.findall(r"a (\d+)x\d+ convolution, stride (\d+), padding (\d+)", q.prompt)
    )
    pool = integer(q.prompt, r"(\d+)x\d+ max pooling")
    x = F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k1, k1), stride=s1, padding=p1)
    x = F.max_pool2d(x, pool, stride=pool)
    x = F.conv2d(x, torch.zeros(1, 1, k2, k2), stride=s2, padding=p2)
    assert q.answer == str(x.shape[-1])


def _cell(q, pattern=r"row (\d), column (\d)"):
    return tuple(int(x) - 1 for x in re.search(pattern, q.prompt).groups())


def check_correlation_vs_convolution(q):
    import torch.nn.functional as F

    image, kernel = t64(value(q.prompt, "I")), t64(value(q.prompt, "K"))
    if "true convolution" in q.prompt:
        kernel = kernel.flip(0, 1)
    out = F.conv2d(image[None, None], kernel[None, None])[0, 0]
    i, j = _cell(q)
    close(q.answer, out[i, j].item())


def check_backward_input(q):
    import torch
    import torch.nn.functional as F

    w, delta = t64(value(q.prompt, "w")), t64(value(q.prompt, "dL/dz^(l)"))
    x = torch.zeros(1, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    out = F.conv2d(x, w.flip(0, 1)[None, None])  # a true convolution
    (grad,) = torch.autograd.grad((out[0, 0] * delta).sum(), x)
    p, c = _cell(q)
    close(q.answer, grad[0, 0, p, c].item())


def check_max_pool(q):
    import torch
    import torch.nn.functional as F

    image = t64(ast.literal_eval(re.search(r"4x4 input (\[\[.*?\]\])\.", q.prompt).group(1)))
    delta = t64(ast.literal_eval(re.search(r"pooled output is (\[\[.*?\]\])\.", q.prompt).group(1)))
    x = image[None, None].clone().requires_grad_(True)
    out = F.max_pool2d(x, 2, stride=2)
    (grad,) = torch.autograd.grad((out[0, 0] * delta).sum(), x)
    r, c = _cell(q)
    close(q.answer, grad[0, 0, r, c].item())


def check_transposed_conv(q):
    import torch.nn.functional as F

    kernel, x = t64(value(q.prompt, "K")), t64(value(q.prompt, "x"))
    stride = integer(q.prompt, r"stride (\d)")
    y = F.conv_transpose2d(x[None, None], kernel[None, None], stride=stride)[0, 0]
    assert f"output is {y.shape[-1]}x{y.shape[-1]}" in q.prompt
    p, c = _cell(q)
    close(q.answer, y[p, c].item())


# --------------------------------------------------------------------------------------------
# rnn: nn.RNN, nn.LSTMCell, autograd Jacobians, clip_grad_norm_


def check_vanilla_rnn(q):
    import torch

    w_hh, w_xh, h0 = value(q.prompt, "W_hh"), value(q.prompt, "W_xh"), value(q.prompt, "h_0")
    xs = [value(q.prompt, "x_1"), value(q.prompt, "x_2")]
    rnn = torch.nn.RNN(1, 1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_hh_l0.fill_(w_hh)
        rnn.weight_ih_l0.fill_(w_xh)
        out, _ = rnn(t64(xs)[:, None, None], t64([[[h0]]]))
    close(q.answer, out[1, 0, 0].item())


def check_lstm_cell(q):
    import torch

    rows = {
        name: ([float(a), float(b)], float(bias))
        for name, a, b, bias in re.findall(
            r"row (\w): \[(-?[\d.]+), (-?[\d.]+)\], bias (-?[\d.]+)", q.prompt
        )
    }
    x, h_prev = value(q.prompt, "[x_t, h_(t-1)]")
    c_prev = value(q.prompt, "c_(t-1)")
    cell = torch.nn.LSTMCell(1, 1, dtype=torch.float64)
    order = ("i", "f", "g", "o")  # torch's gate order
    with torch.no_grad():
        cell.weight_ih.copy_(t64([[rows[n][0][0]] for n in order]))
        cell.weight_hh.copy_(t64([[rows[n][0][1]] for n in order]))
        cell.bias_ih.copy_(t64([rows[n][1] for n in order]))
        cell.bias_hh.zero_()
        h, c = cell(t64([[x]]), (t64([[h_prev]]), t64([[c_prev]])))
    close(q.answer, (h if q.prompt.endswith("h_t?") else c).item())


def check_lstm_from_gates(q):
    i, f, o, g = (value(q.prompt, n) for n in ("input i", "forget f", "output o", "g"))
    c_prev = value(q.prompt, "c_(t-1)")
    c = f * c_prev + i * g
    close(q.answer, o * math.tanh(c) if q.prompt.endswith("h_t?") else c)


def check_hidden_jacobian(q):
    import torch

    W, h_prev, x = (
        t64(value(q.prompt, "W_hh")),
        t64(value(q.prompt, "h_(i-1)")),
        t64(value(q.prompt, "x_i")),
    )
    J = torch.autograd.functional.jacobian(lambda h: torch.tanh(W @ h + x), h_prev)
    r, c = _cell(q, r"entry \((\d), (\d)\)")
    close(q.answer, J[r, c].item())


def check_linear_power(q):
    W, h = np.array(value(q.prompt, "W")), np.array(value(q.prompt, "h_1"), float)
    t = integer(q.prompt, r"of h_(\d)\?")
    j = integer(q.prompt, r"component (\d)")
    for _ in range(t - 1):
        h = W.T @ h
    close(q.answer, h[j - 1])


def check_bptt_bound(q):
    lam, gamma = value(q.prompt, "lambda_1"), value(q.prompt, "gamma")
    t, k = (int(x) for x in re.search(r"\|\|dh_(\d+)/dh_(\d+)\|\|", q.prompt).groups())
    close(q.answer, (lam * gamma) ** (t - k))


def check_clipping(q):
    import torch

    grad = t64(value(q.prompt, "g"))
    threshold = integer(q.prompt, r"threshold (\d+)")
    p = torch.nn.Parameter(torch.zeros_like(grad))
    p.grad = grad.clone()
    torch.nn.utils.clip_grad_norm_([p], threshold)
    j = integer(q.prompt, r"component (\d)")
    close(q.answer, p.grad[j - 1].item(), rel=1e-5)


# --------------------------------------------------------------------------------------------
# math: numpy, sympy differentiation, enumeration


def check_secant(q):
    poly = re.search(r"f\(x\) = (.*?), from", q.prompt).group(1)
    shift = {"+ x": 1, "- x": -1}.get(next((s for s in ("+ x", "- x") if s in poly), ""), 0)
    c = int(poly.rsplit("- ", 1)[1])
    x0, x1 = value(q.prompt, "x_0"), value(q.prompt, "x_1")
    ys = [x * x + shift * x - c for x in (x0, x1)]
    slope, intercept = np.polyfit([x0, x1], ys, 1)
    close(q.answer, -intercept / slope)


def check_plane_intercept(q):
    a, b, c = (value(q.prompt, n) for n in ("x_1", "y_1", "z_1"))
    points = np.array([[a, 0, 0], [0, b, 0], [0, 0, c]])
    normal = np.linalg.solve(points, np.ones(3))  # n . p = 1 on the plane
    x, y = value(q.prompt, "x"), value(q.prompt, "y")
    close(q.answer, (1 - normal[0] * x - normal[1] * y) / normal[2], abs_=1e-9)


def check_cross(q):
    a, b = value(q.prompt, "a"), value(q.prompt, "b")
    j = integer(q.prompt, r"component (\d)")
    assert float(q.answer) == np.cross(a, b)[j - 1]


def check_plane_points(q):
    p1, p2, p3 = (np.array(value(q.prompt, n), float) for n in ("p_1", "p_2", "p_3"))
    n = np.cross(p2 - p1, p3 - p1)
    k = float(q.answer)
    for point in (p1, p2, p3):
        assert abs(n @ point + k) < 1e-9


def check_determinant_lemma(q):
    A = value(q.prompt, "A")
    u, v = np.array(value(q.prompt, "u")), np.array(value(q.prompt, "v"))
    close(q.answer, np.linalg.det(A + np.outer(u, v)), abs_=1e-9)


def check_gaussian(q):
    mu1, var1 = (
        float(x) for x in re.search(r"X_1 ~ N\((-?[\d.]+), (-?[\d.]+)\)", q.prompt).groups()
    )
    mu2, var2 = (
        float(x) for x in re.search(r"X_2 ~ N\((-?[\d.]+), (-?[\d.]+)\)", q.prompt).groups()
    )
    a = float(re.search(r"Y = (-?[\d.]+) X_1", q.prompt).group(1))
    # Cov[(a, 1) . (X_1, X_2)] with a diagonal covariance (independence)
    weights = np.array([a, 1.0])
    if "variance" in q.prompt.split("What is")[1]:
        close(q.answer, weights @ np.diag([var1, var2]) @ weights)
    else:
        close(q.answer, weights @ np.array([mu1, mu2]))


def check_bayes(q):
    prior = value(q.prompt, "P(A)")
    sensitivity, false_positive = value(q.prompt, "P(B|A)"), value(q.prompt, "P(B|not A)")
    joint = {("A", "B"): prior * sensitivity, ("notA", "B"): (1 - prior) * false_positive}
    close(q.answer, joint[("A", "B")] / (joint[("A", "B")] + joint[("notA", "B")]))


def check_derivative_rule(q):
    import sympy as sp

    from quizzes.parser import parse

    x = sp.Symbol("x", positive=True)
    table = {
        "sin(x)": sp.sin(x),
        "exp(x)": sp.exp(x),
        "x^2 + 1": x**2 + 1,
        "log(x)": sp.log(x),
        "x^3": x**3,
        "cos(x)": sp.cos(x),
    }
    f = table[re.search(r"f\(x\) = (.*?) and", q.prompt).group(1)]
    g = table[re.search(r"g\(x\) = (.*?) \(x > 0\)", q.prompt).group(1)]
    h = {"f(x) g(x)": f * g, "f(x) / g(x)": f / g, "f(g(x))": f.subs(x, g)}[
        re.search(r"h\(x\) = (.*?) with", q.prompt).group(1)
    ]
    answer = parse(q.answer, q.symbols)
    (symbol,) = answer.free_symbols
    for x0 in (0.3, 0.9, 1.7, 2.6):
        close(float(answer.subs(symbol, x0)), float(sp.diff(h, x).subs(x, x0)), rel=1e-9)


def check_conv_output_size(q):
    size, kernel, stride, padding = (
        int(v)
        for v in re.search(
            r"A (\d+)x\d+ input goes through a (\d+)x\d+ convolution with stride (\d+) and "
            r"padding (\d+)",
            q.prompt,
        ).groups()
    )
    # Count the window positions that fit inside the padded input, one by one.
    positions = 0
    start = 0
    while start + kernel <= size + 2 * padding:
        positions += 1
        start += stride
    assert int(q.answer) == positions


CHECKS = {
    "conv-output-size-draw": check_conv_output_size,
    "rl-value-iteration-backup-draw": check_value_iteration,
    "rl-greedy-action-draw": check_greedy,
    "rl-discounted-return-draw": check_discounted_return,
    "rl-td-control-update-draw": check_td_control,
    "rl-td0-update-draw": check_td0,
    "rl-actor-critic-advantage-draw": check_actor_critic,
    "rl-contraction-proof-order-draw": check_ordering,
    "nerf-weight-draw": check_nerf_weight,
    "nerf-transmittance-draw": check_nerf_transmittance,
    "nerf-pixel-colour-draw": check_nerf_colour,
    "nerf-positional-encoding-draw": check_positional_encoding,
    "igr-eikonal-loss-draw": check_eikonal,
    "splat-covariance-2d-draw": check_splat_covariance,
    "splat-opacity-draw": check_splat_opacity,
    "lbs-vertex-draw": check_lbs_vertex,
    "lbs-candy-wrapper-draw": check_candy_wrapper,
    "pca-shape-draw": check_pca_shape,
    "pca-shape-coefficients-draw": check_pca_coefficients,
    "smpl-vertex-draw": check_smpl_vertex,
    "smpl-joint-draw": check_smpl_joint,
    "ml-activation-draw": check_activation,
    "ml-binary-cross-entropy-draw": check_bce,
    "ml-cross-entropy-kl-draw": check_cross_entropy_kl,
    "ml-perceptron-update-draw": check_perceptron,
    "ml-mlp-delta-draw": check_mlp_delta,
    "ml-mlp-weight-gradient-draw": check_mlp_weight,
    "ml-activation-derivative-symbolic-draw": check_activation_symbolic,
    "opt-sgd-minibatch-draw": check_sgd,
    "opt-momentum-draw": check_momentum,
    "opt-nesterov-draw": check_nesterov,
    "opt-adagrad-draw": check_adagrad,
    "opt-rmsprop-draw": check_rmsprop,
    "opt-adam-draw": check_adam,
    "cnn-dilated-conv-size-draw": check_dilated_size,
    "cnn-stack-size-draw": check_stack_size,
    "cnn-correlation-vs-convolution-draw": check_correlation_vs_convolution,
    "cnn-backward-input-draw": check_backward_input,
    "cnn-max-pool-gradient-draw": check_max_pool,
    "cnn-transposed-conv-draw": check_transposed_conv,
    "cnn-size-derivation-order-draw": check_ordering,
    "rnn-vanilla-step-draw": check_vanilla_rnn,
    "rnn-lstm-cell-draw": check_lstm_cell,
    "rnn-lstm-from-gates-draw": check_lstm_from_gates,
    "rnn-hidden-jacobian-draw": check_hidden_jacobian,
    "rnn-linear-power-draw": check_linear_power,
    "rnn-bptt-bound-draw": check_bptt_bound,
    "rnn-gradient-clipping-draw": check_clipping,
    "rnn-vanishing-argument-order-draw": check_ordering,
    "math-secant-step-draw": check_secant,
    "math-plane-intercept-draw": check_plane_intercept,
    "math-cross-product-draw": check_cross,
    "math-plane-from-points-draw": check_plane_points,
    "math-determinant-lemma-draw": check_determinant_lemma,
    "math-gaussian-combination-draw": check_gaussian,
    "math-bayes-rule-draw": check_bayes,
    "math-derivative-rule-draw": check_derivative_rule,
}


# --------------------------------------------------------------------------------------------
# Tests


def test_every_template_of_these_topics_has_an_independent_check():
    assert sorted(CHECKS) == OURS


@pytest.mark.parametrize("template_id", OURS)
def test_answer_recomputed_independently(template_id):
    quiz_helpers.check_answers(CHECKS, template_id, VARIANTS)


@pytest.mark.parametrize("template_id", OURS)
def test_same_seed_same_question_and_bank_check(template_id):
    quiz_helpers.check_same_seed_and_bank_check(template_id, VARIANTS, derive_link=True)


def test_every_topic_has_twenty_questions_five_of_them_ours():
    quiz_helpers.check_question_counts(TOPICS)


def test_banks_of_these_topics_pass_bank_check():
    quiz_helpers.check_topic_banks(TOPICS)


@pytest.mark.parametrize(
    "template_id, variant", [("opt-adam-draw", 11), ("ml-activation-derivative-symbolic-draw", 4)]
)
def test_cli_check_marks_the_variant(tmp_path, template_id, variant):
    quiz_helpers.check_cli_marks_the_variant(tmp_path, template_id, variant)
