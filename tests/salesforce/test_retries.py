"""Failures: injected faults are retried with bounded jittered backoff; limits pause; timeouts on every call."""

from __future__ import annotations

import socket

import pytest

from qbsf.errors import NeedsUser, Retriable
from qbsf.salesforce import ApiLimitExceeded, ClientCredentialsAuth, SalesforceClient, StaticTokenAuth


def _client(emulator, **kwargs) -> SalesforceClient:
    auth = ClientCredentialsAuth(emulator.url, emulator.client_id, emulator.client_secret)
    options = {"backoff": 0.001, "backoff_max": 0.005, **kwargs}
    return SalesforceClient(emulator.url, auth, **options)


def test_lock_and_503_faults_are_retried_until_everything_lands(sf_emulator, sf_state) -> None:
    sf_state.inject_faults(0.3, ("UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"), seed=7)
    client = _client(sf_emulator, retries=8)
    records = [{"QB_Customer_ID__c": f"QB-{i}", "Name": f"Customer {i}"} for i in range(1000)]
    results = client.upsert_many("Account", "QB_Customer_ID__c", records)
    assert all(r.success for r in results)
    rows = client.query("SELECT QB_Customer_ID__c FROM Account", batch_size=200)
    assert sorted(r["QB_Customer_ID__c"] for r in rows) == sorted(r["QB_Customer_ID__c"] for r in records)
    assert sf_state.faults.injected > 0 and client.retried == sf_state.faults.injected
    assert client.calls == 5 + 5 + client.retried, "5 upsert calls + 5 query pages + one call per retry"


def test_retries_are_bounded(sf_emulator, sf_state) -> None:
    sf_state.inject_faults(1.0, ("SERVER_UNAVAILABLE",))
    client = _client(sf_emulator, retries=3)
    with pytest.raises(Retriable) as caught:
        client.query("SELECT Id FROM Account")
    assert caught.value.error_code == "SERVER_UNAVAILABLE" and caught.value.status == 503
    assert client.calls == 3 and client.retried == 2


def test_request_limit_exceeded_pauses_without_retrying(sf_emulator, sf_state) -> None:
    client = _client(sf_emulator)
    client.query("SELECT Id FROM Account")
    sf_state.daily_api_limit = sf_state.api_calls
    with pytest.raises(ApiLimitExceeded) as caught:
        client.create_many("Account", [{"Name": "A"}])
    assert isinstance(caught.value, NeedsUser) and "pauses" in caught.value.hint
    assert client.calls == 2, "no retry burns more of an exhausted allocation"
    assert client.api_usage.remaining == 0
    with pytest.raises(ApiLimitExceeded, match="paused until"):
        client.query("SELECT Id FROM Account")
    assert client.calls == 2, "while paused, nothing is sent"
    sf_state.reset_api_usage()
    client.paused_until = 0.0  # the pause ran out
    assert client.query("SELECT Id FROM Account") == []


def _dead_url() -> str:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}"


def test_connection_errors_retry_then_fail_clearly() -> None:
    url = _dead_url()
    client = SalesforceClient(url, StaticTokenAuth("token", url), retries=3, backoff=0.001, backoff_max=0.002,
                              timeout=2)
    with pytest.raises(Retriable) as caught:
        client.query("SELECT Id FROM Account")
    assert caught.value.error_code == "CONNECTION_ERROR" and url in str(caught.value)
    assert client.calls == 3


def test_timeouts_retry_reads_but_never_blindly_resend_creates(sf_emulator, sf_state) -> None:
    client = _client(sf_emulator, retries=2, timeout=0.2)
    client.limits()  # log in before the emulator slows down
    sf_state.latency = 0.6
    with pytest.raises(Retriable) as read:
        client.query("SELECT Id FROM Account")
    assert read.value.error_code == "TIMEOUT"
    calls = client.calls
    with pytest.raises(NeedsUser) as create:
        client.create_many("Account", [{"Name": "maybe created"}])
    assert create.value.error_code == "TIMEOUT" and client.calls == calls + 1


def test_usage_warning_is_logged_once(sf_emulator, sf_state, caplog) -> None:
    import logging

    caplog.set_level(logging.WARNING, logger="qbsf.salesforce.client")
    sf_state.daily_api_limit = 20
    client = _client(sf_emulator)
    for _ in range(17):
        client.limits()
    assert "API usage" not in caplog.text
    client.limits()
    client.limits()
    assert caplog.text.count("API usage at 18 of 20 calls (90%)") == 1
    assert "API usage at 19" not in caplog.text


class LockSomeRecords:
    """ASGI wrapper over the real emulator: the first collections answer reports row locks for some records.

    Salesforce reports a lock per record inside a 200 collections answer when another transaction holds just those
    rows; the emulator only injects whole-call faults, so this wrapper rewrites one answer on the wire.
    """

    def __init__(self, app, positions: list[int]) -> None:
        self.app = app
        self.positions = positions
        self.rewritten = 0

    async def __call__(self, scope, receive, send) -> None:
        import json

        if scope["type"] != "http" or "/composite/sobjects" not in scope["path"] or self.rewritten:
            await self.app(scope, receive, send)
            return
        messages: list[dict] = []

        async def capture(message: dict) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        results = json.loads(b"".join(m.get("body", b"") for m in messages[1:]))
        for position in self.positions:
            results[position] = {"success": False, "errors": [{
                "statusCode": "UNABLE_TO_LOCK_ROW", "fields": [],
                "message": "unable to obtain exclusive access to this record or 1 records"}]}
        body = json.dumps(results).encode()
        headers = [(k, v) for k, v in messages[0]["headers"] if k.lower() != b"content-length"]
        await send({**messages[0], "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        self.rewritten += 1


def test_records_hit_by_a_row_lock_are_resent_alone(sf_state) -> None:
    import json

    from qbsf.sim.salesforce import create_app, serve_in_thread

    wrapper = LockSomeRecords(create_app(sf_state), [1, 3])
    server = serve_in_thread(wrapper)
    try:
        auth = ClientCredentialsAuth(server.url, "qbsf-demo-client", "qbsf-demo-secret")
        client = SalesforceClient(server.url, auth, backoff=0.001, backoff_max=0.002)
        bodies: list[dict] = []
        client.http.event_hooks["request"].append(
            lambda request: bodies.append(json.loads(request.content)) if request.method == "PATCH" else None)
        records = [{"QB_Customer_ID__c": f"L{i}", "Name": f"Locked {i}"} for i in range(5)]
        results = client.upsert_many("Account", "QB_Customer_ID__c", records)
    finally:
        server.stop()
    assert wrapper.rewritten == 1
    assert [r.success for r in results] == [True] * 5 and [r.index for r in results] == list(range(5))
    assert [[r["QB_Customer_ID__c"] for r in b["records"]] for b in bodies] == [[f"L{i}" for i in range(5)],
                                                                                ["L1", "L3"]]
    assert client.retried == 1 and client.calls == 2
    assert sorted(r["QB_Customer_ID__c"] for r in sf_state.records("Account")) == [f"L{i}" for i in range(5)]
