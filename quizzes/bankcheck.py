"""`cheatsheet bank check`: prove every question against its own answer.

For each bank question: the schema (file, line, field), the registry ids it names, its own
answer marked right, a perturbed answer marked wrong, every foreseen mistake marked wrong, and
for symbolic questions every mutant of the answer (quizzes.mutations) marked wrong. For each
template: several variants, each reproducible from its id, right on its own answer and wrong on
a perturbed one.

Verdicts are cached as `derive` caches its steps (formulas/proof.py): under the cache dir,
keyed by a hash of everything that decides them. The code key hashes every file of the
`quizzes` and `formulas` packages except the bank files (templates, the marking engine, the
parser, the registry, shipped data) and the versions of Python, sympy, numpy, mpmath, scipy
and torch; a change to any of it drops every cached verdict. Under it, each bank question's
verdict is keyed by the question as read from its file (all of its fields and its file:line)
and each template variant's by the template, the variant and its module's source; the whole
report is keyed by the code key, the bank files' paths and contents, the arguments and the
topic lists. So a warm `bank check` with nothing changed hashes ~100 files and prints the
stored report; an edited bank file re-checks the questions that changed (a planted wrong
answer is caught); `recheck=True` (`--recheck`) ignores the cache and checks everything.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
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


def _check_variant(template: Any, variant: int) -> tuple[list[str], int, bool]:
    """Problems with one template variant, the mutants it refused, and whether generating it
    failed (the template's later variants are then not tried)."""
    from quizzes.catalog import generate

    try:
        question = generate(template, variant)
        again = generate(template, variant)
    except Exception as error:  # noqa: BLE001 - report any template bug as a problem
        return [f"template {template.id}@{variant}: {type(error).__name__}: {error}"], 0, True
    problems = []
    if question != again:
        problems.append(f"template {template.id}@{variant}: not reproducible from its id")
    if question.kind not in KINDS:
        problems.append(f"template {template.id}@{variant}: unknown kind {question.kind}")
        return problems, 0, False
    found, refused = check_question(question)
    return problems + found, refused, False


def check_templates(variants: int, verdicts: Verdicts | None = None) -> tuple[list[str], int, int]:
    """Problems with the templates' variants, how many templates, and how many mutants their
    symbolic variants refused; `verdicts`: a cache of per-variant verdicts to read and fill."""
    from formulas.core import TOPICS
    from quizzes.banks import EXTRA_TOPICS
    from quizzes.catalog import load_templates
    from quizzes.questions import TEMPLATES

    problems = [f"{module}: import failed: {error}" for module, error in load_templates().items()]
    refused = 0
    for template in TEMPLATES.values():
        if template.topic not in TOPICS and template.topic not in EXTRA_TOPICS:
            problems.append(f"template {template.id}: unknown topic {template.topic}")
        for variant in range(variants):
            key = _template_key(template, variant) if verdicts is not None else ""
            verdict = verdicts.get(key) if verdicts is not None else None
            if verdict is None:
                verdict = _check_variant(template, variant)
                if verdicts is not None:
                    verdicts.put(key, verdict)
            found, refused_here, broken = verdict
            problems.extend(found)
            refused += refused_here
            if broken:
                break
    return problems, len(TEMPLATES), refused


def check_banks(
    path: Path | str | None = None, variants: int = 5, recheck: bool = False, cache: bool = True
) -> dict[str, Any]:
    """Check every bank question and (without `path`) every template's first `variants`
    variants. Verdicts come from the cache while nothing that decides them changed (see the
    module docstring); `recheck` checks everything again (and refreshes the cache), `cache`
    False neither reads nor writes it. The report's `cached` says it was read whole from the
    cache, `reused` how many question and variant verdicts were."""
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
    if not cache:
        return _check(files, path, variants, None)
    code = code_key()
    run_key = _run_key(code, files, path, variants)
    store = _Store(code, path, variants)
    if not recheck:
        report = store.report(run_key)
        if report is not None:
            return {**report, "cached": True}
    verdicts = Verdicts({} if recheck else store.verdicts())
    report = _check(files, path, variants, verdicts)
    store.save(run_key, report, verdicts)
    return report


def _check(
    files: list[Path], path: Path | None, variants: int, verdicts: Verdicts | None
) -> dict[str, Any]:
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
            key = _question_key(question) if verdicts is not None else ""
            verdict = verdicts.get(key) if verdicts is not None else None
            if verdict is None:
                verdict = check_question(question)
                if verdicts is not None:
                    verdicts.put(key, verdict)
            found_here, refused = verdict
            problems.extend(found_here)
            mutants += refused
    templates = 0
    coverage: dict[str, dict[str, int]] = {}
    warnings: list[str] = []
    if path is None:
        from quizzes.catalog import COURSE_TOPICS
        from quizzes.questions import TEMPLATES

        template_problems, templates, template_refused = check_templates(variants, verdicts)
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
        "cached": False,
        "reused": verdicts.reused if verdicts is not None else 0,
    }


# --------------------------------------------------------------------------------------------
# The verdict cache


PACKAGES = (Path(__file__).resolve().parent, Path(__file__).resolve().parents[1] / "formulas")
CACHE_FORMAT = 1


def _digest(path: Path) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()


def code_key() -> str:
    """A hash of the code and data every verdict depends on: each file of `quizzes` and
    `formulas` (bytecode aside) except the bank files, which are keyed question by
    question, and the versions of Python and of the libraries a check computes with."""
    from formulas.shipped import library_versions
    from quizzes.banks import BANK_DIR

    banks = BANK_DIR.resolve()
    digest = hashlib.sha256(f"bank-check {CACHE_FORMAT}".encode())
    for package in PACKAGES:
        for file in sorted(package.rglob("*")):
            if "__pycache__" in file.parts or file.suffix in (".pyc", ".pyo"):
                continue
            if file.parent == banks and file.suffix == ".toml":
                continue
            if file.is_file():
                digest.update(f"{file.relative_to(package.parent).as_posix()}\0".encode())
                digest.update(_digest(file))
    digest.update(sys.version.encode())
    for package, installed in library_versions().items():
        digest.update(f"{package}={installed}\0".encode())
    return digest.hexdigest()[:32]


def _run_key(code: str, files: list[Path], path: Path | None, variants: int) -> str:
    """The whole report's key: the code, the bank files (path and contents), the arguments,
    the topic lists and the templates registered in this process (none in a fresh one)."""
    from quizzes.catalog import COURSE_TOPICS
    from quizzes.questions import TEMPLATES

    digest = hashlib.sha256(code.encode())
    header = [str(path) if path is not None else None, variants, list(COURSE_TOPICS)]
    digest.update(json.dumps(header).encode())
    for file in files:
        digest.update(f"\0{file}\0".encode())
        try:
            digest.update(_digest(file))
        except OSError as error:
            digest.update(f"unreadable: {error}".encode())
    for template in TEMPLATES.values():
        digest.update(_template_identity(template).encode())
    return digest.hexdigest()[:32]


def _question_key(question: Question) -> str:
    """A bank question's key (under the code key): every field, its source file:line too."""
    return "q:" + hashlib.sha256(repr(question).encode()).hexdigest()[:32]


def _template_identity(template: Any) -> str:
    make = template.make
    module = sys.modules.get(getattr(make, "__module__", ""), None)
    file = getattr(module, "__file__", None)
    source = _digest(Path(file)).hex() if file and Path(file).is_file() else "no source"
    fields = (template.id, template.topic, template.kind, template.formulas, template.difficulty)
    return repr((fields, template.tags, make.__module__, make.__qualname__, source))


def _template_key(template: Any, variant: int) -> str:
    """A template variant's key (under the code key): the template, its module's source, the
    variant."""
    identity = f"{_template_identity(template)}@{variant}"
    return "t:" + hashlib.sha256(identity.encode()).hexdigest()[:32]


class Verdicts:
    """Per-question and per-variant verdicts: those read from the cache, and those checked in
    this run (the only ones written back)."""

    def __init__(self, stored: dict[str, Any]):
        self.stored = stored
        self.fresh: dict[str, Any] = {}
        self.reused = 0

    def get(self, key: str) -> tuple | None:
        if key in self.fresh:
            return self.fresh[key]
        verdict = self.stored.get(key)
        if verdict is None:
            return None
        self.reused += 1
        self.fresh[key] = tuple(verdict)
        return self.fresh[key]

    def put(self, key: str, verdict: tuple) -> None:
        self.fresh[key] = tuple(verdict)


class _Store:
    """bankcheck/ under the cache dir: verdicts.json (the per-item verdicts of one code key)
    and one report file per (path, variants)."""

    def __init__(self, code: str, path: Path | None, variants: int):
        from formulas.proof import _cache_dir

        self.code = code
        self.directory = _cache_dir() / "bankcheck"
        where = json.dumps([str(Path(path).resolve()) if path is not None else None, variants])
        name = hashlib.sha256(where.encode()).hexdigest()[:16]
        self.report_path = self.directory / f"report-{name}.json"
        self.verdicts_path = self.directory / "verdicts.json"

    @staticmethod
    def _read(path: Path) -> dict[str, Any]:
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # absent or damaged: checked again
        return stored if isinstance(stored, dict) else {}

    def report(self, run_key: str) -> dict[str, Any] | None:
        stored = self._read(self.report_path)
        if stored.get("key") != run_key or not isinstance(stored.get("report"), dict):
            return None
        return stored["report"]

    def verdicts(self) -> dict[str, Any]:
        stored = self._read(self.verdicts_path)
        if stored.get("code") != self.code or not isinstance(stored.get("items"), dict):
            return {}
        return stored["items"]

    def _write(self, path: Path, data: dict[str, Any]) -> None:
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data), encoding="utf-8")
        temporary.replace(path)

    def save(self, run_key: str, report: dict[str, Any], verdicts: Verdicts) -> None:
        """Best effort: a read-only cache dir costs speed, not correctness. The verdicts of
        other questions with this code key are kept (another path's, an edited question's
        older form until the code changes)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            items = {**self.verdicts(), **{k: list(v) for k, v in verdicts.fresh.items()}}
            self._write(self.verdicts_path, {"code": self.code, "items": items})
            self._write(self.report_path, {"key": run_key, "report": report})
        except OSError:
            pass
