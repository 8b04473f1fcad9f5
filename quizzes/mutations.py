"""Mutants of a correct formula: the mistakes students (and the sheet) actually make.

`mutants(expr)` returns `Mutant(expr, description)` records, each one plausible mistake:
- a flipped sign (of the whole or of one term),
- alpha for alpha-bar (a dropped bar) and the reverse, in the spelling of alpha-bar the
  expression already uses (alphabar_t in registry statements, abar_t in plain-math answers),
- a dropped factor (1/2, a square root, one symbol of a product),
- swapped arguments (mu_1 <-> mu_2, q <-> p: the swapped KL) and an inverted ratio,
- an off-by-one index (x_t <-> x_{t-1}, beta_1 -> beta_2, n -> n + 1), for the index
  subscripts of INDEX_SUBSCRIPTS and numbers only, never labels (p_d, mu_q),
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
    # what kind of mistake: sign (the whole expression), term-sign, bar, index, swap,
    # coefficient (a number dropped), factor (a symbol dropped), power, ratio, shift
    kind: str = ""


# The mistakes students make while knowing the formula's shape (alpha for alpha-bar, swapped
# KL arguments, an index off by one, a lost 1/2 or square); a flipped overall sign or a dropped
# symbol (which breaks the dimensions) can be spotted without knowing the formula, so a
# spot-the-error item never uses them as its only wrong line.
KNOWLEDGE_KINDS = frozenset({"term-sign", "bar", "index", "swap", "coefficient", "power", "ratio"})


def tests_knowledge(mutant: Mutant) -> bool:
    return mutant.kind in KNOWLEDGE_KINDS


# The two spellings of alpha-bar: the registry's statements name it `alphabar_t` (which sympy
# renders as \bar{\alpha}_t), the quiz's plain-math answers `abar_t`. A bar added to alpha_t
# takes the spelling the expression already uses, so that a mutant never holds both names.
REGISTRY_BAR = "alphabar"
PLAIN_BAR = "abar"

# Subscripts that are indices (time, step, summation), so that x_{t-1} for x_t is a real
# off-by-one mistake; any other single letter is a label (p_d, p_m, mu_q, sigma_p, z_x), and a
# "label - 1" teaches nothing. Numeric subscripts (x_0, beta_1) are indices too.
INDEX_SUBSCRIPTS = frozenset("tijklns")


def _unbarred(name: str) -> str | None:
    """abar_t -> alpha_t, alphabar_t -> alpha_t, xbar -> x, x_bar_0 -> x_0; None when the name
    has no bar."""
    if name.startswith("abar"):
        return "alpha" + name[4:]
    match = re.match(r"^([A-Za-z]+?)_?bar(.*)$", name)
    if match:
        return match.group(1) + match.group(2)
    return None


def bar_family(names: Any) -> str:
    """The spelling of alpha-bar among `names`: PLAIN_BAR when they use abar_*, else the
    registry's REGISTRY_BAR (also when no name has a bar: the parser reads either spelling)."""
    names = list(names)
    if any(n.startswith(PLAIN_BAR) for n in names) and not any(
        n.startswith(REGISTRY_BAR) for n in names
    ):
        return PLAIN_BAR
    return REGISTRY_BAR


def _barred(name: str, family: str = REGISTRY_BAR) -> str | None:
    """alpha_t -> alphabar_t (family REGISTRY_BAR) or abar_t (family PLAIN_BAR); None for a
    name that is not an unbarred alpha."""
    if family not in (REGISTRY_BAR, PLAIN_BAR):
        raise ValueError(f"unknown alpha-bar spelling {family!r}")
    if name.startswith("alpha") and not name.startswith(REGISTRY_BAR):
        return family + name[5:]
    return None


def _index_shift(name: str) -> list[tuple[str, str]]:
    """x_t -> x_{t-1} and x_{t+1}; x_{t-1} -> x_t; beta_1 -> beta_0 and beta_2. Only for the
    index subscripts of INDEX_SUBSCRIPTS and numbers, never for labels (p_d, mu_q)."""
    shifted: list[tuple[str, str]] = []
    match = re.match(r"^(.+)_(\{?)([a-z])(\}?)$", name)
    # x_t or x_{t}: both braces or neither
    balanced = match is not None and bool(match.group(2)) == bool(match.group(4))
    if match and balanced and match.group(3) in INDEX_SUBSCRIPTS:
        base, index = match.group(1), match.group(3)
        shifted.append((f"{base}_{{{index}-1}}", f"{index} where {index}-1 belongs"))
        shifted.append((f"{base}_{{{index}+1}}", f"{index} where {index}+1 belongs"))
    match = re.match(r"^(.+)_\{([a-z])([-+])1\}$", name)
    if match and match.group(2) in INDEX_SUBSCRIPTS:
        base, index, _ = match.groups()
        shifted.append((f"{base}_{index}", f"{index} dropped its {match.group(3)}1"))
    match = re.match(r"^(.+)_(\{?)(\d+)(\}?)$", name)
    if match and bool(match.group(2)) == bool(match.group(4)):
        base, open_, digits, close = match.groups()
        number = int(digits)
        for other in (number - 1, number + 1):
            if other >= 0:
                shifted.append((f"{base}_{open_}{other}{close}", f"{other} where {number} belongs"))
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
        found.append(Mutant(-expr, "the sign flipped", "sign"))
    symbols = sorted(expr.free_symbols, key=lambda s: getattr(s, "name", str(s)))
    symbols = [s for s in symbols if isinstance(s, sp.Symbol)]

    # symbol-level mistakes
    family = bar_family(s.name for s in symbols)
    for symbol in symbols:
        renames = ((_unbarred(symbol.name), "bar dropped"), (_barred(symbol.name, family), ""))
        for rename, what in renames:
            if rename:
                replacement = sp.Symbol(rename, **symbol.assumptions0)
                description = (
                    f"{rename} where {symbol.name} belongs (the bar dropped)"
                    if what
                    else f"{rename} where {symbol.name} belongs (a bar added)"
                )
                with refused:
                    found.append(Mutant(expr.xreplace({symbol: replacement}), description, "bar"))
        for rename, what in _index_shift(symbol.name):
            replacement = sp.Symbol(rename, **symbol.assumptions0)
            with refused:
                found.append(
                    Mutant(
                        expr.xreplace({symbol: replacement}), f"off-by-one index ({what})", "index"
                    )
                )
        if symbol.is_integer:
            with refused:
                found.append(
                    Mutant(
                        expr.xreplace({symbol: symbol + 1}), f"{symbol} + 1 for {symbol}", "shift"
                    )
                )
            with refused:
                found.append(
                    Mutant(
                        expr.xreplace({symbol: symbol - 1}), f"{symbol} - 1 for {symbol}", "shift"
                    )
                )
    for mapping, description in _swap_pairs(symbols):
        with refused:
            found.append(Mutant(expr.xreplace(mapping), description, "swap"))

    # structure-level mistakes, one node at a time
    for node in sp.preorder_traversal(expr):
        if node.is_Add:
            # Rebuild the sum with this one argument negated: xreplace({term: -term}) would
            # also negate every other copy of the term inside the node (a 1 in a sum's limits).
            for position, term in enumerate(node.args):
                with refused:
                    terms = [-a if i == position else a for i, a in enumerate(node.args)]
                    flipped = expr.xreplace({node: sp.Add(*terms)})
                    found.append(Mutant(flipped, f"the sign of {term} flipped", "term-sign"))
        if node.is_Mul:
            coefficient, rest = node.as_coeff_Mul()
            if coefficient not in (1, -1) and coefficient.is_Rational:
                sign = 1 if coefficient > 0 else -1
                with refused:
                    found.append(
                        Mutant(
                            expr.xreplace({node: rest * sign}),
                            f"the factor {coefficient} dropped",
                            "coefficient",
                        )
                    )
            factors = [f for f in node.args if not f.is_number]
            if len(factors) > 1:
                for factor in factors:
                    with refused:
                        dropped = expr.xreplace({node: node / factor})
                        found.append(Mutant(dropped, f"the factor {factor} dropped", "factor"))
        if node.is_Pow:
            base, exponent = node.args
            if exponent == 2:
                with refused:
                    found.append(
                        Mutant(expr.xreplace({node: base}), f"{base} not squared", "power")
                    )
            elif exponent == sp.Rational(1, 2):
                with refused:
                    found.append(
                        Mutant(
                            expr.xreplace({node: base}), f"the square root of {base} lost", "power"
                        )
                    )
            elif exponent == -sp.Rational(1, 2):
                with refused:
                    found.append(
                        Mutant(
                            expr.xreplace({node: 1 / base}), f"1/{base} for 1/sqrt({base})", "power"
                        )
                    )
            elif exponent == -1 and not base.is_number:
                with refused:
                    found.append(
                        Mutant(expr.xreplace({node: base}), f"the ratio inverted ({base})", "ratio")
                    )
    for symbol in symbols:
        squarable = symbol.name.startswith(("sigma", "s_")) or symbol.is_positive
        if squarable and not expr.has(symbol**2):
            with refused:
                found.append(
                    Mutant(expr.xreplace({symbol: symbol**2}), f"{symbol}^2 for {symbol}", "power")
                )
    return found


def mutants(expr: Any, limit: int = MAX_MUTANTS) -> list[Mutant]:
    """Distinct mutants of `expr` that really differ from it (cached per expression).

    A mutant equal to the original at random points (a sign flip of a zero term, the square
    of 1, abs of something positive) is no mistake and is dropped; the evaluation is cheaper
    than a symbolic proof and also catches equalities sympy cannot prove."""
    return list(_mutants(expr, limit))


@functools.lru_cache(maxsize=512)
def _mutants(expr: Any, limit: int) -> tuple[Mutant, ...]:
    import sympy as sp

    from quizzes.equivalence import numeric_compare

    if expr.has(sp.MatrixSymbol) or getattr(expr, "is_Matrix", False):
        # Matrix statements keep their products' order (MatrixSymbol); the scalar mutations
        # (and the scalar point evaluation that screens them) do not apply to them.
        return ()
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
