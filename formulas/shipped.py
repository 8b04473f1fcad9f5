"""Checked results shipped with the package (formulas/proofs.json), so a fresh install does
not prove the whole registry again before it can show it.

The file holds what `formulas.proof.build_report`, `formulas.proof.erratum_status` and
`formulas.notation.display_latex` computed when the package was built, one entry per formula
(or claim) in three sections: "derivations", "errata" and "display". Each entry carries

- `key`: the same hash the user cache uses (`formulas.proof._key` for derivations and
  display, `formulas.errata._evidence_key` for errata): the source of every module the result
  depends on and the library versions. An entry is used only when its key equals the key of
  the code installed now, so an edited formula is checked again, never trusted;
- `digest`: a SHA-256 of the section, the id, the key and the result, so an entry edited by
  hand or damaged on disk is checked again too.

The file as a whole records the library versions it was computed with (sympy, numpy, mpmath,
scipy, torch); with any other version installed, or an optional library missing (the light
install), nothing in it is used and every result is computed here, as before.

Regenerate after changing a formula (tests/test_shipped_proofs.py fails while it is stale):

    python -m formulas.shipped

Set CHEATSHEET_IGNORE_SHIPPED=1 to compute everything as a fresh install without this file
would (benchmarks use it to time the proofs themselves).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from functools import cache
from pathlib import Path
from typing import Any

SHIPPED = Path(__file__).with_name("proofs.json")
SECTIONS = ("derivations", "errata", "display")
LIBRARIES = ("sympy", "numpy", "mpmath", "scipy", "torch")
REGENERATE = "python -m formulas.shipped"


@cache
def library_versions() -> dict[str, str]:
    """{library: installed version or 'absent'} for every library a result may depend on."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in LIBRARIES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "absent"
    return versions


def digest(section: str, name: str, key: str, result: Any) -> str:
    canonical = json.dumps([section, name, key, result], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@cache
def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no file (or a damaged one): everything is computed here
    return data if isinstance(data, dict) else {}


def entry_state(section: str, name: str, key: str, path: Path | None = None) -> str:
    """'current', or why the shipped result is not used: 'ignored', 'other libraries',
    'missing', 'stale' (its key is not this code's), 'tampered' (its digest does not match)."""
    if os.environ.get("CHEATSHEET_IGNORE_SHIPPED"):
        return "ignored"
    data = _load(path or SHIPPED)
    if data.get("libraries") != library_versions():
        return "other libraries"
    entry = data.get(section, {}).get(name)
    if not isinstance(entry, dict) or "result" not in entry:
        return "missing"
    if entry.get("key") != key:
        return "stale"
    if entry.get("digest") != digest(section, name, key, entry["result"]):
        return "tampered"
    return "current"


def lookup(section: str, name: str, key: str, path: Path | None = None) -> Any | None:
    """The shipped result of `name` when it was computed from exactly this code; else None."""
    if entry_state(section, name, key, path) != "current":
        return None
    # a fresh copy: callers mark reports (cached = True) and must not touch the loaded file
    return json.loads(json.dumps(_load(path or SHIPPED)[section][name]["result"]))


def display_form(formula: Any) -> str | None:
    """The formula's display LaTeX (the form proved equal to its statement), as shipped when
    it was computed from this very source (building a statement costs sympy seconds); else
    computed here."""
    from formulas.notation import display_latex
    from formulas.proof import _key

    shipped = lookup("display", formula.id, _key(formula))
    if shipped is not None:
        return shipped["latex"]
    return display_latex(formula)


# --------------------------------------------------------------------------------------------
# Generating the file (run by whoever changes a formula, and before a release)


def _entry(section: str, name: str, key: str, result: Any) -> dict[str, Any]:
    return {"key": key, "digest": digest(section, name, key, result), "result": result}


def _sources() -> dict[str, str]:
    """{file: SHA-256} of every module of the registry, read from disk now."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(Path(__file__).parent.glob("*.py"))
    }


def generate(log=print) -> dict[str, Any]:
    """Compute every result fresh (never from a cache) and return the file's contents.

    A source edited while this runs would pair one version's results with another's key, so
    the sources are read before anything is imported and again at the end: any change and
    nothing is returned (SystemExit: run it again)."""
    before = _sources()
    data = _compute(log)
    changed = [name for name, sha in _sources().items() if before.get(name) != sha]
    if changed:
        raise SystemExit(
            f"formulas/{', formulas/'.join(changed)} changed while generating: run "
            f"`{REGENERATE}` again (nothing written)"
        )
    return data


def _compute(log) -> dict[str, Any]:
    import formulas
    from formulas.core import REGISTRY
    from formulas.errata import _evidence_key
    from formulas.notation import display_latex
    from formulas.proof import _key, build_report, erratum_status

    data: dict[str, Any] = {"libraries": library_versions(), **{s: {} for s in SECTIONS}}
    skipped: list[str] = []
    for formula in formulas.all():
        key = _key(formula)
        try:
            data["display"][formula.id] = _entry(
                "display", formula.id, key, {"latex": display_latex(formula)}
            )
        except Exception as error:  # noqa: BLE001 - the sheet shows the text; computed there
            skipped.append(f"display {formula.id}: {type(error).__name__}: {error}")
        if not (formula.has_derivation or formula.properties_builder is not None):
            continue
        try:
            report = build_report(formula)
        except ModuleNotFoundError as error:  # not checked in this install: never shipped
            skipped.append(f"derivation {formula.id}: needs '{error.name}'")
            continue
        report.pop("cached", None)
        data["derivations"][formula.id] = _entry("derivations", formula.id, key, report)
        if not report["passed"]:
            log(f"  {formula.id}: FAILS ({'; '.join(report['failures'])[:200]})")
    builders = [(f.id, f.erratum.evidence) for f in formulas.all() if f.erratum is not None]
    builders += [
        (f"claim:{claim.id}", claim.check)
        for claim in REGISTRY.claims()
        if claim.severity is not None and claim.check is not None
    ]
    for row_id, builder in builders:
        evidence, _state = erratum_status(builder)
        if evidence.sheet_fails is None or evidence.correct_passes is None:
            skipped.append(f"erratum {row_id}: {evidence.detail}")  # not checked here
            continue
        result = {
            "sheet_fails": evidence.sheet_fails,
            "correct_passes": evidence.correct_passes,
            "detail": evidence.detail,
        }
        data["errata"][row_id] = _entry("errata", row_id, _evidence_key(builder), result)
    for line in skipped:
        log(f"  not shipped: {line}")
    return data


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else SHIPPED
    os.environ["CHEATSHEET_IGNORE_SHIPPED"] = "1"  # every result computed here, now
    data = generate()
    text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    counts = ", ".join(f"{len(data[section])} {section}" for section in SECTIONS)
    print(f"wrote {path}: {counts} (libraries {data['libraries']})")


if __name__ == "__main__":
    main()
