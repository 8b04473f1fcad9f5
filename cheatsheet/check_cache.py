"""A cache of checked, rendered derivations, keyed by the source that produced them.

sympy needs about a second to re-prove the integrals of a derivation and a few hundred
milliseconds to import and pretty-print; neither result changes unless the source does. The
key hashes the formula's module source, the registry core and the sympy version, so editing a
step (or upgrading sympy) re-checks it. `cheatsheet derive ID --recheck` ignores the cache; the
test suite checks derivations directly, never through it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from importlib.metadata import version
from pathlib import Path
from typing import Any


def _cache_dir() -> Path:
    home = os.environ.get("CHEATSHEET_HOME")
    if home:
        return Path(home) / "cache"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("cheatsheet"))


def _key(formula) -> str:
    import formulas.core

    module = inspect.getmodule(formula.derivation_builder)
    digest = hashlib.sha256()
    for source_module in (module, formulas.core):
        digest.update(Path(inspect.getfile(source_module)).read_bytes())
    digest.update(version("sympy").encode())
    digest.update(formula.id.encode())
    return digest.hexdigest()[:32]


def _render(expression: Any) -> dict[str, str] | None:
    if expression is None:
        return None
    import sympy as sp

    return {
        "pretty": sp.pretty(expression, use_unicode=True),
        "text": sp.sstr(expression),
        "latex": sp.latex(expression),
    }


def derivation_report(formula, recheck: bool = False) -> list[dict[str, Any]]:
    """Each step of a derivation, rendered and checked; from the cache when unchanged."""
    path = _cache_dir() / "derivations" / f"{formula.id}.json"
    key = _key(formula)
    if not recheck and path.exists():
        try:
            stored = json.loads(path.read_text())
            if stored.get("key") == key:
                for step in stored["steps"]:
                    step["cached"] = True
                return stored["steps"]
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache entry is simply checked again
    steps = []
    for step in formula.derivation:
        result = step.check()
        steps.append(
            {
                "claim": step.claim,
                "lhs": _render(step.lhs),
                "rhs": _render(step.rhs),
                "relation": step.relation,
                "justification": step.justification,
                "assumptions": step.assumptions,
                "passed": result.passed,
                "method": result.method,
                "detail": result.detail,
                "cached": False,
            }
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"key": key, "steps": steps}))
        temporary.replace(path)  # atomic: two processes never see half a file
    except OSError:
        pass  # a read-only cache dir costs speed, not correctness
    return steps
