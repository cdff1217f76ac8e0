"""A normal SF → QB cycle is quiet: the engine's expected name-lookup misses are not warnings."""

from __future__ import annotations

import logging

from qbsf.bench.outbound import seed_org


def test_a_normal_cycle_logs_no_quickbooks_warning_for_names_new_to_quickbooks(world, caplog) -> None:
    seed_org(world.sf_state, accounts=3, contacts=2, products=2, opportunities=2, lines=2)
    world.qb_sim.add("Customer", {"Name": "Customer 00000"})  # one name QuickBooks has: linked, not duplicated
    with caplog.at_level(logging.DEBUG, logger="qbsf"):
        report = world.engine().sync_sf_to_qb()
    assert report.ok and report.total("linked") == 1 and report.total("created") >= 8
    misses = [r for r in caplog.records if "could not be found" in r.getMessage()]
    assert misses and all(r.levelno == logging.DEBUG for r in misses), "the lookups' misses are still logged"
    assert [r.getMessage() for r in caplog.records
            if r.name.startswith("qbsf.quickbooks") and r.levelno >= logging.WARNING] == []
