"""The `qbsf` command line: one Typer app, one sub-app per capability."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape
from typer.exceptions import TyperException

from qbsf import __version__
from qbsf.app.commands.bench import app as bench_app
from qbsf.app.commands.config import app as config_app
from qbsf.app.commands.demo import app as demo_app
from qbsf.app.commands.license import app as license_app
from qbsf.app.commands.license import machine_app
from qbsf.app.commands.mapping import app as mapping_app
from qbsf.app.commands.qb import app as qb_app
from qbsf.app.commands.qbwc import app as qbwc_app
from qbsf.app.commands.qbwc import write_qwc
from qbsf.app.commands.run import app as run_app
from qbsf.app.commands.salesforce import app as salesforce_app
from qbsf.app.commands.serve import serve as serve_command
from qbsf.app.commands.sim import app as sim_app
from qbsf.app.commands.status import app as status_app
from qbsf.app.commands.sync import app as sync_app
from qbsf.app.commands.sync import link_command
from qbsf.app.commands.tenants import app as tenants_app
from qbsf.errors import QbsfError

app = typer.Typer(
    name="qbsf",
    help="Keep Salesforce and QuickBooks Desktop in sync, both ways.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(bench_app, name="bench")
app.add_typer(config_app, name="config")
app.add_typer(mapping_app, name="mapping")
app.add_typer(demo_app, name="demo")
app.add_typer(license_app, name="license")
app.add_typer(machine_app, name="machine-id")
app.command("qwc")(write_qwc)
app.add_typer(qbwc_app, name="qbwc")
app.add_typer(salesforce_app, name="salesforce")
app.add_typer(qb_app, name="qb")
app.add_typer(sim_app, name="sim")
app.command("serve")(serve_command)
app.add_typer(run_app, name="run")
app.add_typer(status_app, name="status")
app.add_typer(sync_app, name="sync")
app.add_typer(tenants_app, name="tenants")
app.command("link")(link_command)

_stderr = Console(stderr=True)


@app.command()
def version() -> None:
    """Print qbsf's version."""
    typer.echo(__version__)


#: Set to 1 to see the traceback of an unexpected error (logged at debug level, on stderr).
DEBUG_ENV = "QBSF_DEBUG"

#: Unexpected error classes in the words a user acts on.
_PLAIN_WORDS: tuple[tuple[type[BaseException], str], ...] = (
    (RecursionError, "the input is nested too deeply"),
    (MemoryError, "the input is too large to hold in memory"),
    (UnicodeError, "the input is not valid text (save it as UTF-8)"),
    (OSError, "a file or connection could not be used"),
)


def unexpected_error_line(exc: BaseException, argv: list[str]) -> str:
    """One line for an error qbsf did not foresee: the command, what happened in plain words, and what to do."""
    from qbsf.app.logging import redactor

    words = []
    for arg in argv:  # the command's name only: never its values, which may be file contents or passwords
        if not arg[:1].isalpha() or not arg.replace("-", "").isalpha() or len(words) == 2:
            break
        words.append(arg)
    command = " ".join(["qbsf", *words])
    plain = next((text for kind, text in _PLAIN_WORDS if isinstance(exc, kind)), "it hit something unexpected")
    detail = " ".join(str(exc).split())[:160]
    detail = redactor.text(f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__)
    return (f"{command} stopped: {plain} ({detail}) → check the files and values you passed; run again with "
            f"{DEBUG_ENV}=1 to see the details, and report it if the input was right")


def _log_traceback(exc: BaseException) -> None:
    """The traceback at debug level only: on stderr when QBSF_DEBUG=1, else wherever debug logging goes."""
    import logging
    import os

    logger = logging.getLogger("qbsf.app.cli")
    if os.environ.get(DEBUG_ENV, "").strip() not in ("", "0"):
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.DEBUG)
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    logger.debug("unexpected error", exc_info=exc)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI; qbsf's own errors and anything unexpected become one line, exit 2.

    A traceback never reaches the user: it is logged at debug level (``QBSF_DEBUG=1`` shows it).
    """
    args = sys.argv[1:] if argv is None else argv
    try:
        code = app(args=args, prog_name="qbsf", standalone_mode=False)
    except TyperException as exc:  # Click's usage errors (Typer carries its own Click): one line, not a box
        _stderr.print(f"[red]✗[/red] {escape(usage_error_line(exc))}", markup=True, highlight=False, soft_wrap=True)
        sys.exit(getattr(exc, "exit_code", 2))
    except typer.Abort:
        _stderr.print("Stopped.", highlight=False)
        sys.exit(1)
    except QbsfError as exc:
        _stderr.print(f"[red]✗[/red] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
        sys.exit(2)
    except Exception as exc:
        _log_traceback(exc)
        _stderr.print(f"[red]✗[/red] {escape(unexpected_error_line(exc, args))}", markup=True, highlight=False,
                      soft_wrap=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)  # typer.Exit(code) outside standalone mode comes back as a code


def usage_error_line(exc: TyperException) -> str:
    """A command-line mistake on one line: the command, what is wrong, and where to read how to call it."""
    context = getattr(exc, "ctx", None)
    command = getattr(context, "command_path", None) or "qbsf"
    message = " ".join(exc.format_message().split()) if hasattr(exc, "format_message") else str(exc)
    message = message.rstrip(".")
    return f"{command}: {message[:1].lower()}{message[1:]} → see `{command} --help`"


if __name__ == "__main__":
    main()
