"""`qbsf bench …`: the benchmarks whose figures go in docs/benchmarks.md."""

from __future__ import annotations

import typer

app = typer.Typer(help="Benchmarks. Results belong in docs/benchmarks.md with the command that produced them.",
                  no_args_is_help=True)


@app.command("qbsim")
def qbsim(customers: int = typer.Option(10_000, help="customers to add"),
          invoices: int = typer.Option(20_000, help="two-line invoices to add"),
          batch: int = typer.Option(500, help="requests per qbXML message")) -> None:
    """Raw qbXML throughput of the QuickBooks simulator (no client, no latency model)."""
    from qbsf.bench.qbsim import run_simulator_bench

    result = run_simulator_bench(customers, invoices, batch=batch)
    typer.echo(f"simulator: {result.customers} customers in {result.customer_seconds:.2f} s "
               f"({result.customers_per_second:,.0f}/s), {result.invoices} invoices in {result.invoice_seconds:.2f} s "
               f"({result.invoices_per_second:,.0f}/s), {result.messages} messages; first iterator page of "
               f"{result.query_records} invoices with lines in {result.query_seconds:.2f} s; "
               f"{result.cpu_seconds:.1f} s of CPU in all")


@app.command("sf")
def sf(records: int = typer.Option(10_000, help="Accounts to upsert and read back"),
       latency: float = typer.Option(0.0, help="seconds the emulator adds to every API call"),
       faults: float = typer.Option(0.0, help="share of API calls that fail with a row lock or 503")) -> None:
    """Salesforce client: upsert Accounts through sObject Collections and read them back, against the emulator."""
    from qbsf.bench.sf import format_result, run_sf_bench

    result = run_sf_bench(records, latency=latency, fault_rate=faults)
    typer.echo(format_result(result, latency=latency, fault_rate=faults))
    if not result.meets_target:
        raise typer.Exit(1)


@app.command("mapping")
def mapping(records: int = typer.Option(100_000, help="records to map"),
            repeat: int = typer.Option(3, help="runs; the fastest counts")) -> None:
    """Mapping engine: records/s through a 15-row mapping on one core (target ≥ 100,000/s)."""
    from qbsf.bench.mapping import mapping_command

    mapping_command(records, repeat)


@app.command("webconnector")
def webconnector(customers: int = typer.Option(2000, help="customers to add"),
                 batch: int = typer.Option(50, help="requests per qbXML message"),
                 soap12: bool = typer.Option(False, "--soap12", help="SOAP 1.2 instead of 1.1")) -> None:
    """Web Connector path: a whole QBWC session over HTTP (stand-in + simulator) against direct simulator calls."""
    from qbsf.bench.webconnector import run_webconnector_bench

    r = run_webconnector_bench(customers, batch=batch, soap_version="1.2" if soap12 else "1.1")
    typer.echo(f"web connector (SOAP {r.soap_version}): {r.customers} customers in {r.messages} messages, "
               f"{r.seconds:.2f} s ({r.customers_per_second:,.0f} customers/s, {r.messages_per_second:,.1f} "
               f"messages/s); direct {r.direct_seconds:.2f} s; overhead {r.overhead_ms_per_message:.1f} ms/message")


@app.command("qb")
def qb(customers: int = typer.Option(10_000, help="customers to add through the client"),
       batch: int = typer.Option(200, help="requests per qbXML message"),
       per_message_ms: float = typer.Option(40.0, help="latency model: milliseconds per message"),
       per_request_ms: float = typer.Option(2.0, help="latency model: milliseconds per request")) -> None:
    """QuickBooks client: customers through QuickBooksClient into the simulator with the latency model on."""
    from qbsf.bench.qb import qb_command

    qb_command(customers, batch, per_message_ms, per_request_ms)


@app.command("idle")
def idle(cycles: int = typer.Option(10, help="idle cycles to count"),
         interval: float = typer.Option(30.0, help="polling interval (s) for the per-hour figure"),
         accounts: int = typer.Option(5, help="Accounts synced by the first cycle (e.g. 50000: a large initial "
                                              "sync, whose write-back leaves every record in the read window)"),
         pause: float = typer.Option(0.0, help="seconds between idle cycles (a connector waits its polling "
                                               "interval; 0 = back to back)"),
         lifecycle_minutes: float = typer.Option(60.0, help="sync.lifecycle_check_minutes (0: the check for "
                                                            "records gone from Salesforce runs every cycle)"),
         deals: int = typer.Option(0, help="Contacts, Products, Closed Won Opportunities and Activated Orders "
                                           "synced too"),
         older_package: bool = typer.Option(False, "--older-package", help="the org's Salesforce package has no "
                                                                            "cycle resource (reads go through "
                                                                            "/composite, 5 queries a call)"),
         trace: bool = typer.Option(False, "--trace", help="also list each idle cycle's Salesforce calls")
         ) -> None:
    """Idle connector: Salesforce API calls and QuickBooks messages per cycle when nothing changes."""
    from qbsf.app.logging import configure_logging
    from qbsf.bench.idle import measure_idle

    configure_logging(console=False)  # the result line only
    result = measure_idle(cycles, accounts=accounts, polling_interval=interval, pause=pause,
                          timeout=max(120.0, accounts / 20), lifecycle_minutes=lifecycle_minutes, deals=deals,
                          older_package=older_package)
    typer.echo(result.line())
    if trace:
        import re
        from collections import Counter

        for number, calls in enumerate(result.calls_by_cycle, start=1):
            typer.echo(f"idle cycle {number}: {len(calls)} Salesforce call(s)")
            named = (re.sub(r"/(query|queryAll)/[^/]+$", r"/\1/<next page>", call) for call in calls)
            for call, times in Counter(named).items():
                typer.echo(f"  {times} × {call}")


@app.command("outbound")
def outbound(accounts: int = typer.Option(10_000, help="Accounts to sync"),
             products: int = typer.Option(1_000, help="Products to sync"),
             opportunities: int = typer.Option(2_000, help="Closed Won Opportunities to sync"),
             lines: int = typer.Option(5, help="line items per Opportunity (and per Order)"),
             orders: int = typer.Option(200, "--orders", min=0, help="Activated Orders to sync (sales orders)"),
             latency: bool = typer.Option(True, help="emulators' latency models on"),
             sf_latency_ms: float = typer.Option(50.0, help="latency model: milliseconds per Salesforce call"),
             qb_message_ms: float = typer.Option(40.0, help="latency model: milliseconds per QuickBooks message"),
             qb_request_ms: float = typer.Option(2.0, help="latency model: milliseconds per QuickBooks request"),
             batch: int = typer.Option(1_000, help="records per batch (sync.batch_size)"),
             apart: bool = typer.Option(True, help="run the engine in its own process and report its peak RSS "
                                                   "(the emulators' memory measured apart)")) -> None:
    """Initial Salesforce → QuickBooks sync through the engine, against both emulators."""
    from qbsf.bench.outbound import run_outbound_bench

    result = run_outbound_bench(accounts=accounts, products=products, opportunities=opportunities, lines=lines,
                                orders=orders, latency=latency, sf_latency=sf_latency_ms / 1000,
                                qb_per_message=qb_message_ms / 1000, qb_per_request=qb_request_ms / 1000,
                                batch_size=batch, apart=apart)
    typer.echo(result.line())
    if result.failed or result.error:
        raise typer.Exit(1)


@app.command("inbound")
def inbound(customers: int = typer.Option(10_000, help="customers changed in QuickBooks"),
            invoices: int = typer.Option(20_000, help="invoices changed in QuickBooks"),
            delta: int = typer.Option(100, help="records changed before the second run"),
            latency: bool = typer.Option(True, help="emulators' latency models on"),
            overlap: float = typer.Option(10.0, help="seconds the delta query reaches back before the watermark"),
            payments: int = typer.Option(1_000, help="payments received, one on each of the first invoices"),
            credit_memos: int = typer.Option(500, "--credit-memos", help="credit memos (a quarter of the delta "
                                                                          "applies its credit to an invoice)"),
            sales_receipts: int = typer.Option(500, "--sales-receipts", help="sales receipts (cash sales)"),
            vendors: int = typer.Option(100, help="vendors"),
            bills: int = typer.Option(500, help="bills over the vendors (a quarter of the delta pays one by check)"),
            ) -> None:
    """QuickBooks → Salesforce: a first full pass, then a delta, against both emulators; with the documents it
    brings beside invoices (payments, credit memos, sales receipts, vendors, bills; 0 leaves one out)."""
    from qbsf.bench.inbound import run_inbound_bench

    result = run_inbound_bench(customers=customers, invoices=invoices, delta=delta, latency=latency,
                               overlap=overlap, payments=payments, credit_memos=credit_memos,
                               sales_receipts=sales_receipts, vendors=vendors, bills=bills)
    for line in result.lines():
        typer.echo(line)
    if result.failed or result.full.error or result.changed.error:
        raise typer.Exit(1)


@app.command("hosted")
def hosted(companies: int = typer.Option(200, "--companies", min=1, help="companies, each with its own Web "
                                                                          "Connector stand-in and QuickBooks"),
           workers: int = typer.Option(1, "--workers", min=1, max=64, help="worker processes of `qbsf serve`"),
           kill_every: float | None = typer.Option(None, "--kill-every", min=0.5,
                                                   help="SIGKILL one worker process every SECONDS"),
           database: str | None = typer.Option(None, "--database", help="PostgreSQL URL to use (default: a "
                                                                        "PostgreSQL the bench starts itself)"),
           accounts: int = typer.Option(3, "--accounts", min=1, help="Accounts per company"),
           timeout: float = typer.Option(900.0, "--timeout", help="give up after SECONDS"),
           steady: float = typer.Option(20.0, "--steady", min=0.0, help="SECONDS of sessions measured once every "
                                                                         "company is in sync")) -> None:
    """Hosted deployment: N companies' Web Connectors against `qbsf serve --workers W`; ends with one JSON line."""
    from qbsf.bench.hosted import run_hosted_bench

    result = run_hosted_bench(companies, workers=workers, kill_every=kill_every, database=database,
                              accounts=accounts, timeout=timeout, steady=steady, progress=typer.echo)
    typer.echo(f"hosted: {result.companies} companies, {result.workers} worker(s), {result.database}: "
               f"in sync after {result.seconds:.1f} s, {result.sessions_per_s:.2f} sessions/s, SOAP call "
               f"p50 {result.p50_ms:.1f} ms p99 {result.p99_ms:.1f} ms, {result.records} records "
               f"({result.records_per_s:.1f}/s), {result.kills} worker(s) killed; duplicates {result.duplicates}, "
               f"lost {result.lost}, cross-tenant {result.cross_tenant}"
               + (f" — {result.note}" if result.note else ""))
    typer.echo(result.to_json())
    if result.duplicates or result.lost or result.cross_tenant or result.in_sync < result.companies:
        raise typer.Exit(1)
