"""Normalizing flows (sheet section 4): change of variables, coupling layers, Glow, SRFlow.

x = f(z) with f invertible, z ~ p_z. Log-determinants are natural logs of absolute values.

Metadata at module level; sympy inside builders; numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import Erratum, Evidence, Formula, Step, StepResult, as_float64, register

# --------------------------------------------------------------------------------------------
# matrix-valued steps: simplify every entry of lhs - rhs (core's check compares a scalar with 0)


def _matrix_step(claim, lhs, rhs, **kwargs) -> Step:
    def check() -> StepResult:
        import sympy as sp

        difference = (lhs - rhs).applyfunc(sp.simplify)
        passed = all(entry == 0 for entry in difference)
        detail = "simplify(lhs - rhs) == 0 entrywise" if passed else f"lhs - rhs = {difference}"
        return StepResult(passed, "simplify", detail)

    return Step(claim, lhs, rhs, method="custom", custom=check, **kwargs)


# --------------------------------------------------------------------------------------------
# change-of-variables


def _cov_statement():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    f_inv = sp.Function("f^{-1}")(x)
    return sp.Eq(
        sp.Function("p_x")(x),
        sp.Function("p_z")(f_inv) * sp.Abs(sp.Symbol("det(d f^{-1}(x) / dx)")),
    )


def _cov_derivation() -> list[Step]:
    import sympy as sp

    x = sp.Symbol("x", real=True)
    z = sp.Symbol("z", real=True)
    std_normal_pdf = sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)
    cdf = (1 + sp.erf(z / sp.sqrt(2))) / 2
    f = sp.sinh(z)  # a concrete increasing invertible map
    f_inv = sp.asinh(x)
    density = std_normal_pdf.subs(z, f_inv) * sp.diff(f_inv, x)

    def integrates_to_one() -> StepResult:
        import mpmath

        mpmath.mp.dps = 30
        fn = sp.lambdify(x, density, "mpmath")
        total = mpmath.quad(fn, [-mpmath.inf, -1, 0, 1, mpmath.inf])
        gap = abs(total - 1)
        return StepResult(bool(gap < 1e-20), "custom", f"mpmath.quad of p_x over R = {total}")

    a11, a12, a21, a22 = sp.symbols("a_11 a_12 a_21 a_22", real=True)
    A = sp.Matrix([[a11, a12], [a21, a22]])

    def invertible(rng):
        while True:
            values = {s: sp.Rational(rng.randint(-300, 300), 100) for s in (a11, a12, a21, a22)}
            if A.subs(values).det() != 0:
                return values

    return [
        Step(
            "1-D, f increasing (here x = sinh z, z ~ N(0, 1)): P(X <= x) = P(Z <= f^{-1}(x)); "
            "differentiate the CDF: p_x(x) = p_z(f^{-1}(x)) d f^{-1}(x)/dx",
            sp.diff(cdf.subs(z, f_inv), x),
            density,
            justification="chain rule; for decreasing f the sign flips, hence |.|",
        ),
        Step(
            "inverse-Jacobian form: d f^{-1}(x)/dx = (df(z)/dz)^{-1} at z = f^{-1}(x)",
            sp.diff(f_inv, x),
            1 / sp.diff(f, z).subs(z, f_inv),
            justification="inverse function rule (f^{-1})' = 1/f'(f^{-1})",
        ),
        Step(
            "the density integrates to one (quadrature)",
            custom=integrates_to_one,
            method="custom",
        ),
        Step(
            "n-D linear map x = A z: det(d f^{-1}/dx) = det(A^{-1}) = 1/det(A)",
            A.inv().det(),
            1 / A.det(),
            sampler=invertible,
            assumptions="A invertible",
        ),
        Step(
            "a stack f = f_K o ... o f_1 multiplies the determinants (det of a product)",
            (A * A.T).det(),
            A.det() * A.T.det(),
        ),
    ]


def change_of_variables(x, A, b):
    """log p_x(x) for x = A z + b, z ~ N(0, I): log p_z(A^{-1}(x - b)) + log|det A^{-1}|."""
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    A = np.asarray(A, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    z = np.linalg.solve(A, (x - b)[..., None])[..., 0] if x.ndim > 1 else np.linalg.solve(A, x - b)
    n = A.shape[-1]
    log_pz = -0.5 * (z**2).sum(axis=-1) - 0.5 * n * np.log(2 * np.pi)
    _, log_abs_det = np.linalg.slogdet(A)
    return as_float64(log_pz - log_abs_det)


register(
    Formula(
        id="change-of-variables",
        title="Change of variables for a normalizing flow",
        topic="flows",
        section="4",
        text="For x = f(z), f invertible: p_x(x) = p_z(f^{-1}(x)) |det d f^{-1}(x)/dx| = "
        "p_z(f^{-1}(x)) |det df(z)/dz|^{-1}. Flows have a tractable likelihood (unlike VAEs) "
        "and a latent space (unlike AR models). Sample z ~ p_z, x = f(z). evaluate: the "
        "log-density of a linear flow x = A z + b with z ~ N(0, I).",
        keywords=(
            "change of variables",
            "jacobian",
            "determinant",
            "density",
            "normalizing flow",
            "likelihood",
            "invertible",
            "log det",
        ),
        statement_builder=_cov_statement,
        derivation_builder=_cov_derivation,
        evaluator=change_of_variables,
    )
)

# --------------------------------------------------------------------------------------------
# flow-composition (erratum: evaluation points of the per-layer Jacobians)


def _composition_statement():
    import sympy as sp

    k, K = sp.symbols("k K", positive=True, integer=True)
    return sp.Eq(
        sp.Symbol("log p_x(x)"),
        sp.Symbol("log p_z(z)") + sp.Sum(sp.Symbol("log|det d f_k^{-1}(x_k) / d x_k|"), (k, 1, K)),
    )


def _composition_derivation() -> list[Step]:
    import sympy as sp

    x = sp.Symbol("x", real=True)
    g1, g2 = sp.asinh, sp.asinh  # inverses of f_1 = f_2 = sinh
    x1 = g2(x)  # the intermediate point x_1 = f_2^{-1}(x)
    return [
        Step(
            "chain rule for f = f_2 o f_1: d f^{-1}/dx = (f_1^{-1})'(x_1) (f_2^{-1})'(x) with "
            "x_1 = f_2^{-1}(x): each layer's Jacobian at its own input",
            sp.diff(g1(g2(x)), x),
            sp.diff(g1(x), x).subs(x, x1) * sp.diff(g2(x), x),
        ),
    ]


def _composition_evidence() -> Evidence:
    import mpmath

    mpmath.mp.dps = 30

    def phi(z):
        return mpmath.exp(-(z**2) / 2) / mpmath.sqrt(2 * mpmath.pi)

    def inv(x):
        return mpmath.asinh(x)

    def d_inv(x):
        return 1 / mpmath.sqrt(1 + x**2)

    # x = sinh(sinh(z)), z ~ N(0, 1); reference density: derivative of the CDF Phi(f^{-1}(x))
    def cdf(x):
        return mpmath.ncdf(inv(inv(x)))

    def correct(x):
        return phi(inv(inv(x))) * d_inv(inv(x)) * d_inv(x)

    def sheet(x):
        return phi(inv(inv(x))) * d_inv(x) * d_inv(x)

    points = [mpmath.mpf(v) for v in ("-3.1", "-0.7", "0.4", "2.5")]
    ref = [mpmath.diff(cdf, p) for p in points]
    gap_c = max(abs(correct(p) - r) / r for p, r in zip(points, ref))
    gap_s = max(abs(sheet(p) - r) / r for p, r in zip(points, ref))
    mass = mpmath.quad(sheet, [-mpmath.inf, -1, 0, 1, mpmath.inf])
    return Evidence(
        sheet_fails=bool(gap_s > 1e-3),
        correct_passes=bool(gap_c < 1e-15),
        detail=f"x = sinh(sinh z): against d/dx of the CDF at 4 points, all Jacobians at x has "
        f"max rel. error {mpmath.nstr(gap_s, 3)} (and integrates to {mpmath.nstr(mass, 6)}); "
        f"Jacobians at the intermediate points {mpmath.nstr(gap_c, 3)}",
    )


register(
    Formula(
        id="flow-composition",
        title="Density of a stack of flows f = f_K o ... o f_1",
        topic="flows",
        section="4",
        text="Stack coupling layers for expressivity, f = f_K o ... o f_1: p_x(x) = "
        "p_z(f^{-1}(x)) prod_k |det d f_k^{-1}(x_k) / d x_k|, where x_K = x and "
        "x_{k-1} = f_k^{-1}(x_k) are the intermediate values.",
        keywords=("composition", "stack", "log det sum", "layers", "chain rule", "flow"),
        statement_builder=_composition_statement,
        derivation_builder=_composition_derivation,
        erratum=Erratum(
            sheet=r"p_x(x) = p_z(f^{-1}(x)) \prod_k \left|\det \frac{\partial f_k^{-1}(x)}"
            r"{\partial x}\right|",
            correct=r"p_x(x) = p_z(f^{-1}(x)) \prod_k \left|\det \frac{\partial f_k^{-1}(x_k)}"
            r"{\partial x_k}\right|,\ x_K = x,\ x_{k-1} = f_k^{-1}(x_k)",
            explanation="Each layer's Jacobian is evaluated at that layer's own input (the "
            "intermediate value), not at x; as printed every factor is taken at x.",
            evidence=_composition_evidence,
        ),
    )
)

# --------------------------------------------------------------------------------------------
# triangular-determinant


def _triangular_statement():
    import sympy as sp

    i, n = sp.symbols("i n", positive=True, integer=True)
    J = sp.IndexedBase("J")
    return sp.Eq(sp.Symbol("det J"), sp.Product(J[i, i], (i, 1, n)))


def _triangular_derivation() -> list[Step]:
    import sympy as sp

    entries = sp.symbols("j0:16", real=True)
    M = sp.Matrix(4, 4, entries)
    lower = sp.Matrix(4, 4, lambda r, c: M[r, c] if c <= r else 0)
    return [
        Step(
            "a 4x4 lower-triangular matrix: det = product of the diagonal (O(n) instead of the "
            "O(n^3) of a general determinant)",
            lower.det(),
            sp.prod([lower[k, k] for k in range(4)]),
        ),
        Step(
            "same for upper-triangular",
            lower.T.det(),
            sp.prod([lower[k, k] for k in range(4)]),
        ),
    ]


def triangular_logdet(J):
    """log|det J| = sum_i log|J_ii| for a triangular J (last two axes)."""
    import numpy as np

    J = np.asarray(J, dtype=np.float64)
    return as_float64(np.log(np.abs(np.diagonal(J, axis1=-2, axis2=-1))).sum(axis=-1))


register(
    Formula(
        id="triangular-determinant",
        title="Determinant of a triangular Jacobian",
        topic="flows",
        section="4",
        text="Computing a general determinant is O(n^3); if the Jacobian is triangular it is "
        "the product of the diagonal, O(n). Coupling layers are built for this.",
        keywords=("triangular", "determinant", "o(n^3)", "complexity", "jacobian", "diagonal"),
        statement_builder=_triangular_statement,
        derivation_builder=_triangular_derivation,
        evaluator=triangular_logdet,
    )
)

# --------------------------------------------------------------------------------------------
# coupling-layer and coupling-jacobian


def _coupling_statement():
    import sympy as sp

    xa, xb = sp.symbols("x^A x^B", real=True)
    h, beta = sp.Function("h"), sp.Function("beta")
    return sp.Eq(sp.Matrix([sp.Symbol("y^A"), sp.Symbol("y^B")]), sp.Matrix([h(xa, beta(xb)), xb]))


def _coupling_derivation() -> list[Step]:
    import sympy as sp

    xa, xb = sp.symbols("x_A x_B", real=True)
    s, t = sp.Function("s")(xb), sp.Function("t")(xb)
    y_a = xa * sp.exp(s) + t  # affine h(x, beta) with beta = (s, t)
    return [
        Step(
            "inverse: x^A = h^{-1}(y^A, beta(y^B)), x^B = y^B (beta needs no inverting, since "
            "y^B = x^B is known); for affine h: (y^A - t) exp(-s) recovers x^A",
            (y_a - t) * sp.exp(-s),
            xa,
        ),
    ]


register(
    Formula(
        id="coupling-layer",
        title="Coupling layer and its inverse",
        topic="flows",
        section="4",
        text="(y^A, y^B) = (h(x^A, beta(x^B)), x^B), beta any model, h elementwise and "
        "invertible in its first argument; inverse (x^A, x^B) = (h^{-1}(y^A, beta(y^B)), y^B). "
        "Conditional coupling: add a parameter w to beta.",
        keywords=("coupling", "realnvp", "nice", "inverse", "split", "conditional coupling"),
        statement_builder=_coupling_statement,
        derivation_builder=_coupling_derivation,
    )
)


def _jacobian_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("J"),
        sp.Matrix(
            [
                [sp.Symbol("dh/dx^A"), sp.Symbol("dh/dbeta * dbeta/dx^B")],
                [sp.Symbol("0"), sp.Symbol("I")],
            ]
        ),
    )


def _jacobian_derivation() -> list[Step]:
    import sympy as sp

    xa1, xa2, xb1, xb2 = sp.symbols("x_A1 x_A2 x_B1 x_B2", real=True)
    h = sp.Function("h")
    beta1 = sp.Function("beta_1")(xb1, xb2)
    beta2 = sp.Function("beta_2")(xb1, xb2)
    y = sp.Matrix([h(xa1, beta1), h(xa2, beta2), xb1, xb2])
    J = y.jacobian([xa1, xa2, xb1, xb2])
    dh_dx = [sp.diff(y[0], xa1), sp.diff(y[1], xa2)]
    b = sp.Symbol("b")
    top_right = sp.Matrix(
        [
            [sp.diff(h(xa1, b), b).subs(b, beta1) * sp.diff(beta1, v) for v in (xb1, xb2)],
            [sp.diff(h(xa2, b), b).subs(b, beta2) * sp.diff(beta2, v) for v in (xb1, xb2)],
        ]
    )
    return [
        _matrix_step(
            "2+2-dim coupling with symbolic h, beta: the lower-left block is 0",
            J[2:, :2],
            sp.zeros(2, 2),
        ),
        _matrix_step(
            "the lower-right block is the identity I (y^B = x^B)",
            J[2:, 2:],
            sp.eye(2),
        ),
        _matrix_step(
            "the upper-left block is diagonal: h acts elementwise",
            J[:2, :2],
            sp.diag(*dh_dx),
        ),
        _matrix_step(
            "the upper-right block is (dh/dbeta)(dbeta/dx^B), not (dh/dx^A)(dbeta/dx^B)",
            J[:2, 2:],
            top_right,
        ),
        Step(
            "so J is block-triangular and det J = prod_i dh/dx^A_i (Matrix.det)",
            J.det(),
            dh_dx[0] * dh_dx[1],
            method="simplify",
        ),
    ]


def _jacobian_evidence() -> Evidence:
    import numpy as np

    # concrete coupling on R^2 + R^2: h(x, b) = x exp(b), beta(x^B) = tanh(M x^B + c)
    M = np.array([[0.7, -1.2], [0.4, 0.9]])
    c = np.array([0.1, -0.3])

    def beta(xb):
        return np.tanh(M @ xb + c)

    def layer(v):
        xa, xb = v[:2], v[2:]
        return np.concatenate([xa * np.exp(beta(xb)), xb])

    v = np.array([1.7, -0.6, 0.3, -0.8])
    step = 1e-6
    fd = np.stack([(layer(v + step * e) - layer(v - step * e)) / (2 * step) for e in np.eye(4)], 1)
    xa, xb = v[:2], v[2:]
    b = beta(xb)
    dbeta = (1 - b**2)[:, None] * M
    h_x = np.diag(np.exp(b))  # dh/dx^A
    h_b = np.diag(xa * np.exp(b))  # dh/dbeta
    sheet_block = h_x @ dbeta
    correct_block = h_b @ dbeta
    sheet_gap = np.abs(sheet_block - fd[:2, 2:]).max()
    correct_gap = np.abs(correct_block - fd[:2, 2:]).max()
    rest_ok = np.allclose(fd[2:, 2:], np.eye(2)) and np.allclose(fd[2:, :2], 0)
    return Evidence(
        sheet_fails=bool(sheet_gap > 1e-3),
        correct_passes=bool(correct_gap < 1e-6 and rest_ok),
        detail=f"affine coupling h = x exp(beta(x^B)): finite-difference Jacobian's upper-right "
        f"block vs h'(x^A) beta': max gap {sheet_gap:.3f}; vs (dh/dbeta) beta': "
        f"{correct_gap:.1e}; lower blocks [0, I]: {rest_ok}",
    )


register(
    Formula(
        id="coupling-jacobian",
        title="Jacobian of a coupling layer (block-triangular)",
        topic="flows",
        section="4",
        text="J = [[dh/dx^A, (dh/dbeta)(dbeta/dx^B)], [0, I]]: block-triangular, so "
        "det J = prod_i dh/dx^A_i, whatever the model beta is.",
        keywords=("coupling jacobian", "triangular", "block", "jacobian", "determinant"),
        statement_builder=_jacobian_statement,
        derivation_builder=_jacobian_derivation,
        erratum=Erratum(
            sheet=r"J = \begin{pmatrix} h' & h'\beta' \\ 0 & 1 \end{pmatrix}",
            correct=r"J = \begin{pmatrix} \partial h/\partial x^A & (\partial h/\partial \beta)"
            r"\,\beta' \\ 0 & I \end{pmatrix}",
            explanation="The upper-right block differentiates h in its second argument "
            "(dh/dbeta times beta'), not dh/dx^A times beta'; the lower-right block is an "
            "identity matrix. The determinant, prod dh/dx^A, is unaffected.",
            evidence=_jacobian_evidence,
        ),
    )
)

# --------------------------------------------------------------------------------------------
# affine-coupling-logdet


def _affine_statement():
    import sympy as sp

    i = sp.Symbol("i", integer=True)
    d_a = sp.Symbol("d_A", positive=True, integer=True)
    return sp.Eq(sp.Symbol("log|det J|"), sp.Sum(sp.Indexed("s(x^B)", i), (i, 1, d_a)))


def _affine_derivation() -> list[Step]:
    import sympy as sp

    xa1, xa2, xb1, xb2 = sp.symbols("x_A1 x_A2 x_B1 x_B2", real=True)
    s1, s2 = (sp.Function(f"s_{k}")(xb1, xb2) for k in (1, 2))
    t1, t2 = (sp.Function(f"t_{k}")(xb1, xb2) for k in (1, 2))
    y = sp.Matrix([xa1 * sp.exp(s1) + t1, xa2 * sp.exp(s2) + t2, xb1, xb2])
    J = y.jacobian([xa1, xa2, xb1, xb2])
    real_s = sp.symbols("sigma_1 sigma_2", real=True)
    return [
        Step(
            "affine coupling (RealNVP) y^A = x^A * exp(s(x^B)) + t(x^B): det J by Matrix.det",
            J.det(),
            sp.exp(s1 + s2),
            method="simplify",
        ),
        Step(
            "so log|det J| = sum_i s_i(x^B) (s_i real-valued)",
            sp.log(sp.exp(sum(real_s))),
            sum(real_s),
            method="simplify",
        ),
    ]


def affine_coupling_logdet(log_scale):
    """log|det J| = sum_i s_i(x^B) over the last axis (the transformed half)."""
    import numpy as np

    return as_float64(np.asarray(log_scale, dtype=np.float64).sum(axis=-1))


register(
    Formula(
        id="affine-coupling-logdet",
        title="Log-determinant of an affine coupling layer",
        topic="flows",
        section="4",
        text="y^A = x^A exp(s(x^B)) + t(x^B), y^B = x^B: log|det J| = sum_i s_i(x^B). s and t "
        "can be any networks (they never need inverting).",
        keywords=("affine coupling", "realnvp", "glow", "log det", "scale", "translation"),
        statement_builder=_affine_statement,
        derivation_builder=_affine_derivation,
        evaluator=affine_coupling_logdet,
    )
)

# --------------------------------------------------------------------------------------------
# actnorm


def _actnorm_statement():
    import sympy as sp

    H, W, C = sp.symbols("H W C", positive=True, integer=True)
    i = sp.Symbol("i", integer=True)
    return sp.Eq(
        sp.Symbol("log|det J|"), H * W * sp.Sum(sp.log(sp.Abs(sp.Indexed("s", i))), (i, 1, C))
    )


def _actnorm_derivation() -> list[Step]:
    import sympy as sp

    s1, s2 = sp.symbols("s_1 s_2", real=True, nonzero=True)
    b1, b2 = sp.symbols("b_1 b_2", real=True)
    xs = sp.symbols("x0:6", real=True)  # C = 2 channels, H*W = 3 pixels
    y = sp.Matrix([s1 * v + b1 for v in xs[:3]] + [s2 * v + b2 for v in xs[3:]])
    J = y.jacobian(xs)
    m, v = sp.Symbol("m", real=True), sp.Symbol("v", positive=True)
    return [
        Step(
            "y_ij = s * x_ij + b per channel: the Jacobian is diagonal with each s_c repeated "
            "H*W times (C = 2, H*W = 3)",
            J.det(),
            s1**3 * s2**3,
            method="simplify",
        ),
        Step(
            "log|det| = H*W * sum_c log|s_c|",
            sp.log(sp.Abs(J.det())),
            3 * (sp.log(sp.Abs(s1)) + sp.log(sp.Abs(s2))),
            assumptions="s_c != 0",
        ),
        Step(
            "data-dependent init: s = 1/std, b = -mean/std of the first minibatch gives "
            "outputs with mean 0 ...",
            m / sp.sqrt(v) - m / sp.sqrt(v),
            sp.Integer(0),
            justification="E[s x + b] = s m + b",
        ),
        Step(
            "... and variance 1",
            (1 / sp.sqrt(v)) ** 2 * v,
            sp.Integer(1),
            justification="Var[s x + b] = s^2 v",
        ),
    ]


def actnorm_logdet(s, height, width):
    """log|det| of ActNorm on an H x W x C activation: H * W * sum_c log|s_c| (last axis)."""
    import numpy as np

    s = np.asarray(s, dtype=np.float64)
    return as_float64(
        np.asarray(height, dtype=np.float64)
        * np.asarray(width, dtype=np.float64)
        * np.log(np.abs(s)).sum(axis=-1)
    )


register(
    Formula(
        id="actnorm-logdet",
        title="ActNorm: per-channel affine map and its log-determinant",
        topic="flows",
        section="4",
        text="ActNorm (Glow): batchnorm-like, initialised so that the output ~ N(0, I) for the "
        "first minibatch. y_ij = s * x_ij + b, x_ij = (y_ij - b) / s, log det = H * W * "
        "sum_i log|s_i|: linear cost.",
        keywords=("actnorm", "activation normalization", "glow", "log det", "scale", "bias"),
        statement_builder=_actnorm_statement,
        derivation_builder=_actnorm_derivation,
        evaluator=actnorm_logdet,
    )
)

# --------------------------------------------------------------------------------------------
# conv1x1


def _conv1x1_statement():
    import sympy as sp

    H, W = sp.symbols("H W", positive=True, integer=True)
    return sp.Eq(sp.Symbol("log|det J|"), H * W * sp.log(sp.Abs(sp.Symbol("det W"))))


def _conv1x1_derivation() -> list[Step]:
    import sympy as sp

    w = sp.symbols("w_11 w_12 w_21 w_22", real=True)
    Wm = sp.Matrix(2, 2, w)
    pixels = [sp.symbols(f"x_{p}1 x_{p}2", real=True) for p in range(3)]  # H*W = 3, C = 2
    y = sp.Matrix([e for px in pixels for e in (Wm * sp.Matrix(px))])
    J = y.jacobian([v for px in pixels for v in px])
    return [
        _matrix_step(
            "a 1x1 convolution applies the same C x C matrix W at every pixel: the Jacobian "
            "is block-diagonal with H*W copies of W (C = 2, H*W = 3)",
            J,
            sp.diag(Wm, Wm, Wm),
        ),
        Step(
            "det J = (det W)^{H W}, so log|det J| = H * W * log|det W|; computing det W is O(C^3)",
            J.det(),
            Wm.det() ** 3,
            method="simplify",
        ),
    ]


def conv1x1_logdet(W, height, width):
    """log|det| of an invertible 1x1 convolution: H * W * log|det W| (W: C x C, last two axes)."""
    import numpy as np

    _, log_abs_det = np.linalg.slogdet(np.asarray(W, dtype=np.float64))
    return as_float64(
        np.asarray(height, dtype=np.float64) * np.asarray(width, dtype=np.float64) * log_abs_det
    )


register(
    Formula(
        id="conv1x1-logdet",
        title="Invertible 1x1 convolution log-determinant",
        topic="flows",
        section="4",
        text="1x1 conv (Glow): a learned permutation along the channel dim. Init W as a random "
        "orthogonal C x C matrix (|det W| = 1, log det 0). log det = H * W * log|det W|: "
        "O(C^3).",
        keywords=(
            "1x1 conv",
            "invertible convolution",
            "glow",
            "permutation",
            "log det",
            "channel mixing",
        ),
        statement_builder=_conv1x1_statement,
        derivation_builder=_conv1x1_derivation,
        evaluator=conv1x1_logdet,
    )
)


def _lu_statement():
    import sympy as sp

    i = sp.Symbol("i", integer=True)
    C = sp.Symbol("C", positive=True, integer=True)
    return sp.Eq(sp.Symbol("log|det W|"), sp.Sum(sp.log(sp.Abs(sp.Indexed("s", i))), (i, 1, C)))


def _lu_derivation() -> list[Step]:
    import sympy as sp

    l21, l31, l32 = sp.symbols("l_21 l_31 l_32", real=True)
    u12, u13, u23 = sp.symbols("u_12 u_13 u_23", real=True)
    s = sp.symbols("s_1 s_2 s_3", real=True, nonzero=True)
    P = sp.Matrix([[0, 1, 0], [1, 0, 0], [0, 0, 1]])  # a transposition, det P = -1
    L = sp.Matrix([[1, 0, 0], [l21, 1, 0], [l31, l32, 1]])
    U = sp.Matrix([[0, u12, u13], [0, 0, u23], [0, 0, 0]])
    W = P * L * (U + sp.diag(*s))
    return [
        Step(
            "W = P L (U + diag(s)): P a fixed permutation, L unit lower-triangular, U strictly "
            "upper-triangular: det W = det P * 1 * prod s_i",
            W.det(),
            P.det() * s[0] * s[1] * s[2],
            method="simplify",
        ),
        Step(
            "|det P| = 1, so log|det W| = sum_i log|s_i|: O(C)",
            sp.log(sp.Abs(W.det())),
            sum(sp.log(sp.Abs(v)) for v in s),
            assumptions="s_i != 0",
        ),
    ]


def conv1x1_lu_logdet(s):
    """log|det W| = sum_i log|s_i| for W = P L (U + diag(s)) (last axis)."""
    import numpy as np

    return as_float64(np.log(np.abs(np.asarray(s, dtype=np.float64))).sum(axis=-1))


def _lu_evidence() -> Evidence:
    import numpy as np
    from scipy import linalg

    rng = np.random.default_rng(0)
    W = rng.standard_normal((4, 4))
    P, L, U_full = linalg.lu(W)  # W = P L U_full
    s = np.diag(U_full)
    U = U_full - np.diag(s)
    sheet_gap = np.abs(P @ (U + np.diag(s)) - W).max()
    correct_gap = np.abs(P @ L @ (U + np.diag(s)) - W).max()
    logdet_gap = abs(float(conv1x1_lu_logdet(s)) - np.linalg.slogdet(W)[1])
    return Evidence(
        sheet_fails=bool(sheet_gap > 1e-6),
        correct_passes=bool(correct_gap < 1e-12 and logdet_gap < 1e-12),
        detail=f"random 4x4 W, scipy LU: max|P(U + diag s) - W| = {sheet_gap:.3f}; "
        f"max|P L (U + diag s) - W| = {correct_gap:.1e}; sum log|s| vs slogdet gap "
        f"{logdet_gap:.1e}",
    )


register(
    Formula(
        id="conv1x1-lu-logdet",
        title="LU-parametrised 1x1 convolution: O(C) log-determinant",
        topic="flows",
        section="4",
        text="Faster: W := P L (U + diag(s)), P a random fixed permutation, L lower-triangular "
        "with ones on the diagonal, U upper-triangular with zeros on the diagonal, s a vector. "
        "Then log|det W| = sum_i log|s_i|: O(C).",
        keywords=("lu decomposition", "lu", "1x1 conv", "glow", "log det", "permutation"),
        statement_builder=_lu_statement,
        derivation_builder=_lu_derivation,
        evaluator=conv1x1_lu_logdet,
        erratum=Erratum(
            sheet=r"\mathbf{W} := \mathbf{P}(\mathbf{U} + \text{diag}(\mathbf{s}))",
            correct=r"\mathbf{W} := \mathbf{P}\mathbf{L}(\mathbf{U} + \text{diag}(\mathbf{s}))",
            explanation="The factor L is missing (the sheet even defines L right after); "
            "without it W is restricted to permuted upper-triangular matrices. The log-det "
            "is the same (det L = 1).",
            evidence=_lu_evidence,
        ),
    )
)

# --------------------------------------------------------------------------------------------
# squeeze


def _squeeze_statement():
    import sympy as sp

    C, H, W = sp.symbols("C H W", positive=True, integer=True)
    return sp.Eq(sp.Symbol("squeeze(C x H x W)"), sp.Symbol("4C x H/2 x W/2"))


def _squeeze_derivation() -> list[Step]:
    import sympy as sp

    # 1 channel, 2x2 image -> 4 channels, 1x1: a permutation of the 4 entries
    P = sp.Matrix([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]])
    return [
        Step(
            "squeeze only reorders entries: its Jacobian is a permutation matrix, |det| = 1, "
            "log det = 0",
            sp.Abs(P.det()),
            sp.Integer(1),
        ),
    ]


register(
    Formula(
        id="squeeze",
        title="Glow squeeze and the multi-scale architecture",
        topic="flows",
        section="4",
        text="Squeeze: reshape C x H x W -> 4C x H/2 x W/2 (increase channels), log det 0. "
        "Glow: (squeeze -> K x flow step -> split) x (L-1), then squeeze -> K x flow step; a "
        "flow step is ActNorm -> 1x1 conv -> affine coupling. Flows are expensive to train and "
        "low-res; the latent distribution needn't be N.",
        keywords=("squeeze", "split", "multi-scale", "glow", "architecture", "reshape"),
        statement_builder=_squeeze_statement,
        derivation_builder=_squeeze_derivation,
    )
)

# --------------------------------------------------------------------------------------------
# srflow-affine-injector-logdet


def _srflow_statement():
    import sympy as sp

    i, j, k = sp.symbols("i j k", integer=True)
    return sp.Eq(
        sp.Symbol("log|det J|"),
        sp.Sum(
            sp.Function("beta_{theta,s}^n")(sp.Indexed("u", i, j, k)),
            (i, 1, sp.Symbol("H")),
            (j, 1, sp.Symbol("W")),
            (k, 1, sp.Symbol("C")),
        ),
    )


def _srflow_derivation() -> list[Step]:
    import sympy as sp

    h = sp.symbols("h_1:4", real=True)
    s = sp.symbols("s_1:4", real=True)  # beta_s(u) at three positions (u is the low-res input)
    b = sp.symbols("b_1:4", real=True)
    y = sp.Matrix([sp.exp(si) * hi + bi for si, hi, bi in zip(s, h, b)])
    J = y.jacobian(h)
    return [
        Step(
            "h^{n+1} = exp(beta_s(u)) * h^n + beta_b(u): the scale and shift depend only on the "
            "conditioning u, so the Jacobian w.r.t. h^n is diagonal, det = exp(sum beta_s)",
            J.det(),
            sp.exp(sum(s)),
            method="simplify",
        ),
        Step(
            "inverse h^n = exp(-beta_s(u)) * (h^{n+1} - beta_b(u)) recovers h^n",
            sp.exp(-s[0]) * (y[0] - b[0]),
            h[0],
        ),
    ]


def srflow_affine_injector_logdet(log_scale):
    """log|det| = sum_{i,j,k} beta_s(u_ijk): sums the last three axes (C, H, W)."""
    import numpy as np

    log_scale = np.asarray(log_scale, dtype=np.float64)
    axes = tuple(range(-min(3, log_scale.ndim), 0)) if log_scale.ndim else None
    return as_float64(log_scale.sum(axis=axes))


register(
    Formula(
        id="srflow-affine-injector-logdet",
        title="SRFlow affine injector and its log-determinant",
        topic="flows",
        section="4",
        text="SRFlow: flows generate many high-res images from one low-res u. The affine "
        "injector between conv and coupling layers: h^{n+1} = exp(beta_s(u)) h^n + "
        "beta_b(u), h^n = exp(-beta_s(u)) (h^{n+1} - beta_b(u)), log det = sum_{i,j,k} "
        "beta_s(u_ijk).",
        keywords=("srflow", "super-resolution", "affine injector", "conditional flow", "log det"),
        statement_builder=_srflow_statement,
        derivation_builder=_srflow_derivation,
        evaluator=srflow_affine_injector_logdet,
    )
)

# --------------------------------------------------------------------------------------------
# C-Flow and StyleFlow (statements)


def _cflow_statement():
    import sympy as sp

    f, g = sp.Function("f_phi"), sp.Function("g_theta^{-1}")
    return sp.Eq(sp.Symbol("x_B^2"), f(sp.Symbol("z_B^1"), g(sp.Symbol("x_A^2"))))


register(
    Formula(
        id="c-flow",
        title="C-Flow: flows conditioned on other flows",
        topic="flows",
        section="4",
        text="C-Flow (multimodal flows): encode the image z_B^1 = f_phi^{-1}(x_B^1 | x_A^1), "
        "encode the extra information z_A^2 = g_theta^{-1}(x_A^2), generate x_B^2 = "
        "f_phi(z_B^1 | z_A^2). StyleFlow replaces StyleGAN's z -> w mapping network with a "
        "flow conditioned on attributes.",
        keywords=("c-flow", "cflow", "styleflow", "conditional flow", "multimodal"),
        statement_builder=_cflow_statement,
    )
)
