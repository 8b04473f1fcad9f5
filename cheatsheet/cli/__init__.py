"""The `cheatsheet` command line: one thin Typer function per command.

Command groups live in their own modules (registry, quiz, backprop, run); each exposes
`register(app)`. Nothing heavy is imported here: torch, sympy, matplotlib and scikit-learn are
imported inside the commands that need them, so `cheatsheet --help` stays fast.
"""

from __future__ import annotations

import sys

import typer

# typer 0.26-0.28 vendors click: its usage errors live in typer._click (pinned in pyproject).
from typer._click.exceptions import ClickException, NoArgsIsHelpError

from cheatsheet.cli import backprop_cmds, quiz_cmds, registry_cmds, run_cmds
from cheatsheet.cli.output import print_error
from cheatsheet.errors import CheatsheetError

app = typer.Typer(
    name="cheatsheet",
    help="Offline exam prep for Machine Perception: verified formulas, quizzes, worked "
    "backprop and reference models.",
    no_args_is_help=True,
    # Plain click help: typer's rich help imports rich.markdown & co (~30 ms) on every --help.
    rich_markup_mode=None,
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
        returned = command.main(args=argv, prog_name="cheatsheet", standalone_mode=False)
        # With standalone_mode=False click *returns* the code of a `typer.Exit(code)`.
        if isinstance(returned, int) and not isinstance(returned, bool) and returned:
            sys.exit(returned)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        print_error("aborted")
        sys.exit(130)
    except NoArgsIsHelpError as error:
        error.show()
        sys.exit(2)
    except ClickException as error:
        # Usage errors: one line with click's message (it names close commands), exit 2.
        print_error(f"{error.format_message()} (see cheatsheet --help)")
        sys.exit(error.exit_code)
    except CheatsheetError as error:
        print_error(str(error))
        sys.exit(error.exit_code)
    except KeyError as error:  # UnknownNameError and friends carry a readable message
        print_error(str(error).strip("'\""))
        sys.exit(2)
    except ModuleNotFoundError as error:
        # The light install has no torch/scikit-learn: say which extra brings it.
        print_error(
            f"this needs the optional package '{error.name}': pip install 'cheatsheet[models]'"
        )
        sys.exit(2)
    except KeyboardInterrupt:
        print_error("interrupted")
        sys.exit(130)
    sys.exit(0)
