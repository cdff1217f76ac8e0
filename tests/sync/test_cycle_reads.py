"""The cycle's one Salesforce call (qbsf.sync.cycle_reads.CycleCall) with a real client on the emulator: the package's
cycle resource when the org has it, /composite (5 queries a call) when its package is older, found out once."""

from __future__ import annotations

import logging

from qbsf.sync.cycle_reads import DIGEST, QUERY_ALL, CycleCall, query_pages, read_in_one_call

READS = {f"r{number}": "SELECT Id, Name FROM Account" for number in range(7)}


def test_every_read_goes_in_one_call_to_the_cycle_resource(sf_client, sf_state) -> None:
    sf_state.insert("Account", {"Name": "Acme"})
    call = CycleCall(sf_client)
    calls = sf_state.api_calls
    pages = query_pages(call.send(READS), READS)
    assert sf_state.api_calls == calls + 1 and sf_state.composite_heavy == 0
    assert call.resource is True
    assert {reference: [row["Name"] for row in page["records"]] for reference, page in pages.items()} == {
        reference: ["Acme"] for reference in READS}


def test_a_failing_read_fails_alone_and_is_left_for_its_reader(sf_client, sf_state) -> None:
    sf_state.insert("Account", {"Name": "Acme"})
    deleted = sf_state.insert("Account", {"Name": "Gone"})
    sf_state.delete("Account", deleted)
    reads = {"bad": "SELECT Nope__c FROM Account", "good": "SELECT Id FROM Account",
             f"{QUERY_ALL}gone": "SELECT Id FROM Account WHERE IsDeleted = true"}
    pages = read_in_one_call(CycleCall(sf_client), reads)
    assert set(pages) == {"good", f"{QUERY_ALL}gone"}, "the refused read is left out: its source reads it again"
    assert [row["Id"] for row in pages[f"{QUERY_ALL}gone"]["records"]] == [deleted]


def test_an_older_package_falls_back_to_composite_once_and_says_so(sf_client, sf_state, caplog) -> None:
    sf_state.apex_resources.clear()  # the org's package predates the cycle resource
    call = CycleCall(sf_client)
    with caplog.at_level(logging.INFO, logger="qbsf.sync.cycle_reads"):
        calls = sf_state.api_calls
        first = query_pages(call.send(READS), READS)
        assert sf_state.api_calls == calls + 1 + 2, "the 404, then 7 queries in composite calls of at most 5"
        calls = sf_state.api_calls
        second = query_pages(call.send(READS), READS)
        assert sf_state.api_calls == calls + 2, "remembered: no second try of the resource"
    assert call.resource is False and set(first) == set(second) == set(READS)
    told = [record for record in caplog.records if "cycle resource" in record.getMessage()]
    assert len(told) == 1 and told[0].levelno == logging.INFO
    assert "Update the qbsf package in Salesforce to make an idle cycle one API call" in told[0].getMessage()


def test_a_package_updated_while_running_is_used_at_the_next_check(sf_client, sf_state) -> None:
    now = [0.0]
    call = CycleCall(sf_client, clock=lambda: now[0])
    resources = set(sf_state.apex_resources)
    sf_state.apex_resources.clear()
    call.send(READS)
    assert call.resource is False
    sf_state.apex_resources.update(resources)  # the package is updated in the org
    now[0] += CycleCall.RECHECK - 1
    calls = sf_state.api_calls
    call.send(READS)
    assert sf_state.api_calls == calls + 2 and call.resource is False, "not before the check is due"
    now[0] += 1
    calls = sf_state.api_calls
    call.send(READS)
    assert sf_state.api_calls == calls + 1 and call.resource is True


def test_a_failing_resource_call_still_reads_through_composite_that_cycle(sf_client, sf_state, monkeypatch) -> None:
    from qbsf.salesforce.errors import SalesforceRetriable

    sf_state.insert("Account", {"Name": "Acme"})

    def unavailable(resource, body):
        raise SalesforceRetriable("Service temporarily unavailable", error_code="SERVER_UNAVAILABLE", status=503)

    monkeypatch.setattr(sf_client, "apex_post", unavailable)
    call = CycleCall(sf_client)
    pages = query_pages(call.send(READS), READS)
    assert set(pages) == set(READS), "the reads came back through /composite"
    assert call.resource is None, "not taken for a missing resource: tried again next cycle"


def test_a_digest_read_goes_to_the_cycle_resource_only(sf_client, sf_state) -> None:
    """A ``digest_`` read is flagged for the resource, which answers its count and digest; /composite has no such
    read, so an older package's call leaves it out (its source then checks the window another way)."""
    sf_state.insert("Account", {"Name": "Acme"})
    reads = {f"{DIGEST}window": "SELECT Id, SystemModstamp FROM Account", "plain": "SELECT Id FROM Account"}
    pages = read_in_one_call(CycleCall(sf_client), reads)
    assert set(pages[f"{DIGEST}window"]) == {"totalSize", "digest"} and pages[f"{DIGEST}window"]["totalSize"] == 1
    assert len(pages["plain"]["records"]) == 1
    sf_state.apex_resources.clear()
    heavy = sf_state.composite_heavy
    pages = read_in_one_call(CycleCall(sf_client), reads)
    assert set(pages) == {"plain"} and sf_state.composite_heavy == heavy + 1, "only the plain read went as a query"
