"""The `qbsf` command line: one Typer app, one sub-app per capability."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

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
from qbsf.app.commands.sim import app as sim_app
from qbsf.app.commands.status import app as status_app
from qbsf.app.commands.sync import app as sync_app
from qbsf.app.commands.sync import link_command
from qbsf.errors import QbsfError
from qbsf.salesforce.cli import app as salesforce_app

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
app.add_typer(run_app, name="run")
app.add_typer(status_app, name="status")
app.add_typer(sync_app, name="sync")
app.command("link")(link_command)

_stderr = Console(stderr=True)


@app.command()
def version() -> None:
    """Print qbsf's version."""
    typer.echo(__version__)


def main() -> None:
    """Console-script entry point: run the CLI, turning qbsf's own errors into a message and exit 2."""
    try:
        app()
    except QbsfError as exc:
        _stderr.print(f"[red]✗[/red] {exc}", markup=True, highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
