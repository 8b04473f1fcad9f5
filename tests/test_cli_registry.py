"""The registry commands end to end, as a script would use them (subprocess: real exit codes,
real stderr, and the lazy-import promises)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def cheatsheet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cheatsheet", *args], capture_output=True, text=True, timeout=120
    )


def test_help_does_not_import_torch_or_sympy():
    code = (
        "import sys\n"
        "from cheatsheet.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules, 'sympy' in sys.modules, file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stderr.strip().splitlines()[-1] == "False False"


def test_list_json_names_every_formula():
    out = cheatsheet("list", "--json")
    assert out.returncode == 0
    rows = json.loads(out.stdout)
    import formulas

    assert {row["id"] for row in rows} == {f.id for f in formulas.all()}


def test_topics_json_has_all_fifteen():
    rows = json.loads(cheatsheet("topics", "--json").stdout)
    assert len(rows) >= 15


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["show", "kl-gaus"], "kl-gauss"),
        (["derive", "kl-gaus"], "kl-gauss"),
        (["list", "diffusio"], "diffusion"),
        (["eval", "kl-gauss", "mu=[0,1]", "sigm=1"], "sigma"),
        (["eval", "kl-gauss", "mu=oops", "sigma=1"], "cannot read value"),
    ],
)
def test_bad_input_is_one_line_exit_2_with_closest_names(args, fragment):
    out = cheatsheet(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0]
    assert "Traceback" not in out.stderr


def test_derive_kl_gauss_checks_every_step():
    out = cheatsheet("derive", "kl-gauss", "--json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["passed"] and payload["steps"]
    assert all(step["passed"] and step["method"] for step in payload["steps"])


def test_eval_matches_closed_form():
    out = cheatsheet("eval", "kl-gauss", "mu=[0,1]", "sigma=[1,2]", "--json")
    payload = json.loads(out.stdout)
    import math

    expected = 0.5 * (0 + 0 - 1 - 0 + 1) + 0.5 * (4 + 1 - 1 - math.log(4))
    assert payload["result"] == pytest.approx(expected)


def test_search_finds_half_remembered_formulas():
    out = cheatsheet("search", "kl", "divergence", "gaussian", "--json")
    ids = [hit["id"] for hit in json.loads(out.stdout)]
    assert "kl-gauss" in ids[:3]


def test_errata_confirms_every_erratum():
    out = cheatsheet("errata", "--json")
    rows = json.loads(out.stdout)
    assert out.returncode == 0, [row for row in rows if not row["sheet_fails"]]
    for row in rows:
        assert row["severity"] in ("error", "typo") and len(row["sheet_lines"]) == 2, row
        if row["state"] == "decided from the source":  # a claim in words, no computation
            assert row["kind"] == "claim" and row["source"], row
            continue
        assert row["state"] == "confirmed", row  # the full install checks every computation
        assert row["sheet_fails"] and row["correct_passes"], row


def test_errata_severity_filter_and_coverage():
    errors = json.loads(cheatsheet("errata", "--severity", "error", "--json").stdout)
    typos = json.loads(cheatsheet("errata", "--severity", "typo", "--json").stdout)
    assert errors and typos
    assert {row["severity"] for row in errors} == {"error"}
    assert {row["severity"] for row in typos} == {"typo"}
    bad = cheatsheet("errata", "--severity", "eror")
    assert bad.returncode == 2 and "did you mean error?" in bad.stderr
    coverage = json.loads(cheatsheet("errata", "--coverage", "--json").stdout)
    assert [row["section"] for row in coverage] == [str(n) for n in range(1, 15)]
    assert sum(row["errors"] for row in coverage) == len(errors)
    assert sum(row["typos"] for row in coverage) == len(typos)
    for row in coverage:
        assert row["unaccounted_lines"] == 0, row
        assert row["checked_lines"] <= row["claim_lines"]


def test_command_groups_table_names_exactly_what_each_module_registers():
    import importlib

    import typer

    from cheatsheet.cli import COMMAND_GROUPS

    for group, commands in COMMAND_GROUPS.items():
        application = typer.Typer()
        importlib.import_module(f"cheatsheet.cli.{group}").register(application)
        names = {info.name for info in application.registered_commands}
        names |= {info.name for info in application.registered_groups}
        assert names == set(commands), group


def test_derive_json_proves_the_statement_it_prints():
    import sympy as sp

    out = cheatsheet("derive", "ddpm-posterior-variance", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["kind"] == "derived" and report["passed"] is True
    assert report["concludes"] is True and report["conclusion"]
    statement = sp.parse_expr(report["statement_srepr"])  # srepr of our own output, not user text
    chain = [step for step in report["steps"] if step["role"] == "chain"]
    first = sp.parse_expr(chain[0]["lhs_srepr"])
    assert {step["relation"] for step in chain} == {"="}
    # the chain's ends are the statement's sides (up to the declared identities)
    assert sp.srepr(first) in (sp.srepr(statement.lhs), sp.srepr(statement.rhs))
    assert all(step["lhs_srepr"] and step["rhs_srepr"] for step in report["steps"])


def test_derive_of_a_definition_has_no_steps():
    out = cheatsheet("derive", "kl-divergence", "--json")
    report = json.loads(out.stdout)
    assert out.returncode == 0 and report["kind"] == "definition" and report["steps"] == []
    assert report["properties"] and all(p["passed"] for p in report["properties"])


def test_derive_text_ends_with_what_it_proved():
    out = cheatsheet("derive", "conv-output-size")
    assert out.returncode == 0, out.stderr
    tail = out.stdout.strip().split("\n\n")[-1]  # the last paragraph
    assert tail.startswith("✓ proved:") and "out =" in tail
