"""Are two expressions the same? Symbolic proof first, evaluation at random points second.

`equivalent(given, expected, symbols)` returns a `Verdict` that says which method decided:
- "symbolic": sympy proved given - expected == 0 (expand/cancel, then simplify) under the
  question's assumptions;
- "numeric": the two were evaluated at random points drawn from the assumptions (positive
  names positive, integers integers, "unit" names in (0, 1)) at 30 digits. Different at one
  point is a proof of difference; equal at every point is strong evidence of equality when
  sympy cannot finish the proof.

A cheap numeric screen runs before simplify, so a wrong answer never pays for simplify.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import Any

POINTS = 6
RELATIVE_GAP = 1e-9


@dataclass(frozen=True)
class Verdict:
    equal: bool
    method: str  # "symbolic" | "numeric"
    detail: str = ""


# Positive names that are fractions in (0, 1) in this course (alpha_t, alpha-bar_t, beta_t):
# drawing them there keeps counterexamples meaningful (sqrt(1 - abar_t) stays real).
UNIT_STEMS = ("abar", "alphabar", "alpha", "a", "beta", "b")


def _unit_like(symbol: Any) -> bool:
    return bool(symbol.is_positive) and symbol.name.split("_")[0] in UNIT_STEMS


def sample_value(symbol: Any, rng: random.Random, assumption: str | None = None) -> Any:
    """A random value respecting the symbol's assumptions (exact rationals, no 0 or 1 traps)."""
    import sympy as sp

    if assumption == "unit" or (assumption in (None, "positive") and _unit_like(symbol)):
        return sp.Rational(rng.randint(5, 95), 100) + sp.Rational(rng.randint(1, 9), 1000)
    if symbol.is_integer:
        low = 1 if symbol.is_positive else (0 if symbol.is_nonnegative else -6)
        high = -1 if symbol.is_negative else 7
        return sp.Integer(rng.randint(low, high))
    fine = sp.Rational(rng.randint(1, 997), 1000 * 7)  # breaks ties such as x = 1 or x = y
    if symbol.is_positive:
        return sp.Rational(rng.randint(20, 300), 100) + fine
    if symbol.is_nonnegative:
        return sp.Rational(rng.randint(0, 300), 100) + fine
    if symbol.is_negative:
        return -sp.Rational(rng.randint(20, 300), 100) - fine
    return sp.Rational(rng.randint(-300, 300), 100) + fine


def _kind(expr: Any) -> str:
    """What an answer is, in the words of a feedback line: 'a number' or 'a 2 x 1 matrix'."""
    if not getattr(expr, "is_Matrix", False):
        return "a number"
    rows, columns = expr.shape
    return f"a {rows} x {columns} matrix"


def kind_mismatch(given: Any, expected: Any) -> str | None:
    """Why `given` cannot be `expected` whatever its entries: a matrix where a number is
    expected, a number where a matrix is, or matrices of two shapes (None when the kinds agree).
    sympy refuses to subtract these (Matrix - x is a TypeError, a shape clash a ShapeError), so
    the marker asks this first and the student reads a verdict, not a traceback."""
    given_kind, expected_kind = _kind(given), _kind(expected)
    if given_kind == expected_kind:
        return None
    return f"{given_kind} where {expected_kind} is expected"


def _value(expr: Any, point: dict) -> complex | None:
    return _cached_value(expr, tuple(sorted(point.items(), key=lambda item: item[0].name)))


@functools.lru_cache(maxsize=8192)
def _cached_value(expr: Any, point: tuple) -> complex | None:
    """The value at a point, cached: the expected answer and its mutants are evaluated at the
    same seeded points for every answer, and a given answer once for all mutants."""
    import sympy as sp

    if expr.has(sp.Sum, sp.Product, sp.Integral, sp.Derivative, sp.Limit):
        # Registry statements (never parsed answers) can hold these; evaluating one at a point
        # can take seconds (Euler-Maclaurin), so they count as "cannot evaluate here".
        return None
    try:
        value = sp.N(expr.xreplace(dict(point)), 30)
        if not value.is_number or value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            return None
        number = complex(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError):
        return None
    if number != number or abs(number) > 1e250:  # NaN or beyond what a float compares
        return None
    return number


# --------------------------------------------------------------------------------------------
# A question's domain: identities between its symbols and constraints on their values


RELATION_TOKENS = ("<=", ">=", "<", ">")


def _split_chain(text: str) -> tuple[list[str], list[str]]:
    """ "0 < abar_t <= a_t < 1" -> (["0", "abar_t", "a_t", "1"], ["<", "<=", "<"])."""
    import re

    parts = re.split(r"(<=|>=|<|>)", text)
    terms = [part.strip() for part in parts[0::2]]
    relations = parts[1::2]
    if len(terms) < 2 or any(not term for term in terms):
        raise ValueError(f"constraint {text!r}: write a chain such as 0 < abar_t <= a_t < 1")
    if any(r in ("<", "<=") for r in relations) and any(r in (">", ">=") for r in relations):
        raise ValueError(f"constraint {text!r}: a chain goes one way (all < or all >)")
    if relations[0] in (">", ">="):
        terms, relations = terms[::-1], [r.replace(">", "<") for r in relations[::-1]]
    return terms, relations


@dataclass(frozen=True)
class Domain:
    """Where a question's symbols live beyond their assumptions.

    identities: (symbol, expression) pairs, "b_t = 1 - a_t": both sides of a comparison are
      rewritten with them, so every form they allow is the same answer;
    chains: ascending chains of terms, "0 < abar_t <= a_t < 1": random points satisfy them."""

    identities: tuple[tuple[Any, Any], ...] = ()
    chains: tuple[tuple[tuple[Any, ...], tuple[str, ...]], ...] = ()

    def rewrite(self, expr: Any) -> Any:
        for _ in range(len(self.identities) + 1):
            before = expr
            expr = expr.xreplace(dict(self.identities))
            if expr == before:
                break
        return expr

    def holds(self, point: dict) -> bool:
        """Every chain holds at `point` (identities applied first)."""
        import sympy as sp

        for terms, relations in self.chains:
            values = []
            for term in terms:
                value = self.rewrite(term).xreplace(point)
                try:
                    values.append(float(sp.N(value, 20)))
                except (TypeError, ValueError):
                    return False
            for left, relation, right in zip(values, relations, values[1:]):
                if left > right or (relation == "<" and left == right):
                    return False
        return True


def domain(
    identities: tuple[str, ...] = (), constraints: tuple[str, ...] = (), symbols=None
) -> Domain:
    """The Domain of a question from its declared texts (read by the answer parser, never
    evaluated as code); ValueError naming the text that does not read."""
    from quizzes.parser import AnswerError, parse

    symbols = symbols or {}
    pairs = []
    for text in identities:
        left, equals, right = text.partition("=")
        try:
            lhs, rhs = parse(left, symbols), parse(right, symbols)
        except AnswerError as error:
            raise ValueError(f"identity {text!r}: {error}") from None
        if not equals or not getattr(lhs, "is_Symbol", False):
            raise ValueError(f"identity {text!r}: write name = expression")
        pairs.append((lhs, rhs))
    chains = []
    for text in constraints:
        terms, relations = _split_chain(text)
        try:
            parsed = tuple(parse(term, symbols) for term in terms)
        except AnswerError as error:
            raise ValueError(f"constraint {text!r}: {error}") from None
        chains.append((parsed, tuple(relations)))
    return Domain(tuple(pairs), tuple(chains))


def _chain_point(domain: Domain, symbols: list, rng: random.Random, assumptions) -> dict:
    """A random point: each chain's free symbols drawn between its numeric ends and sorted
    into the chain's order; the rest from their assumptions; redrawn until every chain holds."""
    import sympy as sp

    for _ in range(200):
        point = {s: sample_value(s, rng, assumptions.get(s.name)) for s in symbols}
        for terms, _relations in domain.chains:
            names = [t for t in terms if t.is_Symbol and t in point]
            if len(names) != len([t for t in terms if not t.is_number]):
                continue  # a chain of expressions: rejection only
            numbers = [float(t) for t in terms if t.is_number]
            low = min(numbers) if numbers and terms[0].is_number else None
            high = max(numbers) if numbers and terms[-1].is_number else None
            span_low = low if low is not None else (high - 3 if high is not None else -3)
            span_high = high if high is not None else span_low + 3
            drawn = sorted(
                sp.Rational(rng.randint(1, 999), 1000) * sp.nsimplify(span_high - span_low)
                + sp.nsimplify(span_low)
                for _ in names
            )
            point.update(zip(names, drawn))
        if domain.holds(point):
            return point
    raise ValueError("no random point satisfies the question's constraints")


def numeric_compare(
    given: Any,
    expected: Any,
    assumptions: dict[str, str] | None = None,
    seed: int = 0,
    points: int = POINTS,
    where: Domain | None = None,
) -> Verdict:
    """Evaluate both at random points (inside `where`, after its identities); unequal at one
    point means not equivalent."""
    assumptions = assumptions or {}
    mismatch = kind_mismatch(given, expected)
    if mismatch is not None:
        return Verdict(False, "symbolic", mismatch)
    if where is not None:
        given, expected = where.rewrite(given), where.rewrite(expected)
    symbols = sorted(given.free_symbols | expected.free_symbols, key=lambda s: s.name)
    if where is not None:
        for terms, _ in where.chains:
            for term in terms:
                symbols.extend(s for s in where.rewrite(term).free_symbols if s not in symbols)
    rng = random.Random(seed)
    compared = 0
    for _ in range(points * 3):
        if compared >= points:
            break
        if where is not None and where.chains:
            point = _chain_point(where, symbols, rng, assumptions)
        else:
            point = {s: sample_value(s, rng, assumptions.get(s.name)) for s in symbols}
        left, right = _value(given, point), _value(expected, point)
        if left is None or right is None:
            if (left is None) != (right is None):
                shown = {str(k): str(v) for k, v in point.items()}
                return Verdict(False, "numeric", f"defined differently at {shown}")
            continue
        compared += 1
        gap = abs(left - right) / max(1.0, abs(right))
        if gap > RELATIVE_GAP:
            shown = ", ".join(f"{k}={float(v):.4g}" for k, v in point.items())
            return Verdict(
                False,
                "numeric",
                f"differs at {shown or 'every point'}: {_fmt(left)} vs {_fmt(right)}",
            )
    if compared == 0:
        return Verdict(False, "numeric", "could not evaluate at any random point")
    return Verdict(True, "numeric", f"equal at {compared} random points (30 digits)")


def _fmt(value: complex) -> str:
    if abs(value.imag) < 1e-12:
        return f"{value.real:.6g}"
    return f"{value.real:.4g}{value.imag:+.4g}i"


def symbolic_zero(difference: Any, full: bool = True) -> bool:
    """True when sympy proves the difference is zero (cheap rewrites first)."""
    import sympy as sp

    if difference == 0:
        return True
    try:
        if sp.expand(difference) == 0 or sp.cancel(difference) == 0:
            return True
        if full:
            return sp.simplify(difference) == 0
    except Exception:  # noqa: BLE001 - sympy raises many kinds on odd input
        return False
    return False


def equivalent(
    given: Any,
    expected: Any,
    assumptions: dict[str, str] | None = None,
    seed: int = 0,
    where: Domain | None = None,
) -> Verdict:
    """Symbolic first (cheap rewrites, then simplify), random points as the fallback; both
    inside the question's Domain `where` (its identities substituted, its constraints kept)."""
    import sympy as sp

    mismatch = kind_mismatch(given, expected)
    if mismatch is not None:
        return Verdict(False, "symbolic", mismatch)
    if isinstance(given, sp.MatrixBase) and isinstance(expected, sp.MatrixBase):
        return _entrywise(given, expected, assumptions, seed, where)
    if where is not None:
        given, expected = where.rewrite(given), where.rewrite(expected)
    difference = given - expected
    if symbolic_zero(difference, full=False):
        return Verdict(True, "symbolic", "simplify(given - expected) == 0")
    screen = numeric_compare(given, expected, assumptions, seed=seed, where=where)
    if not screen.equal:
        return screen
    if symbolic_zero(difference, full=True):
        return Verdict(True, "symbolic", "simplify(given - expected) == 0")
    return screen


def _entrywise(
    given: Any, expected: Any, assumptions: Any, seed: int, where: Domain | None
) -> Verdict:
    """Two explicit matrices of one shape: equal when every entry is (sympy's Matrix - Matrix
    is a matrix, which neither simplify nor a random point reduces to one number)."""
    methods = set()
    for number, (left, right) in enumerate(zip(given, expected)):
        verdict = equivalent(left, right, assumptions, seed=seed, where=where)
        if not verdict.equal:
            row, column = divmod(number, expected.shape[1])
            return Verdict(
                False, verdict.method, f"entry ({row + 1}, {column + 1}): {verdict.detail}"
            )
        methods.add(verdict.method)
    method = "numeric" if "numeric" in methods else "symbolic"
    return Verdict(True, method, f"equal entry by entry ({given.shape[0]} x {given.shape[1]})")


_DOMAINS: dict[tuple, Domain | None] = {}


def question_domain(question: Any, symbols: dict[str, str]) -> Domain | None:
    """The Domain a question declares (None when it declares none), cached per question."""
    if not question.identities and not question.constraints:
        return None
    key = (question.id, question.identities, question.constraints, tuple(sorted(symbols.items())))
    if key not in _DOMAINS:
        _DOMAINS[key] = domain(question.identities, question.constraints, symbols)
    return _DOMAINS[key]
