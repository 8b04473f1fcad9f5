"""`cheatsheet backprop` end to end: --json, --example sheet, --quiz and --drill with answers
from a file or stdin, bad input exit 2, and no torch import at CLI import time."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest

from cheatsheet.backprop import Options, conv, module_for
from cheatsheet.backprop.quiz import pick
from cheatsheet.cli import main


def run(argv, capsys):
    with pytest.raises(SystemExit) as done:
        main(argv)
    out, err = capsys.readouterr()
    return done.value.code, out, err


def fmt(values) -> str:
    return " ".join(repr(float(v)) for v in np.ravel(np.asarray(values, dtype=object)))


@pytest.mark.parametrize(
    "argv",
    [
        ["mlp", "--activation", "tanh", "--loss", "ce"],
        ["conv", "--stride", "2", "--padding", "1", "--size", "5x4"],
        ["maxpool"],
        ["avgpool", "--exact"],
        ["unpool"],
        ["transposed-conv", "--stride", "2"],
        ["rnn", "--size", "4", "--truncate", "2", "--clip"],
        ["lstm"],
        ["attention"],
        ["batchnorm"],
        ["softmax-ce"],
    ],
)
def test_json_has_every_tensor_checked(argv, capsys):
    code, out, _ = run(["backprop", *argv, "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["checked"] is True
    for block in doc["blocks"]:
        assert block["name"] and "tensor" in block
        assert np.shape(block["tensor"]) == tuple(block["shape"])
        if block["phase"] != "input":
            assert block["checked"] is True
    assert any(b["phase"] == "backward" for b in doc["blocks"])


def test_exact_prints_fractions(capsys):
    code, out, _ = run(
        [
            "backprop",
            "avgpool",
            "--exact",
            "--kernel",
            "3",
            "--stride",
            "1",
            "--size",
            "4",
            "--json",
        ],
        capsys,
    )
    assert code == 0
    dX = next(b for b in json.loads(out)["blocks"] if b["name"] == "dE/dX")
    assert any("/" in v for row in dX["tensor"] for v in row)


def test_human_output_marks_blocks(capsys):
    code, out, _ = run(["backprop", "conv"], capsys)
    assert code == 0 and "✓" in out and "blocks checked against torch autograd" in out


def test_example_sheet(capsys):
    code, out, _ = run(["backprop", "conv", "--example", "sheet", "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["checked"] is True
    assert {e["block"] for e in doc["errata"]} == {"Y", "dE/dX"}
    code, out, _ = run(["backprop", "conv", "--example", "sheet"], capsys)
    assert code == 0 and "sheet erratum" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["backprop", "conx"],
        ["backprop", "mlp", "--stride", "2"],
        ["backprop", "mlp", "--exact"],
        ["backprop", "conv", "--size", "abc"],
        ["backprop", "mlp", "--activation", "swish"],
        ["backprop", "lstm", "--example", "sheet"],
        ["backprop", "conv", "--kernel", "9"],
    ],
)
def test_bad_input_is_one_line_exit_2(argv, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2
    assert err.strip().count("\n") == 0 and "Traceback" not in err


def test_unknown_kind_names_the_closest(capsys):
    code, _, err = run(["backprop", "maxpol"], capsys)
    assert code == 2 and "maxpool" in err


def _quiz_target(kind: str, seed: int, **kw):
    example = module_for(kind).from_options(kind, Options(seed=seed, **kw))
    block, index = pick(example, seed)
    value = block.tensor if index is None else np.asarray(block.tensor, dtype=object)[index]
    return block, index, value


@pytest.mark.parametrize("kind", ["conv", "mlp", "rnn", "attention"])
def test_quiz_right_and_wrong_from_a_file(kind, tmp_path, capsys):
    block, index, value = _quiz_target(kind, 5)
    answers = tmp_path / "answers.txt"
    answers.write_text(fmt(value) + "\n")
    code, out, _ = run(
        ["backprop", kind, "--seed", "5", "--quiz", "--answers", str(answers), "--json"], capsys
    )
    doc = json.loads(out)
    assert code == 0 and doc["correct"] == 1 and doc["topic"] == "backprop"
    assert doc["asked"][0]["block"].startswith(block.name)
    answers.write_text(fmt(np.asarray(value, dtype=float) + 1.0) + "\n")
    code, out, _ = run(
        ["backprop", kind, "--seed", "5", "--quiz", "--answers", str(answers), "--json"], capsys
    )
    assert code == 1 and json.loads(out)["correct"] == 0


def test_quiz_from_stdin_and_recorded_in_the_store(monkeypatch, capsys):
    from quizzes.store import open_store

    block, index, value = _quiz_target("conv", 2)
    monkeypatch.setattr(sys, "stdin", io.StringIO(fmt(value) + "\n"))
    code, out, _ = run(["backprop", "conv", "--seed", "2", "--quiz"], capsys)
    assert code == 0 and "right" in out
    store = open_store()
    try:
        answers = store.answers(topic="backprop")
        card = store.card_state(f"backprop:conv:{block.name}")
    finally:
        store.close()
    assert [(a["card_id"], a["correct"]) for a in answers] == [
        (f"backprop:conv:{block.name}", True)
    ]
    assert card is not None and card.topic == "backprop" and card.reviews == 1


def test_drill_explains_the_wrong_factor_and_continues(tmp_path, capsys):
    example = conv.build(seed=0)
    K = example.block("K").tensor
    assert not np.array_equal(K, conv.rot180(K))
    dX = example.block("dE/dX")
    unrotated = dX.mistakes[0].value
    lines = [fmt(example.block("dE/dK").tensor), fmt(example.block("dE/db").tensor), fmt(unrotated)]
    answers = tmp_path / "answers.txt"
    answers.write_text("\n".join(lines) + "\n")
    code, out, _ = run(["backprop", "conv", "--drill", "--answers", str(answers), "--json"], capsys)
    doc = json.loads(out)
    assert code == 1
    assert [a["block"] for a in doc["asked"]] == ["dE/dK", "dE/db", "dE/dX"]
    assert [a["correct"] for a in doc["asked"]] == [True, True, False]
    assert "rot180" in doc["asked"][2]["feedback"]


def test_drill_human_output_and_missing_answers(tmp_path, capsys):
    example = module_for("mlp").from_options("mlp", Options(seed=1))
    names = [b.name for b in example.backward_blocks()]
    wrong = example.block("dL/dh").tensor  # delta1 without f'(z1)
    lines = []
    for name in names:
        lines.append(fmt(wrong if name == "delta1" else example.block(name).tensor))
    answers = tmp_path / "a.txt"
    answers.write_text("\n".join(lines))
    code, out, _ = run(
        ["backprop", "mlp", "--seed", "1", "--drill", "--answers", str(answers)], capsys
    )
    assert code == 1 and "f'(z1)" in out and "continuing from the right value" in out
    answers.write_text(lines[0])
    code, _, err = run(
        ["backprop", "mlp", "--seed", "1", "--drill", "--answers", str(answers)], capsys
    )
    assert code == 2 and "no answer" in err


def test_cli_import_does_not_import_torch():
    code = (
        "import sys, cheatsheet.cli, cheatsheet.cli.backprop_cmds; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
