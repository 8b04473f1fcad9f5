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
        super().__init__(f"unknown {kind} '{name}'{hint}")  # the did_you_mean wording

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


def did_you_mean(name: str, candidates: Iterable[str], n: int = 3) -> str:
    """'; did you mean a, b?' with the closest valid names, or '' when none is close: the one
    way every unknown-name error in the project ends."""
    hits = closest(name, candidates, n)
    return f"; did you mean {', '.join(hits)}?" if hits else ""


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
    method: str  # "simplify" | "equals" | "numeric" | "custom" | "given" | "refused"
    detail: str = ""


@dataclass(frozen=True)
class Comparison:
    """What a custom check computed: two sides of the claim, each by its own route.

    A custom check never returns its own verdict; it returns the numbers, and the registry
    decides (finite, and within the step's tolerance / relation at every entry). `left` and
    `right` are numbers or equal-length sequences of numbers.
    """

    left: Any
    right: Any
    detail: str


RELATIONS = ("=", "<=", ">=", "<", ">")
PREMISE_KINDS = ("definition", "assumption", "lemma")  # or "formula:<id>"


@dataclass
class Step:
    """One line of a derivation: `lhs relation rhs`, with the reason it holds.

    A derivation is a chain: each step continues from the previous one (leave `lhs` as None
    and it *is* the previous step's right side; an explicit `lhs` must be that same expression).
    A step with `premise` set does not continue the chain: it brings in a premise, named by
    `name`, that a later chain step lists in `uses`:
      - "definition" / "assumption": given, not proved here (labelled so);
      - "lemma": a side result, checked here like any step;
      - "formula:<id>": another registry formula's statement (proved or defined there).
    A used premise whose left side is a symbol (or function application) and relation "=" is
    substituted into the step that uses it before that step is checked.

    `relation` is "=", "<=", ">=", "<" or ">" (inequalities are checked numerically at random
    points). `method` forces a check ("simplify", "numeric", "custom"); "auto" tries simplify,
    then equals, then numeric. `sampler(rng)` returns {symbol: value} for the numeric check
    (points must lie inside the step's domain). `custom()` returns a Comparison.
    """

    claim: str
    lhs: Any = None
    rhs: Any = None
    justification: str = ""
    assumptions: str = ""
    relation: str = "="
    method: str = "auto"
    sampler: Callable[[random.Random], Mapping[Any, Any]] | None = None
    custom: Callable[[], Comparison] | None = None
    tolerance: float = 1e-30  # relative gap allowed by the numeric check (quadrature: ~1e-12)
    premise: str | None = None
    name: str = ""
    uses: tuple[str, ...] = ()

    @property
    def is_premise(self) -> bool:
        return self.premise is not None

    @property
    def is_given(self) -> bool:
        return self.premise is not None and self.premise != "lemma"

    def check(
        self, seed: int = 0, points: int = 8, identities: Mapping[Any, Any] | None = None
    ) -> StepResult:
        if self.relation not in RELATIONS:
            return StepResult(False, "refused", f"unknown relation {self.relation!r}")
        if self.premise is not None:
            given = _check_premise(self)
            if given is not None:
                return given
        if self.custom is None and self.method == "custom":
            return StepResult(False, "custom", "step has method 'custom' but no check")
        if self.lhs is not None and self.rhs is not None and _same_as_built(self.lhs, self.rhs):
            return StepResult(
                False,
                "refused",
                "vacuous: both sides are the same expression as built (sympy evaluated the "
                "claim away); write it unevaluated or compute one side",
            )
        if self.custom is not None:
            return _custom_check(self)
        import sympy as sp

        lhs, rhs = sp.sympify(self.lhs), sp.sympify(self.rhs)
        used = ""
        if identities:
            lhs, rhs = substitute(lhs, identities), substitute(rhs, identities)
            from formulas.notation import unicode_line  # read as math: ᾱ_t = α_t·ᾱ_{t-1}

            used = " using " + ", ".join(
                f"{unicode_line(k)} = {unicode_line(v)}" for k, v in identities.items()
            )
        if self.relation == "=" and self.method in ("auto", "simplify"):
            if _simplifies_to_equal(lhs, rhs):
                return StepResult(True, "simplify", "simplify(lhs - rhs) == 0" + used)
            if self.method == "simplify":
                return StepResult(False, "simplify", "simplify(lhs - rhs) != 0" + used)
            try:
                if lhs.equals(rhs) is True:
                    return StepResult(True, "equals", "sympy equals() proved it" + used)
            except Exception:  # noqa: BLE001 - sympy raises many kinds
                pass
        result = _numeric_check(self, lhs, rhs, seed, points)
        return StepResult(result.passed, result.method, result.detail + used)


def _check_premise(step: Step) -> StepResult | None:
    """Givens pass as givens (and say so); lemmas fall through to the ordinary check."""
    kind = step.premise or ""
    if not step.name:
        return StepResult(False, "refused", "a premise needs a name that later steps use")
    if kind in ("definition", "assumption"):
        return StepResult(True, "given", f"premise ({kind}): given, not proved here")
    if kind.startswith("formula:"):
        formula_id = kind.split(":", 1)[1]
        try:
            import formulas

            referenced = formulas.get(formula_id)
        except KeyError:
            return StepResult(False, "refused", f"premise names unknown formula '{formula_id}'")
        return StepResult(
            True, "given", f"premise: formula {referenced.id} ({referenced.kind} there)"
        )
    if kind == "lemma":
        return None
    return StepResult(False, "refused", f"unknown premise kind {kind!r}")


def _same_as_built(lhs: Any, rhs: Any) -> bool:
    import sympy as sp

    try:
        return sp.sympify(lhs) == sp.sympify(rhs)
    except Exception:  # noqa: BLE001
        return lhs is rhs


def substitute(expression: Any, identities: Mapping[Any, Any]) -> Any:
    """Apply declared identities (symbol -> expression), repeatedly until nothing changes."""
    for _ in range(4):
        try:
            replaced = expression.subs(dict(identities)) if identities else expression
        except ValueError:  # sympy will not put a sum over tau in for E_tau[..] inside another
            replaced = expression.xreplace(dict(identities))  # sum over tau: replace subtrees
        if replaced == expression:
            return replaced
        expression = replaced
    return expression


def _simplifies_to_equal(lhs: Any, rhs: Any) -> bool:
    """Unevaluated Integrals/Sums are done first, so "simplify" covers closed forms."""
    import sympy as sp

    try:
        if isinstance(lhs, sp.MatrixBase) or isinstance(rhs, sp.MatrixBase):
            if getattr(lhs, "shape", None) != getattr(rhs, "shape", None):
                return False
            return all(
                sp.simplify(sp.sympify(a).doit() - sp.sympify(b).doit()) == 0
                for a, b in zip(lhs, rhs)
            )
        if isinstance(lhs, sp.Tuple) and isinstance(rhs, sp.Tuple):
            return len(lhs) == len(rhs) and all(
                _simplifies_to_equal(a, b) for a, b in zip(lhs.args, rhs.args)
            )
        if (
            isinstance(lhs, sp.core.function.AppliedUndef)
            and isinstance(rhs, sp.core.function.AppliedUndef)
            and lhs.func == rhs.func
            and len(lhs.args) == len(rhs.args)
        ):
            return all(_simplifies_to_equal(a, b) for a, b in zip(lhs.args, rhs.args))
        if lhs == rhs:  # identical once the identities were substituted: nothing to do
            return True
        difference = sp.simplify(lhs.doit() - rhs.doit())
        if isinstance(difference, sp.MatrixExpr):
            return difference.is_ZeroMatrix or sp.simplify(difference.doit()) == 0
        return difference == 0
    except Exception:  # noqa: BLE001 - sympy raises many kinds
        return False


def _finite(value: Any) -> bool:
    import math

    try:
        number = complex(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(number.real) and math.isfinite(number.imag)


def _custom_check(step: Step) -> StepResult:
    """Run a custom check and decide its verdict here, from the numbers it computed."""
    import numpy as np

    outcome = step.custom()
    if not isinstance(outcome, Comparison):
        return StepResult(
            False,
            "refused",
            "a custom check must return the Comparison it computed, not its own verdict",
        )
    try:
        left = np.asarray(outcome.left, dtype=np.complex128).ravel()
        right = np.asarray(outcome.right, dtype=np.complex128).ravel()
    except (TypeError, ValueError):
        return StepResult(False, "custom", f"not numbers: {outcome.detail}")
    if left.size == 0 or left.shape != right.shape:
        return StepResult(False, "custom", f"nothing compared / shapes differ: {outcome.detail}")
    if not (np.all(np.isfinite(left)) and np.all(np.isfinite(right))):
        return StepResult(False, "custom", f"a side is NaN or infinite: {outcome.detail}")
    tolerance = max(step.tolerance, 0.0)
    if step.relation == "=":
        gap = float(np.max(np.abs(left - right) / np.maximum(1.0, np.abs(right))))
        passed = gap <= tolerance
        return StepResult(passed, "custom", f"{outcome.detail}; max relative gap {gap:.1e}")
    if np.any(np.abs(left.imag) > 0) or np.any(np.abs(right.imag) > 0):
        return StepResult(
            False, "custom", f"an inequality between complex numbers: {outcome.detail}"
        )
    left, right = left.real, right.real
    slack = tolerance * np.maximum(1.0, np.abs(right))
    holds = {
        "<=": left <= right + slack,
        ">=": left >= right - slack,
        "<": left < right,
        ">": left > right,
    }[step.relation]
    worst = int(np.argmin(holds)) if not np.all(holds) else None
    where = "" if worst is None else f" (fails at entry {worst}: {left[worst]} vs {right[worst]})"
    return StepResult(
        bool(np.all(holds)),
        "custom",
        f"{outcome.detail}; lhs {step.relation} rhs at all {left.size} entries{where}"
        if worst is None
        else f"{outcome.detail}; lhs {step.relation} rhs fails{where}",
    )


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


def _numeric_check(step: Step, lhs: Any, rhs: Any, seed: int, points: int) -> StepResult:
    import sympy as sp

    rng = random.Random(seed)
    symbols = sorted(lhs.free_symbols | rhs.free_symbols, key=str)
    worst = 0.0
    for _ in range(points):
        values = dict(step.sampler(rng)) if step.sampler else {}
        for symbol in symbols:
            if symbol not in values:
                values[symbol] = _default_value(symbol, rng)
        left = sp.N(lhs.subs(values).doit(), 50)
        right = sp.N(rhs.subs(values).doit(), 50)
        if not (left.is_number and right.is_number):
            return StepResult(False, "numeric", f"could not evaluate at {values}")
        if not (_finite(left) and _finite(right)):
            # A point where a side is undefined proves nothing: outside the step's domain
            # (a sampler bug) or a claim that is not true there.
            return StepResult(
                False,
                "numeric",
                f"a side is NaN/infinite (lhs={left}, rhs={right}) at {values}: the point is "
                "outside the step's domain or the claim fails there",
            )
        if step.relation == "=":
            gap = abs(complex(left - right)) / max(1.0, abs(complex(right)))
            worst = max(worst, gap)
            if not gap <= step.tolerance:
                return StepResult(False, "numeric", f"lhs={left} rhs={right} at {values}")
            continue
        if not (left.is_real and right.is_real):
            return StepResult(False, "numeric", f"complex value in an inequality at {values}")
        slack = sp.Float(1e-40)
        holds = {
            "<=": left <= right + slack,
            ">=": left >= right - slack,
            "<": left < right,
            ">": left > right,
        }[step.relation]
        if not bool(holds):
            return StepResult(
                False, "numeric", f"lhs={left} {step.relation} rhs={right} fails at {values}"
            )
    detail = f"{points} random points at 50 digits"
    if step.relation == "=":
        detail += f", max relative gap {worst:.1e}"
    return StepResult(True, "numeric", detail)


# --------------------------------------------------------------------------------------------
# Derivations: a chain of steps from the first left side to the statement


@dataclass
class Derivation:
    """A derivation's steps plus the identities between its symbols (symbol -> expression).

    Identities are the formula's declared facts (e.g. alpha_bar_t = alpha_t alpha_bar_{t-1}):
    steps and the conclusion may be proved equal under them. A derivation builder returns a
    Derivation or a plain list of steps (no identities).
    """

    steps: list[Step]
    identities: Mapping[Any, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Errata


EVIDENCE_STATES = ("confirmed", "NOT confirmed", "not checked in this install")


@dataclass(frozen=True)
class Evidence:
    """What tells the sheet's form from the right one, computed by the same checks."""

    sheet_fails: bool | None  # None: not checked in this install (needs an extra)
    correct_passes: bool | None  # None: not checked in this install (needs an extra)
    detail: str

    @property
    def state(self) -> str:
        """One verdict for every caller (errata, export, quiz): computed from the two flags."""
        if self.sheet_fails is None or self.correct_passes is None:
            return "not checked in this install"
        return "confirmed" if self.sheet_fails and self.correct_passes else "NOT confirmed"


def _format_number(value: Any) -> str:
    import numpy as np

    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        return f"{float(array):.6g}"
    flat = ", ".join(f"{x:.4g}" for x in array.ravel()[:6])
    return f"[{flat}{', …' if array.size > 6 else ''}]"


def relative_gap(value: Any, reference: Any) -> float:
    """max |value - reference| / max(1, |reference|); inf when a side is not finite."""
    import numpy as np

    value = np.asarray(value, dtype=np.complex128)
    reference = np.asarray(reference, dtype=np.complex128)
    if value.shape != reference.shape and value.size != 1 and reference.size != 1:
        return float("inf")
    if not (np.all(np.isfinite(value)) and np.all(np.isfinite(reference))):
        return float("inf")
    return float(np.max(np.abs(value - reference) / np.maximum(1.0, np.abs(reference))))


def compare_forms(
    *,
    reference: Any,
    sheet: Any,
    correct: Any,
    reference_name: str,
    where: str = "",
    tolerance: float = 1e-9,
) -> Evidence:
    """Evidence for an erratum from numbers: both forms against an independent reference.

    The sentence is built from the computed gaps, so it can only say what the numbers say.
    """
    sheet_gap = relative_gap(sheet, reference)
    correct_gap = relative_gap(correct, reference)
    sheet_fails = not sheet_gap <= tolerance
    correct_passes = correct_gap <= tolerance

    def verdict(gap: float) -> str:
        return "agrees" if gap <= tolerance else "differs"

    place = f" at {where}" if where else ""
    detail = (
        f"{reference_name}{place}: {_format_number(reference)}; sheet's form "
        f"{_format_number(sheet)} ({verdict(sheet_gap)}, relative gap {sheet_gap:.1e}); right "
        f"form {_format_number(correct)} ({verdict(correct_gap)}, relative gap "
        f"{correct_gap:.1e}; tolerance {tolerance:.0e})"
    )
    return Evidence(sheet_fails, correct_passes, detail)


def verdict_text(flag: bool, if_true: str, if_false: str) -> str:
    """A verdict phrase chosen by a computed flag (never a fixed sentence)."""
    return if_true if flag else if_false


SEVERITIES = ("error", "typo")


@dataclass(frozen=True)
class Erratum:
    sheet: str  # what the sheet prints (LaTeX, as extracted)
    correct: str  # the right form (LaTeX)
    explanation: str  # in words: which symbol/sign/index is wrong, in the sheet's context
    evidence: Callable[[], Evidence]  # runs the check; imports sympy/numpy lazily
    severity: str = "error"  # "error": false as printed, in context; "typo": intent is clear
    sheet_lines: tuple[int, int] | None = None  # 1-based lines of the sheet file, inclusive


# --------------------------------------------------------------------------------------------
# Claims in words: mechanisms, procedures and guarantees the sheet states in prose


@dataclass
class Claim:
    """A statement in words on the sheet, decided against its source and computed where it can be.

    `verdict` is "correct", "error" or "typo". `check` (lazy imports inside) returns Evidence:
    for a correct claim, `sheet_fails` is False and `correct_passes` True when the computation
    bears the claim out; for a wrong claim, as for an Erratum. `source` names the paper or
    textbook the claim was decided against.
    """

    id: str
    topic: str
    section: str
    sheet_lines: tuple[int, int]
    sheet: str  # the sheet's words (quoted)
    verdict: str  # "correct" | "error" | "typo"
    explanation: str  # what is right, in the sheet's context
    source: str
    check: Callable[[], Evidence] | None = None  # None: decided from the source, not computed
    correct: str = ""  # the right statement, when the sheet's is wrong

    @property
    def severity(self) -> str | None:
        return self.verdict if self.verdict in SEVERITIES else None

    def status(self) -> tuple[Evidence | None, str]:
        """(evidence, state) in words that fit the verdict: a correct claim "holds" (or "does
        NOT hold" when its computation disagrees); a wrong one is "confirmed" as an erratum."""
        if self.check is None:
            return None, "decided from the source"
        try:
            evidence = self.check()
        except ModuleNotFoundError as error:
            return None, f"not checked in this install (needs '{error.name}')"
        if self.verdict != "correct":
            return evidence, evidence.state
        if evidence.sheet_fails is None or evidence.correct_passes is None:
            return evidence, "not checked in this install"
        holds = evidence.sheet_fails is False and evidence.correct_passes is True
        return evidence, "holds (computed)" if holds else "does NOT hold"


# --------------------------------------------------------------------------------------------
# Formulas

KINDS = ("derived", "definition", "cross-checked", "not checked here")


@dataclass
class Formula:
    """A formula of the sheet.

    `statement` is a zero-argument builder returning a sympy object (usually an Eq); it is
    called on first use and cached. `derivation` likewise returns a Derivation (or a list of
    Steps) that must chain to the statement. A formula without a derivation says what it is:
    a `definition` (with `properties`: independent Steps that check what the definition
    promises), or only `cross-checked` numerically (its evaluator against an oracle in the
    tests). `evaluate` is a plain numeric function (numpy inside) whose keyword names are the
    formula's contract.
    """

    id: str
    title: str
    topic: str
    section: str
    text: str = ""  # the sheet's wording / what it says in words (searchable)
    keywords: tuple[str, ...] = ()
    statement_builder: Callable[[], Any] | None = None
    derivation_builder: Callable[[], Any] | None = None
    evaluator: Callable[..., Any] | None = None
    erratum: Erratum | None = None
    latex_override: str | None = None  # for statements sympy prints poorly
    definition: bool = False  # a definition: no derivation, property checks instead
    properties_builder: Callable[[], list[Step]] | None = None
    aliases: tuple[str, ...] = ()  # earlier ids (saved progress, exported cards still resolve)
    sheet_lines: tuple[int, int] | None = None
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

    @property
    def kind(self) -> str:
        """derived | definition | cross-checked | not checked here (labels everywhere)."""
        if self.derivation_builder is not None:
            return "derived"
        if self.definition:
            return "definition"
        if self.evaluator is not None:
            return "cross-checked"
        return "not checked here"

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
    def _derivation(self) -> Derivation:
        if self.derivation_builder is None:
            return Derivation([])
        built = self.derivation_builder()
        if isinstance(built, Derivation):
            return Derivation(list(built.steps), dict(built.identities))
        return Derivation(list(built))

    @property
    def derivation(self) -> list[Step]:
        return self._derivation.steps

    @property
    def identities(self) -> Mapping[Any, Any]:
        return self._derivation.identities

    @cached_property
    def properties(self) -> list[Step]:
        return list(self.properties_builder()) if self.properties_builder else []

    def check_derivation(self, seed: int = 0) -> list[StepResult]:
        """Each step's own check (the chain and conclusion: formulas.proof.prove)."""
        from formulas.proof import prove

        return [link.result for link in prove(self, seed=seed).links]

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
        self._aliases: dict[str, str] = {}
        self._claims: dict[str, Claim] = {}

    def register(self, formula: Formula) -> Formula:
        if formula.id in self._formulas or formula.id in self._aliases:
            raise ValueError(f"duplicate formula id {formula.id}")
        if formula.topic not in TOPICS:
            raise ValueError(f"{formula.id}: unknown topic {formula.topic}")
        if formula.id != formula.id.lower() or " " in formula.id or "_" in formula.id:
            raise ValueError(f"{formula.id}: ids are kebab-case")
        if formula.definition and formula.derivation_builder is not None:
            raise ValueError(f"{formula.id}: a definition has no derivation")
        self._formulas[formula.id] = formula
        for alias in formula.aliases:
            if alias in self._formulas or alias in self._aliases:
                raise ValueError(f"{formula.id}: alias {alias} is taken")
            self._aliases[alias] = formula.id
        return formula

    def register_claim(self, claim: Claim) -> Claim:
        if claim.id in self._claims:
            raise ValueError(f"duplicate claim id {claim.id}")
        if claim.topic not in TOPICS:
            raise ValueError(f"{claim.id}: unknown topic {claim.topic}")
        if claim.verdict not in ("correct", *SEVERITIES):
            raise ValueError(f"{claim.id}: verdict must be correct, error or typo")
        self._claims[claim.id] = claim
        return claim

    def get(self, formula_id: str) -> Formula:
        formula_id = self._aliases.get(formula_id, formula_id)
        try:
            return self._formulas[formula_id]
        except KeyError:
            raise UnknownNameError(
                "formula id", formula_id, closest(formula_id, self._formulas)
            ) from None

    def all(self) -> list[Formula]:
        return list(self._formulas.values())

    def aliases(self) -> dict[str, str]:
        return dict(self._aliases)

    def claim(self, claim_id: str) -> Claim:
        try:
            return self._claims[claim_id]
        except KeyError:
            raise UnknownNameError("claim id", claim_id, closest(claim_id, self._claims)) from None

    def claims(self) -> list[Claim]:
        return list(self._claims.values())


REGISTRY = Registry()


def register(formula: Formula) -> Formula:
    return REGISTRY.register(formula)


def register_claim(claim: Claim) -> Claim:
    return REGISTRY.register_claim(claim)


def as_float64(value: Any) -> Any:
    """Results are numpy float64 (arrays) or Python/numpy scalars of float64."""
    import numpy as np

    array = np.asarray(value, dtype=np.float64)
    return array if array.ndim else np.float64(array)
