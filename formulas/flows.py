"""Normalizing flows (sheet section 4, lines 72-109): change of variables, coupling layers, Glow,
SRFlow, StyleFlow, C-Flow.

x = f(z) with f invertible, z ~ p_z. Log-determinants are natural logs of absolute values.

Each derivation is a chain from definitions (and named premises) to the printed statement.
Statements, proofs and evaluators share the helpers below (one source per formula). Steps
about a general size (C channels, d_A coordinates) whose sympy form cannot be simplified are
checked as lemmas: two routes (the layer's full Jacobian vs the closed form) on random
instances of several sizes.

Metadata at module level; sympy inside builders; numpy inside evaluators and checks.
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

# --------------------------------------------------------------------------------------------
# shared symbolic helper


def _det_jacobian(size, name="J"):
    """det J of the layer's size x size Jacobian J (a matrix symbol: \\det J, as the sheet)."""
    import sympy as sp

    return sp.Determinant(sp.MatrixSymbol(name, size, size))


def _with_real_determinant(lhs, rhs, det, *sizes):
    """A custom check for a step about the number det W (log|(det W)^{HW}| = H W log|det W|):
    det W is a real, nonzero number d, so the step is checked with d and the sizes drawn at
    random (d from [-3, 3] without 0, sizes from 1..6), exactly to 50 digits."""

    def check() -> Comparison:
        import random

        import sympy as sp

        rng = random.Random(0)
        left, right = [], []
        for _ in range(6):
            d = sp.Rational(rng.choice([-1, 1]) * rng.randint(10, 300), 100)
            values = {size: sp.Integer(rng.randint(1, 6)) for size in sizes}
            left.append(complex(sp.N(lhs.xreplace({det: d}).xreplace(values), 50)))
            right.append(complex(sp.N(rhs.xreplace({det: d}).xreplace(values), 50)))
        return Comparison(left, right, "det W a real nonzero number: 6 random values and sizes")

    return check


# --------------------------------------------------------------------------------------------
# shared numeric helpers


def _layer_jacobian(layer, shape, rng):
    """Jacobian of a map that is affine in its input (ActNorm, 1x1 conv, injector): columns are
    layer(e_k) - layer(0), exact for affine maps. Returns (J, a random input point)."""
    import numpy as np

    n = int(np.prod(shape))
    zero = layer(np.zeros(shape)).ravel()
    columns = [layer(np.eye(n)[k].reshape(shape)).ravel() - zero for k in range(n)]
    return np.stack(columns, axis=1), rng.normal(size=shape)


def _random_lu(rng, channels):
    """P (a permutation), L (unit lower-triangular), U (strictly upper), s (no zero entry)."""
    import numpy as np

    P = np.eye(channels)[rng.permutation(channels)]
    L = np.tril(rng.normal(size=(channels, channels)), -1) + np.eye(channels)
    U = np.triu(rng.normal(size=(channels, channels)), 1)
    s = rng.uniform(0.3, 2.0, size=channels) * rng.choice([-1.0, 1.0], size=channels)
    return P, L, U, s


def _conv1x1(W):
    """The 1x1 convolution with kernel W (C x C) on a C x H x W activation."""
    import numpy as np

    return lambda x: np.einsum("dc,chw->dhw", W, x)


# --------------------------------------------------------------------------------------------
# change-of-variables (sheet line 74), proved in one dimension


def _cov_symbols():
    import sympy as sp

    x, t = sp.symbols("x t", real=True)
    names = ("f^{-1}", "p_x", "p_z", "F_x", "F_z")
    return (sp, x, t, *(sp.Function(name) for name in names))


def _jacobian_det_1d(inverse, x):
    """|det d f^{-1}(x)/dx| with the 1x1 Jacobian written as a matrix (the sheet's det)."""
    import sympy as sp

    return sp.Abs(sp.Determinant(sp.Matrix([[sp.Derivative(inverse(x), x)]])))


def _cov_statement():
    sp, x, _, f_inv, p_x, p_z, _, _ = _cov_symbols()
    return sp.Eq(p_x(x), p_z(f_inv(x)) * _jacobian_det_1d(f_inv, x))


def _cov_derivation() -> list[Step]:
    sp, x, _, f_inv, p_x, p_z, F_x, F_z = _cov_symbols()
    r = sp.Function("r", real=True)

    class IncreasingInverse(sp.Function):
        """f^{-1} of an increasing f: its derivative is exp(r(x)) > 0, r any real function."""

        def fdiff(self, argindex=1):
            return sp.exp(r(self.args[0]))

    IncreasingInverse.__name__ = "f^{-1}_increasing"
    return [
        Step(
            "the density of X is the derivative of its CDF",
            p_x(x),
            sp.Derivative(F_x(x), x),
            premise="definition",
            name="pdf",
        ),
        Step(
            "f increasing: X = f(Z) <= x exactly when Z <= f^{-1}(x)",
            F_x(x),
            F_z(f_inv(x)),
            premise="assumption",
            name="monotone",
            justification="for a decreasing f, F_x(x) = 1 - F_z(f^{-1}(x)) and the sign "
            "of the derivative flips: hence the absolute value",
        ),
        Step(
            "the density of Z is the derivative of its CDF, here at z = f^{-1}(x)",
            p_z(f_inv(x)),
            sp.Derivative(F_z(f_inv(x)), f_inv(x)),
            premise="definition",
            name="pdf_z",
        ),
        Step(
            "f increasing makes f^{-1} increasing: d f^{-1}(x)/dx = exp(r(x)) > 0",
            f_inv(x),
            IncreasingInverse(x),
            premise="assumption",
            name="increasing",
        ),
        Step(
            "p_x(x) = d/dx F_x(x)",
            p_x(x),
            sp.Derivative(F_x(x), x),
            uses=("pdf",),
        ),
        Step(
            "= d/dx F_z(f^{-1}(x)) (f increasing)",
            rhs=sp.Derivative(F_z(f_inv(x)), x),
            uses=("monotone",),
        ),
        Step(
            "= p_z(f^{-1}(x)) d f^{-1}(x)/dx (chain rule)",
            rhs=p_z(f_inv(x)) * sp.Derivative(f_inv(x), x),
            uses=("pdf_z",),
        ),
        Step(
            "= p_z(f^{-1}(x)) |det d f^{-1}(x)/dx|: the derivative of the increasing "
            "f^{-1} is positive, and it is the 1x1 Jacobian's determinant",
            rhs=p_z(f_inv(x)) * _jacobian_det_1d(f_inv, x),
            uses=("increasing",),
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
        "and a latent space (unlike AR models). Sample z ~ p_z, x = f(z). Proved here in one "
        "dimension from the CDF (n dimensions: the substitution rule for integrals); "
        "evaluate: the log-density of a linear flow x = A z + b with z ~ N(0, I), tested in "
        "n dimensions against torch's MultivariateNormal.",
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
        sheet_lines=(74, 76),
    )
)

# --------------------------------------------------------------------------------------------
# flow-composition (sheet line 84; erratum: where the per-layer Jacobians are evaluated)


def _composition_symbols():
    import sympy as sp

    x, y = sp.symbols("x y", real=True)
    g1, g2 = sp.Function("f_1^{-1}"), sp.Function("f_2^{-1}")
    return sp, x, y, g1, g2, sp.Function("p_x"), sp.Function("p_z")


def _composition_statement():
    sp, x, y, g1, g2, p_x, p_z = _composition_symbols()
    return sp.Eq(
        p_x(x),
        p_z(g1(g2(x)))
        * sp.Abs(sp.Subs(sp.Derivative(g1(y), y), y, g2(x)))
        * sp.Abs(sp.Derivative(g2(x), x)),
    )


def _composition_derivation() -> list[Step]:
    sp, x, y, g1, g2, p_x, p_z = _composition_symbols()
    stacked = p_z(g1(g2(x))) * sp.Abs(sp.Derivative(g1(g2(x)), x))
    return [
        Step(
            "change of variables for the stack f = f_2 o f_1, whose inverse is "
            "f_1^{-1} o f_2^{-1} (one dimension)",
            p_x(x),
            stacked,
            premise="formula:change-of-variables",
            name="cov",
        ),
        Step(
            "p_x(x) = p_z(f^{-1}(x)) |d/dx f_1^{-1}(f_2^{-1}(x))|",
            p_x(x),
            stacked,
            uses=("cov",),
        ),
        Step(
            "chain rule: each layer's Jacobian at its own input, f_1^{-1}' at x_1 = "
            "f_2^{-1}(x) and f_2^{-1}' at x (|ab| = |a||b|)",
            rhs=_composition_statement().rhs,
        ),
    ]


def _composition_evidence() -> Evidence:
    import mpmath

    mpmath.mp.dps = 30

    def phi(z):
        return mpmath.exp(-(z**2) / 2) / mpmath.sqrt(2 * mpmath.pi)

    inv, d_inv = mpmath.asinh, lambda v: 1 / mpmath.sqrt(1 + v**2)
    # x = sinh(sinh(z)), z ~ N(0, 1): the reference density is d/dx of the CDF Phi(f^{-1}(x))
    points = [mpmath.mpf(v) for v in ("-3.1", "-0.7", "0.4", "2.5")]
    reference = [float(mpmath.diff(lambda v: mpmath.ncdf(inv(inv(v))), p)) for p in points]
    sheet = [float(phi(inv(inv(p))) * d_inv(p) * d_inv(p)) for p in points]
    correct = [float(phi(inv(inv(p))) * d_inv(inv(p)) * d_inv(p)) for p in points]
    return compare_forms(
        reference=reference,
        sheet=sheet,
        correct=correct,
        reference_name="x = sinh(sinh z), z ~ N(0,1): d/dx of the CDF Phi(f^{-1}(x))",
        where="x = -3.1, -0.7, 0.4, 2.5",
    )


register(
    Formula(
        id="flow-composition",
        title="Density of a stack of flows f = f_K o ... o f_1",
        topic="flows",
        section="4",
        text="Stack coupling layers for expressivity, f = f_K o ... o f_1: p_x(x) = "
        "p_z(f^{-1}(x)) prod_k |det d f_k^{-1}(x_k) / d x_k|, where x_K = x and "
        "x_{k-1} = f_k^{-1}(x_k) are the intermediate values (proved for two layers in one "
        "dimension; K layers by induction).",
        keywords=("composition", "stack", "log det sum", "layers", "chain rule", "flow"),
        statement_builder=_composition_statement,
        derivation_builder=_composition_derivation,
        sheet_lines=(82, 84),
        erratum=Erratum(
            sheet=r"p_x(x) = p_z(f^{-1}(x)) \prod_k \left|\det \frac{\partial f_k^{-1}(x)}"
            r"{\partial x}\right|",
            correct=r"p_x(x) = p_z(f^{-1}(x)) \prod_k \left|\det \frac{\partial f_k^{-1}(x_k)}"
            r"{\partial x_k}\right|,\ x_K = x,\ x_{k-1} = f_k^{-1}(x_k)",
            explanation="For the stack f = f_k o ... o f_1 the sheet evaluates every layer's "
            "inverse Jacobian at the data point x. By the chain rule each layer's Jacobian is "
            "taken at that layer's own input, the intermediate value x_k; only the last layer "
            "sees x. As printed the density is wrong for any stack of two non-linear layers.",
            evidence=_composition_evidence,
            severity="error",
            sheet_lines=(84, 84),
        ),
    )
)

# --------------------------------------------------------------------------------------------
# triangular-determinant (sheet line 76): cofactor expansion of a 4 x 4 lower-triangular J


def _triangular_matrix():
    import sympy as sp

    return sp.Matrix(4, 4, lambda r, c: sp.Symbol(f"J_{r + 1}{c + 1}", real=True) if c <= r else 0)


def _triangular_statement():
    import sympy as sp

    J = _triangular_matrix()
    return sp.Eq(sp.Determinant(J), sp.Mul(*[J[k, k] for k in range(4)]))


def _triangular_derivation() -> list[Step]:
    import sympy as sp

    J = _triangular_matrix()
    return [
        Step(
            "expand along the first row: its only non-zero entry is J_11 (O(n) work per "
            "level instead of the O(n^3) of a general determinant)",
            sp.Determinant(J),
            J[0, 0] * sp.Determinant(J[1:, 1:]),
        ),
        Step(
            "the minor is lower-triangular again: expand along its first row",
            rhs=J[0, 0] * J[1, 1] * sp.Determinant(J[2:, 2:]),
        ),
        Step("and again", rhs=J[0, 0] * J[1, 1] * J[2, 2] * sp.Determinant(J[3:, 3:])),
        Step(
            "the determinant of a 1 x 1 matrix is its entry: det J = prod of the diagonal",
            rhs=_triangular_statement().rhs,
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
        "the product of the diagonal, O(n). Coupling layers are built for this. Proved for "
        "n = 4 by cofactor expansion (the same expansion for any n).",
        keywords=("triangular", "determinant", "o(n^3)", "complexity", "jacobian", "diagonal"),
        statement_builder=_triangular_statement,
        derivation_builder=_triangular_derivation,
        evaluator=triangular_logdet,
        sheet_lines=(76, 76),
    )
)

# --------------------------------------------------------------------------------------------
# coupling-layer (definition, sheet lines 78-80, 99)


def _coupling_statement():
    import sympy as sp

    xa, xb = sp.symbols("x^A x^B", real=True)
    h, beta = sp.Function("h"), sp.Function("beta")
    y = sp.MatrixSymbol("y", 2, 1)
    return sp.Eq(y, sp.Matrix([h(xa, beta(xb)), xb]))


def _affine_coupling(d_a, d_b, seed, condition=None):
    """A RealNVP coupling y^A = x^A exp(s) + t, y^B = x^B with s, t = small nets of x^B (and
    of a conditioning vector w when given); returns (forward, inverse)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    M1, M2 = rng.normal(size=(d_a, d_b)), rng.normal(size=(d_a, d_b))
    K = rng.normal(size=(d_a, 2))

    def beta(xb):
        extra = K @ condition if condition is not None else 0.0
        return np.tanh(M1 @ xb + extra), np.sin(M2 @ xb + extra)

    def forward(x):
        s, t = beta(x[d_a:])
        return np.concatenate([x[:d_a] * np.exp(s) + t, x[d_a:]])

    def inverse(y):  # x^A = h^{-1}(y^A, beta(y^B)): beta is evaluated, never inverted
        s, t = beta(y[d_a:])
        return np.concatenate([(y[:d_a] - t) * np.exp(-s), y[d_a:]])

    return forward, inverse


def _round_trip(condition=None) -> Comparison:
    import numpy as np

    rng = np.random.default_rng(3)
    originals, recovered = [], []
    for seed, (d_a, d_b) in enumerate([(1, 1), (2, 3), (3, 2), (4, 4)]):
        forward, inverse = _affine_coupling(d_a, d_b, seed, condition)
        x = rng.normal(size=d_a + d_b)
        originals.append(x)
        recovered.append(inverse(forward(x)))
    return Comparison(
        np.concatenate(recovered),
        np.concatenate(originals),
        "x vs h^{-1}(h(x^A, beta(x^B)), beta(y^B)) for affine couplings of 4 sizes",
    )


def _coupling_properties() -> list[Step]:
    import numpy as np

    return [
        Step(
            "the inverse (x^A, x^B) = (h^{-1}(y^A, beta(y^B)), y^B) recovers x for any model "
            "beta (y^B = x^B is known, so beta is only evaluated)",
            custom=_round_trip,
            method="custom",
            tolerance=1e-12,
        ),
        Step(
            "conditional coupling: with a parameter w added to beta the layer stays invertible",
            custom=lambda: _round_trip(condition=np.array([0.7, -1.3])),
            method="custom",
            tolerance=1e-12,
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
        definition=True,
        properties_builder=_coupling_properties,
        sheet_lines=(78, 80),
    )
)

# --------------------------------------------------------------------------------------------
# coupling-jacobian (sheet line 80), one coordinate per block


def _jacobian_symbols():
    import sympy as sp

    xa, xb, b = sp.symbols("x^A x^B b", real=True)
    h, beta = sp.Function("h"), sp.Function("beta")
    y_a, y_b = sp.Function("y^A"), sp.Function("y^B")
    return sp, xa, xb, b, h, beta, y_a, y_b, sp.MatrixSymbol("J", 2, 2)


def _jacobian_blocks():
    sp, xa, xb, b, h, beta, *_ = _jacobian_symbols()
    return sp.Matrix(
        [
            [
                sp.Derivative(h(xa, beta(xb)), xa),
                sp.Subs(sp.Derivative(h(xa, b), b), b, beta(xb)) * sp.Derivative(beta(xb), xb),
            ],
            [0, 1],
        ]
    )


def _jacobian_statement():
    sp, *_, J = _jacobian_symbols()
    return sp.Eq(J, _jacobian_blocks())


def _jacobian_derivation() -> list[Step]:
    sp, xa, xb, b, h, beta, y_a, y_b, J = _jacobian_symbols()

    def partials(first, second):
        return sp.Matrix(
            [
                [sp.Derivative(first, xa), sp.Derivative(first, xb)],
                [sp.Derivative(second, xa), sp.Derivative(second, xb)],
            ]
        )

    return [
        Step(
            "J is the matrix of partial derivatives of (y^A, y^B) w.r.t. (x^A, x^B)",
            J,
            partials(y_a(xa, xb), y_b(xa, xb)),
            premise="definition",
            name="jacobian",
        ),
        Step(
            "the coupling layer: y^A = h(x^A, beta(x^B))",
            y_a(xa, xb),
            h(xa, beta(xb)),
            premise="definition",
            name="y_A",
        ),
        Step("... and y^B = x^B", y_b(xa, xb), xb, premise="definition", name="y_B"),
        Step(
            "J = [[d y^A/d x^A, d y^A/d x^B], [d y^B/d x^A, d y^B/d x^B]]",
            J,
            partials(h(xa, beta(xb)), xb),
            uses=("jacobian", "y_A", "y_B"),
        ),
        Step(
            "chain rule in h's second argument for the upper-right block; the lower row is "
            "(0, 1) (an identity block for several coordinates): J is block-triangular",
            rhs=_jacobian_blocks(),
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
        return np.concatenate([v[:2] * np.exp(beta(v[2:])), v[2:]])

    v = np.array([1.7, -0.6, 0.3, -0.8])
    step = 1e-6
    fd = np.stack([(layer(v + step * e) - layer(v - step * e)) / (2 * step) for e in np.eye(4)], 1)
    b = beta(v[2:])
    dbeta = (1 - b**2)[:, None] * M
    sheet_block = np.diag(np.exp(b)) @ dbeta  # h'(x^A) beta', h' = dh/dx^A as in the top left
    correct_block = np.diag(v[:2] * np.exp(b)) @ dbeta  # (dh/dbeta) beta'
    return compare_forms(
        reference=fd[:2, 2:],
        sheet=sheet_block,
        correct=correct_block,
        reference_name="h = x^A exp(beta(x^B)): upper-right block of the central-difference "
        "Jacobian",
        where="x = (1.7, -0.6, 0.3, -0.8)",
        tolerance=1e-6,
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
        sheet_lines=(80, 80),
        erratum=Erratum(
            sheet=r"J = \begin{pmatrix} h' & h'\beta' \\ 0 & 1 \end{pmatrix}",
            correct=r"J = \begin{pmatrix} \partial h/\partial x^A & (\partial h/\partial \beta)"
            r"\,\beta' \\ 0 & I \end{pmatrix}",
            explanation="In the sheet's J the same h' (the derivative of h in x^A, as in the "
            "upper-left block) multiplies beta' in the upper-right block. That block is "
            "d y^A/d x^B = (dh/dbeta) beta': h is differentiated in its second argument. The "
            "lower-right block is an identity matrix. The determinant, prod dh/dx^A, is "
            "unaffected.",
            evidence=_jacobian_evidence,
            severity="error",
            sheet_lines=(80, 80),
        ),
    )
)

# --------------------------------------------------------------------------------------------
# affine-coupling-logdet (RealNVP/Glow affine coupling)


def _affine_symbols():
    import sympy as sp

    i = sp.Symbol("i", integer=True)
    d_a, d_b = sp.symbols("d_A d_B", positive=True, integer=True)
    s = sp.IndexedBase("s", real=True)  # the log-scales s(x^B), one per coordinate of x^A
    return sp, i, d_a, (lambda k: s[k]), _det_jacobian(d_a + d_b)


def _affine_statement():
    sp, i, d_a, s, det_j = _affine_symbols()
    return sp.Eq(sp.log(sp.Abs(det_j)), sp.Sum(s(i), (i, 1, d_a)))


def _affine_det_comparison() -> Comparison:
    import numpy as np
    import sympy as sp

    left, right = [], []
    for seed, (d_a, d_b) in enumerate([(1, 1), (2, 1), (2, 3), (3, 2)]):
        rng = np.random.default_rng(seed)
        xs = sp.symbols(f"v0:{d_a + d_b}", real=True)
        xa, xb = xs[:d_a], xs[d_a:]
        M, N = rng.integers(-3, 4, size=(d_a, d_b)), rng.integers(-3, 4, size=(d_a, d_b))
        s = [sp.tanh(sum(int(M[r, k]) * xb[k] for k in range(d_b)) / 2) for r in range(d_a)]
        t = [sp.sin(sum(int(N[r, k]) * xb[k] for k in range(d_b))) for r in range(d_a)]
        y = sp.Matrix([xa[r] * sp.exp(s[r]) + t[r] for r in range(d_a)] + list(xb))
        point = {v: sp.Rational(int(rng.integers(-200, 200)), 100) for v in xs}
        left.append(float(y.jacobian(xs).det().subs(point)))
        right.append(float(sp.exp(sum(s)).subs(point)))
    return Comparison(
        left, right, "det of the full Jacobian (sympy) vs prod_i exp(s_i), 4 sizes (d_A, d_B)"
    )


def _affine_derivation() -> list[Step]:
    sp, i, d_a, s, det_j = _affine_symbols()
    product = sp.Product(sp.exp(s(i)), (i, 1, d_a))
    return [
        Step(
            "affine coupling y^A = x^A exp(s(x^B)) + t(x^B): J is block-triangular with the "
            "diagonal block diag(exp s) (formula coupling-jacobian), so det J = prod exp(s_i)",
            det_j,
            product,
            premise="lemma",
            name="det",
            custom=_affine_det_comparison,
            tolerance=1e-12,
        ),
        Step(
            "log|det J| = log|prod_i exp(s_i(x^B))|",
            sp.log(sp.Abs(det_j)),
            sp.log(sp.Abs(product)),
            uses=("det",),
        ),
        Step(
            "every factor is positive and log turns the product into a sum",
            rhs=_affine_statement().rhs,
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
        sheet_lines=(78, 80),
    )
)

# --------------------------------------------------------------------------------------------
# actnorm (sheet lines 93-95)


def _actnorm_symbols():
    import sympy as sp

    H, W, C = sp.symbols("H W C", positive=True, integer=True)
    c = sp.Symbol("i", integer=True)
    s = sp.IndexedBase("s", real=True)
    return sp, H, W, C, c, (lambda k: s[k]), _det_jacobian(C * H * W)


def _actnorm_statement():
    sp, H, W, C, c, s, det_j = _actnorm_symbols()
    return sp.Eq(sp.log(sp.Abs(det_j)), H * W * sp.Sum(sp.log(sp.Abs(s(c))), (c, 1, C)))


def _actnorm_sizes():
    return [(1, 1, 1), (2, 1, 3), (3, 2, 2), (2, 3, 2)]


def _actnorm_det_comparison() -> Comparison:
    import numpy as np

    left, right = [], []
    for seed, (C, H, W) in enumerate(_actnorm_sizes()):
        rng = np.random.default_rng(seed)
        s = rng.uniform(0.4, 1.6, size=C) * rng.choice([-1.0, 1.0], size=C)
        b = rng.normal(size=C)
        layer = lambda x, s=s, b=b: s[:, None, None] * x + b[:, None, None]  # noqa: E731
        J, _ = _layer_jacobian(layer, (C, H, W), rng)
        left.append(np.linalg.det(J))
        right.append(np.prod(s ** (H * W)))
    return Comparison(left, right, "det of ActNorm's full Jacobian vs prod_c s_c^{HW}, 4 sizes")


def _actnorm_log_comparison() -> Comparison:
    import numpy as np

    left, right = [], []
    for seed, (C, H, W) in enumerate(_actnorm_sizes()):
        s = np.random.default_rng(seed).uniform(-2, 2, size=C)
        left.append(np.log(np.abs(np.prod(s ** (H * W)))))
        right.append(H * W * np.log(np.abs(s)).sum())
    return Comparison(left, right, "log|prod s_c^{HW}| vs H W sum log|s_c|, 4 sizes")


def _actnorm_derivation() -> list[Step]:
    sp, H, W, C, c, s, det_j = _actnorm_symbols()
    product = sp.Product(s(c) ** (H * W), (c, 1, C))
    return [
        Step(
            "y_ij = s * x_ij + b acts on each of the H W pixels with the same diagonal scale: "
            "J is diagonal with s_c repeated H W times",
            det_j,
            product,
            premise="lemma",
            name="det",
            custom=_actnorm_det_comparison,
            tolerance=1e-12,
        ),
        Step(
            "log|det J| = log|prod_c s_c^{HW}|",
            sp.log(sp.Abs(det_j)),
            sp.log(sp.Abs(product)),
            uses=("det",),
        ),
        Step(
            "= H W sum_c log|s_c| (log of a product, |a^n| = |a|^n): linear in C",
            rhs=_actnorm_statement().rhs,
            method="custom",
            custom=_actnorm_log_comparison,
            tolerance=1e-12,
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
        sheet_lines=(95, 95),
    )
)

# --------------------------------------------------------------------------------------------
# conv1x1 (sheet line 97)


def _conv1x1_symbols():
    import sympy as sp

    H, W, C = sp.symbols("H W C", positive=True, integer=True)
    det_j = _det_jacobian(C * H * W)
    det_w = _det_jacobian(C, "mathbf{W}")  # the C x C kernel, bold as on the sheet (W: width)
    return sp, H, W, det_j, det_w


def _conv1x1_statement():
    sp, H, W, det_j, det_w = _conv1x1_symbols()
    return sp.Eq(sp.log(sp.Abs(det_j)), H * W * sp.log(sp.Abs(det_w)))


def _conv1x1_det_comparison() -> Comparison:
    import numpy as np

    left, right = [], []
    for seed, (C, H, W) in enumerate([(1, 2, 2), (2, 1, 3), (3, 2, 2), (4, 1, 2)]):
        rng = np.random.default_rng(seed)
        kernel = rng.normal(size=(C, C))
        J, _ = _layer_jacobian(_conv1x1(kernel), (C, H, W), rng)
        left.append(np.linalg.det(J))
        right.append(np.linalg.det(kernel) ** (H * W))
    return Comparison(left, right, "det of the 1x1 conv's full Jacobian vs (det W)^{HW}, 4 sizes")


def _conv1x1_derivation() -> list[Step]:
    sp, H, W, det_j, det_w = _conv1x1_symbols()
    return [
        Step(
            "a 1x1 convolution applies the same C x C matrix W at every pixel: J is "
            "block-diagonal with H W copies of W, det J = (det W)^{HW}",
            det_j,
            det_w ** (H * W),
            premise="lemma",
            name="det",
            custom=_conv1x1_det_comparison,
            tolerance=1e-10,
        ),
        Step(
            "log|det J| = log|(det W)^{HW}|",
            sp.log(sp.Abs(det_j)),
            sp.log(sp.Abs(det_w ** (H * W))),
            uses=("det",),
        ),
        Step(
            "= H W log|det W|; computing det W costs O(C^3)",
            rhs=_conv1x1_statement().rhs,
            method="custom",
            custom=_with_real_determinant(
                sp.log(sp.Abs(det_w ** (H * W))), _conv1x1_statement().rhs, det_w, H, W
            ),
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
        sheet_lines=(97, 97),
    )
)

# --------------------------------------------------------------------------------------------
# LU-parametrised 1x1 convolution (sheet line 97): W = P L (U + diag(s)), matrices keep order


def _lu_symbols():
    import sympy as sp

    C = sp.Symbol("C", positive=True, integer=True)
    i = sp.Symbol("i", integer=True)
    P, L, U, S, W = (sp.MatrixSymbol(name, C, C) for name in ("P", "L", "U", "diag(s)", "W"))
    s = sp.IndexedBase("s", real=True)
    return sp, C, i, (lambda k: s[k]), P, L, U, S, W


def _lu_statement():
    sp, C, i, s, P, L, U, S, W = _lu_symbols()
    return sp.Eq(sp.log(sp.Abs(sp.Determinant(W))), sp.Sum(sp.log(sp.Abs(s(i))), (i, 1, C)))


def _lu_factor_comparison() -> Comparison:
    import numpy as np

    left, right = [], []
    for channels in range(1, 7):
        P, L, U, s = _random_lu(np.random.default_rng(channels), channels)
        dets = np.linalg.det(P) * np.linalg.det(L) * np.linalg.det(U + np.diag(s))
        left.append(np.log(np.abs(dets)))
        right.append(np.log(np.abs(s)).sum())
    return Comparison(left, right, "log|det P det L det(U + diag s)| vs sum log|s_i| for C = 1..6")


def _lu_derivation() -> list[Step]:
    sp, C, i, s, P, L, U, S, W = _lu_symbols()
    factored = P * L * (U + S)
    return [
        Step(
            "the LU parametrisation W := P L (U + diag(s))",
            W,
            factored,
            premise="definition",
            name="lu",
        ),
        Step(
            "log|det W| = log|det(P L (U + diag s))|",
            sp.log(sp.Abs(sp.Determinant(W))),
            sp.log(sp.Abs(sp.Determinant(factored))),
            uses=("lu",),
        ),
        Step(
            "the determinant of a product is the product of the determinants",
            rhs=sp.log(
                sp.Abs(
                    sp.Mul(
                        sp.Determinant(P),
                        sp.Determinant(L),
                        sp.Determinant(U + S),
                        evaluate=False,
                    )
                )
            ),
        ),
        Step(
            "|det P| = 1 (a permutation), det L = 1 and det(U + diag s) = prod s_i (triangular, "
            "formula triangular-determinant): log|det W| = sum log|s_i|, O(C)",
            rhs=_lu_statement().rhs,
            method="custom",
            custom=_lu_factor_comparison,
            tolerance=1e-12,
        ),
    ]


def conv1x1_lu_logdet(s):
    """log|det W| = sum_i log|s_i| for W = P L (U + diag(s)) (last axis)."""
    import numpy as np

    return as_float64(np.log(np.abs(np.asarray(s, dtype=np.float64))).sum(axis=-1))


def _lu_evidence() -> Evidence:
    import numpy as np
    from scipy import linalg

    W = np.random.default_rng(0).standard_normal((4, 4))
    P, L, U_full = linalg.lu(W)  # W = P L U_full
    s = np.diag(U_full)
    U = U_full - np.diag(s)
    return compare_forms(
        reference=W,
        sheet=P @ (U + np.diag(s)),
        correct=P @ L @ (U + np.diag(s)),
        reference_name="a random 4 x 4 W, factors from scipy.linalg.lu",
        tolerance=1e-12,
    )


register(
    Formula(
        id="conv1x1-lu-parametrisation",
        title="LU-parametrised 1x1 convolution: W = P L (U + diag s), log|det W| in O(C)",
        topic="flows",
        section="4",
        text="Faster: W := P L (U + diag(s)), P a random fixed permutation, L lower-triangular "
        "with ones on the diagonal, U upper-triangular with zeros on the diagonal, s a vector. "
        "Then log|det W| = sum_i log|s_i|: O(C).",
        keywords=("lu decomposition", "lu", "1x1 conv", "glow", "log det", "permutation"),
        statement_builder=_lu_statement,
        derivation_builder=_lu_derivation,
        evaluator=conv1x1_lu_logdet,
        aliases=("conv1x1-lu-logdet",),
        sheet_lines=(97, 97),
        erratum=Erratum(
            sheet=r"\mathbf{W} := \mathbf{P}(\mathbf{U} + \text{diag}(\mathbf{s}))",
            correct=r"\mathbf{W} := \mathbf{P}\mathbf{L}(\mathbf{U} + \text{diag}(\mathbf{s}))",
            explanation="The factor L is missing from W := P(U + diag(s)), although the sheet "
            "defines L (lower-triangular, ones on the diagonal) in the same sentence. Without "
            "it W is restricted to permuted upper-triangular matrices and cannot represent a "
            "general invertible W. The log-det is the same (det L = 1).",
            evidence=_lu_evidence,
            severity="typo",
            sheet_lines=(97, 97),
        ),
    )
)

# --------------------------------------------------------------------------------------------
# conv1x1-lu-layer-logdet: the layer's log-det keeps the factor H W (Glow, Table 1)


def _lu_layer_symbols():
    import sympy as sp

    H, W, C = sp.symbols("H W C", positive=True, integer=True)
    i = sp.Symbol("i", integer=True)
    det_j = _det_jacobian(C * H * W)
    det_w = _det_jacobian(C, "mathbf{W}")  # the C x C kernel W = P L (U + diag s)
    sign = _det_jacobian(C, "mathbf{P}")  # the permutation's det P = +-1
    s = sp.IndexedBase("s", real=True)
    return sp, H, W, C, i, (lambda k: s[k]), det_j, det_w, sign


def _lu_layer_statement():
    sp, H, W, C, i, s, det_j, _, _ = _lu_layer_symbols()
    return sp.Eq(sp.log(sp.Abs(det_j)), H * W * sp.Sum(sp.log(sp.Abs(s(i))), (i, 1, C)))


def _lu_layer_sum_comparison() -> Comparison:
    import numpy as np

    left, right = [], []
    for seed, (C, H, W) in enumerate([(1, 2, 2), (3, 1, 2), (4, 3, 2), (6, 2, 2)]):
        rng = np.random.default_rng(seed)
        s = rng.uniform(0.3, 2.0, size=C) * rng.choice([-1.0, 1.0], size=C)
        sign = rng.choice([-1.0, 1.0])
        left.append(H * W * np.log(np.abs(sign * np.prod(s))))
        right.append(H * W * np.log(np.abs(s)).sum())
    return Comparison(left, right, "H W log|det P prod s_i| vs H W sum log|s_i|, 4 sizes")


def _lu_layer_derivation() -> list[Step]:
    sp, H, W, C, i, s, det_j, det_w, sign = _lu_layer_symbols()
    return [
        Step(
            "the 1x1 convolution's Jacobian: det J = (det W)^{HW}",
            det_j,
            det_w ** (H * W),
            premise="formula:conv1x1-logdet",
            name="layer",
        ),
        Step(
            "the LU factors: det W = det P * prod_i s_i with det P = +-1",
            det_w,
            sign * sp.Product(s(i), (i, 1, C)),
            premise="formula:conv1x1-lu-parametrisation",
            name="lu",
        ),
        Step(
            "log|det J| = log|(det W)^{HW}|",
            sp.log(sp.Abs(det_j)),
            sp.log(sp.Abs(det_w ** (H * W))),
            uses=("layer",),
        ),
        Step(
            "= H W log|det W|",
            rhs=H * W * sp.log(sp.Abs(det_w)),
            method="custom",
            custom=_with_real_determinant(
                sp.log(sp.Abs(det_w ** (H * W))), H * W * sp.log(sp.Abs(det_w)), det_w, H, W
            ),
        ),
        Step(
            "= H W log|det P prod_i s_i|",
            rhs=H * W * sp.log(sp.Abs(sign * sp.Product(s(i), (i, 1, C)))),
            uses=("lu",),
        ),
        Step(
            "= H W sum_i log|s_i| (|det P| = 1): the factor H W stays",
            rhs=_lu_layer_statement().rhs,
            method="custom",
            custom=_lu_layer_sum_comparison,
            tolerance=1e-12,
        ),
    ]


def conv1x1_lu_layer_logdet(s, height, width):
    """log|det| of an LU-parametrised 1x1 conv layer on H x W x C: H * W * sum_i log|s_i|."""
    import numpy as np

    s = np.asarray(s, dtype=np.float64)
    return as_float64(
        np.asarray(height, dtype=np.float64)
        * np.asarray(width, dtype=np.float64)
        * np.log(np.abs(s)).sum(axis=-1)
    )


def _lu_layer_evidence() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(5)
    C, H, W = 3, 2, 3
    P, L, U, s = _random_lu(rng, C)
    J, _ = _layer_jacobian(_conv1x1(P @ L @ (U + np.diag(s))), (C, H, W), rng)
    return compare_forms(
        reference=np.linalg.slogdet(J)[1],
        sheet=np.log(np.abs(s)).sum(),
        correct=float(conv1x1_lu_layer_logdet(s, H, W)),
        reference_name="log|det| of the layer's full 18 x 18 Jacobian (C = 3, H = 2, W = 3)",
    )


register(
    Formula(
        id="conv1x1-lu-layer-logdet",
        title="LU-parametrised 1x1 convolution layer: log det = H W sum log|s_i|",
        topic="flows",
        section="4",
        text="With W = P L (U + diag(s)) the 1x1 convolution layer's log-determinant on an "
        "H x W x C activation is H * W * sum_i log|s_i| (Glow, Table 1): the factor H W of "
        "H W log|det W| stays; only the cost of log|det W| drops from O(C^3) to O(C).",
        keywords=("lu decomposition", "1x1 conv", "glow", "log det", "layer", "h w"),
        statement_builder=_lu_layer_statement,
        derivation_builder=_lu_layer_derivation,
        evaluator=conv1x1_lu_layer_logdet,
        sheet_lines=(97, 97),
        erratum=Erratum(
            sheet=r"\log\det = \sum_i \log|s_i|",
            correct=r"\log\det = H \cdot W \cdot \sum_i \log|s_i|",
            explanation="On line 97 'log det' is the layer's log-determinant: the same line "
            "writes log det = H W log|det W| for the 1x1 conv (and line 95 H W sum log|s_i| "
            "for ActNorm). With the LU parametrisation log|det W| = sum log|s_i|, so the "
            "layer's log det is H W sum_i log|s_i| (Glow, Table 1); the sheet drops the factor "
            "H W, which changes the value for any image larger than 1 x 1.",
            evidence=_lu_layer_evidence,
            severity="error",
            sheet_lines=(97, 97),
        ),
    )
)

# --------------------------------------------------------------------------------------------
# squeeze (definition, sheet line 91)


def _squeeze_statement():
    import sympy as sp

    C, H, W = sp.symbols("C H W", positive=True, integer=True)
    return sp.Eq(
        sp.Function("shape")(sp.Function("squeeze")(sp.Symbol("x"))),
        sp.Tuple(4 * C, H / 2, W / 2),
    )


def squeeze_array(x):
    """Glow's squeeze: (C, H, W) -> (4C, H/2, W/2), each 2 x 2 spatial block to channels."""
    import numpy as np

    x = np.asarray(x)
    C, H, W = x.shape
    blocks = x.reshape(C, H // 2, 2, W // 2, 2)
    return blocks.transpose(0, 2, 4, 1, 3).reshape(4 * C, H // 2, W // 2)


def _squeeze_permutation_comparison() -> Comparison:
    import numpy as np

    dets, ones = [], []
    for C, H, W in [(1, 2, 2), (2, 4, 2), (3, 2, 4)]:
        n = C * H * W
        # the squeeze is linear: its Jacobian's columns are the squeezed basis vectors
        J = np.stack([squeeze_array(np.eye(n)[k].reshape(C, H, W)).ravel() for k in range(n)], 1)
        dets.append(abs(np.linalg.det(J)))
        ones.append(1.0)
        # a permutation matrix: one 1 per row and column
        dets.append(float(np.all(J.sum(axis=0) == 1) and np.all(J.sum(axis=1) == 1)))
        ones.append(1.0)
    return Comparison(dets, ones, "squeeze's Jacobian is a permutation matrix, |det| = 1")


def _squeeze_shape_comparison() -> Comparison:
    import numpy as np

    shapes, expected = [], []
    for C, H, W in [(1, 2, 2), (3, 4, 6), (2, 8, 2)]:
        shapes.extend(squeeze_array(np.zeros((C, H, W))).shape)
        expected.extend((4 * C, H // 2, W // 2))
    return Comparison(shapes, expected, "squeezed shapes vs (4C, H/2, W/2)")


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
        definition=True,
        properties_builder=lambda: [
            Step(
                "squeeze only reorders entries: its Jacobian is a permutation, log det = 0",
                custom=_squeeze_permutation_comparison,
                method="custom",
                tolerance=1e-12,
            ),
            Step(
                "channels x 4, height and width halved",
                custom=_squeeze_shape_comparison,
                method="custom",
            ),
        ],
        sheet_lines=(91, 91),
    )
)

# --------------------------------------------------------------------------------------------
# srflow-affine-injector-logdet (sheet line 103)


def _srflow_symbols():
    import sympy as sp

    i, j, k = sp.symbols("i j k", integer=True)
    H, W, C = sp.symbols("H W C", positive=True, integer=True)
    beta_s = sp.Function("beta_{theta,s}^{(n)}", real=True)  # the scale net of flow step n
    u = sp.IndexedBase("u")
    limits = ((k, 1, C), (j, 1, W), (i, 1, H))  # sum_i sum_j sum_k (k innermost)
    return sp, beta_s(u[i, j, k]), limits, _det_jacobian(C * H * W)


def _srflow_statement():
    sp, term, limits, det_j = _srflow_symbols()
    return sp.Eq(sp.log(sp.Abs(det_j)), sp.Sum(term, *limits))


def _injector(scale, shift):
    import numpy as np

    return lambda h: np.exp(scale) * h + shift


def _srflow_det_comparison() -> Comparison:
    import numpy as np

    left, right = [], []
    for seed, shape in enumerate([(1, 1, 2), (2, 2, 1), (2, 2, 3)]):
        rng = np.random.default_rng(seed)
        scale, shift = rng.normal(size=shape), rng.normal(size=shape)  # beta_s(u), beta_b(u)
        J, _ = _layer_jacobian(_injector(scale, shift), shape, rng)
        left.append(np.linalg.det(J))
        right.append(np.exp(scale.sum()))
    return Comparison(left, right, "det of the injector's Jacobian in h^n vs exp(sum beta_s)")


def _srflow_derivation() -> list[Step]:
    sp, term, limits, det_j = _srflow_symbols()
    product = sp.Product(sp.exp(term), *limits)
    return [
        Step(
            "h^{n+1} = exp(beta_s(u)) h^n + beta_b(u): scale and shift depend only on the "
            "low-res conditioning u, so the Jacobian in h^n is diagonal with entries "
            "exp(beta_s(u_ijk))",
            det_j,
            product,
            premise="lemma",
            name="det",
            custom=_srflow_det_comparison,
            tolerance=1e-12,
        ),
        Step(
            "log|det J| = log|prod_ijk exp(beta_s(u_ijk))|",
            sp.log(sp.Abs(det_j)),
            sp.log(sp.Abs(product)),
            uses=("det",),
        ),
        Step("= sum_ijk beta_s(u_ijk) (positive factors)", rhs=_srflow_statement().rhs),
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
        sheet_lines=(103, 103),
    )
)

# --------------------------------------------------------------------------------------------
# C-Flow (definition, sheet line 107)


def _cflow_statement():
    import sympy as sp

    f, g = sp.Function("f_phi"), sp.Function("g_theta^{-1}")
    return sp.Eq(sp.Symbol("x_B^2"), f(sp.Symbol("z_B^1"), g(sp.Symbol("x_A^2"))))


def _cflow_round_trip() -> Comparison:
    import numpy as np

    rng = np.random.default_rng(11)
    A_g = np.eye(3) + 0.3 * rng.normal(size=(3, 3))  # g_theta: an invertible linear flow
    K = rng.normal(size=(3, 3))

    def f(z, cond):  # f_phi(z | c): an affine flow whose scale and shift depend on c
        return z * np.exp(np.tanh(K @ cond)) + np.sin(cond)

    def f_inv(x, cond):
        return (x - np.sin(cond)) * np.exp(-np.tanh(K @ cond))

    x_a1, x_b1, x_a2 = rng.normal(size=(3, 3))
    z_a1 = np.linalg.solve(A_g, x_a1)
    z_b1 = f_inv(x_b1, z_a1)  # encode the image, conditioned on its own extra information
    z_a2 = np.linalg.solve(A_g, x_a2)  # encode the new extra information
    x_b2 = f(z_b1, z_a2)  # generate with the new condition
    return Comparison(
        np.concatenate([f(z_b1, z_a1), f_inv(x_b2, z_a2)]),
        np.concatenate([x_b1, z_b1]),
        "f_phi(f_phi^{-1}(x_B^1 | c) | c) = x_B^1, and x_B^2 encodes back to z_B^1 under z_A^2",
    )


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
        definition=True,
        properties_builder=lambda: [
            Step(
                "the conditional flow is invertible for a fixed condition, so the image's "
                "latent z_B^1 is kept and only the condition changes",
                custom=_cflow_round_trip,
                method="custom",
                tolerance=1e-12,
            )
        ],
        sheet_lines=(107, 107),
    )
)

# --------------------------------------------------------------------------------------------
# Claims in words (sheet lines 72-109)


def _inverse_jacobian_check() -> Evidence:
    import numpy as np

    x = np.array([-3.0, -0.4, 0.9, 2.2])
    z = np.arcsinh(x)  # f = sinh, f^{-1} = asinh
    inverse_route = 1 / np.sqrt(1 + x**2)  # |d f^{-1}(x)/dx|
    forward_route = 1 / np.abs(np.cosh(z))  # |df(z)/dz|^{-1} at z = f^{-1}(x)
    gap = float(np.max(np.abs(inverse_route - forward_route)))
    holds = gap < 1e-12
    return Evidence(
        sheet_fails=bool(not holds),
        correct_passes=bool(holds),
        detail=f"f = sinh at x = {x.tolist()}: |d f^{{-1}}/dx| = {np.round(inverse_route, 6)}, "
        f"|df/dz|^{{-1}} at z = f^{{-1}}(x) = {np.round(forward_route, 6)}; max gap {gap:.1e} "
        f"({verdict_text(holds, 'the two forms agree', 'the forms differ')})",
    )


def _actnorm_init_check() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(2)
    batch = rng.normal(3.0, 2.5, size=(16, 4, 5, 5)) * rng.uniform(0.5, 3, size=(1, 4, 1, 1))
    mean = batch.mean(axis=(0, 2, 3))
    std = batch.std(axis=(0, 2, 3))
    s, b = 1 / std, -mean / std  # data-dependent initialisation on the first minibatch
    out = s[None, :, None, None] * batch + b[None, :, None, None]
    out_mean, out_var = out.mean(axis=(0, 2, 3)), out.var(axis=(0, 2, 3))
    recovered = (out - b[None, :, None, None]) / s[None, :, None, None]
    gap = float(max(np.abs(out_mean).max(), np.abs(out_var - 1).max()))
    inverse_gap = float(np.abs(recovered - batch).max())
    holds = gap < 1e-12 and inverse_gap < 1e-12
    return Evidence(
        sheet_fails=bool(not holds),
        correct_passes=bool(holds),
        detail=f"s = 1/std, b = -mean/std per channel on a 16 x 4 x 5 x 5 minibatch: output "
        f"means {np.round(out_mean, 12)}, variances {np.round(out_var, 12)} (max gap "
        f"{gap:.1e}); x = (y - b)/s recovers the input to {inverse_gap:.1e}",
    )


def _orthogonal_init_check() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(4)
    Q, R = np.linalg.qr(rng.normal(size=(5, 5)))
    Q = Q * np.sign(np.diag(R))
    if np.linalg.det(Q) < 0:  # a rotation: flip one column
        Q[:, 0] = -Q[:, 0]
    permutation = np.eye(5)[rng.permutation(5)]
    x = rng.normal(size=(5, 3, 3))
    orthogonal_gap = float(np.abs(Q.T @ Q - np.eye(5)).max())
    det_q = float(np.linalg.det(Q))
    permuted_gap = float(np.abs(_conv1x1(permutation)(x) - x[np.argmax(permutation, 1)]).max())
    holds = orthogonal_gap < 1e-12 and abs(det_q - 1) < 1e-12 and permuted_gap == 0
    return Evidence(
        sheet_fails=bool(not holds),
        correct_passes=bool(holds),
        detail=f"random rotation W (QR): max|W^T W - I| = {orthogonal_gap:.1e}, det W = "
        f"{det_q:.12f} (log det 0 at init); a permutation matrix as 1x1 kernel permutes the "
        f"channels exactly (gap {permuted_gap:.1e}): the 1x1 conv generalises the permutation",
    )


def _conditional_coupling_check() -> Evidence:
    import numpy as np

    comparison = _round_trip(condition=np.array([0.4, 2.0]))
    gap = float(np.abs(np.asarray(comparison.left) - np.asarray(comparison.right)).max())
    holds = gap < 1e-12
    return Evidence(
        sheet_fails=bool(not holds),
        correct_passes=bool(holds),
        detail=f"affine couplings with beta(x^B, w): inverse(forward(x)) = x to {gap:.1e} "
        f"({verdict_text(holds, 'invertible for every w', 'NOT inverted')})",
    )


def _srflow_inverse_check() -> Evidence:
    import numpy as np

    rng = np.random.default_rng(8)
    scale, shift, h = rng.normal(size=(3, 2, 4, 4))
    forward = _injector(scale, shift)(h)
    inverse = np.exp(-scale) * (forward - shift)
    gap = float(np.abs(inverse - h).max())
    holds = gap < 1e-12
    return Evidence(
        sheet_fails=bool(not holds),
        correct_passes=bool(holds),
        detail=f"h^n = exp(-beta_s(u)) (h^{{n+1}} - beta_b(u)) recovers h^n to {gap:.1e} on a "
        f"2 x 4 x 4 activation ({verdict_text(holds, 'the inverse holds', 'it does not')})",
    )


_FLOW_CLAIMS = [
    Claim(
        id="flows-motivation",
        topic="flows",
        section="4",
        sheet_lines=(74, 74),
        sheet="VAs dont have a tractable likelihood, AR models have no latent space. Want both.",
        verdict="correct",
        explanation="A VAE only bounds log p(x) (ELBO); an autoregressive model has an exact "
        "likelihood but no latent code. A flow has both. ('VAs' is VAEs.)",
        source="Rezende & Mohamed 2015; Dinh et al. 2017 (RealNVP), Sec. 1",
    ),
    Claim(
        id="flows-inverse-jacobian-form",
        topic="flows",
        section="4",
        sheet_lines=(76, 76),
        sheet="p_z(f^{-1}(x)) |det df(z)/dz|^{-1}",
        verdict="correct",
        explanation="By the inverse function theorem the Jacobian of f^{-1} at x is the inverse "
        "of the Jacobian of f at z = f^{-1}(x), so |det| of one is 1/|det| of the other.",
        source="Dinh et al. 2017 (RealNVP), Eq. 2-3",
        check=_inverse_jacobian_check,
    ),
    Claim(
        id="flows-sampling",
        topic="flows",
        section="4",
        sheet_lines=(76, 86),
        sheet="Map Z -> X with a deterministic invertible f_theta ... Sample z ~ p_z and get "
        "x = f(z).",
        verdict="correct",
        explanation="Sampling pushes a latent sample through the flow; density evaluation goes "
        "the other way through f^{-1}.",
        source="Kingma & Dhariwal 2018 (Glow), Sec. 2",
    ),
    Claim(
        id="glow-multiscale-pipeline",
        topic="flows",
        section="4",
        sheet_lines=(88, 88),
        sheet="x (L-1) (squeeze -> flow -> split -> squeeze -> flow) x K",
        verdict="typo",
        explanation="Glow's multi-scale architecture repeats (squeeze -> K flow steps -> split) "
        "L - 1 times and ends with squeeze -> K flow steps; the K multiplies the flow step, "
        "not the whole pipeline, and the squeeze -> flow pair after the split is the final "
        "level, outside the (L - 1) repetition. The sheet's drawing puts the repetition counts "
        "on the wrong parts.",
        source="Kingma & Dhariwal 2018 (Glow), Fig. 2b",
        correct="(squeeze -> flow x K -> split) x (L-1) -> squeeze -> flow x K",
    ),
    Claim(
        id="glow-squeeze",
        topic="flows",
        section="4",
        sheet_lines=(91, 91),
        sheet="Squeeze: reshape, increase chan.",
        verdict="correct",
        explanation="Squeeze trades each 2 x 2 spatial block for 4 channels (a permutation).",
        source="Dinh et al. 2017 (RealNVP), Sec. 3.6",
    ),
    Claim(
        id="actnorm-data-init",
        topic="flows",
        section="4",
        sheet_lines=(93, 95),
        sheet="ActNorm: batchnorm with init. s.t. output ~ N(0, I) for first minibatch. "
        "x_ij = (y_ij - b) / s",
        verdict="correct",
        explanation="ActNorm is a per-channel affine layer like batchnorm's scale and bias, "
        "with a data-dependent initialisation (s = 1/std, b = -mean/std of the first "
        "minibatch): zero mean, unit variance per channel; afterwards s and b are ordinary "
        "parameters. Its inverse divides by s.",
        source="Kingma & Dhariwal 2018 (Glow), Sec. 3.1",
        check=_actnorm_init_check,
    ),
    Claim(
        id="conv1x1-init",
        topic="flows",
        section="4",
        sheet_lines=(97, 97),
        sheet="1x1 conv: permutation along channel dim. Init W as rand. orthogonal with det W = 1.",
        verdict="correct",
        explanation="The learned 1x1 convolution generalises the fixed channel permutation "
        "(a permutation matrix is one such W); it is initialised as a random rotation, so "
        "log|det W| = 0 at the start. P is a fixed random permutation in the LU form.",
        source="Kingma & Dhariwal 2018 (Glow), Sec. 3.2",
        check=_orthogonal_init_check,
    ),
    Claim(
        id="conditional-coupling",
        topic="flows",
        section="4",
        sheet_lines=(99, 99),
        sheet="Conditional coupling: add parameter w to beta.",
        verdict="correct",
        explanation="beta is never inverted, so it may depend on any extra input w; the layer "
        "stays invertible in x for each w.",
        source="Ardizzone et al. 2019 (conditional INN); Lugmayr et al. 2020 (SRFlow)",
        check=_conditional_coupling_check,
    ),
    Claim(
        id="srflow-injector",
        topic="flows",
        section="4",
        sheet_lines=(103, 103),
        sheet="SRFlow: use flows to generate many high-res images from a low-res one. Adds "
        "affine injector between conv. and coupling layers. h^n = exp(-beta_s(u)) "
        "(h^{n+1} - beta_b(u))",
        verdict="correct",
        explanation="SRFlow learns the distribution of high-res images given the low-res one; "
        "its flow step is ActNorm, 1x1 conv, affine injector, conditional affine coupling. The "
        "printed inverse holds (beta_b is beta^n_b; the missing superscript n is notation).",
        source="Lugmayr et al. 2020 (SRFlow), Sec. 3-4, Eq. 6",
        check=_srflow_inverse_check,
    ),
    Claim(
        id="styleflow",
        topic="flows",
        section="4",
        sheet_lines=(105, 105),
        sheet="StyleFlow: Take StyleGAN and replace the network z -> w (aux. latent space) "
        "with a normalizing flow conditioned on attributes.",
        verdict="correct",
        explanation="StyleFlow models the z <-> w map of a pretrained StyleGAN with a "
        "continuous normalizing flow conditioned on attributes, used for attribute-conditioned "
        "sampling and editing.",
        source="Abdal et al. 2021 (StyleFlow), Sec. 3",
    ),
    Claim(
        id="flows-limitations",
        topic="flows",
        section="4",
        sheet_lines=(109, 109),
        sheet="Flows are expensive for training and low res. The latent distr. of a flow "
        "needn't be N.",
        verdict="correct",
        explanation="Keeping every layer invertible with the full dimension makes flows "
        "costly; the base density can be any density with tractable log p_z (e.g. learned "
        "priors in Glow, conditional bases in SRFlow).",
        source="Kingma & Dhariwal 2018 (Glow); Papamakarios et al. 2021, Sec. 2",
    ),
]

for _claim in _FLOW_CLAIMS:
    register_claim(_claim)
