"""Fixtures for the Salesforce client tests: a client logged in to the running emulator (fast backoff)."""

from __future__ import annotations

import pytest

from qbsf.salesforce import ClientCredentialsAuth, SalesforceClient


@pytest.fixture
def sf_client(sf_emulator):
    """A SalesforceClient on the emulator (client-credentials login, millisecond backoff), closed at teardown."""
    auth = ClientCredentialsAuth(sf_emulator.url, sf_emulator.client_id, sf_emulator.client_secret)
    client = SalesforceClient(sf_emulator.url, auth, backoff=0.005, backoff_max=0.02, timeout=10)
    yield client
    client.close()


@pytest.fixture
def sent(sf_client):
    """Every request the client puts on the wire, as (method, url, headers), via an httpx event hook."""
    requests: list[tuple[str, str, dict[str, str]]] = []
    sf_client.http.event_hooks["request"].append(
        lambda request: requests.append((request.method, str(request.url), dict(request.headers))))
    return requests
