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


def numeric_compare(
    given: Any,
    expected: Any,
    assumptions: dict[str, str] | None = None,
    seed: int = 0,
    points: int = POINTS,
) -> Verdict:
    """Evaluate both at random points; unequal at one point means not equivalent."""
    assumptions = assumptions or {}
    symbols = sorted(given.free_symbols | expected.free_symbols, key=lambda s: s.name)
    rng = random.Random(seed)
    compared = 0
    for _ in range(points * 3):
        if compared >= points:
            break
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
    given: Any, expected: Any, assumptions: dict[str, str] | None = None, seed: int = 0
) -> Verdict:
    """Symbolic first (cheap rewrites, then simplify), random points as the fallback."""
    difference = given - expected
    if symbolic_zero(difference, full=False):
        return Verdict(True, "symbolic", "simplify(given - expected) == 0")
    screen = numeric_compare(given, expected, assumptions, seed=seed)
    if not screen.equal:
        return screen
    if symbolic_zero(difference, full=True):
        return Verdict(True, "symbolic", "simplify(given - expected) == 0")
    return screen
