"""Generative modelling and autoencoders (sheet section 1).

Learn p_model ~ p_data and sample from p_model. Metadata at module level; sympy inside
builders; numpy inside evaluators.
"""

from __future__ import annotations

from formulas._chain import definition
from formulas.core import Claim, Comparison, Formula, Step, as_float64, register, register_claim

# --------------------------------------------------------------------------------------------
# maximum likelihood = minimum KL(p_data || p_model)


def _mle_statement():
    import sympy as sp

    return sp.Eq(
        sp.Symbol("E_{p_data}[-log p_model(x)]"),
        sp.Symbol("H(p_data)") + sp.Symbol("D_KL(p_data||p_model)"),
    )


def _finite_support():
    import sympy as sp

    x, N = sp.symbols("x N", positive=True, integer=True)
    p_data, p_model = sp.IndexedBase("p_data"), sp.IndexedBase("p_model")
    return sp, x, N, p_data, p_model


def _finite_check(lhs, rhs, size=5, draws=3) -> Comparison:
    """Both sides on random distributions over `size` outcomes (sums expanded, then the
    probabilities inserted)."""
    import numpy as np

    sp, x, N, p_data, p_model = _finite_support()
    rng = np.random.default_rng(0)
    lefts, rights = [], []
    for _ in range(draws):
        values = {}
        for base in (p_data, p_model):
            for index, p in enumerate(rng.dirichlet(np.ones(size)), start=1):
                values[base[index]] = sp.Float(p, 30)
        for side, out in ((lhs, lefts), (rhs, rights)):
            expanded = sp.sympify(side).subs(N, size).doit()
            out.append(float(sp.N(expanded.xreplace(values), 30)))
    return Comparison(lefts, rights, f"{draws} random distributions on {size} outcomes")


def _mle_derivation() -> list[Step]:
    sp, x, N, p_data, p_model = _finite_support()
    ce, h, kl = (
        sp.Symbol("E_{p_data}[-log p_model(x)]"),
        sp.Symbol("H(p_data)"),
        sp.Symbol("D_KL(p_data||p_model)"),
    )
    summed = sp.Sum(-p_data[x] * sp.log(p_model[x]), (x, 1, N))
    inserted = sp.Sum(
        -p_data[x] * sp.log(p_data[x]) + p_data[x] * sp.log(p_data[x] / p_model[x]), (x, 1, N)
    )
    split = sp.Sum(-p_data[x] * sp.log(p_data[x]), (x, 1, N)) + sp.Sum(
        p_data[x] * sp.log(p_data[x] / p_model[x]), (x, 1, N)
    )
    return [
        definition(
            "expected negative log-likelihood over a finite support x = 1..N", ce, summed, "ce"
        ),
        Step("write out the expectation", ce, summed, uses=("ce",)),
        Step(
            "add and subtract p_data log p_data: -log p_model = -log p_data + log(p_data / "
            "p_model)",
            rhs=inserted,
            custom=lambda: _finite_check(summed, inserted),
            method="custom",
            tolerance=1e-20,
        ),
        Step(
            "linearity of the sum",
            rhs=split,
            custom=lambda: _finite_check(inserted, split),
            method="custom",
            tolerance=1e-20,
        ),
        definition(
            "entropy of the data", h, sp.Sum(-p_data[x] * sp.log(p_data[x]), (x, 1, N)), "entropy"
        ),
        definition(
            "KL divergence (formula kl-divergence)",
            kl,
            sp.Sum(p_data[x] * sp.log(p_data[x] / p_model[x]), (x, 1, N)),
            "kl",
            premise="formula:kl-divergence",
        ),
        Step(
            "H(p_data) does not depend on the model, so maximising the expected "
            "log-likelihood minimises D_KL(p_data || p_model) (>= 0, zero iff p_model = "
            "p_data)",
            rhs=h + kl,
            uses=("entropy", "kl"),
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
        latex_override=r"\mathbb{E}_{p_{\text{data}}}[-\log p_{\text{model}}(x)] = "
        r"H(p_{\text{data}}) + D_{KL}(p_{\text{data}} \| p_{\text{model}})",
        sheet_lines=(5, 5),
        derivation_builder=_mle_derivation,
        evaluator=cross_entropy,
    )
)

# --------------------------------------------------------------------------------------------
# taxonomy (text, searchable)


def _taxonomy_statement():
    import sympy as sp

    return sp.Eq(sp.Symbol("p_model"), sp.Symbol("p_data"))


def _taxonomy_properties() -> list[Step]:
    def fitted() -> Comparison:
        import numpy as np

        rng = np.random.default_rng(0)
        p_data = rng.dirichlet(np.ones(6))
        logits = np.zeros(6)
        for _ in range(20000):  # gradient descent on the expected NLL, p_model = softmax
            p_model = np.exp(logits - logits.max())
            p_model /= p_model.sum()
            logits -= 1.0 * (p_model - p_data)  # d/dlogits of E_{p_data}[-log p_model]
        return Comparison(
            p_model, p_data, "p_model fitted by maximum likelihood (6 outcomes) against p_data"
        )

    return [
        Step(
            "the goal p_model = p_data is where maximum likelihood leads: gradient descent "
            "on E_{p_data}[-log p_model] over a 6-outcome model recovers p_data",
            custom=fitted,
            method="custom",
            tolerance=1e-8,
        )
    ]


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
        definition=True,
        properties_builder=_taxonomy_properties,
        sheet_lines=(5, 16),
    )
)

# --------------------------------------------------------------------------------------------
# autoencoder objective, linear autoencoder = PCA


def _ae_statement():
    import sympy as sp

    from formulas.notation import expectation

    x = sp.Symbol("x", real=True)
    f, g = sp.Function("f"), sp.Function("g")
    # the loss L that training minimises over the encoder f and the decoder g
    reconstruction = sp.Function("norm")(x - g(f(x)), 2) ** 2
    return sp.Eq(sp.Symbol("L", nonnegative=True), expectation("x", "x")(reconstruction))


def _ae_properties() -> list[Step]:
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 4)) @ rng.standard_normal((4, 4))  # full rank 4

    def undercomplete() -> Comparison:
        errors = [float(linear_autoencoder_error(X, k)) for k in (1, 2, 3)]
        return Comparison(errors, [0.0] * 3, "minimal linear-AE error for |Z| = 1, 2, 3 < 4")

    def overcomplete() -> Comparison:
        # its own generator: a check gives the same numbers however often it runs (the shipped
        # report is compared with a fresh one)
        W = np.random.default_rng(1).standard_normal((6, 4))  # |Z| = 6 > |X| = 4: g o f = id
        reconstruction = X @ W.T @ np.linalg.pinv(W).T
        return Comparison(
            reconstruction.ravel(), X.ravel(), "overcomplete |Z| = 6: g(f(x)) against x"
        )

    return [
        Step(
            "undercomplete (|Z| < |X|): the bottleneck forces an error on full-rank data",
            relation=">",
            custom=undercomplete,
            method="custom",
        ),
        Step(
            "overcomplete (|Z| >= |X|): g o f = id is reachable, so the plain objective alone "
            "learns nothing useful (hence denoising / inpainting objectives)",
            custom=overcomplete,
            method="custom",
            tolerance=1e-10,
        ),
    ]


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
        definition=True,
        properties_builder=_ae_properties,
        sheet_lines=(18, 18),
    )
)


def _pca_statement():
    import sympy as sp

    i, k, D = sp.symbols("i k D", positive=True, integer=True)
    return sp.Eq(_pca_minimum(), sp.Sum(sp.Indexed("lambda", i), (i, k + 1, D)))


def _pca_minimum():
    """min over linear f, g of sum_n ||x_n - g(f(x_n))||^2, the N centred points x_n."""
    import sympy as sp

    n = sp.Symbol("n", integer=True)
    N = sp.Symbol("N", integer=True, positive=True)
    x, f, g = sp.IndexedBase("x"), sp.Function("f"), sp.Function("g")
    error = sp.Sum(sp.Function("norm")(x[n] - g(f(x[n])), 2) ** 2, (n, 1, N))
    return sp.Function("min_{f,g}")(error)  # f, g linear: f(x) = A x, g(z) = B z


def _pca_symbols():
    import sympy as sp

    i, k, D = sp.symbols("i k D", positive=True, integer=True)
    eigenvalue = sp.IndexedBase("lambda")
    minimum = _pca_minimum()
    trace = sp.Symbol("tr S")
    best = sp.Symbol("max_U tr(U^T S U)")
    return sp, i, k, D, eigenvalue, minimum, trace, best


def _scatter(seed=0, n=40, D=5):
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D)) @ rng.standard_normal((D, D)) + rng.standard_normal(D)
    centred = X - X.mean(axis=0)
    return X, centred, centred.T @ centred


def _projection_lemma() -> Comparison:
    """Reconstructions g(f(x)) of a linear autoencoder lie in the span of the decoder's k
    columns G; the best code for each x (least squares, numpy lstsq) is the orthogonal
    projection onto span(G), leaving tr S - tr(U^T S U), U an orthonormal basis of span(G)."""
    import numpy as np

    lefts, rights = [], []
    for seed, k in ((0, 1), (1, 2), (2, 3)):
        X, centred, S = _scatter(seed)
        G = np.random.default_rng(seed + 10).standard_normal((X.shape[1], k))
        codes, *_ = np.linalg.lstsq(G, centred.T, rcond=None)  # f(x) = pinv(G) x
        lefts.append(float(((centred.T - G @ codes) ** 2).sum()))
        U, _ = np.linalg.qr(G)
        rights.append(float(np.trace(S) - np.trace(U.T @ S @ U)))
    return Comparison(lefts, rights, "3 random decoders (k = 1, 2, 3; D = 5, n = 40)")


def _ky_fan_lemma() -> Comparison:
    """max over orthonormal U (D x k) of tr(U^T S U) is the sum of the k largest eigenvalues:
    500 random U never exceed it, the top eigenvectors attain it."""
    import numpy as np

    lefts, rights = [], []
    rng = np.random.default_rng(3)
    for seed, k in ((0, 1), (1, 2), (2, 3)):
        _, _, S = _scatter(seed)
        values, vectors = np.linalg.eigh(S)
        candidates = [np.linalg.qr(rng.standard_normal((S.shape[0], k)))[0] for _ in range(500)]
        candidates.append(vectors[:, -k:])
        lefts.append(max(float(np.trace(U.T @ S @ U)) for U in candidates))
        rights.append(float(values[-k:].sum()))
    return Comparison(
        lefts,
        rights,
        "max of tr(U^T S U) over 500 random U and the top "
        "eigenvectors against the top-k eigenvalue sum (D = 5, k = 1, 2, 3)",
    )


def _trace_lemma() -> Comparison:
    import numpy as np

    _, _, S = _scatter(4)
    return Comparison(
        float(np.trace(S)),
        float(np.linalg.eigvalsh(S).sum()),
        "trace against the sum of the eigenvalues of a scatter matrix",
    )


def _split_check(lhs, rhs) -> Comparison:
    import numpy as np
    import sympy as sp

    _, i, k, D, eigenvalue, *_ = _pca_symbols()
    rng = np.random.default_rng(5)
    lefts, rights = [], []
    for size, kept in ((5, 2), (4, 1), (6, 3)):
        values = {
            eigenvalue[j]: sp.Float(v, 30)
            for j, v in enumerate(np.sort(rng.uniform(0, 3, size))[::-1], start=1)
        }
        for side, out in ((lhs, lefts), (rhs, rights)):
            out.append(float(sp.N(side.subs({D: size, k: kept}).doit().xreplace(values), 30)))
    return Comparison(lefts, rights, "(D, k) = (5, 2), (4, 1), (6, 3), random eigenvalues")


def _pca_derivation() -> list[Step]:
    sp, i, k, D, eigenvalue, minimum, trace, best = _pca_symbols()
    difference = sp.Sum(eigenvalue[i], (i, 1, D)) - sp.Sum(eigenvalue[i], (i, 1, k))
    return [
        Step(
            "lemma: a linear autoencoder reconstructs inside the span of its decoder's k "
            "columns; the best encoder there is the orthogonal projection onto that span(U) "
            "(least squares), leaving tr S - tr(U^T S U), S the centred scatter matrix; "
            "minimise over U",
            minimum,
            trace - best,
            premise="lemma",
            name="projection",
            custom=_projection_lemma,
            method="custom",
            tolerance=1e-9,
        ),
        Step(
            "the error of the best decoder, minimised over the code",
            minimum,
            trace - best,
            uses=("projection",),
        ),
        Step(
            "lemma (Ky Fan): max over orthonormal U of tr(U^T S U) is the sum of the k "
            "largest eigenvalues lambda_1 >= ... >= lambda_D of S, attained by the top "
            "eigenvectors (PCA)",
            best,
            sp.Sum(eigenvalue[i], (i, 1, k)),
            premise="lemma",
            name="ky-fan",
            custom=_ky_fan_lemma,
            method="custom",
            tolerance=1e-9,
        ),
        Step(
            "lemma: tr S is the sum of all eigenvalues",
            trace,
            sp.Sum(eigenvalue[i], (i, 1, D)),
            premise="lemma",
            name="trace",
            custom=_trace_lemma,
            method="custom",
            tolerance=1e-9,
        ),
        Step("insert both lemmas", rhs=difference, uses=("ky-fan", "trace")),
        Step(
            "what is left are the discarded eigenvalues: the optimal linear autoencoder is "
            "PCA (Baldi & Hornik 1989; Eckart-Young)",
            rhs=sp.Sum(eigenvalue[i], (i, k + 1, D)),
            custom=lambda: _split_check(difference, sp.Sum(eigenvalue[i], (i, k + 1, D))),
            method="custom",
            tolerance=1e-20,
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
        sheet_lines=(18, 18),
    )
)

# --------------------------------------------------------------------------------------------
# likelihood is not a good quality metric: mixing in noise costs at most log(1/w)


def _mixture_statement():
    import sympy as sp

    w = sp.Symbol("w", positive=True)
    p, q = sp.symbols("p_model p_noise", positive=True)
    return sp.Eq(sp.log(sp.Symbol("p_mix", positive=True)), sp.log(w * p + (1 - w) * q))


def _mixture_properties() -> list[Step]:
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
            method="numeric",
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
        sheet_lines=(113, 113),
        definition=True,
        properties_builder=_mixture_properties,
        evaluator=mixture_log_likelihood,
    )
)

# --------------------------------------------------------------------------------------------
# claims in words (sheet section 1)

register_claim(
    Claim(
        id="generative-taxonomy",
        topic="generative",
        section="1",
        sheet_lines=(7, 16),
        sheet="Explicit density: approximate (variational: VAE, diffusion; Markov chain: "
        "Boltzmann machine), tractable (autoregressive: FVSBN/NADE/MADE, Pixel(C/R)NN, "
        "WaveNet/TCN, autoregressive transformers; normalizing flows). Implicit density: "
        "direct (GANs), MC (generative stochastic networks).",
        verdict="correct",
        explanation="This is Goodfellow's taxonomy of maximum-likelihood models: VAEs and "
        "diffusion models maximise a variational lower bound (approximate density), Boltzmann "
        "machines need MCMC, autoregressive models and flows have an exact, tractable "
        "likelihood; GANs and GSNs only sample (implicit density), GANs directly, GSNs by a "
        "Markov chain.",
        source="Goodfellow 2016, NIPS tutorial on GANs, Fig. 9; Ho et al. 2020 (diffusion "
        "trained on a variational bound)",
    )
)

register_claim(
    Claim(
        id="overcomplete-autoencoder-needs-a-task",
        topic="generative",
        section="1",
        sheet_lines=(18, 18),
        sheet="Undercomplete: |Z| < |X|, else overcomplete. Overcomp. is for denoising, "
        "inpainting.",
        verdict="correct",
        explanation="An overcomplete autoencoder trained only to reconstruct can copy its "
        "input (g o f = id is reachable), so it is useful with a corrupted-input objective "
        "(denoising, inpainting) or another regulariser; an undercomplete one cannot "
        "reconstruct full-rank data exactly.",
        source="Vincent et al. 2008 (denoising autoencoders); Goodfellow et al. 2016, "
        "Deep Learning, Sec. 14.1-14.2",
        check=lambda: _overcomplete_evidence(),
    )
)


def _overcomplete_evidence():
    from formulas.core import Evidence

    under, over = (step.check() for step in _ae_properties())
    return Evidence(
        sheet_fails=not (under.passed and over.passed),
        correct_passes=under.passed and over.passed,
        detail=f"undercomplete: {under.detail}; overcomplete: {over.detail}",
    )
