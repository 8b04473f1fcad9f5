"""Generated questions on optimizers (sheet section 10.2): one step of mini-batch SGD,
heavy-ball momentum, Nesterov momentum (the gradient at the look-ahead point), AdaGrad,
RMSProp and Adam (bias correction, and epsilon added outside the square root where the sheet
puts it inside).

Every answer comes from the formula registry (sgd-update, polyak-momentum-update,
nesterov-update, adagrad-update, rmsprop-update, adam-update). The question asks for the new
parameter; the tolerance is 1% of the step, so not moving at all is never accepted.
"""

from __future__ import annotations

import random

from quizzes.questions import Question, template
from quizzes.templates._kit import grid, guard_module, numeric, show, wrong

TOPIC = "optimizers"


def _step(question_id, prompt, theta, value, explanation, formula_id, pairs, drawn) -> Question:
    """A 'new parameter' question: tolerance 1% of the step (4 decimals are always enough);
    `drawn` the values the prompt states (Question.drawn)."""
    step = abs(float(value) - float(theta))
    abs_tol = max(0.01 * step, 5e-5)
    return numeric(
        question_id,
        TOPIC,
        prompt + " (4 decimal places)",
        value,
        explanation + f" See `cheatsheet derive {formula_id}`.",
        (formula_id,),
        tol=1e-9,
        abs_tol=abs_tol,
        # a mistake counts when it is 3 tolerances away from the answer
        mistakes=wrong(*pairs, answer=value, gap=3 * abs_tol / max(1.0, abs(float(value)))),
        drawn=drawn,
    )


@template(
    "opt-sgd-minibatch-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("sgd-update",),
    difficulty=1,
    tags=("sgd",),
)
def sgd_minibatch(rng: random.Random, question_id: str) -> Question:
    import formulas

    w = grid(rng, -1, 1, 0.5)
    xs = [rng.choice([-2, -1, 1, 2]) for _ in range(2)]
    ys = [rng.randint(-2, 2) for _ in range(2)]
    lr = rng.choice([0.1, 0.2, 0.25])
    # gradient of the mini-batch mean of 1/2 (w x - y)^2
    grad = sum((w * x - y) * x for x, y in zip(xs, ys)) / len(xs)
    if grad == 0:
        ys[0] += 1
        grad = sum((w * x - y) * x for x, y in zip(xs, ys)) / len(xs)
    sgd = formulas.get("sgd-update")
    value = sgd.evaluate(theta=w, grad=grad, lr=lr)
    return _step(
        question_id,
        f"A one-weight model y_hat = w x has the loss L(w) = mean_i 1/2 (w x_i - y_i)^2 over "
        f"the mini-batch (x, y) = {list(zip(xs, ys))}. With w = {show(w)} and learning rate "
        f"epsilon = {show(lr)}, what is w after one mini-batch gradient-descent step?",
        w,
        value,
        "w <- w - epsilon g with g = mean_i (w x_i - y_i) x_i, the mini-batch mean gradient "
        "(an unbiased estimate of the full gradient).",
        "sgd-update",
        [
            (
                sgd.evaluate(theta=w, grad=-grad, lr=lr),
                "step against the gradient: w - epsilon g, not w + epsilon g.",
            ),
            (
                sgd.evaluate(theta=w, grad=2 * grad, lr=lr),
                "the loss is a mean over the "
                "mini-batch; the gradient is the mean too, not the sum.",
            ),
        ],
        {"(x, y)": [[x, y] for x, y in zip(xs, ys)], "w": w, "epsilon": lr},
    )


def _momentum_state(rng: random.Random):
    theta = grid(rng, -2, 2, 0.5)
    v = grid(rng, -0.5, 0.5, 0.1)
    lr = rng.choice([0.1, 0.2, 0.5])
    momentum = rng.choice([0.5, 0.8, 0.9])
    return theta, v, lr, momentum


@template(
    "opt-momentum-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("polyak-momentum-update",),
    difficulty=1,
    tags=("momentum",),
)
def momentum(rng: random.Random, question_id: str) -> Question:
    import formulas

    theta, v, lr, mu = _momentum_state(rng)
    grad = grid(rng, -2, 2, 0.5) or 1.0
    value = formulas.get("polyak-momentum-update").evaluate(
        theta=theta, grad=grad, v=v, lr=lr, momentum=mu
    )
    return _step(
        question_id,
        f"Heavy-ball momentum: v <- alpha v - epsilon g, theta <- theta + v. The parameter is "
        f"theta = {show(theta)}, the velocity v = {show(v)}, the gradient g = {show(grad)}, the "
        f"learning rate epsilon = {show(lr)} and the momentum alpha = {show(mu)}. What is theta "
        "after the step?",
        theta,
        value,
        "Update the velocity first, v <- alpha v - epsilon g, then move by the new velocity.",
        "polyak-momentum-update",
        [
            (
                theta - lr * grad,
                "that is plain gradient descent; the velocity alpha v is carried over.",
            ),
            (theta + v, "that moves by the old velocity; update v first."),
        ],
        {"theta": theta, "v": v, "g": grad, "epsilon": lr, "alpha": mu},
    )


@template(
    "opt-nesterov-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("nesterov-update",),
    difficulty=2,
    tags=("momentum", "nesterov"),
)
def nesterov(rng: random.Random, question_id: str) -> Question:
    import formulas

    theta, v, lr, mu = _momentum_state(rng)
    while v == 0:
        v = grid(rng, -0.5, 0.5, 0.1)
    a = rng.choice([1, 2, 3])
    look_ahead = theta + mu * v
    value = formulas.get("nesterov-update").evaluate(
        theta=theta, grad=a * look_ahead, v=v, lr=lr, momentum=mu
    )
    at_theta = formulas.get("nesterov-update").evaluate(
        theta=theta, grad=a * theta, v=v, lr=lr, momentum=mu
    )
    return _step(
        question_id,
        f"Nesterov momentum on the loss L(theta) = {a}/2 theta^2: v <- alpha v - epsilon "
        "grad L(theta + alpha v), theta <- theta + v. Currently theta = "
        f"{show(theta)} and v = {show(v)}, with epsilon = {show(lr)} and alpha = {show(mu)}. "
        "What is theta after the step?",
        theta,
        value,
        f"The gradient is taken at the look-ahead point theta + alpha v = {show(look_ahead)}: "
        f"grad L = {a} (theta + alpha v). Then v <- alpha v - epsilon grad, theta <- theta + v.",
        "nesterov-update",
        [
            (
                at_theta,
                "that is heavy-ball momentum: Nesterov evaluates the gradient at the "
                "look-ahead point theta + alpha v, not at theta.",
            ),
        ],
        {"a": a, "theta": theta, "v": v, "epsilon": lr, "alpha": mu},  # L = a/2 theta^2
    )


@template(
    "opt-adagrad-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("adagrad-update",),
    difficulty=2,
    tags=("adaptive",),
)
def adagrad(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas

    theta = grid(rng, -2, 2, 0.5)
    grad = rng.choice([-2, -1, -0.5, 0.5, 1, 2])
    r = rng.choice([0.0, 1.0, 2.0, 3.0, 4.25])
    lr = rng.choice([0.1, 0.5, 1.0])
    eps = 1e-10
    value = formulas.get("adagrad-update").evaluate(theta=theta, grad=grad, r=r, lr=lr, eps=eps)
    pairs = [
        (theta - lr * grad / (r + grad**2), "divide by the square root of the accumulated squares.")
    ]
    if r > 0:
        pairs.append(
            (theta - lr * grad / math.sqrt(r), "add this step's g^2 to r before dividing.")
        )
    return _step(
        question_id,
        f"AdaGrad with learning rate epsilon = {show(lr)} and delta = 1e-10: the sum of squared "
        f"past gradients is r = {show(r)}, the parameter theta = {show(theta)}, and the new "
        f"gradient g = {show(grad)}. What is theta after the step?",
        theta,
        value,
        "r <- r + g^2, then theta <- theta - epsilon g / (delta + sqrt(r)): every past gradient "
        "counts, so the step size only shrinks.",
        "adagrad-update",
        pairs,
        {"epsilon": lr, "r": r, "theta": theta, "g": grad},
    )


@template(
    "opt-rmsprop-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("rmsprop-update",),
    difficulty=2,
    tags=("adaptive",),
)
def rmsprop(rng: random.Random, question_id: str) -> Question:
    import formulas

    theta = grid(rng, -2, 2, 0.5)
    grad = rng.choice([-2, -1, -0.5, 0.5, 1, 2])
    r = rng.choice([0.25, 0.5, 1.0, 2.0])
    lr = rng.choice([0.01, 0.1])
    rho = rng.choice([0.5, 0.9, 0.99])
    update = formulas.get("rmsprop-update")
    value = update.evaluate(theta=theta, grad=grad, r=r, lr=lr, rho=rho, eps=1e-8)
    swapped = update.evaluate(theta=theta, grad=grad, r=r, lr=lr, rho=1 - rho, eps=1e-8)
    return _step(
        question_id,
        f"RMSProp with learning rate epsilon = {show(lr)}, decay rho = {show(rho)} and "
        f"delta = 1e-8: the running average of squared gradients is r = {show(r)}, the "
        f"parameter theta = {show(theta)}, the new gradient g = {show(grad)}. What is theta "
        "after the step?",
        theta,
        value,
        "r <- rho r + (1 - rho) g^2, then theta <- theta - epsilon g / (delta + sqrt(r)): an "
        "exponentially weighted average, so the distant past is forgotten.",
        "rmsprop-update",
        [
            (swapped, "rho weighs the old average r, and (1 - rho) the new g^2; they are swapped."),
            (
                theta - lr * grad / (r + grad**2) ** 0.5,
                "that accumulates like AdaGrad; RMSProp decays r by rho.",
            ),
        ],
        {"epsilon": lr, "rho": rho, "r": r, "theta": theta, "g": grad},
    )


@template(
    "opt-adam-draw",
    topic=TOPIC,
    kind="numeric",
    formulas=("adam-update",),
    difficulty=3,
    tags=("adaptive", "adam", "errata"),
)
def adam(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas

    theta = grid(rng, -1, 1, 0.5)
    grad = rng.choice([-0.2, -0.1, -0.05, 0.05, 0.1, 0.2])
    t = rng.randint(1, 3)
    m = 0.0 if t == 1 else grid(rng, -0.1, 0.1, 0.05)
    v = 0.0 if t == 1 else rng.choice([0.001, 0.002, 0.005])
    lr = rng.choice([0.01, 0.1])
    beta1, beta2 = rng.choice([0.9, 0.5]), rng.choice([0.99, 0.9])
    eps = rng.choice([0.01, 0.05])  # large, so that where it sits matters
    adam_update = formulas.get("adam-update")
    value = adam_update.evaluate(
        theta=theta, grad=grad, m=m, v=v, t=t, lr=lr, beta1=beta1, beta2=beta2, eps=eps
    )
    m_new = beta1 * m + (1 - beta1) * grad
    v_new = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m_new / (1 - beta1**t), v_new / (1 - beta2**t)
    sheet = theta - lr * m_hat / math.sqrt(v_hat + eps)
    no_correction = theta - lr * m_new / (math.sqrt(v_new) + eps)
    moments = (
        "m = v = 0 (first step)"
        if t == 1
        else f"m = {show(m)} and v = {show(v)} (after {t - 1} step{'s' if t > 2 else ''})"
    )
    return _step(
        question_id,
        f"Adam with eta = {show(lr)}, beta_1 = {show(beta1)}, beta_2 = {show(beta2)} and "
        f"epsilon = {show(eps)} (large on purpose). The moments are {moments}, the parameter "
        f"theta = {show(theta)}, and step t = {t} brings the gradient g = {show(grad)}. What "
        "is theta after this step?",
        theta,
        value,
        "m <- beta_1 m + (1 - beta_1) g, v <- beta_2 v + (1 - beta_2) g^2, m_hat = m / (1 - "
        "beta_1^t), v_hat = v / (1 - beta_2^t), theta <- theta - eta m_hat / (sqrt(v_hat) + "
        "epsilon): epsilon is added outside the square root (the sheet puts it inside).",
        "adam-update",
        [
            (
                sheet,
                "that is the sheet's form with epsilon under the square root; Adam adds "
                "epsilon to sqrt(v_hat).",
            ),
            (no_correction, "the bias corrections 1/(1 - beta^t) are missing."),
        ],
        {
            "eta": lr,
            "beta_1": beta1,
            "beta_2": beta2,
            "epsilon": eps,
            "m": m,  # 0 at t = 1 ("m = v = 0")
            "v": v,
            "theta": theta,
            "t": t,
            "g": grad,
        },
    )


@template(
    "opt-momentum-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("polyak-momentum-update",),
    difficulty=3,
    tags=("momentum", "multipart"),
)
def momentum_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    lr = rng.choice([0.1, 0.2, 0.05])
    alpha = rng.choice([0.5, 0.8, 0.9])
    g = rng.choice([-2.0, -1.0, 1.0, 2.0, 3.0])
    step = formulas.get("polyak-momentum-update")
    theta1 = step.evaluate(theta=0.0, grad=g, v=0.0, lr=lr, momentum=alpha)
    theta2 = step.evaluate(theta=theta1, grad=g, v=theta1, lr=lr, momentum=alpha)
    terminal = lr * abs(g) / (1 - alpha)
    return problem(
        question_id,
        TOPIC,
        f"Polyak momentum v <- alpha v - epsilon g, theta <- theta + v with alpha = "
        f"{show(alpha)}, epsilon = {show(lr)}, theta_0 = 0, v_0 = 0, on a loss whose gradient "
        f"is the constant g = {show(g)}.",
        [
            part(
                "numeric",
                "What is theta after two steps?",
                theta2,
                "v_1 = -epsilon g, theta_1 = v_1; v_2 = alpha v_1 - epsilon g.",
            ),
            part(
                "symbolic",
                "The velocity tends to a terminal value. Write its magnitude |v| using epsilon, "
                "g (either sign) and alpha (0 < alpha < 1).",
                "epsilon*abs(g)/(1 - alpha)",
                "v_k = -epsilon g (1 + alpha + ... + alpha^(k-1)) -> -epsilon g/(1 - alpha).",
                symbols={"epsilon": "positive", "g": "real", "alpha": "positive"},
                constraints=("0 < alpha < 1",),
            ),
            part(
                "numeric",
                "What is that terminal speed |v| for the numbers above?",
                terminal,
                "epsilon |g|/(1 - alpha).",
            ),
            choice_part(
                rng,
                "Compared with plain SGD at the same epsilon on this loss, momentum ...",
                f"moves up to 1/(1 - alpha) = {number(1 / (1 - alpha))} times faster, since the "
                "velocity sums a geometric series of gradients",
                {
                    "moves at the same speed, since the step is still epsilon g": "the velocity "
                    "accumulates past gradients: a geometric series",
                    "moves alpha times as fast, since each velocity is scaled by alpha": "alpha "
                    "scales the old velocity, which keeps adding up to 1/(1 - alpha)",
                    "moves slower, since the velocity damps the gradient": "with a constant "
                    "gradient the contributions add up",
                },
                "sum_k alpha^k = 1/(1 - alpha).",
            ),
        ],
        formulas=("polyak-momentum-update",),
        carried={
            2: "(b) |v| = epsilon*abs(g)/(1 - alpha)",
            3: f"(c) the terminal speed is {number(terminal)}",
        },
        drawn={"alpha": alpha, "epsilon": lr, "g": g},
    )


@template(
    "opt-adam-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("adam-update",),
    difficulty=3,
    tags=("adam", "bias-correction", "multipart"),
)
def adam_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    lr = rng.choice([0.1, 0.01, 0.05])
    g1, g2 = rng.choice([-3.0, -1.0, 2.0, 4.0]), rng.choice([-2.0, 1.0, 3.0, 0.5])
    b1, b2 = 0.9, 0.999
    adam = formulas.get("adam-update")
    theta1 = adam.evaluate(theta=0.0, grad=g1, m=0.0, v=0.0, t=1, lr=lr, beta1=b1, beta2=b2)
    # the moments after step 1 (the update rule's own definitions)
    m1, v1 = (1 - b1) * g1, (1 - b2) * g1**2
    theta2 = adam.evaluate(theta=theta1, grad=g2, m=m1, v=v1, t=2, lr=lr, beta1=b1, beta2=b2)
    m2 = b1 * m1 + (1 - b1) * g2
    return problem(
        question_id,
        TOPIC,
        f"Adam with lr = {show(lr)}, beta1 = 0.9, beta2 = 0.999 and a negligible eps starts "
        f"from theta_0 = 0 with m_0 = v_0 = 0. The gradients are g_1 = {show(g1)}, then "
        f"g_2 = {show(g2)}.",
        [
            part(
                "numeric",
                "What is theta_1 after the first step?",
                theta1,
                "Bias correction makes m_hat = g_1 and v_hat = g_1^2: the step is -lr sign(g_1).",
            ),
            part(
                "numeric",
                "What is the first moment m_2 (before bias correction)?",
                m2,
                "m_2 = beta1 m_1 + (1 - beta1) g_2 with m_1 = (1 - beta1) g_1.",
            ),
            part(
                "numeric",
                "What is theta_2 after the second step?",
                theta2,
                "theta_2 = theta_1 - lr m_hat_2/(sqrt(v_hat_2) + eps), hats divide by 1 - beta^2.",
            ),
            choice_part(
                rng,
                "Why does Adam divide m_t by 1 - beta1^t?",
                "m starts at 0, so early averages are biased towards 0; dividing by "
                "1 - beta1^t makes them unbiased for a constant gradient",
                {
                    "to keep the learning rate decaying as 1/t": "1 - beta1^t tends to 1; it "
                    "does not decay the step",
                    "to normalise the gradient to unit length": "that is the division by "
                    "sqrt(v_hat)",
                    "to add momentum": "m is the momentum; the correction only removes its "
                    "bias towards 0",
                },
                "E[m_t] = (1 - beta1^t) g for a constant g.",
            ),
        ],
        formulas=("adam-update",),
        carried={
            1: f"(a) theta_1 = {number(theta1)}",
            2: f"(a) theta_1 = {number(theta1)}; (b) m_2 = {number(m2)}",
        },
        drawn={"lr": lr, "g_1": g1, "g_2": g2},
    )


@template(
    "opt-adagrad-rmsprop-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("adagrad-update", "rmsprop-update"),
    difficulty=3,
    tags=("adagrad", "rmsprop", "multipart"),
)
def adagrad_rmsprop_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part, show

    lr = rng.choice([0.1, 0.5, 1.0])
    g1, g2 = rng.choice([1.0, 2.0, -2.0, 3.0]), rng.choice([1.0, -1.0, 2.0, 4.0])
    rho = rng.choice([0.5, 0.9])
    adagrad = formulas.get("adagrad-update")
    theta1 = adagrad.evaluate(theta=0.0, grad=g1, r=0.0, lr=lr, eps=0.0)
    r1 = g1 * g1  # the accumulator after step 1 (AdaGrad's definition)
    theta2 = adagrad.evaluate(theta=theta1, grad=g2, r=r1, lr=lr, eps=0.0)
    r_rms = rho * r1 + (1 - rho) * g2 * g2
    rms_theta = formulas.get("rmsprop-update").evaluate(
        theta=0.0, grad=g2, r=r1, lr=lr, rho=rho, eps=0.0
    )
    return problem(
        question_id,
        TOPIC,
        f"Two gradients arrive for one parameter: g_1 = {show(g1)}, then g_2 = {show(g2)}. "
        f"The learning rate is {show(lr)} and eps is 0.",
        [
            part(
                "numeric",
                "AdaGrad from theta_0 = 0, r_0 = 0: what is theta_2?",
                theta2,
                "r <- r + g^2; theta <- theta - lr g/sqrt(r).",
            ),
            part(
                "numeric",
                f"RMSProp with rho = {show(rho)}, starting the second step from "
                f"r = {show(r1)} and theta = 0: what is r after the step?",
                r_rms,
                "r <- rho r + (1 - rho) g^2.",
                drawn={"rho": rho, "r": r1},
            ),
            part(
                "numeric",
                "And theta after that RMSProp step?",
                rms_theta,
                "theta <- theta - lr g/sqrt(r).",
            ),
            choice_part(
                rng,
                "Why does RMSProp keep learning where AdaGrad stalls?",
                "AdaGrad's r only grows, so its steps shrink for good; RMSProp's moving "
                "average forgets old gradients",
                {
                    "RMSProp uses second derivatives": "both use squared first derivatives",
                    "RMSProp has a per-parameter learning rate and AdaGrad does not": "both "
                    "scale per parameter",
                    "RMSProp adds momentum": "plain RMSProp has no momentum term",
                },
                "Exponential forgetting keeps r at the recent gradient scale.",
            ),
        ],
        formulas=("adagrad-update", "rmsprop-update"),
        carried={2: f"(b) r = {number(r_rms)}"},
        drawn={"g_1": g1, "g_2": g2, "learning rate": lr},
    )


@template(
    "opt-nesterov-lookahead-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("nesterov-update", "polyak-momentum-update"),
    difficulty=3,
    tags=("nesterov", "momentum", "multipart"),
)
def nesterov_lookahead_multipart(rng: random.Random, question_id: str) -> Question:
    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part

    lam = rng.choice([1.0, 2.0, 4.0])
    lr = rng.choice([0.05, 0.1, 0.2])
    alpha = rng.choice([0.5, 0.8, 0.9])
    theta = rng.choice([-2.0, -1.0, 1.0, 2.0])
    v = -theta * rng.choice([0.5, 1.0, 1.5])  # moving towards the minimum at 0
    ahead = theta + alpha * v
    grad_ahead = lam * ahead
    nesterov = float(
        formulas.get("nesterov-update").evaluate(
            theta=theta, grad=grad_ahead, v=v, lr=lr, momentum=alpha
        )
    )
    polyak = float(
        formulas.get("polyak-momentum-update").evaluate(
            theta=theta, grad=lam * theta, v=v, lr=lr, momentum=alpha
        )
    )
    return problem(
        question_id,
        TOPIC,
        f"Minimise L(theta) = lambda theta^2 / 2 with lambda = {show(lam)} (minimum at 0). The "
        f"parameter is theta = {show(theta)} and the velocity v = {show(v)}; learning rate "
        f"epsilon = {show(lr)}, momentum alpha = {show(alpha)}. Polyak: v <- alpha v - epsilon "
        "grad L(theta), theta <- theta + v. Nesterov: v <- alpha v - epsilon grad L(theta + "
        "alpha v), theta <- theta + v. 3 significant figures.",
        [
            part(
                "symbolic",
                "Derive Nesterov's new theta for this L in terms of theta, v, alpha, epsilon "
                "and lambda.",
                "theta + alpha*v - epsilon*lambda*(theta + alpha*v)",
                "grad L(theta + alpha v) = lambda (theta + alpha v); theta + (alpha v - "
                "epsilon grad).",
                symbols={
                    "theta": "real",
                    "v": "real",
                    "alpha": "positive",
                    "epsilon": "positive",
                    "lambda": "positive",
                },
            ),
            part(
                "numeric",
                "What is the gradient at Nesterov's look-ahead point, grad L(theta + alpha v)?",
                grad_ahead,
                "lambda (theta + alpha v).",
            ),
            part(
                "numeric",
                "What is theta after one Nesterov step?",
                nesterov,
                "theta + alpha v - epsilon grad L(theta + alpha v).",
            ),
            part(
                "numeric",
                "What is theta after one Polyak (heavy-ball) step from the same state instead?",
                polyak,
                "theta + alpha v - epsilon grad L(theta): the gradient at theta itself.",
            ),
            choice_part(
                rng,
                "Which statement about the two steps is right, and why?",
                "they differ because Nesterov takes the gradient at the look-ahead point "
                "theta + alpha v, where momentum is about to carry theta: the velocity is "
                "corrected before an overshoot",
                {
                    "they are the same step, since the velocity is the same": "the gradients "
                    "are taken at different points, theta and theta + alpha v",
                    "Nesterov uses a second-order (Hessian) correction": "it uses only a "
                    "gradient, at the look-ahead point",
                    "Polyak looks ahead and Nesterov does not": "it is the other way round",
                },
                "The look-ahead gradient corrects the velocity before the overshoot.",
            ),
        ],
        formulas=("nesterov-update", "polyak-momentum-update"),
        carried={
            1: "(a) theta + alpha v - epsilon lambda (theta + alpha v)",
            2: f"(b) grad L(theta + alpha v) = {number(grad_ahead)}",
            4: f"(c) Nesterov: {number(nesterov)}; (d) Polyak: {number(polyak)}",
        },
        drawn={"lambda": lam, "theta": theta, "v": v, "epsilon": lr, "alpha": alpha},
    )


@template(
    "opt-gd-conditioning-multipart",
    topic=TOPIC,
    kind="multipart",
    formulas=("sgd-update",),
    difficulty=3,
    tags=("gradient-descent", "conditioning", "learning-rate", "multipart"),
)
def gd_conditioning_multipart(rng: random.Random, question_id: str) -> Question:
    import math

    import formulas
    from quizzes.multipart import problem
    from quizzes.templates._kit import choice_part, number, part, vector

    steep = rng.choice([4.0, 5.0, 8.0, 10.0])
    flat = rng.choice([0.2, 0.5, 1.0])
    lr = rng.choice([0.05, 0.1, 0.15])
    while lr >= 2 / steep:
        lr /= 2
    theta0 = [rng.choice([1.0, 2.0, -1.0]), rng.choice([1.0, 2.0, -2.0])]
    k = rng.choice([3, 4, 5])
    update = formulas.get("sgd-update")
    theta = list(theta0)
    for _ in range(k):
        theta = [
            float(v)
            for v in update.evaluate(theta=theta, grad=[steep * theta[0], flat * theta[1]], lr=lr)
        ]
    largest = 2 / steep
    factor = abs(1 - lr * flat)
    steps = math.ceil(math.log(0.01) / math.log(factor))
    return problem(
        question_id,
        TOPIC,
        f"Gradient descent theta <- theta - epsilon grad L(theta) on L(theta) = (a theta_1^2 + "
        f"b theta_2^2)/2 with a = {show(steep)}, b = {show(flat)}, from theta = "
        f"{vector(theta0)}. 3 significant figures.",
        [
            part(
                "symbolic",
                "Derive theta_1 after k steps in terms of epsilon, a, k and its start value "
                "theta_0.",
                "(1 - epsilon*a)^k*theta_0",
                "grad_1 L = a theta_1, so each step multiplies theta_1 by (1 - epsilon a).",
                symbols={
                    "epsilon": "positive",
                    "a": "positive",
                    "k": "positive-integer",
                    "theta_0": "real",
                },
            ),
            part(
                "numeric",
                f"With epsilon = {show(lr)}, what is theta_1 after {k} steps?",
                theta[0],
                "(1 - epsilon a)^k theta_1(0).",
                drawn={"epsilon": lr, "k": k},
            ),
            part(
                "numeric",
                "Above which learning rate does gradient descent diverge on this L (the "
                "largest stable epsilon)?",
                largest,
                "Every |1 - epsilon lambda_i| < 1 is needed: epsilon < 2/lambda_max = 2/a.",
            ),
            part(
                "numeric",
                f"With epsilon = {show(lr)}, how many steps does theta_2 need to fall below 1% "
                "of its start value (the smallest whole number)?",
                steps,
                "The smallest k with |1 - epsilon b|^k < 0.01: k > log 0.01 / log|1 - epsilon b|.",
                numeric_rule="abs:0",
                drawn={"epsilon": lr},
            ),
            choice_part(
                rng,
                "Which statement about gradient descent on this L is right, and why?",
                "the flat direction is slow because epsilon is capped by the steep one: "
                "epsilon < 2/a leaves theta_2 shrinking by at least 1 - 2b/a per step, so "
                "the condition number a/b sets the speed",
                {
                    "raising epsilon to 3/a would converge faster in both directions": "then "
                    "|1 - epsilon a| = 2 > 1 and theta_1 diverges",
                    "the number of steps does not depend on a/b, only on the start": "the "
                    "largest stable step is set by a, the speed of theta_2 by b",
                    "momentum cannot help here because L is quadratic": "momentum helps most "
                    "on ill-conditioned quadratics",
                },
                "On a quadratic, lambda_min / lambda_max sets the rate of gradient descent.",
            ),
        ],
        formulas=("sgd-update",),
        carried={
            1: "(a) (1 - epsilon a)^k theta_0",
            3: f"(c) 2/a = {number(largest)}",
            4: f"(c) 2/a = {number(largest)}; (d) {steps} steps",
        },
        drawn={"a": steep, "b": flat, "theta": theta0},
    )


guard_module(__name__)
