"""Generated questions on diffusion models (sheet section 6): DDPM forward noising, the
forward posterior, one ancestral sampling step, classifier-free guidance, the closed forms and
their common misprints, and the order of the posterior derivation.

Every answer comes from the formula registry (ddpm-*, classifier-free-guidance); the numbers
drawn are small, on a grid, and hand-computable. Where the course sheet prints a wrong form
(sqrt(1 - alpha_t) for sqrt(1 - alpha-bar_t) in the sampling step), the foreseen mistake names it.
"""

from __future__ import annotations

import random

from quizzes.questions import Mistake, Question, template
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

TOPIC = "diffusion"
BETA_GRID = [round(0.05 * k, 2) for k in range(1, 11)]  # 0.05 .. 0.5


def _betas(rng: random.Random, low: int = 3, high: int = 5) -> list[float]:
    """A short increasing schedule (distinct values), small enough to multiply by hand."""
    return sorted(rng.sample(BETA_GRID, rng.randint(low, high)))


def _schedule_text(betas: list[float]) -> str:
    return f"betas = {vector(betas)} (beta_1 .. beta_{len(betas)}, alpha_t = 1 - beta_t)"


@template(
    "ddpm-forward-sample-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("ddpm-forward-marginal", "ddpm-alpha-bar"),
    difficulty=2,
    tags=("forward-process", "alpha-bar"),
)
def forward_sample(rng: random.Random, question_id: str) -> Question:
    import formulas

    betas = _betas(rng)
    t = rng.randint(2, len(betas))
    x0, eps = grid(rng, -2, 2, 0.1), grid(rng, -2, 2, 0.1)
    value = formulas.get("ddpm-forward-marginal").evaluate(betas=betas, t=t, x0=x0, eps=eps)
    one_step = formulas.get("ddpm-forward-step").evaluate(betas=betas, t=t, x_prev=x0, eps=eps)
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"A DDPM has the schedule {_schedule_text(betas)}. A 1-D data point x_0 = {show(x0)} "
            f"is noised directly to step t = {t} with the standard normal draw eps = {show(eps)}, "
            "i.e. x_t is sampled from q(x_t | x_0). What is x_t? (3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I), so x_t = sqrt(abar_t) x_0 + "
            "sqrt(1 - abar_t) eps with abar_t = prod_{s<=t} (1 - beta_s), the product over all "
            "steps up to t. See `cheatsheet derive ddpm-forward-marginal`."
        ),
        abs_tol=5e-3,
        rel_tol=5e-3,
        drawn={"betas": betas, "t": t, "x_0": x0, "eps": eps},
        mistakes=mistake(
            one_step,
            value,
            "that uses alpha_t = 1 - beta_t of one step; from x_0 the forward marginal needs "
            "alpha-bar_t, the product of all alpha_s for s <= t.",
        ),
    )


@template(
    "ddpm-posterior-variance-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("ddpm-posterior-variance", "ddpm-alpha-bar"),
    difficulty=2,
    tags=("posterior", "alpha-bar"),
)
def posterior_variance(rng: random.Random, question_id: str) -> Question:
    import formulas

    betas = _betas(rng)
    t = rng.randint(2, len(betas))
    value = formulas.get("ddpm-posterior-variance").evaluate(betas=betas, t=t)
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"A DDPM has the schedule {_schedule_text(betas)}. What is the variance "
            f"beta_tilde_t of the forward posterior q(x_{{t-1}} | x_t, x_0) at t = {t}? "
            "(3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "beta_tilde_t = (1 - abar_{t-1}) / (1 - abar_t) * beta_t, with abar_t = "
            "prod_{s<=t} (1 - beta_s); it is smaller than beta_t and 0 at t = 1. "
            "See `cheatsheet derive ddpm-posterior-variance`."
        ),
        abs_tol=5e-4,
        rel_tol=5e-3,
        drawn={"betas": betas, "t": t},
        mistakes=mistake(
            betas[t - 1],
            value,
            "that is beta_t, the forward step's variance; the posterior also knows x_0 and "
            "shrinks it by (1 - abar_{t-1}) / (1 - abar_t).",
        ),
    )


@template(
    "ddpm-sampling-step-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("ddpm-sampling-step", "ddpm-epsilon-mean"),
    difficulty=3,
    tags=("sampling", "alpha-bar", "errata"),
)
def sampling_step(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas

    betas = _betas(rng)
    t = rng.randint(2, len(betas))
    xt, eps_pred, z = (grid(rng, -2, 2, 0.1) for _ in range(3))
    value = formulas.get("ddpm-sampling-step").evaluate(
        betas=betas, t=t, xt=xt, eps_pred=eps_pred, z=z
    )
    # The sheet's misprint: sqrt(1 - alpha_t) where sqrt(1 - alpha-bar_t) belongs.
    beta_t = betas[t - 1]
    sheet = (xt - beta_t / math.sqrt(beta_t) * eps_pred) / math.sqrt(1 - beta_t) + math.sqrt(
        beta_t
    ) * z
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            f"A DDPM has the schedule {_schedule_text(betas)}. At step t = {t} the sampler holds "
            f"x_t = {show(xt)}, the network predicts eps_theta(x_t, t) = {show(eps_pred)}, and the "
            f"fresh noise is z = {show(z)}. With sigma_t^2 = beta_t, what is x_{{t-1}} after one "
            "ancestral sampling step? (3 significant digits)"
        ),
        answer=number(value),
        explanation=(
            "x_{t-1} = 1/sqrt(alpha_t) (x_t - (1 - alpha_t)/sqrt(1 - abar_t) eps_theta(x_t, t)) "
            "+ sigma_t z: the noise term is scaled by sqrt(1 - alpha-bar_t), not sqrt(1 - alpha_t) "
            "as the sheet prints it. See `cheatsheet derive ddpm-sampling-step`."
        ),
        abs_tol=5e-3,
        rel_tol=5e-3,
        drawn={"betas": betas, "t": t, "x_t": xt, "eps_theta": eps_pred, "z": z},
        mistakes=mistake(
            sheet,
            value,
            "that follows the sheet's misprint sqrt(1 - alpha_t); the predicted noise is "
            "divided by sqrt(1 - alpha-bar_t) (it is the noise of q(x_t | x_0)).",
        ),
    )


@template(
    "cfg-guidance-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("classifier-free-guidance",),
    difficulty=1,
    tags=("guidance",),
)
def guidance(rng: random.Random, question_id: str) -> Question:
    import formulas

    eps_cond = [grid(rng, -1.5, 1.5, 0.1) for _ in range(2)]
    eps_uncond = [grid(rng, -1.5, 1.5, 0.1) for _ in range(2)]
    rho = rng.choice([0.5, 1.0, 2.0, 3.0, 4.0])
    component = rng.randint(1, 2)
    cfg = formulas.get("classifier-free-guidance")
    value = cfg.evaluate(eps_cond=eps_cond, eps_uncond=eps_uncond, rho=rho)[component - 1]
    swapped = cfg.evaluate(eps_cond=eps_uncond, eps_uncond=eps_cond, rho=rho)[component - 1]
    return Question(
        id=question_id,
        topic=TOPIC,
        kind="numeric",
        prompt=(
            "Classifier-free guidance with guidance strength rho = "
            f"{show(rho)}: the conditional noise prediction is eps_theta(x, c; t) = "
            f"{vector(eps_cond)} and the unconditional one is eps_theta(x; t) = "
            f"{vector(eps_uncond)}. What is component {component} of the guided prediction "
            "eps_tilde(x, c; t)?"
        ),
        answer=number(value),
        explanation=(
            "eps_tilde = (1 + rho) eps_theta(x, c; t) - rho eps_theta(x; t): extrapolate from the "
            "unconditional towards (and past) the conditional prediction. "
            "See `cheatsheet derive classifier-free-guidance`."
        ),
        abs_tol=1e-3,
        rel_tol=1e-3,
        drawn={
            "rho": rho,
            "eps_theta(x, c; t)": eps_cond,
            "eps_theta(x; t)": eps_uncond,
            "component": component,
        },
        mistakes=mistake(
            swapped,
            value,
            "the roles are swapped: the factor (1 + rho) goes with the conditional prediction.",
        ),
    )


# Symbolic closed forms: (formula id, what to write, declared symbols, how to read the
# registry's statement as an answer).
_NAMES = {
    "alphabar_t": "abar_t",
    "alphabar_{t-1}": "abar_{t-1}",
    "epsilon": "eps",
    "x_t": "x_t",
    "x_0": "x_0",
    "alpha_t": "alpha_t",
    "beta_t": "beta_t",
    "sigma_t": "sigma_t",
}


def _symbolic_item(which: str):
    """(prompt, answer expr, symbols, formula id) for one closed form of the registry."""
    import sympy as sp

    import formulas

    if which == "posterior-variance":
        symbols = {"beta_t": "unit", "abar_t": "unit", "abar_{t-1}": "unit"}
        rhs = formulas.get("ddpm-posterior-variance").statement.rhs
        prompt = (
            "Write the variance beta_tilde_t of the DDPM forward posterior q(x_{t-1} | x_t, x_0) "
            "in terms of beta_t, abar_t (alpha-bar_t) and abar_{t-1} only."
        )
        return prompt, renamed(rhs, _NAMES, symbols), symbols, "ddpm-posterior-variance"
    if which == "epsilon-mean":
        symbols = {"x_t": "real", "eps": "real", "alpha_t": "unit", "abar_t": "unit"}
        rhs = formulas.get("ddpm-epsilon-mean").statement.rhs
        beta_t = next(s for s in rhs.free_symbols if s.name == "beta_t")
        alpha_t = next(s for s in rhs.free_symbols if s.name == "alpha_t")
        rhs = rhs.xreplace({beta_t: 1 - alpha_t})
        prompt = (
            "Write the mean mu_tilde_t(x_t, x_0) of q(x_{t-1} | x_t, x_0) in the epsilon-"
            "parametrisation, i.e. with x_0 eliminated using x_t = sqrt(abar_t) x_0 + "
            "sqrt(1 - abar_t) eps. Use x_t, eps, alpha_t and abar_t (write beta_t as 1 - alpha_t)."
        )
        return prompt, renamed(rhs, _NAMES, symbols), symbols, "ddpm-epsilon-mean"
    if which == "forward-sample":
        symbols = {"x_0": "real", "eps": "real", "abar_t": "unit"}
        normal = formulas.get("ddpm-forward-marginal").statement.rhs
        mean, covariance = normal.args[0], normal.args[1]
        identity = next(s for s in covariance.free_symbols if s.name == "I")
        epsilon = sp.Symbol("epsilon", real=True)
        rhs = mean + sp.sqrt(covariance.xreplace({identity: 1})) * epsilon
        prompt = (
            "Write a sample x_t of q(x_t | x_0) as a function of x_0 and a standard normal draw "
            "eps (the reparametrisation used to train a DDPM). Use x_0, eps and abar_t "
            "(alpha-bar_t)."
        )
        return prompt, renamed(rhs, _NAMES, symbols), symbols, "ddpm-forward-marginal"
    symbols = {"alpha_t": "unit", "abar_t": "unit", "sigma_t": "positive"}
    rhs = formulas.get("ddpm-loss-weight").statement.rhs
    beta_t = next(s for s in rhs.free_symbols if s.name == "beta_t")
    alpha_t = next(s for s in rhs.free_symbols if s.name == "alpha_t")
    rhs = rhs.xreplace({beta_t: 1 - alpha_t})
    prompt = (
        "In the DDPM ELBO, the t-th denoising term equals lambda_t ||eps - eps_theta(x_t, t)||^2 "
        "plus a constant, when p_theta(x_{t-1} | x_t) = N(mu_theta, sigma_t^2 I). Write the "
        "weight lambda_t using alpha_t, abar_t (alpha-bar_t) and sigma_t (write beta_t as "
        "1 - alpha_t)."
    )
    return prompt, renamed(rhs, _NAMES, symbols), symbols, "ddpm-loss-weight"


@template(
    "ddpm-closed-form-draw",
    topic=TOPIC,
    kind="symbolic",
    formulas=(
        "ddpm-posterior-variance",
        "ddpm-epsilon-mean",
        "ddpm-forward-marginal",
        "ddpm-loss-weight",
    ),
    difficulty=2,
    tags=("closed-form", "alpha-bar"),
)
def closed_form(rng: random.Random, question_id: str) -> Question:
    which = rng.choice(["posterior-variance", "epsilon-mean", "forward-sample", "loss-weight"])
    prompt, expr, symbols, formula_id = _symbolic_item(which)
    return symbolic_question(
        question_id,
        TOPIC,
        prompt,
        expr,
        symbols,
        formula_id,
        note=". Every abar is the running product alpha-bar, never one step's alpha",
        mistakes=(
            (
                Mistake(
                    plain(
                        expr.xreplace(
                            {
                                s: s.func("alpha_t", **s.assumptions0)
                                for s in expr.free_symbols
                                if s.name == "abar_t"
                            }
                        )
                    ),
                    "alpha_t where alpha-bar_t belongs: the bar is the product over all steps.",
                ),
            )
            if "alpha_t" not in symbols
            else ()
        ),
    )


_CHOICE_ITEMS = {
    "ddpm-epsilon-mean": ("mu_tilde_t", "the posterior mean in the epsilon-parametrisation"),
    "ddpm-posterior-variance": ("beta_tilde_t", "the variance of q(x_{t-1} | x_t, x_0)"),
    "ddpm-posterior-mean": ("mu_tilde_t", "the mean of q(x_{t-1} | x_t, x_0) given x_t and x_0"),
    "ddpm-sampling-step": ("x_{t-1}", "one ancestral sampling step from x_t"),
}
_DISPLAY = {"alphabar_t": "abar_t", "alphabar_{t-1}": "abar_{t-1}", "epsilon": "eps"}


@template(
    "ddpm-formula-choice-draw",
    topic=TOPIC,
    kind="choice",
    formulas=tuple(_CHOICE_ITEMS),
    difficulty=2,
    tags=("mutants", "alpha-bar"),
)
def formula_choice(rng: random.Random, question_id: str) -> Question:
    import formulas

    formula_id = rng.choice(sorted(_CHOICE_ITEMS))
    formula = formulas.get(formula_id)
    rhs = formula.statement.rhs

    def render(expr) -> str:
        return plain(renamed(expr, _DISPLAY, {}))

    # Time-index mistakes are the point here (t vs t-1, alpha vs alpha-bar): keep them.
    lhs, what = _CHOICE_ITEMS[formula_id]
    return mutant_choice_question(
        rng,
        question_id,
        TOPIC,
        f"DDPM, {what}: which form is right? (abar_t is alpha-bar_t = prod_{{s<=t}} alpha_s, "
        "alpha_t = 1 - beta_t, eps the noise)",
        formula_id,
        lhs,
        rhs,
        render,
        others="The wrong ones:",
        count=3,
        allowed_symbols=("alpha_t", "alphabar_{t-1}", "abar_t", "alpha_{t-1}", "beta_{t-1}"),
        exclude=("the sign of 1 flipped", "+ 1 for", "- 1 for", "t where t+1 belongs"),
    )


_ORDERINGS = {
    "ddpm-posterior-mean": (
        (0, 1, 2, 3),
        "Put the derivation of the DDPM forward posterior q(x_{t-1} | x_t, x_0) in order.",
    ),
    "ddpm-loss": (
        (0, 1, 2, 3, 4),
        "Put the steps from the t-th ELBO term of a DDPM to the simple noise-prediction loss "
        "in order.",
    ),
    "ddpm-forward-marginal": (
        (0, 1, 2, 3, 4),
        "Put the induction proof of the closed-form forward marginal q(x_t | x_0) in order.",
    ),
}


@template(
    "ddpm-derivation-order-draw",
    topic=TOPIC,
    kind="ordering",
    formulas=tuple(_ORDERINGS),
    difficulty=2,
    tags=("derivation",),
)
def derivation_order(rng: random.Random, question_id: str) -> Question:
    return derivation_order_question(rng, question_id, TOPIC, _ORDERINGS)


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
        answer=number(value),
        explanation="alpha-bar_t = prod_{s=1}^{t} (1 - beta_s): the product, not alpha_t alone."
        + " See `cheatsheet derive ddpm-alpha-bar`.",
        formulas=("ddpm-linear-schedule", "ddpm-alpha-bar"),
        abs_tol=1e-4,
        rel_tol=1e-3,
        drawn={"T": steps, "beta_1": beta_start, "beta_T": beta_end, "t": t},
    )


@template(
    "diffusion-posterior-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("ddpm-posterior-variance",),
    difficulty=3,
    tags=("posterior", "multipart"),
)
def posterior_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    betas = sorted(grid(rng, 0.05, 0.3, 0.01) for _ in range(4))
    t = rng.randint(2, 4)
    variance = formulas.get("ddpm-posterior-variance").evaluate(betas=betas, t=t)
    closed = "b_t*(1 - abar_p)/(1 - abar_t)"
    return problem(
        question_id,
        TOPIC,
        f"A DDPM has T = 4 steps with the variance schedule betas = {vector(betas)} (beta_1 "
        "first), alpha_t = 1 - beta_t and alpha-bar_t = alpha_1 alpha_2 ... alpha_t.",
        [
            part(
                "symbolic",
                "Write the variance tilde-beta_t of the forward posterior q(x_{t-1} | x_t, x_0) "
                "using b_t (beta_t), abar_t (alpha-bar_t) and abar_p (alpha-bar_{t-1}).",
                closed,
                "Complete the square in x_{t-1}: 1/tilde-beta_t = alpha_t/beta_t + "
                "1/(1 - alpha-bar_{t-1}), which simplifies with alpha-bar_t = alpha_t "
                "alpha-bar_{t-1}.",
                symbols={"b_t": "positive", "abar_t": "positive", "abar_p": "positive"},
                identities=("abar_t = (1 - b_t)*abar_p",),
                constraints=("0 < b_t < 1", "0 < abar_p < 1"),
            ),
            part(
                "numeric",
                f"Compute tilde-beta_t at t = {t} for this schedule.",
                variance,
                f"tilde-beta_{t} = beta_{t} (1 - alpha-bar_{t - 1})/(1 - alpha-bar_{t}).",
                drawn={"t": t},
            ),
            choice_part(
                rng,
                "How does tilde-beta_t compare with beta_t for t >= 2, and why?",
                "smaller: (1 - alpha-bar_{t-1})/(1 - alpha-bar_t) < 1 because alpha-bar_t < "
                "alpha-bar_{t-1}",
                {
                    "larger: the posterior adds the uncertainty about x_0": "conditioning on "
                    "x_0 removes uncertainty; the ratio (1 - abar_{t-1})/(1 - abar_t) is below 1",
                    "equal: a Gaussian chain's posterior keeps the forward variance": "the "
                    "factor (1 - abar_{t-1})/(1 - abar_t) differs from 1 for every t >= 2",
                    "smaller only by the factor alpha_t": "the factor is (1 - abar_{t-1})/"
                    "(1 - abar_t), not alpha_t",
                },
                "Each alpha_s < 1, so alpha-bar decreases in t and the factor is below 1; at "
                "t = 1 (alpha-bar_0 = 1) tilde-beta_1 = 0.",
            ),
        ],
        formulas=("ddpm-posterior-variance",),
        drawn={"betas": betas},
        carried={
            1: f"(a) tilde-beta_t = {closed}",
            2: f"(a) tilde-beta_t = {closed}; (b) tilde-beta_{t} = {number(variance)}",
        },
    )


@template(
    "diffusion-forward-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("ddpm-alpha-bar", "ddpm-forward-marginal"),
    difficulty=3,
    tags=("forward-process", "multipart"),
)
def forward_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    betas = [grid(rng, 0.05, 0.4, 0.05) for _ in range(3)]
    t = rng.randint(2, 3)
    x0, eps = grid(rng, -2, 2, 0.5) or 1.0, grid(rng, -1.5, 1.5, 0.5) or 0.5
    abar = formulas.get("ddpm-alpha-bar").evaluate(betas=betas, t=t)
    xt = formulas.get("ddpm-forward-marginal").evaluate(betas=betas, t=t, x0=x0, eps=eps)
    one_step = math.sqrt(1 - betas[t - 1]) * x0 + math.sqrt(betas[t - 1]) * eps
    return problem(
        question_id,
        TOPIC,
        f"A DDPM forward process with betas = {vector(betas)} (beta_1 first), alpha_t = 1 - "
        f"beta_t. A scalar data point x_0 = {show(x0)} is noised with the standard normal draw "
        f"eps = {show(eps)}.",
        [
            part(
                "numeric",
                f"What is alpha-bar_{t}?",
                abar,
                "alpha-bar_t = alpha_1 alpha_2 ... alpha_t.",
                drawn={"t": t},
            ),
            part(
                "numeric",
                f"What is x_{t} sampled in one go from q(x_{t} | x_0) with this eps?",
                xt,
                "x_t = sqrt(alpha-bar_t) x_0 + sqrt(1 - alpha-bar_t) eps.",
                mistakes=_slip(
                    one_step,
                    xt,
                    "that is one step with alpha_t; q(x_t | x_0) "
                    "composes all t steps through alpha-bar_t.",
                ),
            ),
            part(
                "symbolic",
                "Solve the closed form for x_0: write x_0 using x_t, eps and abar_t (alpha-bar_t).",
                "(x_t - sqrt(1 - abar_t)*eps)/sqrt(abar_t)",
                "The same line, solved for x_0: what the network's noise estimate predicts.",
                symbols={"x_t": "real", "eps": "real", "abar_t": "positive"},
                constraints=("0 < abar_t < 1",),
            ),
            choice_part(
                rng,
                "The course sheet writes q(x_t | x_0) with sqrt(alpha_t) in place of "
                "sqrt(alpha-bar_t). Which is right, and why?",
                "alpha-bar_t: composing t Gaussian steps multiplies the means by every "
                "sqrt(alpha_s)",
                {
                    "alpha_t: each step only sees the previous one": "that is q(x_t | x_{t-1}), "
                    "one step; q(x_t | x_0) spans all t steps",
                    "both: they agree for every t": "they agree only at t = 1, where "
                    "alpha-bar_1 = alpha_1",
                    "alpha_t: alpha-bar_t would make the variance exceed 1": "the variance "
                    "1 - alpha-bar_t stays in (0, 1)",
                },
                "Induction: x_t = sqrt(alpha_t) x_{t-1} + sqrt(beta_t) eps_t gives the product.",
            ),
        ],
        formulas=("ddpm-alpha-bar", "ddpm-forward-marginal"),
        carried={1: f"(a) alpha-bar_{t} = {number(abar)}", 2: f"(b) x_{t} = {number(xt)}"},
        drawn={"betas": betas, "x_0": x0, "eps": eps},
    )


def _slip(value, answer, feedback):
    from quizzes.templates._kit import mistake

    return mistake(value, answer, feedback)


@template(
    "diffusion-sampling-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("ddpm-epsilon-mean", "ddpm-sampling-step"),
    difficulty=3,
    tags=("sampling", "multipart"),
)
def sampling_multipart(rng: random.Random, question_id: str) -> Question:

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, grid, number, part, show, vector

    betas = [grid(rng, 0.05, 0.3, 0.05) for _ in range(3)]
    t = rng.randint(2, 3)
    xt, eps_pred = grid(rng, -2, 2, 0.5) or 1.0, grid(rng, -1, 1, 0.5) or 0.5
    z = rng.choice([-1.0, -0.5, 0.5, 1.0])
    mean = formulas.get("ddpm-epsilon-mean").evaluate(betas=betas, t=t, xt=xt, eps=eps_pred)
    sample = formulas.get("ddpm-sampling-step").evaluate(
        betas=betas, t=t, xt=xt, eps_pred=eps_pred, z=z
    )
    return problem(
        question_id,
        TOPIC,
        f"DDPM sampling with betas = {vector(betas)} (beta_1 first), alpha_t = 1 - beta_t, "
        f"sigma_t^2 = beta_t. At step t = {t} the current sample is x_t = {show(xt)}, the "
        f"network predicts eps_theta(x_t, t) = {show(eps_pred)}, and the fresh noise is "
        f"z = {show(z)}.",
        [
            part(
                "numeric",
                "What is the mean mu_theta(x_t, t)?",
                mean,
                "mu_theta = (x_t - beta_t/sqrt(1 - alpha-bar_t) eps_theta)/sqrt(alpha_t).",
            ),
            part(
                "numeric", "What is the sample x_{t-1}?", sample, "x_{t-1} = mu_theta + sigma_t z."
            ),
            choice_part(
                rng,
                "Why does the last step (t = 1) add no noise?",
                "x_0 is the output: adding sigma_1 z would only blur the final sample",
                {
                    "because beta_1 = 0": "beta_1 > 0 in every schedule",
                    "because alpha-bar_1 = 0": "alpha-bar_1 = alpha_1 is close to 1",
                    "because the network cannot predict noise at t = 1": "it predicts eps at "
                    "every t; the choice z = 0 is about the output",
                },
                "Algorithm 2 of Ho et al.: z ~ N(0, I) if t > 1, else z = 0.",
            ),
        ],
        formulas=("ddpm-epsilon-mean", "ddpm-sampling-step"),
        carried={1: f"(a) mu_theta = {number(mean)}"},
        drawn={"betas": betas, "t": t, "x_t": xt, "eps_theta": eps_pred, "z": z},
    )


@template(
    "diffusion-guidance-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("classifier-free-guidance",),
    difficulty=3,
    tags=("guidance", "score", "multipart"),
)
def guidance_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    eps_c = np.array([grid(rng, -1.5, 1.5, 0.5) for _ in range(2)])
    eps_u = np.array([grid(rng, -1.5, 1.5, 0.5) for _ in range(2)])
    rho = rng.choice([0.5, 1.0, 2.0, 3.0])
    noise_var = rng.choice([0.25, 0.36, 0.64, 0.81])
    j = rng.randint(1, 2)
    guided = np.asarray(
        formulas.get("classifier-free-guidance").evaluate(eps_cond=eps_c, eps_uncond=eps_u, rho=rho)
    )
    scale = math.sqrt(noise_var)
    classifier = -(eps_c - eps_u) / scale
    score = -eps_u / scale + (1 + rho) * classifier
    symbols = {"eps_c": "real", "eps_u": "real", "rho": "nonnegative"}
    return problem(
        question_id,
        TOPIC,
        "Classifier-free guidance: one network predicts the noise eps_c = eps_theta(x_t, c; t) "
        "with the condition c and eps_u = eps_theta(x_t; t) with c dropped; the sampler uses "
        "the guided prediction with guidance weight rho. At one step, for a 2-D x_t (components "
        f"counting from 1): eps_c = {vector(eps_c)}, eps_u = {vector(eps_u)}, rho = {show(rho)}, "
        f"and 1 - alpha-bar_t = {show(noise_var)}. A noise prediction is a scaled score: "
        "eps_theta(x_t; t) = -sqrt(1 - alpha-bar_t) grad log p_t(x_t), and likewise with c.",
        [
            part(
                "symbolic",
                "Write one component of the guided prediction eps_tilde using eps_c, eps_u and "
                "rho (rho = 0 gives the conditional prediction).",
                "(1 + rho)*eps_c - rho*eps_u",
                "eps_tilde = eps_u + (1 + rho)(eps_c - eps_u): extrapolate past eps_c, away "
                "from eps_u. See `cheatsheet derive classifier-free-guidance`.",
                symbols=symbols,
            ),
            part(
                "numeric",
                f"What is component {j} of eps_tilde?",
                guided[j - 1],
                "(1 + rho) eps_c - rho eps_u, componentwise.",
                drawn={"component": j},
            ),
            part(
                "numeric",
                f"By Bayes, grad log p_t(c | x_t) = grad log p_t(x_t | c) - grad log p_t(x_t). "
                f"What is its component {j} implied by the two predictions?",
                classifier[j - 1],
                "-(eps_c - eps_u)/sqrt(1 - alpha-bar_t): an implicit classifier, no classifier "
                "network.",
                drawn={"component": j},
            ),
            part(
                "numeric",
                f"What is component {j} of the score the guided sampler follows, grad log "
                "p_t(x_t) + (1 + rho) grad log p_t(c | x_t)?",
                score[j - 1],
                "-eps_u/sqrt(1 - abar_t) + (1 + rho) times (c); it equals "
                "-eps_tilde/sqrt(1 - abar_t).",
                drawn={"component": j},
            ),
            choice_part(
                rng,
                "What does a guidance weight rho > 0 do to the samples, and why?",
                "they follow c more closely and are less diverse: the sampler follows p_t(x_t) "
                "p_t(c | x_t)^(1 + rho), a sharpened classifier term",
                {
                    "they become more diverse, since two predictions are mixed": "the "
                    "extrapolation sharpens p(c | x): diversity drops",
                    "nothing new: rho = 0 already gives the unconditional model": "rho = 0 gives "
                    "eps_c, the conditional model; rho = -1 gives eps_u",
                    "it needs a separately trained classifier on noisy images": "the classifier "
                    "is implicit, by Bayes on the two predictions of one network",
                },
                "Guided score = grad log p_t(x_t) + (1 + rho) grad log p_t(c | x_t): the "
                "exponent 1 + rho > 1 trades diversity for fidelity to c.",
            ),
        ],
        formulas=("classifier-free-guidance",),
        drawn={
            "eps_c": [float(v) for v in eps_c],
            "eps_u": [float(v) for v in eps_u],
            "rho": rho,
            "1 - alpha-bar_t": noise_var,
        },
        carried={
            1: "(a) eps_tilde = (1 + rho) eps_c - rho eps_u",
            3: f"(c) {number(classifier[j - 1])}",
        },
    )


@template(
    "diffusion-loss-weight-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("ddpm-linear-schedule", "ddpm-loss-weight", "ddpm-loss"),
    difficulty=3,
    tags=("loss-weight", "schedule", "multipart"),
)
def loss_weight_multipart(rng: random.Random, question_id: str) -> Question:
    import numpy as np

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, part

    first, last = rng.choice([0.05, 0.1]), rng.choice([0.2, 0.3, 0.4])
    betas = np.asarray(
        formulas.get("ddpm-linear-schedule").evaluate(T=5, beta_start=first, beta_end=last)
    )
    t = rng.randint(2, 4)
    weight = formulas.get("ddpm-loss-weight")
    lam = float(weight.evaluate(betas=betas, t=t, sigma2=betas[t - 1]))
    lam_1 = float(weight.evaluate(betas=betas, t=1, sigma2=betas[0]))
    closed = "b_t/(2*(1 - b_t)*(1 - abar_t))"
    return problem(
        question_id,
        TOPIC,
        f"A DDPM with T = 5 steps uses the linear schedule from beta_1 = {show(first)} to "
        f"beta_T = {show(last)} (beta_t = beta_1 + (t - 1)(beta_T - beta_1)/(T - 1)), alpha_t "
        "= 1 - beta_t, alpha-bar_t = alpha_1 ... alpha_t, and the sampler's variance sigma_t^2 "
        "= beta_t. In the epsilon-parametrisation the t-th KL term of the ELBO is lambda_t "
        "||eps - eps_theta(x_t, t)||^2 plus a constant.",
        [
            part(
                "symbolic",
                "Write lambda_t (with sigma_t^2 = beta_t) using b_t (beta_t) and abar_t "
                "(alpha-bar_t).",
                closed,
                "lambda_t = beta_t^2/(2 sigma_t^2 alpha_t (1 - alpha-bar_t)) with sigma_t^2 = "
                "beta_t and alpha_t = 1 - beta_t. See `cheatsheet derive ddpm-loss-weight`.",
                symbols={"b_t": "positive", "abar_t": "positive"},
                constraints=("0 < b_t < 1", "0 < abar_t < 1"),
            ),
            part(
                "numeric",
                f"What is beta_{t}?",
                betas[t - 1],
                "Linear in t between beta_1 and beta_T.",
                drawn={"t": t},
            ),
            part(
                "numeric",
                f"What is lambda_{t}?",
                lam,
                "Multiply the alphas up to t for alpha-bar_t, then use (a).",
                drawn={"t": t},
            ),
            part(
                "numeric",
                "What is lambda_1?",
                lam_1,
                "1 - alpha-bar_1 = beta_1, so lambda_1 = 1/(2 alpha_1).",
            ),
            choice_part(
                rng,
                "Ho et al. train on L_simple = ||eps - eps_theta||^2 with lambda_t dropped. "
                "Which is right, and why?",
                "it reweights the bound: lambda_1 is the largest weight, so L_simple "
                "down-weights the easy small-t terms relative to the ELBO and gives better "
                "samples, but it is no longer the ELBO",
                {
                    "it is exactly the ELBO, since lambda_t = 1 for every t": "lambda_t varies "
                    "with t and is not 1 (compare (c) and (d))",
                    "it up-weights the small-t terms relative to the ELBO": "the t = 1 term "
                    "had the largest lambda_t; setting all to 1 lowers it relatively",
                    "it is only valid because sigma_t^2 = beta_t makes lambda_t constant": (
                        "with sigma_t^2 = beta_t lambda_t still changes with t"
                    ),
                },
                "lambda_1 = 1/(2 alpha_1) exceeds every later lambda_t = beta_t/(2 alpha_t (1 - "
                "alpha-bar_t)) here (for Ho's schedule by orders of magnitude): dropping the "
                "weights favours the noisier steps.",
            ),
        ],
        formulas=("ddpm-linear-schedule", "ddpm-loss-weight", "ddpm-loss"),
        drawn={"T": 5, "beta_1": first, "beta_T": last},
        carried={
            2: f"(a) lambda_t = {closed}; (b) beta_{t} = {number(betas[t - 1])}",
            4: f"(c) lambda_{t} = {number(lam)}; (d) lambda_1 = {number(lam_1)}",
        },
    )


guard_module(__name__)
