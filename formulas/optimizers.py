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

Each formula: metadata at module level, sympy inside builders, numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import Erratum, Evidence, Formula, Step, as_float64, register


def _arrays(*values):
    import numpy as np

    return [np.asarray(v, dtype=np.float64) for v in values]


# --------------------------------------------------------------------------------------------
# sgd-update


def _sgd_statement():
    import sympy as sp

    theta, g, lr = (
        sp.Symbol("theta", real=True),
        sp.Symbol("g", real=True),
        sp.Symbol("epsilon", positive=True),
    )
    return sp.Eq(sp.Symbol("theta_new"), theta - lr * g)


def _minibatch_derivation() -> list[Step]:
    from formulas.core import StepResult

    def unbiased() -> StepResult:
        import itertools

        import numpy as np

        grads = np.random.default_rng(0).normal(size=(6, 3))
        for m in (1, 2, 3):
            batches = list(itertools.combinations(range(6), m))
            mean = np.mean([grads[list(b)].mean(0) for b in batches], axis=0)
            if np.max(np.abs(mean - grads.mean(0))) > 1e-12:
                return StepResult(False, "custom", f"biased for m={m}")
        return StepResult(True, "custom", "n=6: every minibatch size m=1..3, all subsets")

    return [
        Step(
            "for a loss that is a sum (mean) over examples, the gradient of a uniformly drawn "
            "minibatch is an unbiased estimate of the full gradient",
            justification="average over all C(n, m) minibatches, enumerated",
            custom=unbiased,
        )
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
        derivation_builder=_minibatch_derivation,
        evaluator=sgd_update,
    )
)


# --------------------------------------------------------------------------------------------
# polyak-momentum-update: v <- alpha v - eps grad; theta <- theta + v


def _polyak_statement():
    import sympy as sp

    theta, v, g = (sp.Symbol(n, real=True) for n in ("theta", "v", "g"))
    alpha, lr = sp.Symbol("alpha", positive=True), sp.Symbol("epsilon", positive=True)
    return sp.Eq(sp.Symbol("theta_new"), theta + alpha * v - lr * g)


def _polyak_derivation() -> list[Step]:
    import sympy as sp

    alpha, lr = sp.Symbol("alpha", positive=True), sp.Symbol("epsilon", positive=True)
    g = sp.Symbol("g", real=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    n = 6
    v = sp.Integer(0)
    for _ in range(n):  # constant gradient: the velocity is a geometric sum
        v = alpha * v - lr * g
    return [
        Step(
            "constant gradient g from v_0 = 0: after 6 steps v = -eps g sum_{k<6} alpha^k, so the "
            "terminal speed is eps g / (1 - alpha): momentum moves up to 1/(1-alpha) times faster",
            v,
            -lr * g * sp.Sum(alpha**k, (k, 0, n - 1)),
        ),
        Step(
            "torch's form buf <- mu buf + g, theta <- theta - lr buf is the same with v = -lr buf",
            alpha * (-lr * sp.Symbol("b", real=True)) - lr * g,
            -lr * (alpha * sp.Symbol("b", real=True) + g),
        ),
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
    )
)


# --------------------------------------------------------------------------------------------
# nesterov-update: v <- alpha v - eps grad L(theta + alpha v); theta <- theta + v


def _nesterov_statement():
    import sympy as sp

    theta, v = (sp.Symbol(n, real=True) for n in ("theta", "v"))
    alpha, lr = sp.Symbol("alpha", positive=True), sp.Symbol("epsilon", positive=True)
    grad = sp.Function("nabla L")
    return sp.Eq(sp.Symbol("theta_new"), theta + alpha * v - lr * grad(theta + alpha * v))


def _nesterov_derivation() -> list[Step]:
    import sympy as sp

    alpha, lr = sp.Symbol("alpha", positive=True), sp.Symbol("epsilon", positive=True)
    theta, v, g = (sp.Symbol(n, real=True) for n in ("theta", "v", "g"))
    v_new = alpha * v - lr * g  # g = grad at the look-ahead point theta + alpha v
    lookahead = theta + alpha * v
    buf = -v / lr
    buf_new = alpha * buf + g
    return [
        Step(
            "in the look-ahead variable p = theta + alpha v the update is torch's "
            "p <- p - lr (g + mu buf_new), buf_new = mu buf + g, with buf = -v/lr",
            (theta + v_new) + alpha * v_new,
            lookahead - lr * (g + alpha * buf_new),
            justification="substitute v_new = alpha v - lr g(p) (Sutskever et al. 2013)",
        )
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
    )
)


# --------------------------------------------------------------------------------------------
# adagrad-update


def _adagrad_statement():
    import sympy as sp

    theta, g, r = (sp.Symbol(n, real=True) for n in ("theta", "g", "r"))
    lr, delta = sp.Symbol("epsilon", positive=True), sp.Symbol("delta", positive=True)
    return sp.Eq(sp.Symbol("theta_new"), theta - lr / (delta + sp.sqrt(r + g**2)) * g)


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
        evaluator=adagrad_update,
    )
)


# --------------------------------------------------------------------------------------------
# rmsprop-update


def _rmsprop_statement():
    import sympy as sp

    theta, g, r = (sp.Symbol(n, real=True) for n in ("theta", "g", "r"))
    lr, delta, rho = (sp.Symbol(n, positive=True) for n in ("epsilon", "delta", "rho"))
    r_new = rho * r + (1 - rho) * g**2
    return sp.Eq(sp.Symbol("theta_new"), theta - lr / (sp.sqrt(r_new) + delta) * g)


def _rmsprop_derivation() -> list[Step]:
    import sympy as sp

    rho = sp.Symbol("rho", positive=True)
    g = sp.symbols("g_1:5", real=True)
    r = sp.Integer(0)
    for gi in g:
        r = rho * r + (1 - rho) * gi**2
    return [
        Step(
            "from r_0 = 0 the accumulator is an exponentially weighted average of past squared "
            "gradients (weights (1 - rho) rho^{t-i}): the distant past is forgotten",
            r,
            sum((1 - rho) * rho ** (len(g) - 1 - i) * gi**2 for i, gi in enumerate(g)),
        )
    ]


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
        derivation_builder=_rmsprop_derivation,
        evaluator=rmsprop_update,
    )
)


# --------------------------------------------------------------------------------------------
# adam-update (erratum: eps goes outside the square root)


def _adam_statement():
    import sympy as sp

    theta, m_hat, v_hat = (sp.Symbol(n, real=True) for n in ("theta", "hat{m}", "hat{v}"))
    eta, eps = sp.Symbol("eta", positive=True), sp.Symbol("epsilon", positive=True)
    return sp.Eq(sp.Symbol("theta_new"), theta - eta * m_hat / (sp.sqrt(v_hat) + eps))


def _adam_derivation() -> list[Step]:
    import sympy as sp

    beta = sp.Symbol("beta", positive=True)
    g = sp.Symbol("g", real=True)
    m = sp.Integer(0)
    steps = 5
    for _ in range(steps):
        m = beta * m + (1 - beta) * g
    return [
        Step(
            "from m_0 = 0 and a constant gradient g, after t = 5 steps m_t = (1 - beta^t) g: the "
            "moment is biased towards zero",
            m,
            (1 - beta**steps) * g,
        ),
        Step(
            "so dividing by (1 - beta^t) removes the bias: hat m_t = g",
            m / (1 - beta**steps),
            g,
            assumptions="beta != 1",
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
    worst_right = worst_sheet = 0.0
    for t, g in enumerate(grads, start=1):
        param.grad = torch.tensor(g)
        optimizer.step()
        right = adam_update(right, g, m, v, t)
        m_new, v_new = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        m_hat, v_hat = m_new / (1 - 0.9**t), v_new / (1 - 0.999**t)
        sheet = sheet - 1e-3 / np.sqrt(v_hat + 1e-8) * m_hat
        m, v = m_new, v_new
        reference = param.detach().numpy()
        worst_right = max(worst_right, np.max(np.abs(right - reference)))
        worst_sheet = max(worst_sheet, np.max(np.abs(sheet - reference)))
    return Evidence(
        sheet_fails=bool(worst_sheet > 1e-6),
        correct_passes=bool(worst_right < 1e-12),
        detail=f"5 steps against torch.optim.Adam (gradients ~1e-4): max |theta - torch| is "
        f"{worst_right:.1e} for eta m_hat/(sqrt(v_hat)+eps) and {worst_sheet:.1e} for the sheet's "
        f"eta m_hat/sqrt(v_hat+eps)",
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
        derivation_builder=_adam_derivation,
        evaluator=adam_update,
        erratum=Erratum(
            sheet=r"\Delta\theta = -\frac{\eta}{\sqrt{\hat v + \epsilon}} \hat m",
            correct=r"\Delta\theta = -\frac{\eta\, \hat m}{\sqrt{\hat v} + \epsilon}",
            explanation="epsilon is added to the square root, not under it (Kingma & Ba, "
            "Algorithm 1; torch.optim.Adam); the two differ when v_hat is of the order of eps",
            evidence=_adam_evidence,
        ),
    )
)
