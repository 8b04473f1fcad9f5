"""The verified cheat sheet: every registry formula, in the sheet's order, with its label.

`collect(topic)` gathers one entry per formula: its display LaTeX (`formulas.notation`, the
form proved equal to the statement), its label and, for a derived formula, every step with its
check; for an erratum, the sheet's wrong form, the right form and the evidence's state. Three
renderers lay the entries out:

- `markdown`: one page of text with `$$..$$` math;
- `latex_document`: an A4 landscape, four-column, small-type exam sheet that pdflatex compiles
  (errata flagged in the column margin with the right form); `compile_pdf` runs pdflatex;
- `html_document`: one offline file with KaTeX (JS, CSS, fonts) inlined, a search box, each
  derivation folded under its formula, errata highlighted with their evidence, run pictures.

Labels (one word each, the same everywhere): derived (its derivation is a checked chain that
ends in the statement), definition, cross-checked (numerically, against an independent
implementation), not checked here, failed (a check ran and failed). A formula without a
derivation is never labelled derived.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

from formulas.errors import CheatsheetError

LABELS = ("derived", "definition", "cross-checked", "not checked here", "failed")
LABEL_TEXT = {
    "derived": "derived: every step checked",
    "definition": "definition",
    "cross-checked": "cross-checked numerically",
    "not checked here": "not checked here",
    "failed": "a check FAILED",
}
NOT_CHECKED = "not checked in this install"
TEX_PACKAGES = "texlive-latex-base texlive-latex-extra texlive-fonts-recommended"


# --------------------------------------------------------------------------------------------
# Entries


def _section_key(section: str) -> tuple:
    """'3.10' after '3.9': numbers compared as numbers, other text as text."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"[.\s]+", str(section))
        if part
    )


def _report(formula: Any) -> dict[str, Any]:
    """The derivation's checked report (cached by source, like `cheatsheet derive`)."""
    try:
        from formulas.proof import derivation_report
    except ImportError:  # an older registry without formulas.proof
        from formulas.proof import derivation_report
    report = derivation_report(formula)
    if isinstance(report, list):  # the older cache returned the steps alone
        report = {"steps": report, "passed": all(step["passed"] for step in report)}
    return report


def _evidence_state(erratum: Any, formula_id: str | None = None) -> tuple[str, str]:
    """(state, detail): confirmed / NOT confirmed / not checked in this install. With the
    formula's id, the evidence comes from the same cache as `cheatsheet errata` (and the
    evidence shipped with the package), recomputed whenever the code behind it changed."""
    try:
        if formula_id is None:
            evidence = erratum.evidence()
        else:
            from formulas.errata import cached_status

            evidence, _state = cached_status(formula_id, erratum.evidence)
    except ModuleNotFoundError as error:
        return NOT_CHECKED, (
            f"{NOT_CHECKED}: needs '{error.name}' (pip install 'cheatsheet[models]')"
        )
    except Exception as error:  # noqa: BLE001 - a crashing check is a failed check
        return "NOT confirmed", f"{type(error).__name__}: {error}"
    if evidence.sheet_fails is None or evidence.correct_passes is None:
        return NOT_CHECKED, evidence.detail
    confirmed = bool(evidence.sheet_fails and evidence.correct_passes)
    return ("confirmed" if confirmed else "NOT confirmed"), evidence.detail


def _step_latex(rendered: dict[str, str] | None) -> str | None:
    return rendered["latex"] if rendered else None


def entry(formula: Any) -> dict[str, Any]:
    """One formula as the sheet shows it."""
    from formulas.shipped import display_form

    item: dict[str, Any] = {
        "id": formula.id,
        "title": formula.title,
        "topic": formula.topic,
        "section": formula.section,
    }
    try:
        item["latex"] = display_form(formula)
    except Exception:  # noqa: BLE001 - a formula without a usable statement shows its text
        item["latex"] = None
    if not item["latex"]:
        item["text"] = formula.text
    kind = getattr(formula, "kind", None) or (
        "derived" if formula.has_derivation else "not checked here"
    )
    if kind == "derived" and not formula.has_derivation:
        kind = "not checked here"  # never call a formula without a derivation derived
    item["label"] = kind
    if formula.has_derivation:
        try:
            report = _report(formula)
            item["steps"] = [
                {
                    "claim": step["claim"],
                    "lhs": _step_latex(step.get("lhs")),
                    "rhs": _step_latex(step.get("rhs")),
                    "relation": step.get("relation", "="),
                    "justification": step.get("justification", ""),
                    "passed": bool(step["passed"]),
                    "method": step["method"],
                    "detail": step.get("detail", ""),
                }
                for step in report.get("steps", [])
            ]
            if not report.get("passed", False):
                item["label"] = "failed"
                item["failures"] = list(report.get("failures", []))
        except ModuleNotFoundError as error:
            # A step checked against torch/scipy: not checked in the light install, not failed.
            item["label"] = "not checked here"
            item["unchecked"] = (
                f"{NOT_CHECKED}: its derivation needs '{error.name}' "
                "(pip install 'cheatsheet[models]')"
            )
        except Exception as error:  # noqa: BLE001 - a crashing check is a failed check
            item["label"] = "failed"
            item["failures"] = [f"{type(error).__name__}: {error}"]
    if formula.erratum is not None:
        state, detail = _evidence_state(formula.erratum, formula.id)
        item["erratum"] = {
            "sheet": formula.erratum.sheet,
            "correct": formula.erratum.correct,
            "explanation": formula.erratum.explanation,
            "state": state,
            "detail": detail,
        }
        if state == "NOT confirmed":  # the evidence ran and did not tell the forms apart
            item["label"] = "failed"
            item.setdefault("failures", []).append(f"erratum evidence: {detail}")
    return item


def collect(topic: str | None = None) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """(entries in the sheet's order, {topic: heading}) for the whole course or one topic."""
    import formulas

    chosen = formulas.by_topic(topic) if topic else formulas.all()
    topics = {name: text for name, text in formulas.topics().items() if topic in (None, name)}
    order = {name: index for index, name in enumerate(topics)}
    chosen = sorted(chosen, key=lambda f: (order.get(f.topic, 99), _section_key(f.section)))
    return [entry(formula) for formula in chosen], topics


def _heading(text: str) -> str:
    """'Diffusion models: DDPM, ... (section 6)' -> the part a reader scans for."""
    return text


# --------------------------------------------------------------------------------------------
# Markdown

MD_MARKS = {
    "derived": "✓",
    "definition": "≡",
    "cross-checked": "≈",
    "not checked here": "○",
    "failed": "✗",
}


def markdown(entries: list[dict[str, Any]], topics: dict[str, str]) -> str:
    lines = [
        "# Machine Perception: the verified cheat sheet",
        "",
        "✓ derived (every step checked) · ≡ definition · ≈ cross-checked numerically · "
        "○ not checked here · ✗ a check failed · **erratum**: the course sheet prints "
        "something else",
        "",
    ]
    for topic, heading in topics.items():
        rows = [e for e in entries if e["topic"] == topic]
        if not rows:
            continue
        lines += [f"## {heading}", ""]
        for item in rows:
            lines.append(
                f"### {MD_MARKS[item['label']]} {item['title']} (`{item['id']}`, "
                f"§{item['section']}, {item['label']})"
            )
            if item["latex"]:
                lines += ["", f"$$ {item['latex']} $$", ""]
            elif item.get("text"):
                lines += ["", item["text"], ""]
            if item.get("unchecked"):
                lines += [f"_{item['unchecked']}_", ""]
            if "erratum" in item:
                erratum = item["erratum"]
                lines += [
                    f"> **erratum** ({erratum['state']}): the sheet prints "
                    f"${erratum['sheet']}$; correct: ${erratum['correct']}$. "
                    f"{erratum['explanation']}",
                    "",
                ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# LaTeX (pdflatex)

_TEX_TEXT = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
_TEX_UNICODE = {
    "→": r"$\to$",
    "←": r"$\leftarrow$",
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "≈": r"$\approx$",
    "≠": r"$\ne$",
    "·": r"$\cdot$",
    "×": r"$\times$",
    "−": "-",
    "–": "--",
    "—": "---",
    "…": r"\dots{}",
    "∞": r"$\infty$",
    "∇": r"$\nabla$",
    "∂": r"$\partial$",
    "‖": r"$\|$",
    "√": r"$\surd$",
    "²": r"$^2$",
    "ᾱ": r"$\bar\alpha$",
    "“": "``",
    "”": "''",
    "’": "'",
}


def tex_text(text: str) -> str:
    """Plain text made safe for pdflatex: specials escaped, Unicode spelled in LaTeX."""
    out = []
    for char in text:
        if char in _TEX_TEXT:
            out.append(_TEX_TEXT[char])
        elif ord(char) < 128:
            out.append(char)
        elif char in _TEX_UNICODE:
            out.append(_TEX_UNICODE[char])
        else:
            name = unicodedata.name(char, "")
            greek = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER (\w+)", name)
            if greek:
                letter = greek.group(2).lower()
                letter = letter.capitalize() if greek.group(1) == "CAPITAL" else letter
                out.append(rf"$\{letter}$")
            else:
                ascii_form = unicodedata.normalize("NFKD", char).encode("ascii", "ignore")
                out.append(tex_text(ascii_form.decode()) if ascii_form else "?")
    return "".join(out)


TEX_MARKS = {
    "derived": r"\textcolor{ok}{\checkmark}",
    "definition": r"\textcolor{defn}{$\equiv$}",
    "cross-checked": r"\textcolor{ok}{$\approx$}",
    "not checked here": r"\textcolor{gray}{$\circ$}",
    "failed": r"\textcolor{bad}{$\times$}",
}
TEX_LABELS = {
    "derived": "derived",
    "definition": "definition",
    "cross-checked": "cross-checked",
    "not checked here": "not checked here",
    "failed": "check FAILED",
}

TEX_PREAMBLE = r"""\documentclass[8pt]{extarticle}
\usepackage[a4paper,landscape,margin=6mm,top=6mm,bottom=8mm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{multicol}
\usepackage[dvipsnames]{xcolor}
\usepackage{adjustbox}
\usepackage{titlesec}
\definecolor{ok}{RGB}{0,110,40}
\definecolor{defn}{RGB}{40,70,160}
\definecolor{bad}{RGB}{190,0,0}
\setlength{\parindent}{0pt}
\setlength{\parskip}{1pt}
\setlength{\columnsep}{9pt}
\setlength{\columnseprule}{0.2pt}
\setlength{\abovedisplayskip}{1pt}
\setlength{\belowdisplayskip}{1pt}
\setlength{\abovedisplayshortskip}{0pt}
\setlength{\belowdisplayshortskip}{0pt}
\titleformat{\section}{\normalsize\bfseries\color{defn}}{}{0pt}{}
\titlespacing*{\section}{0pt}{4pt}{1pt}
\pagestyle{plain}
% A formula as wide as the column at most: shrunk to fit, never cut.
\newcommand{\formula}[1]{\par\smallskip
  \adjustbox{max width=\linewidth,center}{$\displaystyle #1$}\par\smallskip}
% An erratum: flagged in the column margin, the sheet's form in red, the right form below.
\newcommand{\erratumflag}{\leavevmode\llap{\textcolor{bad}{\bfseries !}\hspace{2pt}}}
\begin{document}
\scriptsize
"""


def _tex_math(latex: str) -> str:
    """Math that came from the registry, kept inside math mode (newlines dropped; a stray `#`,
    which TeX reads as a macro parameter, escaped)."""
    return re.sub(r"(?<!\\)#", r"\\#", " ".join(latex.split()))


def latex_document(entries: list[dict[str, Any]], topics: dict[str, str]) -> str:
    parts = [TEX_PREAMBLE]
    whole = len(topics) > 1
    columns = 4
    title = "Machine Perception: the verified cheat sheet" + (
        "" if whole else f" --- {tex_text(next(iter(topics)))}"
    )
    parts.append(rf"\begin{{multicols*}}{{{columns}}}")
    parts.append(
        rf"{{\small\bfseries {title}}}\par "
        + r"{\tiny "
        + " ".join(f"{TEX_MARKS[label]} {TEX_LABELS[label]}" for label in LABELS)
        + r"; \textcolor{bad}{\bfseries !} erratum: the course sheet prints something else"
        + r" (its form in red, the right form below).}\par"
    )
    for topic, heading in topics.items():
        rows = [e for e in entries if e["topic"] == topic]
        if not rows:
            continue
        parts.append(rf"\section*{{{tex_text(heading)}}}")
        for item in rows:
            flag = r"\erratumflag" if "erratum" in item else ""
            parts.append(
                rf"{flag}{TEX_MARKS[item['label']]} \textbf{{{tex_text(item['title'])}}} "
                rf"{{\tiny\color{{gray}}{tex_text(item['id'])} \S{tex_text(item['section'])}, "
                rf"{TEX_LABELS[item['label']]}}}"
            )
            if item["latex"]:
                parts.append(rf"\formula{{{_tex_math(item['latex'])}}}")
            elif item.get("text"):
                parts.append(tex_text(item["text"]) + r"\par")
            if item.get("unchecked"):
                parts.append(rf"{{\tiny\textit{{{tex_text(item['unchecked'])}}}}}\par")
            if "erratum" in item:
                erratum = item["erratum"]
                state = erratum["state"]
                parts.append(
                    r"{\tiny\textcolor{bad}{sheet prints:}}"
                    + rf"\formula{{\color{{bad}}{_tex_math(erratum['sheet'])}}}"
                    + r"{\tiny\textcolor{ok}{right form:}}"
                    + rf"\formula{{{_tex_math(erratum['correct'])}}}"
                    + rf"{{\tiny {tex_text(erratum['explanation'])} "
                    + rf"\textit{{(evidence: {tex_text(state)})}}}}\par"
                )
    parts += [r"\end{multicols*}", r"\end{document}", ""]
    return "\n".join(parts)


def pdflatex() -> str | None:
    return shutil.which("pdflatex")


def compile_pdf(source: str, output: Path, timeout: float = 300) -> dict[str, Any]:
    """Run pdflatex on `source` and write the PDF to `output`; CheatsheetError (exit 2) says
    how to get a compiler when there is none, and shows the first error when it fails."""
    compiler = pdflatex()
    if compiler is None:
        raise CheatsheetError(
            "no pdflatex here: install TeX Live (Debian/Ubuntu: apt-get install "
            f"{TEX_PACKAGES}; macOS: brew install --cask mactex-no-gui), or write the source "
            "with --format tex, or an offline page with --format html"
        )
    with tempfile.TemporaryDirectory(prefix="cheatsheet-tex-") as work:
        tex = Path(work) / "sheet.tex"
        tex.write_text(source, encoding="utf-8")
        run = subprocess.run(
            [compiler, "-interaction=nonstopmode", "-halt-on-error", "sheet.tex"],
            cwd=work,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
        )
        pdf = Path(work) / "sheet.pdf"
        errors = [line for line in run.stdout.splitlines() if line.startswith("!")]
        if run.returncode != 0 or not pdf.exists() or errors:
            first = errors[0] if errors else f"pdflatex exited {run.returncode}"
            raise CheatsheetError(f"pdflatex failed: {first}", exit_code=1)
        output = Path(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pdf, output)
        pages = re.search(r"Output written on .*?\((\d+) pages?", run.stdout.replace("\n", ""))
    return {"pages": int(pages.group(1)) if pages else None, "log": run.stdout}


# --------------------------------------------------------------------------------------------
# HTML (offline, KaTeX inlined)

KATEX_DIR = Path(__file__).parent / "vendor" / "katex"


def katex_assets() -> tuple[str, str]:
    """(CSS with every font as a woff2 data URI, JS): KaTeX vendored from npm, inlined."""
    css = (KATEX_DIR / "katex.min.css").read_text(encoding="utf-8")
    script = (KATEX_DIR / "katex.min.js").read_text(encoding="utf-8")

    def font_face(match: re.Match) -> str:
        name = match.group(1)
        data = base64.b64encode((KATEX_DIR / "fonts" / f"{name}.woff2").read_bytes()).decode()
        return f'src:url(data:font/woff2;base64,{data}) format("woff2")'

    css = re.sub(r'src:url\(fonts/([\w-]+)\.woff2\) format\("woff2"\)[^;}]*', font_face, css)
    return css, script.replace("</script", "<\\/script")


HTML_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #fafafa; }
header { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #ddd;
  padding: .6em 1.2em; z-index: 2; }
header h1 { font-size: 1.2em; margin: 0 0 .3em; }
#search { width: min(32em, 90%); font-size: 1em; padding: .3em .5em; }
.legend { font-size: .85em; color: #555; }
main { columns: 26em; column-gap: 1.6em; padding: 1em 1.2em; }
section.topic { break-inside: avoid-column; }
h2 { font-size: 1.05em; color: #24489c; border-bottom: 1px solid #cdd6ea; margin: .8em 0 .4em; }
article { break-inside: avoid; background: #fff; border: 1px solid #e2e2e2; border-radius: 6px;
  padding: .45em .7em; margin: 0 0 .6em; }
article.erratum { border-left: 5px solid #c0392b; background: #fff6f5; }
.title { font-weight: 600; }
.meta { color: #777; font-size: .8em; }
.label { font-size: .75em; padding: .05em .45em; border-radius: 1em; white-space: nowrap; }
.label.derived, .label.cross-checked { background: #dff3e4; color: #0b6b2a; }
.label.definition { background: #e3e9f7; color: #24489c; }
.label.not-checked-here { background: #eee; color: #555; }
.label.failed { background: #fbdede; color: #a00; }
.math { overflow-x: auto; overflow-y: hidden; padding: .2em 0; }
.fix { margin-top: .3em; font-size: .9em; }
.fix .wrong { color: #a00; }
.fix .state { font-size: .85em; color: #555; }
details { margin-top: .3em; font-size: .9em; }
details li { margin: .25em 0; }
.ok { color: #0b6b2a; } .bad { color: #a00; font-weight: 600; }
.why { color: #555; }
figure img { max-width: 100%; image-rendering: pixelated; }
.hidden { display: none; }
"""

HTML_SCRIPT = """
function renderAll() {
  document.querySelectorAll('[data-tex]').forEach(function (el) {
    katex.render(el.getAttribute('data-tex'), el,
      {displayMode: el.classList.contains('display'), throwOnError: false, strict: 'ignore'});
  });
}
function filter() {
  var words = document.getElementById('search').value.toLowerCase().split(/\\s+/).filter(Boolean);
  document.querySelectorAll('article').forEach(function (card) {
    var text = card.getAttribute('data-search');
    card.classList.toggle('hidden', !words.every(function (w) { return text.indexOf(w) >= 0; }));
  });
  document.querySelectorAll('section.topic').forEach(function (section) {
    var shown = section.querySelectorAll('article:not(.hidden)').length;
    section.classList.toggle('hidden', shown === 0);
  });
}
renderAll();
document.getElementById('search').addEventListener('input', filter);
"""

HTML_LABELS = {
    "derived": "derived ✓",
    "definition": "definition",
    "cross-checked": "cross-checked ≈",
    "not checked here": "not checked here",
    "failed": "check FAILED ✗",
}


def _tex_span(latex: str, display: bool = True) -> str:
    kind = "math display" if display else "math inline"
    tag = "div" if display else "span"
    return f'<{tag} class="{kind}" data-tex="{html.escape(_tex_math(latex))}"></{tag}>'


def _relation_tex(relation: str) -> str:
    return {"=": "=", "<=": r"\le", ">=": r"\ge", "<": "<", ">": ">"}.get(relation, relation)


def _steps_html(steps: list[dict[str, Any]]) -> str:
    items = []
    for step in steps:
        mark = '<span class="ok">✓</span>' if step["passed"] else '<span class="bad">✗ FAILS</span>'
        body = f"{mark} {html.escape(step['claim'])}"
        if step["lhs"] is not None and step["rhs"] is not None:
            body += _tex_span(f"{step['lhs']} {_relation_tex(step['relation'])} {step['rhs']}")
        elif step["rhs"] is not None:
            body += _tex_span(f"{_relation_tex(step['relation'])} {step['rhs']}")
        if step["justification"]:
            body += f' <span class="why">because {html.escape(step["justification"])}</span>'
        body += (
            f' <span class="meta">checked by {html.escape(step["method"])}: '
            f"{html.escape(step['detail'])}</span>"
        )
        items.append(f"<li>{body}</li>")
    return "<ol>" + "".join(items) + "</ol>"


def _article(item: dict[str, Any]) -> str:
    label = item["label"]
    classes = "erratum" if "erratum" in item else ""
    search = " ".join(
        [item["id"], item["title"], item["topic"], label, item.get("text", "")]
        + ([item["erratum"]["explanation"]] if "erratum" in item else [])
    ).lower()
    parts = [
        f'<article id="{html.escape(item["id"])}" class="{classes}" '
        f'data-search="{html.escape(search)}">',
        f'<div><span class="title">{html.escape(item["title"])}</span> '
        f'<span class="label {label.replace(" ", "-")}">{HTML_LABELS[label]}</span></div>',
        f'<div class="meta">{html.escape(item["id"])} · §{html.escape(item["section"])}</div>',
    ]
    if item["latex"]:
        parts.append(_tex_span(item["latex"]))
    elif item.get("text"):
        parts.append(f"<p>{html.escape(item['text'])}</p>")
    if item.get("unchecked"):
        parts.append(f'<div class="meta">{html.escape(item["unchecked"])}</div>')
    if "erratum" in item:
        erratum = item["erratum"]
        parts.append(
            '<div class="fix"><b class="wrong">Erratum.</b> The course sheet prints'
            + _tex_span(erratum["sheet"])
            + "right form:"
            + _tex_span(erratum["correct"])
            + f"{html.escape(erratum['explanation'])}"
            + f'<div class="state">evidence: {html.escape(erratum["state"])}'
            + f" — {html.escape(erratum['detail'])}</div></div>"
        )
    if item.get("steps"):
        verdict = "every step checks" if label != "failed" else "a check FAILED"
        parts.append(
            f"<details><summary>derivation: {len(item['steps'])} steps, {verdict}</summary>"
            + _steps_html(item["steps"])
            + "</details>"
        )
    if item.get("failures"):
        parts.append(
            '<details class="failures"><summary class="bad">what failed</summary>'
            + html.escape("; ".join(item["failures"]))
            + "</details>"
        )
    parts.append("</article>")
    return "\n".join(parts)


def _pictures(runs: Path) -> list[tuple[str, str]]:
    """(run name, data URI) for every runs/*/samples.png under `runs`."""
    runs = Path(runs)
    if not runs.is_dir():
        raise CheatsheetError(f"--runs {runs}: not a directory")
    found = []
    for picture in sorted(runs.glob("*/samples.png")):
        data = base64.b64encode(picture.read_bytes()).decode()
        found.append((picture.parent.name, f"data:image/png;base64,{data}"))
    return found


def html_document(
    entries: list[dict[str, Any]], topics: dict[str, str], runs: Path | None = None
) -> str:
    css, script = katex_assets()
    body = []
    for topic, heading in topics.items():
        rows = [e for e in entries if e["topic"] == topic]
        if not rows:
            continue
        body.append(
            f'<section class="topic" id="topic-{topic}"><h2>{html.escape(heading)}</h2>'
            + "\n".join(_article(item) for item in rows)
            + "</section>"
        )
    if runs is not None:
        pictures = _pictures(runs)
        figures = "".join(
            f'<figure><img alt="samples of {html.escape(name)}" src="{uri}">'
            f"<figcaption>{html.escape(name)}</figcaption></figure>"
            for name, uri in pictures
        )
        body.append(
            '<section class="topic" id="runs"><h2>Model runs: samples</h2>'
            + (figures or "<p>no runs/*/samples.png found</p>")
            + "</section>"
        )
    legend = " · ".join(
        f'<span class="label {label.replace(" ", "-")}">{HTML_LABELS[label]}</span>'
        for label in LABELS
    )
    counts = json.dumps({label: sum(e["label"] == label for e in entries) for label in LABELS})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Machine Perception: the verified cheat sheet</title>
<style>{css}</style>
<style>{HTML_STYLE}</style>
</head><body>
<header><h1>Machine Perception: the verified cheat sheet</h1>
<input id="search" type="search" placeholder="search formulas (id, title, topic, label)"
  aria-label="search formulas">
<div class="legend">{legend} · red border: the course sheet prints something else</div>
</header>
<main data-counts='{html.escape(counts)}'>
{"".join(body)}
</main>
<script>{script}</script>
<script>{HTML_SCRIPT}</script>
</body></html>
"""
