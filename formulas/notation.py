"""The course's notation: one display LaTeX per formula, and symbol names printed as the course
writes them.

Every place a formula reaches a student's eye (`cheatsheet show`, the quiz, the printed and HTML
sheets, Anki) shows `display_latex(formula)`. That text is not trusted: the registry-wide test
(tests/test_notation.py) reads each one back with the quiz's own LaTeX parser and proves it
equal to the formula's sympy statement, so what is read is what was proved.

- `DISPLAY[id]`: LaTeX written by hand in the sheet's notation (`p_{\\text{data}}`,
  `\\bar\\alpha_{t-1}`, `\\mathbb{E}`, `\\operatorname{sg}[\\cdot]`), for every formula whose
  statement sympy would print poorly.
- `ATOMS[id]`: where a statement still has an opaque symbol (a sympy Symbol named, say,
  `D_KL(p_data||p_model)`), the LaTeX that shows that one symbol. The read-back replaces the
  fragment by the symbol itself, so the rest of the formula is still proved; the test also checks
  that each fragment spells the symbol's letters.
- Everything else is printed from the statement by `course_latex`, whose symbol names follow the
  course (`alphabar_{t-1}` -> `\\bar\\alpha_{t-1}`, `p_data` -> `p_{\\text{data}}`).

Importing this module is cheap (no sympy until a function needs it).
"""

from __future__ import annotations

import re
from typing import Any

GREEK = {
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
    "nabla",
    "ell",
}
DECORATIONS = {"bar": r"\bar", "hat": r"\hat", "tilde": r"\tilde", "dot": r"\dot"}


def _letters(word: str) -> str:
    """One name part: a Greek letter, a single letter, or a word set upright (`data`, `MLE`)."""
    if word in GREEK:
        return "\\" + word
    if len(word) <= 1 or word.isdigit() or not word.isalpha():
        return word
    return rf"\text{{{word}}}"


def _head(word: str) -> str:
    """The name's main part, with a decoration written into it (`alphabar`, `xhat`)."""
    for suffix, command in DECORATIONS.items():
        if word.endswith(suffix) and len(word) > len(suffix):
            return f"{command}{{{_letters(word[: -len(suffix)])}}}"
    match = re.fullmatch(r"(hat|bar|tilde)\{(\w+)\}", word)
    if match:
        return f"{DECORATIONS[match.group(1)]}{{{_letters(match.group(2))}}}"
    return _letters(word)


def _subscript(text: str) -> str:
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    parts = re.split(r"([^A-Za-z]+)", text)
    return "".join(_letters(part) if part.isalpha() else part for part in parts)


def _subscript_latex(text: str) -> str:
    """A subscript's letters in the course's notation (theta -> \\theta, a' stays)."""
    text = text.strip("{}")
    return re.sub(r"[A-Za-z]+", lambda m: _letters(m.group(0)), text)


def symbol_latex(name: str) -> str:
    """A registry symbol name in the course's notation:
    `alphabar_{t-1}` -> `\\bar{\\alpha}_{t-1}`, `p_data` -> `p_{\\text{data}}`,
    `mu_tilde_t` -> `\\tilde{\\mu}_{t}`, `x_hat_i` -> `\\hat{x}_{i}`.
    Names it cannot read (opaque phrases) come back as sympy would print them."""
    gradient = re.fullmatch(r"nabla([A-Za-z])", name)
    if gradient:  # nablaL: the gradient of L, \nabla L (a function of the point)
        return rf"\nabla {gradient.group(1)}"
    bold = re.fullmatch(r"(mathbf|boldsymbol|bm)\{(\w+)\}", name)
    if bold:  # a matrix set in bold to tell it from a size (\mathbf{W} against the width W)
        return rf"\{bold.group(1)}{{{bold.group(2)}}}"
    primes = len(name) - len(name.rstrip("'"))
    name = whole = name.rstrip("'")
    # a superscript that is part of the name: a layer delta^(l), an optimum D^*, T^*V, f^{-1}
    upper = re.search(
        r"\^(\{?\(([^()]*)\)\}?|\*[A-Za-z]*(?:_(?:\{[^{}]*\}|[\w*]+))*|\{-1\})$", name
    )
    if upper:
        name = name[: upper.start()]
        text = upper.group(1)
        if upper.group(2) is not None:
            upper = "^{(" + upper.group(2) + ")}"
        elif text.startswith("*"):
            upper = "^{*}" + (symbol_latex(text[1:]) if text[1:] else "")
        else:
            upper = "^{-1}"
    else:
        upper = ""
    match = re.fullmatch(r"(hat\{\w+\}|[A-Za-z]+)('*)((?:_(?:\{[^{}]*\}|[A-Za-z0-9*]+))*)", name)
    if not match:
        return phrase_latex(whole) + "'" * primes  # a phrase, read word by word
    head, rest = match.group(1), match.group(3)
    primes += len(match.group(2))
    parts = re.findall(r"_(\{[^{}]*\}|[A-Za-z0-9*]+)", rest)
    # `mu_tilde_t`, `x_hat_i`: a decoration written as the first subscript.
    if parts and parts[0] in DECORATIONS:
        head, parts = head + parts[0], parts[1:]
    latex = _head(head) + "'" * primes
    if parts:
        latex += "_{" + ",".join(_subscript(part) for part in parts) + "}"
    return latex + upper


# Words of an opaque name that are operators (`tr S`, `adj(A)`, `log p(x|z)`), and the names
# written with a subscript that is not an index (`D_KL`, `E_q`, `max_U`, `sum_i`).
PHRASE_WORDS = {
    "log": r"\log",
    "exp": r"\exp",
    "tr": r"\operatorname{tr}",
    "adj": r"\operatorname{adj}",
    "diag": r"\operatorname{diag}",
    "sg": r"\operatorname{sg}",
    "relu": r"\operatorname{relu}",
}
PHRASE_HEADS = {"D": "D", "E": r"\mathbb{E}", "max": r"\max", "min": r"\min", "sum": r"\sum"}
_PHRASE_TOKEN = re.compile(
    r"(?P<macro>(?:mathcal|mathbf|bar|hat|tilde)\{\w+\})"
    r"|(?P<word>[A-Za-z]+(?:_(?:\{[^{}]*\}|<?[A-Za-z0-9*]+(?::[A-Za-z0-9]+)?))*'*)"
    r"|(?P<upper>\^(?:\([^()]*\)|\{[^{}]*\}|\*|[A-Za-z0-9]))"
    r"|(?P<lower>_(?:\{[^{}]*\}|[A-Za-z0-9]+))"
    r"|(?P<comment>\(\d+-[A-Za-z]+(?: [A-Za-z]+)*\))"
    r"|(?P<norm>\|\|)|(?P<given>\s*\|\s*)|(?P<dot> \. )|(?P<dots>\.\.\.)|(?P<hash>\#)"
    r"|(?P<other>.)",
    re.DOTALL,
)


def _phrase_word(word: str) -> str:
    head, _, rest = word.partition("_")
    if word in PHRASE_WORDS:
        return PHRASE_WORDS[word]
    if head == "log" and rest:  # log_p(c): the log of p(c), as written
        return r"\log " + _phrase_word(rest)
    if head in PHRASE_HEADS and rest and not rest.startswith("{"):
        if head == "D":  # a divergence: D_KL, D_JS
            return rf"D_{{\mathrm{{{rest}}}}}"
        return PHRASE_HEADS[head] + "_{" + _subscript_latex(rest) + "}"
    # x_<i, x_1:T: an index that is a range, braced so that the name reads whole
    word = re.sub(r"_(<?[A-Za-z0-9*]+:[A-Za-z0-9]+|<[A-Za-z0-9]+)", r"_{\1}", word)
    return symbol_latex(word)


def phrase_latex(phrase: str) -> str:
    """An opaque name that is a phrase (`D_KL(p_d || m)`, `tr S`, `alpha^(i) . x_<i`,
    `E_tau[...] (2-step MDP)`): each word in the course's notation (symbol_latex), operators
    as the sheet writes them (\\log, \\operatorname{tr}, D_{\\mathrm{KL}}, \\mathbb{E}_q),
    `||` as \\|, a lone `|` as \\mid, ` . ` as \\cdot, `...` as \\dots; anything else as
    written (LaTeX reads + - / ( ) [ ] , alike). A phrase with braces of its own that do not
    pair is left as it is (it would not compile either way)."""
    if phrase.count("{") != phrase.count("}"):
        return phrase
    derivative = re.fullmatch(r"d(\S+)/d(\S+)", phrase)
    if derivative:  # dh_t/dW: a derivative named as a ratio, \\frac{\\partial h_t}{\\partial W}
        top, bottom = (phrase_latex(part) for part in derivative.groups())
        return rf"\frac{{\partial {top}}}{{\partial {bottom}}}"
    pieces = []
    for token in _PHRASE_TOKEN.finditer(phrase):
        kind, text = token.lastgroup, token.group()
        if kind == "macro":
            pieces.append("\\" + text)
        elif kind == "word":
            pieces.append(_phrase_word(text))
        elif kind == "upper":
            inner = text[1:]
            if inner.startswith("{") and inner.endswith("}"):
                inner = inner[1:-1]
            pieces.append("^{" + inner + "}")
        elif kind == "lower":
            pieces.append("_{" + _subscript(text[1:]) + "}")
        elif kind == "comment":  # (2-step MDP): words, not a product of letters
            pieces.append(rf"\text{{{text}}}")
        elif kind == "norm":
            pieces.append(r"\|")
        elif kind == "given":
            pieces.append(r" \mid ")
        elif kind == "dot":
            pieces.append(r" \cdot ")
        elif kind == "dots":
            pieces.append(r"\dots")
        elif kind == "hash":
            pieces.append(r"\#")
        else:
            pieces.append(text)
    return "".join(pieces)


def course_latex(expr: Any) -> str:
    """sympy's LaTeX of `expr` with every symbol printed in the course's notation: names as
    the course writes them, `norm(x, 2)` as \\|x\\|_2, an undefined function's name like a
    symbol's (`p_theta` -> `p_{\\theta}`)."""
    import sympy as sp

    names = {}
    atoms = atom_latex()
    for symbol in getattr(expr, "free_symbols", ()):
        if isinstance(symbol, (sp.Symbol, sp.MatrixSymbol)):
            # an opaque name a display form spells out by hand (ATOMS) prints as it does there
            names[symbol] = atoms.get(symbol.name) or symbol_latex(symbol.name)
    text = _latex_printer()(dict(symbol_names=names)).doprint(expr)
    # A name such as `#params` would be TeX's macro parameter: escape the `#`.
    return re.sub(r"(?<!\\)#", r"\\#", text)


_ATOM_LATEX: dict[str, str] = {}


def atom_latex() -> dict[str, str]:
    """{opaque name: its LaTeX} from every formula's ATOMS (one spelling per name, the same in
    every formula), so a derivation step prints `D_KL(p_data||p_model)` as its formula's
    display does."""
    if not _ATOM_LATEX:
        for spellings in ATOMS.values():
            for name, latex in spellings.items():
                if not IDENTIFIER_NAME.fullmatch(name):
                    _ATOM_LATEX.setdefault(name, latex)
    return _ATOM_LATEX


# A name symbol_latex reads itself (x_hat_i, p_data): ATOMS spells these out only as a display
# form's fragment, which a step must not borrow (x_hat_i is \hat{x}_{i} wherever it stands).
IDENTIFIER_NAME = re.compile(r"[A-Za-z]+'*(?:_(?:\{[^{}]*\}|[A-Za-z0-9]+))*'*")


_PRINTER_CLASS: list[Any] = []


def _latex_printer():
    """sympy's LatexPrinter with the course's functions (built once, lazily: sympy is heavy)."""
    if _PRINTER_CLASS:
        return _PRINTER_CLASS[0]
    from sympy.core.function import AppliedUndef
    from sympy.printing.latex import LatexPrinter
    from sympy.printing.precedence import PRECEDENCE

    class CourseLatexPrinter(LatexPrinter):
        def _print_Determinant(self, expr, exp=None):
            import sympy as sp

            factor, self._determinant_factor = getattr(self, "_determinant_factor", False), False
            try:
                inner = self._print(expr.arg)
            finally:
                self._determinant_factor = factor
            if isinstance(expr.arg, sp.MatrixSymbol):
                text = rf"\det {inner}"  # \det J, as the sheet writes it
            else:
                text = rf"\det\left({inner}\right)"
            if exp is None and factor and isinstance(expr.arg, sp.MatrixSymbol):
                return rf"\left({text}\right)"  # a factor of a product: (\det A) A^{-1}
            return text if exp is None else rf"\left({text}\right)^{{{exp}}}"

        def _print_MatrixElement(self, expr):
            """The entry of a 1 x 1 product (v^T A^{-1} u) is that product itself, as the
            sheet writes it (and the parser reads a 1 x 1 product beside a number as its
            entry); any other entry keeps sympy's M_{i,j}."""
            parent = expr.parent
            if tuple(parent.shape) == (1, 1) and (expr.i, expr.j) == (0, 0):
                return self.parenthesize(parent, PRECEDENCE["Mul"], strict=True)
            return super()._print_MatrixElement(expr)

        def _print_MatMul(self, expr):
            """det A A^{-1} would read as det(A A^{-1}): in a product a determinant is
            bracketed, (\\det A) A^{-1} (the flag tells _print_Determinant it is a factor)."""
            import sympy as sp

            if not expr.has(sp.Determinant):
                return super()._print_MatMul(expr)
            self._determinant_factor = True
            try:
                return super()._print_MatMul(expr)
            finally:
                self._determinant_factor = False

        def _print_KroneckerDelta(self, expr, exp=None):  # the sheet's Iverson bracket [i = j]
            left, right = (self._print(argument) for argument in expr.args)
            text = f"[{left} = {right}]"
            return text if exp is None else rf"\left({text}\right)^{{{exp}}}"

        def _print_HadamardProduct(self, expr):  # the sheet's elementwise product
            return super()._print_HadamardProduct(expr).replace(r"\circ", r"\odot")

        def _print_Derivative(self, expr):
            import sympy as sp

            (variable, *rest) = expr.variables
            named = expr.expr.is_Symbol or isinstance(expr.expr, sp.MatrixSymbol)
            if not rest and named and expr.expr != variable:
                # dL/dW^(l): a named gradient (of a bare name L), \frac{\partial L}{\partial W}
                top, bottom = self._print(expr.expr), self._print(variable)
                return rf"\frac{{\partial {top}}}{{\partial {bottom}}}"
            bracketed = getattr(self, "_bracketed_derivatives", frozenset())
            if expr in bracketed:  # a factor with factors after it: (d/dx g(x)) f'(g(x))
                self._bracketed_derivatives = bracketed - {expr}
                try:
                    return r"\left(" + super()._print_Derivative(expr) + r"\right)"
                finally:
                    self._bracketed_derivatives = bracketed
            return super()._print_Derivative(expr)

        def _print_Mul(self, expr):
            """d/dx g(x) f'(g(x)) would read as the derivative of the whole product: a
            derivative written as an operator, \\frac{d}{dx}, with factors after it is
            bracketed."""
            import sympy as sp

            factors = [factor for factor in expr.as_ordered_factors() if not factor.is_number]
            ahead = {
                factor
                for factor in factors[:-1]
                if isinstance(factor, sp.Derivative)
                and not (
                    len(factor.variables) == 1
                    and (factor.expr.is_Symbol or isinstance(factor.expr, sp.MatrixSymbol))
                )
            }
            if not ahead:
                return super()._print_Mul(expr)
            before = getattr(self, "_bracketed_derivatives", frozenset())
            self._bracketed_derivatives = before | ahead
            try:
                return super()._print_Mul(expr)
            finally:
                self._bracketed_derivatives = before

        def _print_Subs(self, expr):
            """f'(g(x)) for a one-argument function's derivative (the sheet's (f o g)' =
            f'(g) g'); otherwise the evaluation bar \\left. .. \\right|_{u = g(x)}."""
            prime = derivative_at(expr)
            if prime is not None:
                function, order, point = prime
                head = symbol_latex(function)
                if "^" not in head:  # f^{-1}' would be a double superscript: use the bar
                    return head + "'" * order + r"\left(" + self._print(point) + r"\right)"
            body, variables, points = expr.args
            at = ", ".join(
                f"{self._print(variable)} = {self._print(point)}"
                for variable, point in zip(variables, points)
            )
            return r"\left. " + self._print(body) + r" \right|_{" + at + "}"

        def _print_Heaviside(self, expr, exp=None):
            """The sheet's Iverson bracket [x > 0] (the step's value at 0 says > or >=)."""
            import sympy as sp

            argument, *value_at_zero = expr.args
            if value_at_zero and value_at_zero[0] in (sp.Integer(0), sp.Integer(1)):
                relation = r"\geq" if value_at_zero[0] == 1 else ">"
                text = f"[{self._print(argument)} {relation} 0]"
                return text if exp is None else rf"\left({text}\right)^{{{exp}}}"
            return super()._print_Heaviside(expr, exp)

        def _print_ConditionSet(self, expr):
            """{x in R^3 : f(x) = 0}, the set-builder the sheet writes."""
            variable, condition, base = expr.args
            return (
                r"\left\{"
                + f"{self._print(variable)} \\in {self._print(base)} : {self._print(condition)}"
                + r"\right\}"
            )

        def _print_Lambda(self, expr):
            named = function_named(expr)  # a function passed as an argument: V(G, D)
            return symbol_latex(named) if named else super()._print_Lambda(expr)

        def _print_Pow(self, expr):
            import sympy as sp

            if isinstance(expr.base, sp.Determinant):  # (\det W)^{HW}, never \det W^{HW}
                return self._print_Determinant(expr.base, exp=self._print(expr.exp))
            return super()._print_Pow(expr)

        def _print_Function(self, expr, exp=None):
            if not isinstance(expr, AppliedUndef):
                return super()._print_Function(expr, exp)
            name = expr.func.__name__
            arguments = [self._print(argument) for argument in expr.args]
            if name == "norm":  # the parser's norm: \\|x\\| or \\|x\\|_p
                text = rf"\left\|{arguments[0]}\right\|"
                if len(arguments) > 1:
                    text += "_{" + arguments[1] + "}"
                return text if exp is None else f"{text}^{{{exp}}}"
            elif re.fullmatch(r"(arg)?(max|min)_.+|(sup|inf)_.+", name):  # \max_{a'}, \sup_D
                kind, _, variable = name.partition("_")
                plain = kind in ("max", "min", "sup", "inf")
                head = rf"\{kind}" if plain else rf"\operatorname{{{kind}}}"
                text = (
                    head
                    + "_{"
                    + _subscript_latex(variable)
                    + r"}\left("
                    + ", ".join(arguments)
                    + r"\right)"
                )
            elif name == "N":  # the normal density N(mean, covariance), \mathcal{N} on the sheet
                text = r"\mathcal{N}\left(" + ", ".join(arguments) + r"\right)"
            elif name in ("ROT180", "sg", "diag", "Concat"):  # the sheet's named operators
                text = rf"\operatorname{{{name}}}\left(" + ", ".join(arguments) + r"\right)"
            else:
                head = symbol_latex(name)
                # f, I' and f^{-1} print as they are named; a longer unknown name is sympy's
                if head == name and not re.fullmatch(r"[A-Za-z]'*(\^\{-1\})?'*", name):
                    return super()._print_Function(expr, exp)
                text = head + r"\left(" + ", ".join(arguments) + r"\right)"
            if exp is not None:
                return rf"\left({text}\right)^{{{exp}}}"
            return text

    _PRINTER_CLASS.append(CourseLatexPrinter)
    return CourseLatexPrinter


# --------------------------------------------------------------------------------------------
# Functions that print as the course writes them (and that the parser reads back):
# a conditional density p(x | z), a divergence D_KL(P || Q), an expectation E_q[..].


def derivative_at(expr: Any) -> tuple[str, int, Any] | None:
    """(f, n, point) when `expr` is the n-th derivative of a one-argument function f evaluated
    at `point` (sympy's Subs(d^n/du^n f(u), u, point)), the sheet's f'(point); else None."""
    import sympy as sp
    from sympy.core.function import AppliedUndef

    body, variables, points = expr.args
    if len(variables) != 1 or not isinstance(body, sp.Derivative):
        return None
    (variable,), (point,) = variables, points
    inner = body.expr
    if not isinstance(inner, AppliedUndef) or inner.args != (variable,):
        return None
    if set(body.variables) != {variable} or len(body.variables) > 3:
        return None
    return inner.func.__name__, len(body.variables), point


# A function passed as an argument, V(G, D), is the Lambda t -> D(t) over one fixed dummy; the
# answer parser (quizzes.parser.function_as_argument) builds the same one (formulas sits below
# quizzes, so this mirrors it; tests/test_parser_notation.py proves the two agree).
FUNCTION_ARGUMENT_INDEX = 180_000_017


def function_argument(function: Any) -> Any:
    """`function` as an argument of another function (V(G, D)): the Lambda t -> function(t)."""
    import sympy as sp

    t = sp.Dummy("t", dummy_index=FUNCTION_ARGUMENT_INDEX)
    return sp.Lambda(t, function(t))


def function_named(expr: Any) -> str | None:
    """The name of the function a Lambda t -> F(t) passes along, or None for another Lambda."""
    import sympy as sp
    from sympy.core.function import AppliedUndef

    if not isinstance(expr, sp.Lambda):
        return None
    body = expr.expr
    if isinstance(body, AppliedUndef) and body.args == expr.variables:
        return body.func.__name__
    return None


def _notation_function(name: str, latex, text, **assumptions):
    """An undefined sympy function whose applications print by `latex(printer, args)` and
    `text(printer, args)` (its str, its one-line Unicode form and its 2D form)."""
    import sympy as sp
    from sympy.printing.pretty.stringpict import prettyForm

    return sp.Function(
        name,
        **assumptions,
        __dict__={
            "_latex": lambda self, printer: latex(printer, self.args),
            "_sympystr": lambda self, printer: text(printer, self.args),
            "_pretty": lambda self, printer: prettyForm(unicode_line(self)),
        },
    )


_OPERATORS: dict[str, Any] = {}


def named_operator(name: str):
    """An operator the sheet names in capitals with digits, ROT180(w): an undefined function
    printed with its whole name in every form. sympy's own 2D printer would read the trailing
    digits as a subscript (ROT₁₈₀); the LaTeX is \\operatorname{ROT180}(..), which the answer
    parser reads back."""
    if name in _OPERATORS:
        return _OPERATORS[name]
    import sympy as sp
    from sympy.printing.pretty.stringpict import prettyForm, stringPict

    def latex(self, printer):
        inner = ", ".join(printer._print(argument) for argument in self.args)
        return rf"\operatorname{{{name}}}\left({inner}\right)"

    def text(self, printer):
        return f"{name}({', '.join(printer._print(argument) for argument in self.args)})"

    def pretty(self, printer):
        arguments = prettyForm(*printer._print_seq(self.args, delimiter=", ").parens())
        return prettyForm(*stringPict.next(prettyForm(name), arguments), binding=prettyForm.FUNC)

    _OPERATORS[name] = sp.Function(
        name, __dict__={"_latex": latex, "_sympystr": text, "_pretty": pretty}
    )
    return _OPERATORS[name]


_RANGES: list[Any] = []


def subscripted(name: str) -> tuple[str, str] | None:
    """(base, subscript) of a name `head_1` / `head_h` / `x_{n}` (one subscript), else None."""
    match = re.fullmatch(r"([A-Za-z]+)_\{?([A-Za-z0-9]+)\}?", name)
    if match:
        return match.group(1), match.group(2)
    shown = re.fullmatch(r"([A-Za-z]+)([₀-₉]+)", name)  # renamed for the 2D printer: head₁
    if shown:
        return shown.group(1), shown.group(2).translate(str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789"))
    return None


def argument_range():
    """head_1, head_2, ..., head_h: the arguments of a pattern the sheet leaves out with dots,
    one matrix argument `ArgumentRange(head_1, 1, h)` (the first item names the base and the
    shape of each item; the items run over subscripts 1..h). Its shape is the items side by
    side, so Concat(head_1, ..., head_h) is T x (h D/h). It prints as the sheet writes the
    list (two items, \\dots, the last) and the answer parser reads that list back to it."""
    if _RANGES:
        return _RANGES[0]
    import sympy as sp

    class ArgumentRange(sp.MatrixExpr):
        def __new__(cls, first_item, first, last):
            return sp.Basic.__new__(cls, first_item, sp.sympify(first), sp.sympify(last))

        @property
        def shape(self):
            first_item, first, last = self.args
            rows, columns = first_item.shape
            return (rows, columns * (last - first + 1))

        def item(self, subscript):
            first_item = self.args[0]
            base, _ = subscripted(first_item.name)
            name = f"{base}_{subscript}"
            if "_" not in first_item.name:  # renamed for the 2D printer (head₁): head₂ alike
                name = unicode_name(name)
            return sp.MatrixSymbol(name, *first_item.shape)

        def shown(self, printer, named: bool = False) -> list[str]:
            first_item, first, last = self.args
            # two items before the dots (as the sheet writes them) unless the range is known
            # to be shorter
            short = (last - first).is_number and last - first <= 1
            items = [first_item] if short else [first_item, self.item(first + 1)]
            items.append(self.item(last))
            return [item.name if named else printer._print(item) for item in items]

        def _latex(self, printer):  # the items are names: printed as the course writes them
            shown = [symbol_latex(item) for item in self.shown(printer, named=True)]
            return ", ".join(shown[:-1]) + r", \dots, " + shown[-1]

        def _sympystr(self, printer):
            *start, end = self.shown(printer)
            return ", ".join(start) + ", …, " + end

        def _pretty(self, printer):
            from sympy.printing.pretty.stringpict import prettyForm

            return prettyForm(unicode_line(self))

    _RANGES.append(ArgumentRange)
    return ArgumentRange


_CROSS: list[Any] = []


def cross_operator():
    """a × b, the cross product of two 3-vectors kept unevaluated (`.doit()` gives its entries),
    printed a × b in every form; the answer parser builds it for `a \\times b` when a question
    brings it by name (Cross)."""
    if _CROSS:
        return _CROSS[0]
    import sympy as sp
    from sympy.printing.pretty.stringpict import prettyForm

    class Cross(sp.MatrixExpr):
        def __new__(cls, left, right):
            return sp.Basic.__new__(cls, sp.sympify(left), sp.sympify(right))

        @property
        def shape(self):
            return self.args[0].shape

        def doit(self, **hints):
            left, right = (argument.doit(**hints) for argument in self.args)
            if all(isinstance(side, sp.MatrixBase) for side in (left, right)):
                return sp.ImmutableMatrix(left.cross(right))
            return type(self)(left, right)

        def _entry(self, i, j, **kwargs):
            return self.doit()[i, j]

        def _latex(self, printer):
            left, right = (printer._print(side) for side in self.args)
            return rf"{left} \times {right}"

        def _sympystr(self, printer):
            left, right = (printer._print(side) for side in self.args)
            return f"{left} × {right}"

        def _pretty(self, printer):
            left, right = (printer._print(side) for side in self.args)
            return prettyForm(*left.right(" × ", right))

    _CROSS.append(Cross)
    return Cross


_FUNCTIONALS: dict[str, Any] = {}


def functional(name: str):
    """A function of functions, V(G, D) (the GAN game's value of the generator G and the
    discriminator D): an undefined function whose arguments, built by `function_argument`,
    print as the functions' names in every form (LaTeX, one line, 2D)."""
    if name in _FUNCTIONALS:
        return _FUNCTIONALS[name]

    def shown(printer, argument, latex: bool) -> str:
        named = function_named(argument)
        if named is None:
            return printer._print(argument)
        return symbol_latex(named) if latex else unicode_name(named).replace("^*", "*")

    def latex(printer, args):
        inner = ", ".join(shown(printer, argument, True) for argument in args)
        return symbol_latex(name) + r"\left(" + inner + r"\right)"

    def text(printer, args):
        inner = ", ".join(shown(printer, argument, False) for argument in args)
        return f"{unicode_name(name)}({inner})"

    _FUNCTIONALS[name] = _notation_function(name, latex, text)
    return _FUNCTIONALS[name]


def _head_text(printer, name: str) -> str:
    import sympy as sp

    return printer._print(sp.Symbol(name))


def conditional(name: str, given: int = 1):
    """p(x | z): an undefined function whose last `given` arguments are what it is conditioned
    on; `conditional("q_phi")(z, x)` prints `q_{\\phi}(z \\mid x)` and reads back as q_phi(z, x)."""

    def split(printer, args):
        shown = [printer._print(argument) for argument in args]
        if len(shown) <= given:  # P(A): a marginal, nothing to condition on
            return shown, []
        return shown[: len(shown) - given], shown[len(shown) - given :]

    def latex(printer, args):
        outcome, condition = split(printer, args)
        inner = ", ".join(outcome) + (r" \mid " + ", ".join(condition) if condition else "")
        return symbol_latex(name) + r"\left(" + inner + r"\right)"

    def text(printer, args):
        outcome, condition = split(printer, args)
        inner = ", ".join(outcome) + ("|" + ", ".join(condition) if condition else "")
        return f"{_head_text(printer, name)}({inner})"

    return _notation_function(name, latex, text)


def divergence(name: str = "D_KL"):
    """D_KL(P || Q): a two-place function printed with the double bar."""

    def latex(printer, args):
        left, right = (printer._print(argument) for argument in args)
        head = r"D_{\mathrm{" + name.partition("_")[2] + "}}"
        return head + r"\left(" + left + r" \,\|\, " + right + r"\right)"

    def text(printer, args):
        left, right = (printer._print(argument) for argument in args)
        return f"{_head_text(printer, name)}({left} || {right})"

    return _notation_function(name, latex, text)


# Every label an expectation was built with (the layer test checks each against the parser).
EXPECTATION_LABELS: set[str] = set()


def _label_name(label_latex: str) -> str:
    """The letters and digits of an expectation's label as the answer parser spells them
    (`z \\sim q_{\\phi}(z \\mid x)` -> `zqphizx`, `\\hat{x}` -> `xhat`): relations and
    punctuation drop out, accents follow their letter, other commands keep their name.
    formulas sits below quizzes, so this mirrors the parser rather than importing it;
    tests/test_notation.py proves the two agree for every label the registry uses."""
    text = re.sub(r"\\(mid|sim|,|;|!|quad)(?![A-Za-z])", " ", label_latex)
    text = re.sub(r"\\(hat|tilde|bar)\{([^{}]*)\}", r"\2\1", text)
    text = re.sub(r"\\([A-Za-z]+)", r"\1", text)
    return re.sub(r"[^A-Za-z0-9]", "", text)


def expectation(label_latex: str, label_text: str):
    """E_{label}[..]: the expectation the sheet writes `\\mathbb{E}_{label}[..]`, an undefined
    function of its body named as the parser names it (E_ + the label's letters and digits)."""
    EXPECTATION_LABELS.add(label_latex)
    name = "E_" + _label_name(label_latex)

    def latex(printer, args):
        (body,) = (printer._print(argument) for argument in args)
        return r"\mathbb{E}_{" + label_latex + r"}\left[" + body + r"\right]"

    def text(printer, args):
        (body,) = (printer._print(argument) for argument in args)
        return f"E_{{{label_text}}}[{body}]"

    return _notation_function(name, latex, text)


def gradient(variable: str):
    """nabla_x f: the gradient in `variable` of what follows, an undefined function of its body
    named as the parser names \\nabla_{x} (nabla_ + the variable); `gradient("theta")(J(theta))`
    prints `\\nabla_{\\theta} J(\\theta)` and reads back as nabla_theta(J(theta))."""
    import sympy as sp

    name = "nabla_" + variable

    def shown(printer, args, wrap):
        (body,) = args
        text = printer._print(body)
        return wrap(text) if isinstance(body, (sp.Add, sp.Mul)) else text

    def latex(printer, args):
        body = shown(printer, args, lambda text: r"\left(" + text + r"\right)")
        return r"\nabla_{" + symbol_latex(variable) + "} " + body

    def text(printer, args):
        return f"∇_{unicode_name(variable)} " + shown(printer, args, lambda text: f"({text})")

    return _notation_function(name, latex, text)


def partial(immediate: bool = False):
    """d top / d bottom as one factor that keeps its place in a product (noncommutative):
    `partial()(L_t, h_t)` prints `\\frac{\\partial L_t}{\\partial h_t}`; `partial(True)` is
    the immediate derivative d^+ h_k / d W (h_{k-1} held fixed), `\\frac{\\partial^{+} h_k}
    {\\partial W}`. The parser reads both fractions back (as partial / partialplus)."""
    mark = "^{+}" if immediate else ""

    def latex(printer, args):
        top, bottom = (printer._print(argument) for argument in args)
        return rf"\frac{{\partial{mark} {top}}}{{\partial {bottom}}}"

    def text(printer, args):
        top, bottom = (printer._print(argument) for argument in args)
        return f"∂{'⁺' if immediate else ''}{top}/∂{bottom}"

    name = "partialplus" if immediate else "partial"
    return _notation_function(name, latex, text, commutative=False)


def display_latex(formula: Any) -> str | None:
    """The one LaTeX shown for this formula everywhere (None when it has no statement)."""
    if formula.id in DISPLAY:
        return DISPLAY[formula.id]
    if formula.statement_builder is None:
        return formula.latex_override
    statement = formula.statement
    if statement is True or statement is False or type(statement).__name__.startswith("Boolean"):
        return formula.latex_override  # a statement that collapsed to True/False shows nothing
    return course_latex(statement)


# --------------------------------------------------------------------------------------------
# One readable Unicode line (the terminal's fallback when the 2D form is too wide)

UNICODE_GREEK = {
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
    "ell": "ℓ",
}
DECORATED = {"alphabar": "ᾱ", "abar": "ᾱ", "alpha_bar": "ᾱ"}
SUPERSCRIPT = str.maketrans("0123456789-+()n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁽⁾ⁿ")
SUBSCRIPT = str.maketrans("0123456789-+()", "₀₁₂₃₄₅₆₇₈₉₋₊₍₎")
COMBINING = {"tilde": "\u0303", "hat": "\u0302", "bar": "\u0304"}


def unicode_name(name: str) -> str:
    """A registry symbol name as a reader writes it: alphabar_{t-1} -> ᾱ_{t-1}, sigma_q -> σ_q,
    mu_tilde_t -> μ̃_t, x_hat_i -> x̂_i."""
    if re.fullmatch(r"nabla[A-Za-z]", name):
        return "∇" + name[-1]
    if name.endswith("^{-1}") and len(name) > 5:  # an inverse function f_1^{-1}: f₁⁻¹
        return unicode_name(name[:-5]) + "⁻¹"
    decorated = re.fullmatch(r"(hat|bar|tilde)\{([A-Za-z]+)\}", name)
    if decorated:  # hat{p} -> p̂
        return (
            UNICODE_GREEK.get(decorated.group(2), decorated.group(2))
            + COMBINING[decorated.group(1)]
        )
    bold = re.fullmatch(r"(?:mathbf|boldsymbol|bm)\{([A-Za-z])\}", name)
    if bold:  # \mathbf{W}: the bold letter (a matrix, told from a size W)
        import unicodedata

        letter = bold.group(1)
        case = "CAPITAL" if letter.isupper() else "SMALL"
        return unicodedata.lookup(f"MATHEMATICAL BOLD {case} {letter.upper()}")
    for spelled, letter in DECORATED.items():
        if name == spelled or name.startswith(spelled + "_"):
            return letter + unicode_name_rest(name[len(spelled) :])
    head, sep, rest = name.partition("_")
    mark = ""
    decoration, _, after = rest.partition("_")
    if decoration in COMBINING:
        mark, rest, sep = COMBINING[decoration], after, "_" if after else ""
    return UNICODE_GREEK.get(head, head) + mark + (unicode_name_rest(sep + rest) if sep else "")


def unicode_name_rest(rest: str) -> str:
    """The subscript part: digits become subscript digits when that is all there is."""
    if not rest:
        return ""
    inner = rest[1:].strip("{}")
    if re.fullmatch(r"[0-9+\-()]+", inner):
        return inner.translate(SUBSCRIPT)
    shown = "".join(UNICODE_GREEK.get(word, word) for word in re.split(r"(\W)", inner))
    return "_" + shown if len(shown) == 1 else "_{" + shown + "}"


def _printer():
    """A sympy StrPrinter that writes one Unicode line (built lazily: sympy is heavy)."""
    import sympy as sp
    from sympy.printing.precedence import PRECEDENCE, precedence
    from sympy.printing.str import StrPrinter

    class UnicodeLinePrinter(StrPrinter):
        def _print_Symbol(self, expr):
            # an optimum's star (T^*V, v_*) as ∗: _print_Mul turns the product's * into ·
            return unicode_name(expr.name).replace("*", "∗")

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
            factors = list(expr.args)
            sign = ""
            if factors and factors[0] == -1:  # -A·B, not (-1)·A·B
                sign, factors = "-", factors[1:]
            return sign + "·".join(self.parenthesize(arg, precedence(expr)) for arg in factors)

        def _print_MatPow(self, expr):
            base, exponent = expr.args
            shown = self.parenthesize(base, PRECEDENCE["Pow"], strict=True)
            if exponent.is_Integer:  # A⁻¹, A², never A**(-1)
                return shown + str(exponent).translate(SUPERSCRIPT)
            return f"{shown}^{self.parenthesize(exponent, PRECEDENCE['Pow'], strict=True)}"

        def _print_Inverse(self, expr):  # Inverse(A) is MatPow(A, -1): A⁻¹
            return self._print_MatPow(expr)

        def _print_Transpose(self, expr):
            return self.parenthesize(expr.arg, PRECEDENCE["Pow"]) + "ᵀ"

        def _print_KroneckerDelta(self, expr):
            return f"[{self._print(expr.args[0])} = {self._print(expr.args[1])}]"

        def _print_Heaviside(self, expr):
            argument, *value_at_zero = expr.args
            relation = "≥" if value_at_zero and value_at_zero[0] == 1 else ">"
            return f"[{self._print(argument)} {relation} 0]"

        def _print_Subs(self, expr):
            prime = derivative_at(expr)
            if prime is not None:  # f'(g(x)); (f⁻¹)'(y) for a name with a superscript
                function, order, point = prime
                head = unicode_name(function)
                head = head if re.fullmatch(r"\w+", head) else f"({head})"
                return f"{head}{chr(39) * order}({self._print(point)})"
            body, variables, points = expr.args
            at = ", ".join(
                f"{self._print(v)} = {self._print(p)}" for v, p in zip(variables, points)
            )
            return f"{self._print(body)} |_({at})"

        def _print_ConditionSet(self, expr):
            variable, condition, base = expr.args
            shown = {"ProductSet(Reals, Reals, Reals)": "ℝ³", "Reals": "ℝ"}.get(str(base))
            return (
                f"{{{self._print(variable)} ∈ {shown or self._print(base)} : "
                f"{self._print(condition)}}}"
            )

        def _print_Lambda(self, expr):
            named = function_named(expr)  # a function passed as an argument: V(G, D)
            return unicode_name(named) if named else super()._print_Lambda(expr)

        def _print_MatrixBase(self, expr):  # [a, b; c, d], as latex_text writes a matrix
            rows = (", ".join(self._print(entry) for entry in row) for row in expr.tolist())
            return "[" + "; ".join(rows) + "]"

        _print_ImmutableDenseMatrix = _print_MutableDenseMatrix = _print_MatrixBase
        _print_ImmutableMatrix = _print_Matrix = _print_DenseMatrix = _print_MatrixBase

        def _print_HadamardProduct(self, expr):
            return " ⊙ ".join(self.parenthesize(arg, PRECEDENCE["Mul"]) for arg in expr.args)

        def _print_Determinant(self, expr):
            if isinstance(expr.arg, sp.MatrixSymbol):
                return f"det {self._print(expr.arg)}"
            return f"det({self._print(expr.arg)})"

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
            if expr.func.__name__ == "norm":  # the parser's norm(x, p): ‖x‖ₚ
                order = "".join(self._print(a) for a in expr.args[1:])
                return f"‖{self._print(expr.args[0])}‖" + order.translate(SUBSCRIPT).replace(
                    "oo", "∞"
                )
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
            (variable, *rest) = expr.variables
            named = expr.expr.is_Symbol or isinstance(expr.expr, sp.MatrixSymbol)
            if not rest and named and expr.expr != variable:
                return f"∂{self._print(expr.expr)}/∂{self._print(variable)}"  # dL/dW^(l)
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
            indices = ",".join(sp.sstr(index) for index in expr.indices)  # t - 1, in order
            if re.fullmatch(r"[A-Za-z0-9]", indices):
                return f"{unicode_name(str(expr.base.label))}_{indices}"
            return f"{unicode_name(str(expr.base.label))}_{{{indices}}}"

        def _print(self, expr, **kwargs):
            if isinstance(expr, sp.Indexed):  # x_t, not sympy's own x[t] (its _sympystr)
                return self._print_Indexed(expr)
            return super()._print(expr, **kwargs)

    return UnicodeLinePrinter(dict(order="none"))


def unicode_line(expr: Any) -> str:
    """One readable line for a sympy expression or relation."""
    return _printer().doprint(expr)


# --------------------------------------------------------------------------------------------
# Hand-written display forms (course notation). Each is read back and proved equal to the
# statement by tests/test_notation.py.

DISPLAY: dict[str, str] = {
    # generative
    "mle-kl": r"\mathbb{E}_{x \sim p_{\text{data}}}\!\left[-\log p_{\text{model}}(x)\right]"
    r" = D_{\mathrm{KL}}(p_{\text{data}} \,\|\, p_{\text{model}}) + H(p_{\text{data}})",
    # autoregressive
    "tabular-param-count": r"\#\text{params}\big(p(x_i \mid x_{<i})\big) = 2^{i-1}",
    "tabular-total-param-count": r"\#\text{params} = 2^{n} - 1",
    "fvsbn-param-count": r"\#\text{params} = \frac{n(n+1)}{2}",
    "nade-param-count": r"\#\text{params} = 2nd + n + d",
    "nade-conditionals": r"\hat{x}_i = \sigma(V_{i} h_i + c_i)",
    "fvsbn-conditional": r"f_i = \frac{1}{1 + e^{-\alpha^{(i)\top} x_{<i} - \alpha^{(i)}_0}}",
    "vq-vae-loss": r"L = -\log p(x \mid z_q(x)) + \|\operatorname{sg}[z_e(x)] - e\|_2^2"
    r" + \beta\, \|z_e(x) - \operatorname{sg}[e]\|_2^2",
    "bits-per-dim": r"\text{bits/dim} = \frac{\text{NLL}_{\text{nats}}}{D \ln 2}",
    "autoregressive-factorisation": r"p(x) = \prod_{i=1}^{n} p(x_i \mid x_{<i})",
    # gan
    "fid": r"\text{FID} = \|\mu_1 - \mu_2\|_2^2"
    r" + \operatorname{Tr}\!\left(\Sigma_1 + \Sigma_2 - 2\,(\Sigma_1 \Sigma_2)^{1/2}\right)",
    "cross-entropy-decomposition": r"H(p_d, p_m) = D_{\mathrm{KL}}(p_d \,\|\, p_m) + H(p_d)",
    # body
    "smpl-joint-regressor": r"J(\beta) = \mathcal{J}\,(S \beta + \bar{T})",
    # autoregressive (PixelCNN, MADE)
    "pixelcnn-mask": r"p(x) = \prod_{i=1}^{n^2} p(x_{i,R} \mid \mathbf{x}_{<i})\,"
    r" p(x_{i,G} \mid \mathbf{x}_{<i}, x_{i,R})\,"
    r" p(x_{i,B} \mid \mathbf{x}_{<i}, x_{i,R}, x_{i,G})",
    "made-mask": r"M^{W}_{k,d} = \begin{cases} 1 & \text{if } d \leq m(k) \\"
    r" 0 & \text{otherwise} \end{cases}",
    # optimizers
    "nesterov-update": r"\theta_{\text{new}} = \theta + \alpha v"
    r" - \epsilon\, \nabla L(\theta + \alpha v)",
    # implicit
    "igr-eikonal-loss": r"L = \sum_{i=1}^{N} |f_{\theta}(x_i)|^2 + \lambda\, \mathbb{E}_{x}\!\left["
    r"\left(\|\nabla_{x} f_{\theta}(x)\| - 1\right)^2\right]",
    # rl
    "policy-gradient": r"\nabla_{\theta} J(\theta) = \mathbb{E}_{\tau}\!\left[\left(\sum_{t=1}^{T}"
    r" \nabla_{\theta} \log \pi_{\theta}(a_t \mid s_t)\right)\left(\sum_{t=1}^{T} \gamma^{t}\,"
    r" r(s_t, a_t)\right)\right]",
    # cnn
    "max-pool-gradient": r"\delta_i^{(l-1)} = [i = i^*]\, \delta^{(l)}",
    # flows
    "affine-coupling-logdet": r"\log\left|\det J\right| = \sum_{i=1}^{d_A} s_i",
    "actnorm-logdet": r"\log\left|\det J\right| = H \cdot W \cdot \sum_{i=1}^{C} \log|s_i|",
    "conv1x1-logdet": r"\log\left|\det J\right| = H \cdot W \cdot \log\left|\det \mathbf{W}\right|",
    "conv1x1-lu-layer-logdet": r"\log\left|\det J\right| = H \cdot W \cdot \sum_{i=1}^{C}"
    r" \log|s_i|",
    "srflow-affine-injector-logdet": r"\log\left|\det J\right| = \sum_{i=1}^{H} \sum_{j=1}^{W}"
    r" \sum_{k=1}^{C} \beta_{\theta,s}^{(n)}(u_{i,j,k})",
    # diffusion
    "diffusion-elbo": r"\log p(x_0) \geq \mathbb{E}_{q(x_1 \mid x_0)}\!\left["
    r"\log p_{\theta}(x_0 \mid x_1)\right] - D_{\mathrm{KL}}(q(x_T \mid x_0) \,\|\, p(x_T))"
    r" - \sum_{t=2}^{T} \mathbb{E}_{q(x_t \mid x_0)}\!\left[D_{\mathrm{KL}}("
    r"q(x_{t-1} \mid x_t, x_0) \,\|\, p_{\theta}(x_{t-1} \mid x_t))\right]",
    # vae
    "vae-marginal-likelihood": r"p_{\theta}(x) = \int_{-\infty}^{\infty}"
    r" p_{\theta}(x \mid z)\, p_{\theta}(z) \, dz",
    "elbo-decomposition": r"\log p_{\theta}(x) = \mathbb{E}_{z \sim q_{\phi}(z \mid x)}\!\left["
    r"\log p_{\theta}(x \mid z)\right]"
    r" - D_{\mathrm{KL}}(q_{\phi}(z \mid x) \,\|\, p_{\theta}(z))"
    r" + D_{\mathrm{KL}}(q_{\phi}(z \mid x) \,\|\, p_{\theta}(z \mid x))",
    "beta-vae-objective": r"F(\theta, \phi, \beta; x) = \mathbb{E}_{z \sim q_{\phi}(z \mid x)}\!"
    r"\left[\log p_{\theta}(x \mid z)\right]"
    r" - \beta\, D_{\mathrm{KL}}(q_{\phi}(z \mid x) \,\|\, p(z)) + \beta \delta",
    # math: the derivative rules as the sheet writes them, (f o g)' = f'(g) g'
    "chain-rule": r"\frac{d}{dx} f(g(x)) = f'(g(x))\, \frac{d}{dx} g(x)",
    "matrix-determinant-lemma": r"\det\left(A + u v^\top\right)"
    r" = \left(1 + v^\top A^{-1} u\right) \det A",
    # implicit: the splat's opacity (v^T A^{-1} u above and here is a 1 x 1 product, a number)
    "splat-opacity": r"\alpha = o \exp\left(-\frac{1}{2}\, (x - \mu')^\top \Sigma'^{-1}"
    r" (x - \mu')\right)",
    # flows: the coupling layer's Jacobian, J = (h' h' beta'; 0 1) on the sheet
    "coupling-jacobian": r"J = \begin{pmatrix} \frac{\partial}{\partial x^A} h(x^A, \beta(x^B))"
    r" & \left. \frac{\partial}{\partial b} h(x^A, b) \right|_{b = \beta(x^B)}\,"
    r" \frac{d}{d x^B} \beta(x^B) \\ 0 & 1 \end{pmatrix}",
    # math: n := a x b, in the sheet's component order
    "cross-product": r"\begin{pmatrix} a_1 \\ a_2 \\ a_3 \end{pmatrix} \times"
    r" \begin{pmatrix} b_1 \\ b_2 \\ b_3 \end{pmatrix} = \begin{pmatrix} a_2 b_3 - a_3 b_2"
    r" \\ a_3 b_1 - a_1 b_3 \\ a_1 b_2 - a_2 b_1 \end{pmatrix}",
    "kl-divergence": r"D_{\mathrm{KL}}(P \,\|\, Q)"
    r" = \int_{-\infty}^{\infty} p(x) \log \frac{p(x)}{q(x)} \, dx",
}

# Opaque statement symbols: {formula id: {symbol name: the LaTeX shown for it}}.
ATOMS: dict[str, dict[str, str]] = {
    "mle-kl": {
        "E_{p_data}[-log p_model(x)]": r"\mathbb{E}_{x \sim p_{\text{data}}}\!\left[-\log"
        r" p_{\text{model}}(x)\right]",
        "D_KL(p_data||p_model)": r"D_{\mathrm{KL}}(p_{\text{data}} \,\|\, p_{\text{model}})",
        "H(p_data)": r"H(p_{\text{data}})",
    },
    "tabular-param-count": {"n_params": r"\#\text{params}\big(p(x_i \mid x_{<i})\big)"},
    "tabular-total-param-count": {"#params": r"\#\text{params}"},
    "fvsbn-param-count": {"#params": r"\#\text{params}"},
    "nade-param-count": {"#params": r"\#\text{params}"},
    "nade-conditionals": {"V_i . h_i": r"V_{i} h_i", "x_hat_i": r"\hat{x}_i"},
    "fvsbn-conditional": {
        "alpha^(i) . x_<i": r"\alpha^{(i)\top} x_{<i}",
        "alpha_0^(i)": r"\alpha^{(i)}_0",
    },
    "vq-vae-loss": {
        "log p(x|z_q(x))": r"\log p(x \mid z_q(x))",
        "||sg[z_e(x)] - e||^2": r"\|\operatorname{sg}[z_e(x)] - e\|_2^2",
        "||z_e(x) - sg[e]||^2": r"\|z_e(x) - \operatorname{sg}[e]\|_2^2",
    },
    "bits-per-dim": {"bits/dim": r"\text{bits/dim}"},
    "autoregressive-factorisation": {"p(x)": "p(x)", "p_conditional": r"p(x_i \mid x_{<i})"},
    "pixelcnn-mask": {
        "p(x)": "p(x)",
        "p_R": r"p(x_{i,R} \mid \mathbf{x}_{<i})",
        "p_G": r"p(x_{i,G} \mid \mathbf{x}_{<i}, x_{i,R})",
        "p_B": r"p(x_{i,B} \mid \mathbf{x}_{<i}, x_{i,R}, x_{i,G})",
    },
    "fid": {"||mu_1 - mu_2||^2": r"\|\mu_1 - \mu_2\|_2^2"},
    "kl-divergence": {"D_KL(P||Q)": r"D_{\mathrm{KL}}(P \,\|\, Q)"},
    "smpl-joint-regressor": {
        "J(beta)": r"J(\beta)",
        "mathcal{J}": r"\mathcal{J}",
        "bar{T}": r"\bar{T}",
    },
    "conv1x1-logdet": {"mathbf{W}": r"\mathbf{W}"},  # the kernel matrix; W is the width
    "cross-entropy-decomposition": {
        "H(p_d, p_m)": r"H(p_d, p_m)",
        "D_KL(p_d || p_m)": r"D_{\mathrm{KL}}(p_d \,\|\, p_m)",
        "H(p_d)": r"H(p_d)",
    },
}


# --------------------------------------------------------------------------------------------
# LaTeX as a terminal reads it: the sheet's and the errata's LaTeX strings, shown in a terminal
# (errata, spot-the-error options), as Unicode text (\mathcal N -> 𝒩, \frac{a}{b} -> (a)/(b),
# \sqrt{D} -> √(D), \alpha -> α). The LaTeX itself is what the exports render.

_LATEX_SYMBOLS = {
    "sim": "~",
    "Rightarrow": "⇒",
    "rightarrow": "→",
    "to": "→",
    "leftarrow": "←",
    "mapsto": "↦",
    "leq": "≤",
    "le": "≤",
    "geq": "≥",
    "ge": "≥",
    "neq": "≠",
    "approx": "≈",
    "propto": "∝",
    "cdot": "·",
    "times": "×",
    "odot": "⊙",
    "circ": "∘",
    "infty": "∞",
    "partial": "∂",
    "nabla": "∇",
    "sum": "Σ",
    "prod": "Π",
    "int": "∫",
    "in": "∈",
    "forall": "∀",
    "exists": "∃",
    "mid": "|",
    "|": "‖",
    "top": "ᵀ",
    "ldots": "…",
    "dots": "…",
    "cdots": "⋯",
    "pm": "±",
    "emptyset": "∅",
    "cup": "∪",
    "cap": "∩",
    "subset": "⊂",
    "langle": "⟨",
    "rangle": "⟩",
    "lfloor": "⌊",
    "rfloor": "⌋",
    "{": "{",
    "}": "}",
    "%": "%",
    "&": "&",
}
_SPACES = {",", ";", ":", "!", " ", "quad", "qquad"}
_DROPPED = {"left", "right", "big", "Big", "bigg", "Bigg", "displaystyle", "limits"}
_WORDS = {"log", "exp", "det", "max", "min", "sup", "inf", "arg", "sin", "cos", "tanh", "lim"}
_FONTS = {"text", "mathrm", "operatorname", "textrm", "mathit", "textit", "emph", "boldsymbol"}
_LETTER_STYLES = {
    "mathcal": "𝒜ℬ𝒞𝒟ℰℱ𝒢ℋℐ𝒥𝒦ℒℳ𝒩𝒪𝒫𝒬ℛ𝒮𝒯𝒰𝒱𝒲𝒳𝒴𝒵",
    "mathbb": "𝔸𝔹ℂ𝔻𝔼𝔽𝔾ℍ𝕀𝕁𝕂𝕃𝕄ℕ𝕆ℙℚℝ𝕊𝕋𝕌𝕍𝕎𝕏𝕐ℤ",
}


def _group(text: str, start: int) -> tuple[str, int]:
    """The argument at `start` (after spaces): a {...} group's inside, a command's name, or one
    character; and where it ends."""
    while start < len(text) and text[start] == " ":
        start += 1
    if start >= len(text):
        return "", start
    if text[start] == "{":
        depth = 0
        for index in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[index], 0)
            if depth == 0:
                return text[start + 1 : index], index + 1
        return text[start + 1 :], len(text)
    if text[start] == "\\":
        match = re.match(r"\\([A-Za-z]+|.)", text[start:])
        return match.group(0), start + match.end()
    return text[start], start + 1


# Superscripts a terminal font draws well (layer indices ^(l+1), transposes, inverses).
_SUPERSCRIPT_PLAIN, _SUPERSCRIPT_SHOWN = "0123456789-+()nlikLT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁽⁾ⁿˡⁱᵏᴸᵀ"
LAYER_SUPERSCRIPT = str.maketrans(_SUPERSCRIPT_PLAIN, _SUPERSCRIPT_SHOWN)


def _enclosed(text: str) -> bool:
    """One pair of parentheses encloses all of `text` ("(a + b)", not "(a)(b)")."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for index, character in enumerate(text):
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth == 0 and index < len(text) - 1:
            return False
    return True


def _atomic(text: str) -> bool:
    """Needs no parentheses as a numerator or denominator: a name, a number, √(..), (..), a
    function applied, log(σ²)."""
    name = r"[\w.′'∂ᵀ⁻¹²^*\u0300-\u036f]+"
    if re.fullmatch(name, text):
        return True
    if text.startswith("√"):
        return len(text) == 2 or _enclosed(text[1:])
    applied = re.fullmatch(name + r"(\(.*\))", text)
    return _enclosed(text) or bool(applied and _enclosed(applied.group(1)))


def _script(inner: str, table, mark: str) -> str:
    """A sub- or superscript: Unicode script characters when every one has one, else mark+()."""
    plain = latex_text(inner)
    if mark == "^":
        table = LAYER_SUPERSCRIPT
        # (i)\top: script characters already (ᵀ from \top) mix with ones to translate
        if plain and all(c in _SUPERSCRIPT_SHOWN or c.translate(table) != c for c in plain):
            return plain.translate(table)
    if plain and all(character.translate(table) != character for character in plain):
        return plain.translate(table)
    if len(plain) == 1 or _enclosed(plain) or (mark == "_" and plain.isalnum()):
        return mark + plain
    return f"{mark}({plain})"


def _matrix(body: str, opening: str = "[", closing: str = "]", gap: str = ", ") -> str:
    """A matrix's rows `[a, b; c, d]`; bare (no brackets) where \\left[ .. \\right] already
    draws them (sympy's LaTeX); a case's value and condition joined by `gap`."""
    rows = [row for row in re.split(r"\\\\", body) if row.strip()]
    cells = "; ".join(gap.join(latex_text(cell).strip() for cell in row.split("&")) for row in rows)
    return opening + cells + closing


def latex_text(latex: str, fragment: bool = False) -> str:
    """`latex` as readable Unicode text for a terminal (never sympy code, never a backslash).
    A `fragment` is a piece of a longer formula (formulas.latex_layout), where a leading minus
    may be binary: it keeps its space."""
    out: list[str] = []
    index = 0
    text = latex
    while index < len(text):
        character = text[index]
        if character == "\\":
            match = re.match(r"\\([A-Za-z]+|.)", text[index:])
            if not match:
                index += 1
                continue
            name, index = match.group(1), index + match.end()
            if name == "begin":
                environment, after = _group(text, index)
                end = text.find(r"\end{" + environment + "}", after)
                end = len(text) if end < 0 else end
                body = text[after:end]
                index = end + len(r"\end{" + environment + "}")
                if environment == "cases":
                    out.append(_matrix(body, "{ ", " }", gap=" "))
                elif environment == "matrix":
                    out.append(_matrix(body, "", ""))
                elif environment == "vmatrix":
                    out.append(_matrix(body, "|", "|"))
                elif "matrix" in environment:
                    out.append(_matrix(body))
                else:
                    out.append(latex_text(body))
            elif name == "frac":
                numerator, index = _group(text, index)
                denominator, index = _group(text, index)
                top, bottom = latex_text(numerator), latex_text(denominator)
                wrap = lambda part: part if _atomic(part) else f"({part})"  # noqa: E731
                out.append(f"{wrap(top)}/{wrap(bottom)}")
            elif name == "sqrt":
                argument, index = _group(text, index)
                inner = latex_text(argument)
                out.append("√" + (inner if len(inner) == 1 else f"({inner})"))
            elif name in ("xrightarrow", "overset", "stackrel"):
                label, index = _group(text, index)
                if name != "xrightarrow":
                    base, index = _group(text, index)
                    out.append(latex_text(base) + "^(" + latex_text(label) + ")")
                else:
                    out.append(f" —{latex_text(label)}→ ")
            elif name in ("hat", "bar", "tilde", "overline", "widehat", "widetilde", "vec", "dot"):
                argument, index = _group(text, index)
                inner = latex_text(argument)
                accent = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar",
                          "tilde": "tilde", "widetilde": "tilde"}.get(name)  # fmt: skip
                if accent and len(inner) == 1:
                    out.append(inner + COMBINING[accent])
                else:
                    out.append(f"{name}({inner})")
            elif name in _LETTER_STYLES or name in ("mathbf", "bm"):
                argument, index = _group(text, index)
                letters = latex_text(argument)
                if name in _LETTER_STYLES and len(letters) == 1 and letters.isupper():
                    out.append(_LETTER_STYLES[name][ord(letters) - ord("A")])
                else:
                    out.append(letters)
            elif name in _FONTS:
                argument, index = _group(text, index)
                out.append(latex_text(argument))
            elif name in _SPACES:
                out.append("" if name == "!" else " ")
            elif name in ("left", "right"):
                if text[index : index + 1] == ".":  # \left. draws nothing (an evaluation bar)
                    index += 1
            elif name in _DROPPED:
                pass
            elif name == "substack":  # stacked limits of a sum: one after the other
                argument, index = _group(text, index)
                rows = [row for row in re.split(r"\\\\", argument) if row.strip()]
                out.append(", ".join(latex_text(row) for row in rows))
            elif name == "\\":
                out.append("; ")
            elif name in UNICODE_GREEK:
                out.append(UNICODE_GREEK[name])
            elif name in _LATEX_SYMBOLS:
                out.append(_LATEX_SYMBOLS[name])
            elif name in _WORDS:
                follows = text[index:]
                bracket = follows[:1] in ("_", "^", "(", "{") or re.match(r"\\left\b", follows)
                out.append(name + (" " if follows and not bracket else ""))
            else:
                out.append(name)  # an unknown command keeps its name, never its backslash
        elif character in "_^":
            argument, index = _group(text, index + 1)
            table = SUBSCRIPT if character == "_" else SUPERSCRIPT
            out.append(_script(argument, table, character))
        elif character in "{}":
            index += 1
        elif character == "~":
            out.append(" ")
            index += 1
        else:
            out.append(character)
            index += 1
    joined = re.sub(r" {2,}", " ", "".join(out)).strip()
    unary = r"(?<=[(\[,])- " if fragment else r"(^|(?<=[(\[,]))- "
    joined = re.sub(unary + r"(?=[\w(√∂∇])", "-", joined)  # sympy's "(- x" reads "(-x"
    joined = re.sub(r"([(\[]) (?=\S)", r"\1", joined)  # "log(σ² )": no space inside brackets
    joined = re.sub(r"(?<=\S) ([)\]])", r"\1", joined)
    return re.sub(r"([∂∇]) ", r"\1", joined)  # \partial h reads ∂h
