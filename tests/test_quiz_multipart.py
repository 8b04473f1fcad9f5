"""Multipart problems: every part's answer recomputed from the values the problem drew
(Question.drawn, never read back from the prompt) by an independent route (Gaussian
conditioning, quadrature, torch autograd and SDPA, a plain loop), each part marked on its own,
later parts told the right earlier results only when they are asked, and a session that asks
the parts one line each."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from multipart_topic_checks import close, right_option, same_expression

from quizzes.catalog import generate, load_templates
from quizzes.engine import mark, perturbed_answer
from quizzes.questions import TEMPLATES

load_templates()
MULTIPART = sorted(t for t, template in TEMPLATES.items() if template.kind == "multipart")
SEEDS = range(8)


def test_every_topic_has_five_multipart_problems():
    from formulas.core import TOPICS

    counts = {topic: 0 for topic in TOPICS}
    for template_id in MULTIPART:
        counts[TEMPLATES[template_id].topic] += 1
    assert all(count >= 5 for count in counts.values()), counts


def check_diffusion(q):
    import sympy as sp

    betas, t = q.drawn["betas"], q.parts[1].drawn["t"]
    alphas = 1 - np.array(betas)
    abar = np.cumprod(alphas)
    # Gaussian conditioning of x_{t-1} on x_t given x_0: Var - Cov^2 / Var(x_t)
    prior = 1 - abar[t - 2]
    cov = math.sqrt(alphas[t - 1]) * prior
    close(q.parts[1].answer, prior - cov**2 / (alphas[t - 1] * prior + betas[t - 1]))
    b, ap = sp.symbols("b_t abar_p", positive=True)
    # completing the square: 1/tilde-beta_t = alpha_t/beta_t + 1/(1 - alpha-bar_{t-1})
    truth = 1 / ((1 - b) / b + 1 / (1 - ap))
    points = [{"b_t": 0.2, "abar_p": 0.7, "abar_t": 0.8 * 0.7}, {"b_t": 0.05, "abar_p": 0.4}]
    points[1]["abar_t"] = 0.95 * 0.4
    symbols = {"b_t": "positive", "abar_t": "positive", "abar_p": "positive"}
    same_expression(q.parts[0].answer, truth, symbols, points)
    assert right_option(q.parts[2]).startswith("smaller")


def check_vae(q):
    import sympy as sp

    mu, sigma = q.drawn["mu"], q.drawn["sigma"]
    total = 0.0
    for m, s in zip(mu, sigma):  # KL(q || p) = int q log(q/p) by the trapezoid rule
        z = np.linspace(m - 12 * s, m + 12 * s, 200_001)
        log_q = -0.5 * np.log(2 * np.pi * s**2) - (z - m) ** 2 / (2 * s**2)
        log_p = -0.5 * np.log(2 * np.pi) - z**2 / 2
        total += np.trapezoid(np.exp(log_q) * (log_q - log_p), z)
    close(q.parts[1].answer, total, rel=1e-5)
    m, s = sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True)
    truth = -sp.log(s) - sp.Rational(1, 2) + (s**2 + m**2) / 2
    points = [{"mu": 0.3, "sigma": 1.7}, {"mu": -1.2, "sigma": 0.4}]
    same_expression(q.parts[0].answer, truth, {"mu": "real", "sigma": "positive"}, points)
    assert right_option(q.parts[2]).startswith("it is 0 exactly when mu = 0 and sigma = 1")


def check_attention(q):
    import torch
    import torch.nn.functional as F

    query = torch.tensor([q.drawn["q"]], dtype=torch.float64)
    keys = torch.tensor(q.drawn["k_1, k_2, k_3"], dtype=torch.float64)
    values = torch.tensor(q.drawn["v_1, v_2, v_3"], dtype=torch.float64)
    j, c = q.parts[0].drawn["j"], q.parts[1].drawn["component"]
    out = F.scaled_dot_product_attention(query[None], keys[None], values[None])[0, 0]
    weights = torch.softmax(query @ keys.T / math.sqrt(2), dim=-1)[0]
    close(q.parts[0].answer, weights[j - 1].item())
    close(q.parts[1].answer, out[c - 1].item())
    assert right_option(q.parts[2]).startswith("q.k of D unit-variance")


def check_momentum(q):
    import sympy as sp

    alpha, lr, g = (float(q.drawn[n]) for n in ("alpha", "epsilon", "g"))
    theta, v = 0.0, 0.0
    speeds = []
    for _ in range(2000):  # the update rule, looped
        v = alpha * v - lr * g
        theta += v
        speeds.append(abs(v))
        if len(speeds) == 2:
            close(q.parts[0].answer, theta)
    close(q.parts[2].answer, speeds[-1])
    e, gg = sp.Symbol("epsilon", positive=True), sp.Symbol("g", real=True)
    truth = e * sp.Abs(gg) / (1 - sp.Symbol("alpha", positive=True))
    points = [{"epsilon": 0.1, "g": -2.0, "alpha": 0.9}, {"epsilon": 0.3, "g": 1.5, "alpha": 0.2}]
    symbols = {"epsilon": "positive", "g": "real", "alpha": "positive"}
    same_expression(q.parts[1].answer, truth, symbols, points)
    assert right_option(q.parts[3]).startswith("moves up to 1/(1 - alpha)")


def check_sigmoid_unit(q):
    import torch

    w, b, x, upstream = (
        torch.tensor(float(q.drawn[n]), dtype=torch.float64, requires_grad=True)
        for n in ("w", "b", "x", "dL/dz")
    )
    z = torch.sigmoid(w * x + b)
    z.backward(upstream.detach())
    close(q.parts[0].answer, z.item())
    close(q.parts[1].answer, w.grad.item())
    close(q.parts[2].answer, b.grad.item())


def check_gan(q):
    import sympy as sp
    from scipy.optimize import minimize_scalar

    p_d, p_g = q.drawn["p_d"], q.drawn["p_g"]
    k = q.parts[1].drawn["outcome"] - 1
    # D* by maximising the pointwise objective numerically, V by its definition
    best = [
        minimize_scalar(
            lambda D, a=a, b=b: -(a * math.log(D) + b * math.log(1 - D)),
            bounds=(1e-9, 1 - 1e-9),
            method="bounded",
            options={"xatol": 1e-12},
        ).x
        for a, b in zip(p_d, p_g)
    ]
    close(q.parts[1].answer, best[k], rel=1e-5)
    v = sum(a * math.log(D) + b * math.log(1 - D) for a, b, D in zip(p_d, p_g, best))
    close(q.parts[2].answer, v, rel=1e-5)
    d, g = sp.Symbol("p_d", positive=True), sp.Symbol("p_g", positive=True)
    points = [{"p_d": 0.3, "p_g": 0.6}, {"p_d": 0.8, "p_g": 0.1}]
    same_expression(q.parts[0].answer, d / (d + g), {"p_d": "positive", "p_g": "positive"}, points)
    assert right_option(q.parts[3]).startswith("it is -log 4, reached at p_g = p_d")


def check_rl(q):
    rewards, gamma = q.drawn["r_1, r_2, r_3"], q.drawn["gamma"]
    v0, v1, alpha = q.drawn["V(s_0)"], q.drawn["V(s_1)"], q.drawn["alpha"]
    g = 0.0
    for reward in reversed(rewards):  # G_t = r_{t+1} + gamma G_{t+1}, from the end
        g = reward + gamma * g
    close(q.parts[0].answer, g)
    target = rewards[0] + gamma * v1
    close(q.parts[1].answer, v0 + alpha * (target - v0))
    assert right_option(q.parts[2]).startswith("the return G_0")


def check_flows(q):
    from scipy.stats import multivariate_normal

    A, b = np.array(q.drawn["A"], float), np.array(q.drawn["b"], float)
    x = np.array(q.parts[1].drawn["x"], float)
    close(q.parts[0].answer, np.linalg.slogdet(A)[1])
    # x = A z + b with z ~ N(0, I) is N(b, A A^T)
    close(q.parts[1].answer, multivariate_normal(mean=b, cov=A @ A.T).logpdf(x))
    assert right_option(q.parts[2]).startswith("a density must stay positive")


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


def check_rnn(q):
    import torch

    W = torch.tensor(q.drawn["W"], dtype=torch.float64)
    h1 = torch.tensor(q.drawn["h_1"], dtype=torch.float64)
    t, component = q.parts[0].drawn["t"], q.parts[0].drawn["component"]
    assert q.parts[1].drawn["t"] == t  # (b) differentiates the same h_t

    def unroll(h):
        for _ in range(t - 1):
            h = W @ h
        return h

    close(q.parts[0].answer, unroll(h1)[component - 1].item())
    jacobian = torch.autograd.functional.jacobian(unroll, h1)
    close(q.parts[1].answer, torch.linalg.matrix_norm(jacobian, ord=2).item())
    assert right_option(q.parts[2]).startswith("it explodes along one direction")


def check_nerf(q):
    sigma, delta, colours = q.drawn["sigma"], q.drawn["delta"], q.drawn["c"]
    i = q.parts[0].drawn["i"]
    assert q.parts[1].drawn["i"] == q.parts[2].drawn["i"] == i  # one sample asked about
    light, weights = 1.0, []
    for s in sigma:  # follow the light sample by sample
        absorbed = light * (1 - math.exp(-s * delta))
        weights.append(absorbed)
        if len(weights) == i:
            close(q.parts[1].answer, light)
        light -= absorbed
    close(q.parts[0].answer, 1 - math.exp(-sigma[i - 1] * delta))
    close(q.parts[2].answer, weights[i - 1])
    close(q.parts[3].answer, sum(w * c for w, c in zip(weights, colours)))
    assert right_option(q.parts[4]).startswith("1 - T_4")


def _bone(stated: dict):
    """A bone as the prompt states it: {"rotates by": degrees (when it rotates),
    "translates by": [..]}, as a function of a point."""
    from scipy.spatial.transform import Rotation

    rotation = Rotation.from_euler("z", stated.get("rotates by", 0.0), degrees=True)
    shift = np.array(stated["translates by"], float)
    return lambda v: rotation.apply(v) + shift


def check_lbs(q):
    vertex = np.array(q.drawn["t"], float)
    first, second = _bone(q.drawn["G_1"]), _bone(q.drawn["G_2"])
    w1, w2 = q.drawn["weights"]
    axes = {part.drawn["coordinate"] for part in q.parts[:3]}
    assert len(axes) == 1  # (a)-(c) ask about one coordinate
    axis = "xyz".index(axes.pop())
    close(q.parts[0].answer, first(vertex)[axis])
    close(q.parts[1].answer, second(vertex)[axis])
    close(q.parts[2].answer, (w1 * first(vertex) + w2 * second(vertex))[axis])
    assert right_option(q.parts[3]).startswith("a weighted average of rotation matrices")


def check_bayes(q):
    from fractions import Fraction

    prior = Fraction(str(q.drawn["p(A)"]))
    hit = Fraction(str(q.drawn["p(B | A)"]))
    false_alarm = Fraction(str(q.drawn["p(B | not A)"]))
    people = 10**6  # count a population instead of applying the rule
    sick = people * prior
    positives_sick, positives_well = sick * hit, (people - sick) * false_alarm
    close(q.parts[0].answer, float((positives_sick + positives_well) / people))
    close(q.parts[1].answer, float(positives_sick / (positives_sick + positives_well)))
    assert right_option(q.parts[2]).startswith("A is rare")


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


def check_likelihood(q):
    from scipy.stats import entropy

    p_data, p_model = q.drawn["p_data"], q.drawn["p_model"]
    close(q.parts[0].answer, entropy(p_data) + entropy(p_data, p_model))
    density, weight = q.parts[1].drawn["p(x)"], q.parts[1].drawn["w"]  # q = w p + (1 - w) noise
    close(q.parts[1].answer, math.log(weight * density))
    assert "good likelihood does not imply good samples" in right_option(q.parts[2])


def check_diffusion_forward(q):
    import sympy as sp

    betas, x0, eps = q.drawn["betas"], q.drawn["x_0"], q.drawn["eps"]
    t = q.parts[0].drawn["t"]
    mean, var = x0, 0.0
    for beta in betas[:t]:  # compose the one-step Gaussians: mean and variance by recursion
        mean, var = math.sqrt(1 - beta) * mean, (1 - beta) * var + beta
    close(q.parts[0].answer, (mean / x0) ** 2)  # the mean is sqrt(alpha-bar_t) x_0
    close(q.parts[1].answer, mean + math.sqrt(var) * eps)
    xt, e, a = sp.Symbol("x_t", real=True), sp.Symbol("eps", real=True), sp.Symbol("abar_t")
    truth = (xt - sp.sqrt(1 - a) * e) / sp.sqrt(a)
    points = [{"x_t": 0.7, "eps": -0.3, "abar_t": 0.4}, {"x_t": -1.1, "eps": 1.2, "abar_t": 0.9}]
    symbols = {"x_t": "real", "eps": "real", "abar_t": "positive"}
    same_expression(q.parts[2].answer, truth, symbols, points)
    assert right_option(q.parts[3]).startswith("alpha-bar_t: composing")


def check_reparametrisation(q):
    import torch

    mu = torch.tensor(float(q.drawn["mu"]), dtype=torch.float64, requires_grad=True)
    log_var = float(q.drawn["log sigma^2"])
    sigma = torch.tensor(math.sqrt(math.exp(log_var)), dtype=torch.float64, requires_grad=True)
    eps = float(q.drawn["eps"])
    z = mu + sigma * eps
    z.backward()
    close(q.parts[0].answer, sigma.item())
    close(q.parts[1].answer, z.item())
    close(q.parts[2].answer, mu.grad.item() + sigma.grad.item())
    assert right_option(q.parts[3]).startswith("the randomness moves into eps")


def check_generator_loss(q):
    import torch

    ell = float(q.drawn["ell"])
    for part, objective in ((q.parts[1], lambda d: torch.log(1 - d)), (q.parts[2], torch.log)):
        logit = torch.tensor(ell, dtype=torch.float64, requires_grad=True)
        objective(torch.sigmoid(logit)).backward()
        close(part.answer, logit.grad.item())
    close(q.parts[0].answer, 1 / (1 + math.exp(-ell)))
    assert right_option(q.parts[3]).startswith("the non-saturating one")


def check_adam(q):
    import torch

    lr = float(q.drawn["lr"])
    g1, g2 = float(q.drawn["g_1"]), float(q.drawn["g_2"])
    theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.Adam([theta], lr=lr, betas=(0.9, 0.999), eps=1e-8)
    thetas = []
    for g in (g1, g2):  # torch's Adam on the given gradients
        optimiser.zero_grad()
        theta.grad = torch.tensor([g], dtype=torch.float64)
        optimiser.step()
        thetas.append(theta.item())
    close(q.parts[0].answer, thetas[0])
    close(q.parts[1].answer, optimiser.state[theta]["exp_avg"].item())
    close(q.parts[2].answer, thetas[1])
    assert right_option(q.parts[3]).startswith("m starts at 0")


def check_causal_cost(q):
    import torch

    tokens, dims = q.drawn["T"], q.drawn["D"]
    factor = q.parts[2].drawn["factor"]
    allowed = torch.ones(tokens, tokens, dtype=torch.bool).tril()  # as SDPA's is_causal
    assert int(q.parts[0].answer) == int((~allowed).sum())

    def flops(t):
        """Count the multiply-adds of Q K^T (t x dims times dims x t) and of alpha V (t x t
        times t x dims) one index triple at a time; 2 FLOPs each."""
        scores = sum(1 for _ in itertools.product(range(t), range(t), range(dims)))
        mixing = sum(1 for _ in itertools.product(range(t), range(dims), range(t)))
        return 2 * (scores + mixing)

    assert int(q.parts[1].answer) == flops(tokens)
    close(q.parts[2].answer, flops(factor * tokens) / flops(tokens))
    assert right_option(q.parts[3]).startswith("no: the full T x T scores")


def check_cross_entropy(q):
    from scipy.stats import entropy

    p, q_model = q.drawn["p"], q.drawn["q"]
    close(q.parts[1].answer, entropy(p))
    close(q.parts[2].answer, entropy(p, q_model))
    close(q.parts[0].answer, entropy(p) + entropy(p, q_model))
    assert right_option(q.parts[3]).startswith("minimising KL(p || q)")


def check_linear_ae(q):
    from sklearn.decomposition import PCA

    X = np.array(q.drawn["X"], float)
    k = q.parts[1].drawn["k"]
    assert q.parts[2].drawn["k"] == k
    close(q.parts[0].answer, np.linalg.eigvalsh(X.T @ X).max())
    pca = PCA(n_components=k).fit(X)
    error = ((X - pca.inverse_transform(pca.transform(X))) ** 2).sum()  # reconstruct, measure
    close(q.parts[1].answer, error)
    close(q.parts[2].answer, pca.explained_variance_ratio_.sum())
    assert right_option(q.parts[3]).startswith("the principal subspace")


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


def check_glow(q):
    import torch

    s = torch.tensor(q.drawn["s"], dtype=torch.float64)
    W = torch.tensor(q.drawn["W"], dtype=torch.float64)
    h, w, channels = q.drawn["H x W x C"]
    assert channels == 2
    x = torch.zeros(2 * h * w, dtype=torch.float64)

    def step(flat, layer):  # the layer applied to every pixel of a (C, H, W) activation
        pixels = flat.reshape(2, h * w)
        out = s[:, None] * pixels if layer == "actnorm" else W @ pixels
        return out.reshape(-1)

    logdets = []
    for layer in ("actnorm", "conv"):
        J = torch.autograd.functional.jacobian(lambda f, layer=layer: step(f, layer), x)
        logdets.append(torch.linalg.slogdet(J)[1].item())
    close(q.parts[0].answer, logdets[0])
    close(q.parts[1].answer, logdets[1])
    close(q.parts[2].answer, sum(logdets))
    assert right_option(q.parts[3]).startswith("log|det W| becomes sum log|s|")


def check_value_iteration(q):
    # r[s][a] and P[s][a] (the transition vector) as the prompt lists them
    R = {(s_, a_): r for s_, row in enumerate(q.drawn["r"]) for a_, r in enumerate(row)}
    P = {(s_, a_): p for s_, row in enumerate(q.drawn["P"]) for a_, p in enumerate(row)}
    gamma, V = q.drawn["gamma"], q.drawn["V"]
    s = q.drawn["s"] - 1

    def sweep(values):  # one synchronous Bellman optimality backup, written out
        return [
            max(R[st, a] + gamma * sum(p * v for p, v in zip(P[st, a], values)) for a in (0, 1))
            for st in (0, 1)
        ]

    first = sweep(V)
    second = sweep(first)
    close(q.parts[0].answer, first[s])
    close(q.parts[1].answer, second[s])
    close(q.parts[2].answer, max(abs(a - b) for a, b in zip(first, second)))
    values = [R[s, a] + gamma * sum(p * v for p, v in zip(P[s, a], first)) for a in (0, 1)]
    assert right_option(q.parts[3]) == f"a{int(np.argmax(values)) + 1}"


def check_sdf(q):
    import torch

    c = torch.tensor(q.drawn["c"], dtype=torch.float64)
    r = float(q.drawn["r"])
    x = torch.tensor(q.drawn["x"], dtype=torch.float64, requires_grad=True)
    f = torch.linalg.vector_norm(x - c) - r
    f.backward()
    axis = "xyz".index(q.parts[1].drawn["component"])
    close(q.parts[0].answer, f.item())
    close(q.parts[1].answer, x.grad[axis].item())
    close(q.parts[2].answer, torch.linalg.vector_norm(x.grad).item())
    assert right_option(q.parts[3]).startswith("(||grad f|| - 1)^2")


def check_pca_shape(q):
    S, mu = np.array(q.drawn["S"], float), np.array(q.drawn["mu"], float)
    beta = np.array(q.parts[0].drawn["beta"], float)
    index = q.parts[0].drawn["entry"] - 1
    close(q.parts[0].answer, (mu + np.einsum("ik,k->i", S, beta))[index])
    scan = np.array(q.parts[1].drawn["T_scan"], float)
    k = q.parts[1].drawn["k"] - 1
    fitted, *_ = np.linalg.lstsq(S, scan - mu, rcond=None)  # least squares, not S^T
    close(q.parts[1].answer, fitted[k])
    assert right_option(q.parts[2]).startswith("the shape space is affine")


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


def check_clipping(q):
    import torch

    grad = q.drawn["g"]
    threshold = float(q.drawn["threshold"])
    component = q.parts[1].drawn["component"] - 1
    p = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    p.grad = torch.tensor(grad, dtype=torch.float64)
    norm = torch.nn.utils.clip_grad_norm_([p], threshold)  # torch's own clipping
    close(q.parts[0].answer, norm.item())
    close(q.parts[1].answer, p.grad[component].item(), rel=1e-5)
    assert right_option(q.parts[2]).startswith("the direction of g")


def check_determinant_lemma(q):
    diagonal = q.drawn["diag(A)"]
    u, v = np.array(q.drawn["u"]), np.array(q.drawn["v"])
    A = np.diag(diagonal)
    close(q.parts[0].answer, np.linalg.det(A))
    close(q.parts[1].answer, 1 + v @ np.linalg.solve(A, u))
    close(q.parts[2].answer, np.linalg.det(A + np.outer(u, v)))
    assert right_option(q.parts[3]).startswith("it turns an O(n^3) determinant")


def t64(rows):
    import torch

    return torch.tensor(rows, dtype=torch.float64)


def check_sampling(q):
    betas, t = q.drawn["betas"], q.drawn["t"]
    xt, eps, z = q.drawn["x_t"], q.drawn["eps_theta"], q.drawn["z"]
    alphas = 1 - np.array(betas)
    abar = np.cumprod(alphas)
    # the x_0 route (as diffusers computes it): predict x_0, then the posterior mean
    x0_hat = (xt - math.sqrt(1 - abar[t - 1]) * eps) / math.sqrt(abar[t - 1])
    coef_x0 = math.sqrt(abar[t - 2]) * betas[t - 1] / (1 - abar[t - 1])
    coef_xt = math.sqrt(alphas[t - 1]) * (1 - abar[t - 2]) / (1 - abar[t - 1])
    mean = coef_x0 * x0_hat + coef_xt * xt
    close(q.parts[0].answer, mean)
    close(q.parts[1].answer, mean + math.sqrt(betas[t - 1]) * z)
    assert right_option(q.parts[2]).startswith("x_0 is the output")


def check_elbo_terms(q):
    import torch
    from torch.distributions import Normal, kl_divergence

    mu, sigma = float(q.drawn["mu"]), float(q.drawn["sigma"])  # q(z|x) = N(mu, sigma^2)
    decoded = torch.tensor(q.drawn["mu_dec"], dtype=torch.float64)
    x = torch.tensor(q.drawn["x"], dtype=torch.float64)
    beta = float(q.parts[2].drawn["beta"])
    log_likelihood = Normal(decoded, 1.0).log_prob(x).sum().item()
    kl = kl_divergence(Normal(mu, sigma), Normal(0.0, 1.0)).item()
    close(q.parts[0].answer, log_likelihood)
    close(q.parts[1].answer, kl)
    close(q.parts[2].answer, log_likelihood - beta * kl)
    assert right_option(q.parts[3]).startswith("reconstruction for a posterior closer")


def check_positional_encoding(q):
    dims = q.drawn["D"]
    pos, index = q.parts[0].drawn["pos"], q.parts[0].drawn["index"]
    assert (q.parts[1].drawn["pos"], q.parts[1].drawn["index"]) == (pos, index + 1)
    angle = pos / 10000 ** (index / dims)  # index = 2i
    close(q.parts[0].answer, math.sin(angle))
    close(q.parts[1].answer, math.cos(angle))
    close(q.parts[2].answer, 1.0)
    assert right_option(q.parts[3]).startswith("PE(pos + k) is a rotation")


def check_fid(q):
    from scipy.linalg import sqrtm

    mu_r, mu_g = np.array(q.drawn["mu_r"]), np.array(q.drawn["mu_g"])
    covs = [np.diag(q.drawn[name]) for name in ("Sigma_r", "Sigma_g")]  # drawn as diagonals
    fid = ((mu_r - mu_g) ** 2).sum() + np.trace(
        covs[0] + covs[1] - 2 * sqrtm(covs[0] @ covs[1]).real
    )
    close(q.parts[0].answer, ((mu_r - mu_g) ** 2).sum())
    close(q.parts[1].answer, fid)
    assert right_option(q.parts[2]).startswith("a large FID")


def check_adagrad_rmsprop(q):
    import torch

    g1, g2 = float(q.drawn["g_1"]), float(q.drawn["g_2"])
    lr = float(q.drawn["learning rate"])
    theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    adagrad = torch.optim.Adagrad([theta], lr=lr, eps=0.0)
    for g in (g1, g2):  # torch's AdaGrad on the given gradients
        theta.grad = torch.tensor([g], dtype=torch.float64)
        adagrad.step()
    close(q.parts[0].answer, theta.item())
    rho = float(q.parts[1].drawn["rho"])
    assert q.parts[1].drawn["r"] == g1 * g1  # the second step starts from AdaGrad's r_1
    r = rho * g1 * g1 + (1 - rho) * g2 * g2
    close(q.parts[1].answer, r)
    close(q.parts[2].answer, -lr * g2 / math.sqrt(r))
    assert right_option(q.parts[3]).startswith("AdaGrad's r only grows")


def check_mle_map(q):
    xs, ys = np.array(q.drawn["x"]), np.array(q.drawn["y"])
    noise = float(q.drawn["noise variance"])
    prior = float(q.parts[1].drawn["prior variance"])
    grid_ = np.linspace(-10, 10, 2_000_001)  # maximise the (log) likelihood and posterior
    log_lik = -((ys[None, :] - grid_[:, None] * xs[None, :]) ** 2).sum(1) / (2 * noise)
    close(q.parts[0].answer, grid_[np.argmax(log_lik)], rel=1e-4)
    close(q.parts[1].answer, grid_[np.argmax(log_lik - grid_**2 / (2 * prior))], rel=1e-4)
    assert right_option(q.parts[2]).startswith("towards the MLE")


def check_bernoulli(q):
    from scipy.optimize import minimize_scalar

    n, heads = q.drawn["n"], q.drawn["heads"]

    def nll(theta):  # average negative log-likelihood of the tosses
        return -(heads * math.log(theta) + (n - heads) * math.log(1 - theta)) / n

    best = minimize_scalar(
        nll, bounds=(1e-9, 1 - 1e-9), method="bounded", options={"xatol": 1e-12}
    ).x
    close(q.parts[0].answer, best, rel=1e-5)
    close(q.parts[1].answer, nll(best), rel=1e-5)
    other = q.parts[2].drawn["theta"]
    close(q.parts[2].answer, nll(other) - nll(best), rel=1e-5)
    assert right_option(q.parts[3]).startswith("the average NLL is H(p_data)")


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


def check_affine_coupling(q):
    import sympy as sp
    import torch

    x = torch.tensor(q.drawn["x"], dtype=torch.float64)
    s = torch.tensor(q.drawn["s(x^A)"], dtype=torch.float64)
    t = torch.tensor(q.drawn["t(x^A)"], dtype=torch.float64)

    def coupling(v):  # with s, t held at their values for this x^A
        return torch.cat([v[:2], v[2:] * torch.exp(s) + t])

    component = q.parts[0].drawn["component"] - 1  # y_3 or y_4, counted from 1
    close(q.parts[0].answer, coupling(x)[component].item())
    J = torch.autograd.functional.jacobian(coupling, x)
    close(q.parts[1].answer, torch.linalg.slogdet(J)[1].item())
    y3, s1, t1 = (
        sp.Symbol("y_3", real=True),
        sp.Symbol("s_1", real=True),
        sp.Symbol("t_1", real=True),
    )
    x3 = sp.solve(sp.Eq(y3, sp.Symbol("x3") * sp.exp(s1) + t1), sp.Symbol("x3"))[0]
    points = [{"y_3": 0.7, "s_1": -0.4, "t_1": 0.2}, {"y_3": -1.5, "s_1": 1.1, "t_1": -0.6}]
    same_expression(q.parts[2].answer, x3, {"y_3": "real", "s_1": "real", "t_1": "real"}, points)
    assert right_option(q.parts[3]).startswith("they only ever take x^A")


def check_sarsa_q(q):
    Q = np.array(q.drawn["Q"])  # Q[s - 1][a - 1]
    r, gamma, alpha = q.drawn["r"], q.drawn["gamma"], q.drawn["alpha"]
    taken = q.drawn["a_next"] - 1
    close(q.parts[0].answer, Q[0, 0] + alpha * (r + gamma * Q[1].max() - Q[0, 0]))
    close(q.parts[1].answer, Q[0, 0] + alpha * (r + gamma * Q[1, taken] - Q[0, 0]))
    assert right_option(q.parts[2]).startswith("Q-learning is off-policy")


def check_splat(q):
    from scipy.spatial.transform import Rotation

    scale = np.array(q.drawn["s"])
    degrees = float(q.drawn["degrees"])
    R = Rotation.from_euler("z", degrees, degrees=True).as_matrix()
    cov = R @ np.diag(scale**2) @ R.T
    ratio = float(q.drawn["f"]) / float(q.drawn["t_z"])
    assert q.parts[1].drawn["entry"] == q.parts[0].drawn["entry"]  # one entry asked about
    i, j = (index - 1 for index in q.parts[0].drawn["entry"])
    samples = np.random.default_rng(0).multivariate_normal(np.zeros(3), cov, 200_000)
    projected = ratio * samples[:, :2]  # the camera's linearised projection, applied to samples
    close(q.parts[0].answer, cov[i, j])
    assert math.isclose(
        float(q.parts[1].answer), np.cov(projected.T)[i, j], rel_tol=0.03, abs_tol=0.02
    )
    close(q.parts[1].answer, ratio**2 * cov[i, j])
    assert right_option(q.parts[2]).startswith("R S S^T R^T is positive semi-definite")


def check_smpl_joint(q):
    template_mesh = np.array(q.drawn["T_bar"], float)
    axis = "xyz".index(q.drawn["along"])
    moves = np.array(q.drawn["by"], float)  # each vertex's move along that axis per unit beta_1
    weights = np.array(q.drawn["weights"], float)
    beta = float(q.parts[1].drawn["beta_1"])
    shaped = template_mesh.copy()
    shaped[:, axis] += moves * beta
    close(q.parts[0].answer, (weights @ template_mesh)[axis])
    close(q.parts[1].answer, (weights @ shaped)[axis])
    assert right_option(q.parts[2]).startswith("bodies of different shape")


def check_transposed(q):
    import torch.nn.functional as F

    stride = q.drawn["stride"]
    kernel, x = t64(q.drawn["K"]), t64(q.drawn["x"])
    out = F.conv_transpose2d(x[None, None], kernel[None, None], stride=stride)[0, 0]
    assert int(q.parts[0].answer) == out.shape[-1]
    p, c = q.parts[1].drawn["row"] - 1, q.parts[1].drawn["column"] - 1
    close(q.parts[1].answer, out[p, c].item())
    assert right_option(q.parts[2]).startswith("it is the transpose of the convolution's matrix")


def check_vanilla_bptt(q):
    import torch

    w_hh, w_xh = float(q.drawn["W_hh"]), float(q.drawn["W_xh"])
    x1, x2 = float(q.drawn["x_1"]), float(q.drawn["x_2"])
    h1 = torch.tanh(torch.tensor(w_xh * x1, dtype=torch.float64)).requires_grad_(True)
    h2 = torch.tanh(w_hh * h1 + w_xh * x2)
    h2.backward()
    close(q.parts[0].answer, h1.item())
    close(q.parts[1].answer, h2.item())
    close(q.parts[2].answer, h1.grad.item())
    assert right_option(q.parts[3]).startswith("when |W_hh| < 1")


def check_secant(q):
    c = float(q.drawn["c"])  # f(x) = x^2 - c
    x0, x1 = float(q.drawn["x_0"]), float(q.drawn["x_1"])
    points = [x0, x1]
    for _ in range(2):  # the line through the last two points, where it crosses 0
        a, b = points[-2], points[-1]
        fa, fb = a * a - c, b * b - c
        slope = (fb - fa) / (b - a)
        points.append(b - fb / slope)
    close(q.parts[0].answer, points[2])
    close(q.parts[1].answer, points[3])
    assert right_option(q.parts[2]).startswith("it needs only values of f")


CHECKS = {
    "diffusion-sampling-multipart": check_sampling,
    "vae-elbo-terms-multipart": check_elbo_terms,
    "attn-positional-encoding-multipart": check_positional_encoding,
    "gan-fid-multipart": check_fid,
    "opt-adagrad-rmsprop-multipart": check_adagrad_rmsprop,
    "ml-mle-map-multipart": check_mle_map,
    "gen-bernoulli-mle-multipart": check_bernoulli,
    "ar-vq-vae-multipart": check_vq_vae,
    "flows-affine-coupling-multipart": check_affine_coupling,
    "rl-sarsa-q-learning-multipart": check_sarsa_q,
    "splat-covariance-multipart": check_splat,
    "smpl-joint-multipart": check_smpl_joint,
    "cnn-transposed-multipart": check_transposed,
    "rnn-vanilla-bptt-multipart": check_vanilla_bptt,
    "math-secant-multipart": check_secant,
    "gen-linear-ae-multipart": check_linear_ae,
    "ar-wavenet-multipart": check_wavenet,
    "flows-glow-logdet-multipart": check_glow,
    "rl-value-iteration-multipart": check_value_iteration,
    "implicit-sdf-multipart": check_sdf,
    "pca-shape-multipart": check_pca_shape,
    "cnn-conv-vs-correlation-multipart": check_conv_vs_correlation,
    "rnn-clipping-multipart": check_clipping,
    "math-determinant-lemma-multipart": check_determinant_lemma,
    "diffusion-forward-multipart": check_diffusion_forward,
    "vae-reparametrisation-multipart": check_reparametrisation,
    "gan-generator-loss-multipart": check_generator_loss,
    "opt-adam-multipart": check_adam,
    "attn-causal-cost-multipart": check_causal_cost,
    "ml-cross-entropy-multipart": check_cross_entropy,
    "gan-optimum-multipart": check_gan,
    "rl-returns-td-multipart": check_rl,
    "flows-linear-density-multipart": check_flows,
    "cnn-layer-shapes-multipart": check_cnn,
    "rnn-linear-gradients-multipart": check_rnn,
    "nerf-compositing-multipart": check_nerf,
    "lbs-blend-multipart": check_lbs,
    "math-bayes-test-multipart": check_bayes,
    "ar-parameter-counts-multipart": check_ar_counts,
    "gen-likelihood-quality-multipart": check_likelihood,
    "diffusion-posterior-multipart": check_diffusion,
    "vae-kl-multipart": check_vae,
    "attn-weights-output-multipart": check_attention,
    "opt-momentum-multipart": check_momentum,
    "ml-sigmoid-unit-multipart": check_sigmoid_unit,
}


def test_every_multipart_template_has_an_independent_check():
    """This file checks the first problems; each topic's later ones are checked in
    tests/test_quiz_multipart_<topic>.py. Together they cover every multipart template."""
    import importlib
    from pathlib import Path

    covered = dict(CHECKS)
    for path in sorted(Path(__file__).parent.glob("test_quiz_multipart_*.py")):
        module = importlib.import_module(path.stem)
        assert not set(module.CHECKS) & set(covered), path.name
        covered.update(module.CHECKS)
    assert sorted(covered) == MULTIPART


@pytest.mark.parametrize("template_id", sorted(CHECKS))
def test_parts_recomputed_independently_and_marked_one_by_one(template_id):
    from quizzes.bankcheck import check_question
    from quizzes.multipart import SEPARATOR, as_asked

    for seed in SEEDS:
        question = generate(TEMPLATES[template_id], seed)
        CHECKS[template_id](question)
        assert len(question.parts) >= 3
        assert mark(question, question.answer).correct  # the JSON expected is accepted
        problems, _ = check_question(question)
        assert not problems, problems
        # one slip costs one part
        answers = [part.answer for part in question.parts]
        answers[0] = perturbed_answer(question.parts[0])
        result = mark(question, f" {SEPARATOR} ".join(answers))
        assert not result.correct
        assert result.feedback.startswith(f"{len(answers) - 1}/{len(answers)} parts right")
        # a later part is told the right earlier results only when it is asked
        for later in question.parts[1:]:
            shown = as_asked(later)
            if shown.prompt != later.prompt:
                assert "Right results so far" in shown.prompt
                assert shown.prompt.split("\n")[0] not in question.prompt


def test_at_a_terminal_each_part_is_asked_on_its_own():
    from quizzes.engine import Session, lines_reader

    question = generate(TEMPLATES["vae-kl-multipart"], 3)
    answers = [part.answer for part in question.parts]
    answers[1] = "123"  # a slip in (b) only
    shown: list[tuple[str, object]] = []
    session = Session(
        picks=[question],
        read=lines_reader(iter(line + "\n" for line in answers)),
        show=lambda event, payload: shown.append((event, payload)),
        interactive=True,
    )
    (result,) = session.run()
    assert [p["correct"] for p in result.parts] == [True, False, True]
    assert not result.correct and result.feedback.startswith("2/3 parts right")
    asked = [payload["question"].prompt for event, payload in shown if event == "question"]
    assert len(asked) == 3 and "Right results so far" in asked[1]
    assert result.to_json()["parts"][1]["expected"] == question.parts[1].answer


def test_the_terminal_view_asks_each_part_under_its_own_heading():
    """The view a student sees (rich console): the later parts have no help line of their own
    and must not break it (they did: "error: help" after part (a))."""
    import io

    from rich.console import Console

    from quizzes.display import human_display
    from quizzes.engine import Session, lines_reader
    from quizzes.session_view import human_view

    question = generate(TEMPLATES["rl-returns-td-multipart"], 2)
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    session = Session(
        picks=[question],
        read=lines_reader(iter(part.answer + "\n" for part in question.parts)),
        show=human_view(console, human_display(console)),
        interactive=True,
    )
    (result,) = session.run()
    text = out.getvalue()
    assert result.correct, text
    assert "Question 1/1" in text and "Part (b) of 3" in text and "Part (c) of 3" in text
    assert text.count("? to skip") == 1  # the help line once, at the first prompt


def test_from_a_pipe_a_problem_takes_one_line_and_reports_each_part():
    from quizzes.engine import Session, lines_reader
    from quizzes.multipart import SEPARATOR

    question = generate(TEMPLATES["gan-optimum-multipart"], 2)
    answers = [part.answer for part in question.parts]
    answers[2] = "7"  # a slip in (c) only
    session = Session(
        picks=[question],
        read=lines_reader(iter([f" {SEPARATOR} ".join(answers) + "\n"])),
        show=lambda event, payload: None,
        interactive=False,
    )
    (result,) = session.run()
    assert [p["correct"] for p in result.parts] == [True, True, False, True]
    assert result.feedback.startswith("3/4 parts right")
    assert result.to_json()["expected"] == question.answer


def test_quiz_kind_multipart_selects_only_multipart_problems():
    from quizzes.catalog import Catalog

    picks = Catalog().select("all", 6, seed=1, kind="multipart")
    assert picks and all(pick.question().kind == "multipart" for pick in picks)


def test_review_rates_a_problem_once_after_its_last_part():
    """One card per problem: the self-rating (Again/Hard/Good/Easy) is asked once, after the
    last part, not after each right part."""
    from quizzes.engine import RATING_PROMPT, Session

    question = generate(TEMPLATES["rl-returns-td-multipart"], 2)
    lines = iter([part.answer for part in question.parts] + ["4"])
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        return next(lines)

    session = Session(
        picks=[question], read=read, show=lambda event, payload: None, interactive=True
    )
    session.ask_rating = True
    (result,) = session.run()
    assert result.correct and result.rating == "easy"
    assert prompts.count(RATING_PROMPT) == 1 and prompts[-1] == RATING_PROMPT
