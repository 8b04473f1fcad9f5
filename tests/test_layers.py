"""The layers point one way: formulas <- quizzes <- cheatsheet.

Every import in every module (lazy imports inside functions included) is read from the AST;
`formulas` imports neither `quizzes` nor `cheatsheet`, and `quizzes` does not import
`cheatsheet`. Both lower layers import in a fresh interpreter without `cheatsheet` loaded."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"formulas": ("quizzes", "cheatsheet"), "quizzes": ("cheatsheet",)}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_against_the_direction(package):
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, module in _imports(path):
            top = module.split(".")[0]
            if top in FORBIDDEN[package]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_lower_layers_import_without_the_cli():
    code = (
        "import sys, formulas, quizzes, quizzes.engine, formulas.proof, formulas.errata;"
        "formulas.all();"
        "assert 'cheatsheet' not in sys.modules, sorted(m for m in sys.modules if 'cheats' in m)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_expectation_names_agree_with_the_parser():
    """formulas.notation spells an expectation's name without importing the parser (it sits
    below it); for every label the registry's statements use, the two spellings agree, so the
    read-back of E_{label}[..] finds the same function."""
    import re

    import formulas
    from formulas import notation
    from quizzes.parser import normalize

    for formula in formulas.all():
        formula.statement  # noqa: B018 - building the statement records its labels
    assert notation.EXPECTATION_LABELS, "no expectation was built: the check would be empty"
    for label in sorted(notation.EXPECTATION_LABELS):
        parsed = re.sub(r"[^A-Za-z0-9]", "", normalize("{" + label + "}"))
        assert notation._label_name(label) == parsed, label
