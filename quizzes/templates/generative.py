"""Generated questions on generative modelling in general (sheet section 1 and the
likelihood remark of 5): maximum likelihood as minimum KL (cross-entropy = entropy + KL),
which model maximum likelihood prefers, the optimal linear autoencoder (PCA) and its code
size, and why log-likelihood is a poor quality metric (the noise-mixture bound).

Every answer comes from the formula registry (mle-kl, linear-autoencoder-pca,
likelihood-noise-mixture).
"""

from __future__ import annotations

import random

from quizzes.questions import Question, template
from quizzes.templates._kit import (
    guard_module,
    mistake,
    number,
    plain,
    show,
    shown,
    shuffled_choices,
    vector,
)

TOPIC = "generative"


def _distribution(rng: random.Random, size: int = 3) -> list[float]:
    """A probability vector on `size` outcomes in steps of 0.05, every entry positive."""
    cuts = sorted(rng.sample(range(1, 20), size - 1))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, 20])]
    return [round(part * 0.05, 2) for part in parts]


@template(
    "gen-mle-kl-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("mle-kl",),
    difficulty=2,
    tags=("likelihood", "kl"),
)
def mle_kl(rng: random.Random, question_id: str) -> Question:
    import formulas

    p_data, p_model = _distribution(rng), _distribution(rng)
    while p_model == p_data:
        p_model = _distribution(rng)
    cross_entropy = formulas.get("mle-kl")
    ce = float(cross_entropy.evaluate(p_data=p_data, p_model=p_model))
    entropy = float(cross_entropy.evaluate(p_data=p_data, p_model=p_data))
    kl = ce - entropy  # the registry's identity: E[-log p_model] = H(p_data) + KL
    asked = rng.choice(["cross-entropy", "kl", "entropy"])
    value, what, wrong, why = {
        "cross-entropy": (
            ce,
            "the expected negative log-likelihood E_{p_data}[-log p_model(x)]",
            kl,
            "that is only the KL part; the expected NLL adds the data entropy H(p_data).",
        ),
        "kl": (
            kl,
            "D_KL(p_data || p_model)",
            ce,
            "that is the expected NLL (cross-entropy); subtract H(p_data) to get the KL.",
        ),
        "entropy": (
            entropy,
            "the part of the expected negative log-likelihood E_{p_data}[-log p_model(x)] that "
            "no model can remove",
            ce,
            "that is the whole expected NLL; the irreducible part is the entropy H(p_data).",
        ),
    }[asked]
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"On three outcomes the data distribution is p_data = {vector(p_data)} and a model "
            f"has p_model = {vector(p_model)}. What is {what}, in nats (natural log)? "
            "(3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "E_{p_data}[-log p_model(x)] = H(p_data) + D_KL(p_data || p_model): H(p_data) does "
            "not depend on the model, so maximum likelihood is minimum KL. "
            "See `cheatsheet derive mle-kl`."
        ),
        abs_tol=2e-3,
        rel_tol=5e-3,
        drawn={"p_data": p_data, "p_model": p_model, "asked": what},
        mistakes=mistake(wrong, value, why),
    )


@template(
    "gen-mle-choice-draw",
    topic=TOPIC,
    kind="choice",
    formulas=("mle-kl",),
    difficulty=2,
    tags=("likelihood", "kl"),
)
def mle_choice(rng: random.Random, question_id: str) -> Question:
    import formulas

    cross_entropy = formulas.get("mle-kl")
    p_data = _distribution(rng)
    while True:
        candidates = [_distribution(rng) for _ in range(3)]
        scores = [float(cross_entropy.evaluate(p_data=p_data, p_model=c)) for c in candidates]
        ranked = sorted(scores)
        if ranked[1] - ranked[0] > 0.02 and p_data not in candidates:
            break
    best = scores.index(ranked[0])
    texts = [f"p_model = {vector(c)}" for c in candidates]
    choices, answer = shuffled_choices(
        rng, texts[best], [t for k, t in enumerate(texts) if k != best]
    )
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="choice",
        prompt=(
            f"Training data on three outcomes follow p_data = {vector(p_data)} (infinitely many "
            "samples). Among these models, which one does maximum likelihood choose?"
        ),
        answer=answer,
        explanation=(
            "Maximum likelihood minimises E_{p_data}[-log p_model] = H(p_data) + "
            "D_KL(p_data || p_model), i.e. the KL from the data: expected NLLs "
            + ", ".join(f"{vector(c)}: {s:.3f}" for c, s in zip(candidates, scores))
            + ". See `cheatsheet derive mle-kl`."
        ),
        formulas=("mle-kl",),
        choices=choices,
        # the candidates in the order the options show them
        drawn={"p_data": p_data, "options": [candidates[texts.index(c)] for c in choices]},
        option_reasons=tuple(
            ""
            if text == texts[best]
            else f"Its expected negative log-likelihood is {scores[texts.index(text)]:.3f}, "
            f"above {ranked[0]:.3f}: it is further from p_data in KL(p_data || p_model)."
            for text in choices
        ),
    )


def _axis_data(rng: random.Random, dims: int) -> tuple[list[list[float]], list[float]]:
    """Points +-a_i e_i: mean zero, scatter matrix diag(2 a_i^2) (eigenvalues by hand)."""
    amplitudes = rng.sample([0.5, 1.0, 1.5, 2.0, 2.5, 3.0], dims)
    points = []
    for i, a in enumerate(amplitudes):
        for sign in (1, -1):
            point = [0.0] * dims
            point[i] = sign * a
            points.append(point)
    rng.shuffle(points)
    return points, amplitudes


@template(
    "gen-linear-ae-error-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("linear-autoencoder-pca",),
    difficulty=2,
    tags=("autoencoder", "pca"),
)
def linear_ae_error(rng: random.Random, question_id: str) -> Question:
    import formulas

    dims = 3
    points, _ = _axis_data(rng, dims)
    k = rng.randint(1, 2)
    value = formulas.get("linear-autoencoder-pca").evaluate(X=points, k=k)
    keep_smallest = formulas.get("linear-autoencoder-pca").evaluate(X=points, k=0) - (
        formulas.get("linear-autoencoder-pca").evaluate(X=points, k=dims - k)
    )
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"A linear autoencoder (encoder and decoder linear with biases) has a {k}-dimensional"
            f" code and is trained to minimise the total squared reconstruction error "
            f"sum_n ||x_n - g(f(x_n))||^2 on the {len(points)} points "
            + ", ".join(vector(p) for p in points)
            + ". What is the smallest error it can reach?"
        ),
        answer=number(value),
        explanation=(
            "The optimal linear autoencoder spans the top-k principal subspace (PCA): the error "
            "is the sum of the D - k smallest eigenvalues of the centred scatter matrix "
            "sum_n (x_n - mean)(x_n - mean)^T. See `cheatsheet derive linear-autoencoder-pca`."
        ),
        abs_tol=1e-3,
        rel_tol=1e-3,
        mistakes=mistake(
            keep_smallest,
            value,
            "that keeps the smallest-variance directions; PCA keeps the largest eigenvalues and "
            "the error is what remains.",
        ),
        drawn={"k": k, "points": points},
    )


@template(
    "gen-linear-ae-code-size-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("linear-autoencoder-pca",),
    difficulty=2,
    tags=("autoencoder", "pca"),
)
def linear_ae_code_size(rng: random.Random, question_id: str) -> Question:
    import formulas

    dims = 4
    points, _ = _axis_data(rng, dims)
    error = formulas.get("linear-autoencoder-pca")
    total = float(error.evaluate(X=points, k=0))
    fraction = rng.choice([0.05, 0.1, 0.2, 0.3, 0.5])
    k = next(k for k in range(dims + 1) if float(error.evaluate(X=points, k=k)) <= fraction * total)
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            "A linear autoencoder (linear encoder and decoder with biases) is trained on the "
            f"{len(points)} points "
            + ", ".join(vector(p) for p in points)
            + ". What is the smallest code size k for which its optimal total squared "
            f"reconstruction error is at most {show(fraction * 100)}% of the total scatter "
            "sum_n ||x_n - mean||^2?"
        ),
        answer=str(k),
        explanation=(
            "The optimal error with a k-dimensional code is the sum of the D - k smallest "
            "eigenvalues of the scatter matrix (PCA); keep adding the largest ones until the "
            "rest is small enough. See `cheatsheet derive linear-autoencoder-pca`."
        ),
        abs_tol=0.0,
        rel_tol=0.0,
        drawn={"points": points, "percent": shown(fraction * 100)},
    )


@template(
    "gen-noise-mixture-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("likelihood-noise-mixture",),
    difficulty=2,
    tags=("likelihood", "evaluation"),
)
def noise_mixture(rng: random.Random, question_id: str) -> Question:
    import formulas

    weight = rng.choice([0.01, 0.05, 0.1, 0.5])
    p_model = rng.choice([0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0])
    p_noise = rng.choice([0.0, 0.001, 0.01, 0.1])
    mixture = formulas.get("likelihood-noise-mixture")
    value = mixture.evaluate(p_model=p_model, p_noise=p_noise, weight=weight)
    bound = mixture.evaluate(p_model=p_model, p_noise=0.0, weight=weight)
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"A 'model' draws from a good model p with probability w = {show(weight)} and from "
            f"pure noise otherwise. At a test point x, p(x) = {show(p_model)} and the noise "
            f"density is {show(p_noise)}. What is log p_mix(x) (natural log)? "
            "(3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "log p_mix(x) = log(w p(x) + (1 - w) p_noise(x)) >= log p(x) + log w: the mixture's "
            "log-likelihood loses at most log(1/w) nats although most of its samples are noise. "
            f"Here the bound is {float(bound):.4g}. See `cheatsheet derive "
            "likelihood-noise-mixture`."
        ),
        abs_tol=5e-3,
        rel_tol=5e-3,
        drawn={"w": weight, "p(x)": p_model, "noise density": p_noise},
    )


@template(
    "gen-noise-mixture-symbolic-draw",
    topic=TOPIC,
    kind="symbolic",
    formulas=("likelihood-noise-mixture",),
    difficulty=1,
    tags=("likelihood", "evaluation"),
)
def noise_mixture_symbolic(rng: random.Random, question_id: str) -> Question:
    import sympy as sp

    import formulas
    from quizzes.templates._kit import renamed

    percent = rng.choice([1, 2, 5, 10, 20])
    symbols = {"p_model": "positive", "p_noise": "positive"}
    rhs = formulas.get("likelihood-noise-mixture").statement.rhs
    w = next(s for s in rhs.free_symbols if s.name == "w")
    rhs = renamed(rhs.xreplace({w: sp.Rational(percent, 100)}), {}, symbols)
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="symbolic",
        prompt=(
            f"A sampler returns a sample of a model with density p_model with probability "
            f"{percent}% and pure noise with density p_noise otherwise. Write its log-density "
            "log p_mix(x) in terms of p_model and p_noise (the densities at x)."
        ),
        answer=plain(rhs),
        explanation=(
            f"{plain(rhs)}: a mixture's density is the weighted sum of the densities. See "
            "`cheatsheet derive likelihood-noise-mixture`."
        ),
        formulas=("likelihood-noise-mixture",),
        symbols=symbols,
        drawn={"percent": percent},
    )


@template(
    "gen-likelihood-quality-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("mle-kl", "likelihood-noise-mixture"),
    difficulty=3,
    tags=("likelihood", "evaluation", "multipart"),
)
def likelihood_quality_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    p_data = rng.choice([[0.5, 0.3, 0.2], [0.6, 0.2, 0.2], [0.4, 0.4, 0.2], [0.7, 0.2, 0.1]])
    p_model = rng.choice([[0.4, 0.4, 0.2], [0.5, 0.25, 0.25], [0.3, 0.3, 0.4], [0.6, 0.3, 0.1]])
    while p_model == p_data:
        p_model = rng.choice([[0.2, 0.5, 0.3], [0.5, 0.25, 0.25]])
    weight = rng.choice([0.01, 0.05, 0.1])
    density = rng.choice([0.2, 0.5, 1.0, 2.0])
    cross_entropy = formulas.get("mle-kl").evaluate(p_data=p_data, p_model=p_model)
    mixed = formulas.get("likelihood-noise-mixture").evaluate(
        p_model=density, p_noise=0.0, weight=weight
    )
    return problem(
        question_id,
        TOPIC,
        f"Data on three outcomes follow p_data = {vector(p_data)}; a model assigns p_model = "
        f"{vector(p_model)}. Natural logarithms.",
        [
            part(
                "numeric",
                "What is the expected negative log-likelihood E_{p_data}[-log p_model(x)] "
                "(the cross-entropy that maximum likelihood minimises)?",
                cross_entropy,
                "-sum_x p_data(x) log p_model(x) = H(p_data) + KL(p_data || p_model).",
            ),
            part(
                "numeric",
                f"Another model keeps a good density p(x) = {show(density)} at a test point "
                f"but mixes it with noise: q = {show(weight)} p + {show(1 - weight)} noise, the "
                "noise density being 0 at that point. What is log q(x) there?",
                mixed,
                "log(w p(x)): the mixture costs only log(1/w) nats per point.",
                drawn={"p(x)": density, "w": weight},
            ),
            choice_part(
                rng,
                "What does part (b) show about evaluating generative models?",
                f"a model that is {show(1 - weight)} noise loses only log(1/w) = "
                f"{show(math.log(1 / weight), 3)} nats of log-likelihood per point: good "
                "likelihood does not imply good samples",
                {
                    "the noisy model has a much worse likelihood, so likelihood detects bad "
                    "samples": "the loss is a constant log(1/w), small next to typical "
                    "log-likelihoods in high dimensions",
                    "mixing in noise improves the likelihood": "it lowers it, by log(1/w) at most",
                    "likelihood and sample quality always agree": "this model keeps most of its "
                    "likelihood while most of its samples are noise",
                },
                "Theis et al.: likelihood and sample quality can disagree in both directions.",
            ),
        ],
        formulas=("mle-kl", "likelihood-noise-mixture"),
        drawn={"p_data": p_data, "p_model": p_model},
    )


@template(
    "gen-linear-ae-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("linear-autoencoder-pca",),
    difficulty=3,
    tags=("autoencoder", "pca", "multipart"),
)
def linear_ae_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, matrix, part

    points, amplitudes = _axis_data(rng, 3)
    k = rng.choice([1, 2])
    error = formulas.get("linear-autoencoder-pca").evaluate(X=points, k=k)
    eigen = sorted((2 * a * a for a in amplitudes), reverse=True)
    return problem(
        question_id,
        TOPIC,
        f"Six centred data points in R^3 (one per row): X = {matrix(points)}.",
        [
            part(
                "numeric",
                "What is the largest eigenvalue of the scatter matrix X^T X?",
                eigen[0],
                "The scatter matrix is diagonal here: 2 a_i^2 per axis.",
            ),
            part(
                "numeric",
                f"What is the smallest total squared reconstruction error of a linear "
                f"autoencoder (with biases) whose code has k = {k} dimension(s)?",
                error,
                "The sum of the D - k smallest eigenvalues: what the best k-dim subspace misses.",
                drawn={"k": k},
            ),
            part(
                "numeric",
                f"What fraction of the total variance does that k = {k} code keep?",
                sum(eigen[:k]) / sum(eigen),
                "Kept eigenvalues over their total.",
                drawn={"k": k},
            ),
            choice_part(
                rng,
                "What does a trained linear autoencoder's code span?",
                "the principal subspace of the top-k eigenvectors (not necessarily the "
                "eigenvectors themselves)",
                {
                    "exactly the top-k eigenvectors, in order": "any invertible mix of them "
                    "reconstructs equally well",
                    "a random k-dim subspace": "a random subspace reconstructs worse than the "
                    "principal one",
                    "the bottom-k eigenvectors": "those carry the least variance: the "
                    "largest error",
                },
                "Baldi and Hornik: the optimum spans the PCA subspace.",
            ),
        ],
        formulas=("linear-autoencoder-pca",),
        drawn={"X": points},
    )


@template(
    "gen-bernoulli-mle-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("mle-kl",),
    difficulty=2,
    tags=("likelihood", "mle", "multipart"),
)
def bernoulli_mle_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part, show

    n = rng.choice([10, 20, 40])
    ones = rng.randint(1, n - 1)
    while ones * 2 == n:
        ones = rng.randint(1, n - 1)
    theta = ones / n
    other = rng.choice([0.5, 0.25, 0.75])
    while abs(other - theta) < 0.05:
        other = 0.9
    data = [1 - theta, theta]
    nll = formulas.get("mle-kl").evaluate(p_data=data, p_model=data)
    nll_other = formulas.get("mle-kl").evaluate(p_data=data, p_model=[1 - other, other])
    return problem(
        question_id,
        TOPIC,
        f"A coin model p_theta(x = 1) = theta is fitted by maximum likelihood to n = {n} "
        f"tosses with {ones} heads (x = 1). Natural logarithms.",
        [
            part(
                "numeric",
                "What is the maximum-likelihood theta?",
                theta,
                "d/dtheta [k log theta + (n - k) log(1 - theta)] = 0 gives k/n.",
            ),
            part(
                "numeric",
                "What is the average negative log-likelihood per toss at that theta?",
                nll,
                "The entropy of the empirical distribution.",
            ),
            part(
                "numeric",
                f"How much larger is it for theta = {show(other)}?",
                nll_other - nll,
                "The difference is KL(p_data || p_theta) >= 0.",
                drawn={"theta": other},
            ),
            choice_part(
                rng,
                "Why can no theta beat the maximum-likelihood one on the training tosses?",
                "the average NLL is H(p_data) + KL(p_data || p_theta), and the KL is 0 only at "
                "p_theta = p_data",
                {
                    "because theta = k/n is unbiased": "unbiasedness is about repeated "
                    "samples, not about this likelihood",
                    "because the NLL is linear in theta": "it is convex, not linear",
                    "because larger theta always fits better": "the NLL grows again past k/n",
                },
                "Gibbs' inequality: the cross-entropy is smallest at the data distribution.",
            ),
        ],
        formulas=("mle-kl",),
        carried={1: f"(a) theta = {number(theta)}", 2: f"(b) {number(nll)}"},
        drawn={"n": n, "heads": ones},
    )


@template(
    "gen-forward-kl-fit-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("mle-kl",),
    difficulty=3,
    tags=("mle", "kl", "mode-covering", "multipart"),
)
def forward_kl_fit_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    weight = rng.choice([0.25, 0.4, 0.6, 0.75])
    m1, m2 = rng.choice([-3, -2]), rng.choice([2, 3, 4])
    s = rng.choice([0.5, 1.0])
    mean = weight * m1 + (1 - weight) * m2
    second = weight * (s * s + m1 * m1) + (1 - weight) * (s * s + m2 * m2)
    var = second - mean * mean

    def normal(x, mu, v):
        return math.exp(-((x - mu) ** 2) / (2 * v)) / math.sqrt(2 * math.pi * v)

    data_at_mean = weight * normal(mean, m1, s * s) + (1 - weight) * normal(mean, m2, s * s)
    ratio = normal(mean, mean, var) / data_at_mean
    symbols = {"pi": "positive", "m_1": "real", "m_2": "real"}
    return problem(
        question_id,
        TOPIC,
        f"Data come from the mixture p_data = pi N(m_1, s^2) + (1 - pi) N(m_2, s^2) with pi = "
        f"{show(weight)}, m_1 = {m1}, m_2 = {m2} and s = {show(s)}. A single Gaussian p_model "
        "= N(mu, sigma^2) is fitted by maximum likelihood on infinitely many samples, i.e. by "
        "minimising KL(p_data || p_model).",
        [
            part(
                "symbolic",
                "Setting d/dmu E_{p_data}[log N(x; mu, sigma^2)] = 0 gives the fitted mean mu*. "
                "Write it using pi, m_1 and m_2.",
                "pi*m_1 + (1 - pi)*m_2",
                "d/dmu E[-(x - mu)^2/(2 sigma^2)] = E[x - mu]/sigma^2 = 0: mu* = E_{p_data}[x].",
                symbols=symbols,
                constraints=("0 < pi < 1",),
            ),
            part(
                "numeric",
                "What is the fitted variance sigma*^2?",
                var,
                "sigma*^2 = E_{p_data}[(x - mu*)^2] = pi (s^2 + m_1^2) + (1 - pi)(s^2 + m_2^2) "
                "- mu*^2: the mixture's own variance.",
            ),
            part(
                "numeric",
                "What is the ratio p_model(mu*) / p_data(mu*) at the fitted mean?",
                ratio,
                "The fit puts its peak between the modes, where the data have little mass.",
            ),
            choice_part(
                rng,
                "Fitting the same Gaussian by minimising the reverse KL(p_model || p_data) "
                "instead: which is right, and why?",
                "it tends to lock onto one mode: KL(p_model || p_data) is large wherever "
                "p_model has mass and p_data has little, so it avoids the gap; the forward KL "
                "(maximum likelihood) is large wherever p_data has mass and p_model has little, "
                "so it covers both modes",
                {
                    "it gives the same fit, since KL is symmetric": "KL(p || q) != KL(q || p) in "
                    "general; here the two fits differ",
                    "it spreads even wider than the maximum-likelihood fit": "the reverse KL "
                    "punishes mass where p_data has none: it narrows onto a mode",
                    "it cannot be minimised for a Gaussian model": "it can (for example by "
                    "reparametrised samples); it just has several local optima here",
                },
                "Forward KL: mass-covering (moment matching for a Gaussian); reverse KL: "
                "mode-seeking. See `cheatsheet derive mle-kl`.",
            ),
        ],
        formulas=("mle-kl",),
        carried={
            1: f"(a) mu* = pi m_1 + (1 - pi) m_2 = {number(mean)}",
            2: f"(a) mu* = {number(mean)}; (b) sigma*^2 = {number(var)}",
        },
        drawn={"pi": weight, "m_1": m1, "m_2": m2, "s": s},
    )


@template(
    "gen-autoencoder-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("autoencoder-objective",),
    difficulty=2,
    tags=("autoencoder", "multipart"),
)
def autoencoder_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, matrix, part

    def draw(low, high):
        return [
            rng.choice([v / 2 for v in range(int(2 * low), int(2 * high) + 1) if v])
            for _ in range(2)
        ]

    e, d = np.array(draw(-1, 1)), np.array(draw(-1.5, 1.5))
    X = np.array([draw(-2, 2) for _ in range(3)])
    codes = X @ e
    recon = codes[:, None] * d[None, :]
    loss = float(((X - recon) ** 2).sum(axis=1).mean())
    n, j = rng.randint(1, 3), rng.randint(1, 2)
    grad = float((2 * (recon[:, j - 1] - X[:, j - 1]) * codes).mean())
    symbols = {"d_j": "real", "z": "real", "x_j": "real"}
    return problem(
        question_id,
        TOPIC,
        "An undercomplete autoencoder R^2 -> R -> R^2: encoder f(x) = e^T x with e = "
        f"{vector(e)}, decoder g(z) = d z with d = {vector(d)}, trained on L = (1/N) sum_n "
        f"||x_n - g(f(x_n))||^2 over the N = 3 points X = {matrix(X)} (one point per row; "
        "points and components counting from 1).",
        [
            part(
                "numeric",
                f"What is component {j} of the reconstruction g(f(x_{n})) of point {n}?",
                recon[n - 1, j - 1],
                "Encode z = e^T x, then decode d z.",
                drawn={"component": j, "point": n},
            ),
            part(
                "numeric",
                "What is the objective L over the three points?",
                loss,
                "The mean over the points of the squared reconstruction error.",
            ),
            part(
                "symbolic",
                "For one point with code z = f(x), write the derivative of ||x - d z||^2 with "
                "respect to d_j, using d_j, z and x_j.",
                "2*z*(d_j*z - x_j)",
                "Only component j of the error depends on d_j: d/dd_j (x_j - d_j z)^2.",
                symbols=symbols,
            ),
            part(
                "numeric",
                f"What is dL/dd_{j} over the three points (e held fixed)?",
                grad,
                "The mean over the points of (c).",
                drawn={"component": j},
            ),
            choice_part(
                rng,
                "After training, why can this autoencoder not generate new data by decoding "
                "random codes?",
                "nothing shapes its code space: no prior density on z says where codes lie, "
                "so a random z may decode to nothing like the data and the space is not made "
                "continuous or interpolable (a VAE adds a prior and a KL term)",
                {
                    "its decoder is not differentiable": "g(z) = d z is linear and "
                    "differentiable; differentiability is not what sampling needs",
                    "an undercomplete code keeps no information about x": "the code keeps the "
                    "information that minimises L; the problem is the missing density on z",
                    "it can: decoding z ~ N(0, 1) samples p_data exactly": "nothing trains the "
                    "codes to follow N(0, 1), so the decoded samples follow no known law",
                },
                "An autoencoder learns g o f ~ id; only reconstruction is trained, not a "
                "distribution over codes.",
            ),
        ],
        formulas=("autoencoder-objective",),
        carried={3: f"(c) d/dd_j ||x - d z||^2 = 2 z (d_j z - x_j); (b) L = {number(loss)}"},
        drawn={"e": e.tolist(), "d": d.tolist(), "X": X.tolist()},
    )


guard_module(__name__)
