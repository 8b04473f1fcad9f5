"""The exported sheet: labels come from the checks; the LaTeX compiles with pdflatex (zero
errors, <= 8 pages for the course, 1 page per topic); the HTML renders in headless Chromium with
zero KaTeX errors and a rendered formula per registry formula; the Anki deck opens as Anki's
own format (a zip holding a SQLite collection) with MathJax delimiters."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import pytest

import formulas
from formulas.core import Erratum, Evidence, Formula, Step
from quizzes import export, sheet


def _toy_formulas():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    derived = Formula(
        id="t-square",
        title="Square of a sum",
        topic="math",
        section="14",
        statement_builder=lambda: sp.Eq((x + 1) ** 2, x**2 + 2 * x + 1, evaluate=False),
        derivation_builder=lambda: [
            Step("expand", (x + 1) ** 2, x**2 + 2 * x + 1, justification="binomial")
        ],
    )
    wrong = Formula(
        id="t-wrong",
        title="A false step",
        topic="math",
        section="14",
        statement_builder=lambda: sp.Eq((x + 1) ** 2, x**2 + 1, evaluate=False),
        derivation_builder=lambda: [Step("bad expand", (x + 1) ** 2, x**2 + 1)],
    )

    def needs_torch():
        raise ModuleNotFoundError("No module named 'torch'", name="torch")

    unchecked_erratum = Formula(
        id="t-erratum",
        title="A sheet typo",
        topic="math",
        section="14",
        statement_builder=lambda: sp.Eq(sp.Symbol("y"), 2 * x),
        erratum=Erratum("y = x^2", "y = 2x", "the sheet squares instead of doubling", needs_torch),
    )
    refuted = Formula(
        id="t-refuted",
        title="An erratum whose evidence fails",
        topic="math",
        section="14",
        statement_builder=lambda: sp.Eq(sp.Symbol("y"), 2 * x),
        erratum=Erratum("a", "b", "c", lambda: Evidence(False, True, "sheet form passes")),
    )
    plain = Formula(id="t-plain", title="Not derived #1 & 50%", topic="math", section="14")

    def steps_need_scipy():
        raise ModuleNotFoundError("No module named 'scipy'", name="scipy")

    light = Formula(
        id="t-light",
        title="A derivation checked against scipy",
        topic="math",
        section="14",
        statement_builder=lambda: sp.Eq(sp.Symbol("y"), x),
        derivation_builder=steps_need_scipy,
    )
    return [derived, wrong, unchecked_erratum, refuted, plain, light]


@pytest.fixture
def toy(monkeypatch, tmp_path):
    monkeypatch.setenv("CHEATSHEET_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(formulas, "by_topic", lambda topic: _toy_formulas())


@pytest.mark.parametrize("fmt", ["md", "tex", "html"])
def test_labels_come_from_the_checks(toy, tmp_path, fmt):
    report = export.export_sheet(tmp_path / f"sheet.{fmt}", fmt, "math")
    labels = {entry["id"]: entry["label"] for entry in report["entries"]}
    assert labels["t-square"] == "derived"
    assert labels["t-wrong"] == "failed"
    assert labels["t-refuted"] == "failed"  # the evidence ran and did not tell the forms apart
    # A formula without a derivation is never called derived.
    assert labels["t-plain"] == "not checked here"
    assert labels["t-erratum"] != "derived"
    # the light install: a check that needs scipy is not checked here, never failed
    assert labels["t-light"] == "not checked here"
    erratum = next(e for e in report["entries"] if e["id"] == "t-erratum")["erratum"]
    assert erratum["state"] == "not checked in this install"
    assert "cheatsheet[models]" in erratum["detail"]
    assert report["errata not checked in this install"] == 1
    text = (tmp_path / f"sheet.{fmt}").read_text()
    assert "FAILED" not in text.replace("check FAILED", "").replace("a check FAILED", "")
    assert "not checked in this install" in text
    assert "squares instead of doubling" in text


def test_toy_tex_compiles(toy, tmp_path):
    if sheet.pdflatex() is None:
        pytest.skip("no pdflatex here (.ci/run installs TeX Live)")
    report = export.export_sheet(tmp_path / "sheet.pdf", "pdf", "math")
    assert (tmp_path / "sheet.pdf").read_bytes().startswith(b"%PDF")
    assert report["formulas"] == 6


def test_pdf_without_a_compiler_says_how_to_get_one(toy, tmp_path, monkeypatch):
    from cheatsheet.errors import CheatsheetError

    monkeypatch.setattr(sheet, "pdflatex", lambda: None)
    with pytest.raises(CheatsheetError) as error:
        export.export_sheet(tmp_path / "sheet.pdf", "pdf", "math")
    assert error.value.exit_code == 2
    assert "apt-get install" in str(error.value) and "--format html" in str(error.value)


def test_tex_text_escapes_specials_and_unicode():
    assert sheet.tex_text("#params & 50% ~x_1 {a} \\") == (
        r"\#params \& 50\% \textasciitilde{}x\_1 \{a\} \textbackslash{}"
    )
    assert sheet.tex_text("α → β ≤ γ") == r"$\alpha$ $\to$ $\beta$ $\le$ $\gamma$"


# --------------------------------------------------------------------------------------------
# The whole course, built once: pdflatex and Chromium read the real thing.


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    import os

    os.environ["CHEATSHEET_HOME"] = str(home)  # a fresh derivation cache for this module
    entries, topics = sheet.collect(None)
    return entries, topics


def _pdf_pages(pdf: Path) -> int:
    text = pdf.read_bytes()
    return len(re.findall(rb"/Type\s*/Page[^s]", text))


def test_course_tex_compiles_with_no_errors_in_at_most_8_pages(course, tmp_path):
    if sheet.pdflatex() is None:
        pytest.skip("no pdflatex here (.ci/run installs TeX Live)")
    entries, topics = course
    source = sheet.latex_document(entries, topics)
    assert "landscape" in source and r"\begin{multicols*}{4}" in source
    result = sheet.compile_pdf(source, tmp_path / "sheet.pdf")
    assert not [line for line in result["log"].splitlines() if line.startswith("!")]
    assert 1 <= result["pages"] <= 8
    # every formula is on the sheet, in the sheet's section order
    positions = [source.find(sheet.tex_text(entry["id"])) for entry in entries]
    assert all(position > 0 for position in positions)
    order = list(topics)
    seen = [entry["topic"] for entry in entries]
    assert seen == sorted(seen, key=order.index)


@pytest.mark.parametrize("topic", ["vae", "diffusion", "rl", "math"])
def test_one_topic_fits_on_one_page(course, tmp_path, topic):
    if sheet.pdflatex() is None:
        pytest.skip("no pdflatex here (.ci/run installs TeX Live)")
    entries, topics = course
    chosen = [entry for entry in entries if entry["topic"] == topic]
    result = sheet.compile_pdf(
        sheet.latex_document(chosen, {topic: topics[topic]}), tmp_path / "topic.pdf"
    )
    assert result["pages"] == 1


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_html_renders_every_formula_with_katex_offline(course, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium here (.ci/run installs it)")
    entries, topics = course
    page = tmp_path / "sheet.html"
    page.write_text(sheet.html_document(entries, topics), encoding="utf-8")
    text = page.read_text()
    # one offline file: nothing fetched from anywhere
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", text)
    assert "data:font/woff2;base64," in text and 'id="search"' in text
    dom = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=20000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    ).stdout
    assert "<article" in dom
    assert dom.count('class="katex-error"') == 0
    articles = re.findall(r"<article .*?</article>", dom, re.S)
    with_latex = {entry["id"] for entry in entries if entry["latex"]}
    rendered = {
        re.search(r'id="([^"]+)"', article).group(1)
        for article in articles
        if 'class="katex"' in article or 'class="katex-display"' in article
    }
    assert with_latex <= rendered, sorted(with_latex - rendered)[:10]
    # sections in the sheet's order
    ids = re.findall(r'<section class="topic" id="topic-([a-z]+)"', dom)
    assert ids == [topic for topic in topics if any(e["topic"] == topic for e in entries)]
    # a screenshot a person can look at (kept next to the test's tmp files)
    shot = tmp_path / "sheet.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1400,1000",
            "--virtual-time-budget=20000",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=240,
    )
    assert shot.exists() and shot.stat().st_size > 10_000


def test_html_embeds_run_pictures(toy, tmp_path):
    runs = tmp_path / "runs"
    (runs / "pixelcnn").mkdir(parents=True)
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    (runs / "pixelcnn" / "samples.png").write_bytes(png)
    export.export_sheet(tmp_path / "s.html", "html", "math", runs=runs)
    text = (tmp_path / "s.html").read_text()
    assert "data:image/png;base64," in text and "pixelcnn" in text


# --------------------------------------------------------------------------------------------
# Anki


def test_anki_deck_opens_with_notes_fields_and_mathjax(tmp_path):
    from quizzes.catalog import Catalog

    output = tmp_path / "vae.apkg"
    report = export.export_anki(Catalog(), "vae", output, variants=1)
    with zipfile.ZipFile(output) as deck:
        assert "collection.anki2" in deck.namelist()
        deck.extract("collection.anki2", tmp_path)
    database = sqlite3.connect(tmp_path / "collection.anki2")
    notes = [row[0].split("\x1f") for row in database.execute("select flds from notes")]
    models = json.loads(database.execute("select models from col").fetchone()[0])
    database.close()
    assert len(notes) == report["notes"] > 0
    fields = [field["name"] for model in models.values() for field in model["flds"]]
    assert fields == ["Id", "Topic", "Question", "Answer", "Explanation", "Formulas"]
    assert all(len(note) == 6 for note in notes)
    joined = "\n".join("\x1f".join(note) for note in notes)
    assert joined.count(r"\(") == joined.count(r"\)") > 0
    assert joined.count(r"\[") == joined.count(r"\]") > 0
    assert "$" not in joined  # MathJax delimiters only
    # the display LaTeX of a formula the deck rests on is the one the sheet prints
    from formulas.notation import display_latex

    kl = display_latex(formulas.get("kl-gauss"))
    import html

    assert html.escape(kl, quote=False) in joined


def test_anki_skips_a_template_that_needs_a_missing_package(tmp_path, monkeypatch):
    from quizzes import catalog as catalog_module
    from quizzes.catalog import Catalog

    original = catalog_module.generate

    def generate(template, variant):
        if template.id.startswith("gan-fid"):
            raise ModuleNotFoundError("No module named 'scipy'", name="scipy")
        return original(template, variant)

    monkeypatch.setattr(export, "generate", lambda t, v: _wrapped(generate, t, v))
    report = export.export_anki(Catalog(), "gan", tmp_path / "gan.apkg", variants=1)
    skipped = [entry for entry in report["skipped"] if "template" in entry]
    assert skipped and all(entry["needs"] == "scipy" for entry in skipped)
    assert "cheatsheet[models]" in skipped[0]["install"]


def _wrapped(generate, template, variant):
    """As catalog.generate reports a template's failure: a CheatsheetError from the cause."""
    from cheatsheet.errors import CheatsheetError

    try:
        return generate(template, variant)
    except ModuleNotFoundError as error:
        raise CheatsheetError(f"template {template.id}@{variant} could not draw") from error
