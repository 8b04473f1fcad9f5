"""ML basics (sheet section 10 and 10.1): perceptron, MAP/MLE, cross-entropy, activations,
universal approximation, MLP backpropagation.

MLP conventions (the sheet's): a^(l) = W^(l) z^(l-1) + b^(l), z^(l) = f(a^(l)), and
delta^(l) := dL/dz^(l), the gradient w.r.t. a layer's *output*. Backprop is proved on a
generic 2x2 layer (any activation f, any loss L): the matrix statements (MatrixSymbol, order
kept) are reached by substituting the layer's entries.

Each formula: metadata at module level, sympy inside builders, numpy inside evaluators.
Errata evidence uses numpy finite differences (light install) unless it needs torch.
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
    verdict_text,
)


def _premise(claim, lhs, rhs, name, kind="definition", **extra):
    """A premise `lhs = rhs` that a later chain step uses by `name`."""
    return Step(claim, lhs, rhs, premise=kind, name=name, **extra)


# --------------------------------------------------------------------------------------------
# perceptron (a definition: the update rule) and its convergence (a claim, checked)


def _perceptron_statement():
    import sympy as sp

    w, x = sp.Symbol("w"), sp.Symbol("x")
    y = sp.Symbol("y")
    # one feature (w, x scalars): the margin y w^T x is y w x
    margin = y * sp.transpose(w) * x
    return sp.Eq(sp.Symbol("w_new"), sp.Piecewise((w + y * x, margin <= 0), (w, True)))


def _perceptron_properties() -> list[Step]:
    import sympy as sp

    w = sp.Matrix(sp.symbols("w_1:4", real=True))
    x = sp.Matrix(sp.symbols("x_1:4", real=True))
    y = sp.Symbol("y", real=True)

    def labels(rng):  # y in {-1, +1}
        return {y: sp.Integer(rng.choice((-1, 1)))}

    return [
        Step(
            "an update on a mistake raises the example's margin by ||x||^2: "
            "y (w + y x)^T x = y w^T x + ||x||^2 (y = +-1)",
            y * ((w + y * x).T * x)[0],
            y * (w.T * x)[0] + (x.T * x)[0],
            method="numeric",
            sampler=labels,
        )
    ]


# evaluators (numpy inside)


def perceptron_update(w, x, y):
    """w + y x if the example is misclassified (y w^T x <= 0), else w; labels y in {-1, +1}."""
    import numpy as np

    w, x = np.asarray(w, dtype=np.float64), np.asarray(x, dtype=np.float64)
    return as_float64(w + y * x if y * (w @ x) <= 0 else w)


def mle_estimate(X, y):
    """MLE of the weights of y = X theta + Gaussian noise: least squares (X^T X)^{-1} X^T y."""
    import numpy as np

    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return as_float64(np.linalg.lstsq(X, y, rcond=None)[0])


def map_estimate(X, y, noise_var, prior_var):
    """MAP weights of y = X theta + N(0, noise_var) noise under a N(0, prior_var I) prior:
    (X^T X + (noise_var/prior_var) I)^{-1} X^T y (ridge regression)."""
    import numpy as np

    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    lam = noise_var / prior_var
    return as_float64(np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y))


def binary_cross_entropy(y, y_hat):
    """-y log(y_hat) - (1 - y) log(1 - y_hat), elementwise."""
    import numpy as np

    y, y_hat = np.asarray(y, dtype=np.float64), np.asarray(y_hat, dtype=np.float64)
    return as_float64(-y * np.log(y_hat) - (1 - y) * np.log1p(-y_hat))


def cross_entropy(p, q):
    """H(p, q) = -sum p log q over the last axis (= H(p) + KL(p || q))."""
    import numpy as np

    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    return as_float64(-np.sum(np.where(p > 0, p * np.log(q), 0.0), axis=-1))


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


def mlp_backward_delta(delta_next, W_next, fprime_next):
    """delta^(l) = W^(l+1)^T (f'(a^(l+1)) * delta^(l+1)), delta := dL/dz (layer outputs)."""
    import numpy as np

    delta_next, W_next, fprime_next = (
        np.asarray(v, dtype=np.float64) for v in (delta_next, W_next, fprime_next)
    )
    return as_float64((fprime_next * delta_next) @ W_next)


def mlp_backward_weights(delta, fprime, z_prev):
    """dL/dW^(l) = (delta^(l) * f'(a^(l))) outer z^(l-1): [out, in]."""
    import numpy as np

    delta, fprime, z_prev = (np.asarray(v, dtype=np.float64) for v in (delta, fprime, z_prev))
    return as_float64(np.einsum("...i,...j->...ij", delta * fprime, z_prev))


def mlp_backward_bias(delta, fprime):
    """dL/db^(l) = delta^(l) * f'(a^(l))."""
    import numpy as np

    return as_float64(np.asarray(delta, dtype=np.float64) * np.asarray(fprime, dtype=np.float64))


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
        definition=True,
        properties_builder=_perceptron_properties,
        evaluator=perceptron_update,
        sheet_lines=(288, 288),
    )
)


def _perceptron_epochs(X, y, epochs=1000):
    """(mistakes, converged) of the perceptron run to a full pass without mistakes."""
    import numpy as np

    w, mistakes = np.zeros(X.shape[1]), 0
    for _ in range(epochs):
        changed = False
        for x_i, y_i in zip(X, y):
            new = perceptron_update(w, x_i, y_i)
            if np.any(new != w):
                mistakes, changed, w = mistakes + 1, True, new
        if not changed:
            return mistakes, True
    return mistakes, False


def _perceptron_evidence() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(0)
    within_bound = True
    for _ in range(5):  # separable data with margin gamma >= 0.1: Novikoff's bound
        w_true = rng.normal(size=3)
        X = rng.normal(size=(200, 3))
        margins = X @ w_true / np.linalg.norm(w_true)
        X, y = X[np.abs(margins) > 0.1], np.sign(margins[np.abs(margins) > 0.1])
        R, gamma = (
            np.max(np.linalg.norm(X, axis=1)),
            np.min(np.abs(X @ w_true)) / np.linalg.norm(w_true),
        )
        mistakes, converged = _perceptron_epochs(X, y)
        within_bound &= converged and mistakes <= (R / gamma) ** 2
    # XOR (with a bias input) is not linearly separable: no pass is ever mistake-free
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    xor_mistakes, xor_converged = _perceptron_epochs(X, np.array([-1, 1, 1, -1.0]))
    holds = bool(within_bound and not xor_converged)
    return Evidence(
        sheet_fails=not holds,
        correct_passes=holds,
        detail=f"5 separable data sets: converged within (R/gamma)^2 mistakes: {within_bound}; "
        f"XOR: {verdict_text(xor_converged, 'converged', 'still wrong after 1000 epochs')} "
        f"({xor_mistakes} mistakes)",
    )


register_claim(
    Claim(
        id="perceptron-convergence",
        topic="ml",
        section="10",
        sheet_lines=(288, 288),
        sheet="Perceptron converges in finite time iff data is linearly separable",
        verdict="correct",
        explanation="separable with margin gamma: at most (R/gamma)^2 updates (Novikoff); not "
        "separable: every pass makes a mistake, so it never stops",
        source="Novikoff 1962; Minsky & Papert 1969 (XOR)",
        check=_perceptron_evidence,
    )
)


# --------------------------------------------------------------------------------------------
# mle-estimate and map-estimate: definitions (argmax), with the linear-Gaussian model's
# closed forms as property checks


def _regression_symbols():
    import sympy as sp

    theta = sp.Symbol("theta", real=True)
    s2, t2 = sp.Symbol("sigma^2", positive=True), sp.Symbol("tau^2", positive=True)
    xs, ys = sp.symbols("x_1:4", real=True), sp.symbols("y_1:4", real=True)
    log_likelihood = sum(
        -sp.log(2 * sp.pi * s2) / 2 - (y - theta * x) ** 2 / (2 * s2) for x, y in zip(xs, ys)
    )
    squared_error = sum((y - theta * x) ** 2 for x, y in zip(xs, ys))
    return sp, theta, s2, t2, xs, ys, log_likelihood, squared_error


def _mle_statement():
    import sympy as sp

    from formulas.notation import conditional

    y, X, theta = sp.symbols("y X theta")
    likelihood = conditional("p", given=2)(y, X, theta)  # p(y | X, theta)
    return sp.Eq(sp.Symbol("theta_MLE"), sp.Function("argmax_theta")(likelihood))


def _mle_properties() -> list[Step]:
    sp, theta, s2, t2, xs, ys, log_likelihood, squared_error = _regression_symbols()
    least_squares = sum(x * y for x, y in zip(xs, ys)) / sum(x**2 for x in xs)
    return [
        Step(
            "Gaussian noise: -log p(y|X,theta) is the squared error / (2 sigma^2) plus a "
            "constant (same derivative in theta; 3 points, one weight)",
            sp.Derivative(-log_likelihood, theta),
            sp.Derivative(squared_error / (2 * s2), theta),
        ),
        Step(
            "the least-squares weight sum x y / sum x^2 is a stationary point of the likelihood",
            sp.diff(log_likelihood, theta).subs(theta, least_squares),
            sp.Integer(0),
        ),
    ]


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
        definition=True,
        properties_builder=_mle_properties,
        evaluator=mle_estimate,
        sheet_lines=(288, 288),
    )
)


def _mle_evidence() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(1)
    mu, sigma = 1.5, 2.0
    rows = []
    for n in (10, 100, 1000):
        estimates = rng.normal(mu, sigma, size=(4000, n)).mean(axis=1)  # the Gaussian-mean MLE
        rows.append((n, abs(estimates.mean() - mu), estimates.var() * n / sigma**2))
    consistent = rows[-1][1] < 0.01 and rows[-1][2] > 0
    efficient = all(abs(ratio - 1) < 0.1 for _, _, ratio in rows)
    return Evidence(
        sheet_fails=not (consistent and efficient),
        correct_passes=bool(consistent and efficient),
        detail="MLE of a Gaussian mean over 4000 data sets: "
        + "; ".join(
            f"n = {n}: |bias| {bias:.3f}, variance / Cramer-Rao bound {ratio:.2f}"
            for n, bias, ratio in rows
        ),
    )


register_claim(
    Claim(
        id="mle-consistent-efficient",
        topic="ml",
        section="10",
        sheet_lines=(288, 288),
        sheet="MLE theta in argmax p(y | X, theta) consistent, efficient",
        verdict="correct",
        explanation="under the usual regularity conditions the MLE converges to the true "
        "parameter and is asymptotically efficient (its variance reaches the Cramer-Rao bound)",
        source="Goodfellow et al. 2016, Sec. 5.5.2; Casella & Berger, Sec. 10.1",
        check=_mle_evidence,
    )
)


def _map_statement():
    import sympy as sp

    from formulas.notation import conditional

    y, X, theta = sp.symbols("y X theta")
    posterior = conditional("p", given=2)(theta, X, y)  # p(theta | X, y)
    return sp.Eq(sp.Symbol("theta_MAP"), sp.Function("argmax_theta")(posterior))


def _map_properties() -> list[Step]:
    sp, theta, s2, t2, xs, ys, log_likelihood, squared_error = _regression_symbols()
    lik, prior, evidence = (
        sp.Symbol(n, positive=True) for n in ("p(y|X,theta)", "p(theta)", "p(y|X)")
    )
    log_posterior = -squared_error / (2 * s2) - theta**2 / (2 * t2)
    ridge = sum(x * y for x, y in zip(xs, ys)) / (sum(x**2 for x in xs) + s2 / t2)
    return [
        Step(
            "Bayes: log p(theta|X,y) = log p(y|X,theta) + log p(theta) - log p(y|X); the "
            "evidence does not depend on theta, so it drops out of the argmax",
            sp.log(lik * prior / evidence),
            sp.log(lik) + sp.log(prior) - sp.log(evidence),
        ),
        Step(
            "Gaussian prior N(0, tau^2): the ridge weight with lambda = sigma^2/tau^2 is a "
            "stationary point of the log posterior",
            sp.diff(log_posterior, theta).subs(theta, ridge),
            sp.Integer(0),
        ),
    ]


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
        definition=True,
        properties_builder=_map_properties,
        evaluator=map_estimate,
        sheet_lines=(288, 288),
    )
)


# --------------------------------------------------------------------------------------------
# binary-cross-entropy, cross-entropy-decomposition


def _bce_symbols():
    import sympy as sp

    y = sp.Symbol("y_i", nonnegative=True)
    y_hat = sp.Symbol("hat{y}_i", positive=True)
    return sp, y, y_hat


def _bce_statement():
    sp, y, y_hat = _bce_symbols()
    return sp.Eq(sp.Symbol("L"), -y * sp.log(y_hat) - (1 - y) * sp.log(1 - y_hat))


def _bce_derivation() -> list[Step]:
    sp, y, y_hat = _bce_symbols()
    bernoulli = y_hat**y * (1 - y_hat) ** (1 - y)

    def inside(rng):  # 0 < hat y < 1, any label in [0, 1]
        return {
            y_hat: sp.Rational(rng.randint(1, 99), 100),
            y: sp.Rational(rng.randint(0, 100), 100),
        }

    return [
        _premise(
            "the loss is the negative log-likelihood of the label under Bernoulli(hat y): "
            "p(y | hat y) = hat y^y (1 - hat y)^(1 - y)",
            sp.Symbol("L"),
            -sp.log(bernoulli),
            "nll",
        ),
        Step("by definition", sp.Symbol("L"), -sp.log(bernoulli), uses=("nll",)),
        Step(
            "log of a product of powers (0 < hat y < 1)",
            rhs=-y * sp.log(y_hat) - (1 - y) * sp.log(1 - y_hat),
            method="numeric",
            sampler=inside,
        ),
    ]


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
        sheet_lines=(288, 288),
    )
)


def _ce_symbols():
    import sympy as sp

    i, n = sp.symbols("i n", integer=True, positive=True)
    p, q = sp.IndexedBase("p_d", positive=True), sp.IndexedBase("p_m", positive=True)
    names = {key: sp.Symbol(key) for key in ("H(p_d, p_m)", "H(p_d)", "D_KL(p_d || p_m)")}
    sums = {
        "H(p_d, p_m)": sp.Sum(-p[i] * sp.log(q[i]), (i, 1, n)),
        "H(p_d)": sp.Sum(-p[i] * sp.log(p[i]), (i, 1, n)),
        "D_KL(p_d || p_m)": sp.Sum(p[i] * sp.log(p[i] / q[i]), (i, 1, n)),
    }
    return sp, names, sums


def _ce_statement():
    sp, names, sums = _ce_symbols()
    return sp.Eq(names["H(p_d, p_m)"], names["H(p_d)"] + names["D_KL(p_d || p_m)"])


def _ce_derivation() -> list[Step]:
    sp, names, sums = _ce_symbols()
    definitions = [_premise(f"{key} over n outcomes", names[key], sums[key], key) for key in sums]
    return [
        *definitions,
        Step("cross-entropy", names["H(p_d, p_m)"], sums["H(p_d, p_m)"], uses=("H(p_d, p_m)",)),
        Step(
            "-log q = -log p + log(p / q), term by term",
            rhs=sums["H(p_d)"] + sums["D_KL(p_d || p_m)"],
        ),
        Step(
            "the two sums are the entropy and the KL divergence",
            rhs=names["H(p_d)"] + names["D_KL(p_d || p_m)"],
            uses=("H(p_d)", "D_KL(p_d || p_m)"),
        ),
    ]


register(
    Formula(
        id="cross-entropy-decomposition",
        title="Cross-entropy = entropy + KL divergence",
        topic="ml",
        section="10",
        text="cross-entropy H(p_d, p_m) = H(p_d) + D_KL(p_d || p_m); minimising it over the "
        "model = minimising the KL = maximum likelihood",
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
        sheet_lines=(288, 288),
    )
)


# --------------------------------------------------------------------------------------------
# universal approximation: a one-hidden-layer ReLU net within eps of a C^2 function on an
# interval, by construction (the piecewise-linear interpolant), plus the sheet's missing
# conditions (a claim)


def _wave(x):
    import numpy as np

    return np.sin(3 * x) + 0.5 * np.cos(x)


def _exponential(x):
    import numpy as np

    return np.exp(x)


# (name, f, a bound M on |f''| over the interval, the interval)
_TARGETS = (
    ("sin(3x) + cos(x)/2", _wave, 9.5, (0.0, 6.283185307179586)),
    ("exp(x)", _exponential, 7.38905609893065, (0.0, 2.0)),
)


def _relu_interpolant(f, low, high, pieces):
    """g(x) = f(x_0) + sum_i c_i relu(x - x_i): one hidden ReLU layer through the knots."""
    import numpy as np

    knots = np.linspace(low, high, pieces + 1)
    values = f(knots)
    slopes = np.diff(values) / np.diff(knots)
    coefficients = np.concatenate([[slopes[0]], np.diff(slopes)])

    def g(x):
        return values[0] + np.maximum(0.0, x[:, None] - knots[None, :-1]) @ coefficients

    return g, knots, values


def _relu_net_check() -> Comparison:
    import numpy as np

    left, right = [], []
    for _, f, _, (low, high) in _TARGETS:
        g, knots, values = _relu_interpolant(f, low, high, 16)
        x = np.linspace(low, high, 4001)
        left.append(g(x))
        right.append(np.interp(x, knots, values))  # numpy's piecewise-linear interpolation
    return Comparison(np.concatenate(left), np.concatenate(right), "ReLU net vs numpy.interp")


def _interpolation_error_check() -> Comparison:
    import numpy as np

    errors, bounds = [], []
    for _, f, curvature, (low, high) in _TARGETS:
        for pieces in (4, 16, 64, 256):
            g, _, _ = _relu_interpolant(f, low, high, pieces)
            x = np.linspace(low, high, 20001)
            errors.append(float(np.max(np.abs(g(x) - f(x)))))
            bounds.append(curvature * ((high - low) / pieces) ** 2 / 8)
    return Comparison(errors, bounds, "sup |g - f| on a 20001-point grid vs M h^2 / 8")


def _uat_symbols():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    gap = sp.Abs(sp.Function("g")(x) - sp.Function("f")(x))  # the network g against f
    eps, h, M = (sp.Symbol(n, positive=True) for n in ("epsilon", "h", "M"))
    return sp, gap, eps, h, M


def _uat_statement():
    sp, gap, eps, h, M = _uat_symbols()
    return sp.Lt(gap, eps)


def _uat_derivation() -> list[Step]:
    sp, gap, eps, h, M = _uat_symbols()
    return [
        _premise(
            "the piecewise-linear interpolant g of f at knots h apart is a one-hidden-layer "
            "ReLU net g(x) = f(x_0) + sum_i c_i relu(x - x_i)",
            sp.Symbol("g(x)"),
            sp.Symbol("f(x_0) + sum_i c_i relu(x - x_i)"),
            "relu-net",
            kind="lemma",
            custom=_relu_net_check,
            tolerance=1e-12,
        ),
        _premise(
            "choose the knot spacing h = sqrt(4 eps / M), M >= |f''| on the interval",
            h,
            sp.sqrt(4 * eps / M),
            "spacing",
        ),
        Step(
            "linear interpolation error: |g - f| <= M h^2 / 8 (f twice differentiable on a "
            "closed interval)",
            gap,
            M * h**2 / 8,
            relation="<=",
            custom=_interpolation_error_check,
            tolerance=1e-9,
            uses=("relu-net",),
        ),
        Step("with the chosen spacing", rhs=eps / 2, uses=("spacing",)),
        Step("eps/2 < eps", rhs=eps, relation="<"),
    ]


register(
    Formula(
        id="universal-approximation",
        title="Universal approximation (one hidden ReLU layer, on a closed interval)",
        topic="ml",
        section="10",
        text="for any continuous f on a compact set and any eps there exists a NN g with "
        "|g(x) - f(x)| < epsilon; 1 hidden layer is enough with a non-polynomial activation "
        "(shown here by construction for C^2 f on an interval)",
        keywords=(
            "universal approximation",
            "uat",
            "one hidden layer",
            "nonlinear activation",
            "expressivity",
        ),
        statement_builder=_uat_statement,
        derivation_builder=_uat_derivation,
        sheet_lines=(288, 288),
    )
)


def _uat_conditions_evidence() -> Evidence:
    """A nonlinear but polynomial activation (x^2) cannot approximate sin(3x), however wide;
    ReLU can. And without a compact domain even ReLU nets fail for f(x) = x^2."""
    import numpy as np

    rng = np.random.default_rng(2)
    x = np.linspace(-np.pi, np.pi, 2001)
    target = np.sin(3 * x)
    errors, ranks = {}, {}
    for width in (10, 200):
        # any one-hidden-layer net with activation v^2: sum_i c_i (w_i x + b_i)^2 + c_0
        w, b = rng.normal(size=width) * 3, rng.uniform(-3 * np.pi, 3 * np.pi, size=width)
        features = np.column_stack([np.square(np.outer(x, w) + b), np.ones_like(x)])
        coefficients = np.linalg.lstsq(features, target, rcond=None)[0]
        errors[width] = float(np.max(np.abs(features @ coefficients - target)))
        ranks[width] = int(np.linalg.matrix_rank(features))
    g, _, _ = _relu_interpolant(lambda v: np.sin(3 * v), -np.pi, np.pi, 64)
    relu_error = float(np.max(np.abs(g(x) - target)))
    # f(x) = x^2 on R: a ReLU net fitted on [-1, 1] is piecewise linear, so far out it is off
    g_square, _, _ = _relu_interpolant(np.square, -1.0, 1.0, 64)
    far = float(abs(g_square(np.array([100.0]))[0] - 100.0**2))
    polynomial_fails = errors[200] > 0.5
    relu_works = relu_error < 0.05
    return Evidence(
        sheet_fails=bool(polynomial_fails),
        correct_passes=bool(relu_works and polynomial_fails),
        detail=f"sin(3x) on [-pi, pi] by one hidden layer: activation v^2 (nonlinear but a "
        f"polynomial) best max error {errors[10]:.2f} with 10 units and {errors[200]:.2f} with "
        f"200 (the features span only {ranks[200]} dimensions: quadratics), so it "
        f"{verdict_text(polynomial_fails, 'does not approximate', 'approximates')}; a "
        f"64-unit ReLU net is within {relu_error:.1e}; off the compact set, a ReLU net "
        f"fitting x^2 on [-1, 1] misses it at x = 100 by {far:.0f}",
    )


register_claim(
    Claim(
        id="universal-approximation-conditions",
        topic="ml",
        section="10",
        sheet_lines=(288, 288),
        sheet="For any continuous f exists NN g(x), |g(x) - f(x)| < epsilon. 1 hidden layer is "
        "enough, activation function needs to be nonlinear",
        verdict="error",
        explanation="the theorem holds on a compact set (not for every continuous f on R^n, "
        "e.g. x^2 on R is not within eps of any ReLU net) and needs the activation to be "
        "non-polynomial, not merely nonlinear: with x^2 every one-hidden-layer net is a "
        "quadratic polynomial, however many units",
        source="Leshno, Lin, Pinkus & Schocken 1993; Cybenko 1989; Hornik 1991",
        check=_uat_conditions_evidence,
        correct="for any continuous f on a compact set K and eps > 0 there is a one-hidden-layer "
        "net g with sup_K |g - f| < eps, iff the activation is not a polynomial",
    )
)


# --------------------------------------------------------------------------------------------
# activations (definitions with property checks) and their derivatives (derived)


def _activation_symbols(name):
    import sympy as sp

    x = sp.Symbol("x", real=True)
    return sp, x, sp.Function(name)(x)


_FORMS = {
    "sigmoid": lambda sp, x: 1 / (1 + sp.exp(-x)),
    "tanh": lambda sp, x: (sp.exp(x) - sp.exp(-x)) / (sp.exp(x) + sp.exp(-x)),
    "relu": lambda sp, x: sp.Max(0, x),
}


def _activation_statement(name):
    def statement():
        sp, x, applied = _activation_symbols(name)
        return sp.Eq(applied, _FORMS[name](sp, x))

    return statement


def _sigmoid_properties() -> list[Step]:
    sp, x, _ = _activation_symbols("sigmoid")
    s = _FORMS["sigmoid"](sp, x)
    return [
        Step("sigma(x) -> 0 as x -> -oo", sp.Limit(s, x, -sp.oo), sp.Integer(0)),
        Step("sigma(x) -> 1 as x -> oo: range (0, 1)", sp.Limit(s, x, sp.oo), sp.Integer(1)),
        Step(
            "saturation: sigma'(x) -> 0 for large |x| (vanishing gradients)",
            sp.Limit(sp.Derivative(s, x), x, sp.oo),
            sp.Integer(0),
        ),
        Step("symmetry: sigma(-x) = 1 - sigma(x)", s.subs(x, -x), 1 - s),
    ]


def _tanh_properties() -> list[Step]:
    sp, x, _ = _activation_symbols("tanh")
    t = _FORMS["tanh"](sp, x)
    return [
        Step("the exponential form is the hyperbolic tangent", t, sp.tanh(x), method="numeric"),
        Step("tanh -> 1 as x -> oo: range (-1, 1)", sp.Limit(t, x, sp.oo), sp.Integer(1)),
        Step(
            "tanh is linear around 0: slope 1 at x = 0",
            sp.Subs(sp.Derivative(t, x), x, 0),
            sp.Integer(1),
        ),
        Step("odd: tanh(-x) = -tanh(x)", t.subs(x, -x), -t),
    ]


def _relu_properties() -> list[Step]:
    sp, x, _ = _activation_symbols("relu")

    def positive(rng):
        return {x: sp.Rational(rng.randint(1, 400), 100)}

    return [
        Step(
            "max(0, x) >= 0: range [0, oo)",
            sp.Max(0, x),
            sp.Integer(0),
            relation=">=",
            method="numeric",
        ),
        Step(
            "piecewise linear: relu(x) = x for x > 0 (unbounded: activations can blow up)",
            sp.Max(0, x),
            x,
            method="numeric",
            sampler=positive,
        ),
    ]


def _derivative_statement(name, rhs):
    """d/dx name(x) = rhs(value), with the activation's value written out (so the statement is
    a function of x that quizzes can evaluate; `latex_override` shows it as sigma(1 - sigma))."""

    def statement():
        sp, x, applied = _activation_symbols(name)
        return sp.Eq(sp.Derivative(applied, x), rhs(sp, _FORMS[name](sp, x)))

    return statement


def _derivative_derivation(name, raw, rhs, justification):
    def derivation():
        sp, x, applied = _activation_symbols(name)
        form = _FORMS[name](sp, x)
        return [
            _premise(f"{name}(x) = its definition", applied, form, name, kind=f"formula:{name}"),
            Step(
                "differentiate the definition",
                sp.Derivative(applied, x),
                sp.Derivative(form, x),
                uses=(name,),
            ),
            Step("quotient / chain rule", rhs=raw(sp, x)),
            Step(justification, rhs=rhs(sp, form)),
        ]

    return derivation


def _relu_derivative_properties() -> list[Step]:
    import sympy as sp

    x = sp.Symbol("x", real=True)

    def away_from_zero(rng):
        value = sp.Rational(rng.randint(1, 400), 100)
        return {x: value if rng.random() < 0.5 else -value}

    def subgradient() -> Comparison:
        import numpy as np

        y = np.linspace(-3, 3, 61)
        return Comparison(_relu(y), 0.0 * y, "relu(y) >= relu(0) + 0 y for 61 points y in [-3, 3]")

    return [
        Step(
            "away from the kink, d max(0, x)/dx = [x > 0]",
            sp.Derivative(sp.Max(0, x), x),
            sp.Heaviside(x, 0),
            method="numeric",
            sampler=away_from_zero,
        ),
        Step(
            "at x = 0 there is no derivative; the value 0 used here is a subgradient (any "
            "value in [0, 1] is)",
            relation=">=",
            custom=subgradient,
        ),
    ]


_ACTIVATIONS = (
    (
        "sigmoid",
        "Sigmoid (logistic) activation",
        "sigmoid f(x) = 1/(1+e^{-x}), f'(x) = sigma(x)(1 - sigma(x)), range (0, 1); saturates => "
        "vanishing gradient; finite range: stable training, maps to probability space",
        ("sigmoid", "logistic", "activation", "saturation", "vanishing gradient"),
        _sigmoid_properties,
        (301, 301),
    ),
    (
        "tanh",
        "Tanh activation",
        "tanh f(x) = (e^x - e^{-x})/(e^x + e^{-x}), f'(x) = 1 - tanh(x)^2, range (-1, 1); linear "
        "around 0 (easy to learn); saturates",
        ("tanh", "hyperbolic tangent", "activation", "saturation"),
        _tanh_properties,
        (302, 302),
    ),
    (
        "relu",
        "ReLU activation",
        "ReLU f(x) = max(0, x), f'(x) = [x > 0], range [0, oo); can blow up activations; "
        "piecewise linear => faster convergence",
        ("relu", "rectified linear unit", "activation", "piecewise linear", "dead relu"),
        _relu_properties,
        (303, 303),
    ),
)


def _relu_evidence() -> Evidence:
    import numpy as np
    import torch

    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    xt = torch.tensor(x, requires_grad=True)
    torch.relu(xt).sum().backward()
    return compare_forms(
        reference=xt.grad.numpy(),
        sheet=(x >= 0).astype(float),
        correct=_relu_prime(x),
        reference_name=f"torch.autograd of relu at {x.tolist()}",
        tolerance=0.0,
    )


_DERIVATIVES = {
    "sigmoid": (
        lambda sp, x: sp.exp(-x) / (1 + sp.exp(-x)) ** 2,
        lambda sp, s: s * (1 - s),
        "e^{-x}/(1+e^{-x})^2 = sigma(x) (1 - sigma(x))",
        r"\frac{d}{dx}\sigma(x) = \sigma(x)\,\bigl(1 - \sigma(x)\bigr)",
    ),
    "tanh": (
        lambda sp, x: 4 / (sp.exp(x) + sp.exp(-x)) ** 2,
        lambda sp, t: 1 - t**2,
        "4/(e^x + e^{-x})^2 = 1 - tanh(x)^2",
        r"\frac{d}{dx}\tanh(x) = 1 - \tanh(x)^2",
    ),
}

for _name, _title, _text, _keywords, _properties, _lines in _ACTIVATIONS:
    _evaluator = {"sigmoid": _sigmoid, "tanh": _tanh, "relu": _relu}[_name]
    _derivative = {"sigmoid": _sigmoid_prime, "tanh": _tanh_prime, "relu": _relu_prime}[_name]
    register(
        Formula(
            id=_name,
            title=_title,
            topic="ml",
            section="10.1",
            text=_text,
            keywords=_keywords,
            statement_builder=_activation_statement(_name),
            definition=True,
            properties_builder=_properties,
            evaluator=_evaluator,
            sheet_lines=_lines,
        )
    )
    if _name == "relu":
        register(
            Formula(
                id="relu-derivative",
                title="Derivative of relu activation",
                topic="ml",
                section="10.1",
                text=_text,
                keywords=(*_keywords, "derivative", "gradient", "f prime", "subgradient"),
                statement_builder=_derivative_statement(
                    "relu", lambda sp, value: sp.Heaviside(sp.Symbol("x", real=True), 0)
                ),
                definition=True,
                properties_builder=_relu_derivative_properties,
                evaluator=_derivative,
                sheet_lines=_lines,
                erratum=Erratum(
                    sheet=r"f'(x) = [x \geq 0]",
                    correct=r"f'(x) = [x > 0] \text{ (undefined at 0; frameworks use 0)}",
                    explanation="in the activation table ReLU's derivative is printed [x >= 0]: "
                    "right for x != 0, but at 0 ReLU has no derivative; [x >= 0] picks 1 there "
                    "while torch and JAX use the subgradient 0, so gradients at exactly 0 "
                    "disagree with your framework",
                    evidence=_relu_evidence,
                    severity="typo",
                    sheet_lines=(303, 303),
                ),
            )
        )
        continue
    _raw, _closed, _why, _shown = _DERIVATIVES[_name]
    register(
        Formula(
            id=f"{_name}-derivative",
            title=f"Derivative of {_title.lower()}",
            topic="ml",
            section="10.1",
            text=_text,
            keywords=(*_keywords, "derivative", "gradient", "f prime"),
            statement_builder=_derivative_statement(_name, _closed),
            derivation_builder=_derivative_derivation(_name, _raw, _closed, _why),
            evaluator=_derivative,
            latex_override=_shown,
            sheet_lines=_lines,
        )
    )


def _activation_claims_evidence() -> Evidence:
    import numpy as np

    large = np.array([-10.0, 10.0])
    saturated = float(np.max(_sigmoid_prime(large))), float(np.max(_tanh_prime(large)))
    slope_at_zero = float(_tanh_prime(0.0))
    # tanh vs its tangent line x near 0
    near = np.linspace(-0.1, 0.1, 21)
    linear_gap = float(np.max(np.abs(_tanh(near) - near)))
    unbounded = float(_relu(1e6))
    holds = (
        max(saturated) < 1e-3 and slope_at_zero == 1.0 and linear_gap < 1e-3 and unbounded == 1e6
    )
    return Evidence(
        sheet_fails=not holds,
        correct_passes=bool(holds),
        detail=f"sigma'(+-10) <= {saturated[0]:.1e}, tanh'(+-10) <= {saturated[1]:.1e} "
        f"(saturation); tanh'(0) = {slope_at_zero:g}, |tanh(x) - x| <= {linear_gap:.1e} on "
        f"[-0.1, 0.1]; relu(1e6) = {unbounded:.0e} (unbounded)",
    )


register_claim(
    Claim(
        id="activation-properties",
        topic="ml",
        section="10.1",
        sheet_lines=(305, 305),
        sheet="Finite range: stable training, mapping to prob. space. Sigmoid, tanh saturate => "
        "vanishing gradient, Tanh is linear around 0 (easy learn), ReLU can blow up activation; "
        "piecewise linear => faster convergence",
        verdict="correct",
        explanation="bounded outputs keep activations in range and sigmoid's lie in (0, 1); "
        "both squash large inputs to a flat region (tiny derivative); tanh(x) ~ x near 0; ReLU "
        "is unbounded above and its constant slope trains faster (Krizhevsky et al. 2012 report "
        "~6x fewer iterations)",
        source="Goodfellow et al. 2016, Sec. 6.3; Krizhevsky, Sutskever & Hinton 2012",
        check=_activation_claims_evidence,
    )
)


# --------------------------------------------------------------------------------------------
# MLP backpropagation, proved on a generic 2x2 layer (any activation f, any loss L)


def _layer():
    """a = W z + b, out = f(a), loss = L(out); the upstream dL/d out_i and slopes f'(a_i)."""
    import sympy as sp

    W = sp.Matrix(2, 2, sp.symbols("w_11 w_12 w_21 w_22", real=True))
    z = sp.Matrix(sp.symbols("z_1:3", real=True))  # the layer's input
    b = sp.Matrix(sp.symbols("b_1:3", real=True))
    f, L, s = sp.Function("f"), sp.Function("L"), sp.Symbol("s")
    u = sp.symbols("u_1:3")
    a = W * z + b
    out = [f(a[0]), f(a[1])]
    loss = L(*out)
    upstream = sp.Matrix(
        [sp.diff(L(*u), ui).subs({u[0]: out[0], u[1]: out[1]}) for ui in u]
    )  # dL/dz_i of the layer's output
    slopes = sp.Matrix([sp.Subs(sp.Derivative(f(s), s), s, a[r]) for r in range(2)])
    return sp, W, z, b, loss, upstream, slopes


def _vector(name, rows=2, cols=1):
    import sympy as sp

    return sp.MatrixSymbol(name, rows, cols)


def _slopes(layer):
    """f'(a^(layer)): the activation's derivative applied entry by entry to the pre-activation
    a^(layer) (a vector of the layer's slopes)."""
    from formulas._chain import matrix_function

    return matrix_function("f'", latex_head="f'")(_vector(f"a^({layer})"))


def _gradient(name, rows=2, cols=1):
    """dL/dW^(l): the gradient of the loss L in the matrix (vector) `name`."""
    import sympy as sp

    return sp.Derivative(sp.Symbol("L", real=True), _vector(name, rows, cols))


def _delta_statement():
    import sympy as sp

    return sp.Eq(
        _vector("delta^(l)"),
        _vector("W^(l+1)", 2, 2).T * sp.HadamardProduct(_slopes("l+1"), _vector("delta^(l+1)")),
        evaluate=False,
    )


def _delta_derivation() -> list[Step]:
    sp, W, z, b, loss, upstream, slopes = _layer()
    gradient = sp.Matrix([sp.Derivative(loss, zj) for zj in z])
    chain = sp.Matrix([sum(W[i, j] * slopes[i] * upstream[i] for i in range(2)) for j in range(2)])
    return [
        _premise(
            "delta^(l) := dL/dz^(l), the layer's input here (a^(l+1) = W^(l+1) z^(l) + b)",
            _vector("delta^(l)"),
            gradient,
            "delta",
        ),
        _premise("the next layer's weights", _vector("W^(l+1)", 2, 2), W, "weights"),
        _premise("its slopes f'(a^(l+1))", _slopes("l+1"), slopes, "slopes"),
        _premise("delta^(l+1) := dL/dz^(l+1)", _vector("delta^(l+1)"), upstream, "upstream"),
        Step(
            "by definition (2x2 layer, generic f and L)",
            _vector("delta^(l)"),
            gradient,
            uses=("delta",),
        ),
        Step(
            "chain rule through a^(l+1) = W z^(l) + b: dL/dz_j = sum_i W_ij f'(a_i) dL/dz^(l+1)_i "
            "(the sheet's delta^(l+1) dz^(l+1)/dz^(l))",
            rhs=chain,
        ),
        Step(
            "as matrices: W^T times the elementwise product",
            rhs=_vector("W^(l+1)", 2, 2).T
            * sp.HadamardProduct(_slopes("l+1"), _vector("delta^(l+1)")),
            uses=("weights", "slopes", "upstream"),
        ),
    ]


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
        sheet_lines=(290, 290),
    )
)


def _weights_statement():
    import sympy as sp

    return sp.Eq(
        _gradient("W^(l)", 2, 2),
        sp.HadamardProduct(_vector("delta^(l)"), _slopes("l")) * _vector("z^(l-1)").T,
        evaluate=False,
    )


def _layer_premises(sp, z, upstream, slopes):
    return [
        _premise(
            "delta^(l) := dL/dz^(l), the layer's output", _vector("delta^(l)"), upstream, "delta"
        ),
        _premise("the slopes f'(a^(l))", _slopes("l"), slopes, "slopes"),
        _premise("the layer's input z^(l-1)", _vector("z^(l-1)"), z, "input"),
    ]


def _weights_derivation() -> list[Step]:
    sp, W, z, b, loss, upstream, slopes = _layer()
    gradient = sp.Matrix(2, 2, lambda i, j: sp.Derivative(loss, W[i, j]))
    chain = sp.Matrix(2, 2, lambda i, j: upstream[i] * slopes[i] * z[j])
    return [
        _premise(
            "dL/dW^(l), entry (i, j) = dL/dw_ij", _gradient("W^(l)", 2, 2), gradient, "gradient"
        ),
        *_layer_premises(sp, z, upstream, slopes),
        Step(
            "by definition (2x2 layer, generic f and L)",
            _gradient("W^(l)", 2, 2),
            gradient,
            uses=("gradient",),
        ),
        Step(
            "only output i depends on w_ij, [dz^(l)/dw_ij]_k = [k = i] f'(a_i) z_j^(l-1): "
            "dL/dw_ij = delta_i f'(a_i) z_j^(l-1)",
            rhs=chain,
        ),
        Step(
            "as matrices: an outer product with the input z^(l-1)",
            rhs=sp.HadamardProduct(_vector("delta^(l)"), _slopes("l")) * _vector("z^(l-1)").T,
            uses=("delta", "slopes", "input"),
        ),
    ]


def _two_layer_mlp(seed=0, width=4):
    """A 2-layer sigmoid MLP with square layers, its activations and a finite-difference
    gradient of the squared error w.r.t. W2 (numpy only)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    W1, W2 = rng.normal(size=(2, width, width))
    b1, b2 = rng.normal(size=(2, width))
    x, target = rng.normal(size=(2, width))

    def loss(W2_flat):
        z1 = _sigmoid(W1 @ x + b1)
        z2 = _sigmoid(W2_flat.reshape(width, width) @ z1 + b2)
        return 0.5 * np.sum((z2 - target) ** 2)

    z1 = _sigmoid(W1 @ x + b1)
    a2 = W2 @ z1 + b2
    z2 = _sigmoid(a2)
    step = 1e-6
    grad = np.zeros(width * width)
    for index in range(width * width):
        bump = np.zeros(width * width)
        bump[index] = step
        grad[index] = (loss(W2.ravel() + bump) - loss(W2.ravel() - bump)) / (2 * step)
    return dict(z1=z1, a2=a2, z2=z2, delta2=z2 - target, dW2=grad.reshape(width, width))


def _weights_evidence() -> Evidence:
    import numpy as np

    ref = _two_layer_mlp()
    fprime = _sigmoid_prime(ref["a2"])
    return compare_forms(
        reference=ref["dW2"],
        sheet=np.outer(ref["delta2"] * fprime, ref["z2"]),  # z_j^(l) instead of z_j^(l-1)
        correct=mlp_backward_weights(ref["delta2"], fprime, ref["z1"]),
        reference_name="finite-difference dL/dW^(2) of a 2-layer sigmoid MLP (square layers, "
        "so both forms have a shape)",
        tolerance=1e-7,
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
        sheet_lines=(292, 294),
        erratum=Erratum(
            sheet=r"\left[\frac{\partial z^{(l)}}{\partial w_{ij}^{(l)}}\right]_k = f'(a)_k "
            r"\cdot z_j^{(l)}",
            correct=r"\left[\frac{\partial z^{(l)}}{\partial w_{ij}^{(l)}}\right]_k = [k = i]\, "
            r"f'(a_i^{(l)})\, z_j^{(l-1)}",
            explanation="the weight w_ij^(l) multiplies the layer's input z_j^(l-1) in "
            "a^(l) = W^(l) z^(l-1) + b^(l), so dz^(l)/dw_ij carries z_j^(l-1), not the layer's "
            "own output z_j^(l); with z^(l) the weight gradient is wrong (and has the wrong "
            "shape when layers differ in width)",
            evidence=_weights_evidence,
            severity="error",
            sheet_lines=(292, 292),
        ),
    )
)


def _second_derivative_evidence() -> Evidence:

    ref = _two_layer_mlp()
    fprime = _sigmoid_prime(ref["a2"])
    i, j = 1, 2
    # the right side delta^(l) . dz^(l)/dw_ij = delta_i f'(a_i) z_j^(l-1) ...
    right_side = ref["delta2"][i] * fprime[i] * ref["z1"][j]
    # ... is dL/dw_ij (finite differences), while the printed left side d^2L/dz^(l)dz^(l) is
    # the Hessian of L = 1/2 ||z - target||^2 in z^(l): the identity, entry (i, i) = 1
    hessian_entry = 1.0
    return compare_forms(
        reference=right_side,
        sheet=hessian_entry,
        correct=ref["dW2"][i, j],
        reference_name=f"delta^(2) . dz^(2)/dw_{i + 1}{j + 1} (the equation's right side)",
        tolerance=1e-7,
    )


register_claim(
    Claim(
        id="mlp-weight-gradient-left-side",
        topic="ml",
        section="10",
        sheet_lines=(294, 294),
        sheet="d^2 L / (dz^(l) dz^(l)) = delta^(l) dz^(l)/dw_ij^(l)",
        verdict="typo",
        explanation="the right side delta^(l) . dz^(l)/dw_ij^(l) is the first derivative "
        "dL/dw_ij^(l) (chain rule); the printed left side, a second derivative in z^(l), is a "
        "different quantity (for the squared error it is the identity)",
        source="Goodfellow et al. 2016, Sec. 6.5 (back-propagation)",
        check=_second_derivative_evidence,
        correct="dL/dw_ij^(l) = delta^(l) . dz^(l)/dw_ij^(l) = delta_i^(l) f'(a_i^(l)) z_j^(l-1)",
    )
)


def _bias_statement():
    import sympy as sp

    return sp.Eq(
        _gradient("b^(l)"),
        sp.HadamardProduct(_vector("delta^(l)"), _slopes("l")),
        evaluate=False,
    )


def _bias_derivation() -> list[Step]:
    sp, W, z, b, loss, upstream, slopes = _layer()
    gradient = sp.Matrix([sp.Derivative(loss, bi) for bi in b])
    chain = sp.Matrix([upstream[i] * slopes[i] for i in range(2)])
    return [
        _premise("dL/db^(l), entry i = dL/db_i", _gradient("b^(l)"), gradient, "gradient"),
        *_layer_premises(sp, z, upstream, slopes)[:2],
        Step(
            "by definition (2x2 layer, generic f and L)",
            _gradient("b^(l)"),
            gradient,
            uses=("gradient",),
        ),
        Step(
            "only output i depends on b_i, with da_i/db_i = 1: the weight formula without z",
            rhs=chain,
        ),
        Step(
            "as vectors: an elementwise product",
            rhs=sp.HadamardProduct(_vector("delta^(l)"), _slopes("l")),
            uses=("delta", "slopes"),
        ),
    ]


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
        sheet_lines=(294, 296),
    )
)
