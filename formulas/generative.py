"""Generative modelling and autoencoders (sheet section 1).

Learn p_model ~ p_data and sample from p_model. Metadata at module level; sympy inside
builders; numpy inside evaluators.
"""

from __future__ import annotations

from formulas.core import Formula, Step, StepResult, as_float64, register

# --------------------------------------------------------------------------------------------
# maximum likelihood = minimum KL(p_data || p_model)


def _mle_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("E_{p_data}[-log p_model(x)]"),
        sp.Symbol("H(p_data)") + sp.Symbol("D_KL(p_data||p_model)"),
    )


def _mle_derivation() -> list[Step]:
    import sympy as sp

    a, b = sp.symbols("a b", positive=True)

    def sample(rng):
        return {a: sp.Rational(rng.randint(1, 99), 100), b: sp.Rational(rng.randint(1, 99), 100)}

    cross_entropy = -(a * sp.log(b) + (1 - a) * sp.log(1 - b))
    entropy = -(a * sp.log(a) + (1 - a) * sp.log(1 - a))
    kl = a * sp.log(a / b) + (1 - a) * sp.log((1 - a) / (1 - b))
    return [
        Step(
            "cross-entropy = entropy of the data + KL (two-point support p_data = (a, 1-a), "
            "p_model = (b, 1-b)); H(p_data) does not depend on the model, so maximising the "
            "expected log-likelihood minimises D_KL(p_data || p_model)",
            cross_entropy,
            entropy + kl,
            sampler=sample,
            assumptions="0 < a, b < 1",
        ),
        Step(
            "the minimum over the model is at p_model = p_data (KL >= 0, zero iff equal)",
            sp.diff(cross_entropy, b).subs(b, a),
            sp.Integer(0),
        ),
    ]


def cross_entropy(p_data, p_model):
    """E_{p_data}[-log p_model(x)] over a finite support (last axis)."""
    import numpy as np

    p_data = np.asarray(p_data, dtype=np.float64)
    p_model = np.asarray(p_model, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p_data == 0, 0.0, -p_data * np.log(np.where(p_data == 0, 1, p_model)))
    return as_float64(terms.sum(axis=-1))


register(
    Formula(
        id="mle-kl",
        title="Maximum likelihood = minimum KL(p_data || p_model)",
        topic="generative",
        section="1",
        text="Learn p_model ~ p_data: the expected negative log-likelihood E_{p_data}[-log "
        "p_model] = H(p_data) + D_KL(p_data || p_model), so maximum likelihood minimises the "
        "forward KL. evaluate: the cross-entropy over a finite support.",
        keywords=(
            "maximum likelihood",
            "mle",
            "cross-entropy",
            "kl",
            "p_model",
            "p_data",
            "generative model",
            "explicit density",
        ),
        statement_builder=_mle_statement,
        derivation_builder=_mle_derivation,
        evaluator=cross_entropy,
    )
)

# --------------------------------------------------------------------------------------------
# taxonomy (text, searchable)


def _taxonomy_statement():
    import sympy as sp

    return sp.Eq(sp.Symbol("p_model"), sp.Symbol("p_data"))


register(
    Formula(
        id="generative-taxonomy",
        title="Taxonomy of generative models",
        topic="generative",
        section="1",
        text="Explicit density: approximate (variational: VAE, diffusion; Markov chain: "
        "Boltzmann machine) or tractable (autoregressive: FVSBN/NADE/MADE, PixelRNN/CNN, "
        "WaveNet/TCN, autoregressive transformers; normalizing flows). Implicit density: "
        "direct (GANs) or Markov chain (generative stochastic networks).",
        keywords=(
            "taxonomy",
            "explicit density",
            "implicit density",
            "tractable",
            "approximate",
            "boltzmann machine",
            "gsn",
        ),
        statement_builder=_taxonomy_statement,
        latex_override=r"p_{\text{model}} \approx p_{\text{data}}",
    )
)

# --------------------------------------------------------------------------------------------
# autoencoder objective, linear autoencoder = PCA


def _ae_statement():
    import sympy as sp

    return sp.Eq(sp.Symbol("min_{f,g} L"), sp.Symbol("E_x ||x - g(f(x))||^2"))


register(
    Formula(
        id="autoencoder-objective",
        title="Autoencoder: reconstruct through a bottleneck",
        topic="generative",
        section="1",
        text="Autoencoder X -> Z -> X, g o f ~ id with f, g neural networks, trained on the "
        "reconstruction error. Undercomplete: |Z| < |X|, else overcomplete (denoising, "
        "inpainting). The latent space should be continuous and interpolable; plain "
        "autoencoder spaces are neither, so they are only good for reconstruction.",
        keywords=(
            "autoencoder",
            "reconstruction",
            "bottleneck",
            "undercomplete",
            "overcomplete",
            "denoising",
            "encoder",
            "decoder",
        ),
        statement_builder=_ae_statement,
    )
)


def _pca_statement():
    import sympy as sp

    i, k, D = sp.symbols("i k D", positive=True, integer=True)
    return sp.Eq(
        sp.Symbol("min_{linear f, g} sum_n ||x_n - g(f(x_n))||^2"),
        sp.Sum(sp.Indexed("lambda", i), (i, k + 1, D)),
    )


def _pca_derivation() -> list[Step]:
    import sympy as sp

    a, c = sp.symbols("a c", positive=True)
    b, theta = sp.symbols("b theta", real=True)
    S = sp.Matrix([[a + b**2, b], [b, c]])  # a generic positive-definite 2x2 scatter matrix
    u = sp.Matrix([sp.cos(theta), sp.sin(theta)])
    error = S.trace() - (u.T * S * u)[0]  # residual of projecting onto span(u)
    lam_max = max(S.eigenvals(), key=lambda e: sp.N(e.subs({a: 1, b: 1, c: 1})))
    lam_min = [e for e in S.eigenvals() if e != lam_max][0]

    def sample(rng):
        return {
            a: sp.Rational(rng.randint(1, 300), 100),
            c: sp.Rational(rng.randint(1, 300), 100),
            b: sp.Rational(rng.randint(-200, 200), 100),
            theta: sp.Rational(rng.randint(0, 628), 100),
        }

    def optimum_attained() -> StepResult:
        values = {a: sp.Rational(3, 2), b: sp.Rational(1, 2), c: sp.Rational(1, 3)}
        vals, vecs = zip(*[(v, vec[0]) for v, _, vec in S.subs(values).eigenvects()])
        top = vecs[max(range(2), key=lambda i: sp.N(vals[i]))]
        top = top / top.norm()
        residual = S.subs(values).trace() - (top.T * S.subs(values) * top)[0]
        gap = abs(sp.N(residual - lam_min.subs(values), 40))
        return StepResult(bool(gap < 1e-30), "custom", f"top eigenvector attains it, gap {gap}")

    return [
        Step(
            "a rank-1 linear autoencoder g(f(x)) = u u^T x (|u| = 1) leaves the residual "
            "sum_n ||x_n||^2 - u^T S u, S the scatter matrix; u^T S u <= lambda_max",
            error,
            lam_min,
            relation=">=",
            sampler=sample,
            assumptions="S = [[a + b^2, b], [b, c]] positive definite",
        ),
        Step(
            "the minimum lambda_min is attained at the top eigenvector: the optimal linear "
            "autoencoder spans the principal subspace (PCA; Eckart-Young)",
            custom=optimum_attained,
            method="custom",
        ),
    ]


def linear_autoencoder_error(X, k):
    """Minimal total squared reconstruction error of a linear autoencoder (with biases) with a
    k-dimensional code on data X (n, D): the sum of the D - k smallest eigenvalues of the
    centred scatter matrix."""
    import numpy as np

    X = np.asarray(X, dtype=np.float64)
    centred = X - X.mean(axis=-2, keepdims=True)
    eigenvalues = np.linalg.eigvalsh(np.swapaxes(centred, -1, -2) @ centred)  # ascending
    D = X.shape[-1]
    return as_float64(eigenvalues[..., : D - int(k)].sum(axis=-1))


register(
    Formula(
        id="linear-autoencoder-pca",
        title="The optimal linear autoencoder is PCA",
        topic="generative",
        section="1",
        text="Optimal linear autoencoder is PCA: with a k-dim code the minimal reconstruction "
        "error is the sum of the discarded eigenvalues of the (centred) scatter matrix.",
        keywords=(
            "pca",
            "principal component analysis",
            "linear autoencoder",
            "eckart-young",
            "eigenvalues",
            "reconstruction error",
        ),
        statement_builder=_pca_statement,
        derivation_builder=_pca_derivation,
        evaluator=linear_autoencoder_error,
    )
)

# --------------------------------------------------------------------------------------------
# likelihood is not a good quality metric: mixing in noise costs at most log(1/w)


def _mixture_statement():
    import sympy as sp

    w = sp.Symbol("w", positive=True)
    p, q = sp.symbols("p_model p_noise", positive=True)
    return sp.Eq(sp.Symbol("log p_mix"), sp.log(w * p + (1 - w) * q))


def _mixture_derivation() -> list[Step]:
    import sympy as sp

    w, p, q = sp.symbols("w p q", positive=True)

    def sample(rng):
        return {
            w: sp.Rational(rng.randint(1, 99), 100),
            p: sp.Rational(rng.randint(1, 500), 100),
            q: sp.Rational(rng.randint(0, 500), 100),
        }

    return [
        Step(
            "a mixture 0.01 p + 0.99 noise keeps log p_mix >= log p - log 100 (about 4.6 nats; "
            "per dimension of a high-dimensional x it is negligible) while 99% of the samples "
            "are noise: high likelihood, poor quality",
            sp.log(w * p + (1 - w) * q),
            sp.log(p) + sp.log(w),
            relation=">=",
            sampler=sample,
            assumptions="0 < w < 1, densities >= 0",
        ),
    ]


def mixture_log_likelihood(p_model, p_noise, weight):
    """log(w p_model(x) + (1 - w) p_noise(x)) from the two densities at x."""
    import numpy as np

    w = np.asarray(weight, dtype=np.float64)
    return as_float64(
        np.log(w * np.asarray(p_model, dtype=np.float64) + (1 - w) * np.asarray(p_noise))
    )


register(
    Formula(
        id="likelihood-noise-mixture",
        title="Log-likelihood is not a good quality metric (noise mixture bound)",
        topic="generative",
        section="5",
        text="High likelihood with poor quality: mix in noise, log(w p + (1 - w) q) >= log p + "
        "log w, so a model that outputs 99% noise loses at most log 100 nats. Low likelihood "
        "with good quality: memorise the training data with sharp peaks.",
        keywords=("likelihood", "metric", "noise", "mixture", "sample quality", "evaluation"),
        statement_builder=_mixture_statement,
        derivation_builder=_mixture_derivation,
        evaluator=mixture_log_likelihood,
    )
)
