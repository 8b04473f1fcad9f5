"""The `cheatsheet` command line: one thin Typer function per command.

Command groups live in their own modules (registry, quiz, backprop, run); each exposes
`register(app)`. Nothing heavy is imported here: torch, sympy, matplotlib and scikit-learn are
imported inside the commands that need them, so `cheatsheet --help` stays fast.
"""

from __future__ import annotations

import importlib
import sys

import typer

# typer 0.26-0.28 vendors click: its usage errors live in typer._click (pinned in pyproject).
from typer._click.exceptions import ClickException, NoArgsIsHelpError

from cheatsheet.cli.output import print_error
from cheatsheet.errors import CheatsheetError

# Which module registers which top-level command. `main` builds only the invoked command's
# group: typer converts every registered command's signature on each start (~15 ms for all
# of them), which `cheatsheet list` should not pay. A test keeps this table exact.
COMMAND_GROUPS: dict[str, tuple[str, ...]] = {
    "registry_cmds": ("topics", "list", "show", "derive", "eval", "errata", "search"),
    "quiz_cmds": ("quiz", "exam", "review", "stats", "check", "plan", "export", "bank"),
    "backprop_cmds": ("backprop",),
    "run_cmds": ("run", "bench"),
}


def build_app(groups: tuple[str, ...] = tuple(COMMAND_GROUPS)) -> typer.Typer:
    application = typer.Typer(
        name="cheatsheet",
        help="Offline exam prep for Machine Perception: verified formulas, quizzes, worked "
        "backprop and reference models.",
        no_args_is_help=True,
        # Plain click help: typer's rich help imports rich.markdown & co (~30 ms) per --help.
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    for group in groups:
        importlib.import_module(f"cheatsheet.cli.{group}").register(application)

    # A callback keeps the app a group even when only one command is registered (typer would
    # otherwise run a lone command directly and read its name as the first argument).
    @application.callback()
    def _group() -> None:
        pass

    return application


def __getattr__(name: str):
    """`cheatsheet.cli.app`: the whole app, built on first access (tests, typer tooling)."""
    if name == "app":
        return build_app()
    raise AttributeError(name)


def _groups_for(argv: list[str]) -> tuple[str, ...]:
    """The one group that defines the invoked command, or all of them (help, completion,
    an unknown command that needs close matches)."""
    import os

    if os.environ.get("_CHEATSHEET_COMPLETE") or not argv:
        return tuple(COMMAND_GROUPS)
    for group, commands in COMMAND_GROUPS.items():
        if argv[0] in commands:
            return (group,)
    return tuple(COMMAND_GROUPS)


def main(argv: list[str] | None = None) -> None:
    """Entry point: every error is one line on stderr with exit code 2 (1 for a failed check)."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    command = typer.main.get_command(build_app(_groups_for(arguments)))
    try:
        returned = command.main(args=arguments, prog_name="cheatsheet", standalone_mode=False)
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
