"""The `cheatsheet` command line: one thin Typer function per command.

Command groups live in their own modules (registry, quiz, backprop, run); each exposes
`register(app)`. Nothing heavy is imported here: torch, sympy, matplotlib and scikit-learn are
imported inside the commands that need them, so `cheatsheet --help` stays fast.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from cheatsheet.cli.output import print_error
from cheatsheet.errors import CheatsheetError

if TYPE_CHECKING:
    import typer

# Which module registers which top-level command. `main` builds only the invoked command's
# group: typer converts every registered command's signature on each start (~15 ms for all
# of them), which `cheatsheet list` should not pay. A test keeps this table exact.
COMMAND_GROUPS: dict[str, tuple[str, ...]] = {
    "registry_cmds": ("topics", "list", "show", "derive", "eval", "errata", "search"),
    "quiz_cmds": ("quiz", "exam", "review", "stats", "check", "plan", "export", "bank"),
    "backprop_cmds": ("backprop",),
    "run_cmds": ("run", "bench"),
}


def build_app(
    groups: tuple[str, ...] = tuple(COMMAND_GROUPS), only: str | None = None
) -> typer.Typer:
    import typer

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
    if only is not None:
        # Only the invoked command: typer converts each registered command's signature on
        # every start (~10-20 ms for the quiz group's nine), which `check` should not pay.
        application.registered_commands = [
            info for info in application.registered_commands if info.name == only
        ]
        application.registered_groups = [
            info for info in application.registered_groups if info.name == only
        ]

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
    """Entry point: every error is one line on stderr with exit code 2 (1 for a failed check).

    A plain `check ID --answer TEXT` runs without typer (cheatsheet.cli.quick: typer costs the
    symbolic check a quarter of its budget); every other command line goes through typer."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    quick = None
    if arguments[:1] == ["check"]:
        from cheatsheet.cli.quick import parse_check

        quick = parse_check(arguments)
    command = _command(arguments) if quick is None else None
    try:
        if quick is not None:
            from cheatsheet.cli.quick import run_check

            code = run_check(*quick)
        else:
            code = _run(command, arguments)
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
    sys.exit(code)


def _command(arguments: list[str]) -> Any:
    """The click command of the invoked command's group (all of them for help, completion or
    an unknown command), with only the invoked command converted."""
    import typer

    groups = _groups_for(arguments)
    only = arguments[0] if len(groups) == 1 else None  # a command that this group defines
    return typer.main.get_command(build_app(groups, only))


def _run(command: Any, arguments: list[str]) -> int:
    """Run the command line through typer: its exit code (typer's and click's own errors
    handled here, the rest by `main`)."""
    import typer

    # typer 0.26-0.28 vendors click: its usage errors live in typer._click (pinned in pyproject).
    from typer._click.exceptions import ClickException, NoArgsIsHelpError

    try:
        returned = command.main(args=arguments, prog_name="cheatsheet", standalone_mode=False)
        # With standalone_mode=False click *returns* the code of a `typer.Exit(code)`.
        if isinstance(returned, int) and not isinstance(returned, bool) and returned:
            return returned
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        print_error("aborted")
        return 130
    except NoArgsIsHelpError as error:
        error.show()
        return 2
    except ClickException as error:
        # Usage errors: one line with click's message (it names close commands), exit 2.
        print_error(f"{error.format_message()} (see cheatsheet --help)")
        return error.exit_code
    return 0
