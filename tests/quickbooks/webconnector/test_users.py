"""Web Connector users: salted hashes, constant-time checks, throttled failures, no password in logs."""

from __future__ import annotations

import logging

import pytest

from qbsf.errors import ConfigError
from qbsf.quickbooks.webconnector.users import LoginThrottle, UserDirectory, hash_password, verify_password


def test_hashes_are_salted_and_verify() -> None:
    first, second = hash_password("hunter2-hunter2"), hash_password("hunter2-hunter2")
    assert first != second and first.startswith("scrypt$")
    assert "hunter2" not in first
    assert verify_password("hunter2-hunter2", first)
    assert not verify_password("hunter2-hunter3", first)
    assert not verify_password("x", "garbage")
    assert not verify_password("x", "md5$1$2$3$AAAA$BBBB")


def test_authenticate_binds_user_to_company_and_logs_no_password(caplog) -> None:
    users = UserDirectory()
    users.add("Acme-QBWC", "right-password", "acme")
    caplog.set_level(logging.INFO)
    assert users.authenticate(" acme-qbwc ", "right-password").company == "acme"
    assert users.authenticate("acme-qbwc", "wrong-password", client="10.0.0.9") is None
    assert users.authenticate("nobody", "wrong-password") is None
    assert "wrong-password" not in caplog.text and "right-password" not in caplog.text
    assert "login failed for 'acme-qbwc' from 10.0.0.9" in caplog.text
    assert "right-password" not in repr(users.get("acme-qbwc"))


def test_a_user_serves_one_company_only() -> None:
    users = UserDirectory()
    users.add("shared", "password-1", "acme")
    with pytest.raises(ConfigError, match="already serves company 'acme'"):
        users.add("SHARED", "password-2", "globex")
    with pytest.raises(ConfigError):
        users.add_hashed("someone", "plaintext", "acme")


def test_failed_attempts_lock_the_user_out_even_with_the_right_password(caplog) -> None:
    now = [1000.0]
    users = UserDirectory(LoginThrottle(max_failures=3, window_seconds=60, clock=lambda: now[0]))
    users.add("acme-qbwc", "right-password", "acme")
    for _ in range(3):
        assert users.authenticate("acme-qbwc", "guess") is None
    assert users.authenticate("acme-qbwc", "right-password") is None
    assert "too many failed attempts" in caplog.text
    now[0] += 61
    assert users.authenticate("acme-qbwc", "right-password") is not None


def test_a_client_address_is_throttled_across_user_names() -> None:
    now = [0.0]
    users = UserDirectory(LoginThrottle(max_failures=2, window_seconds=60, clock=lambda: now[0]))
    users.add("acme-qbwc", "right-password", "acme")
    assert users.authenticate("alice", "x", client="10.1.1.1") is None
    assert users.authenticate("bob", "x", client="10.1.1.1") is None
    assert users.authenticate("acme-qbwc", "right-password", client="10.1.1.1") is None
    assert users.authenticate("acme-qbwc", "right-password", client="10.2.2.2") is not None


def test_expired_failures_are_forgotten_so_guessing_cannot_grow_memory() -> None:
    now = [0.0]
    throttle = LoginThrottle(max_failures=3, window_seconds=60, clock=lambda: now[0])
    for i in range(500):
        throttle.failed(f"user:guess-{i}", "client:10.9.9.9")
    assert throttle.tracked() == 501 and throttle.locked("client:10.9.9.9")
    assert not throttle.locked("user:never-tried")
    now[0] = 61
    assert throttle.tracked() == 0 and not throttle.locked("client:10.9.9.9")


def test_the_hash_carries_its_cost() -> None:
    cheap = hash_password("password-1", cost=2**10)
    assert cheap.split("$")[1] == "1024" and verify_password("password-1", cheap)
    assert hash_password("password-1").split("$")[1] == str(2**14)
