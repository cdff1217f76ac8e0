"""`qbsf sync …` and `qbsf link`: run the sync engine from the command line and review links.

    qbsf sync sf-to-qb [--entity E] [--all] [--dry-run]   one Salesforce → QuickBooks pass, progress + summary
    qbsf sync qb-to-sf [--entity E] [--all] [--reset]     one QuickBooks → Salesforce pass, progress + summary
    qbsf sync status                                       totals per entity, failures, watermarks
    qbsf sync retry [--entity E] [ID …]                    un-park failed records so the next pass retries them
    qbsf link [--entity E] [--yes] [--unlink ID]           propose links for records on both sides; accept them
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from qbsf.app.context import AppContext, ConfigAndTenantAnywhere, cli_context
from qbsf.app.transports import quickbooks_transport
from qbsf.app.words import entity_word
from qbsf.sync.engine import CycleReport, SyncEngine
from qbsf.sync.entities import ENTITIES, INBOUND_SPECS, entity, say
from qbsf.sync.linking import LINKABLE, accept, propose, unlink
from qbsf.sync.runtime import open_engine, open_state

app = typer.Typer(help="Run the sync engine: Salesforce → QuickBooks passes, status, retries.", no_args_is_help=True,
                  cls=ConfigAndTenantAnywhere)

CONFIG_OPTION = typer.Option(None, "--config", envvar="QBSF_CONFIG", help="Settings TOML file to use.")
TENANT_OPTION = typer.Option(None, "--tenant", help="A company of a hosted deployment (`qbsf tenants list`): its "
                                                    "settings, secrets and state in the deployment's database.")
EntityOption = Annotated[list[str] | None, typer.Option(
    "--entity", "-e", help=f"{say(spec.name for spec in ENTITIES)} (repeatable).")]


def _context(ctx: typer.Context, config: str | None) -> AppContext:
    return cli_context(ctx, config)


@app.callback()
def _sync(ctx: typer.Context, config: str | None = CONFIG_OPTION, tenant: str | None = TENANT_OPTION) -> None:
    """Sync commands share one ``--config`` option (and ``--tenant`` for a hosted deployment's company)."""
    context = _context(ctx, config)
    if tenant is not None:
        from qbsf.app.hosted import tenant_context

        ctx.obj = tenant_context(context.config, tenant)


def _tenant(ctx: typer.Context) -> str | None:
    return getattr(ctx.obj, "tenant", None) or None


@contextmanager
def _progress(console: Console, enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    columns = (TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        tasks: dict[str, Any] = {}

        def update(entity_name: str, done: int, total: int) -> None:
            if entity_name not in tasks:
                tasks[entity_name] = progress.add_task(entity_name, total=max(total, 1))
            progress.update(tasks[entity_name], completed=done if total else 1, total=max(total, 1))

        yield update


def render_report(report: CycleReport, console: Console) -> None:
    """The summary table (and, for a dry run, what would be sent) of one pass."""
    title = "SF → QB dry run (nothing written)" if report.dry_run else "SF → QB sync"
    table = Table(title=title)
    columns = ("read", "would_create", "would_update") if report.dry_run else (
        "read", "created", "updated", "linked", "unchanged", "failed", "waiting")
    table.add_column("Entity")
    for column in columns:
        table.add_column(column.replace("_", " ").capitalize(), justify="right")
    for name, entity_report in report.entities.items():
        if report.dry_run:
            planned = [op for op, *_ in entity_report.planned]
            values = [entity_report.read, planned.count("create"), planned.count("update")]
        else:
            values = [getattr(entity_report, column) for column in columns]
        table.add_row(name, *(str(v) for v in values))
    console.print(table)
    if report.dry_run:
        for name, entity_report in report.entities.items():
            for operation, sf_id, label, target in entity_report.planned:
                fields = ", ".join(f"{k}={v!r}" for k, v in target.items() if v not in (None, "") and k != "lines")
                lines = target.get("lines")
                suffix = f" + {len(lines)} line(s)" if lines else ""
                console.print(f"  would {operation} {name} {label!r} ({sf_id}): {fields}{suffix}",
                              markup=False, highlight=False)
    for name, sf_id, label, message in report.failures:
        console.print(f"[red]✗[/red] {name} {label} ({sf_id}): {message}", highlight=False)
    if report.error:
        console.print(f"[red]✗ the pass stopped:[/red] {report.error}", highlight=False)
    console.print(f"{report.sf_calls} Salesforce calls, {report.qb_messages} QuickBooks messages, "
                  f"{report.seconds:.1f} s" + (f", {report.reconciled} interrupted Add(s) reconciled"
                                                if report.reconciled else ""), highlight=False)


@app.command("sf-to-qb")
def sf_to_qb(ctx: typer.Context, entity_names: EntityOption = None,
             full: Annotated[bool, typer.Option("--all", help="Every eligible record, not only changes "
                                                              "(safe to run twice).")] = False,
             dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be created or modified in "
                                                                     "QuickBooks; write nothing.")] = False,
             progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True) -> None:
    """Run one Salesforce → QuickBooks pass now."""
    console = Console()
    with open_engine(ctx.obj.load().settings, ctx.obj.secret_store(), quickbooks_transport,
                     tenant=_tenant(ctx)) as engine:
        names = [entity(name).name for name in entity_names] if entity_names else None
        with _progress(console, progress) as update:
            report = engine.sync_sf_to_qb(names, full=full, dry_run=dry_run, progress=update)
    render_report(report, console)
    if report.error or report.total("failed"):
        raise typer.Exit(1)


@app.command("qb-to-sf")
def qb_to_sf(ctx: typer.Context,
             entity_names: Annotated[list[str] | None, typer.Option(
                 "--entity", "-e",
                 help=f"{say(spec.name for spec in INBOUND_SPECS)} (repeatable); default all.")] = None,
             full: Annotated[bool, typer.Option("--all", help="Re-read every record (unchanged ones cost "
                                                              "nothing).")] = False,
             reset: Annotated[bool, typer.Option("--reset", help="Reset the watermark(s) first: re-sync from "
                                                                 "scratch, without duplicates.")] = False,
             progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True) -> None:
    """Run one QuickBooks → Salesforce pass now (↓ QB → SF)."""
    console = Console()
    with open_engine(ctx.obj.load().settings, ctx.obj.secret_store(), quickbooks_transport,
                     tenant=_tenant(ctx)) as engine, _progress(console, progress) as update:
        report = engine.sync_qb_to_sf(entity_names, full=full, reset=reset, progress=update)
    for line in [*report.lines(), report.summary()]:
        console.print(line, highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


@app.command("status")
def status(ctx: typer.Context, limit: Annotated[int, typer.Option(help="Failed records to list.")] = 20,
           as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Totals per entity from the activity log, records failing now, and the watermarks."""
    with open_state(ctx.obj.load().settings, tenant=_tenant(ctx)) as state:
        totals = state.totals()
        failures = state.failures()
        watermarks = state.watermarks()
        links = state.count_links()
        from qbsf.sync.lifecycle import Notices

        notices = Notices(state).open()
    if as_json:
        typer.echo(json.dumps({
            "totals": totals, "links": links,
            "notices": [{"entity": n.entity, "id": n.sf_id, "kind": n.kind, "message": n.message} for n in notices],
            "failures": [{"entity": f.entity, "id": f.record_key, "attempts": f.attempts, "parked": f.parked,
                          "message": f.message} for f in failures],
            "watermarks": {k: v for k, (v, _at) in watermarks.items()}}, indent=2))
        return
    console = Console()
    table = Table(title="Sync activity")
    outcomes = sorted({outcome for counts in totals.values() for outcome in counts})
    table.add_column("Entity")
    table.add_column("In both systems", justify="right")  # records paired with their QuickBooks record
    for outcome in outcomes:
        table.add_column(outcome.capitalize(), justify="right")
    for name in sorted(set(totals) | set(links)):
        table.add_row(entity_word(name), str(links.get(name, 0)),
                      *(str(totals.get(name, {}).get(o, 0)) for o in outcomes))
    console.print(table)
    for failure in failures[:limit]:
        state_text = "parked — needs you" if failure.parked else f"retry at {failure.next_attempt_at:%H:%M:%S}"
        # the message names the record; its raw id comes last
        console.print(f"[red]✗[/red] {entity_word(failure.entity)}: {failure.message} ({failure.record_key}, "
                      f"{failure.attempts} attempt(s), {state_text})", highlight=False)
    for notice in notices:
        console.print(f"[yellow]⚠[/yellow] {entity_word(notice.entity)} {notice.sf_id} {notice.kind}: "
                      f"{notice.message}", highlight=False)
    for source, (value, _at) in watermarks.items():
        system, _, name = source.partition(":")
        where = {"qb": "QB → SF", "sf": "SF → QB"}.get(system, "")
        console.print(f"timestamp {where} {entity_word(name)}: {value}" if where and name else
                      f"timestamp {source}: {value}",
                      highlight=False)


@app.command("retry")
def retry(ctx: typer.Context, ids: Annotated[list[str] | None, typer.Argument(help="Salesforce Ids")] = None,
          entity_name: Annotated[str | None, typer.Option("--entity", "-e")] = None) -> None:
    """Un-park failed records (all, one entity's, or the listed Ids) so the next pass retries them."""
    with open_state(ctx.obj.load().settings, tenant=_tenant(ctx)) as state:
        count = state.retry(entity=entity(entity_name).name if entity_name else None, keys=ids or None)
    typer.echo(f"✓ {count} failed record(s) will be retried on the next pass")


def link_command(ctx: typer.Context, entity_names: EntityOption = None,
         yes: Annotated[bool, typer.Option("--yes", "-y", help="Accept every proposal without asking.")] = False,
         unlink_id: Annotated[str | None, typer.Option("--unlink", help="Forget the link of this Salesforce "
                                                                        "record.")] = None,
         config: str | None = CONFIG_OPTION) -> None:
    """Propose links between records already in both systems (by name, then email or phone); accept them."""
    context = _context(ctx, config)
    console = Console()
    names = [entity(n).name for n in entity_names] if entity_names else list(LINKABLE)
    with open_engine(context.load().settings, context.secret_store(), quickbooks_transport) as engine:
        if unlink_id:
            spec = entity(names[0])
            done = unlink(spec, unlink_id, engine.sf, engine.state)
            typer.echo(f"✓ {spec.name} {unlink_id} unlinked" if done else f"{spec.name} {unlink_id} was not linked")
            return
        for name in names:
            _review(engine, name, yes, console)


def _review(engine: SyncEngine, name: str, yes: bool, console: Console) -> None:
    spec = entity(name)
    plan = propose(spec, engine.sf, engine.qb, engine.state, eligibility=engine.config.eligibility)
    table = Table(title=f"{spec.name} ↔ QuickBooks {spec.qb_entity}: {len(plan.proposals)} proposed link(s)")
    for column in ("Salesforce", "Id", "QuickBooks", "ListID", "Matched by"):
        table.add_column(column)
    for proposal in plan.proposals:
        table.add_row(proposal.sf_name, proposal.sf_id, proposal.qb_name, proposal.qb_id, proposal.reason)
    console.print(table)
    for ambiguity in plan.ambiguities:
        console.print(f"⚠ {ambiguity.reason} {ambiguity.key!r} is shared by Salesforce {', '.join(ambiguity.sf_ids)}"
                      f" and QuickBooks {', '.join(ambiguity.qb_ids)}: link these by hand", highlight=False)
    console.print(f"{plan.sf_unmatched} Salesforce and {plan.qb_unmatched} QuickBooks record(s) stay unmatched")
    if not plan.proposals:
        return
    if not yes and not typer.confirm(f"Link these {len(plan.proposals)} {spec.name} record(s)?", default=False):
        console.print("nothing linked")
        return
    count = accept(spec, plan.proposals, engine.sf, engine.qb, engine.state)
    console.print(f"✓ {count} {spec.name} record(s) linked; their QuickBooks ids are written to Salesforce")


__all__ = ["app", "link_command", "render_report"]

