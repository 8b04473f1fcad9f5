"""The worked-example record: blocks of a forward and a backward pass, checked against autograd.

A worked example is what a solution on paper looks like: an ordered list of blocks, each a named
tensor with the rule that produced it ("dK = X (*) G"), computed by our hand-written rules in
float64 (or exact fractions with --exact). Every block is then compared with torch autograd on the
same inputs and marked checked. The hand rules never call torch; torch is only the oracle.

Arithmetic: the hand rules use numpy arrays. With `exact=True` they hold `fractions.Fraction`
objects (dtype=object), so +, -, *, /, matmul and max stay exact; a kind that needs exp, tanh or
sqrt refuses --exact with one line instead of pretending.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

# How close a hand value must be to autograd to count as checked (both float64).
CHECK_RTOL = 1e-9
CHECK_ATOL = 1e-10


@dataclass
class Mistake:
    """A wrong answer foreseen for a block: the value it gives and which chain-rule factor."""

    value: Any
    feedback: str


@dataclass
class Block:
    """One step of a worked solution: a named tensor and the rule that produced it."""

    name: str
    tensor: Any  # numpy array (float64, or object dtype of Fractions), or a scalar
    rule: str
    phase: str = "forward"  # "input", "forward" or "backward"
    checked: bool | None = None  # None: not compared (inputs); True/False after check()
    max_error: float | None = None
    reference: str | None = None  # which autograd/built-in value it was compared with
    mistakes: list[Mistake] = field(default_factory=list)
    quiz: bool = True  # may be hidden in --quiz / asked in --drill (backward blocks)

    @property
    def array(self) -> np.ndarray:
        return np.asarray(self.tensor)

    def as_float(self) -> np.ndarray:
        return to_float(self.tensor)


@dataclass
class WorkedExample:
    kind: str
    title: str
    blocks: list[Block]
    options: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    errata: list[dict[str, Any]] = field(default_factory=list)
    exact: bool = False

    def block(self, name: str) -> Block:
        for block in self.blocks:
            if block.name == name:
                return block
        raise KeyError(name)

    def add(self, name: str, tensor: Any, rule: str, phase: str = "forward", **kw) -> Any:
        self.blocks.append(Block(name, tensor, rule, phase, **kw))
        return tensor

    @property
    def all_checked(self) -> bool:
        return all(b.checked for b in self.blocks if b.phase != "input")

    def backward_blocks(self) -> list[Block]:
        return [b for b in self.blocks if b.phase == "backward" and b.quiz]


def to_float(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=object).astype(np.float64)


def check(example: WorkedExample, reference: dict[str, Any], labels: dict[str, str] | None = None):
    """Compare every non-input block with the autograd value of the same name.

    A block without a reference is a defect of the kind module, so it raises: every printed
    number must be compared with something independent.
    """
    labels = labels or {}
    for block in example.blocks:
        if block.phase == "input":
            continue
        if block.name not in reference:
            raise AssertionError(f"{example.kind}: block {block.name!r} has no autograd reference")
        ours = block.as_float()
        theirs = reference[block.name]
        if hasattr(theirs, "detach"):  # a torch tensor, possibly on a GPU
            theirs = theirs.detach().cpu().numpy()
        theirs = np.asarray(theirs, dtype=np.float64)
        if ours.shape != theirs.shape:
            block.checked, block.max_error = False, float("inf")
        else:
            error = float(np.max(np.abs(ours - theirs))) if ours.size else 0.0
            block.max_error = error
            block.checked = bool(np.allclose(ours, theirs, rtol=CHECK_RTOL, atol=CHECK_ATOL))
        block.reference = labels.get(block.name, "torch autograd (float64)")
    return example


# --------------------------------------------------------------------------- inputs


class Draw:
    """Seeded small inputs a student can push through by hand: integers or one-decimal numbers."""

    def __init__(self, seed: int, exact: bool = False):
        self.rng = random.Random(seed)
        self.exact = exact

    def _num(self, tenths: int) -> Any:
        return Fraction(tenths, 10) if self.exact else tenths / 10

    def ints(self, shape: tuple[int, ...], low: int = -2, high: int = 2) -> np.ndarray:
        n = int(np.prod(shape)) if shape else 1
        values = [self.rng.randint(low, high) for _ in range(n)]
        if self.exact:
            values = [Fraction(v) for v in values]
            return np.array(values, dtype=object).reshape(shape)
        return np.array(values, dtype=np.float64).reshape(shape)

    def decimals(self, shape: tuple[int, ...], low: float = -1.0, high: float = 1.0) -> np.ndarray:
        n = int(np.prod(shape)) if shape else 1
        values = [self._num(self.rng.randint(round(low * 10), round(high * 10))) for _ in range(n)]
        dtype = object if self.exact else np.float64
        return np.array(values, dtype=dtype).reshape(shape)

    def index(self, n: int) -> int:
        return self.rng.randrange(n)


def zeros(shape: tuple[int, ...], exact: bool) -> np.ndarray:
    if exact:
        out = np.empty(shape, dtype=object)
        out[...] = Fraction(0)
        return out
    return np.zeros(shape, dtype=np.float64)


def scalar(value: Any, exact: bool) -> Any:
    return Fraction(value) if exact else float(value)


def nested(value: Any, exact: bool = False) -> Any:
    """A tensor as nested lists for JSON (floats; exact fractions as "p/q" strings)."""
    arr = np.asarray(value, dtype=object)
    if exact:
        return np.vectorize(lambda v: str(Fraction(v)), otypes=[object])(arr).tolist()
    return arr.astype(np.float64).tolist()


def fmt_number(value: Any, exact: bool = False, digits: int = 4) -> str:
    if exact or isinstance(value, Fraction):
        return str(Fraction(value))
    v = float(value)
    if v == int(v) and abs(v) < 1e12:
        return str(int(v))
    text = f"{v:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def to_json(example: WorkedExample) -> dict[str, Any]:
    return {
        "kind": example.kind,
        "title": example.title,
        "options": example.options,
        "exact": example.exact,
        "checked": example.all_checked,
        "blocks": [
            {
                "name": b.name,
                "phase": b.phase,
                "shape": list(np.shape(b.tensor)),
                "tensor": nested(b.tensor, example.exact),
                "rule": b.rule,
                "checked": b.checked,
                "max_error": b.max_error,
                "reference": b.reference,
            }
            for b in example.blocks
        ],
        "notes": example.notes,
        "errata": example.errata,
    }
