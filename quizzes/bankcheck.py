"""`cheatsheet bank check`: prove every question against its own answer.

For each bank question: the schema (file, line, field), the registry ids it names, its own
answer marked right, a perturbed answer marked wrong, every foreseen mistake marked wrong, and
for symbolic questions every mutant of the answer (quizzes.mutations) marked wrong. For each
template: several variants, each reproducible from its id, right on its own answer and wrong on
a perturbed one.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from quizzes.banks import bank_files, validate_bank
from quizzes.parser import AnswerError
from quizzes.questions import KINDS, Question


def _mutant_symbols(question: Question, mutant: Any) -> dict[str, str]:
    """The question's symbols plus any a mutant introduced (alpha_t for abar_t, x_{t-1})."""
    symbols = dict(question.symbols)
    for symbol in mutant.free_symbols:
        if symbol.name not in symbols:
            symbols[symbol.name] = (
                "positive" if symbol.is_positive else "integer" if symbol.is_integer else "real"
            )
    return symbols


def check_question(question: Question) -> tuple[list[str], int]:
    """Problems with one question and how many mutants it refused."""
    from quizzes.engine import expected_expr, mark, perturbed_answer

    where = question.source or question.id
    problems: list[str] = []
    if question.kind == "multipart":
        return _check_multipart(question)
    if question.identities or question.constraints:
        from quizzes.equivalence import domain

        try:
            domain(question.identities, question.constraints, question.symbols)
        except ValueError as error:
            return [f"{where}: {question.id}: {error}"], 0
    try:
        own = mark(question, question.answer)
        if not own.correct:
            problems.append(
                f"{where}: {question.id}: its own answer is marked wrong ({own.feedback})"
            )
    except (AnswerError, ValueError) as error:
        problems.append(f"{where}: {question.id}: answer: its own answer cannot be read ({error})")
        return problems, 0
    try:
        perturbed = perturbed_answer(question)
        if mark(question, perturbed).correct:
            problems.append(f"{where}: {question.id}: a perturbed answer '{perturbed}' is accepted")
    except (AnswerError, ValueError) as error:
        problems.append(f"{where}: {question.id}: perturbed answer unreadable ({error})")
    for mistake in question.mistakes:
        try:
            if mark(question, mistake.answer).correct:
                problems.append(
                    f"{where}: {question.id}: mistakes: '{mistake.answer}' is marked right"
                )
        except AnswerError as error:
            problems.append(f"{where}: {question.id}: mistakes: '{mistake.answer}': {error}")
    if question.compute:
        problems.extend(recomputed(question))
    refused = 0
    if question.kind == "symbolic":
        from quizzes.mutations import mutants
        from quizzes.parser import to_text

        for mutant in mutants(expected_expr(question)):
            variant = replace(question, symbols=_mutant_symbols(question, mutant.expr))
            text = to_text(mutant.expr)
            try:
                result = mark(variant, text, explain=False)
            except AnswerError as error:
                problems.append(f"{where}: {question.id}: mutant '{text}' unreadable ({error})")
                continue
            if result.correct and question.identities:
                continue  # the same answer under the question's identities: no mistake
            if result.correct:
                problems.append(
                    f"{where}: {question.id}: accepts the mutant '{text}' "
                    f"({mutant.description}); make the answer or the symbols more specific"
                )
            else:
                refused += 1
    return problems, refused


def registry_value(compute: dict[str, Any]) -> float:
    """The number a registry formula gives: formulas.get(id).evaluate(**inputs)[index]."""
    import numpy as np

    import formulas

    value = np.asarray(formulas.get(compute["formula"]).evaluate(**compute["inputs"]), float)
    if "index" in compute:
        value = value[tuple(compute["index"])]
    return float(value)


def recomputed(question: Question) -> list[str]:
    """The bank's typed answer against the registry's value for the stated inputs: it must
    meet the question's own marking rule and agree to 1e-5 (relative)."""
    import math

    where = question.source or question.id
    try:
        value = registry_value(question.compute)
    except Exception as error:  # noqa: BLE001 - any registry failure is a bank problem
        return [f"{where}: {question.id}: compute: {type(error).__name__}: {error}"]
    answer = float(question.answer)
    if not math.isclose(answer, value, rel_tol=1e-5, abs_tol=1e-9):
        return [
            f"{where}: {question.id}: compute: the registry gives {value:.10g} "
            f"({question.compute['formula']}), the bank says {question.answer}"
        ]
    return []


def _check_multipart(question: Question) -> tuple[list[str], int]:
    """Each part proved like a question of its own; the joined answer right, a perturbed one
    wrong; the parts' answers are not printed in the stem."""
    from quizzes.engine import mark, perturbed_answer

    where = question.source or question.id
    problems: list[str] = []
    refused = 0
    if len(question.parts) < 2:
        problems.append(f"{where}: {question.id}: a multipart problem needs at least 2 parts")
    for part in question.parts:
        found, count = check_question(part)
        problems.extend(found)
        refused += count
    try:
        if not mark(question, question.answer).correct:
            problems.append(f"{where}: {question.id}: its own answers are marked wrong")
        if mark(question, perturbed_answer(question)).correct:
            problems.append(f"{where}: {question.id}: a perturbed answer is accepted")
    except (AnswerError, ValueError) as error:
        problems.append(f"{where}: {question.id}: {error}")
    return problems, refused


def check_templates(variants: int) -> tuple[list[str], int, int]:
    """Problems with the templates' variants, how many templates, and how many mutants their
    symbolic variants refused."""
    from formulas.core import TOPICS
    from quizzes.banks import EXTRA_TOPICS
    from quizzes.catalog import generate, load_templates
    from quizzes.questions import TEMPLATES

    problems = [f"{module}: import failed: {error}" for module, error in load_templates().items()]
    refused = 0
    for template in TEMPLATES.values():
        if template.topic not in TOPICS and template.topic not in EXTRA_TOPICS:
            problems.append(f"template {template.id}: unknown topic {template.topic}")
        for variant in range(variants):
            try:
                question = generate(template, variant)
                again = generate(template, variant)
            except Exception as error:  # noqa: BLE001 - report any template bug as a problem
                problems.append(
                    f"template {template.id}@{variant}: {type(error).__name__}: {error}"
                )
                break
            if question != again:
                problems.append(f"template {template.id}@{variant}: not reproducible from its id")
            if question.kind not in KINDS:
                problems.append(f"template {template.id}@{variant}: unknown kind {question.kind}")
                continue
            found, refused_here = check_question(question)
            problems.extend(found)
            refused += refused_here
    return problems, len(TEMPLATES), refused


def check_banks(path: Path | str | None = None, variants: int = 5) -> dict[str, Any]:
    from quizzes.catalog import bank_directories

    if path is None:
        files = [f for directory in bank_directories() for f in bank_files(directory)]
    else:
        path = Path(path)
        if path.is_dir():
            files = bank_files(path)
        elif path.is_file():
            files = [path]
        else:
            from formulas.errors import CheatsheetError

            raise CheatsheetError(f"no bank file or directory at {path}")
    problems: list[str] = []
    questions = 0
    mutants = 0
    seen: dict[str, str] = {}
    for file in files:
        bank, found = validate_bank(file)
        problems.extend(str(problem) for problem in found)
        for question in bank:
            questions += 1
            if question.id in seen:
                problems.append(
                    f"{question.source}: id: '{question.id}' also in {seen[question.id]}"
                )
            seen[question.id] = question.source or str(file)
            found_here, refused = check_question(question)
            problems.extend(found_here)
            mutants += refused
    templates = 0
    coverage: dict[str, dict[str, int]] = {}
    warnings: list[str] = []
    if path is None:
        from quizzes.catalog import COURSE_TOPICS
        from quizzes.questions import TEMPLATES

        template_problems, templates, template_refused = check_templates(variants)
        problems.extend(template_problems)
        mutants += template_refused
        # The target: every registry topic has >= 20 questions, >= 5 of them templates.
        for topic in COURSE_TOPICS:
            bank_count = sum(
                1 for file in files for q in validate_bank(file)[0] if q.topic == topic
            )
            template_count = sum(1 for t in TEMPLATES.values() if t.topic == topic)
            coverage[topic] = {"bank": bank_count, "templates": template_count}
            if topic != "backprop" and (bank_count + template_count < 20 or template_count < 5):
                warnings.append(
                    f"topic {topic}: {bank_count} bank questions + {template_count} templates "
                    "(target: at least 20 questions, at least 5 of them templates)"
                )
    return {
        "files": len(files),
        "questions": questions,
        "templates": templates,
        "mutants": mutants,
        "problems": problems,
        "coverage": coverage,
        "warnings": warnings,
        "ok": not problems,
    }
