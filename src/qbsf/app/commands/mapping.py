"""`qbsf mapping …`: check mapping CSVs and try them on a record, without Salesforce or QuickBooks.

Contract (used by acceptance checks, keep it stable):
  check FILE...                  exit 0 + one summary line per file, or exit 2 + FILE:LINE: errors on stderr
  apply FILE --record REC.json   target JSON on stdout; exit 1 on a record-level error, exit 2 on a bad file
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from qbsf.mapping import KINDS, LinkKey, LinkPreview, Lookups, MappingFileError, RecordError, load_mapping
from qbsf.mapping.loader import HEADER_LINE
from qbsf.mapping.transforms import TRANSFORMATIONS

app = typer.Typer(help="Check mapping CSV files and preview what they do to a record.", no_args_is_help=True)


def _err(text: str) -> None:
    typer.echo(text, err=True)


@app.command()
def check(files: Annotated[list[Path], typer.Argument(help="Mapping CSV files", show_default=False)],
          org: Annotated[bool, typer.Option("--org", help="Also check every Salesforce field against the configured "
                                                          "org's describe (needs the Salesforce settings).")] = False,
          config: Annotated[str | None, typer.Option("--config", envvar="QBSF_CONFIG",
                                                     help="Settings TOML file to use (with --org).")] = None) -> None:
    """Validate mapping CSVs: one summary line per good file; every problem as FILE:LINE: on stderr.

    QuickBooks field names are checked against the QuickBooks record of each sheet; with --org the Salesforce
    field names are checked against the org (one describe per object)."""
    from qbsf.app.mapping_fields import field_problems

    failed = False
    sf = _org_client(config) if org else None
    try:
        for path in files:
            try:
                mapping = load_mapping(path)
            except MappingFileError as exc:
                failed = True
                for problem in exc.problems:
                    _err(str(problem))
                continue
            problems = field_problems(mapping, sf.missing_fields if sf is not None else None)
            for problem in problems:
                _err(str(problem))
            if problems:
                failed = True
                continue
            checked = " (fields checked against the org)" if sf is not None else ""
            typer.echo(f"{path}: OK {mapping.summary()}{checked}")
    finally:
        if sf is not None:
            sf.close()
    if failed:
        raise typer.Exit(2)


def _org_client(config: str | None) -> Any:
    from qbsf.app.context import AppContext
    from qbsf.salesforce.connect import client_from_settings

    context = AppContext(config=config)
    return client_from_settings(context.load().settings.salesforce, context.secret_store())


def _read_records(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """The record(s) in a JSON file: one object, or a list of objects. Exits 2 with the reason otherwise."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        _err(f"{path}: cannot read the record file: {exc}")
        raise typer.Exit(2) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        _err(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); the record must be a JSON object like "
             f'{{"Name": "Acme"}}')
        raise typer.Exit(2) from None
    except RecursionError:
        _err(f"{path}: the JSON is nested too deeply; a record is one object of field: value, like "
             f'{{"Name": "Acme"}}')
        raise typer.Exit(2) from None
    records = data if isinstance(data, list) else [data]
    for position, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            _err(f"{path}: record {position} is a JSON {type(record).__name__}, not an object of field: value")
            raise typer.Exit(2)
    return records, isinstance(data, list)


def _read_lookups(path: Path) -> dict[LinkKey, dict[str, str]]:
    """Link answers from a JSON file of {"Object.Field": {value: Id}}. Exits 2 with the reason otherwise."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        _err(f"{path}: cannot read the lookups: {exc}")
        raise typer.Exit(2) from None
    except RecursionError:
        _err(f"{path}: the lookups JSON is nested too deeply; it is one object of "
             f'{{"Object.Field": {{"value": "Id"}}}}')
        raise typer.Exit(2) from None
    if not isinstance(data, dict):
        _err(f'{path}: lookups must be a JSON object like {{"Account.QB_Customer_ID__c": {{"value": "Id"}}}}')
        raise typer.Exit(2)
    tables: dict[LinkKey, dict[str, str]] = {}
    for key, table in data.items():
        sobject, dot, field = key.partition(".")
        if not dot or not sobject or not field or not isinstance(table, dict):
            _err(f'{path}: {key!r} must be "Object.Field" with an object of value → Id')
            raise typer.Exit(2)
        tables[LinkKey(sobject, field)] = {str(value): str(sf_id) for value, sf_id in table.items()}
    return tables


@app.command()
def apply(
    file: Annotated[Path, typer.Argument(help="Mapping CSV file", show_default=False)],
    record: Annotated[Path, typer.Option("--record", "-r", help="JSON file with a source record (or a list); - reads "
                                         "stdin", show_default=False)],
    lookups: Annotated[Path | None, typer.Option(
        "--lookups", help='JSON answers for Link steps instead of the preview, e.g. {"Account.QB_Customer_ID__c": '
                          '{"80000001-1700000001": "001000000000001AAA"}}', show_default=False)] = None,
) -> None:
    """Map a record through a mapping CSV and print the target record as JSON (Links show what they'd look up)."""
    try:
        mapping = load_mapping(file)
    except MappingFileError as exc:
        for problem in exc.problems:
            _err(str(problem))
        raise typer.Exit(2) from None
    records, many = _read_records(record)
    tables: Lookups = LinkPreview() if lookups is None else _read_lookups(lookups)
    results = mapping.apply_many(records, tables).results if many else [mapping.apply(records[0], tables)]
    outputs = [r for r in results if not isinstance(r, RecordError)]
    errors = [r for r in results if isinstance(r, RecordError)]
    for error in errors:
        _err(f"record error: {error}")
    if outputs:
        payload: Any = outputs if many else outputs[0]
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
    if errors:
        raise typer.Exit(1)


@app.command("sheets")
def sheets() -> None:
    """List the eight template sheets, the header a mapping CSV starts with, and the transformations."""
    table = Table("Sheet (put in the file name)", "Direction", "Salesforce", "QuickBooks")
    for kind in KINDS:
        table.add_row(kind.sheet, kind.direction.value, kind.sf_object, kind.qb_entity + (" (child)" * kind.child))
    console = Console()
    console.print(table)
    console.print(f"Header: {HEADER_LINE}", highlight=False)
    console.print("Transformations (chain with |): " + ", ".join(TRANSFORMATIONS), highlight=False)
