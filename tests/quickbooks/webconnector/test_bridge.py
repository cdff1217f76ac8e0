"""The bridge between a blocked engine thread and Web Connector polls: hand-out, answers, cut-offs, iterators."""

from __future__ import annotations

import json
import threading
import time

import pytest

from qbsf.errors import Retriable
from qbsf.quickbooks.transports.webconnector import WebConnectorTransport
from qbsf.quickbooks.webconnector.bridge import BridgeBusy, CompanyBridge, Next, SessionCutOff


def _transport(bridge: CompanyBridge, **kw) -> WebConnectorTransport:
    return WebConnectorTransport(bridge, session_wait=kw.get("session_wait", 5.0),
                                 response_timeout=kw.get("response_timeout", 5.0))


def test_send_blocks_until_a_poll_takes_it_and_the_answer_returns(engine, messages) -> None:
    bridge = CompanyBridge("acme")
    assert not bridge.has_work()
    eng = engine(_transport(bridge), [messages.customer_add("Ada")])
    bridge.open_session("s1")
    what, pending = bridge.take_request("s1", wait=5)
    assert what is Next.REQUEST and "<Name>Ada</Name>" in pending.request_xml
    assert eng.responses == []
    bridge.deliver("s1", "<QBXML>answer</QBXML>")
    assert bridge.wait_next("s1", wait=5) is Next.DONE
    eng.join()
    assert eng.responses == ["<QBXML>answer</QBXML>"] and eng.error is None
    bridge.end_session("s1")
    assert bridge.status().last_session.outcome == "completed"
    assert bridge.status().last_session.messages == 1


def test_no_session_in_time_raises_retriable(messages) -> None:
    bridge = CompanyBridge("acme")
    with pytest.raises(Retriable, match="no QuickBooks Web Connector session"):
        _transport(bridge, session_wait=0.05).send(messages.customer_add("Ada"))
    assert not bridge.has_work() or bridge.status().queued_requests == 0


@pytest.mark.parametrize("how", ["cut_off", "end_session"])
def test_a_session_ending_mid_request_fails_the_blocked_send(engine, messages, how) -> None:
    bridge = CompanyBridge("acme")
    eng = engine(_transport(bridge), [messages.customer_add("Ada"), messages.customer_add("Bob")])
    bridge.open_session("s1")
    assert bridge.take_request("s1", wait=5)[0] is Next.REQUEST
    getattr(bridge, how)("s1", *(["QuickBooks closed"] if how == "cut_off" else []))
    eng.join()
    assert isinstance(eng.error, SessionCutOff) and isinstance(eng.error, Retriable)
    assert eng.responses == []
    assert bridge.status().last_session.outcome.startswith("cut off")
    assert bridge.active_session is None


def test_no_answer_in_time_cuts_the_session_off(engine, messages) -> None:
    bridge = CompanyBridge("acme")
    eng = engine(_transport(bridge, response_timeout=0.1), [messages.customer_add("Ada")])
    bridge.open_session("s1")
    bridge.take_request("s1", wait=5)
    eng.join()
    assert "no answer from the Web Connector" in str(eng.error)
    assert bridge.take_request("s1", wait=0)[0] is Next.CUT
    with pytest.raises(SessionCutOff):
        bridge.deliver("s1", "<QBXML/>")


def test_iterators_never_cross_sessions(engine, messages) -> None:
    bridge = CompanyBridge("acme")
    transport = _transport(bridge)
    eng = engine(transport, [messages.customer_query(iterator="Start")], finish=False)
    bridge.open_session("s1")
    bridge.take_request("s1", wait=5)
    bridge.deliver("s1", '<QBXML><QBXMLMsgsRs><CustomerQueryRs iteratorRemainingCount="3" '
                         'iteratorID="{IT-1}" statusCode="0"/></QBXMLMsgsRs></QBXML>')
    eng.join()
    # Within the session the iterator may be continued.
    cont = engine(transport, [messages.customer_query(iterator="Continue", iterator_id="{IT-1}")], finish=False)
    what, pending = bridge.take_request("s1", wait=5)
    assert what is Next.REQUEST and "Continue" in pending.request_xml
    bridge.deliver("s1", "<QBXML/>")
    cont.join()
    assert cont.error is None
    bridge.end_session("s1")
    # In the next session the same iterator is refused before it reaches QuickBooks.
    with pytest.raises(SessionCutOff, match="earlier Web Connector session"):
        transport.send(messages.customer_query(iterator="Continue", iterator_id="{IT-1}"))
    late = engine(transport, [messages.customer_query(iterator="Continue", iterator_id="{IT-1}")])
    bridge.open_session("s2")
    assert bridge.take_request("s2", wait=0.2)[0] is Next.DONE
    late.join()
    assert "earlier Web Connector session" in str(late.error)


def test_one_session_at_a_time_and_progress(engine, messages) -> None:
    bridge = CompanyBridge("acme")
    bridge.open_session("s1")
    with pytest.raises(BridgeBusy):
        bridge.open_session("s2")
    assert bridge.percent_done() == 1
    bridge.report_progress(3, 4)
    assert bridge.percent_done() == 75
    bridge.report_progress(10, 10)
    assert bridge.percent_done() == 99, "100 is only said when the engine has finished"
    bridge.report_progress(1, 10)
    assert bridge.percent_done() == 99, "the percentage never goes back within a session"


def test_wait_when_engine_is_busy_then_done_after_finish(messages) -> None:
    bridge = CompanyBridge("acme")
    bridge.want_session()
    assert bridge.has_work()
    bridge.open_session("s1")
    assert bridge.take_request("s1", wait=0.05)[0] is Next.WAIT
    threading.Timer(0.05, bridge.finish).start()
    assert bridge.take_request("s1", wait=5)[0] is Next.DONE
    assert not bridge.has_work()


def test_an_idle_engine_ends_the_session() -> None:
    now = [0.0]
    bridge = CompanyBridge("acme", idle_timeout=60, clock=lambda: now[0])
    bridge.want_session()
    bridge.open_session("s1")
    assert bridge.take_request("s1", wait=0)[0] is Next.WAIT
    now[0] = 61
    assert bridge.take_request("s1", wait=0)[0] is Next.DONE


def test_status_expects_the_next_poll_after_the_schedule() -> None:
    bridge = CompanyBridge("acme", run_every_minutes=5)
    assert bridge.status().next_poll_expected is None
    bridge.open_session("s1")
    bridge.end_session("s1")
    status = bridge.status()
    assert (status.next_poll_expected - status.last_session.started).total_seconds() == 300
    assert not status.active
    as_json = json.loads(json.dumps(status.to_dict()))
    assert as_json["last_session"]["outcome"] == "completed" and as_json["company"] == "acme"
    assert as_json["next_poll_expected"].startswith(str(status.next_poll_expected.year))


def test_cancel_waiting_fails_only_requests_not_yet_sent(engine, messages) -> None:
    bridge = CompanyBridge("acme")
    waiting = engine(_transport(bridge), [messages.customer_add("Never sent")])
    deadline = time.monotonic() + 5
    while bridge.status().queued_requests == 0 and time.monotonic() < deadline:
        threading.Event().wait(0.01)
    assert bridge.cancel_waiting("qbsf is stopping") == 1
    waiting.join()
    assert "cancelled: qbsf is stopping" in str(waiting.error) and isinstance(waiting.error, Retriable)
    assert not bridge.has_work()
    in_flight = engine(_transport(bridge), [messages.customer_add("In QuickBooks")])
    bridge.open_session("s1")
    assert bridge.take_request("s1", wait=5)[0] is Next.REQUEST
    assert bridge.cancel_waiting("qbsf is stopping") == 0, "a request QuickBooks is running is left to finish"
    bridge.deliver("s1", "<QBXML>done</QBXML>")
    in_flight.join()
    assert in_flight.responses == ["<QBXML>done</QBXML>"]


def test_an_engine_that_never_says_finish_ends_its_session_after_a_quiet_spell(engine, messages) -> None:
    now = [0.0]
    bridge = CompanyBridge("acme", idle_timeout=300, quiet_timeout=30, clock=lambda: now[0])
    # Sent straight through the transport, with no want_session/finish around it (a plain engine).
    pending = threading.Thread(target=lambda: _transport(bridge).send(messages.customer_add("Ada")), daemon=True)
    pending.start()
    while bridge.status().queued_requests == 0:
        time.sleep(0.01)
    bridge.open_session("s1")
    bridge.take_request("s1", wait=5)
    bridge.deliver("s1", "<QBXML/>")
    pending.join(5)
    now[0] = 20
    assert bridge.take_request("s1", wait=0)[0] is Next.WAIT
    now[0] = 31
    assert bridge.take_request("s1", wait=0)[0] is Next.DONE
    # An announced cycle gets the long allowance: it will say finish itself.
    bridge.end_session("s1")
    bridge.want_session()
    bridge.open_session("s2")
    now[0] = 100
    assert bridge.take_request("s2", wait=0)[0] is Next.WAIT
