"""Gradient-descent algorithms (sheet section 10.2): SGD, Polyak and Nesterov momentum,
AdaGrad, RMSProp, Adam.

Every `*-update` evaluator takes the state *before* the step and returns the new theta, and
matches torch.optim step for step; where torch parametrises the state differently from the
sheet the docstring states the map (tested in tests/test_formulas_optimizers.py):
- momentum: the sheet's velocity v is torch's momentum buffer times -lr, v = -lr * buf;
- Nesterov: torch stores the look-ahead point theta + momentum * v as the parameter;
- RMSProp: the sheet's text breaks off after the r update; the step here is torch's (and
  Hinton's) theta -= lr g / (sqrt(r) + eps). Goodfellow et al. put delta inside the root,
  -lr g / sqrt(delta + r); the two differ only for r ~ delta.

The one-line statements are derived from the sheet's two-line definitions (velocity or
accumulator first, then the step) by substitution; SGD and Adam are definitions with property
checks. Each formula: metadata at module level, sympy inside builders, numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import (
    Claim,
    Comparison,
    Erratum,
    Evidence,
    Formula,
    Step,
    as_float64,
    compare_forms,
    register,
    register_claim,
)


def _premise(claim, lhs, rhs, name, kind="definition", **extra):
    """A premise `lhs = rhs` that a later chain step uses by `name`."""
    return Step(claim, lhs, rhs, premise=kind, name=name, **extra)


def _symbols(*names, positive=()):
    import sympy as sp

    return [
        sp.Symbol(n, positive=True) if n in positive else sp.Symbol(n, real=True) for n in names
    ]


def _arrays(*values):
    import numpy as np

    return [np.asarray(v, dtype=np.float64) for v in values]


# --------------------------------------------------------------------------------------------
# sgd-update (a definition, with what the sheet says about it checked)


def _sgd_statement():
    import sympy as sp

    theta, g, lr = _symbols("theta", "g", "epsilon", positive=("epsilon",))
    return sp.Eq(sp.Symbol("theta_new"), theta - lr * g)


def _minibatch_means():
    """Per-example gradients (n = 6) and the mean gradient of every minibatch of size m."""
    import itertools

    import numpy as np

    grads = np.random.default_rng(0).normal(size=(6, 3))
    return grads, {
        m: np.array([grads[list(b)].mean(0) for b in itertools.combinations(range(6), m)])
        for m in (1, 2, 3, 6)
    }


def _sgd_properties() -> list[Step]:
    def unbiased() -> Comparison:
        import numpy as np

        grads, means = _minibatch_means()
        return Comparison(
            np.ravel([means[m].mean(0) for m in (1, 2, 3)]),
            np.ravel([grads.mean(0)] * 3),
            "n = 6: the average over all C(6, m) minibatches, m = 1, 2, 3",
        )

    def descends() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(1)
        M = rng.normal(size=(4, 4))
        A = M @ M.T + np.eye(4)
        before, after = [], []
        for _ in range(10):
            theta = rng.normal(size=4)
            lr = 0.9 / np.linalg.eigvalsh(A).max()  # below 2 / L: a descent step
            new = sgd_update(theta, A @ theta, lr)
            before.append(0.5 * theta @ A @ theta)
            after.append(0.5 * new @ A @ new)
        return Comparison(after, before, "L(theta - eps grad) vs L(theta), quadratic, eps < 2/L")

    return [
        Step(
            "for a sum-structured loss the minibatch gradient is unbiased",
            custom=unbiased,
            tolerance=1e-12,
        ),
        Step("a small enough step decreases the loss", relation="<", custom=descends),
    ]


def sgd_update(theta, grad, lr):
    """theta - lr * grad (torch.optim.SGD without momentum)."""
    theta, grad = _arrays(theta, grad)
    return as_float64(theta - lr * grad)


register(
    Formula(
        id="sgd-update",
        title="(Stochastic / mini-batch) gradient descent step",
        topic="optimizers",
        section="10.2",
        text="SGD: use 1 sample; for sum-structured loss the gradient is unbiased; high variance, "
        "may escape local minima, may overshoot. Mini-batch: m < n samples, more stable, parallel",
        keywords=(
            "sgd",
            "stochastic gradient descent",
            "minibatch",
            "mini-batch",
            "learning rate",
            "gradient descent",
            "unbiased",
        ),
        statement_builder=_sgd_statement,
        definition=True,
        properties_builder=_sgd_properties,
        evaluator=sgd_update,
        sheet_lines=(307, 307),
    )
)


def _sgd_claim_evidence() -> Evidence:
    import numpy as np

    grads, means = _minibatch_means()
    bias = float(max(np.max(np.abs(means[m].mean(0) - grads.mean(0))) for m in (1, 2, 3)))
    spread = {
        m: float(np.mean(np.sum((means[m] - grads.mean(0)) ** 2, axis=1))) for m in (1, 2, 3, 6)
    }
    holds = bias < 1e-12 and spread[1] > spread[2] > spread[3] > spread[6]
    return Evidence(
        sheet_fails=not holds,
        correct_passes=bool(holds),
        detail=f"n = 6 examples: bias of the minibatch gradient {bias:.1e} for m = 1, 2, 3; "
        "mean squared deviation from the full gradient "
        + ", ".join(f"m = {m}: {v:.3f}" for m, v in spread.items())
        + " (1 sample: highest variance; larger batches: more stable)",
    )


register_claim(
    Claim(
        id="sgd-minibatch",
        topic="optimizers",
        section="10.2",
        sheet_lines=(307, 307),
        sheet="SGD: use 1 sample. For sum structured loss is unbiased. High variance, efficient, "
        "jumps a lot => may get out of local min., may overshoot. Mini-batch: use m < n samples. "
        "More stable, parallelized",
        verdict="correct",
        explanation="a uniformly drawn example's (or minibatch's) gradient has the full "
        "gradient as its mean; its variance falls as m grows (exactly like (n - m)/(m (n - 1)) "
        "without replacement), and a batch is computed in parallel",
        source="Goodfellow et al. 2016, Sec. 8.1.3 and 8.3.1",
        check=_sgd_claim_evidence,
    )
)


# --------------------------------------------------------------------------------------------
# polyak-momentum-update: v <- alpha v - eps grad L(theta); theta <- theta + v


def _polyak_symbols():
    theta, v, g, alpha, lr = _symbols(
        "theta", "v", "g", "alpha", "epsilon", positive=("alpha", "epsilon")
    )
    v_new, theta_new = _symbols("v_new", "theta_new")
    return theta, v, g, alpha, lr, v_new, theta_new


def _polyak_statement():
    import sympy as sp

    theta, v, g, alpha, lr, v_new, theta_new = _polyak_symbols()
    return sp.Eq(theta_new, theta + alpha * v - lr * g)


def _polyak_derivation() -> list[Step]:
    theta, v, g, alpha, lr, v_new, theta_new = _polyak_symbols()
    return [
        _premise(
            "velocity v <- alpha v - eps grad L(theta), g = grad L(theta)",
            v_new,
            alpha * v - lr * g,
            "velocity",
        ),
        _premise("theta <- theta + v (with the new velocity)", theta_new, theta + v_new, "step"),
        Step("the step", theta_new, theta + v_new, uses=("step",)),
        Step("the velocity update", rhs=theta + alpha * v - lr * g, uses=("velocity",)),
    ]


def polyak_momentum_update(theta, grad, v, lr, momentum):
    """Sheet: v <- momentum v - lr grad, theta <- theta + v. Returns the new theta (the new
    velocity is new theta - theta). torch.optim.SGD(momentum=mu) is this with v = -lr * buf."""
    theta, grad, v = _arrays(theta, grad, v)
    return as_float64(theta + (momentum * v - lr * grad))


register(
    Formula(
        id="polyak-momentum-update",
        title="Polyak's (heavy-ball) momentum",
        topic="optimizers",
        section="10.2",
        text="velocity v <- alpha v - epsilon grad L(theta), theta <- theta + v; moves faster with "
        "high curvature, consistent or noisy gradients",
        keywords=("momentum", "polyak", "heavy ball", "velocity", "sgd momentum"),
        statement_builder=_polyak_statement,
        derivation_builder=_polyak_derivation,
        evaluator=polyak_momentum_update,
        sheet_lines=(307, 307),
    )
)


def _momentum_claim_evidence() -> Evidence:
    import numpy as np

    alpha, lr = 0.9, 0.01
    # consistent gradient g = 1: distance covered in 100 steps, with and without momentum
    theta_m, v, theta_s = 0.0, 0.0, 0.0
    for _ in range(100):
        theta_new = polyak_momentum_update(theta_m, 1.0, v, lr, alpha)
        v, theta_m = theta_new - theta_m, theta_new
        theta_s = sgd_update(theta_s, 1.0, lr)
    terminal = abs(v) / lr
    # noisy gradients: the velocity averages them (its spread is below the raw gradient's)
    rng = np.random.default_rng(2)
    noise = 1.0 + rng.normal(size=2000)
    velocities, v = [], 0.0
    for g in noise:
        v = alpha * v - lr * g
        velocities.append(-v * (1 - alpha) / lr)
    averaged = float(np.std(velocities[200:]))
    holds = (
        abs(theta_m) > 5 * abs(theta_s)
        and abs(terminal - 1 / (1 - alpha)) < 0.01
        and averaged < 0.5
    )
    return Evidence(
        sheet_fails=not holds,
        correct_passes=bool(holds),
        detail=f"constant gradient: 100 steps move {abs(theta_m):.2f} with momentum alpha = 0.9 "
        f"vs {abs(theta_s):.2f} without (terminal speed {terminal:.2f} eps = eps/(1-alpha)); "
        f"noisy gradients (std 1): the velocity's std is {averaged:.2f} of it",
    )


register_claim(
    Claim(
        id="momentum-faster",
        topic="optimizers",
        section="10.2",
        sheet_lines=(307, 307),
        sheet="Polyak's momentum ... Move faster when high curv., consistent or noisy grad.",
        verdict="correct",
        explanation="the velocity accumulates consistent gradients up to 1/(1 - alpha) times the "
        "plain step and averages out noise and oscillating components (high curvature)",
        source="Goodfellow et al. 2016, Sec. 8.3.2; Polyak 1964",
        check=_momentum_claim_evidence,
    )
)


# --------------------------------------------------------------------------------------------
# nesterov-update: v <- alpha v - eps grad L(theta + alpha v); theta <- theta + v


def _nesterov_symbols():
    import sympy as sp

    theta, v, alpha, lr = _symbols("theta", "v", "alpha", "epsilon", positive=("alpha", "epsilon"))
    v_new, theta_new = _symbols("v_new", "theta_new")
    return (
        sp,
        theta,
        v,
        alpha,
        lr,
        v_new,
        theta_new,
        sp.Function("nablaL"),
    )  # the gradient of L, a function of the point


def _nesterov_statement():
    sp, theta, v, alpha, lr, v_new, theta_new, grad = _nesterov_symbols()
    return sp.Eq(theta_new, theta + alpha * v - lr * grad(theta + alpha * v))


def _nesterov_derivation() -> list[Step]:
    sp, theta, v, alpha, lr, v_new, theta_new, grad = _nesterov_symbols()
    return [
        _premise(
            "velocity with the gradient at the look-ahead point theta + alpha v",
            v_new,
            alpha * v - lr * grad(theta + alpha * v),
            "velocity",
        ),
        _premise("theta <- theta + v", theta_new, theta + v_new, "step"),
        Step("the step", theta_new, theta + v_new, uses=("step",)),
        Step(
            "the velocity update",
            rhs=theta + alpha * v - lr * grad(theta + alpha * v),
            uses=("velocity",),
        ),
    ]


def nesterov_update(theta, grad, v, lr, momentum):
    """Sheet: v <- momentum v - lr grad L(theta + momentum v), theta <- theta + v; `grad` is the
    gradient at the look-ahead point theta + momentum * v. Returns the new theta.
    torch.optim.SGD(nesterov=True) stores p = theta + momentum * v instead of theta."""
    theta, grad, v = _arrays(theta, grad, v)
    return as_float64(theta + (momentum * v - lr * grad))


register(
    Formula(
        id="nesterov-update",
        title="Nesterov's accelerated momentum",
        topic="optimizers",
        section="10.2",
        text="v <- alpha v - epsilon grad L(theta + alpha v), theta <- theta + v: the gradient is "
        "taken at the future (look-ahead) point",
        keywords=("nesterov", "momentum", "look-ahead", "accelerated gradient", "nag"),
        statement_builder=_nesterov_statement,
        derivation_builder=_nesterov_derivation,
        evaluator=nesterov_update,
        sheet_lines=(307, 307),
    )
)


# --------------------------------------------------------------------------------------------
# adagrad-update and rmsprop-update: accumulate squared gradients, then scale the step


def _adaptive_symbols():
    theta, g, r, lr, delta, rho = _symbols(
        "theta", "g", "r", "epsilon", "delta", "rho", positive=("epsilon", "delta", "rho", "r")
    )
    r_new, step, theta_new = _symbols("r_new", "Delta theta", "theta_new")
    return theta, g, r, lr, delta, rho, r_new, step, theta_new


def _adagrad_statement():
    import sympy as sp

    theta, g, r, lr, delta, rho, r_new, step, theta_new = _adaptive_symbols()
    return sp.Eq(theta_new, theta - lr / (delta + sp.sqrt(r + g**2)) * g)


def _adaptive_derivation(accumulate, scale, names):
    def derivation() -> list[Step]:
        import sympy as sp

        theta, g, r, lr, delta, rho, r_new, step, theta_new = _adaptive_symbols()
        accumulated = accumulate(r, g, rho)
        return [
            _premise(names[0], r_new, accumulated, "accumulate"),
            _premise(names[1], step, -scale(sp, lr, delta, r_new) * g, "scale"),
            _premise("apply the step", theta_new, theta + step, "apply"),
            Step("apply the step", theta_new, theta + step, uses=("apply",)),
            Step("the scaled step", rhs=theta - scale(sp, lr, delta, r_new) * g, uses=("scale",)),
            Step(
                "with this step's accumulator",
                rhs=theta - scale(sp, lr, delta, accumulated) * g,
                uses=("accumulate",),
            ),
        ]

    return derivation


def adagrad_update(theta, grad, r, lr=1e-2, eps=1e-10):
    """r <- r + g * g; theta <- theta - lr g / (eps + sqrt(r)). `r` is the sum of squared
    gradients before this step (torch.optim.Adagrad's state_sum; torch's defaults)."""
    import numpy as np

    theta, grad, r = _arrays(theta, grad, r)
    r_new = r + grad * grad
    return as_float64(theta - lr * grad / (eps + np.sqrt(r_new)))


register(
    Formula(
        id="adagrad-update",
        title="AdaGrad",
        topic="optimizers",
        section="10.2",
        text="r <- r + grad . grad, Delta theta = -epsilon / (delta + sqrt(r)) . grad; steps "
        "shrink fast for variables with large historical gradients; may decay the LR too early",
        keywords=("adagrad", "adaptive learning rate", "accumulated squared gradient"),
        statement_builder=_adagrad_statement,
        derivation_builder=_adaptive_derivation(
            lambda r, g, rho: r + g**2,
            lambda sp, lr, delta, r: lr / (delta + sp.sqrt(r)),
            (
                "r <- r + g . g (elementwise)",
                "Delta theta = -eps / (delta + sqrt(r)) . g",
            ),
        ),
        evaluator=adagrad_update,
        sheet_lines=(307, 307),
    )
)


def _adagrad_claim_evidence() -> Evidence:
    import numpy as np

    g = np.array([10.0, 0.1])  # a coordinate with large and one with small gradients
    r = np.zeros(2)
    rates = []
    for _ in range(50):
        r = r + g * g
        rates.append(0.1 / (1e-10 + np.sqrt(r)))
    rates = np.array(rates)
    holds = rates[-1, 0] < rates[-1, 1] and rates[-1, 1] < rates[0, 1]
    return Evidence(
        sheet_fails=not holds,
        correct_passes=bool(holds),
        detail=f"eps = 0.1, gradients (10, 0.1): per-coordinate rate eps/sqrt(r) after 1 step "
        f"({rates[0, 0]:.3f}, {rates[0, 1]:.3f}), after 50 ({rates[-1, 0]:.4f}, "
        f"{rates[-1, 1]:.4f}): it only decreases, fastest where gradients were large",
    )


register_claim(
    Claim(
        id="adagrad-rates",
        topic="optimizers",
        section="10.2",
        sheet_lines=(307, 307),
        sheet="Grads decrease fast for variables with high historical gradients, slow for low. "
        "But can decrease LR too early/fast",
        verdict="correct",
        explanation="read 'grads' as the per-parameter learning rates: eps/(delta + sqrt(r)) "
        "falls fastest where the accumulated squared gradients are large, and since r only "
        "grows the rate can become too small too early",
        source="Goodfellow et al. 2016, Sec. 8.5.1; Duchi, Hazan & Singer 2011",
        check=_adagrad_claim_evidence,
    )
)


def _rmsprop_statement():
    import sympy as sp

    theta, g, r, lr, delta, rho, r_new, step, theta_new = _adaptive_symbols()
    return sp.Eq(theta_new, theta - lr / (sp.sqrt(rho * r + (1 - rho) * g**2) + delta) * g)


def rmsprop_update(theta, grad, r, lr=1e-2, rho=0.99, eps=1e-8):
    """r <- rho r + (1 - rho) g * g; theta <- theta - lr g / (sqrt(r) + eps); `r` before this
    step (torch.optim.RMSprop's square_avg with alpha = rho; torch's defaults)."""
    import numpy as np

    theta, grad, r = _arrays(theta, grad, r)
    r_new = rho * r + (1.0 - rho) * grad * grad
    return as_float64(theta - lr * grad / (np.sqrt(r_new) + eps))


register(
    Formula(
        id="rmsprop-update",
        title="RMSProp",
        topic="optimizers",
        section="10.2",
        text="r <- rho r + (1 - rho) grad . grad (weighted moving average: drops distant history, "
        "works better for nonconvex problems); Delta theta = -epsilon grad / (sqrt(r) + delta)",
        keywords=("rmsprop", "moving average", "squared gradient", "adaptive learning rate"),
        statement_builder=_rmsprop_statement,
        derivation_builder=_adaptive_derivation(
            lambda r, g, rho: rho * r + (1 - rho) * g**2,
            lambda sp, lr, delta, r: lr / (sp.sqrt(r) + delta),
            (
                "r <- rho r + (1 - rho) g . g (the sheet's line)",
                "Delta theta = -eps / (sqrt(r) + delta) . g (omitted on the sheet; Hinton's "
                "and torch's form)",
            ),
        ),
        evaluator=rmsprop_update,
        sheet_lines=(307, 309),
    )
)


def _rmsprop_claim_evidence() -> Evidence:
    import numpy as np

    rho = 0.9
    # an early burst of large gradients, then small ones: how much of r is still the burst?
    grads = np.concatenate([np.full(10, 10.0), np.full(50, 0.1)])
    r_rms, r_ada = 0.0, 0.0
    for g in grads:
        r_rms = rho * r_rms + (1 - rho) * g * g
        r_ada = r_ada + g * g
    step_rms = 0.01 * 0.1 / (np.sqrt(r_rms) + 1e-8)
    step_ada = 0.01 * 0.1 / (1e-10 + np.sqrt(r_ada))
    holds = step_rms > 10 * step_ada
    return Evidence(
        sheet_fails=not holds,
        correct_passes=bool(holds),
        detail=f"10 gradients of 10 then 50 of 0.1: RMSProp's r = {r_rms:.3g} (the burst "
        f"decayed by rho^50), AdaGrad's r = {r_ada:.3g}; the next step is {step_rms:.2e} vs "
        f"{step_ada:.2e}",
    )


register_claim(
    Claim(
        id="rmsprop-forgets",
        topic="optimizers",
        section="10.2",
        sheet_lines=(309, 309),
        sheet="use weighted moving average => drop history from distant past, works better for "
        "nonconvex",
        verdict="correct",
        explanation="the exponentially weighted average discards old squared gradients, so after "
        "leaving a steep region the step size recovers (AdaGrad's never does)",
        source="Goodfellow et al. 2016, Sec. 8.5.2; Hinton, Coursera lecture 6e",
        check=_rmsprop_claim_evidence,
    )
)
register_claim(
    Claim(
        id="rmsprop-step-omitted",
        topic="optimizers",
        section="10.2",
        sheet_lines=(307, 309),
        sheet="RMSProp: r <- rho r + (1 - rho) grad . grad, use weighted moving average ...",
        verdict="typo",
        explanation="the sheet gives RMSProp's accumulator but omits its parameter update, "
        "Delta theta = -eps / (delta + sqrt(r)) . grad (Goodfellow et al. write sqrt(delta + r)); "
        "without it the entry does not define a step",
        source="Goodfellow et al. 2016, Algorithm 8.5; Hinton, Coursera lecture 6e",
        correct="r <- rho r + (1 - rho) g . g, Delta theta = -eps / (delta + sqrt(r)) . g",
    )
)


# --------------------------------------------------------------------------------------------
# adam-update (a definition; erratum: eps goes outside the square root)


def _adam_statement():
    import sympy as sp

    theta, m_hat, v_hat = (sp.Symbol(n, real=True) for n in ("theta", "hat{m}", "hat{v}"))
    eta, eps = sp.Symbol("eta", positive=True), sp.Symbol("epsilon", positive=True)
    return sp.Eq(sp.Symbol("theta_new"), theta - eta * m_hat / (sp.sqrt(v_hat) + eps))


def _adam_properties() -> list[Step]:
    import sympy as sp

    beta = sp.Symbol("beta", positive=True)
    g = sp.Symbol("g", real=True)
    t = 5
    m = v = sp.Integer(0)
    for _ in range(t):
        m = beta * m + (1 - beta) * g
        v = beta * v + (1 - beta) * g**2

    def bounded() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(3)
        steps = []
        for _ in range(20):
            theta, m_, v_ = np.zeros(4), np.zeros(4), np.zeros(4)
            for step in range(1, 30):
                g_ = rng.normal(size=4) * rng.uniform(0.01, 100)
                new = adam_update(theta, g_, m_, v_, step, lr=1e-3)
                steps.append(float(np.max(np.abs(new - theta))))
                m_ = 0.9 * m_ + 0.1 * g_
                v_ = 0.999 * v_ + 0.001 * g_ * g_
                theta = new
        # |m_hat| / sqrt(v_hat) <= (1 - b1) / sqrt(1 - b2) ~ 3.2 (Kingma & Ba, Sec. 2.1)
        return Comparison(steps, [1e-3 * 0.1 / np.sqrt(0.001) * 1.0001] * len(steps), "20 runs")

    return [
        Step(
            "bias correction: from m_0 = 0 with a constant gradient, m_t / (1 - beta^t) = g "
            "(t = 5): the first moment estimate is unbiased",
            m / (1 - beta**t),
            g,
            assumptions="beta != 1",
        ),
        Step(
            "likewise v_t / (1 - beta^t) = g^2 for the second moment",
            v / (1 - beta**t),
            g**2,
            assumptions="beta != 1",
        ),
        Step(
            "the step is bounded by about eta (1 - beta1) / sqrt(1 - beta2), whatever the "
            "gradient's scale",
            relation="<=",
            custom=bounded,
        ),
    ]


def adam_update(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam (Kingma & Ba, Algorithm 1; torch.optim.Adam): m, v are the moments before this
    step, t this step's number (1 for the first). Returns the new theta:
    theta - lr m_hat / (sqrt(v_hat) + eps) (formula adam-update)."""
    import numpy as np

    theta, grad, m, v = _arrays(theta, grad, m, v)
    m = beta1 * m + (1.0 - beta1) * grad
    v = beta2 * v + (1.0 - beta2) * grad * grad
    m_hat = m / (1.0 - beta1**t)
    v_hat = v / (1.0 - beta2**t)
    return as_float64(theta - lr * m_hat / (np.sqrt(v_hat) + eps))


def _adam_evidence() -> Evidence:
    import numpy as np
    import torch

    rng = np.random.default_rng(0)
    theta0 = rng.normal(size=8)
    # small gradients (~1e-4) are where eps matters: v_hat ~ 1e-8 ~ eps
    grads = [rng.normal(size=8) * 1e-4 for _ in range(5)]
    param = torch.tensor(theta0, requires_grad=True)
    optimizer = torch.optim.Adam([param], lr=1e-3, eps=1e-8)
    right, sheet = theta0.copy(), theta0.copy()
    m = np.zeros(8)
    v = np.zeros(8)
    for t, g in enumerate(grads, start=1):
        param.grad = torch.tensor(g)
        optimizer.step()
        right = adam_update(right, g, m, v, t)
        m_new, v_new = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        m_hat, v_hat = m_new / (1 - 0.9**t), v_new / (1 - 0.999**t)
        sheet = sheet - 1e-3 / np.sqrt(v_hat + 1e-8) * m_hat
        m, v = m_new, v_new
    # compare the displacement theta_5 - theta_0 (where the forms differ)
    return compare_forms(
        reference=param.detach().numpy() - theta0,
        sheet=sheet - theta0,
        correct=right - theta0,
        reference_name="torch.optim.Adam's displacement after 5 steps (gradients ~1e-4)",
        tolerance=1e-6,
    )


register(
    Formula(
        id="adam-update",
        title="Adam",
        topic="optimizers",
        section="10.2",
        text="collect 1st and 2nd moments m <- beta1 m + (1-beta1) grad, v <- beta2 v + (1-beta2) "
        "grad . grad; bias correction (unbiased) m_hat = m/(1-beta1^t), v_hat = v/(1-beta2^t); "
        "Delta theta = -eta m_hat / (sqrt(v_hat) + epsilon)",
        keywords=(
            "adam",
            "adaptive moments",
            "bias correction",
            "first moment",
            "second moment",
            "beta1",
            "beta2",
            "epsilon",
        ),
        statement_builder=_adam_statement,
        definition=True,
        properties_builder=_adam_properties,
        evaluator=adam_update,
        sheet_lines=(309, 309),
        erratum=Erratum(
            sheet=r"\Delta\theta = -\frac{\eta}{\sqrt{\hat v + \epsilon}} \hat m",
            correct=r"\Delta\theta = -\frac{\eta\, \hat m}{\sqrt{\hat v} + \epsilon}",
            explanation="Adam adds epsilon to the square root, not under it (Kingma & Ba, "
            "Algorithm 1; torch.optim.Adam); under the root eps = 1e-8 acts like 1e-4 outside "
            "it, so the steps differ when v_hat is small",
            evidence=_adam_evidence,
            severity="error",
            sheet_lines=(309, 309),
        ),
    )
)
