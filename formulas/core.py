"""The registry's building blocks: Formula, Step, Erratum, and the registry itself.

A formula module (one per course topic) registers `Formula` objects at import. Importing a
topic module must stay cheap: only metadata (id, title, topic, section, keywords, the sheet's
wording) lives at module level. sympy and numpy are imported inside the builder functions, so
`cheatsheet list` and `cheatsheet search` never load sympy.

How a derivation step is checked (recorded on each result as `method`):
- "simplify":   sympy.simplify(lhs - rhs) == 0 under the symbols' assumptions.
- "equals":     sympy's Expr.equals (which itself mixes simplification and numeric tests).
- "numeric":    lhs and rhs evaluated with mpmath at 50 digits at random points drawn from the
                symbols' assumptions (or the step's own sampler); a relative gap < 1e-30 passes.
- "custom":     the step supplies its own check (e.g. an integral done by mpmath.quad).
"""

from __future__ import annotations

import difflib
import inspect
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

TOPICS: dict[str, str] = {
    "generative": "Generative modelling: taxonomy, autoencoders (sheet section 1)",
    "vae": "Variational autoencoders, ELBO, KL, beta-VAE (section 2, proofs)",
    "autoregressive": "FVSBN, NADE, MADE, PixelCNN/RNN, WaveNet, VQ-VAE (section 3)",
    "attention": "Self-attention and transformers (section 3.1)",
    "flows": "Normalizing flows: coupling, Glow, SRFlow (section 4)",
    "gan": "GANs, optimal discriminator, JSD (section 5, proofs)",
    "diffusion": "Diffusion models: DDPM, guidance, latent diffusion (section 6)",
    "rl": "Reinforcement learning: Bellman, DP, TD, Q-learning, policy gradients (section 7)",
    "implicit": "Neural implicit representations, NeRF, Gaussian splatting (section 8)",
    "body": "Parametric body models: LBS, SMPL (section 9)",
    "ml": "ML basics: losses, activations, MLP backprop (section 10)",
    "optimizers": "Gradient-descent algorithms: momentum, AdaGrad, RMSProp, Adam (section 10.2)",
    "cnn": "Convolutions, pooling, conv backprop (section 11)",
    "rnn": "RNNs, BPTT, LSTM (section 12, proofs)",
    "math": "Appendix: secant, planes, derivatives, linear algebra, Jensen, Gaussians (14)",
}


class UnknownNameError(KeyError):
    """An id, topic or parameter name that does not exist; carries the closest valid names."""

    def __init__(self, kind: str, name: str, suggestions: Iterable[str]):
        self.kind = kind
        self.name = name
        self.suggestions = list(suggestions)
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown {kind} '{name}'{hint}")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The closest valid names to a mistyped one (difflib ratio, then substring hits)."""
    candidates = list(candidates)
    hits = difflib.get_close_matches(name, candidates, n=n, cutoff=0.5)
    for candidate in candidates:
        if len(hits) >= n:
            break
        if name and name.lower() in candidate.lower() and candidate not in hits:
            hits.append(candidate)
    return hits


# --------------------------------------------------------------------------------------------
# Derivation steps


@dataclass(frozen=True)
class StepResult:
    passed: bool
    method: str  # "simplify" | "equals" | "numeric" | "custom"
    detail: str = ""


@dataclass
class Step:
    """One line of a derivation: `lhs relation rhs`, with the reason it holds.

    `lhs`/`rhs` are sympy expressions. `relation` is "=", "<=" or ">=" (inequalities are checked
    numerically at random points). `method` forces a check ("simplify", "numeric", "custom");
    "auto" tries simplify, then equals, then numeric. `sampler(rng)` returns {symbol: value} for
    the numeric check when the symbols' assumptions are not enough (e.g. a probability in (0,1)).
    `custom(…)` returns a StepResult for checks sympy cannot phrase (integrals by quadrature).
    """

    claim: str
    lhs: Any = None
    rhs: Any = None
    justification: str = ""
    assumptions: str = ""
    relation: str = "="
    method: str = "auto"
    sampler: Callable[[random.Random], Mapping[Any, Any]] | None = None
    custom: Callable[[], StepResult] | None = None
    tolerance: float = 1e-30  # relative gap allowed by the numeric check (quadrature: ~1e-12)

    def check(self, seed: int = 0, points: int = 8) -> StepResult:
        if self.custom is not None or self.method == "custom":
            if self.custom is None:
                return StepResult(False, "custom", "step has method 'custom' but no check")
            return self.custom()
        import sympy as sp

        if self.relation == "=" and self.method in ("auto", "simplify"):
            try:
                # Unevaluated Integrals/Sums are done first, so "simplify" covers closed forms.
                difference = sp.simplify(sp.sympify(self.lhs).doit() - sp.sympify(self.rhs).doit())
            except Exception as error:  # noqa: BLE001 - sympy raises many kinds
                difference = error
            if difference == 0:
                return StepResult(True, "simplify", "simplify(lhs - rhs) == 0")
            if self.method == "simplify":
                return StepResult(False, "simplify", f"simplify(lhs - rhs) = {difference}")
            try:
                if self.lhs.equals(self.rhs) is True:
                    return StepResult(True, "equals", "sympy equals() proved it")
            except Exception:  # noqa: BLE001
                pass
        return _numeric_check(self, seed, points)


def _default_value(symbol: Any, rng: random.Random) -> Any:
    import sympy as sp

    if symbol.is_integer:
        low = 1 if symbol.is_positive else (0 if symbol.is_nonnegative else -5)
        return sp.Integer(rng.randint(low, 6))
    if symbol.is_positive:
        return sp.Rational(rng.randint(1, 400), 100)
    if symbol.is_nonnegative:
        return sp.Rational(rng.randint(0, 400), 100)
    if symbol.is_negative:
        return -sp.Rational(rng.randint(1, 400), 100)
    return sp.Rational(rng.randint(-300, 300), 100)


def _numeric_check(step: Step, seed: int, points: int) -> StepResult:
    import sympy as sp

    rng = random.Random(seed)
    lhs, rhs = sp.sympify(step.lhs), sp.sympify(step.rhs)
    symbols = sorted(lhs.free_symbols | rhs.free_symbols, key=str)
    worst = 0.0
    for _ in range(points):
        values = dict(step.sampler(rng)) if step.sampler else {}
        for symbol in symbols:
            if symbol not in values:
                values[symbol] = _default_value(symbol, rng)
        left = sp.N(lhs.subs(values), 50)
        right = sp.N(rhs.subs(values), 50)
        if not (left.is_number and right.is_number):
            return StepResult(False, "numeric", f"could not evaluate at {values}")
        if step.relation == "=":
            gap = abs(complex(left - right)) / max(1.0, abs(complex(right)))
            worst = max(worst, gap)
            if gap > step.tolerance:
                return StepResult(False, "numeric", f"lhs={left} rhs={right} at {values}")
        elif step.relation == "<=":
            if left > right + sp.Float(1e-40):
                return StepResult(False, "numeric", f"lhs={left} > rhs={right} at {values}")
        elif step.relation == ">=":
            if left < right - sp.Float(1e-40):
                return StepResult(False, "numeric", f"lhs={left} < rhs={right} at {values}")
        else:
            return StepResult(False, "numeric", f"unknown relation {step.relation!r}")
    detail = f"{points} random points at 50 digits"
    if step.relation == "=":
        detail += f", max relative gap {worst:.1e}"
    return StepResult(True, "numeric", detail)


# --------------------------------------------------------------------------------------------
# Errata


@dataclass(frozen=True)
class Evidence:
    """What tells the sheet's form from the right one, computed by the same checks."""

    sheet_fails: bool | None  # None: not checked in this install (needs an extra)
    correct_passes: bool | None  # None: not checked in this install (needs an extra)
    detail: str


@dataclass(frozen=True)
class Erratum:
    sheet: str  # what the sheet prints (LaTeX, as extracted)
    correct: str  # the right form (LaTeX)
    explanation: str  # in words: which symbol/sign/index is wrong
    evidence: Callable[[], Evidence]  # runs the check; imports sympy/numpy lazily


# --------------------------------------------------------------------------------------------
# Formulas


@dataclass
class Formula:
    """A formula of the sheet.

    `statement` is a zero-argument builder returning a sympy object (usually an Eq); it is
    called on first use and cached. `derivation` likewise returns a list of Steps. `evaluate`
    is a plain numeric function (numpy inside) whose keyword names are the formula's contract.
    """

    id: str
    title: str
    topic: str
    section: str
    text: str = ""  # the sheet's wording / what it says in words (searchable)
    keywords: tuple[str, ...] = ()
    statement_builder: Callable[[], Any] | None = None
    derivation_builder: Callable[[], list[Step]] | None = None
    evaluator: Callable[..., Any] | None = None
    erratum: Erratum | None = None
    latex_override: str | None = None  # for statements sympy prints poorly
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # metadata ---------------------------------------------------------------------------------
    @property
    def parameters(self) -> list[str]:
        if self.evaluator is None:
            return []
        return list(inspect.signature(self.evaluator).parameters)

    @property
    def has_derivation(self) -> bool:
        return self.derivation_builder is not None

    def search_text(self) -> str:
        return " ".join([self.id, self.title, self.topic, self.text, " ".join(self.keywords)])

    # symbolic ---------------------------------------------------------------------------------
    @cached_property
    def statement(self) -> Any:
        if self.statement_builder is None:
            raise ValueError(f"formula '{self.id}' has no symbolic statement")
        return self.statement_builder()

    @property
    def latex(self) -> str:
        if self.latex_override:
            return self.latex_override
        import sympy as sp

        return sp.latex(self.statement)

    @property
    def pretty(self) -> str:
        import sympy as sp

        return sp.pretty(self.statement, use_unicode=True)

    @cached_property
    def derivation(self) -> list[Step]:
        return list(self.derivation_builder()) if self.derivation_builder else []

    def check_derivation(self, seed: int = 0) -> list[StepResult]:
        return [step.check(seed=seed) for step in self.derivation]

    # numeric ----------------------------------------------------------------------------------
    def evaluate(self, **values: Any) -> Any:
        if self.evaluator is None:
            raise ValueError(f"formula '{self.id}' has no numeric evaluation")
        allowed = self.parameters
        for name in values:
            if name not in allowed:
                raise UnknownNameError(f"parameter of {self.id}", name, closest(name, allowed))
        signature = inspect.signature(self.evaluator)
        missing = [
            name
            for name, parameter in signature.parameters.items()
            if parameter.default is inspect.Parameter.empty and name not in values
        ]
        if missing:
            raise TypeError(f"{self.id}: missing value for {', '.join(missing)}")
        return self.evaluator(**values)


class Registry:
    def __init__(self) -> None:
        self._formulas: dict[str, Formula] = {}

    def register(self, formula: Formula) -> Formula:
        if formula.id in self._formulas:
            raise ValueError(f"duplicate formula id {formula.id}")
        if formula.topic not in TOPICS:
            raise ValueError(f"{formula.id}: unknown topic {formula.topic}")
        if formula.id != formula.id.lower() or " " in formula.id or "_" in formula.id:
            raise ValueError(f"{formula.id}: ids are kebab-case")
        self._formulas[formula.id] = formula
        return formula

    def get(self, formula_id: str) -> Formula:
        try:
            return self._formulas[formula_id]
        except KeyError:
            raise UnknownNameError(
                "formula id", formula_id, closest(formula_id, self._formulas)
            ) from None

    def all(self) -> list[Formula]:
        return list(self._formulas.values())


REGISTRY = Registry()


def register(formula: Formula) -> Formula:
    return REGISTRY.register(formula)


def as_float64(value: Any) -> Any:
    """Results are numpy float64 (arrays) or Python/numpy scalars of float64."""
    import numpy as np

    array = np.asarray(value, dtype=np.float64)
    return array if array.ndim else np.float64(array)
