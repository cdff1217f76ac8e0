"""The contract every synced entity keeps, in each direction it syncs, on both emulators.

Parametrized over the declared entities (tests/sync/contract/support.py: ``registered_cases``); each brings a
sample-record factory (factories.py). For every entity and direction:

- a record made on its source side is created once on the other side and linked in the crosswalk;
- the 2nd and 3rd cycles write nothing on either side (counted at the clients);
- after one record changes, the next cycle reads that record and not the others (records counted at the clients);
- a record removed on its source side is recorded as the entity declares (sync.on_sf_gone / sync.on_qb_delete);
- a same-named record on both sides ends up linked once, never doubled, whichever pass runs first.

Crash safety (a real process killed at each step boundary, then restarted → exactly once) is in test_crash_contract.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from tests.sync.contract.factories import FACTORIES, Factory, removal_actions
from tests.sync.contract.support import QB_TO_SF, SF_TO_QB, Case, ContractWorld, registered_cases

CASES = registered_cases()

# What the contract found and is not fixed yet: (test, case) → the defect. Each is an xfail(strict=True), so the
# fix makes it pass and the marker must go.
KNOWN_DEFECTS: dict[tuple[str, str], str] = {
}


def params(test: str, cases: list[Case], actions: Callable[[Case], list[str]] | None = None) -> list:
    """``cases`` as pytest params (with each of ``actions(case)`` when given), a known defect of ``test`` marked
    xfail(strict=True) with what it is."""
    out = []
    for case in cases:
        for action in actions(case) if actions is not None else [None]:
            name = case.label if action is None else f"{case.label}-{action}"
            defect = KNOWN_DEFECTS.get((test, name))
            marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason=defect)] if defect else []
            out.append(pytest.param(case, id=name, marks=marks) if action is None else
                       pytest.param(case, action, id=name, marks=marks))
    return out


def declared_actions(case: Case) -> list[str]:
    return removal_actions(case)


def test_every_declared_entity_has_a_sample_record_factory() -> None:
    missing = [case.label for case in CASES if case.key not in FACTORIES]
    assert not missing, (f"declared entities without a contract factory: {', '.join(missing)} — add one to "
                         f"tests/sync/contract/factories.py (how to make, change and remove a record of it)")
    stale = sorted(set(FACTORIES) - {case.key for case in CASES})
    assert not stale, f"factories for entities no longer declared: {stale}"


def test_the_contract_covers_both_directions() -> None:
    assert {case.direction for case in CASES} == {SF_TO_QB, QB_TO_SF}


def _factory(case: Case) -> Factory:
    factory = FACTORIES.get(case.key)
    assert factory is not None, f"{case.label} has no sample-record factory (tests/sync/contract/factories.py)"
    return factory


def _made(w: ContractWorld, case: Case, count: int) -> tuple[Factory, list[str]]:
    factory = _factory(case)
    factory.prepare(w)
    return factory, [factory.make(w, number) for number in range(count)]


def _one_counterpart(w: ContractWorld, case: Case, factory: Factory, source_id: str) -> dict:
    found = factory.counterparts(w, source_id)
    assert len(found) == 1, f"{case.label}: {source_id} has {len(found)} records on the other side"
    return found[0]


def _assert_linked(w: ContractWorld, case: Case, factory: Factory, source_id: str) -> None:
    target = _one_counterpart(w, case, factory, source_id)
    target_id = factory.target_id(target)
    if case.direction == SF_TO_QB:
        sf_id, qb_id = source_id, target_id
    else:
        sf_id, qb_id = target_id, source_id
    link = w.state.lookup(case.crosswalk, sf_id)
    assert link is not None and link.qb_id == qb_id, f"{case.label}: {sf_id} ↔ {qb_id} is not in the crosswalk"
    held = w.sf_state.get(case.sf_object, sf_id)[case.qb_id_field]
    assert held == qb_id, f"{case.label}: Salesforce {case.sf_object}.{case.qb_id_field} holds {held!r}"


@pytest.mark.parametrize("case", params("created", CASES))
def test_a_record_is_created_once_on_the_other_side_and_linked(cw: ContractWorld, case: Case) -> None:
    factory, made = _made(cw, case, 3)
    before_sf, before_qb = len(factory.sf_records(cw)), len(factory.qb_records(cw))
    cw.cycle()
    cw.cycle()
    for source_id in made:
        _assert_linked(cw, case, factory, source_id)
    if case.direction == SF_TO_QB:
        assert len(factory.qb_records(cw)) == before_qb + len(made)
    else:
        assert len(factory.sf_records(cw)) == before_sf + len(made)


@pytest.mark.parametrize("case", params("no-echo", CASES))
def test_the_second_and_third_cycles_write_nothing_on_either_side(cw: ContractWorld, case: Case) -> None:
    _, made = _made(cw, case, 2)
    _, sf, qb = cw.counted(cw.cycle)
    written = qb.writes if case.direction == SF_TO_QB else sf.writes
    assert sum(written.values()) >= len(made), f"{case.label}: the first cycle's writes were not counted"
    for number in (2, 3):
        _, sf, qb = cw.counted(cw.cycle)
        assert sf.writes == Counter(), f"{case.label}: cycle {number} wrote to Salesforce: {dict(sf.writes)}"
        assert qb.writes == Counter(), f"{case.label}: cycle {number} wrote to QuickBooks: {dict(qb.writes)}"


def _assert_delta(cw: ContractWorld, case: Case) -> None:
    factory, made = _made(cw, case, 3)
    for _ in range(3):  # created, then idle cycles: every read window has settled
        cw.cycle()
    targets = {source_id: factory.target_id(_one_counterpart(cw, case, factory, source_id)) for source_id in made}
    cw.tick()
    factory.change(cw, made[0])
    _, sf, qb = cw.counted(cw.cycle)
    assert factory.changed(cw, made[0], _one_counterpart(cw, case, factory, made[0])), \
        f"{case.label}: the change did not reach the other side"
    sf_read = {sf_id for ids in sf.reads.values() for sf_id in ids}
    qb_read = {qb_id for ids in qb.reads.values() for qb_id in ids}
    source_read, target_read = (sf_read, qb_read) if case.direction == SF_TO_QB else (qb_read, sf_read)
    assert source_read & set(made) == {made[0]}, \
        f"{case.label}: the cycle read {sorted(source_read & set(made))} of the source records, not the changed one"
    # The write to the other side is read back by the reverse pass (to know it for an echo): that one record only.
    assert target_read & set(targets.values()) <= {targets[made[0]]}, \
        f"{case.label}: the reverse pass read {sorted(target_read & set(targets.values()))}, not only the one written"
    for other in made[1:]:
        assert not factory.changed(cw, other, _one_counterpart(cw, case, factory, other))


@pytest.mark.parametrize("case", params("delta", CASES))
def test_after_one_record_changes_the_next_cycle_reads_that_record_only(cw: ContractWorld, case: Case) -> None:
    _assert_delta(cw, case)


@pytest.mark.parametrize("case", params("delta-no-zone", [c for c in CASES if c.direction == QB_TO_SF]))
def test_without_the_company_time_zone_a_change_is_still_read_alone(cw: ContractWorld, case: Case) -> None:
    # quickbooks.time_zone blank and QuickBooks on another computer (Web Connector): qbsf learns only the offset
    cw.inbound_settings["company_tz"] = None
    _assert_delta(cw, case)


def _assert_removal_recorded(cw: ContractWorld, case: Case, action: str) -> None:
    factory, made = _made(cw, case, 2)
    cw.cycle()
    gone, kept = made
    target = _one_counterpart(cw, case, factory, gone)
    before = dict(cw.qb_sim.get(factory.target_id(target)) if case.direction == SF_TO_QB else
                  cw.sf_state.get(case.sf_object, factory.target_id(target)))
    counts = len(factory.sf_records(cw)), len(factory.qb_records(cw))
    cw.tick()
    factory.remove(cw, gone)
    if case.direction == SF_TO_QB:
        cw.settings["on_sf_gone"] = {case.name: action}
    else:
        from qbsf.sync.inbound import DeletionAction

        cw.inbound_settings["on_deleted"] = {case.name: DeletionAction.parse(action)}
    cw.cycle()
    for number in (2, 3):  # told once, not every cycle; nothing more is written on either side
        _, sf, qb = cw.counted(cw.cycle)
        assert sf.writes == Counter() and qb.writes == Counter(), \
            f"{case.label}: cycle {number} after the removal still wrote: {dict(sf.writes)} {dict(qb.writes)}"
    # Removed on one side, never brought back there by the reverse pass, nor removed on the other.
    expected = (counts[0] - 1, counts[1]) if case.direction == SF_TO_QB else (counts[0], counts[1] - 1)
    assert (len(factory.sf_records(cw)), len(factory.qb_records(cw))) == expected, \
        f"{case.label}: (Salesforce, QuickBooks) records went from {counts} to " \
        f"{(len(factory.sf_records(cw)), len(factory.qb_records(cw)))}"
    if case.direction == SF_TO_QB:
        from qbsf.sync.lifecycle import Notices

        notices = [(n.sf_id, n.kind) for n in Notices(cw.state).open(case.name)]
        assert notices == [(gone, "deleted")], f"{case.label}: open notices {notices}"
        told = [a for a in cw.state.recent(500, entity=case.name) if a.operation == "deleted"]
        assert [a.sf_id for a in told] == [gone], f"{case.label}: the deletion was told {len(told)} times"
        after = cw.qb_sim.get(factory.target_id(target))
        assert after is not None, f"{case.label}: qbsf deleted the QuickBooks record"
        if action == "inactivate":
            assert after["IsActive"] == "false", f"{case.label}: not made inactive"
        elif action == "memo":
            assert "deleted in Salesforce" in (after.get("Memo") or ""), f"{case.label}: no memo"
        elif action == "void":
            assert (after.get("Memo") or "").startswith("VOID:"), f"{case.label}: not voided"
        else:
            assert after["EditSequence"] == before["EditSequence"], f"{case.label}: reported, yet changed"
    else:
        assert cw.sf_state.get(case.sf_object, factory.target_id(target)) is not None, \
            f"{case.label}: qbsf deleted the Salesforce record"
        told = [a for a in cw.state.recent(500) if a.operation in ("delete", "inactivate") and a.qb_id == gone]
        assert len(told) == 1, f"{case.label}: the deletion was recorded {len(told)} times"
        assert "deleted in QuickBooks" in (told[0].message or "")
        after = cw.sf_state.get(case.sf_object, factory.target_id(target))
        if action.startswith("set:"):
            name, _, value = action[4:].partition("=")
            assert str(after[name]).casefold() == value, f"{case.label}: {name} not set"
        else:
            assert after["SystemModstamp"] == before["SystemModstamp"], f"{case.label}: recorded, yet changed"
    _assert_linked(cw, case, factory, kept)


@pytest.mark.parametrize("case", params("removed-default", CASES))
def test_a_record_removed_on_its_source_side_is_recorded_and_nothing_else_by_default(cw: ContractWorld,
                                                                                     case: Case) -> None:
    _assert_removal_recorded(cw, case, "report" if case.direction == SF_TO_QB else "record")


@pytest.mark.parametrize(("case", "action"), params("removed-declared", CASES, declared_actions))
def test_a_record_removed_on_its_source_side_is_handled_as_its_entity_declares(cw: ContractWorld, case: Case,
                                                                               action: str) -> None:
    _assert_removal_recorded(cw, case, action)


RETIRED = [case for case in CASES if (case.eligibility if case.direction == SF_TO_QB else case.qb_id_kind == "ListID")]


def _assert_retirement_recorded(cw: ContractWorld, case: Case, action: str) -> None:
    factory, made = _made(cw, case, 2)
    cw.cycle()
    retired, kept = made
    target = _one_counterpart(cw, case, factory, retired)
    cw.tick()
    factory.retire(cw, retired)
    if case.direction == SF_TO_QB:
        cw.settings["on_sf_gone"] = {case.name: action}
    else:
        from qbsf.sync.inbound import DeletionAction

        cw.inbound_settings["on_deleted"] = {case.name: DeletionAction.parse(action)}
    cw.cycle()
    for number in (2, 3):  # told once; nothing more is written on either side
        _, sf, qb = cw.counted(cw.cycle)
        assert sf.writes == Counter() and qb.writes == Counter(), \
            f"{case.label}: cycle {number} after the change still wrote: {dict(sf.writes)} {dict(qb.writes)}"
    if case.direction == SF_TO_QB:
        from qbsf.sync.lifecycle import Notices

        notices = [(n.sf_id, n.kind) for n in Notices(cw.state).open(case.name)]
        assert notices == [(retired, "ineligible")], f"{case.label}: open notices {notices}"
        told = [a for a in cw.state.recent(500, entity=case.name) if a.operation == "ineligible"]
        assert [a.sf_id for a in told] == [retired], f"{case.label}: told {len(told)} times"
        after = cw.qb_sim.get(factory.target_id(target))
        if action == "memo":
            assert "no longer" in (after.get("Memo") or ""), f"{case.label}: no memo"
        elif action == "void":
            assert (after.get("Memo") or "").startswith("VOID:"), f"{case.label}: not voided"
        elif action == "inactivate":
            assert after["IsActive"] == "false", f"{case.label}: not made inactive"
    else:
        told = [a for a in cw.state.recent(500) if a.operation == "inactivate" and a.qb_id == retired]
        assert len(told) == 1, f"{case.label}: the inactivation was recorded {len(told)} times"
        after = cw.sf_state.get(case.sf_object, factory.target_id(target))
        if action.startswith("set:"):
            name, _, value = action[4:].partition("=")
            assert str(after[name]).casefold() == value, f"{case.label}: {name} not set"
    _assert_linked(cw, case, factory, kept)


def test_every_entity_that_can_retire_a_record_is_in_the_retirement_contract() -> None:
    assert {c.label for c in RETIRED} >= {c.label for c in CASES if c.direction == SF_TO_QB and c.eligibility}


@pytest.mark.parametrize("case", params("retired-default", RETIRED))
def test_a_record_no_longer_eligible_or_inactive_is_recorded_once_by_default(cw: ContractWorld, case: Case) -> None:
    _assert_retirement_recorded(cw, case, "report" if case.direction == SF_TO_QB else "record")


@pytest.mark.parametrize(("case", "action"), params("retired-declared", RETIRED, declared_actions))
def test_a_record_no_longer_eligible_or_inactive_is_handled_as_its_entity_declares(cw: ContractWorld, case: Case,
                                                                                   action: str) -> None:
    _assert_retirement_recorded(cw, case, action)


@pytest.mark.parametrize("inbound_first", [True, False], ids=["qb_to_sf_first", "sf_to_qb_first"])
@pytest.mark.parametrize("case", params("pass-order", CASES))
def test_whichever_pass_runs_first_nothing_is_doubled(cw: ContractWorld, case: Case, inbound_first: bool) -> None:
    factory = _factory(case)
    factory.prepare(cw)
    if case.by_name:
        sf_id, qb_id = factory.twin(cw, f"Twin {case.sf_object} {case.qb_entity}")
    else:
        source_id = factory.make(cw, 7)
    passes = [cw.sync_in, cw.sync_out] if inbound_first else [cw.sync_out, cw.sync_in]
    for _ in range(2):
        for run in passes:
            run()
    if case.by_name:
        sf_record = cw.sf_state.get(case.sf_object, sf_id)
        doubles = [r for r in factory.sf_records(cw) if r.get("Name") == sf_record["Name"]]
        assert len(doubles) == 1, f"{case.label}: Salesforce has {len(doubles)} {case.sf_object} records"
        qb_record = cw.qb_sim.get(qb_id)
        doubles = [r for r in factory.qb_records(cw) if r.get("FullName") == qb_record["FullName"]]
        assert len(doubles) == 1, f"{case.label}: QuickBooks has {len(doubles)} of {qb_record['FullName']!r}"
        assert sf_record[case.qb_id_field] == qb_id, f"{case.label}: the two records were not linked"
        assert cw.state.lookup(case.crosswalk, sf_id).qb_id == qb_id
    else:
        _assert_linked(cw, case, factory, source_id)
    assert not cw.state.failures(), f"{case.label}: {cw.state.failures()}"


@pytest.mark.parametrize("case", params("queue", [c for c in CASES if c.direction == SF_TO_QB]))
def test_with_the_salesforce_queue_as_change_source_the_contract_holds(cw: ContractWorld, case: Case) -> None:
    """sync.change_source = queue (QBSync_Queue__c rows written by the package's triggers) instead of the poll:
    created once and linked, quiet on the idle cycles, and only the changed record read after a change."""
    cw.settings["change_source"] = "queue"
    factory, made = _made(cw, case, 3)
    cw.cycle()
    for source_id in made:
        _assert_linked(cw, case, factory, source_id)
    for number in (2, 3):
        _, sf, qb = cw.counted(cw.cycle)
        assert sf.writes == Counter() and qb.writes == Counter(), \
            f"{case.label}: cycle {number} wrote: {dict(sf.writes)} {dict(qb.writes)}"
    cw.tick()
    factory.change(cw, made[0])
    _, sf, _ = cw.counted(cw.cycle)
    assert factory.changed(cw, made[0], _one_counterpart(cw, case, factory, made[0]))
    read = sf.read_ids(case.sf_object)
    assert read == {made[0]}, f"{case.label}: the cycle read {sorted(read)} of {case.sf_object}, not the one"
