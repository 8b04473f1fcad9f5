"""Typed run configurations: one dataclass per run, `--option KEY=VALUE` parsed to its fields.

Each model file starts with its config (as nanoGPT's GPTConfig): fields with defaults and a
one-line meaning each, written with `param`:

    @dataclass
    class VAEConfig:
        latent_dim: int | None = param(None, "latent size (None: 8 for images, 2 for points)")
        beta: float = param(1.0, "weight of the KL term (beta-VAE: > 1)")

`resolve` turns the parsed `--option` pairs into that dataclass: every value is checked against
the field's type, an unknown name or a bad value is a one-line error (exit 2) naming the closest
fields. `describe` lists the fields for `run --list --json` without importing the model module
(it reads the dataclass from the source), so listing runs never imports torch.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import keyword
import types
import typing
from typing import Any

from cheatsheet.errors import CheatsheetError


def param(default: Any, help: str) -> Any:  # noqa: A002 - "help" reads best at the call site
    """A config field: its default and what it means (shown by `run --list --json`)."""
    return dataclasses.field(default=default, metadata={"help": help})


def _field_types(config_class: type) -> dict[str, Any]:
    return typing.get_type_hints(config_class)


def _allowed(annotation: Any) -> tuple[tuple[type, ...], bool]:
    """(the concrete types a field accepts, whether None is allowed)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        members = typing.get_args(annotation)
        concrete = tuple(member for member in members if member is not type(None))
        return concrete, len(concrete) < len(members)
    return (annotation,), False


def _type_name(annotation: Any) -> str:
    concrete, optional = _allowed(annotation)
    name = " | ".join(getattr(kind, "__name__", str(kind)) for kind in concrete)
    return f"{name} | None" if optional else name


def parse_value(text: str) -> Any:
    """An option's text as a value: int, float or bool when it reads as one (parsed, never
    evaluated), else the text. `--option KEY=VALUE` and options handed over as text (by a
    script or a test) read the same way."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def _coerce(value: Any, annotation: Any) -> Any:
    """value (parsed by the CLI: bool, int, float or str; or text) as the field's type."""
    concrete, optional = _allowed(annotation)
    if optional and (value is None or (isinstance(value, str) and value.lower() == "none")):
        return None
    if isinstance(value, str) and str not in concrete:
        value = parse_value(value)
    for kind in concrete:
        if kind is bool:
            if isinstance(value, bool):
                return value
            continue
        if kind is int:
            if isinstance(value, bool):
                continue
            if isinstance(value, int):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            continue
        if kind is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            continue
        if kind is str:
            if isinstance(value, str):
                return value
            continue
    raise ValueError(_type_name(annotation))


def resolve(config_class: type, options: dict[str, Any], model: str, defaults: dict | None = None):
    """The config for one run: the run's own defaults, then the user's `--option`s."""
    from formulas.core import did_you_mean

    hints = _field_types(config_class)
    names = [field.name for field in dataclasses.fields(config_class)]
    values: dict[str, Any] = dict(defaults or {})
    for key, value in options.items():
        if keyword.iskeyword(key):  # --option lambda=10 sets the field lambda_
            key = f"{key}_"
        if key not in names:
            raise CheatsheetError(
                f"unknown option '{key}' for {model}{did_you_mean(key, names)}"
                f" (options: {', '.join(names) or 'none'})"
            )
        try:
            values[key] = _coerce(value, hints[key])
        except ValueError as error:
            raise CheatsheetError(
                f"option '{key}' for {model} takes {error}, got {value!r}"
            ) from None
    config = config_class(**values)
    check = getattr(config, "check", None)
    if callable(check):
        try:
            check()
        except ValueError as error:
            raise CheatsheetError(f"{model}: {error}") from None
    return config


def as_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config) if dataclasses.is_dataclass(config) else {}


def describe(config_path: str, defaults: dict | None = None) -> list[dict[str, Any]]:
    """The fields of 'module:Class' read from the module's source (no import, so no torch)."""
    if not config_path:
        return []
    module_name, _, class_name = config_path.partition(":")
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.origin is None:
        return []
    with open(spec.origin, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return [_describe_field(item, defaults or {}) for item in node.body if _is_field(item)]
    return []


def _is_field(node: ast.AST) -> bool:
    return isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)


def _describe_field(node: ast.AnnAssign, defaults: dict) -> dict[str, Any]:
    name = node.target.id  # type: ignore[union-attr]
    default: Any = None
    meaning = ""
    value = node.value
    if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "param":
        default = _literal(value.args[0]) if value.args else None
        meaning = _literal(value.args[1]) if len(value.args) > 1 else ""
    elif value is not None:
        default = _literal(value)
    return {
        "name": name,
        "type": ast.unparse(node.annotation),
        "default": defaults.get(name, default),
        "help": meaning,
    }


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return ast.unparse(node)
