"""Helpers shared by the hosted tests."""

from __future__ import annotations

from collections.abc import Callable

from qbsf.quickbooks.webconnector import UserDirectory
from qbsf.quickbooks.webconnector.shared import SharedSessions, SharedWebConnectorService
from qbsf.sync.state import StateStore


def web_connector_worker(url: str, hashes: dict[str, str], clock: Callable[[], float]) -> SharedWebConnectorService:
    """One worker's Web Connector service on ``url``, as a separate process has it: its own connection pool (the
    state store ``service.store``, which the caller closes after ``service.shared``), its users loaded from their
    password hashes (company → hash, user ``<company>-qbwc``), every company registered."""
    store = StateStore(url)
    shared = SharedSessions(store.engine, clock=clock, listen=False)
    users = UserDirectory()
    for company, password_hash in hashes.items():
        users.add_hashed(f"{company}-qbwc", password_hash, company)
    service = SharedWebConnectorService(users, shared, poll_wait=0.1)
    for company in hashes:
        service.add_company(company)
    service.store = store  # type: ignore[attr-defined]
    return service
