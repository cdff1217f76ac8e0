"""`qbsf qb …`: look at QuickBooks data the way qbsf reads it."""

from __future__ import annotations

from pathlib import Path

import typer

from qbsf.errors import ConfigError

app = typer.Typer(help="QuickBooks Desktop: inspect qbXML as qbsf reads it.", no_args_is_help=True)


@app.command("parse")
def parse(response: Path = typer.Argument(..., help="a qbXML response document saved from QuickBooks ('-' reads "
                                                     "standard input)")) -> None:
    """Print each response's status and each *Ret record as JSON lines, as qbsf reads them."""
    import sys

    from qbsf.quickbooks.inspect import response_objects, to_json_line

    if str(response) == "-":
        data, source = sys.stdin.buffer.read(), "standard input"
    elif response.is_file():
        data, source = response.read_bytes(), str(response)
    else:
        raise ConfigError(f"{response}: no such file", hint="give the path of a qbXML response document")
    for obj in response_objects(data, source=source):
        typer.echo(to_json_line(obj))


@app.command("host")
def host(transport: str = typer.Option("simulator", help="simulator or com"),
         simulator_path: Path | None = typer.Option(None, help="the simulator's SQLite company file (default: memory)"),
         app_name: str = typer.Option("qbsf", help="QB App Name (com)"),
         company_file: str = typer.Option("", help="company file (com; blank = the one open)")) -> None:
    """Connect to QuickBooks, print its product, supported qbXML versions, the version qbsf uses and the company."""
    import json

    from qbsf.app.transports import close_transport, quickbooks_transport_named
    from qbsf.quickbooks.inspect import connection_report

    channel = quickbooks_transport_named(transport, simulator_path=simulator_path, app_name=app_name,
                                         company_file=company_file)
    try:
        report = connection_report(channel)
    finally:
        close_transport(channel)
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
