"""ML basics (sheet section 10 and 10.1): perceptron, MAP/MLE, cross-entropy, activations,
universal approximation, MLP backpropagation.

MLP conventions (the sheet's): a^(l) = W^(l) z^(l-1) + b^(l), z^(l) = f(a^(l)), and
delta^(l) := dL/dz^(l), the gradient w.r.t. a layer's *output*.

Each formula: metadata at module level, sympy inside builders, numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import Erratum, Evidence, Formula, Step, StepResult, as_float64, register

# --------------------------------------------------------------------------------------------
# perceptron


def _perceptron_statement():
    import sympy as sp

    w, x = sp.Symbol("w"), sp.Symbol("x")
    y = sp.Symbol("y")
    return sp.Eq(
        sp.Symbol("w_new"), sp.Piecewise((w + y * x, sp.Symbol("y w^T x") <= 0), (w, True))
    )


def _perceptron_derivation() -> list[Step]:
    def novikoff() -> StepResult:
        import numpy as np

        rng = np.random.default_rng(0)
        for trial in range(5):
            w_true = rng.normal(size=3)
            X = rng.normal(size=(200, 3))
            margins = X @ w_true / np.linalg.norm(w_true)
            keep = np.abs(margins) > 0.1  # a margin gamma >= 0.1
            X, y = X[keep], np.sign(margins[keep])
            R = np.max(np.linalg.norm(X, axis=1))
            gamma = np.min(np.abs(X @ w_true)) / np.linalg.norm(w_true)
            w, mistakes = np.zeros(3), 0
            for _ in range(1000):
                changed = False
                for x_i, y_i in zip(X, y):
                    new = perceptron_update(w, x_i, y_i)
                    if np.any(new != w):
                        mistakes, changed, w = mistakes + 1, True, new
                if not changed:
                    break
            if changed or mistakes > (R / gamma) ** 2 or np.any(np.sign(X @ w) != y):
                return StepResult(False, "custom", f"trial {trial}: {mistakes} mistakes")
        return StepResult(
            True,
            "custom",
            "5 separable data sets: converged with at most (R/gamma)^2 mistakes",
        )

    return [
        Step(
            "on linearly separable data with margin gamma and radius R the perceptron "
            "makes at most (R/gamma)^2 updates (Novikoff), i.e. converges in finite time",
            custom=novikoff,
        )
    ]


def perceptron_update(w, x, y):
    """w + y x if the example is misclassified (y w^T x <= 0), else w; labels y in {-1, +1}."""
    import numpy as np

    w, x = np.asarray(w, dtype=np.float64), np.asarray(x, dtype=np.float64)
    return as_float64(w + y * x if y * (w @ x) <= 0 else w)


register(
    Formula(
        id="perceptron-update",
        title="Perceptron learning rule",
        topic="ml",
        section="10",
        text="the perceptron converges in finite time iff the data is linearly separable; update "
        "w <- w + y x on a mistake",
        keywords=("perceptron", "linearly separable", "novikoff", "mistake bound", "rosenblatt"),
        statement_builder=_perceptron_statement,
        derivation_builder=_perceptron_derivation,
        evaluator=perceptron_update,
    )
)


# --------------------------------------------------------------------------------------------
# mle-estimate and map-estimate (linear-Gaussian model as the worked instance)


def _mle_statement():
    import sympy as sp

    return sp.Eq(sp.Symbol("theta_MLE"), sp.Symbol("argmax_theta p(y | X, theta)"))


def _mle_derivation() -> list[Step]:
    import sympy as sp

    theta = sp.Symbol("theta", real=True)
    s2 = sp.Symbol("sigma^2", positive=True)
    xs = sp.symbols("x_1:4", real=True)
    ys = sp.symbols("y_1:4", real=True)
    log_lik = sum(
        -sp.log(2 * sp.pi * s2) / 2 - (y - theta * x) ** 2 / (2 * s2) for x, y in zip(xs, ys)
    )
    return [
        Step(
            "Gaussian noise: -log p(y|X,theta) is the squared error up to constants, so the MLE "
            "is least squares (3 points, one weight; d/dtheta of both sides agree)",
            sp.diff(-log_lik, theta),
            sp.diff(sum((y - theta * x) ** 2 for x, y in zip(xs, ys)) / (2 * s2), theta),
        ),
        Step(
            "setting the derivative to 0: theta = sum x y / sum x^2",
            sp.solve(sp.diff(log_lik, theta), theta)[0],
            sum(x * y for x, y in zip(xs, ys)) / sum(x**2 for x in xs),
        ),
    ]


def mle_estimate(X, y):
    """MLE of the weights of y = X theta + Gaussian noise: least squares (X^T X)^{-1} X^T y."""
    import numpy as np

    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return as_float64(np.linalg.lstsq(X, y, rcond=None)[0])


register(
    Formula(
        id="mle-estimate",
        title="Maximum likelihood estimation",
        topic="ml",
        section="10",
        text="MLE theta in argmax p(y | X, theta): consistent, efficient; with Gaussian noise it "
        "is least squares",
        keywords=(
            "mle",
            "maximum likelihood",
            "likelihood",
            "least squares",
            "consistent",
            "efficient",
        ),
        statement_builder=_mle_statement,
        derivation_builder=_mle_derivation,
        evaluator=mle_estimate,
    )
)


def _map_statement():
    import sympy as sp

    return sp.Eq(sp.Symbol("theta_MAP"), sp.Symbol("argmax_theta p(theta | X, y)"))


def _map_derivation() -> list[Step]:
    import sympy as sp

    lik, prior, evidence = (
        sp.Symbol(n, positive=True) for n in ("p(y|X,theta)", "p(theta)", "p(y|X)")
    )
    theta = sp.Symbol("theta", real=True)
    s2, t2 = sp.Symbol("sigma^2", positive=True), sp.Symbol("tau^2", positive=True)
    xs, ys = sp.symbols("x_1:4", real=True), sp.symbols("y_1:4", real=True)
    log_post = sum(-((y - theta * x) ** 2) / (2 * s2) for x, y in zip(xs, ys)) - theta**2 / (2 * t2)
    return [
        Step(
            "Bayes: log p(theta|X,y) = log p(y|X,theta) + log p(theta) - log p(y|X); the evidence "
            "does not depend on theta, so it drops out of the argmax",
            sp.expand_log(sp.log(lik * prior / evidence), force=True),
            sp.log(lik) + sp.log(prior) - sp.log(evidence),
        ),
        Step(
            "Gaussian prior N(0, tau^2): the MAP is ridge regression with lambda = sigma^2/tau^2",
            sp.solve(sp.diff(log_post, theta), theta)[0],
            sum(x * y for x, y in zip(xs, ys)) / (sum(x**2 for x in xs) + s2 / t2),
        ),
    ]


def map_estimate(X, y, noise_var, prior_var):
    """MAP weights of y = X theta + N(0, noise_var) noise under a N(0, prior_var I) prior:
    (X^T X + (noise_var/prior_var) I)^{-1} X^T y (ridge regression)."""
    import numpy as np

    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    lam = noise_var / prior_var
    return as_float64(np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y))


register(
    Formula(
        id="map-estimate",
        title="Maximum a posteriori estimation",
        topic="ml",
        section="10",
        text="MAP theta* in argmax p(theta | X, y) = argmax p(y|X,theta) p(theta); a Gaussian "
        "prior gives L2 regularisation (ridge)",
        keywords=(
            "map",
            "maximum a posteriori",
            "posterior",
            "prior",
            "ridge",
            "regularisation",
            "bayes",
        ),
        statement_builder=_map_statement,
        derivation_builder=_map_derivation,
        evaluator=map_estimate,
    )
)


# --------------------------------------------------------------------------------------------
# binary-cross-entropy, cross-entropy-decomposition


def _bce_statement():
    import sympy as sp

    y = sp.Symbol("y_i", nonnegative=True)
    yh = sp.Symbol("hat{y}_i", positive=True)
    return sp.Eq(sp.Symbol("L"), -y * sp.log(yh) - (1 - y) * sp.log(1 - yh))


def _bce_derivation() -> list[Step]:
    import sympy as sp

    p = sp.Symbol("hat{y}", positive=True)
    y = sp.Symbol("y", integer=True, nonnegative=True)
    return [
        Step(
            "BCE is the negative log-likelihood of a Bernoulli(hat y): "
            "-log(hat y^y (1-hat y)^(1-y))",
            sp.expand_log(-sp.log(p**y * (1 - p) ** (1 - y)), force=True),
            -y * sp.log(p) - (1 - y) * sp.log(1 - p),
            assumptions="0 < hat y < 1",
        )
    ]


def binary_cross_entropy(y, y_hat):
    """-y log(y_hat) - (1 - y) log(1 - y_hat), elementwise."""
    import numpy as np

    y, y_hat = np.asarray(y, dtype=np.float64), np.asarray(y_hat, dtype=np.float64)
    return as_float64(-y * np.log(y_hat) - (1 - y) * np.log1p(-y_hat))


register(
    Formula(
        id="binary-cross-entropy",
        title="Binary cross-entropy",
        topic="ml",
        section="10",
        text="binary cross-entropy L(theta) = -y_i log(hat y_i) - (1 - y_i) log(1 - hat y_i)",
        keywords=("bce", "binary cross-entropy", "log loss", "logistic", "bernoulli", "nll"),
        statement_builder=_bce_statement,
        derivation_builder=_bce_derivation,
        evaluator=binary_cross_entropy,
    )
)


def _ce_statement():
    import sympy as sp

    return sp.Eq(sp.Symbol("H(p_d, p_m)"), sp.Symbol("H(p_d)") + sp.Symbol("D_KL(p_d || p_m)"))


def _ce_derivation() -> list[Step]:
    import sympy as sp

    p1, p2, q1, q2 = sp.symbols("p_1 p_2 q_1 q_2", positive=True)
    p = [p1, p2, 1 - p1 - p2]
    q = [q1, q2, 1 - q1 - q2]

    def sampler(rng):
        def simplex():
            a, b = sorted(rng.sample(range(1, 100), 2))
            return sp.Rational(a, 100), sp.Rational(b - a, 100)

        (a, b), (c, d) = simplex(), simplex()
        return {p1: a, p2: b, q1: c, q2: d}

    cross = -sum(pi * sp.log(qi) for pi, qi in zip(p, q))
    entropy = -sum(pi * sp.log(pi) for pi in p)
    kl = sum(pi * sp.log(pi / qi) for pi, qi in zip(p, q))
    return [
        Step(
            "-sum p log q = -sum p log p + sum p log(p/q) (three outcomes)",
            cross,
            entropy + kl,
            assumptions="p, q on the simplex",
            sampler=sampler,
        ),
        Step(
            "Gibbs: KL >= 0, so the cross-entropy is at least the entropy; minimising H(p_d, p_m) "
            "over the model = minimising the KL = maximum likelihood",
            kl,
            sp.Integer(0),
            relation=">=",
            sampler=sampler,
            method="numeric",
        ),
    ]


def cross_entropy(p, q):
    """H(p, q) = -sum p log q over the last axis (= H(p) + KL(p || q))."""
    import numpy as np

    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    return as_float64(-np.sum(np.where(p > 0, p * np.log(q), 0.0), axis=-1))


register(
    Formula(
        id="cross-entropy-decomposition",
        title="Cross-entropy = entropy + KL divergence",
        topic="ml",
        section="10",
        text="cross-entropy H(p_d, p_m) = H(p_d) + D_KL(p_d || p_m)",
        keywords=(
            "cross-entropy",
            "entropy",
            "kl",
            "kullback-leibler",
            "decomposition",
            "maximum likelihood",
        ),
        statement_builder=_ce_statement,
        derivation_builder=_ce_derivation,
        evaluator=cross_entropy,
    )
)


# --------------------------------------------------------------------------------------------
# universal approximation (a quantitative claim, checked by construction)


def _uat_statement():
    import sympy as sp

    return sp.Le(sp.Symbol("|g(x) - f(x)|"), sp.Symbol("epsilon", positive=True))


def _uat_derivation() -> list[Step]:
    def construction() -> StepResult:
        import numpy as np

        x = np.linspace(0, 2 * np.pi, 2001)
        f = np.sin(3 * x) + 0.5 * np.cos(x)
        for epsilon in (0.1, 0.01, 0.001):
            n = 8
            while True:
                knots = np.linspace(0, 2 * np.pi, n + 1)
                values = np.sin(3 * knots) + 0.5 * np.cos(knots)
                slopes = np.diff(values) / np.diff(knots)
                # one hidden ReLU layer: g(x) = f(x_0) + sum_i c_i relu(x - x_i)
                coefficients = np.concatenate([[slopes[0]], np.diff(slopes)])
                hidden = np.maximum(0.0, x[:, None] - knots[None, :-1])
                g = values[0] + hidden @ coefficients
                if np.max(np.abs(g - f)) < epsilon:
                    break
                n *= 2
                if n > 10**5:
                    return StepResult(False, "custom", f"no net found for eps={epsilon}")
        return StepResult(
            True,
            "custom",
            "sin(3x) + cos(x)/2 on [0, 2 pi] within 1e-3 by one "
            "hidden ReLU layer (piecewise-linear interpolant)",
        )

    return [
        Step(
            "for a continuous f on a compact set and any eps there is a one-hidden-layer "
            "network g with |g - f| < eps (constructed explicitly)",
            custom=construction,
        )
    ]


register(
    Formula(
        id="universal-approximation",
        title="Universal approximation theorem",
        topic="ml",
        section="10",
        text="for any continuous f there exists a NN g with |g(x) - f(x)| < epsilon; 1 hidden "
        "layer is enough, the activation function needs to be nonlinear",
        keywords=(
            "universal approximation",
            "uat",
            "one hidden layer",
            "nonlinear activation",
            "expressivity",
        ),
        statement_builder=_uat_statement,
        derivation_builder=_uat_derivation,
    )
)


# --------------------------------------------------------------------------------------------
# activations and their derivatives


def _activation(
    name,
    title,
    f_text,
    keywords,
    f_builder,
    fprime_builder,
    evaluator,
    derivative,
    range_steps,
    erratum=None,
):
    """Register an activation f and its derivative f' as two formulas."""

    def statement():
        import sympy as sp

        x = sp.Symbol("x", real=True)
        return sp.Eq(sp.Function(name)(x), f_builder(sp, x))

    def derivation():
        import sympy as sp

        x = sp.Symbol("x", real=True)
        return range_steps(sp, x)

    def d_statement():
        import sympy as sp

        x = sp.Symbol("x", real=True)
        return sp.Eq(sp.Derivative(sp.Function(name)(x), x), fprime_builder(sp, x))

    def d_derivation():
        import sympy as sp

        x = sp.Symbol("x", real=True)
        return [
            Step(
                f"differentiate {name}(x) and rewrite in terms of {name}(x)",
                sp.diff(f_builder(sp, x), x),
                fprime_builder(sp, x),
                assumptions="x != 0" if name == "relu" else "",
            )
        ]

    register(
        Formula(
            id=name,
            title=title,
            topic="ml",
            section="10.1",
            text=f_text,
            keywords=keywords,
            statement_builder=statement,
            derivation_builder=derivation,
            evaluator=evaluator,
        )
    )
    register(
        Formula(
            id=f"{name}-derivative",
            title=f"Derivative of {title.lower()}",
            topic="ml",
            section="10.1",
            text=f_text,
            keywords=(*keywords, "derivative", "gradient", "f prime"),
            statement_builder=d_statement,
            derivation_builder=d_derivation if name != "relu" else None,
            evaluator=derivative,
            erratum=erratum,
        )
    )


def _sigmoid(x):
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    return as_float64(0.5 * (1.0 + np.tanh(0.5 * x)))  # = 1/(1+e^-x), no overflow


def _sigmoid_prime(x):
    s = _sigmoid(x)
    return as_float64(s * (1.0 - s))


def _tanh(x):
    import numpy as np

    return as_float64(np.tanh(np.asarray(x, dtype=np.float64)))


def _tanh_prime(x):
    import numpy as np

    return as_float64(1.0 - np.tanh(np.asarray(x, dtype=np.float64)) ** 2)


def _relu(x):
    import numpy as np

    return as_float64(np.maximum(0.0, np.asarray(x, dtype=np.float64)))


def _relu_prime(x):
    """[x > 0]: 1 for x > 0, 0 for x < 0; at the kink x = 0 we use 0, torch's and JAX's choice
    (any value in [0, 1] is a subgradient there)."""
    import numpy as np

    return as_float64(np.asarray(x, dtype=np.float64) > 0)


def _relu_evidence() -> Evidence:
    import numpy as np
    import torch

    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    xt = torch.tensor(x, requires_grad=True)
    torch.relu(xt).sum().backward()
    reference = xt.grad.numpy()
    sheet = (x >= 0).astype(float)
    return Evidence(
        sheet_fails=bool(np.any(sheet != reference)),
        correct_passes=bool(np.all(_relu_prime(x) == reference)),
        detail=f"torch.autograd of relu at {x.tolist()} gives {reference.tolist()}; the sheet's "
        f"[x >= 0] gives {sheet.tolist()} (differs at 0, where relu has no derivative and "
        f"frameworks pick the subgradient 0)",
    )


def _sigmoid_ranges(sp, x):
    s = 1 / (1 + sp.exp(-x))
    return [
        Step("sigma(x) -> 0 as x -> -oo", sp.Limit(s, x, -sp.oo), sp.Integer(0)),
        Step(
            "sigma(x) -> 1 as x -> oo (range (0, 1): probabilities)",
            sp.Limit(s, x, sp.oo),
            sp.Integer(1),
        ),
        Step(
            "saturation: sigma'(x) -> 0 for large |x| (vanishing gradients)",
            sp.Limit(sp.diff(s, x), x, sp.oo),
            sp.Integer(0),
        ),
        Step("symmetry: sigma(-x) = 1 - sigma(x)", s.subs(x, -x), 1 - s),
    ]


def _tanh_ranges(sp, x):
    t = (sp.exp(x) - sp.exp(-x)) / (sp.exp(x) + sp.exp(-x))
    return [
        Step("the exponential form is tanh", t, sp.tanh(x).rewrite(sp.exp)),
        Step("tanh -> 1 as x -> oo (range (-1, 1))", sp.Limit(t, x, sp.oo), sp.Integer(1)),
        Step(
            "tanh is linear around 0: slope 1 at x = 0",
            sp.diff(sp.tanh(x), x).subs(x, 0),
            sp.Integer(1),
        ),
    ]


def _relu_ranges(sp, x):
    return [
        Step(
            "max(0, x) >= 0: range [0, oo)",
            sp.Max(0, x),
            sp.Integer(0),
            relation=">=",
            method="numeric",
        ),
        Step(
            "piecewise linear: relu(x) = x for x > 0",
            sp.Max(0, sp.Symbol("y", positive=True)),
            sp.Symbol("y", positive=True),
        ),
    ]


_activation(
    "sigmoid",
    "Sigmoid (logistic) activation",
    "sigmoid f(x) = 1/(1+e^{-x}), f'(x) = sigma(x)(1 - sigma(x)), range (0, 1); saturates => "
    "vanishing gradient; finite range: stable training, maps to probability space",
    ("sigmoid", "logistic", "activation", "saturation", "vanishing gradient"),
    lambda sp, x: 1 / (1 + sp.exp(-x)),
    lambda sp, x: (1 / (1 + sp.exp(-x))) * (1 - 1 / (1 + sp.exp(-x))),
    _sigmoid,
    _sigmoid_prime,
    _sigmoid_ranges,
)
_activation(
    "tanh",
    "Tanh activation",
    "tanh f(x) = (e^x - e^{-x})/(e^x + e^{-x}), f'(x) = 1 - tanh(x)^2, range (-1, 1); linear "
    "around 0 (easy to learn); saturates",
    ("tanh", "hyperbolic tangent", "activation", "saturation"),
    lambda sp, x: (sp.exp(x) - sp.exp(-x)) / (sp.exp(x) + sp.exp(-x)),
    lambda sp, x: 1 - ((sp.exp(x) - sp.exp(-x)) / (sp.exp(x) + sp.exp(-x))) ** 2,
    _tanh,
    _tanh_prime,
    _tanh_ranges,
)
_activation(
    "relu",
    "ReLU activation",
    "ReLU f(x) = max(0, x), f'(x) = [x > 0], range [0, oo); can blow up activations; piecewise "
    "linear => faster convergence",
    ("relu", "rectified linear unit", "activation", "piecewise linear", "dead relu"),
    lambda sp, x: sp.Max(0, x),
    lambda sp, x: sp.Heaviside(x, 0),
    _relu,
    _relu_prime,
    _relu_ranges,
    erratum=Erratum(
        sheet=r"f'(x) = [x \geq 0]",
        correct=r"f'(x) = [x > 0] \text{ (undefined at 0; frameworks use 0)}",
        explanation="ReLU has no derivative at 0; the sheet's [x >= 0] picks 1 there, while "
        "torch and JAX use the subgradient 0, so gradients at exactly 0 disagree (a convention, "
        "but the one your framework uses)",
        evidence=_relu_evidence,
    ),
)


# --------------------------------------------------------------------------------------------
# MLP backpropagation


def _delta_statement():
    import sympy as sp

    return sp.Eq(sp.Symbol("delta^{(l)}"), sp.Symbol("W^{(l+1)T} (f'(a^{(l+1)}) . delta^{(l+1)})"))


def _backprop_symbols():
    import sympy as sp

    W = sp.Matrix(2, 2, sp.symbols("w_11 w_12 w_21 w_22", real=True))
    z = sp.Matrix(sp.symbols("z_1:3", real=True))  # z^(l-1)
    b = sp.Matrix(sp.symbols("b_1:3", real=True))
    f = sp.Function("f")
    L = sp.Function("L")
    a = W * z + b
    out = [f(a[0]), f(a[1])]
    loss = L(*out)
    return sp, W, z, b, f, L, a, out, loss


def _delta_derivation() -> list[Step]:
    sp, W, z, b, f, L, a, out, loss = _backprop_symbols()
    s = sp.Symbol("s")
    u1, u2 = sp.symbols("u_1 u_2")
    dL = [sp.diff(L(u1, u2), u).subs({u1: out[0], u2: out[1]}) for u in (u1, u2)]
    fprime = [sp.diff(f(s), s).subs(s, a[i]) for i in range(2)]
    return [
        Step(
            "chain rule through a^(l+1) = W z^(l) + b: dL/dz_j = sum_i W_ij f'(a_i) dL/dz^(l+1)_i, "
            "i.e. delta^(l) = W^T (f'(a^(l+1)) . delta^(l+1)) (2x2 layer, generic f and L)",
            sp.diff(loss, z[0]),
            sum(W[i, 0] * fprime[i] * dL[i] for i in range(2)),
        )
    ]


def mlp_backward_delta(delta_next, W_next, fprime_next):
    """delta^(l) = W^(l+1)^T (f'(a^(l+1)) * delta^(l+1)), delta := dL/dz (layer outputs)."""
    import numpy as np

    delta_next, W_next, fprime_next = (
        np.asarray(v, dtype=np.float64) for v in (delta_next, W_next, fprime_next)
    )
    return as_float64((fprime_next * delta_next) @ W_next)


register(
    Formula(
        id="mlp-backward-delta",
        title="MLP backprop: gradient w.r.t. a layer's output",
        topic="ml",
        section="10",
        text="MLP backward inputs: delta^(l) = delta^(l+1) dz^(l+1)/dz^(l) = W^(l+1)T (f'(a^(l+1)) "
        ". delta^(l+1))",
        keywords=("backprop", "backpropagation", "delta", "chain rule", "mlp", "error signal"),
        statement_builder=_delta_statement,
        derivation_builder=_delta_derivation,
        evaluator=mlp_backward_delta,
    )
)


def _weights_statement():
    import sympy as sp

    i, j = sp.symbols("i j", integer=True)
    return sp.Eq(
        sp.Symbol("dL/dw_ij^{(l)}"),
        sp.Symbol("delta_i^{(l)}") * sp.Symbol("f'(a_i^{(l)})") * sp.Symbol("z_j^{(l-1)}"),
    )


def _weights_derivation() -> list[Step]:
    sp, W, z, b, f, L, a, out, loss = _backprop_symbols()
    s = sp.Symbol("s")
    u1, u2 = sp.symbols("u_1 u_2")
    dL = [sp.diff(L(u1, u2), u).subs({u1: out[0], u2: out[1]}) for u in (u1, u2)]
    fprime = [sp.diff(f(s), s).subs(s, a[i]) for i in range(2)]
    return [
        Step(
            "[dz^(l)/dw_ij]_k = [k = i] f'(a_i) z_j^(l-1): only output i depends on w_ij",
            sp.Matrix([sp.diff(out[k], W[0, 1]) for k in range(2)]),
            sp.Matrix([fprime[0] * z[1], 0]),
        ),
        Step(
            "dL/dw_ij = delta_i^(l) f'(a_i^(l)) z_j^(l-1) (i = 1, j = 2)",
            sp.diff(loss, W[0, 1]),
            dL[0] * fprime[0] * z[1],
        ),
    ]


def mlp_backward_weights(delta, fprime, z_prev):
    """dL/dW^(l) = (delta^(l) * f'(a^(l))) outer z^(l-1): [out, in]."""
    import numpy as np

    delta, fprime, z_prev = (np.asarray(v, dtype=np.float64) for v in (delta, fprime, z_prev))
    return as_float64(np.einsum("...i,...j->...ij", delta * fprime, z_prev))


def _mlp_reference(seed=0, width=4):
    """A 2-layer sigmoid MLP with square layers and its autograd gradients."""
    import numpy as np
    import torch

    rng = np.random.default_rng(seed)
    W1, W2 = rng.normal(size=(2, width, width))
    b1, b2 = rng.normal(size=(2, width))
    x, target = rng.normal(size=(2, width))
    W1t, W2t = torch.tensor(W1, requires_grad=True), torch.tensor(W2, requires_grad=True)
    z1 = torch.sigmoid(W1t @ torch.tensor(x) + torch.tensor(b1))
    z1.retain_grad()
    z2 = torch.sigmoid(W2t @ z1 + torch.tensor(b2))
    z2.retain_grad()
    loss = 0.5 * ((z2 - torch.tensor(target)) ** 2).sum()
    loss.backward()
    a2 = W2 @ z1.detach().numpy() + b2
    return dict(
        x=x,
        z1=z1.detach().numpy(),
        z2=z2.detach().numpy(),
        a2=a2,
        W2=W2,
        dW2=W2t.grad.numpy(),
        dW1=W1t.grad.numpy(),
        delta1=z1.grad.numpy(),
        delta2=z2.grad.numpy(),
    )


def _weights_evidence() -> Evidence:
    import numpy as np

    ref = _mlp_reference()
    fprime = _sigmoid_prime(ref["a2"])
    right = mlp_backward_weights(ref["delta2"], fprime, ref["z1"])
    sheet = np.outer(ref["delta2"] * fprime, ref["z2"])  # z_j^(l) instead of z_j^(l-1)
    return Evidence(
        sheet_fails=bool(np.max(np.abs(sheet - ref["dW2"])) > 1e-6),
        correct_passes=bool(np.max(np.abs(right - ref["dW2"])) < 1e-12),
        detail="2-layer sigmoid MLP (square layers so both forms have a shape), against torch "
        "autograd of dL/dW^(2): delta_i f'(a_i) z_j^(l-1) matches; the sheet's z_j^(l) does not",
    )


register(
    Formula(
        id="mlp-backward-weights",
        title="MLP backprop: gradient w.r.t. the weights",
        topic="ml",
        section="10",
        text="backward weights: [dz^(l)/dw_ij^(l)]_k = f'(a)_k z_j^(l-1) [k = i], dL/dw_ij^(l) = "
        "delta^(l) . dz^(l)/dw_ij^(l) = delta_i^(l) f'(a_i^(l)) z_j^(l-1)",
        keywords=("backprop", "weight gradient", "outer product", "mlp", "dL/dW"),
        statement_builder=_weights_statement,
        derivation_builder=_weights_derivation,
        evaluator=mlp_backward_weights,
        erratum=Erratum(
            sheet=r"\left[\frac{\partial z^{(l)}}{\partial w_{ij}^{(l)}}\right]_k = f'(a)_k "
            r"\cdot z_j^{(l)},\ [k = i],\ \frac{\partial^2 L}{\partial z^{(l)} \partial z^{(l)}} "
            r"= \delta^{(l)} \frac{\partial z^{(l)}}{\partial w_{i,j}^{(l)}}",
            correct=r"\left[\frac{\partial z^{(l)}}{\partial w_{ij}^{(l)}}\right]_k = [k = i]\, "
            r"f'(a_i^{(l)})\, z_j^{(l-1)},\quad \frac{\partial L}{\partial w_{ij}^{(l)}} = "
            r"\delta^{(l)} \cdot \frac{\partial z^{(l)}}{\partial w_{ij}^{(l)}} = \delta_i^{(l)} "
            r"f'(a_i^{(l)}) z_j^{(l-1)}",
            explanation="the weight w_ij multiplies the previous layer's output z_j^(l-1), not "
            "z_j^(l); and the left side is the first derivative dL/dw_ij, not a second derivative",
            evidence=_weights_evidence,
        ),
    )
)


def _bias_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("dL/db_i^{(l)}"), sp.Symbol("delta_i^{(l)}") * sp.Symbol("f'(a_i^{(l)})")
    )


def _bias_derivation() -> list[Step]:
    sp, W, z, b, f, L, a, out, loss = _backprop_symbols()
    s = sp.Symbol("s")
    u1, u2 = sp.symbols("u_1 u_2")
    dL = sp.diff(L(u1, u2), u1).subs({u1: out[0], u2: out[1]})
    return [
        Step(
            "dL/db_i = delta_i f'(a_i): the weight formula without the z_j factor",
            sp.diff(loss, b[0]),
            dL * sp.diff(f(s), s).subs(s, a[0]),
        )
    ]


def mlp_backward_bias(delta, fprime):
    """dL/db^(l) = delta^(l) * f'(a^(l))."""
    import numpy as np

    return as_float64(np.asarray(delta, dtype=np.float64) * np.asarray(fprime, dtype=np.float64))


register(
    Formula(
        id="mlp-backward-bias",
        title="MLP backprop: gradient w.r.t. the bias",
        topic="ml",
        section="10",
        text="backward bias: dL/db_i^(l) = same as the weights, but no z: delta_i^(l) f'(a_i^(l))",
        keywords=("backprop", "bias gradient", "mlp", "dL/db"),
        statement_builder=_bias_statement,
        derivation_builder=_bias_derivation,
        evaluator=mlp_backward_bias,
    )
)
