"""A name lookup's misses are expected: QuickBooks' 500 "could not be found" warning is quiet only where asked."""

from __future__ import annotations

import logging

import pytest


@pytest.mark.parametrize(("missing_ok", "level"), [(True, logging.DEBUG), (False, logging.WARNING)])
def test_missing_names_warn_unless_the_caller_expects_misses(qb_sim, qb_client, caplog, missing_ok: bool,
                                                              level: int) -> None:
    qb_sim.add("Customer", {"Name": "Acme"})
    qb_sim.add("ItemService", {"Name": "Consulting", "SalesOrPurchase": {"AccountRef": {"FullName": "Sales"}}})
    with caplog.at_level(logging.DEBUG, logger="qbsf.quickbooks.client"):
        customers = list(qb_client.query_customers(names=["Acme", "Nobody"], missing_ok=missing_ok))
        items = list(qb_client.query_items(names=["Consulting", "Nothing"], missing_ok=missing_ok))
    assert [c.FullName for c in customers] == ["Acme"] and [i.FullName for i in items] == ["Consulting"]
    misses = [r for r in caplog.records if "could not be found" in r.getMessage()]
    assert [r.levelno for r in misses] == [level, level]
