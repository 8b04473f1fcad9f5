"""Proving a formula: its derivation is a chain that ends in the formula's own statement.

`prove(formula)` checks three things and says which failed:
1. every step holds (its own check: simplify / equals / numeric / custom, or a given premise);
2. the steps form a chain: each non-premise step's left side *is* the previous one's right
   side, relations compose (= with <= gives <=; <= with >= breaks the chain), every premise
   is used by a later step and every used name is a premise stated before it;
3. the chain concludes in the statement: first left side, composed relation, last right side
   is the formula's statement (sides equal as built, or proved equal under the formula's
   declared identities).

`derivation_report(formula)` is the same proof rendered for the CLI and the exports, cached on
disk keyed by a hash of the formula's module source, this module, the core, the notation
printer and sympy's version; a fresh install reads the same reports from formulas/proofs.json
(shipped, used only when its key and library versions match: formulas/shipped.py).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from formulas.core import Formula, Step, StepResult, _simplifies_to_equal, substitute

_FLIP = {"=": "=", "<=": ">=", ">=": "<=", "<": ">", ">": "<"}


def compose(first: str, second: str) -> str | None:
    """The relation of a chain a R1 b R2 c between a and c; None when it does not compose."""
    if first == "=":
        return second
    if second == "=":
        return first
    down = {"<=", "<"}
    up = {">=", ">"}
    for family, strict in ((down, "<"), (up, ">")):
        if first in family and second in family:
            return strict if strict in (first, second) else first
    return None


def statement_parts(statement: Any) -> tuple[Any, str, Any] | None:
    """(lhs, relation, rhs) of an Eq / Le / Ge / Lt / Gt statement; None for anything else."""
    import sympy as sp

    kinds = {
        sp.Equality: "=",
        sp.LessThan: "<=",
        sp.GreaterThan: ">=",
        sp.StrictLessThan: "<",
        sp.StrictGreaterThan: ">",
    }
    for kind, relation in kinds.items():
        if isinstance(statement, kind):
            return statement.lhs, relation, statement.rhs
    return None


@dataclass
class Link:
    number: int  # 1-based step number
    step: Step
    result: StepResult
    role: str  # "chain" | "premise"
    lhs: Any = None  # the step's left side as used by the chain (filled from the previous rhs)
    link_ok: bool = True
    link_detail: str = ""


@dataclass
class Proof:
    formula_id: str
    kind: str
    links: list[Link] = field(default_factory=list)
    chain_ok: bool = True
    concludes: bool = False
    relation: str | None = None
    first_lhs: Any = None
    last_rhs: Any = None
    failures: list[str] = field(default_factory=list)

    @property
    def steps_pass(self) -> bool:
        return all(link.result.passed for link in self.links)

    @property
    def passed(self) -> bool:
        return self.steps_pass and self.chain_ok and self.concludes

    @property
    def conclusion(self) -> Any:
        """The chain's overall claim as a sympy relational (or None when it has no chain)."""
        if self.first_lhs is None or self.relation is None:
            return None
        return _relational(self.first_lhs, self.relation, self.last_rhs)


def _relational(lhs: Any, relation: str, rhs: Any) -> Any:
    import sympy as sp

    make = {"=": sp.Eq, "<=": sp.Le, ">=": sp.Ge, "<": sp.Lt, ">": sp.Gt}[relation]
    if lhs is None or rhs is None:
        return None
    try:
        return make(lhs, rhs, evaluate=False)
    except (TypeError, sp.SympifyError):
        return sp.Tuple(lhs, sp.Symbol(relation), rhs)


def _same(a: Any, b: Any, identities: dict) -> bool:
    if a == b:
        return True
    if identities:
        a, b = substitute(a, identities), substitute(b, identities)
        if a == b:
            return True
        return _simplifies_to_equal(a, b)
    return False


def _equal_under_identities(a: Any, b: Any, identities: dict) -> bool:
    if a == b:
        return True
    if identities:
        a, b = substitute(a, identities), substitute(b, identities)
    return _simplifies_to_equal(a, b)


def _substitutions(step: Step, premises: dict[str, Step]) -> dict:
    """A used premise `symbol = expression` (or f(x) = expression, det J = expression) is
    substituted."""
    import sympy as sp

    table = {}
    for name in step.uses:
        premise = premises.get(name)
        if premise is None or premise.relation != "=" or premise.lhs is None:
            continue
        lhs = sp.sympify(premise.lhs)
        substitutable = (
            sp.Symbol,
            sp.Indexed,
            sp.MatrixSymbol,
            sp.core.function.AppliedUndef,
            sp.Determinant,  # a lemma det J = ..., det J of a named matrix
        )
        # a named gradient: dL/dW^(l) (in a matrix) or dC/dw^(l), the derivative of a bare name
        gradient = isinstance(lhs, sp.Derivative) and (
            lhs.expr.is_Symbol or any(isinstance(v, sp.MatrixSymbol) for v in lhs.variables)
        )
        # a log-density, log p(c | x) = log p(x | c) - log p(x) + log p(c) (Bayes)
        log_density = isinstance(lhs, sp.log) and isinstance(lhs.args[0], substitutable)
        named = getattr(lhs, "named_application", 0)
        if isinstance(lhs, substitutable) or gradient or log_density or named:
            table[lhs] = sp.sympify(premise.rhs)
    return table


def prove(formula: Formula, seed: int = 0) -> Proof:
    """Check every step, the chain, and that the chain concludes in the statement."""
    import sympy as sp

    proof = Proof(formula.id, formula.kind)
    if not formula.has_derivation:
        proof.chain_ok = False
        proof.failures.append(f"{formula.id} has no derivation ({formula.kind})")
        return proof
    identities = dict(formula.identities)
    premises: dict[str, Step] = {}
    used: set[str] = set()
    previous_rhs = None
    relation: str | None = "="
    for number, step in enumerate(formula.derivation, start=1):
        if step.is_premise:
            result = step.check(seed=seed)
            link = Link(number, step, result, "premise", lhs=step.lhs)
            if step.name in premises:
                link.link_ok = False
                link.link_detail = f"premise name '{step.name}' is used twice"
            premises[step.name] = step
            proof.links.append(link)
            continue
        lhs = step.lhs
        link_ok, link_detail = True, ""
        if lhs is None:
            if previous_rhs is None:
                link_ok, link_detail = False, "the first step of the chain needs a left side"
            lhs = previous_rhs
        elif previous_rhs is not None and not _same(sp.sympify(lhs), sp.sympify(previous_rhs), {}):
            link_ok = False
            link_detail = (
                f"broken link: its left side is not step {_last_chain_number(proof)}'s right side"
            )
        unknown = [name for name in step.uses if name not in premises]
        if unknown:
            link_ok = False
            link_detail = (link_detail + "; " if link_detail else "") + (
                f"uses {', '.join(unknown)}, not a premise stated before it"
            )
        used.update(step.uses)
        table = identities | _substitutions(step, premises)
        if lhs is None:
            result = StepResult(False, "refused", "no left side")
        else:
            checked = Step(**{**step.__dict__, "lhs": lhs})
            result = checked.check(seed=seed, identities=table)
        if proof.first_lhs is None:
            proof.first_lhs = lhs
        composed = compose(relation, step.relation) if relation is not None else None
        if composed is None and relation is not None:
            link_ok = False
            link_detail = (link_detail + "; " if link_detail else "") + (
                f"relation {step.relation} does not compose with {relation} before it"
            )
        relation = composed
        previous_rhs = step.rhs
        link = Link(number, step, result, "chain", lhs=lhs, link_ok=link_ok)
        link.link_detail = link_detail
        proof.links.append(link)
    for name in premises:
        if name not in used:
            proof.failures.append(f"premise '{name}' is never used by a later step")
    for link in proof.links:
        if not link.link_ok:
            proof.failures.append(f"step {link.number}: {link.link_detail}")
        if not link.result.passed:
            proof.failures.append(f"step {link.number} fails: {link.result.detail}")
    proof.chain_ok = all(link.link_ok for link in proof.links) and not any(
        "never used" in failure for failure in proof.failures
    )
    proof.relation = relation
    proof.last_rhs = previous_rhs
    if proof.first_lhs is None:
        proof.failures.append("the derivation has no chain (only premises)")
        return proof
    proof.concludes = _concludes(formula, proof, identities)
    if not proof.concludes:
        proof.failures.append(
            "the chain does not conclude in the statement: it proves "
            f"{sp.sstr(proof.conclusion)}, the statement is {sp.sstr(formula.statement)}"
        )
    return proof


def _last_chain_number(proof: Proof) -> int:
    chain = [link.number for link in proof.links if link.role == "chain"]
    return chain[-1] if chain else 0


def _concludes(formula: Formula, proof: Proof, identities: dict) -> bool:
    import sympy as sp

    parts = statement_parts(formula.statement)
    if parts is None or proof.relation is None:
        return False
    lhs, relation, rhs = parts
    first, last = sp.sympify(proof.first_lhs), sp.sympify(proof.last_rhs)
    if (
        relation == proof.relation
        and _equal_under_identities(first, lhs, identities)
        and _equal_under_identities(last, rhs, identities)
    ):
        return True
    # a = b is also b = a; a >= b is b <= a
    return (
        _FLIP[relation] == proof.relation
        and _equal_under_identities(first, rhs, identities)
        and _equal_under_identities(last, lhs, identities)
    )


# --------------------------------------------------------------------------------------------
# Status for every caller (derive, errata, export, quiz hints): one function each


def erratum_status(evidence_builder) -> tuple[Any, str]:
    """(Evidence, state) for an erratum or claim; a missing extra is 'not checked here'."""
    from formulas.core import Evidence

    try:
        evidence = evidence_builder()
    except ModuleNotFoundError as error:
        evidence = Evidence(
            None,
            None,
            f"not checked in this install: needs '{error.name}' (pip install 'cheatsheet[models]')",
        )
    return evidence, evidence.state


# --------------------------------------------------------------------------------------------
# Rendered, cached report (CLI, exports)


def _cache_dir() -> Path:
    home = os.environ.get("CHEATSHEET_HOME")
    if home:
        return Path(home) / "cache"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("cheatsheet"))


@cache
def source_digest(path: str) -> bytes:
    """SHA-256 of a source file, read once per process (an export hashes each topic module
    for every one of its formulas)."""
    return hashlib.sha256(Path(path).read_bytes()).digest()


def _key(formula: Formula) -> str:
    """A hash of everything a formula's report and display depend on: the modules that build
    its statement, derivation and properties, the helpers they share (formulas._chain), the
    core, this module, the printer of its Unicode/course forms (formulas.notation), sympy's
    version and the id. The user cache and the shipped results (formulas.shipped) use it."""
    import formulas._chain
    import formulas.core
    import formulas.notation

    digest = hashlib.sha256()
    modules = [formulas.core, inspect.getmodule(prove), formulas._chain, formulas.notation]
    for builder in (
        formula.statement_builder,
        formula.derivation_builder,
        formula.properties_builder,
    ):
        if builder is not None:
            module = inspect.getmodule(builder)
            if module is not None and module not in modules:
                modules.append(module)
    for source_module in modules:
        digest.update(source_digest(inspect.getfile(source_module)))
    digest.update(version("sympy").encode())
    digest.update(formula.id.encode())
    return digest.hexdigest()[:32]


def _unicode_line(expression: Any) -> str:
    """One readable line (the terminal's form when the 2D one is too wide); never fatal."""
    from formulas.notation import unicode_line

    try:
        return unicode_line(expression)
    except Exception:  # noqa: BLE001 - a printer gap falls back to sympy's text
        import sympy as sp

        return sp.sstr(expression)


def _course_latex(expression: Any) -> str:
    """The LaTeX a student reads (the HTML/PDF sheet, `derive --json`): the course's notation,
    as the display forms write it (formulas.notation.course_latex: \\bar{\\alpha}_{t-1} for
    alphabar_{t-1}, \\|x\\|_2, [x > 0], f'(g(x))); never fatal, sympy's own LaTeX if the
    course printer has a gap."""
    import sympy as sp

    from formulas.notation import course_latex

    try:
        return course_latex(expression)
    except Exception:  # noqa: BLE001 - a printer gap costs notation, not the report
        return sp.latex(expression)


def _render(expression: Any) -> dict[str, str] | None:
    if expression is None:
        return None
    import sympy as sp

    try:
        rendered_srepr = sp.srepr(expression)
    except Exception:  # noqa: BLE001
        rendered_srepr = repr(expression)
    return {
        "text": sp.sstr(expression),
        "unicode": _unicode_line(expression),
        "latex": _course_latex(expression),
        "srepr": rendered_srepr,
    }


def _render_step(step: Step, result: StepResult, lhs: Any, **extra: Any) -> dict[str, Any]:
    return {
        "claim": step.claim,
        "lhs": _render(lhs),
        "rhs": _render(step.rhs),
        "relation": step.relation,
        "justification": step.justification,
        "assumptions": step.assumptions,
        "premise": step.premise,
        "name": step.name or None,
        "uses": list(step.uses),
        "passed": bool(result.passed),
        "method": result.method,
        "detail": result.detail,
        **extra,
    }


def build_report(formula: Formula) -> dict[str, Any]:
    """The proof (or a definition's property checks) as plain data."""
    report: dict[str, Any] = {"id": formula.id, "kind": formula.kind}
    if formula.statement_builder is not None:
        report["statement"] = _render(formula.statement)
    else:
        report["statement"] = None
    if formula.kind == "derived":
        proof = prove(formula)
        report["steps"] = [
            _render_step(
                link.step,
                link.result,
                link.lhs,
                role=link.role,
                link_ok=link.link_ok,
                link_detail=link.link_detail,
            )
            for link in proof.links
        ]
        conclusion = proof.conclusion
        report["concludes"] = bool(proof.concludes)
        report["chain_ok"] = bool(proof.chain_ok)
        report["conclusion"] = _course_latex(conclusion) if conclusion is not None else None
        report["conclusion_text"] = _unicode_line(conclusion) if conclusion is not None else None
        report["failures"] = list(proof.failures)
        report["passed"] = bool(proof.passed)
    else:
        report["steps"] = []
        report["properties"] = [
            _render_step(step, step.check(), step.lhs) for step in formula.properties
        ]
        report["passed"] = all(item["passed"] for item in report["properties"])
        report["concludes"] = None
        report["conclusion"] = None
        report["failures"] = [
            f"property {number} fails: {item['detail']}"
            for number, item in enumerate(report["properties"], start=1)
            if not item["passed"]
        ]
    return report


def derivation_report(formula: Formula, recheck: bool = False) -> dict[str, Any]:
    """build_report from the on-disk cache when the source is unchanged, else from the results
    shipped with the package when they were computed from this very source and these library
    versions (formulas.shipped); `recheck` ignores both and proves it now."""
    path = _cache_dir() / "derivations" / f"{formula.id}.json"
    key = _key(formula)
    if not recheck and path.exists():
        try:
            stored = json.loads(path.read_text())
            if stored.get("key") == key:
                stored["report"]["cached"] = True
                return stored["report"]
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache entry is simply checked again
    if not recheck:
        from formulas.shipped import lookup

        shipped = lookup("derivations", formula.id, key)
        if shipped is not None:
            shipped["cached"] = True
            return shipped
    report = build_report(formula)
    report["cached"] = False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"key": key, "report": report}))
        temporary.replace(path)  # atomic: two processes never see half a file
    except OSError:
        pass  # a read-only cache dir costs speed, not correctness
    return report
