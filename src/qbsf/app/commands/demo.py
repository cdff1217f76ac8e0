"""`qbsf demo`: the whole system against the emulators — seeded Salesforce org, QuickBooks company, connector and
dashboard — with no accounts anywhere. `--once` runs one full cycle each way and prints what happened."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from qbsf.app.demo.stack import DEFAULT_DIR, EXAMPLE_MAPPINGS, DemoStack, Transport
from qbsf.sync.entities import ENTITIES, REGISTRY, say

app = typer.Typer(help="The whole system against the emulators (Ctrl-C stops); `qbsf demo edit …` changes a "
                       "record on either side while it runs.", invoke_without_command=True, no_args_is_help=False)
edit_app = typer.Typer(help="Change one record in the running demo, as a user of that system would.",
                       no_args_is_help=True)
app.add_typer(edit_app, name="edit")


@app.callback()
def run_demo(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Option("--dir", help="Demo folder (Salesforce org, QuickBooks company, "
                                                          "settings, state).")] = Path(DEFAULT_DIR),
    once: Annotated[bool, typer.Option("--once", help="Run one full cycle each way, print a summary, exit "
                                                      "(non-zero if anything failed).")] = False,
    transport: Annotated[str, typer.Option(help="How the connector reaches QuickBooks: simulator or "
                                                "webconnector (the real SOAP endpoint, a stand-in Web Connector).")
                         ] = "simulator",
    port: Annotated[int | None, typer.Option(help="Dashboard port (default 8765, or a free one if 8765 is taken; "
                                                  "0 = any free port).")] = None,
    reset: Annotated[bool, typer.Option("--reset", help="Start over: forget the demo folder's data first.")] = False,
    mappings: Annotated[bool, typer.Option("--mappings", help="Only show each example mapping applied to sample "
                                                              "records (no systems started).")] = False,
) -> None:
    """Start the demo: emulated Salesforce and QuickBooks, the connector and its dashboard (Ctrl-C stops)."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = directory
        return
    if mappings:
        from qbsf.app.demo.mappings import show_mappings

        shown = Console()
        shown.width = max(shown.width, 120)
        raise typer.Exit(show_mappings(shown, EXAMPLE_MAPPINGS))
    if transport not in ("simulator", "webconnector"):
        raise typer.BadParameter("use simulator or webconnector", param_hint="--transport")
    console = Console(stderr=False)
    console.width = max(console.width, 110)  # piped output (make demo in CI) would otherwise wrap at 80
    _ignore_environment(console)
    stack = DemoStack(directory, transport=_transport(transport), log_level="INFO",
                      dashboard_port=8765 if port is None else port)
    if reset:
        stack.reset()
    stack.start()
    try:
        _introduce(console, stack)
        if once:
            summary = stack.run_once()
            summary.render(console)
            code = 0 if summary.ok else 1
        else:
            code = _serve(console, stack, port)
    finally:
        stack.close()
    raise typer.Exit(code)


def _transport(name: str) -> Transport:
    return "webconnector" if name == "webconnector" else "simulator"


def _ignore_environment(console: Console) -> None:
    # the demo runs against its own emulators: a QBSF_ variable meant for a real org must not redirect it
    ignored = sorted(name for name in os.environ if name.startswith("QBSF_") and name != "QBSF_CRASH_AT")
    for name in ignored:
        del os.environ[name]
    if ignored:
        console.print(f"[yellow]⚠ ignoring {', '.join(ignored)}: the demo uses its own settings[/]", highlight=False)


def _introduce(console: Console, stack: DemoStack) -> None:
    seeded = stack.seeded
    verb = "Seeded" if stack.first_start else "Reusing"
    console.print(f"{verb} the demo in {stack.directory.resolve()}", highlight=False, soft_wrap=True)
    console.print(f"  Salesforce emulator {stack.emulator.url}, seeded with {seeded.accounts} Accounts, "
                  f"{seeded.contacts} Contacts, {seeded.products} Products, "
                  f"{seeded.opportunities} Closed Won Opportunities",
                  highlight=False, soft_wrap=True)
    company = stack.directory.resolve() / "company.qbsim"
    console.print(f"  QuickBooks company {company} ({stack.transport}), seeded with {seeded.qb_customers} "
                  f"customers and jobs, {seeded.qb_invoices} invoices — "
                  f"{seeded.qb_payments} paid, {seeded.qb_part_payments} part-paid, {seeded.qb_overdue} overdue",
                  highlight=False, soft_wrap=True)


def _serve(console: Console, stack: DemoStack, port: int | None) -> int:
    from qbsf.app.dashboard import dashboard_url
    from qbsf.app.dashboard.server import bind_socket, serve_until_stopped
    from qbsf.errors import ConfigError

    bundle = stack.bundle
    host = "127.0.0.1"
    try:
        sock = bind_socket(host, bundle.settings.dashboard.port if port is None else port)
    except ConfigError:
        if port is not None:
            raise
        sock = bind_socket(host, 0)  # 8765 taken (another qbsf?): any free port, the URL below says which
    # printed, never logged: the token opens the dashboard
    console.print(f"Dashboard: {dashboard_url(host, sock.getsockname()[1], bundle.dashboard.token)}",
                  highlight=False, soft_wrap=True)
    console.print(f"Token: {bundle.dashboard.token}   (Ctrl-C stops everything)", highlight=False)
    serve_until_stopped(bundle, sock)
    return 0


_DIR_OPTION = typer.Option("--dir", help="The running demo's folder (default: the one `qbsf demo` used).")


def _edit_dir(ctx: typer.Context, directory: Path | None) -> Path:
    if directory is not None:
        return directory
    # `qbsf demo --dir X edit …` keeps the folder on the demo command's context
    return ctx.obj if isinstance(ctx.obj, Path) else Path(DEFAULT_DIR)


@edit_app.command("salesforce")
def edit_salesforce_command(
    ctx: typer.Context,
    sobject: Annotated[str, typer.Argument(help=f"Salesforce object: {say(s.sf_object for s in ENTITIES)}.")],
    name: Annotated[str, typer.Argument(help="The record's Name, e.g. 'Acme Corporation'.")],
    values: Annotated[list[str], typer.Argument(help="FIELD=VALUE pairs, Salesforce API names (Phone=555-0100).")],
    directory: Annotated[Path | None, _DIR_OPTION] = None,
) -> None:
    """Change a record in the demo's Salesforce org (the next SF → QB cycle carries it to QuickBooks)."""
    from qbsf.app.demo.edit import edit_salesforce, parse_assignments

    typer.echo(edit_salesforce(_edit_dir(ctx, directory), sobject, name, parse_assignments(values)))


@edit_app.command("quickbooks")
def edit_quickbooks_command(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help=f"QuickBooks record: {say(s.qb_entity for s in REGISTRY)}.")],
    name: Annotated[str, typer.Argument(help="The customer's or item's full name, or the invoice number.")],
    values: Annotated[list[str], typer.Argument(help="FIELD=VALUE pairs, qbXML names (Phone=555-0199, "
                                                     "BillAddress.City=Austin).")],
    directory: Annotated[Path | None, _DIR_OPTION] = None,
) -> None:
    """Change a record in the demo's QuickBooks company (the next QB → SF pass carries it to Salesforce)."""
    from qbsf.app.demo.edit import edit_quickbooks, parse_assignments

    typer.echo(edit_quickbooks(_edit_dir(ctx, directory), kind, name, parse_assignments(values)))
