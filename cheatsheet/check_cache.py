"""The derivation cache lives in `formulas.proof`; re-exported for older imports."""

from __future__ import annotations

from formulas.proof import derivation_report

__all__ = ["derivation_report"]
