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
            ),
            part(
                "numeric",
                f"What fraction of the total variance does that k = {k} code keep?",
                sum(eigen[:k]) / sum(eigen),
                "Kept eigenvalues over their total.",
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
    )


guard_module(__name__)
