"""Mutants of a correct formula: the mistakes students (and the sheet) actually make.

`mutants(expr)` returns `Mutant(expr, description)` records, each one plausible mistake:
- a flipped sign (of the whole or of one term),
- alpha for alpha-bar (a dropped bar) and the reverse,
- a dropped factor (1/2, a square root, one symbol of a product),
- swapped arguments (mu_1 <-> mu_2, q <-> p: the swapped KL) and an inverted ratio,
- an off-by-one index (x_t <-> x_{t-1}, n -> n + 1),
- squared vs not (sigma^2 for sigma, sqrt(a) for a).

They make multiple-choice distractors and spot-the-error lines, give specific feedback for
a wrong answer that equals a mutant, and `bank check` proves that each symbolic question
rejects every mutant of its answer. Mutants that sympy proves equal to the original (a sign
flip of 0, the square of 1) are dropped.
"""

from __future__ import annotations

import contextlib
import functools
import random
import re
from dataclasses import dataclass
from typing import Any

MAX_MUTANTS = 24


@dataclass(frozen=True)
class Mutant:
    expr: Any
    description: str


def _unbarred(name: str) -> str | None:
    """abar_t -> alpha_t, xbar -> x, x_bar_0 -> x_0; None when the name has no bar."""
    if name.startswith("abar"):
        return "alpha" + name[4:]
    match = re.match(r"^([A-Za-z]+?)_?bar(.*)$", name)
    if match:
        return match.group(1) + match.group(2)
    return None


def _barred(name: str) -> str | None:
    if name.startswith("alpha") and not name.startswith("alphabar"):
        return "abar" + name[5:]
    return None


def _index_shift(name: str) -> list[tuple[str, str]]:
    """x_t -> x_{t-1} and x_{t+1}; x_{t-1} -> x_t."""
    shifted: list[tuple[str, str]] = []
    match = re.match(r"^(.+)_(\{?)([a-z])(\}?)$", name)
    if match and match.group(2) == match.group(4):
        base, index = match.group(1), match.group(3)
        shifted.append((f"{base}_{{{index}-1}}", f"{index} where {index}-1 belongs"))
        shifted.append((f"{base}_{{{index}+1}}", f"{index} where {index}+1 belongs"))
    match = re.match(r"^(.+)_\{([a-z])([-+])1\}$", name)
    if match:
        base, index, _ = match.groups()
        shifted.append((f"{base}_{index}", f"{index} dropped its {match.group(3)}1"))
    return shifted


def _swap_pairs(symbols: list[Any]) -> list[tuple[dict, str]]:
    """Pairs of names that differ only in a 1/2, 0/1, q/p or p/q suffix: swap all at once."""
    by_name = {s.name: s for s in symbols}
    swaps: list[tuple[dict, str]] = []
    for left_tag, right_tag in (
        ("1", "2"),
        ("0", "1"),
        ("q", "p"),
        ("a", "b"),
        ("t", "tm1"),
        ("t", "{t-1}"),
        ("t", "p"),  # abar_p: "previous", alpha-bar_{t-1}
    ):
        mapping: dict = {}
        for name, symbol in by_name.items():
            for sep in ("_", ""):
                if name.endswith(sep + left_tag) and len(name) > len(sep + left_tag):
                    other = name[: -len(left_tag)] + right_tag
                    if other in by_name:
                        mapping[symbol] = by_name[other]
                        mapping[by_name[other]] = symbol
        if mapping:
            what = (
                "the indices t and t-1 swapped"
                if left_tag == "t"
                else f"arguments swapped ({left_tag} <-> {right_tag})"
            )
            swaps.append((mapping, what))
    return swaps


def raw_mutants(expr: Any) -> list[Mutant]:
    import sympy as sp

    found: list[Mutant] = []

    # A mutation sympy refuses (a power of a non-square matrix, say) is simply not a candidate.
    refused = contextlib.suppress(Exception)

    with refused:
        found.append(Mutant(-expr, "the sign flipped"))
    symbols = sorted(expr.free_symbols, key=lambda s: getattr(s, "name", str(s)))
    symbols = [s for s in symbols if isinstance(s, sp.Symbol)]

    # symbol-level mistakes
    for symbol in symbols:
        for rename, what in ((_unbarred(symbol.name), "bar dropped"), (_barred(symbol.name), "")):
            if rename:
                replacement = sp.Symbol(rename, **symbol.assumptions0)
                description = (
                    f"{rename} where {symbol.name} belongs (the bar dropped)"
                    if what
                    else f"{rename} where {symbol.name} belongs (a bar added)"
                )
                with refused:
                    found.append(Mutant(expr.xreplace({symbol: replacement}), description))
        for rename, what in _index_shift(symbol.name):
            replacement = sp.Symbol(rename, **symbol.assumptions0)
            with refused:
                found.append(
                    Mutant(expr.xreplace({symbol: replacement}), f"off-by-one index ({what})")
                )
        if symbol.is_integer:
            with refused:
                found.append(
                    Mutant(expr.xreplace({symbol: symbol + 1}), f"{symbol} + 1 for {symbol}")
                )
            with refused:
                found.append(
                    Mutant(expr.xreplace({symbol: symbol - 1}), f"{symbol} - 1 for {symbol}")
                )
    for mapping, description in _swap_pairs(symbols):
        with refused:
            found.append(Mutant(expr.xreplace(mapping), description))

    # structure-level mistakes, one node at a time
    for node in sp.preorder_traversal(expr):
        if node.is_Add:
            for term in node.args:
                with refused:
                    flipped = expr.xreplace({node: node.xreplace({term: -term})})
                    found.append(Mutant(flipped, f"the sign of {term} flipped"))
        if node.is_Mul:
            coefficient, rest = node.as_coeff_Mul()
            if coefficient not in (1, -1) and coefficient.is_Rational:
                sign = 1 if coefficient > 0 else -1
                with refused:
                    found.append(
                        Mutant(
                            expr.xreplace({node: rest * sign}), f"the factor {coefficient} dropped"
                        )
                    )
            factors = [f for f in node.args if not f.is_number]
            if len(factors) > 1:
                for factor in factors:
                    with refused:
                        dropped = expr.xreplace({node: node / factor})
                        found.append(Mutant(dropped, f"the factor {factor} dropped"))
        if node.is_Pow:
            base, exponent = node.args
            if exponent == 2:
                with refused:
                    found.append(Mutant(expr.xreplace({node: base}), f"{base} not squared"))
            elif exponent == sp.Rational(1, 2):
                with refused:
                    found.append(
                        Mutant(expr.xreplace({node: base}), f"the square root of {base} lost")
                    )
            elif exponent == -sp.Rational(1, 2):
                with refused:
                    found.append(
                        Mutant(expr.xreplace({node: 1 / base}), f"1/{base} for 1/sqrt({base})")
                    )
            elif exponent == -1 and not base.is_number:
                with refused:
                    found.append(
                        Mutant(expr.xreplace({node: base}), f"the ratio inverted ({base})")
                    )
    for symbol in symbols:
        squarable = symbol.name.startswith(("sigma", "s_")) or symbol.is_positive
        if squarable and not expr.has(symbol**2):
            with refused:
                found.append(Mutant(expr.xreplace({symbol: symbol**2}), f"{symbol}^2 for {symbol}"))
    return found


def mutants(expr: Any, limit: int = MAX_MUTANTS) -> list[Mutant]:
    """Distinct mutants of `expr` that really differ from it (cached per expression).

    A mutant equal to the original at random points (a sign flip of a zero term, the square
    of 1, abs of something positive) is no mistake and is dropped; the evaluation is cheaper
    than a symbolic proof and also catches equalities sympy cannot prove."""
    return list(_mutants(expr, limit))


@functools.lru_cache(maxsize=512)
def _mutants(expr: Any, limit: int) -> tuple[Mutant, ...]:
    from quizzes.equivalence import numeric_compare

    seen = {expr}
    result: list[Mutant] = []
    for mutant in raw_mutants(expr):
        if mutant.expr in seen:
            continue
        seen.add(mutant.expr)
        if mutant.expr - expr == 0 or numeric_compare(mutant.expr, expr, points=4).equal:
            continue
        result.append(mutant)
        if len(result) >= limit:
            break
    return tuple(result)


def distractors(expr: Any, rng: random.Random, count: int = 3) -> list[Mutant]:
    """`count` different mutants for a multiple-choice question, drawn with `rng`."""
    pool = mutants(expr)
    rng.shuffle(pool)
    return pool[:count]
