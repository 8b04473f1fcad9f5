"""Math in a terminal: sympy's 2D pretty form when it fits, else one readable Unicode line
(`ᾱ`, `√`, `Σ`, `∫`, `·`, superscripts; never sympy code like `Integral(sqrt(2)*...`) wrapped
at operators with a hanging indent.

    render.fit_expression(expr, width=80, indent=4)   # str, every line <= width
    render.wrap_hanging(text, width=80, indent=4)     # any text, broken at operators/spaces
    render.terminal_width(override=None)              # --width, else the terminal, else 80

`derive`, `errata` and `show` print through these, so a formula never wraps mid-symbol and a
wide one never turns into a wall of wrap marks.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import Any

GREEK = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "eps": "ε",
    "varepsilon": "ε",
    "zeta": "ζ",
    "eta": "η",
    "theta": "θ",
    "iota": "ι",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "ν",
    "xi": "ξ",
    "pi": "π",
    "rho": "ρ",
    "sigma": "σ",
    "tau": "τ",
    "phi": "φ",
    "varphi": "φ",
    "chi": "χ",
    "psi": "ψ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Sigma": "Σ",
    "Phi": "Φ",
    "Psi": "Ψ",
    "Omega": "Ω",
    "nabla": "∇",
}
DECORATED = {"alphabar": "ᾱ", "abar": "ᾱ", "alpha_bar": "ᾱ"}
SUPERSCRIPT = str.maketrans("0123456789-+()n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁽⁾ⁿ")
SUBSCRIPT = str.maketrans("0123456789-+()", "₀₁₂₃₄₅₆₇₈₉₋₊₍₎")


def terminal_width(override: int | None = None) -> int:
    """--width if given, else $COLUMNS / the terminal's width, else 80 (never below 30)."""
    if override:
        return max(30, int(override))
    columns = os.environ.get("COLUMNS")
    if columns and columns.isdigit():
        return max(30, int(columns))
    return max(30, shutil.get_terminal_size((80, 24)).columns)


COMBINING = {"tilde": "\u0303", "hat": "\u0302", "bar": "\u0304"}


def unicode_name(name: str) -> str:
    """A registry symbol name as a reader writes it: alphabar_{t-1} -> ᾱ_{t-1}, sigma_q -> σ_q,
    mu_tilde_t -> μ̃_t, x_hat_i -> x̂_i."""
    for spelled, letter in DECORATED.items():
        if name == spelled or name.startswith(spelled + "_"):
            return letter + unicode_name_rest(name[len(spelled) :])
    head, sep, rest = name.partition("_")
    mark = ""
    decoration, _, after = rest.partition("_")
    if decoration in COMBINING:
        mark, rest, sep = COMBINING[decoration], after, "_" if after else ""
    return GREEK.get(head, head) + mark + (unicode_name_rest(sep + rest) if sep else "")


def unicode_name_rest(rest: str) -> str:
    """The subscript part: digits become subscript digits when that is all there is."""
    if not rest:
        return ""
    inner = rest[1:].strip("{}")
    if re.fullmatch(r"[0-9+\-()]+", inner):
        return inner.translate(SUBSCRIPT)
    words = [GREEK.get(word, word) for word in re.split(r"(\W)", inner)]
    return "_" + "".join(words) if len(inner) == 1 else "_{" + "".join(words) + "}"


def _printer():
    """A sympy StrPrinter that writes one Unicode line (built lazily: sympy is heavy)."""
    import sympy as sp
    from sympy.printing.precedence import PRECEDENCE, precedence
    from sympy.printing.str import StrPrinter

    class UnicodeLinePrinter(StrPrinter):
        def _print_Symbol(self, expr):
            return unicode_name(expr.name)

        _print_MatrixSymbol = _print_Symbol

        def _print_Dummy(self, expr):
            return unicode_name(expr.name)

        def _print_Pow(self, expr, rational=False):
            base, exponent = expr.as_base_exp()
            if exponent == sp.Rational(1, 2):
                return f"√({self._print(base)})"
            if exponent == -sp.Rational(1, 2):
                return f"1/√({self._print(base)})"
            if exponent.is_negative and exponent.is_Rational:
                positive = self._print(sp.Pow(base, -exponent, evaluate=False))
                return (
                    f"1/{positive}"
                    if exponent != -1
                    else f"1/{self.parenthesize(base, PRECEDENCE['Pow'])}"
                )
            shown_base = self.parenthesize(base, PRECEDENCE["Pow"], strict=True)
            if exponent.is_Integer and int(exponent) >= 0:
                return shown_base + str(exponent).translate(SUPERSCRIPT)
            return f"{shown_base}^{self.parenthesize(exponent, PRECEDENCE['Pow'], strict=True)}"

        def _print_Mul(self, expr):
            text = super()._print_Mul(expr)
            return text.replace("*", "·")

        def _print_MatMul(self, expr):
            return "·".join(self.parenthesize(arg, precedence(expr)) for arg in expr.args)

        def _print_Transpose(self, expr):
            return self.parenthesize(expr.arg, PRECEDENCE["Pow"]) + "ᵀ"

        def _print_Exp1(self, expr):
            return "e"

        def _print_Pi(self, expr):
            return "π"

        def _print_Infinity(self, expr):
            return "∞"

        def _print_NegativeInfinity(self, expr):
            return "-∞"

        def _print_exp(self, expr):
            return f"exp({self._print(expr.args[0])})"

        def _print_Abs(self, expr):
            return f"|{self._print(expr.args[0])}|"

        def _print_Function(self, expr):
            name = unicode_name(expr.func.__name__)
            return f"{name}({', '.join(self._print(arg) for arg in expr.args)})"

        def _limits(self, limits) -> str:
            parts = []
            for limit in limits:
                if len(limit) == 3:
                    variable, low, high = limit
                    parts.append(
                        f"_{{{self._print(variable)}={self._print(low)}}}^{{{self._print(high)}}}"
                    )
            return "".join(parts)

        def _print_Sum(self, expr):
            body = self.parenthesize(expr.function, PRECEDENCE["Mul"])
            return f"Σ{self._limits(expr.limits)} {body}"

        def _print_Product(self, expr):
            body = self.parenthesize(expr.function, PRECEDENCE["Mul"])
            return f"Π{self._limits(expr.limits)} {body}"

        def _print_Integral(self, expr):
            text = "∫"
            variables = []
            for limit in expr.limits:
                variables.append(self._print(limit[0]))
                if len(limit) == 3:
                    text += f"_{{{self._print(limit[1])}}}^{{{self._print(limit[2])}}}"
            body = self.parenthesize(expr.function, PRECEDENCE["Mul"])
            return f"{text} {body} " + " ".join(f"d{v}" for v in variables)

        def _print_Derivative(self, expr):
            variables = "".join(
                f"d{self._print(v)}" for v, count in expr.variable_count for _ in range(count)
            )
            return f"d/{variables} {self.parenthesize(expr.expr, PRECEDENCE['Mul'])}"

        def _print_Relational(self, expr):
            symbol = {"==": "=", "<=": "≤", ">=": "≥", "!=": "≠"}.get(expr.rel_op, expr.rel_op)
            return f"{self._print(expr.lhs)} {symbol} {self._print(expr.rhs)}"

        def _print_Piecewise(self, expr):
            pieces = []
            for value, condition in expr.args:
                shown = "otherwise" if condition is sp.true else f"if {self._print(condition)}"
                pieces.append(f"{self._print(value)} {shown}")
            return "{ " + "; ".join(pieces) + " }"

        def _print_Indexed(self, expr):
            indices = ",".join(self._print(index) for index in expr.indices)
            return f"{unicode_name(str(expr.base.label))}_{{{indices}}}"

    return UnicodeLinePrinter(dict(order="none"))


def unicode_line(expr: Any) -> str:
    """One readable line for a sympy expression or relation."""
    return _printer().doprint(expr)


# --------------------------------------------------------------------------------------------
# Wrapping

# Break points, best first: a relation, then + / -, then a product dot, then any space.
_BREAKS = (" = ", " ≤ ", " ≥ ", " + ", " - ", "·", " ")


def _depth_map(text: str) -> list[int]:
    depth, depths = 0, []
    for char in text:
        if char in "([{":
            depth += 1
        depths.append(depth)
        if char in ")]}":
            depth = max(0, depth - 1)
    return depths


def _best_break(text: str, limit: int) -> int | None:
    """Where to break `text` (<= limit): the shallowest operator (inside the fewest brackets),
    the rightmost of those, and not in the first third of the line; then a space; None when
    nothing fits."""
    depths = _depth_map(text)
    floor = limit // 3
    candidates: list[tuple[int, int, int]] = []  # (depth, space?, -position)
    for operator in _BREAKS:
        start = 0
        while True:
            index = text.find(operator, start)
            if index < 0 or index > limit:
                break
            if index >= floor:
                cut = index + (1 if operator[0] == " " else 0)
                rank = 0 if operator != " " else 1
                candidates.append((depths[index], rank, -cut))
            start = index + 1
    if not candidates:
        return None
    depth, rank, negative_cut = min(candidates)
    return -negative_cut


def wrap_hanging(text: str, width: int = 80, indent: int = 4, first_indent: int = 0) -> str:
    """Math `text` broken into lines of at most `width` columns at operators (then spaces, then,
    only when nothing else fits, anywhere); continuation lines get a hanging indent."""
    lines = []
    prefix = " " * first_indent
    rest = text.strip()
    hanging = " " * (first_indent + indent)
    while rest:
        room = max(10, width - len(prefix))
        if len(rest) <= room:
            lines.append(prefix + rest)
            break
        cut = _best_break(rest, room) or room
        lines.append(prefix + rest[:cut].rstrip())
        rest = rest[cut:].strip()
        prefix = hanging
    return "\n".join(lines)


def wrap_words(text: str, width: int = 80, indent: int = 4) -> str:
    """Prose wrapped at spaces, continuation lines under the first word after a label."""
    import textwrap

    label, gap, body = re.match(r"(\S*:?)(\s*)(.*)", text, re.S).groups()
    return textwrap.fill(
        label + gap + " ".join(body.split()),
        width=width,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _renamed(expr: Any) -> Any:
    """`expr` with each symbol renamed as a reader writes it (mu_tilde_t -> μ̃_t, alphabar_t ->
    ᾱ_t) so that sympy's 2D printer shows the course's notation too."""
    import sympy as sp

    try:
        symbols = expr.atoms(sp.Symbol)
    except AttributeError:
        return expr
    swaps = {}
    for symbol in symbols:
        if isinstance(symbol, sp.Dummy):
            continue
        name = unicode_name(symbol.name).replace("{", "").replace("}", "")
        if name != symbol.name:
            swaps[symbol] = sp.Symbol(name, **symbol.assumptions0)
    return expr.xreplace(swaps) if swaps else expr


def fit_expression(expr: Any, width: int | None = None, indent: int = 4) -> str:
    """The 2D pretty form when every line fits in `width - indent` columns, else the one-line
    Unicode form wrapped with a hanging indent. `expr` is a sympy object, or a rendered dict
    with "pretty" and "text" (a cached derivation step), or plain text."""
    width = terminal_width(width)
    if isinstance(expr, dict):
        pretty, line = expr.get("pretty") or "", expr.get("unicode") or expr.get("text") or ""
    elif isinstance(expr, str):
        pretty, line = "", expr
    else:
        import sympy as sp

        pretty = sp.pretty(_renamed(expr), use_unicode=True, wrap_line=False)
        line = unicode_line(expr)
    room = width - indent
    if pretty and max(len(row) for row in pretty.split("\n")) <= room:
        return "\n".join(" " * indent + row for row in pretty.split("\n"))
    return wrap_hanging(line, width=width, indent=4, first_indent=indent)
