"""Regression tests for quizzes.mutations, the ordering prompt and the bank check's mutant count.

Each test checks a mutant against an independent statement of what the mistake is: a one-term
sign flip changes the expression by exactly -2 * term, an index shift only touches index
subscripts, a bar added uses the spelling the expression (or the registry) already uses, the
ordering prompt's example is an answer the engine can read, and `bank check`'s total is the sum
of what each question refused.
"""

from __future__ import annotations

import pytest

sp = pytest.importorskip("sympy")

from quizzes.mutations import (  # noqa: E402
    INDEX_SUBSCRIPTS,
    PLAIN_BAR,
    REGISTRY_BAR,
    _barred,
    _index_shift,
    _unbarred,
    bar_family,
    mutants,
    raw_mutants,
)


def _names(expr) -> set[str]:
    return {s.name for s in expr.free_symbols if isinstance(s, sp.Symbol)}


# --------------------------------------------------------------------------------------------
# 1. "the sign of <term> flipped" negates that one argument of the sum, nothing else


def _term_flips(expr):
    return [m for m in raw_mutants(expr) if m.description.startswith("the sign of ")]


def test_sign_of_one_does_not_flip_summation_limits():
    k, l, big_l = sp.symbols("k l L", integer=True, positive=True)
    d = sp.IndexedBase("d")
    total = sp.Sum((k - 1) * d[l], (l, 1, big_l))
    expr = 1 + total
    flips = {m.description: m.expr for m in _term_flips(expr)}
    assert flips["the sign of 1 flipped"] == total - 1
    for mutant in raw_mutants(expr):
        for limits in mutant.expr.atoms(sp.Sum):
            assert limits.limits[0][1] == 1, mutant.description  # lower limit untouched


@pytest.mark.parametrize(
    "build",
    [
        lambda x, y: x + sp.exp(x),  # the term x recurs inside exp(x)
        lambda x, y: 1 + sp.Sum(x**2, (y, 1, 5)),  # the term 1 recurs as a limit
        lambda x, y: y + sp.log(1 + y) - 2 * x,  # y inside the log, 1 inside the log's sum
        lambda x, y: sp.sqrt(1 - x) * y + x,  # x under the root
    ],
)
def test_term_flip_changes_the_sum_by_exactly_twice_the_term(build):
    x, y = sp.symbols("x y", positive=True, integer=True)
    expr = build(x, y)
    # The traversal visits the whole sum first, so its flips come first (then nested sums').
    flips = _term_flips(expr)[: len(expr.args)]
    assert [m.description for m in flips] == [f"the sign of {t} flipped" for t in expr.args]
    for term, mutant in zip(expr.args, flips):
        # Negating one argument of a + b + ... moves the value by -2 * that argument, and by
        # nothing else (closed form; the old xreplace also negated the term's other copies).
        assert sp.simplify(mutant.expr - expr + 2 * term) == 0, mutant.description


# --------------------------------------------------------------------------------------------
# 2. only index subscripts are shifted


def test_index_subscripts_are_the_documented_set():
    assert frozenset({"t", "i", "j", "k", "l", "n", "s"}) == INDEX_SUBSCRIPTS


@pytest.mark.parametrize(
    "name",
    ["p_d", "p_m", "mu_q", "sigma_p", "mu_theta", "p_data", "p_model", "z_x", "x", "beta_T"],
)
def test_labels_are_never_shifted(name):
    assert _index_shift(name) == []


@pytest.mark.parametrize(
    ("name", "shifted"),
    [
        ("x_t", {"x_{t-1}", "x_{t+1}"}),
        ("x_{t}", {"x_{t-1}", "x_{t+1}"}),
        ("abar_{t-1}", {"abar_t"}),
        ("h_{k+1}", {"h_k"}),
        ("w_i", {"w_{i-1}", "w_{i+1}"}),
        ("r_n", {"r_{n-1}", "r_{n+1}"}),
        ("beta_1", {"beta_0", "beta_2"}),
        ("x_0", {"x_1"}),  # no x_{-1}
        ("W_{12}", {"W_{11}", "W_{13}"}),
        ("W_12", {"W_11", "W_13"}),
    ],
)
def test_index_subscripts_are_shifted(name, shifted):
    assert {new for new, _ in _index_shift(name)} == shifted


def test_ratio_of_labels_has_no_off_by_one_mutant():
    p_d, p_m = sp.symbols("p_d p_m", positive=True)
    expr = p_d / (p_d + p_m)
    found = mutants(expr)
    assert found  # it still has mutants (the ratio inverted, a sign...)
    assert not [m for m in found if "off-by-one" in m.description]
    assert all(_names(m.expr) <= {"p_d", "p_m"} for m in found)


def test_time_index_still_has_off_by_one_mutant():
    x_t, abar = sp.symbols("x_t abar_t", positive=True)
    names = [_names(m.expr) for m in mutants(sp.sqrt(abar) * x_t)]
    assert {"abar_t", "x_{t-1}"} in names
    assert {"abar_{t-1}", "x_t"} in names


# --------------------------------------------------------------------------------------------
# 3. the bar added keeps to one spelling of alpha-bar


def test_barred_maps_within_a_family_and_back():
    assert _barred("alpha_t") == "alphabar_t"  # the registry's name
    assert _barred("alpha_t", REGISTRY_BAR) == "alphabar_t"
    assert _barred("alpha_t", PLAIN_BAR) == "abar_t"
    assert _barred("alpha_{t-1}", PLAIN_BAR) == "abar_{t-1}"
    assert _barred("alphabar_t") is None and _barred("beta_t") is None
    for family in (REGISTRY_BAR, PLAIN_BAR):
        for name in ("alpha_t", "alpha_{t-1}", "alpha"):
            assert _unbarred(_barred(name, family)) == name
    with pytest.raises(ValueError):
        _barred("alpha_t", "alpha_bar")


def test_bar_family_follows_the_expression():
    assert bar_family(["alpha_t", "abar_{t-1}"]) == PLAIN_BAR
    assert bar_family(["alpha_t", "alphabar_{t-1}"]) == REGISTRY_BAR
    assert bar_family(["alpha_t", "beta_t"]) == REGISTRY_BAR


def _spellings(expr) -> set[str]:
    names = _names(expr)
    return {
        family for family in (REGISTRY_BAR, PLAIN_BAR) if any(n.startswith(family) for n in names)
    }


@pytest.mark.parametrize(
    "formula_id", ["ddpm-epsilon-mean", "ddpm-posterior-mean", "ddpm-loss-weight"]
)
def test_registry_statement_mutants_use_the_registry_spelling(formula_id):
    import formulas

    rhs = formulas.get(formula_id).statement.rhs
    names = _names(rhs)
    assert "alpha_t" in names and any(n.startswith(REGISTRY_BAR) for n in names)
    added = [m for m in mutants(rhs, limit=100) if "a bar added" in m.description]
    assert added, "alpha_t gets its bar-added mutant"
    for mutant in mutants(rhs, limit=100):
        assert _spellings(mutant.expr) <= {REGISTRY_BAR}, (mutant.description, mutant.expr)
    for mutant in added:
        assert "alphabar_t" in _names(mutant.expr)
        assert mutant.description.startswith("alphabar_t where alpha_t belongs")


def test_plain_math_mutants_use_the_plain_spelling():
    from quizzes.parser import parse

    symbols = {"alpha_t": "positive", "abar_t": "positive", "x_t": "real", "eps": "real"}
    answer = parse("(x_t - (1 - alpha_t)/sqrt(1 - abar_t)*eps)/sqrt(alpha_t)", symbols)
    added = [m for m in mutants(answer, limit=100) if "a bar added" in m.description]
    assert added
    for mutant in mutants(answer, limit=100):
        assert _spellings(mutant.expr) <= {PLAIN_BAR}, (mutant.description, mutant.expr)
    # The bar added to every alpha_t gives abar_t everywhere: a name the question declares.
    whole = sp.Symbol("abar_t", positive=True)
    alpha = sp.Symbol("alpha_t", positive=True)
    assert any(m.expr == answer.xreplace({alpha: whole}) for m in added)


# --------------------------------------------------------------------------------------------
# 4. the ordering prompt's example names every step's letter


@pytest.mark.parametrize("count", [2, 3, 4, 6])
def test_ordering_prompt_example_matches_the_number_of_steps(count):
    import re

    from quizzes.display import question_lines
    from quizzes.engine import mark
    from quizzes.questions import Question

    steps = tuple(f"step {n}" for n in range(count))
    answer = " ".join(chr(ord("A") + n) for n in range(count))
    question = Question("order-x", "math", "ordering", "Order these.", answer, "", steps=steps)
    last = question_lines(question)[-1]
    example = re.search(r"e\.g\. ([A-Z ]+)\)", last).group(1)
    assert sorted(example.split()) == sorted(answer.split())
    result = mark(question, example)  # the example is an answer the engine reads (no re-prompt)
    assert result.valid


# --------------------------------------------------------------------------------------------
# 5. bank check counts the mutants that template questions refused


def test_bank_check_counts_template_mutants(tmp_path, monkeypatch):
    import random

    from quizzes import bankcheck, catalog
    from quizzes.engine import expected_expr
    from quizzes.questions import TEMPLATES, Question, Template

    def make(rng: random.Random, question_id: str) -> Question:
        power = rng.randint(2, 4)
        return Question(
            question_id,
            "diffusion",
            "symbolic",
            "The mean?",
            f"sqrt(abar_t)*x_0 + x_0^{power}",
            "",
            symbols={"abar_t": "positive", "x_0": "real"},
        )

    template = Template("mutant-count-probe", "diffusion", "symbolic", (), 1, (), make)
    monkeypatch.setattr(catalog, "load_templates", lambda topic=None: {})
    monkeypatch.setattr(catalog, "bank_directories", lambda: [tmp_path])
    monkeypatch.setattr(catalog, "COURSE_TOPICS", ())
    monkeypatch.setitem(TEMPLATES, template.id, template)
    for other in [name for name in TEMPLATES if name != template.id]:
        monkeypatch.delitem(TEMPLATES, other)

    variants = 3
    report = bankcheck.check_banks(variants=variants)
    assert report["problems"] == [] and report["questions"] == 0 and report["templates"] == 1
    # No bank question: every refused mutant is a template variant's (each one is refused).
    expected = sum(
        len(mutants(expected_expr(catalog.generate(template, v)))) for v in range(variants)
    )
    assert expected > 0 and report["mutants"] == expected
    problems, templates, refused = bankcheck.check_templates(variants)
    assert (problems, templates, refused) == ([], 1, expected)
