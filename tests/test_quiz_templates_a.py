"""Generated templates of the generative-modelling topics (generative, vae, autoregressive,
attention, flows, gan, diffusion).

Every template's answer is recomputed from its prompt by a route independent of the registry
formula that produced it: torch built-ins and autograd (attention, KL, log-determinants by
slogdet of the autograd Jacobian, receptive fields by gradients), scipy and scikit-learn (JSD,
entropy, PCA), Gaussian conditioning (the DDPM posterior), and brute force (argmax of D,
mask predicates). Plus: same seed same question, `cheatsheet check` on a variant id, bank
check on these topics, and the question counts per topic.
"""

from __future__ import annotations

import ast
import math
import os
import random
import re

import numpy as np
import pytest
import quiz_helpers

from quizzes.catalog import load_templates
from quizzes.questions import TEMPLATES

TOPICS = ("generative", "vae", "autoregressive", "attention", "flows", "gan", "diffusion")
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
    for match in re.finditer(r"(?<![\w^])" + re.escape(name) + r" = ", text):
        rest = text[match.end() :]
        if rest.startswith("diag("):
            rest = rest[len("diag(") :]
        literal = quiz_helpers.leading_literal(rest)
        if literal is not None:
            return literal
    raise AssertionError(f"no literal after '{name} = ' in: {text}")


integer = quiz_helpers.integer


def close(answer: str, truth: float, rel: float = 1e-4, abs_: float = 1e-5) -> None:
    assert math.isclose(float(answer), float(truth), rel_tol=rel, abs_tol=abs_), (answer, truth)


def parsed(text: str, symbols: dict[str, str]):
    from quizzes.parser import parse

    return parse(text, symbols)


def numerically_equal(expr, truth, points) -> bool:
    """expr and truth (sympy) agree at every point {symbol name: value}."""
    for point in points:
        sub = {s: point[s.name] for s in expr.free_symbols | truth.free_symbols}
        left, right = complex(expr.subs(sub).evalf()), complex(truth.subs(sub).evalf())
        if not abs(left - right) <= 1e-9 * max(1.0, abs(right)):
            return False
    return True


def right_choices(question, truth, symbols: dict[str, str], points, clean=lambda t: t):
    """Letters of the choices whose right-hand side equals `truth` at the points."""
    found = []
    for index, choice in enumerate(question.choices):
        rhs = clean(choice.split(" = ", 1)[1])
        if numerically_equal(parsed(rhs, symbols), truth, points):
            found.append(chr(ord("A") + index))
    return found


def ordered(question) -> list[str]:
    """The steps in the order the answer gives."""
    return [question.steps[ord(letter) - ord("A")] for letter in question.answer.split()]


def check_ordering(question) -> None:
    import formulas

    (formula_id,) = question.formulas
    claims = [step.claim for step in formulas.get(formula_id).derivation]
    chosen = ordered(question)
    positions = [claims.index(step) for step in chosen]
    assert positions == sorted(positions), "the answer does not follow the derivation's order"
    assert list(question.steps) != chosen, "shown already in order"


def _schedule(betas: list[float]) -> tuple[np.ndarray, np.ndarray]:
    alphas = 1 - np.array(betas)
    return alphas, np.cumprod(alphas)


# --------------------------------------------------------------------------------------------
# diffusion


def check_ddpm_forward_sample(q):
    betas, x0, eps = value(q.prompt, "betas"), value(q.prompt, "x_0"), value(q.prompt, "eps")
    t = integer(q.prompt, r"to step t = (\d+)")
    # compose the one-step Gaussians t times: mean and variance by recursion
    mean, var = x0, 0.0
    for beta in betas[:t]:
        mean, var = math.sqrt(1 - beta) * mean, (1 - beta) * var + beta
    close(q.answer, mean + math.sqrt(var) * eps)


def check_ddpm_posterior_variance(q):
    betas = value(q.prompt, "betas")
    t = integer(q.prompt, r"at t = (\d+)")
    alphas, alpha_bar = _schedule(betas)
    # Gaussian conditioning of x_{t-1} on x_t (given x_0): Var - Cov^2 / Var(x_t)
    v = 1 - alpha_bar[t - 2]
    cov = math.sqrt(alphas[t - 1]) * v
    var_t = alphas[t - 1] * v + betas[t - 1]
    close(q.answer, v - cov**2 / var_t)


def check_ddpm_sampling_step(q):
    betas = value(q.prompt, "betas")
    t = integer(q.prompt, r"At step t = (\d+)")
    xt, eps, z = (value(q.prompt, n) for n in ("x_t", "eps_theta(x_t, t)", "z"))
    alphas, alpha_bar = _schedule(betas)
    # the x_0-route (as diffusers computes it): predict x_0, then the posterior mean
    x0_hat = (xt - math.sqrt(1 - alpha_bar[t - 1]) * eps) / math.sqrt(alpha_bar[t - 1])
    coef_x0 = math.sqrt(alpha_bar[t - 2]) * betas[t - 1] / (1 - alpha_bar[t - 1])
    coef_xt = math.sqrt(alphas[t - 1]) * (1 - alpha_bar[t - 2]) / (1 - alpha_bar[t - 1])
    close(q.answer, coef_x0 * x0_hat + coef_xt * xt + math.sqrt(betas[t - 1]) * z)


def check_cfg(q):
    cond, uncond = value(q.prompt, "eps_theta(x, c; t)"), value(q.prompt, "eps_theta(x; t)")
    rho = value(q.prompt, "rho")
    j = integer(q.prompt, r"component (\d)") - 1
    weight = 1 + rho  # guidance as extrapolation from the unconditional prediction
    close(q.answer, uncond[j] + weight * (cond[j] - uncond[j]), abs_=1e-9)


def _diffusion_points(names, seed=0):
    rng = random.Random(seed)
    points = []
    for _ in range(4):
        alpha_prev_bar = rng.uniform(0.2, 0.9)
        alpha = rng.uniform(0.5, 0.99)
        points.append(
            {
                "alpha_t": alpha,
                "beta_t": 1 - alpha,
                "abar_{t-1}": alpha_prev_bar,
                "abar_t": alpha * alpha_prev_bar,
                "x_t": rng.uniform(-2, 2),
                "x_0": rng.uniform(-2, 2),
                "eps": rng.uniform(-2, 2),
                "sigma_t": rng.uniform(0.1, 1),
            }
        )
    return points


def check_ddpm_closed_form(q):
    import sympy as sp

    answer = parsed(q.answer, q.symbols)
    ok = True
    for point in _diffusion_points(q.symbols):
        at = answer.subs({s: point[s.name] for s in answer.free_symbols})
        a, ab, abp = point["alpha_t"], point["abar_t"], point["abar_{t-1}"]
        beta = 1 - a
        if "variance" in q.prompt:
            v = 1 - abp
            truth = v - (math.sqrt(a) * v) ** 2 / (a * v + beta)
        elif "epsilon-" in q.prompt:
            x0 = (point["x_t"] - math.sqrt(1 - ab) * point["eps"]) / math.sqrt(ab)
            truth = (math.sqrt(abp) * beta * x0 + math.sqrt(a) * (1 - abp) * point["x_t"]) / (
                1 - ab
            )
        elif "sample x_t" in q.prompt:
            # two steps composed: x_2 = sqrt(a2)(sqrt(a1) x0 + sqrt(1-a1) e1) + sqrt(1-a2) e2
            a1, a2 = abp, a  # any split of abar_t into two steps
            std = math.sqrt(a2 * (1 - a1) + 1 - a2)
            truth = math.sqrt(a1 * a2) * point["x_0"] + std * point["eps"]
        else:
            # KL of the two Gaussians' means: ||mu(eps) - mu(eps')||^2/(2 sigma^2) per unit
            # ||eps - eps'||^2, the means by the x_0-route
            def mean(e, a=a, ab=ab, abp=abp, beta=beta, point=point):
                x0 = (point["x_t"] - math.sqrt(1 - ab) * e) / math.sqrt(ab)
                return (math.sqrt(abp) * beta * x0 + math.sqrt(a) * (1 - abp) * point["x_t"]) / (
                    1 - ab
                )

            truth = (mean(1.0) - mean(0.0)) ** 2 / (2 * point["sigma_t"] ** 2)
        ok &= math.isclose(float(sp.N(at)), truth, rel_tol=1e-9, abs_tol=1e-12)
    assert ok, q.answer


def check_ddpm_choice(q):
    import sympy as sp

    names = {
        "x_t": "real",
        "x_0": "real",
        "eps": "real",
        "z": "real",
        "eh": "real",
        "alpha_t": "unit",
        "abar_t": "unit",
        "abar_{t-1}": "unit",
        "beta_t": "unit",
        "sigma_t": "positive",
        "alpha_{t-1}": "unit",
        "alpha_{t+1}": "unit",
        "beta_{t-1}": "unit",
        "beta_{t+1}": "unit",
        "abar_{t+1}": "unit",
        "sigma_{t-1}": "positive",
        "sigma_{t+1}": "positive",
        "x_{t-1}": "real",
        "x_{t+1}": "real",
    }
    a, ab, abp = (sp.Symbol(n, positive=True) for n in ("alpha_t", "abar_t", "abar_{t-1}"))
    beta, xt, x0, eps = sp.Symbol("beta_t", positive=True), *sp.symbols("x_t x_0 eps", real=True)
    eh, z, sigma = sp.Symbol("eh", real=True), sp.Symbol("z", real=True), sp.Symbol("sigma_t")
    x0_hat = (xt - sp.sqrt(1 - ab) * eps) / sp.sqrt(ab)
    posterior_mean = (sp.sqrt(abp) * beta * x0 + sp.sqrt(a) * (1 - abp) * xt) / (1 - ab)
    (formula_id,) = q.formulas
    truth = {
        "ddpm-posterior-variance": (1 - abp) - a * (1 - abp) ** 2 / (a * (1 - abp) + beta),
        "ddpm-posterior-mean": posterior_mean,
        "ddpm-epsilon-mean": posterior_mean.subs(x0, x0_hat),
        "ddpm-sampling-step": posterior_mean.subs(x0, x0_hat.subs(eps, eh)) + sigma * z,
    }[formula_id]
    rng = random.Random(1)
    points = []
    for _ in range(4):
        alpha, prev = rng.uniform(0.5, 0.99), rng.uniform(0.2, 0.9)
        point = {n: rng.uniform(0.05, 0.95) for n in names}
        point.update({"alpha_t": alpha, "beta_t": 1 - alpha, "abar_{t-1}": prev})
        point["abar_t"] = alpha * prev
        points.append(point)
    # the sheet's names relate through the schedule; the registry also writes beta_t
    found = right_choices(
        q, truth, names, points, clean=lambda t: t.replace("epsilon_theta(x_t, t)", "eh")
    )
    assert found == [q.answer], (found, q.choices)


# --------------------------------------------------------------------------------------------
# vae


def check_vae_reparam(q):
    import torch

    mu, log_var, eps = value(q.prompt, "mu"), value(q.prompt, "log sigma^2"), value(q.prompt, "eps")
    std = torch.tensor(log_var, dtype=torch.float64).exp().sqrt()
    close(q.answer, mu + float(std) * eps)


def check_vae_kl(q):
    import torch
    from torch.distributions import Normal, kl_divergence

    (mq, sq), (mp, sp_) = (
        map(float, re.search(rf"{name} = N\(([-\d.]+), ([\d.]+)\^2\)", q.prompt).groups())
        for name in ("q", "p")
    )
    kl = kl_divergence(
        Normal(torch.tensor(mq, dtype=torch.float64), sq), Normal(torch.tensor(mp), sp_)
    )
    close(q.answer, float(kl))


def check_vae_elbo(q):
    import torch
    from torch.distributions import Bernoulli, Normal, kl_divergence

    mu, sigma = torch.tensor(value(q.prompt, "mu")), torch.tensor(value(q.prompt, "sigma"))
    beta = value(q.prompt, "beta")  # "ELBO (beta = 1)" or the beta-VAE's
    x = torch.tensor(value(q.prompt, "x"), dtype=torch.float64)
    if "Bernoulli" in q.prompt:
        log_lik = Bernoulli(probs=torch.tensor(value(q.prompt, "p"))).log_prob(x).sum()
    else:
        log_lik = Normal(torch.tensor(value(q.prompt, "mu_x")), 1.0).log_prob(x).sum()
    kl = kl_divergence(Normal(mu.double(), sigma.double()), Normal(0.0, 1.0)).sum()
    close(q.answer, float(log_lik - beta * kl))


def _vae_truths():
    import sympy as sp

    mu, x, mu_p, mu_q, eps = sp.symbols("mu x mu_p mu_q eps", real=True)
    sigma, sigma_p, sigma_q = sp.symbols("sigma sigma_p sigma_q", positive=True)

    def log_normal(v, m, s):
        return sp.log(sp.exp(-((v - m) ** 2) / (2 * s**2)) / sp.sqrt(2 * sp.pi * s**2))

    return {
        "kl-gauss": (sigma**2 + mu**2 - 1) / 2 - sp.log(sigma),
        "vae-gaussian-log-likelihood": log_normal(x, mu, sigma),
        "gauss-negative-entropy": -sp.log(2 * sp.pi * sp.E * sigma**2) / 2,
        "gauss-cross-entropy": -sp.log(2 * sp.pi * sigma_q**2) / 2
        - (sigma_p**2 + (mu_p - mu_q) ** 2) / (2 * sigma_q**2),
        "reparametrisation": mu + sigma * eps,
    }


def _points(names, seed=0, count=4):
    rng = random.Random(seed)
    return [{n: rng.uniform(0.3, 2.0) for n in names} for _ in range(count)]


VAE_SYMBOLS = ("mu", "x", "mu_p", "mu_q", "eps", "sigma", "sigma_p", "sigma_q")


def check_vae_closed_form(q):
    (formula_id,) = q.formulas
    truth = _vae_truths()[formula_id]
    assert numerically_equal(parsed(q.answer, q.symbols), truth, _points(VAE_SYMBOLS))


def check_vae_choice(q):
    (formula_id,) = q.formulas
    truth = _vae_truths()[formula_id]
    symbols = {n: "positive" if n.startswith("sigma") else "real" for n in VAE_SYMBOLS}
    assert right_choices(q, truth, symbols, _points(VAE_SYMBOLS)) == [q.answer]


# --------------------------------------------------------------------------------------------
# gan


def check_gan_dstar(q):
    a, b = value(q.prompt, "p_d(x)"), value(q.prompt, "p_m(x)")
    y = np.linspace(1e-6, 1 - 1e-6, 2_000_001)  # brute-force argmax of a log y + b log(1-y)
    best = y[np.argmax(a * np.log(y) + b * np.log(1 - y))]
    close(q.answer, best, abs_=1e-5)


def check_gan_jsd(q):
    from scipy.spatial.distance import jensenshannon

    close(q.answer, jensenshannon(value(q.prompt, "P"), value(q.prompt, "Q")) ** 2)


def check_gan_value(q):
    from scipy.spatial.distance import jensenshannon

    p_d, p_m = value(q.prompt, "p_d"), value(q.prompt, "p_m")
    close(q.answer, -math.log(4) + 2 * jensenshannon(p_d, p_m) ** 2)


def check_gan_gradient(q):
    import torch

    d = value(q.prompt, "D(G(z))")
    logit = torch.logit(torch.tensor(d, dtype=torch.float64)).requires_grad_()
    objective = (
        torch.log1p(-torch.sigmoid(logit))
        if "log(1 - D(G(z)))," in q.prompt
        else torch.log(torch.sigmoid(logit))
    )
    objective.backward()
    close(q.answer, float(logit.grad), abs_=1e-6)


def check_gan_fid(q):
    mu1, mu2 = np.array(value(q.prompt, "mu_1")), np.array(value(q.prompt, "mu_2"))
    s1, s2 = np.array(value(q.prompt, "Sigma_1")), np.array(value(q.prompt, "Sigma_2"))
    # squared 2-Wasserstein distance of Gaussians with commuting (diagonal) covariances
    close(q.answer, np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(s1) - np.sqrt(s2)) ** 2))


def check_gan_closed_form(q):
    import sympy as sp

    (formula_id,) = q.formulas
    answer = parsed(q.answer, q.symbols)
    if formula_id == "gan-optimal-discriminator":
        a, b = (sp.Symbol(n, positive=True) for n in ("p_d", "p_m"))
        y = sp.Symbol("y", positive=True)
        (stationary,) = sp.solve(sp.diff(a * sp.log(y) + b * sp.log(1 - y), y), y)
        assert sp.simplify(answer - stationary) == 0
    elif formula_id == "gan-value-at-optimum":
        from scipy.spatial.distance import jensenshannon

        p, m = np.array([0.2, 0.5, 0.3]), np.array([0.6, 0.1, 0.3])
        d_star = p / (p + m)
        direct = np.sum(p * np.log(d_star) + m * np.log(1 - d_star))
        (jsd,) = answer.free_symbols
        close(str(float(answer.subs(jsd, jensenshannon(p, m) ** 2))), direct, rel=1e-9)
    else:
        import torch

        for ell in (-3.0, -0.5, 0.7, 2.0):
            logit = torch.tensor(ell, dtype=torch.float64, requires_grad=True)
            saturating = formula_id == "gan-saturating-gradient"
            f = (
                torch.log1p(-torch.sigmoid(logit))
                if saturating
                else torch.log(torch.sigmoid(logit))
            )
            f.backward()
            (symbol,) = answer.free_symbols
            close(str(float(answer.subs(symbol, ell))), float(logit.grad), rel=1e-9)


# --------------------------------------------------------------------------------------------
# flows


def _slogdet_of_jacobian(function, size: int) -> float:
    import torch

    x = torch.randn(size, dtype=torch.float64)
    jacobian = torch.autograd.functional.jacobian(function, x)
    return float(torch.linalg.slogdet(jacobian)[1])


def check_flow_actnorm(q):
    import torch

    s = torch.tensor(value(q.prompt, "s"), dtype=torch.float64)
    h, w, c = (int(v) for v in re.search(r"(\d+) x (\d+) x (\d+) activation", q.prompt).groups())
    logdet = _slogdet_of_jacobian(lambda x: (x.reshape(h, w, c) * s + 0.3).reshape(-1), h * w * c)
    close(q.answer, logdet)


def check_flow_conv1x1(q):
    import torch

    weight = torch.tensor(value(q.prompt, "W"), dtype=torch.float64)
    h, w, c = (int(v) for v in re.search(r"(\d+) x (\d+) x (\d+) activation", q.prompt).groups())

    def conv(x):
        image = x.reshape(1, c, h, w)
        return torch.nn.functional.conv2d(image, weight[:, :, None, None]).reshape(-1)

    close(q.answer, _slogdet_of_jacobian(conv, h * w * c))


def check_flow_lu(q):
    s = np.array(value(q.prompt, "s"))
    size = re.search(r"on a (\d+) x (\d+) x 3 activation", q.prompt)
    pixels = int(size.group(1)) * int(size.group(2)) if size else 1
    # the LU property: |det P| = 1, det L = 1, det(U + diag s) = prod s
    close(q.answer, pixels * np.sum(np.log(np.abs(s))), abs_=1e-9)
    P, L, U = (np.array(value(q.prompt, n)) for n in ("P", "L", "U"))
    assert np.allclose(np.triu(L, 1), 0) and np.allclose(np.diag(L), 1)
    assert np.allclose(np.tril(U), 0) and np.allclose(P @ P.T, np.eye(3))


def check_flow_affine_density(q):
    import torch
    from torch.distributions import MultivariateNormal

    A = torch.tensor(value(q.prompt, "A"), dtype=torch.float64)
    b, x = (torch.tensor(value(q.prompt, n), dtype=torch.float64) for n in ("b", "x"))
    # x = A z + b with z ~ N(0, I) is N(b, A A^T)
    close(q.answer, float(MultivariateNormal(b, covariance_matrix=A @ A.T).log_prob(x)))


def check_flow_triangular(q):
    import torch

    if "coupling" in q.prompt:
        s = torch.tensor(value(q.prompt, "s(x^B)"), dtype=torch.float64)
        x_b = torch.tensor(value(q.prompt, "x^B"), dtype=torch.float64)
        n = len(s)

        def coupling(x):  # s, t fixed by x^B, which passes through
            x_a, xb = x[:n], x[n:]
            return torch.cat([x_a * torch.exp(s) + 0.5 * xb, xb])

        close(q.answer, _slogdet_of_jacobian(coupling, 2 * n) if len(x_b) == n else None)
    else:
        close(q.answer, np.linalg.slogdet(np.array(value(q.prompt, "J")))[1])


def check_flow_choice(q):
    import sympy as sp

    H, W, S, L = sp.symbols("H W S L", positive=True)
    if "ActNorm" in q.prompt:
        truth, clean = H * W * S, lambda t: t.replace("sum_{i=1}^{C} log|s_i|", "S")
    elif "1x1" in q.prompt:
        truth, clean = H * W * L, lambda t: t.replace("log|det W|", "L")
    else:
        x, b = sp.symbols("x b", real=True)
        a = sp.Symbol("a", positive=True)
        z = (x - b) / a
        truth = sp.log(sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)) - sp.log(a)
        clean = lambda t: t  # noqa: E731
    names = {"H": "positive", "W": "positive", "S": "real", "L": "real"}
    names.update({"x": "real", "b": "real", "a": "positive"})
    points = [
        {"H": 4.0, "W": 3.0, "S": 0.7, "L": -1.3, "x": 0.4, "b": -0.3, "a": 1.7},
        {"H": 2.0, "W": 5.0, "S": -0.2, "L": 2.1, "x": -1.1, "b": 0.6, "a": 0.6},
    ]
    assert right_choices(q, truth, names, points, clean) == [q.answer], q.choices


def check_flow_closed_form(q):
    import torch
    from torch.distributions import Normal

    answer = parsed(q.answer, q.symbols)
    names = {s.name: s for s in answer.free_symbols}
    generator = torch.Generator().manual_seed(0)
    if "1-D flow" in q.prompt:
        for x, a, b in ((0.3, 1.7, -0.4), (-2.0, 0.6, 1.1)):
            truth = Normal(torch.tensor(b, dtype=torch.float64), a).log_prob(torch.tensor(x))
            got = answer.subs({names["x"]: x, names["a"]: a, names["b"]: b})
            close(str(float(got)), float(truth), rel=1e-9)
        return
    channels = integer(q.prompt, r"h x w x (\d) activation")
    h, w = 2, 3
    if "ActNorm" in q.prompt:
        s = torch.randn(channels, generator=generator, dtype=torch.float64)
        logdet = _slogdet_of_jacobian(
            lambda x: (x.reshape(h, w, channels) * s).reshape(-1), 6 * channels
        )
        point = {names[f"s_{c + 1}"]: float(s[c]) for c in range(channels)}
    else:
        weight = torch.randn(channels, channels, generator=generator, dtype=torch.float64)

        def conv(x):
            image = x.reshape(1, channels, h, w)
            return torch.nn.functional.conv2d(image, weight[:, :, None, None]).reshape(-1)

        logdet = _slogdet_of_jacobian(conv, 6 * channels)
        point = {names["d"]: float(torch.linalg.det(weight))}
    point.update({names["h"]: h, names["w"]: w})
    close(str(float(answer.subs(point))), logdet, rel=1e-9)


# --------------------------------------------------------------------------------------------
# autoregressive


def check_ar_params(q):
    import torch

    n = integer(q.prompt, r"n = (\d+)")
    if "table" in q.prompt:
        truth = sum(2 ** (i - 1) for i in range(1, n + 1))
    elif "FVSBN" in q.prompt:
        truth = sum(1 + (i - 1) for i in range(1, n + 1))
    else:
        d = integer(q.prompt, r"d = (\d+)")
        encoder, decoder = torch.nn.Linear(n, d), torch.nn.Linear(d, n)  # (W, b), (V, c)
        truth = sum(p.numel() for m in (encoder, decoder) for p in m.parameters())
    assert int(q.answer) == truth


def check_ar_wavenet(q):
    import torch

    kernel = integer(q.prompt, r"kernel size (\d+)")
    block = [int(v) for v in ast.literal_eval(re.search(r"\[[\d, ]+\]", q.prompt).group(0))]
    repeats = integer(q.prompt, r"repeated (\d+) times") if "repeated" in q.prompt else 1
    dilations = block * repeats
    length = 1 + sum((kernel - 1) * d for d in dilations) + 50
    x = torch.zeros(1, 1, length, dtype=torch.float64, requires_grad=True)
    h = x
    for d in dilations:  # causal: pad on the left only
        conv = torch.nn.Conv1d(1, 1, kernel, dilation=d, bias=False).double()
        torch.nn.init.constant_(conv.weight, 1.0)
        h = conv(torch.nn.functional.pad(h, ((kernel - 1) * d, 0)))
    h[0, 0, -1].backward()
    assert int(q.answer) == int((x.grad != 0).sum())


def check_ar_made(q):
    dims = integer(q.prompt, r"D = (\d+)")
    m = [int(v) for v in value(q.prompt, "m(k)")]
    if "output layer" in q.prompt:
        count = sum(1 for d in range(1, dims + 1) for mk in m if d > mk)
    else:
        count = sum(1 for mk in m for d in range(1, dims + 1) if mk >= d)
    assert int(q.answer) == count


def check_ar_pixelcnn(q):
    mask_type = re.search(r"of type ([AB])", q.prompt).group(1)
    colours = "RGB"
    source, target = re.search(r"input channel (\w) to output channel (\w)", q.prompt).groups()
    if "centre position" in q.prompt:
        dr, dc = 0, 0
    else:
        dr, dc = (
            int(v) for v in re.search(r"([+-]\d+) rows, ([+-]\d+) columns", q.prompt).groups()
        )
    # raster order, then R -> G -> B within the pixel
    if (dr, dc) == (0, 0):
        i, o = colours.index(source), colours.index(target)
        allowed = i < o if mask_type == "A" else i <= o
    else:
        allowed = dr < 0 or (dr == 0 and dc < 0)
    assert q.answer == ("true" if allowed else "false")


def check_ar_bits(q):
    nll = float(re.search(r"likelihood of ([\d.]+) nats", q.prompt).group(1))
    h, w, c = (int(v) for v in re.search(r"(\d+) x (\d+) x (\d+) image", q.prompt).groups())
    close(q.answer, nll * math.log2(math.e) / (h * w * c))


def check_ar_vq(q):
    import torch

    codes = torch.tensor(value(q.prompt, "e_1, e_2, e_3"), dtype=torch.float64)
    z_e = torch.tensor(value(q.prompt, "z_e(x)"), dtype=torch.float64)
    beta = value(q.prompt, "beta")
    e = codes[torch.cdist(z_e[None], codes).argmin()]
    loss = ((z_e.detach() - e) ** 2).sum() + beta * ((z_e - e.detach()) ** 2).sum()
    close(q.answer, float(loss))


def check_ar_fvsbn(q):
    import torch

    alpha0 = value(q.prompt, "(alpha_0^(1), .., alpha_0^(3))")
    x = value(q.prompt, "x")
    i = integer(q.prompt, r"p\(x_(\d) = 1")
    weights = value(q.prompt, f"alpha^({i})")
    logit = alpha0[i - 1] + sum(w * xj for w, xj in zip(weights, x[: i - 1]))
    close(q.answer, float(torch.sigmoid(torch.tensor(logit, dtype=torch.float64))))


# --------------------------------------------------------------------------------------------
# attention


def _sdpa(q, k, v, causal=False):
    import torch

    def tensor(a):
        return torch.tensor(a, dtype=torch.float64)[None]

    return torch.nn.functional.scaled_dot_product_attention(
        tensor(q), tensor(k), tensor(v), is_causal=causal
    )[0]


def check_attn_weights(q):
    query, keys = value(q.prompt, "q"), value(q.prompt, "k_1, k_2, k_3")
    j = integer(q.prompt, r"key k_(\d)")
    # values = the identity: the output row is the weight vector
    weights = _sdpa([query], keys, np.eye(3).tolist())
    close(q.answer, float(weights[0, j - 1]))


def check_attn_output(q):
    out = _sdpa([value(q.prompt, "q")], value(q.prompt, "k_1, k_2"), value(q.prompt, "v_1, v_2"))
    close(q.answer, float(out[0, integer(q.prompt, r"component (\d)") - 1]))


def check_attn_causal(q):
    tokens = integer(q.prompt, r"T = (\d+)")
    X = np.array(value(q.prompt, f"x_1, .., x_{tokens}"), float)
    V = X @ np.array(value(q.prompt, "W_V"), float)
    out = _sdpa(X, X, V, causal=True)
    position = integer(q.prompt, r"output y_(\d)")
    close(q.answer, float(out[position - 1, integer(q.prompt, r"component (\d)") - 1]))


def check_attn_mask(q):
    import torch

    tokens = integer(q.prompt, r"T = (\d+)")
    i, j = integer(q.prompt, r"i = (\d+)"), integer(q.prompt, r"j = (\d+)")
    allowed = torch.ones(tokens, tokens, dtype=torch.bool).tril()  # as SDPA's is_causal
    assert q.answer == ("true" if allowed[i - 1, j - 1] else "false")


def _flops(tokens: int, dims: int) -> int:
    """numpy's own FLOP count of the two contractions (2 per multiply-add, as einsum counts)."""
    Q = K = V = np.zeros((tokens, dims))
    weights = np.zeros((tokens, tokens))
    total = 0
    for spec, operands in (("td,sd->ts", (Q, K)), ("ts,sd->td", (weights, V))):
        report = np.einsum_path(spec, *operands, optimize=False)[1]
        total += int(float(re.search(r"Naive FLOP count:\s*([\d.e+]+)", report).group(1)))
    return total


def check_attn_cost(q):
    tokens, dims = integer(q.prompt, r"T = (\d+)"), integer(q.prompt, r"D = (\d+)")
    close(q.answer, _flops(tokens, dims), rel=2e-3)  # numpy prints its count to 4 digits


def check_attn_pe(q):
    dims = integer(q.prompt, r"D = (\d+)")
    pos, index = (int(v) for v in re.search(r"PE\((\d+), (\d+)\)\?", q.prompt).groups())
    angle = pos / 10000 ** ((index - index % 2) / dims)
    close(q.answer, math.cos(angle) if index % 2 else math.sin(angle), abs_=1e-6)


def check_attn_closed_form(q):
    answer = parsed(q.answer, q.symbols)
    names = {s.name: s for s in answer.free_symbols}
    if "FLOPs" in q.prompt:
        for tokens, dims in ((3, 5), (16, 8), (7, 2)):
            got = answer.subs({names["T"]: tokens, names["D"]: dims})
            assert int(got) == _flops(tokens, dims)
    else:
        for pos, i, dims in ((3, 1, 8), (10, 2, 16), (1, 0, 4)):
            got = float(answer.subs({names["pos"]: pos, names["i"]: i, names["D"]: dims}))
            assert math.isclose(got, math.sin(pos / 10000 ** (2 * i / dims)), rel_tol=1e-12)


# --------------------------------------------------------------------------------------------
# generative


def check_gen_mle_kl(q):
    from scipy.stats import entropy

    p, m = value(q.prompt, "p_data"), value(q.prompt, "p_model")
    if "D_KL" in q.prompt:
        truth = entropy(p, m)
    elif "no model can remove" in q.prompt:
        truth = entropy(p)
    else:
        truth = entropy(p) + entropy(p, m)
    close(q.answer, truth)


def check_gen_mle_choice(q):
    p = np.array(value(q.prompt, "p_data"))
    likelihoods = [np.sum(p * np.log(value(c, "p_model"))) for c in q.choices]
    assert chr(ord("A") + int(np.argmax(likelihoods))) == q.answer


def _points_in(prompt: str) -> np.ndarray:
    listed = re.search(r"points ((?:\[[-\d., ]+\](?:, )?)+)", prompt).group(1)
    return np.array(ast.literal_eval("[" + listed + "]"))


def _pca_error(X: np.ndarray, k: int) -> float:
    """Error of the best rank-k affine reconstruction: truncated SVD of the centred data
    (Eckart-Young), projected and measured point by point."""
    centred = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    basis = vt[:k].T
    reconstruction = centred @ basis @ basis.T
    return float(np.sum((centred - reconstruction) ** 2))


def check_gen_linear_ae(q):
    k = integer(q.prompt, r"has a (\d)-dimensional")
    close(q.answer, _pca_error(_points_in(q.prompt), k), abs_=1e-9)


def check_gen_code_size(q):
    X = _points_in(q.prompt)
    fraction = float(re.search(r"at most ([\d.]+)%", q.prompt).group(1)) / 100
    total = _pca_error(X, 0)
    k = next(k for k in range(X.shape[1] + 1) if _pca_error(X, k) <= fraction * total + 1e-12)
    assert int(q.answer) == k


def check_gen_noise_mixture(q):
    w, p = value(q.prompt, "w"), value(q.prompt, "p(x)")
    noise = float(re.search(r"noise density is ([\d.e-]+)\.", q.prompt).group(1))
    terms = [math.log(w) + math.log(p)]
    if noise > 0:
        terms.append(math.log(1 - w) + math.log(noise))
    close(q.answer, float(np.logaddexp.reduce(terms)))


def check_gen_noise_symbolic(q):
    w = float(re.search(r"probability (\d+)%", q.prompt).group(1)) / 100
    answer = parsed(q.answer, q.symbols)
    names = {s.name: s for s in answer.free_symbols}
    for p, noise in ((0.3, 0.01), (2.0, 0.5)):
        got = float(answer.subs({names["p_model"]: p, names["p_noise"]: noise}))
        assert math.isclose(got, math.log(w * p + (1 - w) * noise), rel_tol=1e-12)


# --------------------------------------------------------------------------------------------
# moved from the engine's example templates


def check_kl_value(q):
    import ast

    mu = ast.literal_eval(re.search(r"mu = (\[[^\]]*\])", q.prompt).group(1))
    sigma = ast.literal_eval(re.search(r"sigma = (\[[^\]]*\])", q.prompt).group(1))
    # KL(q || p) = int q log(q/p), per dimension, by the trapezoid rule on a wide grid.
    total = 0.0
    for m, s in zip(mu, sigma):
        z = np.linspace(m - 12 * s, m + 12 * s, 200_001)
        log_q = -0.5 * np.log(2 * np.pi * s**2) - (z - m) ** 2 / (2 * s**2)
        log_p = -0.5 * np.log(2 * np.pi) - z**2 / 2
        total += np.trapezoid(np.exp(log_q) * (log_q - log_p), z)
    close(q.answer, total, rel=1e-5, abs_=1e-6)


def check_alpha_bar(q):
    steps, beta_start, beta_end, t = re.search(
        r"T = (\d+) steps from beta_1 = ([\d.]+) to beta_T = ([\d.]+)\. What is alpha-bar_t at "
        r"t = (\d+)",
        q.prompt,
    ).groups()
    steps, t = int(steps), int(t)
    beta_start, beta_end = float(beta_start), float(beta_end)
    product = 1.0
    for s in range(1, t + 1):
        beta = beta_start + (s - 1) * (beta_end - beta_start) / (steps - 1)
        product *= 1.0 - beta
    close(q.answer, product, rel=1e-5)


def check_kl_choice(q):
    import sympy as sp

    mu, sigma = sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True)
    # the closed form written out by hand, independent of the registry
    truth = (sigma**2 + mu**2 - 1 - 2 * sp.log(sigma)) / 2
    right = []
    for letter, choice in zip("ABCD", q.choices):
        expr = parsed(choice.split("=", 1)[1], {"mu": "real", "sigma": "positive"})
        if sp.simplify(expr - truth) == 0:
            right.append(letter)
    assert right == [q.answer]


CHECKS = {
    "kl-gauss-value-draw": check_kl_value,
    "alpha-bar-draw": check_alpha_bar,
    "kl-gauss-choice-draw": check_kl_choice,
    "ddpm-forward-sample-draw": check_ddpm_forward_sample,
    "ddpm-posterior-variance-draw": check_ddpm_posterior_variance,
    "ddpm-sampling-step-draw": check_ddpm_sampling_step,
    "cfg-guidance-draw": check_cfg,
    "ddpm-closed-form-draw": check_ddpm_closed_form,
    "ddpm-formula-choice-draw": check_ddpm_choice,
    "ddpm-derivation-order-draw": check_ordering,
    "vae-reparam-logvar-draw": check_vae_reparam,
    "vae-kl-two-gaussians-draw": check_vae_kl,
    "vae-elbo-one-sample-draw": check_vae_elbo,
    "vae-closed-form-draw": check_vae_closed_form,
    "vae-gaussian-terms-choice-draw": check_vae_choice,
    "vae-derivation-order-draw": check_ordering,
    "gan-optimal-discriminator-draw": check_gan_dstar,
    "gan-jsd-draw": check_gan_jsd,
    "gan-value-at-optimum-draw": check_gan_value,
    "gan-generator-gradient-draw": check_gan_gradient,
    "gan-fid-draw": check_gan_fid,
    "gan-closed-form-draw": check_gan_closed_form,
    "gan-derivation-order-draw": check_ordering,
    "flow-actnorm-logdet-draw": check_flow_actnorm,
    "flow-conv1x1-logdet-draw": check_flow_conv1x1,
    "flow-lu-logdet-draw": check_flow_lu,
    "flow-affine-density-draw": check_flow_affine_density,
    "flow-triangular-logdet-draw": check_flow_triangular,
    "flow-logdet-choice-draw": check_flow_choice,
    "flow-closed-form-draw": check_flow_closed_form,
    "ar-param-count-draw": check_ar_params,
    "ar-wavenet-receptive-field-draw": check_ar_wavenet,
    "ar-made-mask-draw": check_ar_made,
    "ar-pixelcnn-mask-draw": check_ar_pixelcnn,
    "ar-bits-per-dim-draw": check_ar_bits,
    "ar-vq-vae-loss-draw": check_ar_vq,
    "ar-fvsbn-conditional-draw": check_ar_fvsbn,
    "attn-weights-draw": check_attn_weights,
    "attn-output-draw": check_attn_output,
    "attn-causal-output-draw": check_attn_causal,
    "attn-causal-mask-draw": check_attn_mask,
    "attn-cost-draw": check_attn_cost,
    "attn-positional-encoding-draw": check_attn_pe,
    "attn-closed-form-draw": check_attn_closed_form,
    "gen-mle-kl-draw": check_gen_mle_kl,
    "gen-mle-choice-draw": check_gen_mle_choice,
    "gen-linear-ae-error-draw": check_gen_linear_ae,
    "gen-linear-ae-code-size-draw": check_gen_code_size,
    "gen-noise-mixture-draw": check_gen_noise_mixture,
    "gen-noise-mixture-symbolic-draw": check_gen_noise_symbolic,
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
    quiz_helpers.check_same_seed_and_bank_check(template_id, VARIANTS)


def test_every_topic_has_twenty_questions_five_of_them_templates():
    quiz_helpers.check_question_counts(TOPICS)


def test_banks_of_these_topics_pass_bank_check():
    quiz_helpers.check_topic_banks(TOPICS)


@pytest.mark.parametrize(
    "template_id, variant", [("ddpm-sampling-step-draw", 17), ("vae-closed-form-draw", 3)]
)
def test_cli_check_marks_the_variant(template_id, variant):
    quiz_helpers.check_cli_marks_the_variant(
        os.environ.get("CHEATSHEET_HOME", "/tmp/cs-test-a"), template_id, variant
    )
