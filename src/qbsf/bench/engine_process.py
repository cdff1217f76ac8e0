"""The sync engine in a process of its own, so a bench measures the engine's memory apart from the emulators'.

The Salesforce emulator is served over HTTP by the bench's process, and QuickBooks requests travel to the
simulator there over a pipe (:class:`PipeTransport`: one qbXML message in, its response out, as any transport).
The engine's process is started fresh (``spawn``: it inherits none of the emulators' memory) and reports its own
peak resident set size with the pass's counts: ``VmHWM`` of ``/proc/self/status``, the high-water mark of the
process's own memory. Not ``getrusage``'s ``ru_maxrss``: Linux carries it over ``execve`` from the forked copy of
the bench's process — which holds the seeded emulator — so it grew with the records seeded, not with the engine
(10,000 Accounts: 177 MB by ``ru_maxrss``; the engine's own high-water mark stayed near 130 MB).

``QBSF_BENCH_TRACEMALLOC=N`` (environment) makes the engine's process trace its Python allocations
(:mod:`tracemalloc`, ``QBSF_BENCH_TRACEMALLOC_FRAMES`` frames each, 1 by default) and print, at the end of the
pass, the traced peak and the ``N`` allocation sites (file:line) holding the most memory still alive — what the
pass keeps, by where it was allocated. With it, or with ``QBSF_BENCH_MEMORY=1`` alone (no tracing), the process
prints its resident memory every 10 s (``QBSF_BENCH_MEMORY=S``: every S seconds) with the entity the pass is at.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from qbsf.errors import QbsfError


class PipeTransport:
    """A QuickBooks transport over a pipe to the process that holds the simulator."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def send(self, request_xml: str) -> str:
        """One qbXML message to the simulator's process; its answer."""
        self.connection.send(("qb", request_xml))
        kind, answer = self.connection.recv()
        if kind != "qb":
            raise QbsfError(f"the simulator's process answered {kind!r}: {answer}", hint="see its output")
        return str(answer)

    def close(self) -> None:
        """Nothing to close: the pipe belongs to the bench."""


@dataclass(frozen=True)
class EngineJob:
    """What the engine's process needs: where Salesforce is, the mappings, the state folder, the batch size."""

    sf_url: str
    client_id: str
    client_secret: str
    mappings: str
    state_dir: str
    batch_size: int = 1_000
    income_account: str = "Sales"


@dataclass
class EngineRun:
    """What the engine's process reports back."""

    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    sf_calls: int
    qb_messages: int
    created: int
    failed: int
    error: str | None
    by_entity: dict[str, int] = field(default_factory=dict)


TRACE_ENV = "QBSF_BENCH_TRACEMALLOC"
FRAMES_ENV = "QBSF_BENCH_TRACEMALLOC_FRAMES"  # frames kept per allocation (1 = fastest; more for the tracebacks)
MEMORY_ENV = "QBSF_BENCH_MEMORY"  # resident memory every SAMPLE_SECONDS, without tracing
SAMPLE_SECONDS = 10.0


def _trace_sites() -> int:
    """How many allocation sites to print (``QBSF_BENCH_TRACEMALLOC``; 0 = no tracing)."""
    text = os.environ.get(TRACE_ENV, "").strip()
    return int(text) if text.isdigit() else (25 if text else 0)


def _rss_mb() -> float:
    """This process's resident set size now (Linux /proc), in MB."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * resource.getpagesize() / 2**20


_WHERE = ["starting"]  # the entity the pass is syncing, and how far (set by the pass's progress callback)


def _progress(name: str, done: int, total: int) -> None:
    _WHERE[0] = f"{name} {done:,}/{total:,}"


def _peak_rss_mb() -> float:
    """This process's own peak resident set size (``VmHWM``), in MB; ``ru_maxrss`` where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except (OSError, IndexError, ValueError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _sample_memory() -> None:
    """Every few seconds: resident memory, the traced Python memory (now, peak) and where the pass is, to stderr."""
    import tracemalloc

    started = time.monotonic()
    while True:
        current, peak = tracemalloc.get_traced_memory()
        traced = f", traced {current / 2**20:,.1f} MiB (peak {peak / 2**20:,.1f})" if tracemalloc.is_tracing() else ""
        print(f"engine memory at {time.monotonic() - started:6.0f} s: RSS {_rss_mb():,.0f} MB (peak "
              f"{_peak_rss_mb():,.0f}, getrusage {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f})"
              f"{traced}; {_WHERE[0]}",
              file=sys.stderr, flush=True)
        time.sleep(SAMPLE_SECONDS)


def allocation_report(top: int) -> str:
    """The traced peak and the ``top`` sites (file:line) holding the most memory now, as printed lines."""
    import tracemalloc

    current, peak = tracemalloc.get_traced_memory()
    snapshot = tracemalloc.take_snapshot().filter_traces((
        tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        tracemalloc.Filter(False, "<unknown>")))
    lines = [f"engine's traced Python memory: {current / 2**20:,.1f} MiB alive at the end, {peak / 2**20:,.1f} MiB "
             f"at its peak; the {top} sites holding the most:"]
    for stat in snapshot.statistics("lineno")[:top]:
        frame = stat.traceback[0]
        lines.append(f"  {stat.size / 2**20:8.2f} MiB {stat.count:>9,} blocks  {frame.filename}:{frame.lineno}")
    lines.append("where the three biggest were allocated from (innermost last):")
    for stat in snapshot.statistics("traceback")[:3]:
        lines.append(f"  {stat.size / 2**20:8.2f} MiB {stat.count:>9,} blocks")
        lines.extend(f"      {frame.filename}:{frame.lineno}" for frame in stat.traceback)
    return "\n".join(lines)


def _engine_main(job: EngineJob, connection: Connection) -> None:
    """The engine's process: one full Salesforce → QuickBooks pass, then its figures over the pipe."""
    sites = _trace_sites()
    if sites:
        import tracemalloc

        frames = os.environ.get(FRAMES_ENV, "").strip()
        tracemalloc.start(int(frames) if frames.isdigit() else 1)
    every = os.environ.get(MEMORY_ENV, "").strip()
    sample = bool(sites) or bool(every)
    if sample:
        global SAMPLE_SECONDS
        SAMPLE_SECONDS = float(every) if every.replace(".", "", 1).isdigit() and float(every) > 0 else SAMPLE_SECONDS
        threading.Thread(target=_sample_memory, name="qbsf-bench-memory", daemon=True).start()
        import logging

        # the engine's own log lines between the samples say which step the memory went to
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="engine log: %(message)s")
    from qbsf.quickbooks.client import DefaultAccounts, QuickBooksClient
    from qbsf.salesforce.auth import ClientCredentialsAuth
    from qbsf.salesforce.client import SalesforceClient
    from qbsf.sync.engine import SyncConfig, SyncEngine, load_mappings
    from qbsf.sync.state import StateStore

    try:
        qb = QuickBooksClient(PipeTransport(connection), default_accounts=DefaultAccounts(
            income="Sales", cogs="Cost of Goods Sold", asset="Inventory Asset"))
        sf = SalesforceClient(job.sf_url, ClientCredentialsAuth(job.sf_url, job.client_id, job.client_secret),
                              timeout=600.0)
        state = StateStore(Path(job.state_dir) / "state.db")
        engine = SyncEngine(SyncConfig(income_account=job.income_account, batch_size=job.batch_size), sf, qb, state,
                            load_mappings(job.mappings))
        started, cpu_started = time.perf_counter(), time.process_time()
        report = engine.sync_sf_to_qb(full=True, progress=_progress if sample else None)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        _WHERE[0] = "the pass is over"
        if sites:
            print(allocation_report(sites), file=sys.stderr, flush=True)
        state.close()
        sf.close()
        peak = _peak_rss_mb()
        connection.send(("done", EngineRun(
            seconds=seconds, cpu_seconds=cpu, peak_rss_mb=peak, sf_calls=report.sf_calls,
            qb_messages=report.qb_messages, created=report.total("created"), failed=report.total("failed"),
            error=report.error, by_entity={name: r.created for name, r in report.entities.items()})))
    except Exception as exc:  # the bench reports it; the engine's process ends either way
        connection.send(("error", f"{type(exc).__name__}: {exc}"))


def run_engine_apart(job: EngineJob, qb_transport: Any, *, timeout: float = 7_200.0) -> EngineRun:
    """Run one full pass in a fresh process; serve its QuickBooks messages with ``qb_transport`` from here."""
    context = multiprocessing.get_context("spawn")
    here, there = context.Pipe()
    process = context.Process(target=_engine_main, args=(job, there), name="qbsf-bench-engine")
    process.start()
    result: list[Any] = []
    deadline = time.monotonic() + timeout

    def serve() -> None:
        while time.monotonic() < deadline:
            if not here.poll(1.0):
                if not process.is_alive():
                    result.append(("error", f"the engine's process ended (exit code {process.exitcode})"))
                    return
                continue
            kind, payload = here.recv()
            if kind != "qb":
                result.append((kind, payload))
                return
            here.send(("qb", qb_transport.send(payload)))
        result.append(("error", f"the engine's pass took longer than {timeout:.0f} s"))

    server = threading.Thread(target=serve, name="qbsf-bench-qb", daemon=True)
    server.start()
    server.join()
    process.join(timeout=30)
    if process.is_alive():
        process.kill()
    kind, payload = result[0]
    if kind != "done":
        raise QbsfError(f"the engine's process failed: {payload}", hint="run the bench again with fewer records")
    return payload
