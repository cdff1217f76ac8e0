"""ComTransport against a fake of the documented QBXMLRP2.RequestProcessor forwarding to the simulator."""

from __future__ import annotations

import sys

import pytest

from qbsf.errors import NeedsUser, Retriable
from qbsf.quickbooks import records as rec
from qbsf.quickbooks.client import QuickBooksClient
from qbsf.quickbooks.errors import ConnectionFailed, TransportError
from qbsf.quickbooks.transports.base import Transport
from qbsf.quickbooks.transports.com import QB_FILE_OPEN_DO_NOT_CARE, ComTransport


def make(fake, **kwargs) -> ComTransport:
    return ComTransport("QBSalesforceSync", dispatch=lambda: fake, retry_delay=0, **kwargs)


def test_full_session_through_the_client(fake_com, qb_sim, validating):
    transport = make(fake_com)
    assert isinstance(transport, Transport)
    client = QuickBooksClient(validating(transport))
    added = client.add(rec.Customer(Name="Over COM"))
    assert qb_sim.get(added.ListID)["Name"] == "Over COM"
    assert fake_com.calls[:2] == ["OpenConnection2('QBSalesforceSync', 1)",
                                  f"BeginSession('', {QB_FILE_OPEN_DO_NOT_CARE})"]
    assert fake_com.calls.count("BeginSession('', 2)") == 1  # one session for every message
    client.close()
    assert fake_com.calls[-2:] == ["EndSession", "CloseConnection"]
    assert not fake_com.tickets and not fake_com.connected
    client.close()  # twice is harmless
    assert fake_com.calls.count("CloseConnection") == 1


def test_quickbooks_closed_fails_after_three_attempts(fake_com):
    fake_com.qb_running = False
    transport = make(fake_com)
    with pytest.raises(ConnectionFailed) as caught:
        transport.send("<QBXML/>")
    error = caught.value
    assert isinstance(error, NeedsUser)
    assert str(error).startswith("Could not connect to QuickBooks after 3 attempts")
    assert "open QuickBooks Desktop and your company file first" in error.hint
    assert "Yes, Always Allow" in error.hint
    assert sum(call.startswith("BeginSession") for call in fake_com.calls) == 3
    assert fake_com.calls.count("CloseConnection") == 3 and not fake_com.connected
    assert "ProcessRequest" not in fake_com.calls


def test_named_company_file_must_be_the_open_one(fake_com):
    transport = make(fake_com, company_file=r"C:\Other\Books.QBW")
    with pytest.raises(ConnectionFailed):
        transport.open()
    right = make(fake_com, company_file=r"c:\data\company.qbw")
    right.open()
    assert right.is_open


def test_transient_begin_failure_is_retried(fake_com):
    fake_com.fail_begin_times = 2
    transport = make(fake_com)
    transport.open()
    assert transport.is_open and fake_com.calls.count("OpenConnection2('QBSalesforceSync', 1)") == 3


def test_lost_session_is_a_retriable_transport_error(fake_com, qb_sim):
    transport = make(fake_com)
    client = QuickBooksClient(transport, qbxml_version="16.0")
    client.add(rec.Customer(Name="Before"))
    fake_com.qb_running = False
    with pytest.raises(TransportError) as caught:
        client.add(rec.Customer(Name="After"))
    assert isinstance(caught.value, Retriable) and not transport.is_open
    fake_com.qb_running = True
    assert client.add(rec.Customer(Name="Reconnected")).ListID


def test_without_windows_the_error_says_what_to_use(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    with pytest.raises(ConnectionFailed, match="needs Windows") as caught:
        ComTransport("QBSalesforceSync", retry_delay=0).open()
    assert isinstance(caught.value, NeedsUser) and "Web Connector" in caught.value.hint
