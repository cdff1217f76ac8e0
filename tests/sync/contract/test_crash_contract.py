"""Crash contract: for every declared entity in each direction, a pass killed with SIGKILL at each step boundary and
run again leaves every record on the other side exactly once, linked, with nothing lost.

The pass runs in a forked child (qbsf already imported: a fresh interpreter would cost seconds per case) against the
Salesforce emulator, which stays in the parent and outlives the child; the QuickBooks company and the state store
are SQLite files the restarted pass opens again.

Both directions stop at qbsf's own named crash points (``QBSF_CRASH_AT``): ``qbsf.sync.crash.POINTS`` for
Salesforce → QuickBooks, ``qbsf.sync.crash.INBOUND_POINTS`` for QuickBooks → Salesforce (every batch boundary, the
read window's move, the deletions read), and ``qbsf.sync.crash.LIFECYCLE_POINTS`` for a removal the Salesforce →
QuickBooks life-cycle check finds (its action written to QuickBooks, the notice recorded, the check's key moved).
QuickBooks → Salesforce is also stopped by an unexpected error raised at each of its batch and window points
(``QBSF_CRASH_HOW=raise``, in this process). A removal's pass is also killed from outside at the boundaries of its
QuickBooks writes and of the call that moves the life-cycle check's key (entering or leaving each).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.sync.contract.factories import FACTORIES, removal_actions
from tests.sync.contract.support import COMPANY_ZONE, QB_TO_SF, SF_TO_QB, Case, ContractWorld, registered_cases

from qbsf.sync import crash
from qbsf.sync.crash import INBOUND_POINTS, LIFECYCLE_POINTS, POINTS

RECORDS = 3       # per case: with batches of 2, every pass has a first and a last batch
BATCH = 2
OUTBOUND_KILLS = [(point, 1) for point in POINTS] + [("after_local_record", 2)]
# QuickBooks → Salesforce: each batch boundary of the first batch, the last batch written but not recorded and
# recorded (the window not moved), and the read window's move; the deletions read's points are the removal cases'.
INBOUND_DELETION_POINTS = [point for point in INBOUND_POINTS if "deletions" in point]
INBOUND_KILLS = [(point, 1) for point in INBOUND_POINTS if point not in INBOUND_DELETION_POINTS] + [
    ("inbound_after_sf_write", 2), ("inbound_after_record", 2)]
CASES = [(case, point, hit) for case in registered_cases()
         for point, hit in (OUTBOUND_KILLS if case.direction == SF_TO_QB else INBOUND_KILLS)]
IDS = [f"{case.label}-{point}:{hit}" for case, point, hit in CASES]


def _clients(env: dict[str, str], validating: Any = None) -> tuple[Any, Any, Any, Any]:
    from qbsf.quickbooks.client import DefaultAccounts, QuickBooksClient
    from qbsf.quickbooks.transports.simulator import SimulatorTransport
    from qbsf.salesforce.auth import ClientCredentialsAuth
    from qbsf.salesforce.client import SalesforceClient
    from qbsf.sim.quickbooks import QuickBooksSimulator
    from qbsf.sync.state import StateStore

    sf = SalesforceClient(env["SF_URL"], ClientCredentialsAuth(env["SF_URL"], env["SF_ID"], env["SF_SECRET"]),
                          backoff=0.001, backoff_max=0.01)
    sim = QuickBooksSimulator(env["QB_PATH"], utc_offset_hours=COMPANY_ZONE)
    transport = SimulatorTransport(sim)
    qb = QuickBooksClient(validating(transport) if validating else transport, default_accounts=DefaultAccounts(
        income="Sales", cogs="Cost of Goods Sold", asset="Inventory Asset", expense="Office Supplies"))
    return sf, sim, qb, StateStore(env["STATE_PATH"])


def _world(env: dict[str, str], mappings: dict[str, Any], validating: Any = None) -> ContractWorld:
    sf, sim, qb, state = _clients(env, validating)
    world = ContractWorld(None, sf, sim, qb, state, mappings)
    world.settings = {"qb_batch_size": 1, "batch_size": BATCH}
    world.inbound_settings = {"batch_size": BATCH}
    return world


def _close(world: ContractWorld) -> None:
    world.state.close()
    world.qb.close()
    world.qb_sim.close()
    world.sf.close()


def _kill_at(point: str, hit: int, watermark: str) -> None:
    """Make this (child) process SIGKILL itself at ``point`` the ``hit``-th time it is reached: entering or leaving a
    QuickBooks message with an Add, Mod, Del or Void (``before_qb_write``, ``after_qb_write``), or the ``watermark``
    key's move: entering the call that moves it (``before_watermark``, inside its transaction) and once that
    transaction is committed (``after_watermark``)."""
    from qbsf.quickbooks.transports.simulator import SimulatorTransport
    from qbsf.sync.state import StateStore

    hits = {"n": 0}

    def reached(name: str) -> None:
        if name == point:
            hits["n"] += 1
            if hits["n"] >= hit:
                os.kill(os.getpid(), signal.SIGKILL)

    send = SimulatorTransport.send

    def counted_send(self: Any, request_xml: str) -> str:
        write = any(tag in request_xml for tag in ("AddRq", "ModRq", "DelRq", "VoidRq"))
        if write:
            reached("before_qb_write")
        answer = send(self, request_xml)
        if write:
            reached("after_qb_write")
        return answer

    set_watermark, batch = StateStore.set_watermark, StateStore.batch
    depth, moved = {"n": 0}, {"pending": False}

    def watched(self: Any, source: str, value: str, **kwargs: Any) -> None:
        ours = source == watermark
        if ours:
            reached("before_watermark")  # inside its transaction: killed here, nothing of that transaction stays
        set_watermark(self, source, value, **kwargs)
        if ours and depth["n"] == 0:
            reached("after_watermark")
        elif ours:
            moved["pending"] = True

    @contextlib.contextmanager
    def watched_batch(self: Any) -> Iterator[None]:
        depth["n"] += 1
        try:
            with batch(self):
                yield
        finally:
            depth["n"] -= 1
        if depth["n"] == 0 and moved["pending"]:
            moved["pending"] = False
            reached("after_watermark")  # the transaction that moved the watermark is committed

    SimulatorTransport.send = counted_send  # type: ignore[method-assign]
    StateStore.set_watermark = watched  # type: ignore[method-assign]
    StateStore.batch = watched_batch  # type: ignore[method-assign]


def _pass_in_child(env: dict[str, str], mappings: dict[str, Any], case: Case, point: str, hit: int,
                   watermark: str | None = None, settings: dict[str, Any] | None = None) -> None:
    """One pass of ``case``'s direction over ``case``'s entity, killed at ``point``:``hit``."""
    if point in LIFECYCLE_POINTS or ((point in POINTS or point in INBOUND_POINTS) and watermark is None):
        os.environ["QBSF_CRASH_AT"] = f"{point}:{hit}"
    else:
        # a removal's pass: killed around the removal's own QuickBooks write (counted at the transport), not at a
        # named point an earlier batch of the pass may reach first
        assert watermark is not None, f"{point} is no named crash point and no key to watch was given"
        _kill_at(point, hit, watermark)
    world = _world(env, mappings)
    world.settings.update((settings or {}).get("out", {}))
    world.inbound_settings.update((settings or {}).get("in", {}))
    if case.direction == SF_TO_QB:
        # A removal is found by the life-cycle check, which runs at the end of a whole pass.
        world.engine().sync_sf_to_qb(None if watermark else [case.name])
    else:
        world.inbound_sync().run([case.name])
    os._exit(0)


def _killed(env: dict[str, str], mappings: dict[str, Any], case: Case, point: str, hit: int, **kwargs: Any) -> None:
    child = multiprocessing.get_context("fork").Process(target=_pass_in_child,
                                                        args=(env, mappings, case, point, hit), kwargs=kwargs)
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL, f"the pass was not killed at {point}:{hit} (exit {child.exitcode})"


def test_the_outbound_kills_cover_every_crash_point() -> None:
    assert {point for point, _ in OUTBOUND_KILLS} == set(POINTS)


def test_the_life_cycle_kills_cover_every_crash_point() -> None:
    for case in registered_cases():
        if case.direction == SF_TO_QB:
            assert {point for _, point, _ in _removal_kills(case)} >= set(LIFECYCLE_POINTS), case.label


def test_the_inbound_kills_cover_every_crash_point() -> None:
    removals = {point for case, _, point, _ in REMOVALS if case.direction == QB_TO_SF}
    assert {point for point, _ in INBOUND_KILLS} | removals == set(INBOUND_POINTS)


def _made(case: Case, sf_emulator: Any, example_mappings: dict[str, Any],
          tmp_path: Path) -> tuple[dict[str, str], dict[str, Any], Any, list[str], int, int]:
    """``case``'s sample records on its source side, nothing synced yet (every file closed again)."""
    factory = FACTORIES.get(case.key)
    assert factory is not None, f"{case.label} has no sample-record factory (tests/sync/contract/factories.py)"
    env = {"SF_URL": sf_emulator.url, "SF_ID": sf_emulator.client_id, "SF_SECRET": sf_emulator.client_secret,
           "QB_PATH": str(tmp_path / "company.qbw.sqlite"), "STATE_PATH": str(tmp_path / "state.db")}
    mappings = dict(example_mappings)
    world = _world(env, mappings)
    world.sf_state = sf_emulator.state
    try:
        factory.prepare(world)
        made = [factory.make(world, number) for number in range(RECORDS)]
        before_sf, before_qb = len(factory.sf_records(world)), len(factory.qb_records(world))
    finally:
        _close(world)  # nothing of the parent's is open on the files while the child runs
    return env, mappings, factory, made, before_sf, before_qb


def _restarts_to_exactly_once(case: Case, env: dict[str, str], mappings: dict[str, Any], factory: Any,
                              made: list[str], before_sf: int, before_qb: int, sf_emulator: Any,
                              validating: Any) -> None:
    """The pass after the crash, and one more: every record on the other side once, linked, nothing left to do."""
    world = _world(env, mappings, validating)
    world.sf_state = sf_emulator.state
    try:
        run = (lambda: world.engine().sync_sf_to_qb([case.name])) if case.direction == SF_TO_QB else \
            (lambda: world.inbound_sync().run([case.name]))
        first = run()
        assert first.ok, f"{case.label}: the restarted pass failed: {first.error or first.failures}"
        second = run()
        assert second.ok and second.total("created") == 0 and second.total("updated") == 0, \
            f"{case.label}: the pass after the restart still wrote: {second.summary()}"
        if case.direction == SF_TO_QB:
            assert world.state.in_flight() == [], "every Add interrupted by the crash was reconciled"
            assert all(link.written_back for link in world.state.links(case.crosswalk))
            assert len(factory.qb_records(world)) == before_qb + RECORDS, "nothing doubled, nothing lost"
        else:
            assert len(factory.sf_records(world)) == before_sf + RECORDS, "nothing doubled, nothing lost"
        for source_id in made:
            (target,) = factory.counterparts(world, source_id) or [None]
            assert target is not None and len(factory.counterparts(world, source_id)) == 1, \
                f"{case.label}: {source_id} has {len(factory.counterparts(world, source_id))} records on the other side"
            sf_id, qb_id = (source_id, factory.target_id(target)) if case.direction == SF_TO_QB else \
                (factory.target_id(target), source_id)
            link = world.state.lookup(case.crosswalk, sf_id)
            assert link is not None and link.qb_id == qb_id, f"{case.label}: {sf_id} ↔ {qb_id} not in the crosswalk"
            assert sf_emulator.state.get(case.sf_object, sf_id)[case.qb_id_field] == qb_id
    finally:
        _close(world)


@pytest.mark.parametrize(("case", "point", "hit"), CASES, ids=IDS)
def test_a_pass_killed_at_each_step_boundary_restarts_to_exactly_once(case: Case, point: str, hit: int, sf_emulator,
                                                                     example_mappings, validating,
                                                                     tmp_path: Path) -> None:
    env, mappings, factory, made, before_sf, before_qb = _made(case, sf_emulator, example_mappings, tmp_path)
    _killed(env, mappings, case, point, hit)
    _restarts_to_exactly_once(case, env, mappings, factory, made, before_sf, before_qb, sf_emulator, validating)


# QuickBooks → Salesforce also fails with an unexpected error at each batch and window boundary (in this process,
# ``QBSF_CRASH_HOW=raise``): whatever unwinds on the way out leaves nothing half recorded.
RAISES = [(case, point) for case in registered_cases() if case.direction == QB_TO_SF
          for point, hit in INBOUND_KILLS if hit == 1]


@pytest.mark.parametrize(("case", "point"), RAISES, ids=[f"{case.label}-{point}" for case, point in RAISES])
def test_a_pass_failing_at_each_step_boundary_restarts_to_exactly_once(case: Case, point: str, sf_emulator,
                                                                      example_mappings, validating, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    env, mappings, factory, made, before_sf, before_qb = _made(case, sf_emulator, example_mappings, tmp_path)
    world = _world(env, mappings)
    world.sf_state = sf_emulator.state
    monkeypatch.setenv(crash.ENV_VAR, f"{point}:1")
    monkeypatch.setenv(crash.HOW_VAR, "raise")
    crash.reset()
    try:
        with pytest.raises(crash.CrashPointReached):
            world.inbound_sync().run([case.name])
    finally:
        monkeypatch.delenv(crash.ENV_VAR)
        crash.reset()
        _close(world)
    _restarts_to_exactly_once(case, env, mappings, factory, made, before_sf, before_qb, sf_emulator, validating)


def test_every_direction_is_killed_somewhere() -> None:
    assert {case.direction for case, _, _ in CASES} == {SF_TO_QB, QB_TO_SF}


# Removal: the pass that finds a record removed on its source side is killed where it writes the removal's action to
# the other side, and where it moves the key that says the removals up to then were handled.
LIFE_CYCLE_CHECKED = "sf:lifecycle_checked"  # SF → QB: the life-cycle check's last run (qbsf.sync.lifecycle)


def _removal_kills(case: Case) -> list[tuple[str, str, int]]:
    actions = removal_actions(case) or ["report" if case.direction == SF_TO_QB else "record"]
    if case.direction == QB_TO_SF:
        # the deletions read's own points (its actions written to Salesforce, then recorded with the seen marks),
        # and just before an action writes to Salesforce: once the read window moved
        return [(action, point, 1) for action in actions for point in
                ([] if action == "record" else ["inbound_after_window_move"]) + INBOUND_DELETION_POINTS]
    kills = [("before_watermark", 1), ("after_watermark", 1)] + [(point, 1) for point in LIFECYCLE_POINTS]
    return [(action, point, hit) for action in actions for point, hit in
            ([("before_qb_write", 1), ("after_qb_write", 1)] if action != "report" else []) + kills]


REMOVALS = [(case, action, point, hit) for case in registered_cases() for action, point, hit in _removal_kills(case)]

def _removal_params() -> list:
    out = []
    for case, action, point, hit in REMOVALS:
        out.append(pytest.param(case, action, point, hit, id=f"{case.label}-{action}-{point}:{hit}"))
    return out


@pytest.mark.parametrize(("case", "action", "point", "hit"), _removal_params())
def test_a_removal_handled_by_a_pass_killed_at_each_step_is_recorded_once(case: Case, action: str, point: str,
                                                                          hit: int, sf_emulator, example_mappings,
                                                                          validating, tmp_path: Path) -> None:
    from qbsf.sync.inbound import DeletionAction
    from qbsf.sync.lifecycle import Notices

    factory = FACTORIES.get(case.key)
    assert factory is not None, f"{case.label} has no sample-record factory (tests/sync/contract/factories.py)"
    env = {"SF_URL": sf_emulator.url, "SF_ID": sf_emulator.client_id, "SF_SECRET": sf_emulator.client_secret,
           "QB_PATH": str(tmp_path / "company.qbw.sqlite"), "STATE_PATH": str(tmp_path / "state.db")}
    mappings = dict(example_mappings)
    settings = {"out": {"on_sf_gone": {case.name: action}}} if case.direction == SF_TO_QB else \
        {"in": {"on_deleted": {case.name: DeletionAction.parse(action)}}}
    world = _world(env, mappings)
    world.sf_state = sf_emulator.state
    try:
        factory.prepare(world)
        gone, kept = (factory.make(world, number) for number in range(2))
        world.cycle()
        (target,) = factory.counterparts(world, gone)
        target_id = factory.target_id(target)
        factory.remove(world, gone)
    finally:
        _close(world)

    _killed(env, mappings, case, point, hit, settings=settings,
            watermark=LIFE_CYCLE_CHECKED if case.direction == SF_TO_QB else None)

    world = _world(env, mappings, validating)
    world.sf_state = sf_emulator.state
    world.settings.update(settings.get("out", {}))
    world.inbound_settings.update(settings.get("in", {}))
    try:
        for _ in range(2):
            report = world.sync_out() if case.direction == SF_TO_QB else world.sync_in([case.name])
        assert report.ok
        if case.direction == SF_TO_QB:
            told = [a for a in world.state.recent(500, entity=case.name) if a.operation == "deleted"]
            assert [a.sf_id for a in told] == [gone], f"{case.label}: the deletion was told {len(told)} times"
            assert [(n.sf_id, n.kind) for n in Notices(world.state).open(case.name)] == [(gone, "deleted")]
            after = world.qb_sim.get(target_id)
            assert after is not None, f"{case.label}: qbsf deleted the QuickBooks record"
            if point in LIFECYCLE_POINTS:
                # killed once the action was in QuickBooks: the restarted check records it, never writes it again
                writes = {op: n for op, n in world.qb_sim.stats.requests_by_type.items()
                          if op.endswith(("Mod", "Void"))}
                assert not writes, f"{case.label}: the action was written again after the restart: {writes}"
            if action == "inactivate":
                assert after["IsActive"] == "false"
            elif action == "memo":
                assert "deleted in Salesforce" in (after.get("Memo") or "")
            elif action == "void":
                assert (after.get("Memo") or "").startswith("VOID:"), f"{case.label}: not voided"
                assert not (after.get("Memo") or "").startswith("VOID: VOID:"), f"{case.label}: voided twice"
                assert world.state.lookup(case.crosswalk, gone) is None, "a voided invoice is unlinked"
        else:
            told = [a for a in world.state.recent(500) if a.operation == "delete" and a.qb_id == gone]
            assert len(told) == 1, f"{case.label}: the deletion was recorded {len(told)} times"
            after = sf_emulator.state.get(case.sf_object, target_id)
            assert after is not None, f"{case.label}: qbsf deleted the Salesforce record"
            if action.startswith("set:"):
                name, _, value = action[4:].partition("=")
                assert str(after[name]).casefold() == value
        assert len(factory.counterparts(world, kept)) == 1
    finally:
        _close(world)
