"""The quiz engine's own example templates (the first of many; topic authors add theirs in
quizzes/templates/<topic>.py). Each draws its parameters from the seeded rng and takes its
answer from the formula registry, never from a number typed here.

- kl-gauss-value-draw: a KL between a given diagonal Gaussian and N(0, I) (formula kl-gauss).
- kl-gauss-choice-draw: pick the right KL among mutants of it (quizzes.mutations).
- conv-output-size-draw: a convolution's output size (formula conv-output-size).
- alpha-bar-draw: alpha-bar_t of a linear DDPM schedule (ddpm-linear-schedule, ddpm-alpha-bar).
"""

from __future__ import annotations

import random

from quizzes.questions import Question, template


def _fmt(value: float) -> str:
    return f"{float(value):.6g}"


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
            f"q(z|x) = N(mu, diag(sigma^2)) with mu = {mu} and sigma = {sigma}. "
            "What is D_KL(q(z|x) || N(0, I))? (3 significant digits are enough)"
        ),
        answer=_fmt(value),
        explanation=(
            "D_KL = 1/2 sum_j (sigma_j^2 + mu_j^2 - 1 - log sigma_j^2), summed over the "
            f"{dims} latent dimension(s)."
        ),
        formulas=("kl-gauss",),
        abs_tol=5e-3,
        rel_tol=5e-3,
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
    options = [correct, *[m.expr for m in distractors(correct, rng, count=3)]]
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
        explanation="1/2 (sigma^2 + mu^2 - 1 - log sigma^2): the cross-entropy minus the entropy.",
        formulas=("kl-gauss",),
        choices=choices,
    )


@template(
    "conv-output-size-draw",
    topic="cnn",
    kind="numeric",
    formulas=("conv-output-size",),
    difficulty=1,
    tags=("shapes",),
)
def conv_output_size(rng: random.Random, question_id: str) -> Question:
    import formulas

    kernel = rng.choice([1, 3, 5, 7])
    stride = rng.choice([1, 1, 2, 2, 3])
    padding = rng.choice([0, 1, 2, kernel // 2])
    size = rng.randint(max(kernel, 5), 64)
    formula = formulas.get("conv-output-size")
    names = formula.parameters
    values = {"n": size, "k": kernel, "s": stride, "p": padding}
    aliases = {
        "n": ("n", "input_size", "size", "w", "width", "n_in", "i"),
        "k": ("k", "kernel", "kernel_size", "f"),
        "s": ("s", "stride"),
        "p": ("p", "padding", "pad"),
    }
    arguments = {}
    for key, options in aliases.items():
        name = next((option for option in options if option in names), None)
        if name is None:
            raise ValueError(f"conv-output-size: no parameter for {key} among {names}")
        arguments[name] = values[key]
    extra = [name for name in names if name not in arguments]
    if "dilation" in extra or "d" in extra:
        arguments["dilation" if "dilation" in extra else "d"] = 1
    value = formula.evaluate(**arguments)
    return Question(
        id=question_id,
        topic="cnn",
        kind="numeric",
        prompt=(
            f"A {size}x{size} input goes through a {kernel}x{kernel} convolution with stride "
            f"{stride} and padding {padding}. What is the output's width?"
        ),
        answer=str(int(value)),
        explanation="floor((n + 2p - k) / s) + 1",
        formulas=("conv-output-size",),
        abs_tol=0.0,
        rel_tol=0.0,
    )


@template(
    "alpha-bar-draw",
    topic="diffusion",
    kind="numeric",
    formulas=("ddpm-linear-schedule", "ddpm-alpha-bar"),
    difficulty=2,
    tags=("schedule",),
)
def alpha_bar(rng: random.Random, question_id: str) -> Question:
    import formulas

    steps = rng.choice([5, 10, 20])
    beta_start = rng.choice([0.01, 0.02, 0.05])
    beta_end = rng.choice([0.1, 0.2, 0.3])
    t = rng.randint(1, steps)
    betas = formulas.get("ddpm-linear-schedule").evaluate(
        T=steps, beta_start=beta_start, beta_end=beta_end
    )
    value = formulas.get("ddpm-alpha-bar").evaluate(betas=betas, t=t)
    return Question(
        id=question_id,
        topic="diffusion",
        kind="numeric",
        prompt=(
            f"A linear schedule has T = {steps} steps from beta_1 = {beta_start} to "
            f"beta_T = {beta_end}. What is alpha-bar_t at t = {t} (t counts from 1)?"
        ),
        answer=_fmt(value),
        explanation="alpha-bar_t = prod_{s=1}^{t} (1 - beta_s): the product, not alpha_t alone.",
        formulas=("ddpm-linear-schedule", "ddpm-alpha-bar"),
        abs_tol=1e-4,
        rel_tol=1e-3,
    )
