"""The safe answer parser: plain math, LaTeX and Unicode in, a sympy expression out.

Nothing the student types is evaluated. The text goes through three small steps of our own:

1. `normalize`: Unicode (`ᾱ`, `√`, `·`, `²`, Greek letters, full-width forms by NFKC) and
   LaTeX (`\\frac{a}{b}`, `\\sqrt{..}`, `\\bar\\alpha_t`, `\\cdot`, `\\left(`, and the sheet's
   notation: `\\sum_{i=1}^{n}`, `\\prod`, `\\int_a^b .. dx`, `\\mathbb{E}_{q}[..]`, `\\|x\\|`,
   `x^\\top`, `\\operatorname{sg}[..]`, `\\text{..}`, `pmatrix`) are rewritten to the plain syntax.
2. `tokenize`: numbers, names (with `_t` / `_{t-1}` subscripts), operators, parentheses.
3. `Parser`: a recursive-descent parser over a fixed grammar that builds sympy directly
   from a whitelist: numbers, the question's declared symbols, a few functions (sqrt, exp,
   log, sin, cos, tanh, sigmoid, ...), + - * / ^ ** and unary minus, implicit products,
   sums/products/integrals over a bound index, expectations, norms, transposes and matrices,
   and the sheet's structures (issue 12): tuples (4C, H/2, W/2); set-builders
   {x \\in \\mathbb{R}^3 : f(x) = 0} (ConditionSet); step brackets [x > 0], [x \\geq 0]
   (Heaviside); the evaluation bar \\left. df/du \\right|_{u = g(x)} and f'(g(x)) (Subs);
   a 1 x 1 product v^T A^{-1} u beside a number as that number; functions passed as arguments,
   V(G, D); a \\times b of two 3-vectors; x_1, x_2, \\dots, x_n in an argument list.
   Typing comfort: `sin 5n` is sin(5n) (a function without parentheses takes the product that
   follows it), `log^2 x` and `sin**2 (m)` are powers of the function's value.

There is no eval/exec/sympify/parse_expr anywhere on the input, no attribute access, no
calls to anything off the whitelist. The work is bounded: input length, nesting depth, the
number of tokens, number size and integer powers are all capped, so nothing can hang.

Validation is separate from marking (STACK): every refusal is an `AnswerError` whose message
is shown back to the student and costs nothing.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

MAX_LENGTH = 400  # characters of input
MAX_TOKENS = 300
MAX_DEPTH = 120  # grammar recursion (about 4 levels per parenthesis)
MAX_DIGITS = 30  # digits in one number
MAX_POWER = 100  # |integer exponent|
MAX_POWER_BITS = 4096  # numeric base ** exponent stays below 2**4096

# ASSUMPTIONS: what a bank may declare for a symbol and the sympy assumptions it gives.
ASSUMPTIONS: dict[str, dict[str, bool]] = {
    "real": {"real": True},
    "positive": {"positive": True},
    "nonnegative": {"nonnegative": True},
    "negative": {"negative": True},
    "integer": {"integer": True},
    "positive-integer": {"integer": True, "positive": True},
    "nonnegative-integer": {"integer": True, "nonnegative": True},
    # a probability-like quantity in (0, 1): alpha_t, abar_t, beta_t, p, gamma...
    "unit": {"positive": True},
    "complex": {},
    # a matrix (or operator) written as one letter: products keep their order
    "noncommutative": {"commutative": False},
}
SPECIAL_ASSUMPTIONS = ("function", "constant")

# Whitelisted functions: name -> number of arguments (None = one or more).
FUNCTIONS: dict[str, int | None] = {
    "sqrt": 1,
    "exp": 1,
    "log": 1,
    "ln": 1,
    "sin": 1,
    "cos": 1,
    "tan": 1,
    "sinh": 1,
    "cosh": 1,
    "tanh": 1,
    "sigmoid": 1,
    "softplus": 1,
    "relu": 1,
    "abs": 1,
    "Abs": 1,
    "max": None,
    "Max": None,
    "min": None,
    "Min": None,
    "arctan": 1,
    "atan": 1,
    "arcsin": 1,
    "asin": 1,
    "arccos": 1,
    "acos": 1,
    "floor": 1,
    "ceiling": 1,
}

# Operators the sheet writes that stay symbolic (sympy's undefined functions, never looked
# up): sg[.] stop-gradient, diag, softmax, ...; det and Tr act on a matrix when given one.
OPERATOR_FUNCTIONS = {"sg", "diag", "softmax", "Softmax", "det", "Tr", "tr", "Concat", "ROT180"}
BIG_OPERATORS = ("sum", "prod", "int", "expect", "matrix", "deriv", "cases")
RELATIONS = ("=", "<=", ">=", "<", ">")
# Names the parser reads itself: never taken as a product of declared letters.
RESERVED = set(BIG_OPERATORS) | {"norm"}

# Constants that are recognised only when the question does not declare the name itself.
CONSTANT_NAMES = ("pi", "e")

GREEK = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "omicron",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Pi",
    "Sigma",
    "Phi",
    "Psi",
    "Omega",
]

# Names that mean the same thing; a declared member of a group accepts the others.
ALIAS_GROUPS: tuple[tuple[str, ...], ...] = (
    ("eps", "epsilon", "varepsilon"),
    ("phi", "varphi"),
    ("theta", "vartheta"),
    ("abar", "alphabar", "alpha_bar", "baralpha", "bar_alpha"),
    ("lambda", "lam", "lmbda"),
)

UNICODE = {
    "ᾱ": " abar",
    "√": " sqrt ",
    "·": "*",
    "⋅": "*",
    "×": "×",  # times: a cross product between two 3-vectors, else a product
    "…": "…",  # an ellipsis in an argument list: x_1, x_2, …, x_n
    "⋯": "…",
    "∈": "∈",
    "ℝ": "ℝ",  # the reals (kept: NFKC would make it the letter R)
    "∗": "*",
    "−": "-",
    "–": "-",
    "÷": "/",
    "²": "^2",
    "³": "^3",
    "⁴": "^4",
    "¹": "^1",
    "⁻¹": "^(-1)",
    "½": "(1/2)",
    "π": " pi",
    "ε": " eps",
    "ϵ": " eps",
    "∞": " oo",
    "α": " alpha",
    "β": " beta",
    "γ": " gamma",
    "δ": " delta",
    "ζ": " zeta",
    "η": " eta",
    "θ": " theta",
    "κ": " kappa",
    "λ": " lambda",
    "μ": " mu",
    "ν": " nu",
    "ξ": " xi",
    "ρ": " rho",
    "σ": " sigma",
    "τ": " tau",
    "φ": " phi",
    "ϕ": " phi",
    "χ": " chi",
    "ψ": " psi",
    "ω": " omega",
    "Σ": " Sigma",
    "Δ": " Delta",
    "Γ": " Gamma",
    "Φ": " Phi",
    "Ω": " Omega",
    "Λ": " Lambda",
    "‖": "‖",  # a norm bar: kept for the LaTeX reader (\\| is the same)
    "⊤": "⊤",  # transpose
    "ᵀ": "⊤",
    "∑": " sum",
    "∏": " prod",
}
SUBSCRIPT_DIGITS = {chr(0x2080 + d): str(d) for d in range(10)}
SUBSCRIPT_LETTERS = {"ₜ": "t", "ᵢ": "i", "ⱼ": "j", "ₖ": "k", "ₙ": "n", "ₓ": "x"}
COMBINING_BAR = ("\u0304", "\u0305")


class AnswerError(ValueError):
    """The answer cannot be read: shown back to the student, never counted as wrong."""


class UnknownSymbolError(AnswerError):
    def __init__(self, name: str, suggestions: list[str]):
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown symbol '{name}'{hint}")


class LimitError(AnswerError):
    """The answer is too long, too deep or asks for too much work."""


# --------------------------------------------------------------------------------------------
# 1. normalize: Unicode and LaTeX to the plain syntax

LATEX_SPACES = {",", ";", ":", "!", " ", "quad", "qquad"}
LATEX_FUNCTIONS = {
    "exp",
    "log",
    "ln",
    "sin",
    "cos",
    "tan",
    "tanh",
    "sinh",
    "cosh",
    "max",
    "min",
    "arcsin",
    "arccos",
    "arctan",
}
LATEX_DECORATIONS = {"bar": "bar", "overline": "bar", "hat": "hat", "tilde": "tilde"}
LATEX_WRAPPERS = {
    "mathrm",
    "text",
    "textrm",
    "operatorname",
    "mathbf",
    "boldsymbol",
    "mathit",
    "bm",
    "mathcal",
    "mathsf",
}
LATEX_OPERATORS = {"cdot": "*", "times": "×", "div": "/", "ast": "*", "odot": "⊙"}
# Big operators: \sum_{i=1}^{n} body -> "sum[i;1;n] body" (the parser binds the index).
LATEX_BIG_OPERATORS = {"sum": "sum", "prod": "prod", "int": "int"}
MATRIX_ENVIRONMENTS = {"pmatrix", "bmatrix", "matrix", "Bmatrix", "smallmatrix"}
# Marks the LaTeX reader leaves for the tokenizer (characters no one types in an answer).
TRANSPOSE = "⊤"
NORM = "‖"
GIVEN = "∣"  # \mid: p(x ∣ z), a conditional density's bar
HADAMARD = "⊙"  # \odot: the elementwise (Hadamard) product of two vectors or matrices
CROSS = "×"  # \times: the cross product of two 3-vectors; between anything else, a product
ELLIPSIS = "…"  # \dots, \cdots, \ldots, ...: the arguments a pattern x_1, x_2, …, x_n leaves out
ELEMENT = "∈"  # \in, in a set-builder {x \in \mathbb{R}^3 : f(x) = 0}
REALS = "ℝ"  # \mathbb{R}
SET_OPEN, SET_CLOSE = "⦃", "⦄"  # \{ and \}: a set-builder, or a brace used as a parenthesis
# \left. body \right|_{u = g(x)}: the evaluation bar (body with u replaced by g(x), sympy's Subs)
BAR_OPEN, BAR_CLOSE = "⟦", "⟧"
PARTIAL = "∂"  # \partial, until \frac decides what it is (read as d elsewhere)
# A superscript that belongs to the name before it: a layer index \delta^{(l)}, W^{(l+1)} or an
# inverse f^{-1}.
LAYER = re.compile(r"\(\s*[A-Za-z0-9+\-]+\s*\)|-1")


def _ends_name(text: str) -> bool:
    """The reader's output so far ends with a name (`delta`, `x_i`, `W_{hh}`)."""
    return bool(
        re.search(r"[A-Za-z][A-Za-z0-9]*'*(?:_(?:\{[A-Za-z0-9+\-,]*\}|[A-Za-z0-9]+))*$", text)
    )


def normalize(text: str, max_length: int = MAX_LENGTH) -> str:
    """Unicode and LaTeX rewritten to the plain syntax (still text, still unevaluated)."""
    MAX_LENGTH = max_length  # noqa: N806 - the module's limit, raised for a display formula
    if len(text) > MAX_LENGTH:
        raise LimitError(f"answer is too long ({len(text)} characters; at most {MAX_LENGTH})")
    text = unicodedata.normalize("NFC", text).strip()
    if len(text) > MAX_LENGTH:  # NFC can lengthen a string (rarely): check again
        raise LimitError(f"answer is too long ({len(text)} characters; at most {MAX_LENGTH})")
    # A leading "=", "$...$" or "\(...\)" wrapper is harmless decoration.
    text = text.strip("$")
    if text.startswith("\\(") and text.endswith("\\)"):
        text = text[2:-2]
    out: list[str] = []
    for index, char in enumerate(text):
        if char in COMBINING_BAR:
            # x̄ / ᾱ written with a combining macron: the bar joins the name before it.
            if out and out[-1].strip() in ("alpha", " alpha", "alpha"):
                out[-1] = " abar"
            else:
                out.append("bar")
            continue
        if char in UNICODE:
            out.append(UNICODE[char])
        elif char in SUBSCRIPT_DIGITS:
            prefix = "" if index and text[index - 1] in SUBSCRIPT_DIGITS else "_"
            out.append(prefix + SUBSCRIPT_DIGITS[char])
        elif char in SUBSCRIPT_LETTERS:
            out.append("_" + SUBSCRIPT_LETTERS[char])
        elif ord(char) > 127:
            # Full-width and other compatibility forms (ｘ＋１, ﬁ) read as their plain letters;
            # only after the table above, which gives ² and ᵢ their meaning first.
            out.append(unicodedata.normalize("NFKC", char))
        else:
            out.append(char)
    text = "".join(out).replace("...", f" {ELLIPSIS} ")
    if len(text) > 4 * MAX_LENGTH:
        raise LimitError("answer is too long once its symbols are spelled out")
    if "\\" in text or "{" in text or "‖" in text:
        text = _LatexReader(text).read_all()
    return text


def _parenthesized(text: str) -> str:
    """`text` in parentheses, unless one pair already encloses all of it ({\\left(x\\right)})
    or it is one name ({\\lambda}_{i})."""
    stripped = text.strip()
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", stripped):
        return " " + stripped
    if stripped.startswith("(") and stripped.endswith(")"):
        depth = 0
        for index, char in enumerate(stripped):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0 and index < len(stripped) - 1:
                break
        else:
            return stripped
    return "(" + text + ")"


class _LatexReader:
    """A small LaTeX-to-plain rewriter for the math students type (fractions, roots, bars)."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.depth = 0
        self.lefts: list[str] = []  # the delimiters of the \left's not yet closed by a \right

    def read_all(self) -> str:
        return self._read_until(None).replace(PARTIAL, " d")

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _read_until(self, closer: str | None) -> str:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise LimitError("answer is nested too deeply")
        parts: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if closer is not None and char == closer:
                self.pos += 1
                self.depth -= 1
                return "".join(parts)
            if char == "\\":
                parts.append(self._command())
            elif char == "{":
                self.pos += 1
                group = self._read_until("}")
                if re.match(rf"\s*[A-Za-z]\w*\s*{ELEMENT}", group):  # {x ∈ ℝ : ..} typed plainly
                    parts.append(f" {SET_OPEN} {group} {SET_CLOSE} ")
                else:
                    parts.append(_parenthesized(group))
            elif char == "}":
                raise AnswerError("unbalanced '}'")
            elif char == "_":
                self.pos += 1
                parts.append("_" + self._subscript())
            elif char == "^":
                self.pos += 1
                exponent = self._argument()
                if exponent.strip() == TRANSPOSE:
                    parts.append(TRANSPOSE)
                elif exponent.strip() == "T":
                    parts.append("^T")  # the parser decides: transpose unless T is declared
                elif exponent.strip() == "*" and parts and _ends_name("".join(parts[-3:])):
                    parts.append("^*")  # an optimum or a fixed point: D^*, z^*, T^*V, v^*
                elif (
                    LAYER.fullmatch(exponent.strip()) and parts and _ends_name("".join(parts[-3:]))
                ):
                    # \delta^{(l)}, f^{-1}: part of the name (the parser falls back to a power
                    # when no such name exists)
                    parts.append("^(" + exponent.strip().strip("()") + ")")
                else:
                    parts.append("^(" + exponent + ")")
            else:
                parts.append(char)
                self.pos += 1
        if closer is not None:
            raise AnswerError(f"missing '{closer}'")
        self.depth -= 1
        return "".join(parts)

    def _skip_spaces(self) -> None:
        while self._peek() == " ":
            self.pos += 1

    def _group(self) -> str:
        """The content of a {...} group, or a single command/character."""
        self._skip_spaces()
        if self._peek() == "{":
            self.pos += 1
            return self._read_until("}")
        if self._peek() == "\\":
            return self._command()
        if not self._peek():
            raise AnswerError("a LaTeX command is missing its argument")
        char = self._peek()
        self.pos += 1
        return char

    def _argument(self) -> str:
        return self._group().strip()

    def _subscript(self) -> str:
        content = self._group().strip().replace(" ", "")
        content = content.replace("(", "").replace(")", "") if content.isalnum() else content
        if re.fullmatch(r"[A-Za-z0-9]+'*", content):
            return content
        return "{" + content.replace("(", "").replace(")", "") + "}"

    def _command(self) -> str:
        self.pos += 1  # the backslash
        match = re.match(r"[A-Za-z]+|.", self.text[self.pos :])
        if not match:
            raise AnswerError("a lone '\\' at the end")
        name = match.group(0)
        self.pos += len(name)
        if name in LATEX_SPACES:
            return " "
        if name in ("{", "}"):
            return {"{": f" {SET_OPEN} ", "}": f" {SET_CLOSE} "}[name]
        if name in ("dots", "cdots", "ldots"):
            return f" {ELLIPSIS} "
        if name == "in":
            return f" {ELEMENT} "
        if name in ("|", "Vert", "lVert", "rVert"):
            return NORM
        if name in ("vert", "lvert", "rvert"):
            return "|"
        if name in ("top", "intercal"):
            return TRANSPOSE
        if name == "mid":
            return f" {GIVEN} "  # p(x \mid z): a conditional's bar (read inside a call)
        if name == "sim":
            return "~"  # x \sim p in an expectation's subscript (its label)
        if name in ("le", "leq"):
            return "<="
        if name in ("ge", "geq"):
            return ">="
        if name in LATEX_BIG_OPERATORS:
            return self._big_operator(LATEX_BIG_OPERATORS[name])
        if name in ("mathbb", "mathds"):
            letter = self._argument().strip()
            if letter == "R":
                return f" {REALS} "
            if letter != "E":
                raise AnswerError(
                    f"\\{name}{{{letter}}}: only \\{name}{{E}} (an expectation) is read"
                )
            return self._expectation()
        if name == "begin":
            return self._environment()
        if name == "substack":
            return self._argument()  # its rows come back split by newlines (\\\\ below)
        if name == "\\":
            return "\n"  # a row break (substack); elsewhere it reads as a space
        if name in ("limits", "nolimits", "displaystyle", "textstyle"):
            return " "
        if name in ("left", "right", "big", "Big", "bigl", "bigr", "Bigl", "Bigr"):
            self._skip_spaces()
            char = self._peek()
            # which \left each \right closes: \left. .. \right|_{u = g(x)} is an evaluation
            # bar, \left| .. \right| an absolute value
            opened = None
            if name == "left":
                self.lefts.append(char)
            elif name == "right" and self.lefts:
                opened = self.lefts.pop()
            if name == "right" and char == "|" and opened == ".":
                self.pos += 1
                return self._evaluation_bar()
            if char == "." and name == "left":
                self.pos += 1
                return f" {BAR_OPEN} "
            if char == ".":
                self.pos += 1
                return ""
            if char in "[]" and name in ("left", "right"):
                self.pos += 1
                return "(" if char == "[" else ")"
            if char == "|" and name in ("left", "right"):
                # \left| .. \right| nest (a determinant inside an absolute value): explicit abs
                self.pos += 1
                return " abs(" if name == "left" else ")"
            return ""
        if name == "partial":
            return f" {PARTIAL}"
        if name in ("lfloor", "rfloor", "lceil", "rceil"):
            return {"lfloor": " floor(", "lceil": " ceiling(", "rfloor": ")", "rceil": ")"}[name]
        if name == "middle":
            return ""
        if name in ("frac", "dfrac", "tfrac"):
            numerator = self._argument()
            denominator = self._argument()
            name_pattern = r"([A-Za-z][A-Za-z0-9_{},+\-]*(?:\^\([A-Za-z0-9+\-]+\))?)"
            variable = re.fullmatch(rf"\s*[d{PARTIAL}]\s*{name_pattern}\s*", denominator)
            if numerator.replace(PARTIAL, "d").strip() == "d" and variable:
                return f" deriv[{variable.group(1)}] "  # d/dx of what follows
            # \partial L / \partial W^{(l)}: the derivative of that one name (the gradient)
            plus = re.fullmatch(rf"\s*{PARTIAL}\^\(\+\)\s*{name_pattern}\s*", numerator)
            if plus and variable and PARTIAL in denominator:  # the immediate derivative d^+h/dW
                return f" deriv[{variable.group(1)};+] ({plus.group(1)}) "
            whole = re.fullmatch(rf"\s*{PARTIAL}\s*([^{PARTIAL}]+?)\s*", numerator)
            if whole and variable and PARTIAL in denominator:
                return f" deriv[{variable.group(1)};] ({whole.group(1)}) "
            numerator = numerator.replace(PARTIAL, " d")
            denominator = denominator.replace(PARTIAL, " d")
            return f"(({numerator})/({denominator}))"
        if name == "sqrt":
            self._skip_spaces()
            if self._peek() == "[":
                end = self.text.find("]", self.pos)
                if end < 0:
                    raise AnswerError("missing ']' in \\sqrt[n]")
                degree = self.text[self.pos + 1 : end]
                self.pos = end + 1
                return f"(({self._argument()})^(1/({degree})))"
            return f" sqrt({self._argument()})"
        if name in LATEX_OPERATORS:
            return LATEX_OPERATORS[name]
        if name in LATEX_WRAPPERS:
            return " " + self._argument().replace(" ", "")
        if name in LATEX_DECORATIONS:
            inner = self._argument().strip().strip("()").strip()
            if not re.fullmatch(r"[A-Za-z]+", inner):
                raise AnswerError(f"\\{name} over '{inner}': put it over one symbol")
            if LATEX_DECORATIONS[name] == "bar" and inner == "alpha":
                return " abar"
            return f" {inner}{LATEX_DECORATIONS[name]}"
        if name in ("max", "min") and self._peek() == "_":
            return f" {name}"  # \max_{a'} Q(S', a'): the name max_a', a maximum over a'
        if name in LATEX_FUNCTIONS:
            return f" {name} "
        if name in ("det", "tr", "Tr"):
            return f" {name} "
        if name in GREEK or name in ("pi", "infty", "nabla", "ell"):  # \ell: a logit, a loss
            return " oo" if name == "infty" else f" {name}"
        raise AnswerError(f"unknown LaTeX command '\\{name}'")

    def _evaluation_bar(self) -> str:
        """The end of \\left. body \\right|_{u = g(x)}: the substitution, kept for the parser
        as `⟧[u = g(x)]` (sympy's \\substack{..} around it is read through)."""
        self._skip_spaces()
        if self._peek() != "_":
            raise AnswerError("an evaluation bar \\right| needs its point, e.g. _{u = g(x)}")
        self.pos += 1
        point = self._argument()
        if "[" in point or "]" in point:
            raise AnswerError("an evaluation bar's point cannot hold brackets")
        return f" {BAR_CLOSE}[{point}] "

    def _limits(self) -> tuple[str, str]:
        """The `_{..}` and `^{..}` after a big operator (either order, either may be absent)."""
        lower = upper = ""
        self._skip_spaces()
        for word in ("\\limits", "\\nolimits"):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
        for _ in range(2):
            self._skip_spaces()
            if self._peek() == "_" and not lower:
                self.pos += 1
                lower = self._argument()
            elif self._peek() == "^" and not upper:
                self.pos += 1
                upper = self._argument()
        for part in (lower, upper):
            if "[" in part or "]" in part or ";" in part:
                raise AnswerError("a sum's or integral's limits cannot hold brackets")
        return lower, upper

    def _big_operator(self, kind: str) -> str:
        self._skip_spaces()
        if self.text.startswith("_{\\substack{", self.pos):
            return self._substack(kind)
        lower, upper = self._limits()
        return f" {kind}[{lower};{upper}] "

    def _substack(self, kind: str) -> str:
        """sympy's multi-index sum: _{\\substack{a \\leq i \\leq b \\\\ c \\leq j \\leq d}}."""
        self.pos += 1  # the _
        group = self._argument()  # the reader turns \\substack{..} into its rows
        rows = [row for row in group.split("\n") if row.strip()]
        out = []
        for row in rows:
            match = re.fullmatch(r"\s*(.+?)\s*<=\s*([A-Za-z]\w*)\s*<=\s*(.+?)\s*", row)
            if not match:
                raise AnswerError("a \\substack row must read a \\leq i \\leq b")
            low, variable, high = match.groups()
            out.append(f" {kind}[{variable}={low};{high}] ")
        return "".join(reversed(out))  # sympy lists the innermost index first

    def _expectation(self) -> str:
        """\\mathbb{E}_{q(z|x)}[..]: the subscript becomes the expectation's label."""
        self._skip_spaces()
        label = ""
        if self._peek() == "_":
            self.pos += 1
            label = re.sub(r"[^A-Za-z0-9]", "", self._argument())
        return f" expect[{label}] "

    def _environment(self) -> str:
        name = self._argument().strip()
        if name not in MATRIX_ENVIRONMENTS | {"vmatrix", "cases"}:
            raise AnswerError(f"unknown LaTeX environment '{name}'")
        end = f"\\end{{{name}}}"
        stop = self.text.find(end, self.pos)
        if stop < 0:
            raise AnswerError(f"missing {end}")
        body, self.pos = self.text[self.pos : stop], stop + len(end)
        rows = []
        for row in body.split("\\\\"):
            if not row.strip():
                continue
            cells = []
            for cell in row.split("&"):
                reader = _LatexReader(cell)
                reader.depth = self.depth
                cells.append(reader.read_all().strip() or "0")
            if name == "cases":
                if len(cells) != 2:
                    raise AnswerError("each case needs a value & a condition")
                cells[1] = re.sub(r"^[\s,]*(for|if|when)?\b[\s:]*", "", cells[1]) or "otherwise"
            rows.append(",".join(cells))
        if not rows:
            raise AnswerError("an empty matrix")
        if name == "cases":
            return f" cases[{';'.join(rows)}] "
        matrix = f" matrix[{';'.join(rows)}] "
        return f" det({matrix})" if name == "vmatrix" else matrix


# --------------------------------------------------------------------------------------------
# 2. tokenize

TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>\d+\.?\d*(?:[eE][+-]?\d+(?![A-Za-z_]))?|\.\d+(?:[eE][+-]?\d+(?![A-Za-z_]))?)
  | (?P<name>[A-Za-z][A-Za-z0-9]*'*(?:_(?:\{[A-Za-z0-9+\-,*]*\}|[A-Za-z0-9]+))*'*
      (?:\^(?:\([A-Za-z0-9+\-]+\)|\*[A-Za-z]*)(?:_(?:\{[A-Za-z0-9+\-,*]*\}|[A-Za-z0-9*]+))*)?)
  | (?P<op>\*\*|<=|>=|‖(?:_(?:\{[A-Za-z0-9]*\}|[A-Za-z0-9]+))?|[-+*/^(),|\[\];:=<>⊤∣⊙×…∈ℝ⦃⦄⟦⟧])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # number | name | op | end
    text: str
    pos: int


def tokenize(text: str, max_tokens: int = MAX_TOKENS) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match:
            char = text[pos]
            if char == "_" or char == ".":
                raise AnswerError(f"unexpected '{char}' at position {pos + 1}")
            raise AnswerError(f"unexpected character {char!r} at position {pos + 1}")
        kind = match.lastgroup
        if kind != "space":
            value = match.group(0)
            if kind == "op" and value == "**":
                value = "^"
            tokens.append(Token(kind, value, pos))
            if len(tokens) > max_tokens:
                raise LimitError(f"answer has too many parts (more than {max_tokens})")
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# --------------------------------------------------------------------------------------------
# Symbol tables


def canonical(name: str) -> str:
    """A name with its braces dropped and alias spellings folded (for lookups, suggestions)."""
    # A decoration is one spelling whatever its place: hat{y}_i, yhat_i and y_hat_i are one name.
    name = re.sub(r"(hat|tilde|bar)\{(\w+)\}", r"\2\1", name)
    name = name.replace("{", "").replace("}", "")
    name = re.sub(r"_(hat|tilde|bar)(?=_|$)", r"\1", name)
    for group in ALIAS_GROUPS:
        for alias in sorted(group[1:], key=len, reverse=True):
            if name == alias or name.startswith(alias + "_"):
                return group[0] + name[len(alias) :]
    return name


@dataclass
class SymbolTable:
    """The question's declared names, built into sympy symbols once."""

    declared: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        import sympy as sp

        self.symbols: dict[str, Any] = {}
        self.functions: dict[str, Any] = {}
        self.constants: dict[str, Any] = {}
        for name, assumption in self.declared.items():
            if assumption == "function":
                self.functions[name] = sp.Function(name)
            elif assumption == "constant":
                constants = {"E": sp.E, "e": sp.E, "I": sp.I, "i": sp.I, "pi": sp.pi, "oo": sp.oo}
                constant = constants.get(name)
                if constant is None:
                    raise ValueError(f"'{name}' has no constant meaning (E, e, I, i, pi, oo)")
                self.constants[name] = constant
            else:
                if assumption not in ASSUMPTIONS:
                    raise ValueError(
                        f"unknown assumption '{assumption}' for '{name}' "
                        f"(one of {', '.join([*ASSUMPTIONS, *SPECIAL_ASSUMPTIONS])})"
                    )
                self.symbols[name] = sp.Symbol(name, **ASSUMPTIONS[assumption])
        self._canonical = {canonical(name): name for name in self.declared}

    def resolve(self, name: str) -> str | None:
        """The declared name this spelling means (x_{0} -> x_0, epsilon -> eps), or None."""
        if name in self.declared:
            return name
        return self._canonical.get(canonical(name))

    def suggestions(self, name: str) -> list[str]:
        names = list(self.declared)
        folded = {canonical(n): n for n in names}
        hits = difflib.get_close_matches(canonical(name), list(folded), n=3, cutoff=0.5)
        result = [folded[hit] for hit in hits]
        if not result:
            result = [n for n in names if canonical(name).split("_")[0] in canonical(n)][:3]
        return result


_TABLE_CACHE: dict[tuple, SymbolTable] = {}


def symbol_table(declared: dict[str, str]) -> SymbolTable:
    key = tuple(sorted(declared.items()))
    table = _TABLE_CACHE.get(key)
    if table is None:
        table = _TABLE_CACHE[key] = SymbolTable(dict(declared))
    return table


# --------------------------------------------------------------------------------------------
# 3. parse


def _starts_atom(token: Token) -> bool:
    return token.kind in ("number", "name") or token.text in ("(", SET_OPEN, BAR_OPEN)


DIFFERENTIAL = re.compile(r"d([A-Za-z]|" + "|".join(GREEK) + r")(_[A-Za-z0-9]+)?")


class Parser:
    """expr := term (('+'|'-') term)*; term := unary (('*'|'/'|implicit) unary)*;
    unary := ('-'|'+') unary | power; power := atom ('^' unary | '⊤')*; atom := number | name |
    func '(' args ')' | func ['^' atom] run | '(' expr ')' | '|' expr '|' | '‖' expr '‖' |
    sum[i=a;b] term | prod[..] term | int[a;b] term d x | expect[q] '[' expr ']' |
    matrix[a,b;c,d]. A `run` is a product of atoms with no operator between them (sin 5n)."""

    def __init__(
        self, tokens: list[Token], table: SymbolTable, objects: dict[str, Any] | None = None
    ):
        import sympy as sp

        self.sp = sp
        # Names bound to ready sympy objects (a MatrixSymbol, an IndexedBase, a function with
        # assumptions): the registry's own objects when a display formula is read back.
        self.objects = objects or {}
        self.tokens = tokens
        self.index = 0
        self.table = table
        self.depth = 0
        self.in_abs = 0
        self.in_norm = 0
        self.in_integral = 0
        self.in_arguments = 0  # inside f( .. ): a function named alone there is an argument
        self.bound: dict[str, Any] = {}  # summation / integration variables in scope

    # helpers ----------------------------------------------------------------------------------
    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def _peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def _advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _expect(self, text: str) -> None:
        if self.token.text != text:
            found = self.token.text or "the end"
            raise AnswerError(f"expected '{text}' at position {self.token.pos + 1}, found {found}")
        self._advance()

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise LimitError(f"answer is nested too deeply (more than {MAX_DEPTH} levels)")

    def _is_differential(self, token: Token) -> bool:
        """`dx` / `d x` closing an integral's body (never a declared name)."""
        if not self.in_integral or token.kind != "name":
            return False
        if token.text == "d" and self._peek().kind == "name":
            return self.table.resolve("d") is None
        return bool(DIFFERENTIAL.fullmatch(token.text)) and self.table.resolve(token.text) is None

    def _starts_factor(self) -> bool:
        token = self.token
        if self._is_differential(token):
            return False
        if _starts_atom(token) or token.text == "[":  # [i = j] x: an Iverson bracket's product
            return True
        return (token.text == "|" and not self.in_abs) or (token.text == NORM and not self.in_norm)

    # grammar ----------------------------------------------------------------------------------
    def parse(self) -> Any:
        if self.token.kind == "end":
            raise AnswerError("empty answer")
        expr = self.expr()
        if self.token.kind != "end":
            raise AnswerError(f"unexpected '{self.token.text}' at position {self.token.pos + 1}")
        return expr

    def relation(self) -> Any:
        """expr [relation expr]: a whole statement such as `a = b` or `a \\le b`."""
        if self.token.kind == "end":
            raise AnswerError("empty answer")
        left = self.expr()
        if self.token.text in RELATIONS:
            op = self._advance().text
            right = self.expr()
            sp = self.sp
            make = {"=": sp.Eq, "<=": sp.Le, ">=": sp.Ge, "<": sp.Lt, ">": sp.Gt}[op]
            left = make(left, right, evaluate=False)
        if self.token.kind != "end":
            raise AnswerError(f"unexpected '{self.token.text}' at position {self.token.pos + 1}")
        return left

    def expr(self) -> Any:
        self._enter()
        value = self.term()
        while self.token.text in ("+", "-"):
            op = self._advance().text
            right = self._operand(self.term())
            value = self._operand(value)
            if getattr(value, "is_Matrix", False) != getattr(right, "is_Matrix", False):
                # 1 + v^T A^{-1} u: a 1 x 1 product beside a number is that number
                value, right = self._entry_of_1x1(value), self._entry_of_1x1(right)
            value = value + right if op == "+" else value - right
        self.depth -= 1
        return value

    def term(self) -> Any:
        self._enter()
        value = self.unary()
        # a number before a product of named matrices is kept aside until the product ends:
        # sympy would spread -1/2 over (x - mu)^T at once, and the product's 1 x 1 entry, a
        # number, would then no longer show its factor -1/2
        coefficient = self.sp.Integer(1)
        while True:
            if self.token.text in (HADAMARD, CROSS):
                value, coefficient = coefficient * value, self.sp.Integer(1)
            if self.token.text == HADAMARD:
                self._advance()
                right = self.unary()
                if not (getattr(value, "is_Matrix", False) and getattr(right, "is_Matrix", False)):
                    raise AnswerError(
                        "⊙ (\\odot) multiplies two vectors or matrices entry by entry"
                    )
                value = self.sp.HadamardProduct(value, right)
            elif self.token.text in ("*", "/"):
                op = self._advance().text
                right = self._operand(self.unary())
                value = self._operand(value)
                if op == "/":
                    right = self._entry_of_1x1(right)  # x / (v^T u): divided by the number
                    if right == 0:
                        raise AnswerError("division by zero")
                    if isinstance(value, self.sp.MatrixExpr) and not right.is_Matrix:
                        coefficient = coefficient / right
                    else:
                        value = value / right
                else:
                    value, coefficient = self._times(value, right, coefficient)
            elif self.token.text == CROSS:
                self._advance()
                value = self._cross(self._operand(value), self._operand(self.unary()))
            elif self._starts_factor():  # an implicit product: 2x, x y, 2(x+1)
                right = self._operand(self.power())
                value, coefficient = self._times(self._operand(value), right, coefficient)
            else:
                break
        if coefficient != 1:
            value = coefficient * value
        self.depth -= 1
        return value

    def _times(self, value: Any, right: Any, coefficient: Any) -> tuple[Any, Any]:
        """value * right, with a number before a named matrix kept in `coefficient`."""
        if isinstance(right, self.sp.MatrixExpr) and not getattr(value, "is_Matrix", False):
            return right, coefficient * value
        return value * right, coefficient

    def unary(self) -> Any:
        self._enter()
        if self.token.text in ("-", "+"):
            op = self._advance().text
            value = self._operand(self.unary())
            value = -value if op == "-" else value
        else:
            value = self.power()
        self.depth -= 1
        return value

    def power(self) -> Any:
        self._enter()
        base = self.atom()
        while True:
            if self.token.text == TRANSPOSE:
                self._advance()
                base = self.sp.transpose(base)
            elif (
                self.token.text == "^"
                and self._peek().text == "T"
                and (
                    (self.table.resolve("T") is None and "T" not in self.bound)
                    or getattr(base, "is_Matrix", False)
                    or isinstance(base, self.sp.MatrixExpr)
                )
            ):
                self._advance()
                self._advance()
                base = self.sp.transpose(base)  # W^T: a transpose unless T is a symbol here
            elif self.token.text == "^":
                self._advance()
                exponent = self.unary()  # right-associative: x^2^3 = x^(2^3); x^-1 allowed
                base = self._pow(base, exponent)
                break
            else:
                break
        self.depth -= 1
        return base

    def _operand(self, value: Any) -> Any:
        """`value` as an operand of + - * / ^: a tuple, a set or a function named without its
        argument is refused (sympy would repeat a tuple: 2 (a, b) is (a, b, a, b) to it)."""
        sp = self.sp
        if isinstance(value, sp.Tuple):
            raise AnswerError("a tuple (a, b, ..) cannot be added, multiplied or raised to a power")
        if isinstance(value, sp.Set):
            raise AnswerError("a set cannot be added, multiplied or raised to a power")
        if isinstance(value, sp.Lambda):
            raise AnswerError("a function named without its argument is read only as an argument")
        return value

    def _entry_of_1x1(self, value: Any) -> Any:
        """A 1 x 1 matrix (v^T A^{-1} u) as its one entry, the number it is; else `value`."""
        sp = self.sp
        if not getattr(value, "is_Matrix", False) or getattr(value, "shape", None) != (1, 1):
            return value
        if not isinstance(value, sp.MatrixExpr):
            return value[0, 0]
        from sympy.matrices.expressions.matexpr import MatrixElement

        coefficient, product = sp.Integer(1), value
        if isinstance(value, sp.MatMul):
            coefficient, product = value.as_coeff_mmul()
            if len(product.args) == 1:
                product = product.args[0]
        return coefficient * MatrixElement(product, 0, 0)

    def _scalar(self, value: Any, where: str) -> Any:
        """`value` where a number is needed: a 1 x 1 product is its entry; a tuple, a set, a
        function without its argument or a larger matrix is refused."""
        value = self._entry_of_1x1(self._operand(value))
        if getattr(value, "is_Matrix", False):
            raise AnswerError(f"{where} needs a number, not a matrix")
        return value

    def _cross(self, left: Any, right: Any) -> Any:
        """a × b: the cross product of two 3-vectors (the question's own operator when it brings
        one, `Cross`, else computed entry by entry); beside a number, a product."""
        sp = self.sp
        matrices = [getattr(side, "is_Matrix", False) for side in (left, right)]
        if not all(matrices):  # 2 × 3, 2 × A: a product (a number times a matrix)
            return left * right
        shapes = {getattr(side, "shape", None) for side in (left, right)}
        if not shapes <= {(3, 1), (1, 3)} or len(shapes) != 1:
            raise AnswerError("× (\\times) between vectors is the cross product of two 3-vectors")
        own = self.objects.get("Cross")
        if own is not None:
            return own(left, right)
        if isinstance(left, sp.MatrixExpr) or isinstance(right, sp.MatrixExpr):
            raise AnswerError("a × b of vectors given by name: write their entries")
        return left.cross(right)

    def _pow(self, base: Any, exponent: Any) -> Any:
        sp = self.sp
        base, exponent = self._operand(base), self._scalar(exponent, "an exponent")
        if isinstance(base, sp.MatrixExpr) and exponent == -1 and base.is_square:
            return sp.Inverse(base)  # A^{-1}: the inverse, as the registry writes it (A.I)
        if getattr(base, "is_Matrix", False) and base.shape == (1, 1) and not exponent.is_Integer:
            base = self._entry_of_1x1(base)  # (v^T u)^{1/2}: a power of the number
        if exponent.is_number:
            if not exponent.is_real:
                raise AnswerError("complex exponents are not supported")
            if abs(exponent) > MAX_POWER:
                raise LimitError(f"exponent {exponent} is too large (at most {MAX_POWER})")
            if base.is_number and base != 0:
                magnitude = abs(sp.N(sp.log(abs(base), 2), 15)) if base.is_real else 1
                if magnitude * abs(exponent) > MAX_POWER_BITS:
                    raise LimitError("that power is too large to work with")
            if base == 0 and exponent.is_negative:
                raise AnswerError("division by zero")
        elif base.is_number and base != 0 and abs(sp.N(base, 15)) > 2**64:
            raise LimitError("that power is too large to work with")
        if getattr(base, "is_Matrix", False) and not isinstance(base, sp.MatrixExpr):
            raise AnswerError("a power of an explicit matrix is not read; write the product")
        return sp.Pow(base, exponent)

    def atom(self) -> Any:
        sp = self.sp
        token = self.token
        if token.kind == "number":
            self._advance()
            return self._number(token)
        if token.text == "(":
            self._advance()
            value = self.expr()
            if self.token.text == ",":  # (4C, H/2, W/2): a tuple (a shape, a point)
                items = [value]
                while self.token.text == ",":
                    self._advance()
                    items.append(self.expr())
                self._expect(")")
                return sp.Tuple(*items)
            self._expect(")")
            return value
        if token.text == SET_OPEN:
            self._advance()
            if self.token.kind == "name" and self._peek().text == ELEMENT:
                return self._set_builder()
            value = self.expr()  # \{ .. \} used as a parenthesis
            self._expect(SET_CLOSE)
            return value
        if token.text == BAR_OPEN:
            return self._evaluation_bar()
        if token.text == REALS:
            raise AnswerError("ℝ is read in a set-builder, e.g. {x ∈ ℝ^3 : f(x) = 0}")
        if token.text == "|" and not self.in_abs:
            self._advance()
            self.in_abs += 1
            value = self.expr()
            self.in_abs -= 1
            self._expect("|")
            return sp.Abs(value)
        if token.text == NORM and not self.in_norm:
            return self._norm()
        if token.text == "[":  # an Iverson bracket [i = i^*], [x > 0]: 1 when true, else 0
            self._advance()
            left = self._scalar(self.expr(), "an Iverson bracket")
            if self.token.text not in RELATIONS:
                raise AnswerError("a bracket [..] is read as an Iverson bracket, e.g. [i = j]")
            op = self._advance().text
            right = self._scalar(self.expr(), "an Iverson bracket")
            self._expect("]")
            if op == "=":
                return sp.KroneckerDelta(left, right)
            # a step: [a > b] is the Heaviside step of a - b; its value at 0 says whether the
            # bracket holds at equality ([x >= 0] is 1 at x = 0, [x > 0] is 0)
            difference = left - right if op in (">", ">=") else right - left
            return sp.Heaviside(difference, 1 if op in (">=", "<=") else 0)
        if token.kind == "name":
            self._advance()
            return self._name(token)
        found = token.text or "the end"
        raise AnswerError(
            f"expected a number, a name or '(' at position {token.pos + 1}, found {found}"
        )

    def _set_builder(self) -> Any:
        """{x ∈ ℝ^n : condition} (or | for the colon): sympy's ConditionSet, x bound inside."""
        sp = self.sp
        name = self._advance().text
        self._expect(ELEMENT)
        base = self._real_space()
        if self.token.text not in (":", "|", GIVEN):
            raise AnswerError("a set {x ∈ ℝ^3 : f(x) = 0} needs ':' before its condition")
        self._advance()
        variable = self._bound_symbol(name, integer=False)
        saved = dict(self.bound)
        self.bound[name] = variable
        left = self._scalar(self.expr(), "a set's condition")
        if self.token.text not in RELATIONS:
            raise AnswerError("a set's condition needs a relation, e.g. f(x) = 0")
        op = self._advance().text
        right = self._scalar(self.expr(), "a set's condition")
        self.bound = saved
        self._expect(SET_CLOSE)
        make = {"=": sp.Eq, "<=": sp.Le, ">=": sp.Ge, "<": sp.Lt, ">": sp.Gt}[op]
        return sp.ConditionSet(variable, make(left, right), base)

    def _real_space(self) -> Any:
        """ℝ or ℝ^n for a whole number n (at most 16)."""
        sp = self.sp
        if self.token.text != REALS:
            raise AnswerError("a set-builder's points lie in ℝ or ℝ^n (\\mathbb{R}^n)")
        self._advance()
        if self.token.text != "^":
            return sp.Reals
        self._advance()
        power = self.atom()
        if not (getattr(power, "is_Integer", False) and 1 <= power <= 16):
            raise AnswerError("ℝ^n needs a whole number n from 1 to 16")
        return sp.Reals if power == 1 else sp.Reals ** int(power)

    def _evaluation_bar(self) -> Any:
        """⟦ body ⟧[u = g(x)] (from \\left. body \\right|_{u = g(x)}): sympy's Subs. The names
        at the bar are bound in the body (u need not be a symbol of the question)."""
        sp = self.sp
        self._advance()
        names = self._bar_names()
        saved = dict(self.bound)
        inside = {**saved, **{name: self._bound_symbol(name, integer=False) for name in names}}
        self.bound = inside
        body = self.expr()
        self._expect(BAR_CLOSE)
        self._expect("[")
        variables, points = [], []
        while True:
            if self.token.kind != "name" or self.token.text not in names:
                raise AnswerError("an evaluation bar's point reads u = g(x)")
            variables.append(inside[self._advance().text])
            self._expect("=")
            self.bound = saved  # the point is outside the bar: u is free there again
            points.append(self._scalar(self.expr(), "an evaluation bar's point"))
            if self.token.text != ",":
                break
            self._advance()
        self._expect("]")
        self.bound = saved
        if len(set(variables)) != len(variables):
            raise AnswerError("an evaluation bar names each variable once")
        return sp.Subs(body, tuple(variables), tuple(points))

    def _bar_names(self) -> list[str]:
        """The variables named at the matching ⟧[u = .., v = ..], found ahead of the body."""
        depth, index = 0, self.index
        while index < len(self.tokens) - 1:
            text = self.tokens[index].text
            if text == BAR_OPEN:
                depth += 1
            elif text == BAR_CLOSE and depth:
                depth -= 1
            elif text == BAR_CLOSE:
                break
            index += 1
        else:
            raise AnswerError("an evaluation bar \\left. .. needs its \\right|_{u = ..}")
        names, brackets = [], 0
        for position in range(index + 1, len(self.tokens) - 1):
            token, after = self.tokens[position], self.tokens[position + 1]
            brackets += {"[": 1, "(": 1, "]": -1, ")": -1}.get(token.text, 0)
            if brackets < 0 or (brackets == 0 and token.text == "]"):
                break
            before = self.tokens[position - 1].text
            if token.kind == "name" and after.text == "=" and before in ("[", ","):
                names.append(token.text)
        if not names:
            raise AnswerError("an evaluation bar's point reads u = g(x)")
        return names

    def _norm(self) -> Any:
        """‖x‖ or ‖x‖_p: sympy's undefined `norm` (a norm of what the sheet leaves abstract)."""
        self._advance()
        self.in_norm += 1
        value = self.expr()
        self.in_norm -= 1
        closing = self.token
        if not closing.text.startswith(NORM):
            found = closing.text or "the end"
            raise AnswerError(f"expected '‖' at position {closing.pos + 1}, found {found}")
        self._advance()
        order = closing.text[len(NORM) :].lstrip("_").strip("{}")
        # the question's own norm when it brings one (with its assumptions: nonnegative)
        norm = self.objects.get("norm", self.sp.Function("norm"))
        if not order:
            return norm(value)
        if order in ("oo", "infty", "inf"):
            return norm(value, self.sp.oo)
        if order.isdigit():
            return norm(value, self.sp.Integer(order))
        raise AnswerError(f"unknown norm '_{order}' (use _1, _2 or _oo)")

    def _number(self, token: Token) -> Any:
        digits = sum(char.isdigit() for char in token.text.split("e")[0].split("E")[0])
        if digits > MAX_DIGITS:
            raise LimitError(f"number {token.text[:12]}... has too many digits")
        mantissa, _, exponent = token.text.lower().partition("e")
        if exponent and abs(int(exponent)) > 300:
            raise LimitError(f"number {token.text} is out of range")
        value = Fraction(mantissa) * (Fraction(10) ** int(exponent or 0))
        return self.sp.Rational(value.numerator, value.denominator)

    # names ------------------------------------------------------------------------------------
    def _name(self, token: Token, whole: bool = False) -> Any:
        sp = self.sp
        name = token.text
        table = self.table
        if name in BIG_OPERATORS and self.token.text == "[":
            return self._big_operator(name)
        if name == "nabla" and self.token.kind == "name" and "nabla" not in self.table.declared:
            joined = "nabla" + self.token.text  # \nabla L(..): the gradient function nablaL
            if joined in self.objects or self.table.resolve(joined) is not None:
                self._advance()
                return self._name(Token("name", joined, token.pos))
        if "^(" in name and not whole:
            return self._superscripted(token)
        if name in self.bound:
            return self.bound[name]
        # A name the question gives itself (R_n a function, P_n a symbol) stays that name inside
        # a sum over n; other subscripted names there are entries of a sequence.
        own = name in self.table.declared or (
            name in self.objects and not isinstance(self.objects[name], self.sp.IndexedBase)
        )
        indexed = None if own else self._indexed(name)
        if indexed is not None:
            return indexed
        if name not in self.objects and self._object(name) is not None:
            name = next(k for k in self.objects if canonical(k) == canonical(name))
        if name in self.objects:
            obj = self.objects[name]
            if isinstance(obj, (sp.FunctionClass, type)):  # a function or an operator class
                argument = self._as_argument(obj) if isinstance(obj, sp.FunctionClass) else None
                if argument is not None:
                    return argument
                exponent = None
                if self.token.text == "^":  # g^{2}(x): sympy's way to print g(x)**2
                    self._advance()
                    exponent = self.atom()
                if self.token.text not in ("(", "[") and self._starts_factor():
                    value = obj(self.power())  # an operator before its operand: \nabla_x f(x)
                else:
                    value = obj(*self._call_arguments(name))
                return value if exponent is None else self._pow(value, exponent)
            if not isinstance(obj, sp.IndexedBase):
                return obj
        resolved = table.resolve(name)
        follows_paren = self.token.text in ("(", "[")
        if resolved is not None and resolved in table.functions:
            argument = self._as_argument(table.functions[resolved])
            if argument is not None:
                return argument
            exponent = None
            if self.token.text == "^":  # g^{2}(x): sympy's way to print g(x)**2
                self._advance()
                exponent = self.atom()
            value = table.functions[resolved](*self._call_arguments(name))
            return value if exponent is None else self._pow(value, exponent)
        if resolved is not None and resolved in table.symbols:
            return table.symbols[resolved]  # "x(y+1)" continues as an implicit product
        if resolved is not None and resolved in table.constants:
            return table.constants[resolved]
        primed = name.rstrip("'")
        if primed != name and follows_paren and "^" not in name:  # f'(g(x)): f's derivative
            function = self._object(primed)
            resolved_function = table.resolve(primed)
            if not isinstance(function, sp.FunctionClass) and resolved_function in table.functions:
                function = table.functions[resolved_function]
            if isinstance(function, sp.FunctionClass):
                return self._derivative_at(name, function)
        if name in FUNCTIONS:
            return self._function(name)
        if name == "sigma" and self.token.text == "(":
            return self._function("sigmoid")  # σ(x), the logistic function (σ not a symbol here)
        if name in ("det", "Tr", "tr") and not follows_paren and self._starts_factor():
            # \det J, \det \mathbf{W}: the determinant (trace) of the matrix that follows
            argument = self.power()
            if not getattr(argument, "is_Matrix", False) or not argument.is_square:
                raise AnswerError(f"{name} of something that is not a square matrix")
            if name == "det":
                return (
                    sp.Determinant(argument)
                    if isinstance(argument, sp.MatrixExpr)
                    else sp.det(argument)
                )
            return sp.Trace(argument)
        if name in OPERATOR_FUNCTIONS and follows_paren:
            arguments = self._call_arguments(name)
            if name == "det" and len(arguments) == 1 and getattr(arguments[0], "is_Matrix", 0):
                return sp.det(arguments[0])
            if name in ("Tr", "tr") and len(arguments) == 1 and arguments[0].is_Matrix:
                return sp.Trace(arguments[0])
            return sp.Function(name)(*arguments)
        if name == "pi":
            return sp.pi
        if name == "e":
            return sp.E
        if name == "oo":
            return sp.oo
        # An unknown run of letters may be a product of declared names (xy, abar_teps).
        product = self._split(name)
        if product is not None:
            return product
        if follows_paren:
            raise AnswerError(
                f"unknown function '{name}'"
                + (
                    f"; did you mean {', '.join(near)}?"
                    if (near := difflib.get_close_matches(name, FUNCTIONS, n=2, cutoff=0.6))
                    else ""
                )
            )
        raise UnknownSymbolError(name, table.suggestions(name))

    def _superscripted(self, token: Token) -> Any:
        """`delta^(l)` / `z_i^(l-1)`: a declared name with its layer index; `f^(-1)`: the inverse
        the question declares as `f^{-1}`; anything else is a power (`x^(2)`, `ab^(-1)` is a
        times b^-1)."""
        name = token.text
        base, _, rest = name.partition("^(")
        exponent_text, _, after = rest.partition(")")
        for spelling in _spellings(name):
            obj = self.objects.get(spelling)
            if obj is not None:
                return self._name(Token("name", spelling, token.pos), whole=True)
            resolved = self.table.resolve(spelling)
            if resolved is not None:
                return self._name(Token("name", resolved, token.pos), whole=True)
        if after:
            raise UnknownSymbolError(name, self.table.suggestions(name))
        inner = Parser(tokenize(exponent_text), self.table, self.objects)
        inner.bound, inner.depth = self.bound, self.depth
        exponent = inner.parse()
        parts = self._split_parts(base)
        if parts is None or len(parts) < 2:
            return self._pow(self._name(Token("name", base, token.pos)), exponent)
        value = self.sp.Integer(1)
        for part in parts[:-1]:
            value *= self.table.symbols.get(part, self.sp.pi)
        last = self.table.symbols.get(parts[-1], self.sp.pi)
        return value * self._pow(last, exponent)

    def _function(self, name: str) -> Any:
        """A whitelisted function: f(x), f x y (the run after it), f^2 x, f**2 (x)."""
        exponent = None
        if self.token.text == "^":
            self._advance()
            exponent = self.unary() if self.token.text == "-" else self.atom()
            if exponent == -1:
                raise AnswerError(
                    f"{name}^-1 is ambiguous: write 1/{name}(x), or the inverse by name "
                    "(asin, acos, atan)"
                )
        if self.token.text == "(":
            arguments = self._call_arguments(name)
            if self.token.text == "^" and exponent is None and name != "sqrt":
                pass  # sin(x)^2: the power is taken by the caller's power()
        else:
            if not (self._starts_factor() or self.token.text == "-"):
                raise AnswerError(f"'{name}' needs an argument, e.g. {name}(x)")
            arguments = [self._run(single=name == "sqrt")]
        value = self._call(name, arguments)
        return value if exponent is None else self._pow(value, exponent)

    def _run(self, single: bool = False) -> Any:
        """The argument of a function written without parentheses: `sin 5n` is sin(5n), a
        product of factors with no operator between them; it stops at another function
        (`sin x cos x`), an operator, or the end. `√2x` keeps its root on the 2 (single)."""
        if self.token.text == "-":
            self._advance()
            return -self._run(single)
        value = self.power()
        while not single and self._starts_factor():
            token = self.token
            if token.kind == "name" and (token.text in FUNCTIONS or token.text in BIG_OPERATORS):
                break
            value = value * self.power()
        return value

    def _indexed(self, name: str) -> Any:
        """Inside a sum over i, `x_i` / `x_{k+t+1}` is the entry of the sequence x."""
        if "_" not in name or "^" in name:
            return None
        base, _, subscript = name.partition("_")
        subscript = subscript.strip("{}")
        words = set(re.findall(r"[A-Za-z]+", subscript))
        is_sequence = isinstance(self.objects.get(base), self.sp.IndexedBase)
        if not (words & set(self.bound) or is_sequence) or "_" in subscript:
            return None
        sp = self.sp
        indices = []
        for part in subscript.split(","):
            inner = Parser(tokenize(part), self.table, self.objects)
            inner.bound = self.bound
            inner.depth = self.depth
            indices.append(inner.parse())
        return sp.IndexedBase(base)[tuple(indices)]

    def _object(self, name: str) -> Any:
        """The question's object of that name, in any spelling of its decoration (hat{p}, phat)."""
        if name in self.objects:
            return self.objects[name]
        wanted = canonical(name)
        for key, obj in self.objects.items():
            if canonical(key) == wanted:
                return obj
        return None

    def _bound_symbol(self, name: str, integer: bool) -> Any:
        for spelling in _spellings(name):  # x^(A) is the question's x^A
            resolved = self.table.resolve(spelling)
            if resolved is not None and resolved in self.table.symbols:
                return self.table.symbols[resolved]
        if integer:
            return self.sp.Symbol(name, integer=True)
        return self.sp.Symbol(name, real=True)

    def _big_operator(self, kind: str) -> Any:
        sp = self.sp
        self._expect("[")
        if kind == "matrix":
            return self._matrix()
        if kind == "cases":
            return self._cases()
        if kind == "deriv":
            if self.token.kind != "name":
                raise AnswerError("d/d? needs a variable")
            name = self._advance().text
            tight = self.token.text == ";"  # dL/dW: the derivative of the one name L
            immediate = False
            if tight:
                self._advance()
                immediate = self.token.text == "+"  # d^+h_k/dW: h_{k-1} held fixed
                if immediate:
                    self._advance()
            self._expect("]")
            own = self._object(name)
            indexed = self._indexed(name) if tight and "_" in name else None
            if isinstance(own, sp.MatrixSymbol):  # a gradient in a matrix, dL/dW^(l)
                variable = own
            elif indexed is not None:  # dL_t/dh_t, h a sequence of states
                variable = indexed
            else:
                variable = self._bound_symbol(name, integer=False)
            body = self.atom() if tight else self.term()
            if not isinstance(variable, (sp.Symbol, sp.MatrixSymbol, sp.Indexed)):
                raise AnswerError("d/d? needs a variable")
            # the question's own derivative when it brings one: a Jacobian matrix, a factor
            # that keeps its place in a product, the immediate derivative
            own_operator = self.objects.get("partialplus" if immediate else "Jacobian")
            if tight and own_operator is None and not immediate:
                own_operator = self.objects.get("partial")
            if immediate and own_operator is None:
                raise AnswerError("an immediate derivative d^+ is not read here")
            if tight and own_operator is not None:
                return own_operator(body, variable)
            return sp.Derivative(body, variable)
        if kind == "expect":
            label = ""
            if self.token.text != "]":
                label = self._advance().text
            self._expect("]")
            body = self._bracketed_or_run()
            return sp.Function(f"E_{label}" if label else "E")(body)
        variable = lower = upper = None
        if kind in ("sum", "prod") and self.token.kind == "name" and self._peek().text == "=":
            variable = self._advance().text
            self._advance()
        elif kind in ("sum", "prod") and self.token.kind == "name" and self._peek().text == ";":
            variable = self._advance().text
        if self.token.text != ";":
            lower = self.expr()
        self._expect(";")
        if self.token.text != "]":
            upper = self.expr()
        self._expect("]")
        if kind == "int":
            self.in_integral += 1
            body = self.term()
            if not self._is_differential(self.token):
                raise AnswerError("an integral needs its differential at the end, e.g. dx")
            token = self._advance()
            variable = self._advance().text if token.text == "d" else token.text[1:]
            self.in_integral -= 1
            symbol = self._bound_symbol(variable, integer=False)
            if lower is None and upper is None:
                return sp.Integral(body, symbol)
            if lower is None or upper is None:
                raise AnswerError("an integral needs both limits or neither")
            return sp.Integral(body, (symbol, lower, upper))
        if variable is None:
            raise AnswerError(f"a {kind} needs its index, e.g. \\{kind}_{{i=1}}^{{n}}")
        symbol = self._bound_symbol(variable, integer=True)
        saved = dict(self.bound)
        self.bound[variable] = symbol
        body = self.term()
        self.bound = saved
        if lower is None or upper is None:
            raise AnswerError(f"a {kind} needs both limits, e.g. \\{kind}_{{i=1}}^{{n}}")
        make = sp.Sum if kind == "sum" else sp.Product
        return make(body, (symbol, lower, upper))

    def _bracketed_or_run(self) -> Any:
        if self.token.text in ("[", "("):
            closer = "]" if self._advance().text == "[" else ")"
            value = self.expr()
            self._expect(closer)
            return value
        return self._run()

    def _cases(self) -> Any:
        """cases[value, condition; ...; value, otherwise] -> Piecewise."""
        sp = self.sp
        pieces = []
        while True:
            value = self.expr()
            self._expect(",")
            if self.token.text == "otherwise":
                self._advance()
                condition = sp.true
            else:
                left = self.expr()
                if self.token.text not in RELATIONS:
                    raise AnswerError("a case's condition needs a relation, e.g. x > 0")
                op = self._advance().text
                right = self.expr()
                make = {"=": sp.Eq, "<=": sp.Le, ">=": sp.Ge, "<": sp.Lt, ">": sp.Gt}[op]
                condition = make(left, right)
            pieces.append((value, condition))
            if self.token.text != ";":
                break
            self._advance()
        self._expect("]")
        return sp.Piecewise(*pieces)

    def _matrix(self) -> Any:
        rows: list[list[Any]] = [[self.expr()]]
        while self.token.text in (",", ";"):
            separator = self._advance().text
            if separator == ";":
                rows.append([])
            rows[-1].append(self.expr())
        self._expect("]")
        if len({len(row) for row in rows}) != 1:
            raise AnswerError("a matrix's rows must have the same length")
        return self.sp.Matrix(rows)

    def _split(self, name: str) -> Any:
        """'xy' as x*y when both are declared and 'xy' is not; None when no split exists."""
        parts = self._split_parts(name)
        if not parts or len(parts) < 2:
            return None
        value = self.sp.Integer(1)
        for part in parts:
            value *= self.table.symbols.get(part, self.sp.pi)
        return value

    def _split_parts(self, name: str) -> list[str] | None:
        """The declared names (and pi) that spell `name` one after another, or None."""
        if (
            "^" in name
            or "_" in name
            or "{" in name
            or "'" in name
            or len(name) > 24
            or name in RESERVED
        ):
            return None
        known = [n for n in self.table.symbols if "{" not in n and "_" not in n]
        known += [n for n in ("pi",) if n not in self.table.declared]

        def split(rest: str) -> list[str] | None:
            if not rest:
                return []
            for part in sorted(known, key=len, reverse=True):
                if rest.startswith(part):
                    tail = split(rest[len(part) :])
                    if tail is not None:
                        return [part, *tail]
            return None

        return split(name)

    def _call_arguments(self, name: str) -> list[Any]:
        """f(a, b): the arguments. A conditional's bar separates them too, p(x ∣ z) is p(x, z)
        (the function's own printing puts the bar back), and so does a divergence's double
        bar, D_KL(P ‖ Q) is D_KL(P, Q): inside D_..( ) a ‖ is never a norm."""
        closer = "]" if self.token.text == "[" else ")"
        self._expect("[" if closer == "]" else "(")
        divergence = name.startswith("D_")
        self.in_norm += divergence
        self.in_arguments += 1
        if self._ellipsis_ahead():
            arguments = [self._argument_range()]
            self.in_arguments -= 1
            self.in_norm -= divergence
            self._expect(closer)
            return arguments
        # F(theta, phi, beta; x): the parameters before the semicolon, the data after it
        separators = (",", ";", GIVEN, NORM) if divergence else (",", ";", GIVEN)
        arguments = [self.expr()]
        while self.token.text in separators:
            self._advance()
            arguments.append(self.expr())
        self.in_arguments -= 1
        self.in_norm -= divergence
        self._expect(closer)
        return arguments

    def _ellipsis_ahead(self) -> bool:
        """An ellipsis … among this call's own arguments (not inside a nested call)."""
        depth = 0
        for token in self.tokens[self.index :]:
            if token.text in ("(", "[", SET_OPEN, BAR_OPEN):
                depth += 1
            elif token.text in (")", "]", SET_CLOSE, BAR_CLOSE):
                if depth == 0:
                    return False
                depth -= 1
            elif token.text == ELLIPSIS and depth == 0:
                return True
        return False

    def _argument_range(self) -> Any:
        """x_1, x_2, …, x_n as one argument: the items of base x with subscripts 1 to n, given by
        the first item and the range (the question's ArgumentRange for matrices, head_1, …,
        head_h; else sympy's undefined ArgumentRange). The items before … must count up by
        one; after … comes the last item alone."""
        sp = self.sp
        names: list[Token] = []
        gap = None
        while True:
            if self.token.text == ELLIPSIS and gap is None and names:
                gap = len(names)
                self._advance()
            elif self.token.kind == "name":
                names.append(self._advance())
            else:
                raise AnswerError("a list with … reads x_1, x_2, …, x_n (names with subscripts)")
            if self.token.text != ",":
                break
            self._advance()
        if gap is None or len(names) != gap + 1:
            raise AnswerError("… stands between the first items and the last: x_1, x_2, …, x_n")
        parts = [re.fullmatch(r"([A-Za-z]+)_\{?([A-Za-z0-9]+)\}?", t.text) for t in names]
        if not all(parts) or len({part.group(1) for part in parts}) != 1:
            raise AnswerError("the items around … share one name with subscripts: x_1, …, x_n")
        subscripts = []
        for part in parts:
            text = part.group(2)
            if text.isdigit():
                subscripts.append(sp.Integer(int(text)))
            elif text.isalpha():
                subscripts.append(self._bound_symbol(text, integer=True))
            else:
                raise AnswerError("a subscript around … is a number or a name: x_1, …, x_n")
        first, last = subscripts[0], subscripts[-1]
        if any(not s.is_Integer or s != first + k for k, s in enumerate(subscripts[:-1])):
            raise AnswerError("the items before … count up by one: x_1, x_2, …")
        if last.is_Integer and last <= subscripts[-2] + 1:
            raise AnswerError("… leaves items out: the last item comes after the gap")
        first_item = self._name(names[0], whole=True)
        if getattr(first_item, "is_Matrix", False):
            own = self.objects.get("ArgumentRange")
            if own is None or not isinstance(first_item, sp.MatrixSymbol):
                raise AnswerError(
                    "a list of matrices with … is read only where a question gives it"
                )
            return own(first_item, first, last)
        return sp.Function("ArgumentRange")(self._scalar(first_item, "an item"), first, last)

    def _as_argument(self, function: Any) -> Any | None:
        """A function named without its argument where an argument ends, V(G, D): the function
        itself (t ↦ D(t)); None elsewhere."""
        if self.in_arguments and self.token.text in (",", ")", ";", GIVEN, "]"):
            return function_as_argument(function)
        return None

    def _derivative_at(self, name: str, function: Any) -> Any:
        """f'(g(x)), f''(x): the derivative of the one-argument function f, evaluated at the
        argument (sympy's Subs of d/du f(u) at u = g(x); at a plain symbol x, df/dx)."""
        sp = self.sp
        order = len(name) - len(name.rstrip("'"))
        arguments = self._call_arguments(name)
        if len(arguments) != 1:
            raise AnswerError(f"{name}(..) of several arguments: write the partial derivative")
        point = self._scalar(arguments[0], f"{name}(..)")
        if isinstance(point, sp.Symbol) and point not in self.bound.values():
            return sp.Derivative(function(point), (point, order))
        u = sp.Dummy("u")
        return sp.Subs(sp.Derivative(function(u), (u, order)), u, point)

    def _call(self, name: str, arguments: list[Any]) -> Any:
        sp = self.sp
        arity = FUNCTIONS[name]
        if arity is not None and len(arguments) != arity:
            raise AnswerError(f"{name} takes {arity} argument{'s' if arity > 1 else ''}")
        arguments = [self._entry_of_1x1(self._operand(argument)) for argument in arguments]
        if any(getattr(argument.func, "__name__", "") == "ArgumentRange" for argument in arguments):
            raise AnswerError(f"{name}(x_1, …, x_n) is not worked out here: write the items")
        (x, *_) = arguments
        if name in ("abs", "Abs") and getattr(x, "is_Matrix", False):
            if not x.is_square:
                raise AnswerError("|A| of a matrix that is not square")
            return sp.Determinant(x)  # |A| of a matrix is its determinant
        if getattr(x, "is_Matrix", False):
            raise AnswerError(f"{name} of a matrix is not read")
        if name == "sqrt":
            return sp.sqrt(x)
        if name == "exp":
            return sp.exp(x)
        if name in ("log", "ln"):
            if x == 0:
                raise AnswerError("log(0) is undefined")
            return sp.log(x)
        if name == "sigmoid":
            return 1 / (1 + sp.exp(-x))
        if name == "softplus":
            return sp.log(1 + sp.exp(x))
        if name == "relu":
            return sp.Max(0, x)
        if name in ("abs", "Abs"):
            return sp.Abs(x)
        if name in ("max", "Max"):
            return sp.Max(*arguments)
        if name in ("min", "Min"):
            return sp.Min(*arguments)
        if name in ("arctan", "atan"):
            return sp.atan(x)
        if name in ("arcsin", "asin"):
            return sp.asin(x)
        if name in ("arccos", "acos"):
            return sp.acos(x)
        if name == "floor":
            return sp.floor(x)
        if name == "ceiling":
            return sp.ceiling(x)
        return getattr(sp, name)(x)  # sin cos tan sinh cosh tanh: names from the fixed table


def _spellings(name: str) -> list[str]:
    """The spellings of a superscripted name: x^(A) may be the question's x^A, x^{A} or x^{(A)}."""
    base, caret, rest = name.partition("^(")
    if not caret:
        return [name]
    exponent = rest.partition(")")[0]
    return [name, f"{base}^{{({exponent})}}", f"{base}^{{{exponent}}}", f"{base}^{exponent}"]


# A function passed as an argument, V(G, D), is the Lambda t ↦ D(t) over this one dummy (a fixed
# dummy_index makes every reading the same object); formulas.notation.function_argument builds
# the same Lambda for the registry's statements, and tests/test_parser_notation.py proves it.
FUNCTION_ARGUMENT_INDEX = 180_000_017


def function_as_argument(function: Any) -> Any:
    import sympy as sp

    t = sp.Dummy("t", dummy_index=FUNCTION_ARGUMENT_INDEX)
    return sp.Lambda(t, function(t))


def parse(text: str, symbols: dict[str, str] | None = None, structured: bool = False) -> Any:
    """The sympy expression for `text` over the declared `symbols`; AnswerError if unreadable.
    A tuple, a set or a function named alone is an answer only where the caller asks for one
    (`structured`): a quiz compares expressions, and (1, 2) is none."""
    if not isinstance(text, str):
        raise AnswerError("answer must be text")
    plain = normalize(text)
    tokens = tokenize(plain)
    value = _guarded(Parser(tokens, symbol_table(symbols or {})).parse)
    if not structured:
        import sympy as sp

        if isinstance(value, (sp.Tuple, sp.Set, sp.Lambda)):
            kind = {sp.Tuple: "a tuple", sp.Lambda: "a function named alone"}.get(type(value))
            raise AnswerError(f"{kind or 'a set'} is not an answer here: write one expression")
    return value


def parse_relation(
    text: str,
    symbols: dict[str, str] | None = None,
    scale: int = 1,
    objects: dict[str, Any] | None = None,
) -> Any:
    """A whole statement (`lhs = rhs`, `a \\le b`) as an unevaluated sympy relation, or an
    expression when there is no relation; AnswerError if unreadable. `scale` multiplies the
    length and token limits (a display formula of the registry is longer than an answer)."""
    if not isinstance(text, str):
        raise AnswerError("answer must be text")
    scale = max(1, min(int(scale), 20))
    tokens = tokenize(normalize(text, MAX_LENGTH * scale), MAX_TOKENS * scale)
    return _guarded(Parser(tokens, symbol_table(symbols or {}), objects).relation)


def _guarded(build: Any) -> Any:
    """sympy's own refusals while building (a Sum over a matrix, a bad Integral) become the
    parser's error: the student sees a message, never a traceback."""
    try:
        return build()
    except AnswerError:
        raise
    except (
        TypeError,
        ValueError,
        AttributeError,
        IndexError,
        RecursionError,
        NotImplementedError,
    ) as error:
        raise AnswerError(f"cannot read that expression ({type(error).__name__})") from None


def to_text(expr: Any) -> str:
    """A sympy expression in the plain answer syntax (what `parse` reads back)."""
    import sympy as sp

    return sp.sstr(expr, order="none")
