"""Every runnable model: the union of the `SPECS` of the `cheatsheet/runs/catalog_*.py` modules.

A catalog module imports nothing heavy (only `RunSpec`), so `cheatsheet run --list` never
imports torch. A model family adds itself by dropping a `catalog_<family>.py` next to this file.
"""

from __future__ import annotations

import importlib
import pkgutil

from cheatsheet.errors import CheatsheetError
from cheatsheet.runs.protocol import RunSpec


def catalog_modules() -> list[str]:
    """Names of the catalog modules, sorted (`cheatsheet.runs.catalog_vae`, ...)."""
    import cheatsheet.runs as package

    return sorted(
        f"{package.__name__}.{info.name}"
        for info in pkgutil.iter_modules(package.__path__)
        if info.name.startswith("catalog_")
    )


def all_specs() -> list[RunSpec]:
    """All RunSpecs, sorted by family then name; duplicate names are a programming error."""
    specs: dict[str, RunSpec] = {}
    owner: dict[str, str] = {}
    for module_name in catalog_modules():
        module = importlib.import_module(module_name)
        for spec in getattr(module, "SPECS", []):
            if spec.name in specs:
                raise RuntimeError(
                    f"run '{spec.name}' is declared in both {owner[spec.name]} and {module_name}"
                )
            specs[spec.name] = spec
            owner[spec.name] = module_name
    return sorted(specs.values(), key=lambda spec: (spec.family, spec.name))


def get_spec(name: str) -> RunSpec:
    """The RunSpec called `name`; an unknown name is bad usage with the closest names."""
    from formulas.core import closest

    specs = {spec.name: spec for spec in all_specs()}
    if name in specs:
        return specs[name]
    hint = closest(name, specs)
    raise CheatsheetError(
        f"unknown model '{name}'"
        + (f"; did you mean {', '.join(hint)}?" if hint else "")
        + " (see `cheatsheet run --list`)"
    )
