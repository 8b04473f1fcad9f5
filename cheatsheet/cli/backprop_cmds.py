"""`cheatsheet backprop KIND`: worked forward/backward passes checked against torch autograd.

Thin: parse options, call cheatsheet.backprop, print. torch is imported inside the kind modules,
never here (`cheatsheet --help` must not import it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cheatsheet.errors import CheatsheetError, CheckFailed

# Which options each knob belongs to, for the "does not apply" message.
_KNOBS = ("size", "kernel", "stride", "padding", "truncate", "clip", "exact", "activation", "loss")


def _parse_size(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    parts = [p for p in text.lower().replace(",", "x").split("x") if p.strip()]
    try:
        size = tuple(int(p) for p in parts)
    except ValueError:
        raise CheatsheetError(f"--size {text!r}: give integers like 5 or 5x4") from None
    if not size or any(s < 1 or s > 12 for s in size):
        raise CheatsheetError(f"--size {text!r}: each size must be between 1 and 12")
    return size


def register(app: typer.Typer) -> None:
    """Add the `backprop` command."""

    @app.command("backprop")
    def backprop(
        kind: str = typer.Argument(
            ...,
            help="mlp, conv, maxpool, avgpool, unpool, "
            "transposed-conv, rnn, lstm, attention, batchnorm, softmax-ce",
        ),
        seed: int = typer.Option(0, "--seed", help="seed of the random small inputs"),
        size: str | None = typer.Option(
            None,
            "--size",
            help="main size: conv/pool/transposed-conv input HxW; "
            "unpool input hxw; mlp/lstm hidden width; rnn steps T; attention TxD; "
            "batchnorm NxD; softmax-ce classes x batch",
        ),
        kernel: int | None = typer.Option(None, "--kernel", help="kernel/pool window size"),
        stride: int | None = typer.Option(None, "--stride"),
        padding: int | None = typer.Option(None, "--padding"),
        truncate: int | None = typer.Option(
            None, "--truncate", help="rnn: truncated BPTT, each loss summed over its last K steps"
        ),
        clip: bool = typer.Option(False, "--clip", help="rnn: clip the gradient norm"),
        max_norm: float = typer.Option(1.0, "--max-norm", help="rnn --clip: the max norm"),
        exact: bool = typer.Option(False, "--exact", help="exact fractions (rational kinds)"),
        activation: str | None = typer.Option(None, "--activation", help="mlp: sigmoid|tanh|relu"),
        loss: str | None = typer.Option(None, "--loss", help="mlp: mse|bce|ce"),
        example: str | None = typer.Option(
            None, "--example", help="'sheet': the sheet's own example (conv)"
        ),
        quiz: bool = typer.Option(False, "--quiz", help="hide one block and ask for it"),
        drill: bool = typer.Option(False, "--drill", help="ask every gradient in order"),
        answers: Path | None = typer.Option(
            None,
            "--answers",
            help="answers file, one per line (else stdin when it is not a terminal)",
        ),
        json_out: bool = typer.Option(False, "--json", help="every tensor as JSON"),
    ) -> None:
        """Worked backprop for one layer KIND, every number checked against torch autograd."""
        from cheatsheet import backprop as bp

        if kind not in bp.KINDS:
            close = bp.closest_kinds(kind)
            hint = f"; closest: {', '.join(close)}" if close else ""
            raise CheatsheetError(f"unknown kind {kind!r}{hint} (kinds: {', '.join(bp.KINDS)})")
        if quiz and drill:
            raise CheatsheetError("--quiz and --drill: choose one")
        module = bp.module_for(kind)
        given = {
            "size": size is not None,
            "kernel": kernel is not None,
            "stride": stride is not None,
            "padding": padding is not None,
            "truncate": truncate is not None,
            "clip": clip,
            "exact": exact,
            "activation": activation is not None,
            "loss": loss is not None,
        }
        for knob in _KNOBS:
            if given[knob] and knob not in module.options_for(kind):
                users = [k for k in bp.KINDS if knob in bp.module_for(k).options_for(k)]
                raise CheatsheetError(
                    f"--{knob} does not apply to {kind} (it applies to: {', '.join(users)})"
                )
        for name, value in (("stride", stride), ("kernel", kernel), ("truncate", truncate)):
            if value is not None and value < 1:
                raise CheatsheetError(f"--{name} must be at least 1")
        if padding is not None and padding < 0:
            raise CheatsheetError("--padding must be at least 0")
        options = bp.Options(
            seed=seed,
            size=_parse_size(size),
            kernel=kernel,
            stride=stride,
            padding=padding,
            truncate=truncate,
            clip=clip,
            max_norm=max_norm,
            exact=exact,
            activation=activation or "sigmoid",
            loss=loss or "mse",
        )
        if example is not None and (example != "sheet" or not hasattr(module, "sheet_example")):
            raise CheatsheetError(f"--example {example!r}: only 'sheet', for conv")
        try:
            worked = bp.build_example(kind, options, example)
        except ValueError as error:
            raise CheatsheetError(f"{kind}: {error}") from None
        _show(worked, seed, quiz, drill, answers, json_out)


def _show(worked, seed: int, quiz: bool, drill: bool, answers: Path | None, json_out: bool) -> None:
    from cheatsheet.backprop import core
    from cheatsheet.backprop import quiz as q
    from cheatsheet.backprop.render import render
    from cheatsheet.cli.output import console, emit_json

    if not (quiz or drill):
        if json_out:
            emit_json(core.to_json(worked))
        else:
            render(worked, console)
        if not worked.all_checked:
            bad = [b.name for b in worked.blocks if b.checked is False]
            raise CheckFailed(f"blocks differ from autograd: {', '.join(bad)}")
        return
    source = _answers(answers)
    try:
        if quiz:
            session = q.quiz(worked, seed, source, console, json_out)
        else:
            session = q.drill(worked, seed, source, console, json_out)
    except EOFError as error:
        raise CheatsheetError(str(error)) from None
    if json_out:
        emit_json(
            {
                "kind": worked.kind,
                "mode": session.mode,
                "correct": session.correct,
                "asked": [a.to_json() for a in session.asked],
                "topic": "backprop",
            }
        )
    if session.correct < len(session.asked):
        raise CheckFailed(f"{session.correct}/{len(session.asked)} right")


def _answers(path: Path | None):
    from cheatsheet.backprop.quiz import Answers

    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise CheatsheetError(f"--answers {path}: {error.strerror}") from None
        return Answers(iter(lines), None)
    if sys.stdin.isatty():
        from rich.prompt import Prompt

        return Answers(None, lambda prompt: Prompt.ask(prompt))
    return Answers(iter(sys.stdin.read().splitlines()), None)
