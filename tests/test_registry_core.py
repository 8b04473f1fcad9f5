"""The registry's own contract: lookups, errors, lazy imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

import formulas


def test_unknown_id_names_the_closest():
    with pytest.raises(KeyError) as info:
        formulas.get("kl-gaus")
    assert "kl-gauss" in str(info.value)


def test_every_topic_of_the_course_is_known():
    expected = {
        "generative",
        "vae",
        "autoregressive",
        "attention",
        "flows",
        "gan",
        "diffusion",
        "rl",
        "implicit",
        "body",
        "ml",
        "optimizers",
        "cnn",
        "rnn",
        "math",
    }
    assert expected <= set(formulas.topics())


def test_ids_are_unique_kebab_case():
    ids = [f.id for f in formulas.all()]
    assert len(ids) == len(set(ids))
    for formula_id in ids:
        assert formula_id == formula_id.lower() and "_" not in formula_id and " " not in formula_id


def test_listing_metadata_imports_neither_sympy_nor_torch():
    code = (
        "import sys, formulas, cheatsheet.cli; "
        "[f.title for f in formulas.all()]; "
        "print('sympy' in sys.modules, 'torch' in sys.modules, 'numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]
