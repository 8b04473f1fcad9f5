"""The `cheatsheet` command line: one thin Typer function per command.

Command groups live in their own modules (registry, quiz, backprop, run); each exposes
`register(app)`. Nothing heavy is imported here: torch, sympy, matplotlib and scikit-learn are
imported inside the commands that need them, so `cheatsheet --help` stays fast.
"""

from __future__ import annotations

import sys

import click
import typer

from cheatsheet.cli import backprop_cmds, quiz_cmds, registry_cmds, run_cmds
from cheatsheet.cli.output import print_error
from cheatsheet.errors import CheatsheetError

app = typer.Typer(
    name="cheatsheet",
    help="Offline exam prep for Machine Perception: verified formulas, quizzes, worked "
    "backprop and reference models.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

registry_cmds.register(app)
quiz_cmds.register(app)
backprop_cmds.register(app)
run_cmds.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: every error is one line on stderr with exit code 2 (1 for a failed check)."""
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="cheatsheet", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.exceptions.Abort:
        print_error("aborted")
        sys.exit(130)
    except click.exceptions.ClickException as error:
        # Usage errors: click's own message, exit 2.
        error.show()
        sys.exit(error.exit_code)
    except CheatsheetError as error:
        print_error(str(error))
        sys.exit(error.exit_code)
    except KeyError as error:  # UnknownNameError and friends carry a readable message
        print_error(str(error).strip("'\""))
        sys.exit(2)
    except KeyboardInterrupt:
        print_error("interrupted")
        sys.exit(130)
    sys.exit(0)
