"""`qbsf qb …`: look at QuickBooks data the way qbsf reads it."""

from __future__ import annotations

from pathlib import Path

import typer

from qbsf.errors import ConfigError

app = typer.Typer(help="QuickBooks Desktop: inspect qbXML as qbsf reads it.", no_args_is_help=True)


@app.command("parse")
def parse(response: Path = typer.Argument(..., help="a qbXML response document saved from QuickBooks")) -> None:
    """Print each response's status and each *Ret record as JSON lines, as qbsf reads them."""
    from qbsf.quickbooks.inspect import response_objects, to_json_line

    if not response.is_file():
        raise ConfigError(f"{response}: no such file", hint="give the path of a qbXML response document")
    for obj in response_objects(response.read_bytes(), source=str(response)):
        typer.echo(to_json_line(obj))
