"""Generated questions on variational autoencoders (sheet section 2 and the proofs of 13):
the reparametrisation from a log-variance, the KL between two Gaussians (and which way round),
a one-sample ELBO / beta-VAE objective, the closed forms of the Gaussian terms, and the order
of the ELBO and KL derivations.

Every answer comes from the formula registry (reparametrisation, kl-gauss, gauss-cross-entropy,
gauss-negative-entropy, beta-vae-objective, vae-*-log-likelihood). The sheet's sign error in
int q log q (+J/2 log 2 pi) is taught where it matters: the right form has -J/2 log 2 pi.
"""

from __future__ import annotations

import random

from quizzes.questions import Question, template
from quizzes.templates._kit import (
    derivation_order_question,
    grid,
    guard_module,
    mistake,
    mutant_choice_question,
    number,
    plain,
    renamed,
    show,
    symbolic_question,
    vector,
)

TOPIC = "vae"


@template(
    "vae-reparam-logvar-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("reparametrisation",),
    difficulty=1,
    tags=("reparametrisation",),
)
def reparam_logvar(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas

    mu = grid(rng, -2, 2, 0.1)
    log_var = grid(rng, -2, 1.5, 0.1)
    eps = grid(rng, -2, 2, 0.1)
    reparam = formulas.get("reparametrisation")
    value = reparam.evaluate(mu=mu, sigma=math.exp(log_var / 2), eps=eps)
    as_sigma = reparam.evaluate(mu=mu, sigma=log_var, eps=eps)
    no_half = reparam.evaluate(mu=mu, sigma=math.exp(log_var), eps=eps)
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"A VAE encoder outputs mu = {show(mu)} and log sigma^2 = {show(log_var)} for a 1-D "
            f"latent. With the standard normal draw eps = {show(eps)}, what is the "
            "reparametrised sample z? (3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "z = mu + sigma * eps with sigma = exp(log sigma^2 / 2): the encoder predicts the "
            "log-variance, so take half of it before exponentiating. "
            "See `cheatsheet derive reparametrisation`."
        ),
        abs_tol=5e-3,
        rel_tol=5e-3,
        drawn={"mu": mu, "log sigma^2": log_var, "eps": eps},
        mistakes=mistake(
            as_sigma, value, "the network's output is log sigma^2, not sigma: sigma = exp(v/2)."
        )
        + mistake(no_half, value, "exp(log sigma^2) is the variance; sigma = exp(v/2)."),
    )


@template(
    "vae-kl-two-gaussians-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("gauss-cross-entropy", "gauss-negative-entropy", "kl-divergence"),
    difficulty=2,
    tags=("kl",),
)
def kl_two_gaussians(rng: random.Random, question_id: str) -> Question:
    import formulas

    mu_q, mu_p = grid(rng, -1.5, 1.5, 0.1), grid(rng, -1.5, 1.5, 0.1)
    sigma_q, sigma_p = grid(rng, 0.5, 2, 0.1), grid(rng, 0.5, 2, 0.1)
    negentropy = formulas.get("gauss-negative-entropy")
    cross = formulas.get("gauss-cross-entropy")

    def kl(mu_a, sigma_a, mu_b, sigma_b) -> float:
        # KL(a || b) = int a log a - int a log b
        return float(negentropy.evaluate(sigma=sigma_a)) - float(
            cross.evaluate(mu_p=mu_a, sigma_p=sigma_a, mu_q=mu_b, sigma_q=sigma_b)
        )

    value = kl(mu_q, sigma_q, mu_p, sigma_p)
    swapped = kl(mu_p, sigma_p, mu_q, sigma_q)
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"q = N({show(mu_q)}, {show(sigma_q)}^2) and p = N({show(mu_p)}, {show(sigma_p)}^2) "
            "are 1-D Gaussians (mean, standard deviation^2). What is D_KL(q || p) in nats? "
            "(3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "D_KL(q || p) = int q log q - int q log p = log(sigma_p / sigma_q) + (sigma_q^2 + "
            "(mu_q - mu_p)^2) / (2 sigma_p^2) - 1/2; int q log q = -1/2 log(2 pi sigma_q^2) - 1/2 "
            "(minus sign on the log 2 pi, unlike the sheet). See `cheatsheet derive "
            "gauss-cross-entropy` and `gauss-negative-entropy`."
        ),
        abs_tol=5e-3,
        rel_tol=5e-3,
        drawn={"mu_q": mu_q, "sigma_q": sigma_q, "mu_p": mu_p, "sigma_p": sigma_p},
        mistakes=mistake(
            swapped,
            value,
            "that is D_KL(p || q): KL is not symmetric, the first argument is "
            "the distribution the expectation is taken under.",
        ),
    )


@template(
    "vae-elbo-one-sample-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("beta-vae-objective", "kl-gauss", "vae-bernoulli-log-likelihood"),
    difficulty=3,
    tags=("elbo", "beta-vae"),
)
def elbo_one_sample(rng: random.Random, question_id: str) -> Question:
    import formulas

    dims = rng.randint(1, 2)
    mu = [grid(rng, -1.5, 1.5, 0.1) for _ in range(dims)]
    sigma = [grid(rng, 0.3, 1.5, 0.1) for _ in range(dims)]
    beta = rng.choice([1.0, 1.0, 0.5, 2.0, 4.0])
    pixels = rng.randint(2, 4)
    decoder = rng.choice(["bernoulli", "gaussian"])
    if decoder == "bernoulli":
        x = [rng.randint(0, 1) for _ in range(pixels)]
        probs = [grid(rng, 0.1, 0.9, 0.1) for _ in range(pixels)]
        log_lik = formulas.get("vae-bernoulli-log-likelihood").evaluate(x=x, p=probs)
        likelihood = (
            f"The decoder is Bernoulli: for the sampled z it outputs p = {vector(probs)} for the "
            f"binary image x = {vector(x)}."
        )
        recon_formula = "vae-bernoulli-log-likelihood"
        decoder_drawn = {"decoder": "Bernoulli", "p": probs, "x": x}
    else:
        x = [grid(rng, -1, 1, 0.1) for _ in range(pixels)]
        mean = [grid(rng, -1, 1, 0.1) for _ in range(pixels)]
        log_lik = formulas.get("vae-gaussian-log-likelihood").evaluate(x=x, mu=mean, sigma=1.0)
        likelihood = (
            "The decoder is Gaussian with unit variance: for the sampled z it outputs the mean "
            f"mu_x = {vector(mean)} for the data x = {vector(x)}."
        )
        recon_formula = "vae-gaussian-log-likelihood"
        decoder_drawn = {"decoder": "Gaussian", "mu_x": mean, "x": x}
    objective = formulas.get("beta-vae-objective")
    value = objective.evaluate(log_likelihood=log_lik, mu=mu, sigma=sigma, beta=beta)
    plus_kl = 2 * float(log_lik) - float(value)  # log p + beta KL: the KL sign flipped
    name = "ELBO (beta = 1)" if beta == 1.0 else f"beta-VAE objective with beta = {show(beta)}"
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"A VAE has prior p(z) = N(0, I) and encoder q(z|x) = N(mu, diag(sigma^2)) with "
            f"mu = {vector(mu)} and sigma = {vector(sigma)}. {likelihood} Using this one sample "
            f"for the reconstruction term and the closed-form KL, what is the {name}, "
            "F = E_q[log p(x|z)] - beta D_KL(q(z|x) || p(z)), in nats? (3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "F = log p(x|z) - beta * 1/2 sum_j (sigma_j^2 + mu_j^2 - 1 - log sigma_j^2); the "
            "reconstruction term is the log-likelihood (Bernoulli: sum x log p + (1-x) log(1-p); "
            "Gaussian: -1/2 log 2 pi - (x - mu)^2/2 per pixel). See `cheatsheet derive "
            f"beta-vae-objective` and `{recon_formula}`."
        ),
        abs_tol=1e-2,
        rel_tol=5e-3,
        drawn={"mu": mu, "sigma": sigma, "beta": beta, **decoder_drawn},
        mistakes=mistake(
            plus_kl, value, "the KL is subtracted: the ELBO is a lower bound on log p(x)."
        ),
    )


_SYMBOLIC = {
    "kl-gauss": (
        "Write D_KL(N(mu, sigma^2) || N(0, 1)) for one latent dimension in terms of mu and sigma.",
        {"mu": "real", "sigma": "positive"},
    ),
    "vae-gaussian-log-likelihood": (
        "Write the reconstruction log-likelihood log p(x|z) of a 1-D Gaussian decoder "
        "N(x; mu, sigma^2) in terms of x, mu and sigma.",
        {"x": "real", "mu": "real", "sigma": "positive"},
    ),
    "gauss-negative-entropy": (
        "Write int q(z) log q(z) dz (the negative entropy) for q = N(mu, sigma^2) in one "
        "dimension, in terms of sigma (pi is the constant).",
        {"sigma": "positive", "pi": "constant"},
    ),
    "gauss-cross-entropy": (
        "Write int p(z) log q(z) dz for the 1-D Gaussians p = N(mu_p, sigma_p^2) and "
        "q = N(mu_q, sigma_q^2), in terms of mu_p, sigma_p, mu_q, sigma_q (pi is the constant).",
        {
            "mu_p": "real",
            "sigma_p": "positive",
            "mu_q": "real",
            "sigma_q": "positive",
            "pi": "constant",
        },
    ),
    "reparametrisation": (
        "Write the reparametrised sample z of N(mu, sigma^2) using a standard normal draw eps, "
        "in terms of mu, sigma and eps.",
        {"mu": "real", "sigma": "positive", "eps": "real"},
    ),
}


@template(
    "vae-closed-form-draw",
    topic=TOPIC,
    kind="symbolic",
    formulas=tuple(_SYMBOLIC),
    difficulty=2,
    tags=("closed-form", "kl"),
)
def closed_form(rng: random.Random, question_id: str) -> Question:
    import formulas

    formula_id = rng.choice(sorted(_SYMBOLIC))
    prompt, symbols = _SYMBOLIC[formula_id]
    rhs = renamed(formulas.get(formula_id).statement.rhs, {"epsilon": "eps"}, symbols)
    return symbolic_question(question_id, TOPIC, prompt, rhs, symbols, formula_id)


_CHOICE = {
    "vae-gaussian-log-likelihood": ("log p(x|z)", "the Gaussian decoder's log-likelihood"),
    "gauss-cross-entropy": ("int p log q", "the expected log-density of q under p"),
    "gauss-negative-entropy": ("int q log q", "the negative entropy of N(mu, sigma^2)"),
    "kl-gauss": ("D_KL(N(mu, sigma^2) || N(0, 1))", "the KL term of the ELBO"),
}


@template(
    "vae-gaussian-terms-choice-draw",
    topic=TOPIC,
    kind="choice",
    formulas=tuple(_CHOICE),
    difficulty=2,
    tags=("mutants", "kl"),
)
def gaussian_terms_choice(rng: random.Random, question_id: str) -> Question:
    import formulas

    formula_id = rng.choice(sorted(_CHOICE))
    lhs, what = _CHOICE[formula_id]
    rhs = formulas.get(formula_id).statement.rhs
    return mutant_choice_question(
        rng,
        question_id,
        TOPIC,
        f"One-dimensional Gaussians, {what}: which form is right?",
        formula_id,
        lhs,
        rhs,
        plain,
        count=3,
        allowed_symbols=(),
    )


_ORDERINGS = {
    "elbo-decomposition": (
        (0, 1, 2, 3),
        "Put the derivation of the ELBO from log p(x) in order.",
    ),
    "kl-gauss": (
        (0, 1, 2, 3),
        "Put the derivation of the closed-form KL between N(mu, sigma^2) and N(0, 1) in order.",
    ),
    "reparametrisation-gradient": (
        (0, 1, 2),
        "Put the argument that the reparametrisation trick moves the gradient inside the "
        "expectation in order.",
    ),
}


@template(
    "vae-derivation-order-draw",
    topic=TOPIC,
    kind="ordering",
    formulas=tuple(_ORDERINGS),
    difficulty=2,
    tags=("derivation", "elbo"),
)
def derivation_order(rng: random.Random, question_id: str) -> Question:
    return derivation_order_question(rng, question_id, TOPIC, _ORDERINGS)


@template(
    "kl-gauss-value-draw",
    topic="vae",
    kind="numeric",
    formulas=("kl-gauss",),
    difficulty=2,
    tags=("kl", "elbo"),
)
def kl_gauss_value(rng: random.Random, question_id: str) -> Question:
    import formulas

    dims = rng.randint(1, 3)
    mu = [round(rng.uniform(-1.5, 1.5), 1) for _ in range(dims)]
    sigma = [round(rng.uniform(0.3, 2.0), 1) for _ in range(dims)]
    value = formulas.get("kl-gauss").evaluate(mu=mu, sigma=sigma)
    return Question(
        id=question_id,
        topic="vae",
        kind="numeric",
        prompt=(
            f"q(z|x) = N(mu, diag(sigma^2)) with mu = {vector(mu)} and sigma = {vector(sigma)}. "
            "What is D_KL(q(z|x) || N(0, I))? (3 significant digits are enough)"
        ),
        answer=number(value),
        explanation=(
            "D_KL = 1/2 sum_j (sigma_j^2 + mu_j^2 - 1 - log sigma_j^2), summed over the "
            f"{dims} latent dimension(s)."
            " See `cheatsheet derive kl-gauss`."
        ),
        formulas=("kl-gauss",),
        abs_tol=5e-3,
        rel_tol=5e-3,
        drawn={"mu": mu, "sigma": sigma},
    )


@template(
    "kl-gauss-choice-draw",
    topic="vae",
    kind="choice",
    formulas=("kl-gauss",),
    difficulty=2,
    tags=("kl", "mutants"),
)
def kl_gauss_choice(rng: random.Random, question_id: str) -> Question:
    """The right closed form among three mutants of it (a sign, a dropped 1/2, a square)."""
    import formulas
    from quizzes.mutations import distractors
    from quizzes.parser import to_text

    correct = formulas.get("kl-gauss").statement.rhs
    wrong = distractors(correct, rng, count=3)
    options = [correct, *[m.expr for m in wrong]]
    why = ["", *[f"That option has {m.description}." for m in wrong]]
    order = list(range(len(options)))
    rng.shuffle(order)
    choices = tuple(f"D_KL = {to_text(options[index])}" for index in order)
    answer = chr(ord("A") + order.index(0))
    return Question(
        id=question_id,
        topic="vae",
        kind="choice",
        prompt="Which is D_KL(N(mu, sigma^2) || N(0, 1)) for one latent dimension?",
        answer=answer,
        explanation="1/2 (sigma^2 + mu^2 - 1 - log sigma^2): the cross-entropy minus the entropy."
        + " See `cheatsheet derive kl-gauss`.",
        formulas=("kl-gauss",),
        choices=choices,
        option_reasons=tuple(why[index] for index in order),
    )


@template(
    "vae-kl-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("kl-gauss",),
    difficulty=3,
    tags=("kl", "multipart"),
)
def kl_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    mu = [rng.choice([-1.5, -1, -0.5, 0.5, 1, 1.5]) for _ in range(2)]
    sigma = [rng.choice([0.5, 0.8, 1.5, 2.0]) for _ in range(2)]
    total = formulas.get("kl-gauss").evaluate(mu=mu, sigma=sigma)
    closed = "(sigma^2 + mu^2 - 1 - 2*log(sigma))/2"
    return problem(
        question_id,
        TOPIC,
        f"A VAE encoder outputs q(z|x) = N(mu, diag(sigma^2)) with mu = {vector(mu)} and "
        f"sigma = {vector(sigma)} (standard deviations); the prior is p(z) = N(0, I).",
        [
            part(
                "symbolic",
                "Write KL(N(mu, sigma^2) || N(0, 1)) for one latent dimension, using mu and "
                "sigma (the standard deviation).",
                closed,
                "E_q[log q - log p] = -log sigma - 1/2 + (sigma^2 + mu^2)/2.",
                symbols={"mu": "real", "sigma": "positive"},
            ),
            part(
                "numeric",
                "Compute D_KL(q(z|x) || p(z)) for the encoder output above (both dimensions).",
                total,
                "The dimensions are independent: the KL is the sum of the per-dimension terms.",
            ),
            choice_part(
                rng,
                "Which statement about this KL term of the ELBO is right, and why?",
                "it is 0 exactly when mu = 0 and sigma = 1, since a KL vanishes only for equal "
                "distributions",
                {
                    "it is 0 whenever sigma = 1, since the mean does not enter the KL": "mu^2/2 "
                    "stays: the mean enters the KL",
                    "it can be negative when sigma > 1, since -log sigma < 0": "a KL is never "
                    "negative; sigma^2 - 1 - 2 log sigma >= 0 for every sigma > 0",
                    "it is maximised by the ELBO, since the ELBO rewards matching the prior": (
                        "the ELBO subtracts the KL; training minimises it"
                    ),
                },
                "KL >= 0 with equality iff q = p; per dimension sigma^2 - 1 - 2 log sigma >= 0 "
                "and mu^2 >= 0.",
            ),
        ],
        formulas=("kl-gauss",),
        carried={1: f"(a) KL = {closed} per dimension", 2: f"(b) D_KL = {number(total)}"},
        drawn={"mu": mu, "sigma": sigma},
    )


@template(
    "vae-reparametrisation-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("reparametrisation", "kl-gauss"),
    difficulty=2,
    tags=("reparametrisation", "multipart"),
)
def reparametrisation_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    mu = rng.choice([-1.5, -0.5, 0.5, 1.0, 2.0])
    log_var = rng.choice([-2.0, -1.0, 1.0, 2.0])
    eps = rng.choice([-1.5, -0.5, 0.5, 1.2])
    sigma = math.exp(log_var / 2)
    z = float(formulas.get("reparametrisation").evaluate(mu=[mu], sigma=[sigma], eps=[eps])[0])
    return problem(
        question_id,
        TOPIC,
        f"A VAE encoder outputs mu = {show(mu)} and the log-variance log sigma^2 = "
        f"{show(log_var)} for one latent dimension; the standard normal draw is eps = "
        f"{show(eps)}.",
        [
            part(
                "numeric",
                "What is the standard deviation sigma?",
                sigma,
                "sigma = exp(log sigma^2 / 2).",
            ),
            part("numeric", "What is the reparametrised sample z?", z, "z = mu + sigma eps."),
            part(
                "numeric",
                "What is dz/dmu + dz/dsigma (the two pathwise derivatives summed)?",
                1 + eps,
                "dz/dmu = 1 and dz/dsigma = eps.",
            ),
            choice_part(
                rng,
                "Why does the VAE sample z = mu + sigma eps instead of z ~ N(mu, sigma^2)?",
                "the randomness moves into eps, so z is a differentiable function of mu and "
                "sigma and gradients can flow into the encoder",
                {
                    "it gives samples with a different distribution that trains better": "z is "
                    "still distributed as N(mu, sigma^2)",
                    "it removes the KL term from the ELBO": "the KL term stays; only the "
                    "sampling is rewritten",
                    "it makes the decoder deterministic": "the decoder is unchanged; the "
                    "encoder's sampling is what is rewritten",
                },
                "Pathwise gradients: d/dphi E_eps[f(mu + sigma eps)] = "
                "E_eps[f' (dmu + eps dsigma)].",
            ),
        ],
        formulas=("reparametrisation",),
        carried={1: f"(a) sigma = {number(sigma)}", 2: f"(a) sigma = {number(sigma)}"},
        drawn={"mu": mu, "log sigma^2": log_var, "eps": eps},
    )


@template(
    "vae-elbo-terms-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("vae-gaussian-log-likelihood", "kl-gauss", "beta-vae-objective"),
    difficulty=3,
    tags=("elbo", "beta-vae", "multipart"),
)
def elbo_terms_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, grid, number, part, show, vector

    x = [grid(rng, -1, 1, 0.5) for _ in range(2)]
    decoded = [grid(rng, -1, 1, 0.5) for _ in range(2)]
    while decoded == x:
        decoded[0] = x[0] + 0.5
    mu = [rng.choice([-1.0, -0.5, 0.5, 1.0])]
    sigma = [rng.choice([0.5, 2.0])]
    beta = rng.choice([2.0, 4.0, 0.5])
    log_likelihood = formulas.get("vae-gaussian-log-likelihood").evaluate(
        x=x, mu=decoded, sigma=[1.0, 1.0]
    )
    kl = formulas.get("kl-gauss").evaluate(mu=mu, sigma=sigma)
    objective = formulas.get("beta-vae-objective").evaluate(
        log_likelihood=log_likelihood, mu=mu, sigma=sigma, beta=beta
    )
    return problem(
        question_id,
        TOPIC,
        f"A VAE with a one-dimensional latent: the encoder gives q(z|x) = N({show(mu[0])}, "
        f"{show(sigma[0])}^2), the prior is N(0, 1), and for the sampled z the Gaussian "
        f"decoder outputs the mean mu_dec = {vector(decoded)} with unit variance for the data "
        f"point "
        f"x = {vector(x)}. Natural logarithms.",
        [
            part(
                "numeric",
                "What is the reconstruction term log p(x|z)?",
                log_likelihood,
                "log N(x; mu_dec, I) = -||x - mu_dec||^2/2 - (D/2) log 2 pi.",
            ),
            part(
                "numeric",
                "What is KL(q(z|x) || p(z))?",
                kl,
                "(sigma^2 + mu^2 - 1 - log sigma^2)/2.",
            ),
            part(
                "numeric",
                f"What is the beta-VAE objective with beta = {show(beta)} "
                "(this one-sample estimate)?",
                objective,
                "log p(x|z) - beta KL.",
                drawn={"beta": beta},
            ),
            choice_part(
                rng,
                "What does beta > 1 trade, and why?",
                "reconstruction for a posterior closer to the prior: the KL is weighted more, "
                "which encourages disentangled, factorised latents",
                {
                    "nothing: it rescales the whole ELBO": "only the KL term is scaled",
                    "a tighter bound on log p(x)": "for beta > 1 the objective is a looser "
                    "bound than the ELBO",
                    "sharper reconstructions for a worse prior match": "it is the other way "
                    "round: reconstructions get blurrier",
                },
                "Higgins et al.: beta > 1 pressures q(z|x) towards N(0, I).",
            ),
        ],
        formulas=("vae-gaussian-log-likelihood", "kl-gauss", "beta-vae-objective"),
        carried={2: f"(a) {number(log_likelihood)}; (b) {number(kl)}"},
        drawn={"mu": mu[0], "sigma": sigma[0], "mu_dec": decoded, "x": x},
    )


@template(
    "vae-elbo-gap-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("elbo-decomposition", "vae-marginal-likelihood", "gauss-cross-entropy", "kl-gauss"),
    difficulty=4,
    tags=("elbo", "posterior", "multipart"),
)
def elbo_gap_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    s = rng.choice([0.5, 1.0, 2.0])
    x = grid(rng, -2, 2, 0.5) or 1.0
    m = grid(rng, -1.5, 1.5, 0.5)
    v = rng.choice([0.5, 0.8, 1.0])
    # log p(x) = log int p(x|z) p(z) dz: the convolution of two Gaussians, N(x; 0, 1 + s^2)
    log_px = float(formulas.get("gauss-negative-entropy").evaluate(sigma=math.sqrt(1 + s * s)))
    log_px -= x * x / (2 * (1 + s * s)) - 0.5
    expected_log_lik = float(
        formulas.get("gauss-cross-entropy").evaluate(mu_p=m, sigma_p=v, mu_q=x, sigma_q=s)
    )
    kl_prior = float(formulas.get("kl-gauss").evaluate(mu=[m], sigma=[v]))
    elbo = expected_log_lik - kl_prior
    gap = log_px - elbo  # elbo-decomposition: log p(x) = ELBO + KL(q || p(z|x))
    return problem(
        question_id,
        TOPIC,
        f"A latent-variable model with one latent: prior p(z) = N(0, 1), likelihood p(x|z) = "
        f"N(x; z, s^2) with s = {show(s)} (standard deviation), and the observation x = "
        f"{show(x)}. The approximate posterior is q(z) = N(m, v^2) with m = {show(m)}, v = "
        f"{show(v)}. ELBO = E_q[log p(x|z)] - D_KL(q(z) || p(z)), natural logarithms, "
        "3 significant figures.",
        [
            part(
                "numeric",
                "What is the log-evidence log p(x) = log int p(x|z) p(z) dz?",
                log_px,
                "x = z + s n with z, n ~ N(0, 1) independent: p(x) = N(x; 0, 1 + s^2).",
            ),
            part(
                "numeric",
                "What is the ELBO for this q (both terms in closed form)?",
                elbo,
                "E_q[log p(x|z)] = -1/2 log(2 pi s^2) - ((x - m)^2 + v^2)/(2 s^2); "
                "KL = (v^2 + m^2 - 1 - log v^2)/2.",
            ),
            part(
                "numeric",
                "What is D_KL(q(z) || p(z|x)), the gap between the log-evidence and the ELBO?",
                gap,
                "log p(x) = ELBO + D_KL(q(z) || p(z|x)): the gap is (a) - (b).",
            ),
            choice_part(
                rng,
                "For which q is the ELBO equal to log p(x), and why?",
                "q = p(z|x): the gap is D_KL(q || p(z|x)), which is 0 only when the two are equal",
                {
                    "q = p(z) = N(0, 1): then the KL term of the ELBO vanishes": "the KL to "
                    "the prior is 0 then, but the gap is the KL to the posterior",
                    "q = N(x, s^2): it puts its mass where the likelihood is highest": "that "
                    "ignores the prior; the posterior combines both",
                    "no q: the ELBO is always strictly below log p(x)": "the bound is tight "
                    "at the exact posterior",
                },
                "The ELBO is log p(x) minus a KL divergence; a KL is 0 only for equal "
                "distributions.",
            ),
            part(
                "symbolic",
                "Justify it with the posterior: write the mean of p(z|x) for this model in "
                "terms of x and s.",
                "x/(1 + s^2)",
                "p(z|x) is proportional to exp(-z^2/2 - (x - z)^2/(2 s^2)); completing the "
                "square gives N(x/(1 + s^2), s^2/(1 + s^2)).",
                symbols={"x": "real", "s": "positive"},
            ),
        ],
        formulas=("elbo-decomposition", "vae-marginal-likelihood", "gauss-cross-entropy"),
        carried={2: f"(a) log p(x) = {number(log_px)}; (b) ELBO = {number(elbo)}"},
        drawn={"s": s, "x": x, "m": m, "v": v},
    )


@template(
    "vae-gradient-estimators-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("reparametrisation-gradient", "reparametrisation"),
    difficulty=4,
    tags=("reparametrisation", "score-function", "variance", "multipart"),
)
def gradient_estimators_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    mu = rng.choice([-1.5, -1.0, -0.5, 0.5, 1.0, 1.5])
    sigma = rng.choice([0.5, 1.0, 1.5, 2.0])
    eps = rng.choice([-1.5, -1.0, -0.5, 0.5, 1.0, 1.5])
    z = float(formulas.get("reparametrisation").evaluate(mu=[mu], sigma=[sigma], eps=[eps])[0])
    pathwise = 2 * z  # d/dmu f(mu + sigma eps) = f'(z) with f(z) = z^2
    score = z * z * (z - mu) / sigma**2  # f(z) d/dmu log N(z; mu, sigma^2)
    var_pathwise = 4 * sigma**2  # Var[2 (mu + sigma eps)]
    # E[(z^2 (z - mu)/sigma^2)^2] = (mu^4 + 18 mu^2 sigma^2 + 15 sigma^4)/sigma^2, minus (2 mu)^2
    var_score = mu**4 / sigma**2 + 14 * mu**2 + 15 * sigma**2
    return problem(
        question_id,
        TOPIC,
        f"We want d/dmu E_{{z ~ q}}[f(z)] for f(z) = z^2 and q = N(mu, sigma^2) with mu = "
        f"{show(mu)}, sigma = {show(sigma)} (exact value: 2 mu). Two one-sample estimators, "
        f"both unbiased: the reparametrised (pathwise) one, with z = mu + sigma eps and eps ~ "
        f"N(0, 1), and the score-function (REINFORCE) one, f(z) d/dmu log q(z). The draw is "
        f"eps = {show(eps)}. Moments of N(0, 1): E[eps^2] = 1, E[eps^4] = 3, E[eps^6] = 15. "
        "3 significant figures.",
        [
            part(
                "symbolic",
                "Derive the pathwise estimator d/dmu f(mu + sigma eps) in terms of mu, sigma "
                "and eps.",
                "2*(mu + sigma*eps)",
                "Differentiate under the expectation over eps: f'(mu + sigma eps) dz/dmu, "
                "dz/dmu = 1.",
                symbols={"mu": "real", "sigma": "positive", "eps": "real"},
            ),
            part(
                "numeric",
                "What is the pathwise estimate for the draw eps above?",
                pathwise,
                "2 z with z = mu + sigma eps.",
            ),
            part(
                "numeric",
                "What is the score-function estimate f(z) d/dmu log q(z) for the same draw?",
                score,
                "d/dmu log N(z; mu, sigma^2) = (z - mu)/sigma^2, times f(z) = z^2.",
            ),
            part(
                "numeric",
                "What is the variance (over eps) of the pathwise estimator?",
                var_pathwise,
                "Var[2 mu + 2 sigma eps] = 4 sigma^2.",
            ),
            part(
                "numeric",
                "What is the variance (over eps) of the score-function estimator?",
                var_score,
                "E[z^4 eps^2]/sigma^2 - 4 mu^2 = mu^4/sigma^2 + 14 mu^2 + 15 sigma^2.",
            ),
            choice_part(
                rng,
                "Which estimator does a VAE use for its encoder, and why?",
                "the pathwise one: it uses the derivative of f, so its variance is far lower "
                "(compare (d) and (e)); it needs f differentiable and z continuous",
                {
                    "the score-function one: it is unbiased and the pathwise one is not": "both "
                    "are unbiased; they differ in variance",
                    "the score-function one: its variance is lower because it does not "
                    "differentiate f": "(e) is larger than (d): using only f's values costs "
                    "variance",
                    "either: both have the same variance because both are unbiased": "the same "
                    "mean does not give the same variance",
                },
                "Kingma and Welling: the reparametrisation trick gives low-variance gradients.",
            ),
        ],
        formulas=("reparametrisation-gradient", "reparametrisation"),
        drawn={"mu": mu, "sigma": sigma, "eps": eps},
        carried={
            1: "(a) 2 (mu + sigma eps)",
            5: f"(d) {number(var_pathwise)}; (e) {number(var_score)}",
        },
    )


guard_module(__name__)
