"""Generated questions on GANs (sheet section 5 and the proofs of 13): the optimal
discriminator, the Jensen-Shannon divergence, the value of the game at D* (the sheet prints
-log 4 alone; the right value is -log 4 + 2 JSD), saturating vs non-saturating generator
gradients, FID of two Gaussians, and the order of the D* / V(G, D*) derivations.

Every answer comes from the formula registry (gan-*, jsd, kl-divergence, fid).
"""

from __future__ import annotations

import random

from quizzes.questions import Question, template
from quizzes.templates._kit import (
    derivation_order_question,
    grid,
    guard_module,
    mistake,
    number,
    show,
    symbolic_question,
    vector,
)

TOPIC = "gan"


def _distribution(rng: random.Random, size: int = 3) -> list[float]:
    """A probability vector on `size` outcomes in steps of 0.05, every entry positive."""
    cuts = sorted(rng.sample(range(1, 20), size - 1))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, 20])]
    return [round(part * 0.05, 2) for part in parts]


@template(
    "gan-optimal-discriminator-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("gan-optimal-discriminator",),
    difficulty=1,
    tags=("discriminator",),
)
def optimal_discriminator(rng: random.Random, question_id: str) -> Question:
    import formulas

    p_data, p_model = grid(rng, 0.1, 2.0, 0.1), grid(rng, 0.1, 2.0, 0.1)
    d_star = formulas.get("gan-optimal-discriminator")
    value = d_star.evaluate(p_data=p_data, p_model=p_model)
    swapped = d_star.evaluate(p_data=p_model, p_model=p_data)
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"At a point x the data density is p_d(x) = {show(p_data)} and the generator's "
            f"density is p_m(x) = {show(p_model)}. For this fixed generator, what does the "
            "optimal discriminator output, D*(x)? (3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "D*(x) = p_d(x) / (p_d(x) + p_m(x)): maximise a log y + b log(1 - y) pointwise. "
            "See `cheatsheet derive gan-optimal-discriminator`."
        ),
        abs_tol=2e-3,
        rel_tol=5e-3,
        drawn={"p_d(x)": p_data, "p_m(x)": p_model},
        mistakes=mistake(
            swapped, value, "that is 1 - D*: D is the probability that x is real, p_d on top."
        ),
    )


@template(
    "gan-jsd-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("jsd",),
    difficulty=2,
    tags=("divergence",),
)
def jsd_value(rng: random.Random, question_id: str) -> Question:
    import formulas

    p, q = _distribution(rng), _distribution(rng)
    while p == q:
        q = _distribution(rng)
    value = formulas.get("jsd").evaluate(p=p, q=q)
    kl = formulas.get("kl-divergence").evaluate(p=p, q=q)
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"Two distributions on three outcomes: P = {vector(p)} and Q = {vector(q)}. What is "
            "the Jensen-Shannon divergence D_JS(P, Q) in nats (natural log)? "
            "(3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "D_JS(P, Q) = 1/2 D_KL(P || M) + 1/2 D_KL(Q || M) with the mixture M = (P + Q)/2; "
            "it is symmetric and at most log 2. See `cheatsheet derive jsd`."
        ),
        abs_tol=5e-4,
        rel_tol=1e-2,
        drawn={"P": p, "Q": q},
        mistakes=mistake(kl, value, "that is D_KL(P || Q); the JSD compares each with M."),
    )


@template(
    "gan-value-at-optimum-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("gan-value-at-optimum", "jsd"),
    difficulty=2,
    tags=("value", "errata"),
)
def value_at_optimum(rng: random.Random, question_id: str) -> Question:
    import formulas

    p_data, p_model = _distribution(rng), _distribution(rng)
    while p_data == p_model:
        p_model = _distribution(rng)
    at_optimum = formulas.get("gan-value-at-optimum")
    value = at_optimum.evaluate(p_data=p_data, p_model=p_model)
    sheet = at_optimum.evaluate(p_data=p_data, p_model=p_data)  # -log 4, the sheet's value
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"A GAN on three outcomes has p_d = {vector(p_data)} and generator distribution "
            f"p_m = {vector(p_model)}. The discriminator is optimal for this generator. What is "
            "the value of the game V(G, D*) = E_{p_d}[log D*(x)] + E_{p_m}[log(1 - D*(x))] "
            "(natural log)? (3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "V(G, D*) = -log 4 + 2 D_JS(p_d || p_m); it reaches -log 4 only when p_m = p_d "
            "(the sheet prints -log 4 alone). See `cheatsheet derive gan-value-at-optimum`."
        ),
        abs_tol=2e-3,
        rel_tol=5e-3,
        drawn={"p_d": p_data, "p_m": p_model},
        mistakes=mistake(
            sheet,
            value,
            "-log 4 is the value only at p_m = p_d; in general V(G, D*) = -log 4 + 2 JSD.",
        ),
    )


@template(
    "gan-generator-gradient-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("gan-saturating-gradient", "gan-non-saturating-gradient"),
    difficulty=2,
    tags=("training", "gradient"),
)
def generator_gradient(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas

    d_fake = rng.choice([0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7])
    logit = math.log(d_fake / (1 - d_fake))
    saturating = rng.random() < 0.5
    chosen, other = (
        ("gan-saturating-gradient", "gan-non-saturating-gradient")
        if saturating
        else ("gan-non-saturating-gradient", "gan-saturating-gradient")
    )
    value = formulas.get(chosen).evaluate(logit=logit)
    other_value = formulas.get(other).evaluate(logit=logit)
    term = "log(1 - D(G(z)))" if saturating else "log D(G(z))"
    role = (
        "the minimax (saturating) generator term, which G minimises"
        if saturating
        else "the non-saturating generator objective, which G maximises"
    )
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            "The discriminator outputs D(G(z)) = sigmoid(ell) for a fake sample, with "
            f"D(G(z)) = {show(d_fake)}. What is the derivative d/d ell of {term}, {role}? "
            "(3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "d/d ell log(1 - sigmoid(ell)) = -sigmoid(ell) = -D(G(z)) (vanishes when D rejects "
            "fakes confidently); d/d ell log sigmoid(ell) = 1 - sigmoid(ell) (close to 1 early in "
            f"training). See `cheatsheet derive {chosen}`."
        ),
        abs_tol=1e-3,
        rel_tol=1e-3,
        drawn={"D(G(z))": d_fake, "term": term},
        mistakes=mistake(
            other_value, value, f"that is the gradient of the other generator loss ({other})."
        ),
    )


@template(
    "gan-fid-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("fid",),
    difficulty=2,
    tags=("evaluation",),
)
def fid_value(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas

    dims = rng.randint(1, 2)
    mu1 = [grid(rng, -2, 2, 0.5) for _ in range(dims)]
    mu2 = [grid(rng, -2, 2, 0.5) for _ in range(dims)]
    var1 = [rng.choice([0.25, 1.0, 2.25, 4.0, 0.5, 2.0]) for _ in range(dims)]
    var2 = [rng.choice([0.25, 1.0, 2.25, 4.0, 0.5, 2.0]) for _ in range(dims)]
    value = formulas.get("fid").evaluate(
        mu1=np.array(mu1), sigma1=np.diag(var1), mu2=np.array(mu2), sigma2=np.diag(var2)
    )
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"The Inception features of real images are modelled as N(mu_1, Sigma_1) and those "
            f"of generated images as N(mu_2, Sigma_2), with mu_1 = {vector(mu1)}, "
            f"Sigma_1 = diag({vector(var1)}), mu_2 = {vector(mu2)}, "
            f"Sigma_2 = diag({vector(var2)}). What is the FID? (3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "FID = ||mu_1 - mu_2||^2 + Tr(Sigma_1 + Sigma_2 - 2 (Sigma_1 Sigma_2)^{1/2}); for "
            "diagonal covariances the trace is sum_i (sqrt(s1_i) - sqrt(s2_i))^2. "
            "See `cheatsheet derive fid`."
        ),
        abs_tol=5e-3,
        rel_tol=5e-3,
        # the covariances by their diagonals, as the prompt prints them (diag([..]))
        drawn={"mu_1": mu1, "Sigma_1": var1, "mu_2": mu2, "Sigma_2": var2},
    )


_SYMBOLIC = {
    "gan-optimal-discriminator": (
        "Write the optimal discriminator D*(x) for a fixed generator in terms of the densities "
        "p_d = p_d(x) and p_m = p_m(x).",
        {"p_d": "positive", "p_m": "positive"},
        # the registry writes the densities as p_d(x), p_m(x) (or as plain symbols)
        {"p_d": "p_d", "p_m": "p_m", "p_d(x)": "p_d", "p_m(x)": "p_m"},
    ),
    "gan-saturating-gradient": (
        "The discriminator's output on a fake is D(G(z)) = sigmoid(ell). Write d/d ell of "
        "log(1 - D(G(z))) (the minimax generator term) in terms of ell.",
        {"ell": "real"},
        {"ell": "ell"},
    ),
    "gan-non-saturating-gradient": (
        "The discriminator's output on a fake is D(G(z)) = sigmoid(ell). Write d/d ell of "
        "log D(G(z)) (the non-saturating generator objective) in terms of ell.",
        {"ell": "real"},
        {"ell": "ell"},
    ),
    "gan-value-at-optimum": (
        "Write the value of the GAN game at the optimal discriminator, V(G, D*), in terms of "
        "JSD = D_JS(p_d || p_m) (natural log).",
        {"JSD": "nonnegative"},
        {"D_JS(p_d, p_m)": "JSD"},
    ),
}


@template(
    "gan-closed-form-draw",
    topic=TOPIC,
    kind="symbolic",
    formulas=tuple(_SYMBOLIC),
    difficulty=2,
    tags=("closed-form",),
)
def closed_form(rng: random.Random, question_id: str) -> Question:
    import sympy as sp

    import formulas
    from quizzes.parser import ASSUMPTIONS

    formula_id = rng.choice(sorted(_SYMBOLIC))
    prompt, symbols, names = _SYMBOLIC[formula_id]
    rhs = formulas.get(formula_id).statement.rhs
    mapping = {}
    for atom in rhs.atoms(sp.Symbol, sp.Function, sp.core.function.AppliedUndef):
        new = names.get(str(atom))
        if new is not None:
            mapping[atom] = sp.Symbol(new, **ASSUMPTIONS[symbols[new]])
    rhs = rhs.xreplace(mapping)
    unknown = {s.name for s in rhs.free_symbols} - set(symbols)
    if unknown:
        raise ValueError(f"{formula_id}: statement has symbols {unknown} the question lacks")
    return symbolic_question(question_id, TOPIC, prompt, rhs, symbols, formula_id)


_ORDERINGS = {
    "gan-value-at-optimum": (
        (5, 6, 7, 8),  # the chain steps (0-4 state the premises)
        "Put the derivation of V(G, D*) = -log 4 + 2 D_JS(p_d || p_m) in order.",
    ),
    "gan-optimal-discriminator": (
        (0, 1, 2, 3, 7),
        "Put the derivation of the optimal discriminator D* in order.",
    ),
}


@template(
    "gan-derivation-order-draw",
    topic=TOPIC,
    kind="ordering",
    formulas=tuple(_ORDERINGS),
    difficulty=2,
    tags=("derivation",),
)
def derivation_order(rng: random.Random, question_id: str) -> Question:
    return derivation_order_question(rng, question_id, TOPIC, _ORDERINGS)


def _distribution(rng: random.Random, size: int = 3) -> list[float]:
    """A distribution over `size` outcomes on a 0.1 grid, every outcome possible."""
    while True:
        cuts = sorted(rng.sample(range(1, 10), size - 1))
        probabilities = [b - a for a, b in zip([0, *cuts], [*cuts, 10])]
        if all(probabilities):
            return [p / 10 for p in probabilities]


@template(
    "gan-optimum-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("gan-optimal-discriminator", "gan-value-at-optimum"),
    difficulty=3,
    tags=("optimal-discriminator", "jsd", "multipart"),
)
def optimum_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    p_data = _distribution(rng)
    p_model = _distribution(rng)
    while p_model == p_data:
        p_model = _distribution(rng)
    k = rng.randrange(3)
    optimal = formulas.get("gan-optimal-discriminator").evaluate(p_data=p_data, p_model=p_model)
    value = formulas.get("gan-value-at-optimum").evaluate(p_data=p_data, p_model=p_model)
    return problem(
        question_id,
        TOPIC,
        f"A GAN on three outcomes x_1, x_2, x_3: the data distribution is p_d = {vector(p_data)} "
        f"and the generator's is p_g = {vector(p_model)}. V(G, D) = E_{{p_d}} log D(x) + "
        "E_{p_g} log(1 - D(x)), natural logarithms.",
        [
            part(
                "symbolic",
                "For a fixed generator, write the optimal discriminator D*(x) using p_d and p_g "
                "(the two probabilities of x).",
                "p_d/(p_d + p_g)",
                "Maximise p_d log D + p_g log(1 - D) pointwise: p_d/D = p_g/(1 - D).",
                symbols={"p_d": "positive", "p_g": "positive"},
            ),
            part(
                "numeric",
                f"What is D*(x_{k + 1})?",
                optimal[k],
                "Insert the two probabilities of that outcome.",
                drawn={"outcome": k + 1},
            ),
            part(
                "numeric",
                "What is V(G, D*) for this generator?",
                value,
                "V(G, D*) = sum_x p_d log D*(x) + p_g log(1 - D*(x)) = -log 4 + 2 JSD(p_d || p_g).",
            ),
            choice_part(
                rng,
                "Over all generators, which statement about min_G V(G, D*) is right, and why?",
                "it is -log 4, reached at p_g = p_d, because V(G, D*) = -log 4 + 2 JSD and "
                "JSD >= 0",
                {
                    "it is 0, reached at p_g = p_d, because D* = 1/2 gives log 1 = 0": "D* = 1/2 "
                    "gives log(1/2) + log(1/2) = -log 4, not 0",
                    "it is -log 4 for every generator, because D* adapts": "the JSD term is "
                    "positive whenever p_g != p_d",
                    "it is reached when D* = 1 everywhere, because D is maximised first": "D* = "
                    "p_d/(p_d + p_g) equals 1 only where p_g = 0",
                },
                "At p_g = p_d, D* = 1/2 and V = 2 log(1/2) = -log 4; elsewhere 2 JSD > 0 adds.",
            ),
        ],
        formulas=("gan-optimal-discriminator", "gan-value-at-optimum"),
        drawn={"p_d": p_data, "p_g": p_model},
        carried={
            1: "(a) D*(x) = p_d/(p_d + p_g)",
            2: "(a) D*(x) = p_d/(p_d + p_g)",
            3: f"(c) V(G, D*) = {number(value)} for this generator",
        },
    )


@template(
    "gan-generator-loss-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("gan-saturating-gradient", "gan-non-saturating-gradient"),
    difficulty=3,
    tags=("non-saturating", "multipart"),
)
def generator_loss_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    logit = rng.choice([-4.0, -3.0, -2.5, -2.0])
    saturating = formulas.get("gan-saturating-gradient").evaluate(logit=logit)
    non_saturating = formulas.get("gan-non-saturating-gradient").evaluate(logit=logit)
    d = 1 / (1 + math.exp(-logit))
    return problem(
        question_id,
        TOPIC,
        f"Early in training the discriminator rejects a fake confidently: its logit is "
        f"ell = {show(logit)}, so D(G(z)) = sigmoid(ell).",
        [
            part("numeric", "What is D(G(z))?", d, "sigmoid(ell) = 1/(1 + exp(-ell))."),
            part(
                "numeric",
                "What is d/d ell of log(1 - D(G(z))), the term the minimax generator minimises?",
                saturating,
                "d/d ell log(1 - sigmoid(ell)) = -sigmoid(ell) = -D.",
            ),
            part(
                "numeric",
                "What is d/d ell of log D(G(z)), the term the non-saturating generator maximises?",
                non_saturating,
                "d/d ell log sigmoid(ell) = 1 - sigmoid(ell) = 1 - D.",
            ),
            choice_part(
                rng,
                "Which generator objective learns faster here, and why?",
                "the non-saturating one: its gradient 1 - D stays near 1 while D(G(z)) is near 0",
                {
                    "the minimax one: it is the game's true objective": "its gradient -D is "
                    "near 0 exactly when the fakes are bad",
                    "both equally: they have the same fixed point": "same fixed point, but "
                    "very different gradients early on",
                    "the minimax one: its gradient is negative, so it descends": "the sign "
                    "follows from min vs max; the size -D is what vanishes",
                },
                "Goodfellow et al.: maximise log D(G(z)) for strong early gradients.",
            ),
        ],
        formulas=("gan-saturating-gradient", "gan-non-saturating-gradient"),
        drawn={"ell": logit},
    )


@template(
    "gan-fid-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("fid",),
    difficulty=2,
    tags=("fid", "evaluation", "multipart"),
)
def fid_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, grid, number, part, show, vector

    mu1 = [grid(rng, -1, 1, 0.5) for _ in range(2)]
    mu2 = [grid(rng, -1, 1, 0.5) for _ in range(2)]
    var1 = [rng.choice([1.0, 4.0, 0.25]) for _ in range(2)]
    var2 = [rng.choice([1.0, 9.0, 0.25, 4.0]) for _ in range(2)]
    while mu1 == mu2 and var1 == var2:
        var2 = [9.0, 1.0]
    mean_term = float(sum((a - b) ** 2 for a, b in zip(mu1, mu2)))
    fid = formulas.get("fid").evaluate(
        mu1=mu1, sigma1=np.diag(var1).tolist(), mu2=mu2, sigma2=np.diag(var2).tolist()
    )
    return problem(
        question_id,
        TOPIC,
        f"The Inception features of real images are modelled as N(mu_r, Sigma_r) with mu_r = "
        f"{vector(mu1)} and Sigma_r = diag({', '.join(show(v) for v in var1)}), those of "
        f"generated images as N(mu_g, Sigma_g) with mu_g = {vector(mu2)} and Sigma_g = "
        f"diag({', '.join(show(v) for v in var2)}).",
        [
            part(
                "numeric",
                "What is the mean term ||mu_r - mu_g||^2?",
                mean_term,
                "Squared Euclidean distance of the means.",
            ),
            part(
                "numeric",
                "What is the FID?",
                fid,
                "||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2)); for diagonal "
                "covariances the trace term is sum (sqrt(s_r) - sqrt(s_g))^2.",
            ),
            choice_part(
                rng,
                "A generator that copies one training image perfectly every time: what does "
                "FID say?",
                "a large FID: the generated features have (almost) no spread, so the "
                "covariance term is large",
                {
                    "FID = 0, since each image is perfect": "FID compares distributions, not "
                    "single images",
                    "FID is undefined for identical images": "it is defined; the covariance "
                    "of the fakes is just near 0",
                    "FID equals the mean term only": "the covariance term is what grows here",
                },
                "FID sees mode collapse through the covariance.",
            ),
        ],
        formulas=("fid",),
        carried={1: f"(a) the mean term is {number(mean_term)}"},
        # the covariances by their diagonals, as the prompt prints them (diag(..))
        drawn={"mu_r": mu1, "Sigma_r": var1, "mu_g": mu2, "Sigma_g": var2},
    )


@template(
    "gan-wgan-gp-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("wgan-gp",),
    difficulty=3,
    tags=("wgan", "gradient-penalty", "multipart"),
)
def wgan_gp_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    w = np.array([grid(rng, -2, 2, 0.5) for _ in range(2)])
    k = rng.choice([-1.0, -0.5, 0.5, 1.0])
    real = np.array([grid(rng, -2, 2, 0.5) for _ in range(2)])
    fake = np.array([grid(rng, -2, 2, 0.5) for _ in range(2)])
    while np.array_equal(real, fake):
        fake = np.array([grid(rng, -2, 2, 0.5) for _ in range(2)])
    eps = rng.choice([0.25, 0.5, 0.75])
    lam = rng.choice([1.0, 5.0, 10.0])

    def critic(x):
        return float(w @ x + k / 2 * x @ x)

    tilde = eps * real + (1 - eps) * fake
    norm = float(np.linalg.norm(w + k * tilde))  # grad D(x) = w + k x
    penalty = lam * (norm - 1) ** 2
    loss = critic(fake) - critic(real) + penalty
    symbols = dict.fromkeys(("w_1", "w_2", "k", "x_1", "x_2"), "real")
    return problem(
        question_id,
        TOPIC,
        "A WGAN-GP critic on R^2: D(x) = w^T x + (k/2) ||x||^2 with w = "
        f"{vector(w)} and k = {show(k)}. One real sample x = {vector(real)}, one generated "
        f"sample x_hat = {vector(fake)}, the interpolate x_tilde = eps x + (1 - eps) x_hat with "
        f"eps = {show(eps)}, and lambda = {show(lam)}. The critic minimises L_D = D(x_hat) - "
        "D(x) + lambda (||grad_x D(x_tilde)||_2 - 1)^2 (one sample of each).",
        [
            part(
                "symbolic",
                "Write ||grad_x D(x)||_2 at x = (x_1, x_2) using w_1, w_2, k, x_1 and x_2.",
                "sqrt((w_1 + k*x_1)^2 + (w_2 + k*x_2)^2)",
                "grad D(x) = w + k x; take its Euclidean norm.",
                symbols=symbols,
            ),
            part(
                "numeric",
                "What is the gradient penalty lambda (||grad D(x_tilde)|| - 1)^2?",
                penalty,
                "Evaluate (a) at x_tilde, subtract 1, square, times lambda.",
            ),
            part(
                "numeric",
                "What is the critic's loss L_D?",
                loss,
                "D(x_hat) - D(x) plus the penalty of (b).",
            ),
            choice_part(
                rng,
                "Why does WGAN-GP penalise (||grad D|| - 1)^2 at interpolates between real and "
                "generated samples?",
                "the Wasserstein dual needs a 1-Lipschitz critic, and an optimal one has "
                "gradient norm 1 on the lines between real and generated samples: the penalty "
                "enforces this softly where it matters",
                {
                    "to keep D's output in [0, 1] like a probability": "a WGAN critic outputs "
                    "any real score; there is no sigmoid",
                    "to make the generator's gradient vanish near the data": "the point is to "
                    "keep useful, non-vanishing gradients for the generator",
                    "it is the same as clipping the weights to [-c, c]": "clipping constrains "
                    "the weights crudely and wastes capacity; the penalty constrains the "
                    "gradient norm itself",
                },
                "W(p_d, p_g) = sup over 1-Lipschitz D of E_{p_d} D - E_{p_g} D; a "
                "differentiable D is 1-Lipschitz iff ||grad D|| <= 1.",
            ),
        ],
        formulas=("wgan-gp",),
        drawn={
            "w": w.tolist(),
            "k": k,
            "x": real.tolist(),
            "x_hat": fake.tolist(),
            "eps": eps,
            "lambda": lam,
        },
        carried={
            1: "(a) ||grad D(x)|| = sqrt((w_1 + k x_1)^2 + (w_2 + k x_2)^2)",
            2: f"(b) {number(penalty)}",
        },
    )


@template(
    "gan-adain-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("stylegan-adain",),
    difficulty=2,
    tags=("stylegan", "adain", "multipart"),
)
def adain_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, matrix, part

    x = np.array([[rng.randint(-3, 4) for _ in range(2)] for _ in range(2)], float)
    while x.std() == 0:
        x = np.array([[rng.randint(-3, 4) for _ in range(2)] for _ in range(2)], float)
    scale = rng.choice([0.5, 1.5, 2.0, 3.0])
    bias = grid(rng, -1, 1, 0.5)
    gain, shift = rng.choice([2, 3, 0.5]), rng.choice([-2, 1, 4])
    r, c = rng.randint(1, 2), rng.randint(1, 2)
    adain = formulas.get("stylegan-adain")
    out = np.asarray(adain.evaluate(x=x[None], scale=[scale], bias=[bias], eps=0.0))[0]
    moved = np.asarray(
        adain.evaluate(x=(gain * x + shift)[None], scale=[scale], bias=[bias], eps=0.0)
    )[0]
    return problem(
        question_id,
        TOPIC,
        "StyleGAN's AdaIN on one channel: the 2 x 2 feature map x_i = "
        f"{matrix(x)} (rows top to bottom, rows and columns counting from 1); the style w gives "
        f"the scale y_s = {show(scale)} and the bias y_b = {show(bias)}. AdaIN(x_i, y) = y_s "
        "(x_i - mu(x_i))/sigma(x_i) + y_b, with mu and sigma the mean and the population "
        "standard deviation (divide by 4) over the channel's entries, and no epsilon.",
        [
            part(
                "numeric",
                "What is sigma(x_i)?",
                x.std(),
                "sqrt of the mean squared deviation from mu over the 4 entries.",
            ),
            part(
                "numeric",
                f"What is the AdaIN output in row {r}, column {c}?",
                out[r - 1, c - 1],
                "Normalise with the channel's own mu and sigma, then scale by y_s and shift "
                "by y_b.",
                drawn={"row": r, "column": c},
            ),
            part(
                "numeric",
                f"The same channel arrives as x'_i = {show(gain)} x_i {'+' if shift > 0 else '-'} "
                f"{show(abs(shift))}. What "
                f"is the AdaIN output in row {r}, column {c} now?",
                moved[r - 1, c - 1],
                "The normalisation removes the input's own mean and scale: the output is "
                "unchanged.",
                # x'_i = gain x_i + sign |shift|, as printed
                drawn={
                    "row": r,
                    "column": c,
                    "gain": gain,
                    "sign": "+" if shift > 0 else "-",
                    "|shift|": abs(shift),
                },
            ),
            choice_part(
                rng,
                "Which is right about how AdaIN injects a style, and why?",
                "per channel and per image, it replaces the content's own mean and standard "
                "deviation by (y_b, y_s) from the style: the channel statistics carry the "
                "style",
                {
                    "it normalises over the batch, like batch normalisation": "mu and sigma "
                    "are taken per image and per channel (instance normalisation)",
                    "it adds the style vector w to every pixel": "w enters only through the "
                    "per-channel scale and bias y_s, y_b",
                    "y_s and y_b are learned constants shared by all images": "they are "
                    "computed from each image's style w by a learned affine map",
                },
                "Instance normalisation, then a style-dependent affine map per channel; (c) "
                "shows the input's own mean and scale are removed.",
            ),
        ],
        formulas=("stylegan-adain",),
        drawn={"x_i": x.tolist(), "y_s": scale, "y_b": bias},
        carried={1: f"(a) sigma = {number(x.std())}, mu = {number(x.mean())}"},
    )


guard_module(__name__)
